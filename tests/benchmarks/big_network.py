"""A network of ~5 million stop times for measuring worker start and memory at scale (not
collected by pytest): COPIES copies of the 29 Bay Area feeds (feeds/bayarea-2018.toml), each
copy its own operators (ids `k<copy>-<operator>`, so every id is namespaced apart by the
merge) with its stops moved `SHIFT_DEG` degrees of latitude north per copy, so that no
station or footpath joins two copies. Times are kept: each copy runs on the same days, like
a second region of one country. Only stops.txt is rewritten; the other files are copied.

    .venv/bin/python tests/benchmarks/big_network.py --out /work/big-data [--copies 9]

writes OUT/feeds/*.zip and OUT/big.toml, then ingests it into OUT (the data directory, as
`bench_worker.py --network big --data-dir OUT` reads it).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BAYAREA = ROOT / "feeds" / "bayarea-2018.toml"
COPIES = 9
SHIFT_DEG = 2.0
CLOCK = "2018-08-29T08:00:00-07:00"


def shifted_stops(text: str, dlat: float) -> str:
    """stops.txt with every stop_lat moved by dlat degrees (empty ones kept empty)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    head = [h.strip() for h in rows[0]]
    lat = head.index("stop_lat")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(head)
    for r in rows[1:]:
        if len(r) > lat and r[lat].strip():
            r[lat] = f"{float(r[lat]) + dlat:.7f}"
        w.writerow(r)
    return out.getvalue()


def copy_feed(src: Path, dst: Path, dlat: float) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if Path(info.filename).name == "stops.txt":
                data = shifted_stops(data.decode("utf-8-sig"), dlat).encode()
            zout.writestr(Path(info.filename).name if info.filename.endswith(".txt")
                          else info.filename, data)


def write_catalog(out: Path, copies: int) -> Path:
    """The copied feeds and their catalog (written once; kept if already there)."""
    base = tomllib.loads(BAYAREA.read_text())
    feeds = out / "feeds"
    feeds.mkdir(parents=True, exist_ok=True)
    lines = [f"# {copies} copies of the Bay Area 2018 feeds (tests/benchmarks/big_network.py)"]
    for k in range(copies):
        for op in base["operator"]:
            src = (BAYAREA.parent / op["gtfs"]).resolve()
            dst = feeds / f"k{k}-{src.name}"
            if not dst.exists():
                copy_feed(src, dst, k * SHIFT_DEG)
            lines += ["", "[[operator]]", f'id = "k{k}-{op["id"]}"',
                      f'name = "{op["name"]} (copy {k})"', f'gtfs = "feeds/{dst.name}"',
                      f'licence = "{op.get("licence", "")}"']
    catalog = out / "big.toml"
    catalog.write_text("\n".join(lines) + "\n")
    return catalog


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--copies", type=int, default=COPIES)
    args = ap.parse_args()
    out = args.out.resolve()
    catalog = write_catalog(out, args.copies)
    print(f"catalog {catalog}", flush=True)
    t0 = time.perf_counter()
    env = {**os.environ, "TRANSIT_CLOCK": CLOCK}
    subprocess.run([sys.executable, "-m", "transit", "ingest", "--catalog", str(catalog),
                    "--data-dir", str(out)], check=True, cwd=ROOT, env=env)
    print(f"ingested in {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
