"""Feed versions of operators: report, diff, staging, publish, rollback.

Drives the existing ingest (read, validate, compile a part) and the store (merge, publish).
Imports nothing from the web layer, so the CLI, a script or a background job can use it.
"""
