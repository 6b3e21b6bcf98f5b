"""Alembic environment and versions, shipped in the package and run programmatically
(`transit db upgrade`, or on start): no alembic.ini is needed."""
