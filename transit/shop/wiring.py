"""The shop's parts, built once per app from its settings (tests may set them before the
first request: `app.state.payment_provider`, `app.state.ticket_issuer`,
`app.state.pricing_for`)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from fastapi import Request

from transit.shop.orders import Shop
from transit.shop.payments import TestProvider
from transit.shop.pricing import Pricing, PricingUnavailable, fares_pricing
from transit.tickets.issuing import KeyRingIssuer
from transit.tickets.keyring import KeyRing
from transit.timetable.timetable import Timetable

_lock = threading.Lock()


def keyring_of(request: Request) -> KeyRing:
    """The ticket key ring of the app (transit.tickets.keyring.keyring_for)."""
    return request.app.state.ticket_keys


def shop_of(request: Request) -> Shop:
    return shop_for(request.app.state)


def shop_for(state: Any) -> Shop:
    """The app's shop (`app.state`), built on first use. The built-in test provider keeps
    its ledger in the app's database."""
    shop: Shop | None = getattr(state, "shop", None)
    if shop is None:
        with _lock:
            shop = getattr(state, "shop", None)
            if shop is None:
                settings = state.settings
                provider = getattr(state, "payment_provider", None) or TestProvider()
                if isinstance(provider, TestProvider):
                    provider.use_database(state.db)
                issuer = getattr(state, "ticket_issuer", None) \
                    or KeyRingIssuer(state.ticket_keys)
                shop = state.shop = Shop(state.db, state.clock, provider, issuer,
                                         timedelta(days=settings.ticket_retention_days))
    return shop


def pricing_of(request: Request, tt: Timetable) -> tuple[Pricing | None, str]:
    """The pricing of the served timetable, or None and why there is none."""
    factory = getattr(request.app.state, "pricing_for", None) or fares_pricing
    try:
        return factory(tt), ""
    except (PricingUnavailable, NotImplementedError) as exc:
        return None, f"this server cannot price journeys yet ({exc or 'no fares engine'})"
