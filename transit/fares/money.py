"""Amounts as integer minor units of an ISO 4217 currency."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO 4217 currencies whose minor unit is not 1/100 (the list's "minor unit" column);
# every other code has two decimals.
_EXPONENT = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def exponent(currency: str) -> int:
    return _EXPONENT.get(currency.upper(), 2)


def minor_units(amount: str, currency: str) -> int | None:
    """`amount` ("4.40") in minor units of `currency` (440 for EUR); None when not a number."""
    try:
        value = Decimal(amount.strip())
    except (InvalidOperation, AttributeError):
        return None
    if not value.is_finite():
        return None
    return int((value.scaleb(exponent(currency))).to_integral_value())
