"""What a ticket token costs: signing and verification per second (median of runs), the
text's length and the QR code's size in modules, for a typical ticket and a large one.

    .venv/bin/python tests/benchmarks/bench_tickets.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from tests.benchmarks.report import Table  # noqa: E402
from transit.tickets.claims import TicketClaims  # noqa: E402
from transit.tickets.cose import SigningKey  # noqa: E402
from transit.tickets.keyring import KeyRing  # noqa: E402
from transit.tickets.qr import ticket_qr  # noqa: E402
from transit.tickets.qrtext import decode  # noqa: E402
from transit.tickets.token import issue_text, sign, text_of  # noqa: E402
from transit.tickets.verify import trusted_keys, verify_text  # noqa: E402

T0 = 1_535_554_800
RUNS, PER_RUN = 7, 1000

TYPICAL = TicketClaims(
    "tkt_7Hq2mZ9xKp4vR1sTb3Nw", "BA:adult-single", "BART single ride", "adult", 1,
    T0 - 1800, T0 + 3600, ("BA",), ("BA:12TH", "BA:EMBR"), T0 - 2000)
LARGE = TicketClaims(
    "tkt_7Hq2mZ9xKp4vR1sTb3Nw", "TC:regional-day-pass-family",
    "Regional day pass, family (2 adults, 3 children)", "family", 5, T0, T0 + 86400,
    ("TC", "NL", "BA"), tuple(f"TC:zone-{i}" for i in range(1, 9)), T0 - 60)


def per_second(action: Callable[[int], object]) -> float:
    """Median over RUNS of PER_RUN calls per second (action gets the call's index)."""
    rates = []
    for run in range(RUNS + 1):
        start = time.perf_counter()
        for i in range(PER_RUN):
            action(run * PER_RUN + i)
        if run:  # the first run warms up
            rates.append(PER_RUN / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    table = Table(f"ticket tokens (median of {RUNS} runs of {PER_RUN})")
    with tempfile.TemporaryDirectory() as tmp:
        ring = KeyRing(Path(tmp) / "keys")
        text = issue_text(TYPICAL, ring)
        jwks = ring.jwks(T0)
        keys = trusted_keys(jwks)
        key = SigningKey("benchkey", Ed25519PrivateKey.generate())
        message, public = b"x" * 200, key.private_key.public_key()
        signature = key.private_key.sign(message)
        table.add("bare Ed25519 sign of 200 bytes per s (reference)",
                  f"{per_second(lambda i: key.private_key.sign(message)):,.0f}")
        table.add("bare Ed25519 verify of 200 bytes per s (reference)",
                  f"{per_second(lambda i: public.verify(signature, message)):,.0f}")
        table.add("sign (COSE_Sign1 Ed25519) per s",
                  f"{per_second(lambda i: sign(TYPICAL, key)):,.0f}")
        table.add("sign + zlib + base45 text per s",
                  f"{per_second(lambda i: text_of(sign(TYPICAL, key))):,.0f}")

        def issue(i: int, hours: int = 0) -> str:
            """A later valid_until each time; `hours` apart (issue and validity) per call:
            with 1, each call binds the key and writes a longer reservation (fsync)."""
            c = TicketClaims(TYPICAL.ticket_id, TYPICAL.product_id, TYPICAL.product_name,
                             TYPICAL.rider_category, 1, T0, T0 + 3600 * (1 + hours * i) + i,
                             TYPICAL.operators, TYPICAL.zones, T0 + 3600 * hours * i)
            return issue_text(c, ring)

        table.add("issue_text (key bound for the hour) per s", f"{per_second(issue):,.0f}")
        table.add("issue_text, a new hour and reservation each time, per s",
                  f"{per_second(lambda i: issue(i, 1)):,.0f}")
        table.add("verify_text per s",
                  f"{per_second(lambda i: verify_text(text, keys, T0)):,.0f}")
        table.add("verify_text, JWKS parsed each time, per s",
                  f"{per_second(lambda i: verify_text(text, jwks, T0)):,.0f}")
        for name, claims in (("typical", TYPICAL), ("large", LARGE)):
            t = issue_text(claims, ring)
            qr = ticket_qr(t)
            table.add(f"{name}: COSE bytes / text characters", f"{len(decode(t))} / {len(t)}")
            table.add(f"{name}: QR version, modules per side (level {qr.error})",
                      f"{qr.version}, {qr.modules}")
        start = time.perf_counter()
        for _ in range(50):
            ticket_qr(text).svg()
        table.add("QR SVG render (ms)", f"{(time.perf_counter() - start) / 50 * 1e3:.2f}")
    table.note("typical: one operator, two zones, adult; large: 3 operators, 8 zones, family")
    table.note(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: compare with "
               "the bare Ed25519 lines")
    table.print()


if __name__ == "__main__":
    main()
