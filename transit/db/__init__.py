"""The service's persistent store: SQLAlchemy models, Alembic migrations, the engine.

No web imports: the CLI, the API and background work all use it the same way."""
