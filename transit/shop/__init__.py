"""Selling tickets: offers, idempotent orders, payments, the wallet and inspections, on the
database and the web kit; the signing and verifying engine stays in `transit.tickets`."""
