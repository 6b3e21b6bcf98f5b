"""Departure boards of the Bay Area network, byte for byte (not collected by pytest): asks the
in-process app 200 stop and 200 near-a-point queries (busy stops, varied `at`, `limit`,
`window`, language), each twice (a second ask may be answered from a cache), and writes one
line per answer: the URL, the status, the ETag and the SHA-256 of the body. Run it with the
code of two commits and `diff` the outputs: a change meant to be invisible must give the
same file. PYTHONPATH names the code asked (a checkout of either commit).

    PYTHONPATH=. .venv/bin/python tests/benchmarks/board_answers.py --data-dir /work/ba
        --catalog /work/main/feeds/bayarea-2018.toml --out /tmp/answers.txt
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import httpx

HOURS = ["05:10", "07:59", "08:00", "12:31", "17:45", "23:50"]


def urls(data_dir: Path) -> list[str]:
    """200 stop and 200 near-a-point URLs, deterministic."""
    from tests.benchmarks.bench_wrk import busy_stops

    ids, lat, lon, busy = busy_stops(data_dir)
    out = []
    for i, s in enumerate(busy[:200]):
        q: dict[str, object] = {}
        if i % 3:
            q["at"] = f"2018-08-29T{HOURS[i % len(HOURS)]}"
        if i % 4 == 1:
            q["limit"] = 1 + i % 30
        if i % 5 == 2:
            q["window"] = 30 + i
        if i % 7 == 3:
            q["lang"] = "es"
        out.append(f"/v1/stops/{ids[s]}/departures?{urlencode(q)}")
        near: dict[str, object] = {"lat": round(float(lat[s]) + (i % 9) * 1e-4, 5),
                                   "lon": round(float(lon[s]) - (i % 5) * 1e-4, 5)}
        if i % 3 != 1:
            near["at"] = f"2018-08-29T{HOURS[(i + 2) % len(HOURS)]}"
        if i % 4 == 2:
            near["radius"] = 100 + 37 * (i % 40)
        if i % 6 == 5:
            near["limit"] = 1 + i % 50
        out.append(f"/v1/departures?{urlencode(near)}")
    return out


async def answers(data_dir: Path, out: Path) -> None:
    from tests.benchmarks.bench_http_path import build

    with tempfile.TemporaryDirectory() as tmp:
        app = build(data_dir, Path(tmp) / "accounts.db")
        lines = []
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for url in urls(data_dir):
                    for _ in range(2):
                        r = await client.get(url)
                        digest = hashlib.sha256(r.content).hexdigest()
                        lines.append(f"{url} {r.status_code} {r.headers.get('etag')} "
                                     f"{digest}")
        out.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--catalog", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.catalog:
        from tests.benchmarks import bench_worker

        bench_worker.CATALOG = args.catalog.resolve()
    asyncio.run(answers(args.data_dir.resolve(), args.out))


if __name__ == "__main__":
    main()
