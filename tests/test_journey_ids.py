"""Journey ids: a compact signed reference to the legs, that decodes only as it was made."""

from __future__ import annotations

import base64
from datetime import date

import pytest

from transit.journeys import ids

KEY = b"k" * 32
REF = ids.JourneyRef(legs=(
    ids.LegRef("A:T1", date(2026, 6, 1), "A:S1", "A:S2", 1780293600, 1780294200),
    ids.LegRef("B:T9@08:15:00", date(2026, 6, 1), "B:S2", "B:S3", 1780294500, 1780295100)),
    departure=1780293480, arrival=1780295220)


def test_an_id_decodes_to_the_legs_it_was_made_of() -> None:
    text = ids.encode(REF, KEY)
    assert text.startswith("j1") and len(text) < 200
    assert set(text[2:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789-_")  # base64url, no padding: URL-safe as is
    got = ids.decode(text, KEY)
    assert got == REF
    assert (got.first_departure, got.last_arrival) == (1780293600, 1780295100)


def test_every_changed_character_is_refused() -> None:
    text = ids.encode(REF, KEY)
    alphabet = "AbZ0-_"
    for i in range(2, len(text)):
        other = next(c for c in alphabet if c != text[i])
        with pytest.raises(ids.JourneyIdError):
            ids.decode(text[:i] + other + text[i + 1:], KEY)


@pytest.mark.parametrize("cut", [1, 5, 16, 30])
def test_a_truncated_id_is_refused(cut: int) -> None:
    text = ids.encode(REF, KEY)
    with pytest.raises(ids.JourneyIdError, match=r"signature|base64"):
        ids.decode(text[:-cut], KEY)


def test_an_id_of_another_server_is_refused() -> None:
    with pytest.raises(ids.JourneyIdError, match="made by another server"):
        ids.decode(ids.encode(REF, b"x" * 32), KEY)


@pytest.mark.parametrize(("text", "message"), [
    ("", "not a journey id"), ("x1abc", "not a journey id"), ("j1***", "base64"),
    ("j1" + "A" * 5000, "longer than 4096"), ("j1", "signature")])
def test_garbage_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ids.JourneyIdError, match=message):
        ids.decode(text, KEY)


def test_a_signed_zip_bomb_is_refused() -> None:
    """Even with the server's key (a leak), a payload inflating past 16 KiB is refused."""
    import zlib

    blob = zlib.compress(b"[" * 1_000_000, 9)
    raw = blob + ids._mac(KEY, blob)
    text = "j1" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    with pytest.raises(ids.JourneyIdError, match=r"too large|not readable"):
        ids.decode(text, KEY)
