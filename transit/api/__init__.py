"""The web layer: FastAPI app, problem+json errors, shared dependencies. Imports the engine;
the engine never imports this."""
