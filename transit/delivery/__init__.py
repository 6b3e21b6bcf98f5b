"""Delivery of commute alerts: inbox, durable outbox, signed webhooks (no web imports)."""
