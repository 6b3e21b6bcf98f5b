"""Tickets: offers, orders, payments, and the signed tokens an inspector verifies offline."""
