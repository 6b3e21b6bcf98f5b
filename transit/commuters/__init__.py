"""Commuters: saved commutes, alert rules and their evaluation (engine side)."""
