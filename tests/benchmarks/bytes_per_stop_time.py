"""Bytes per stop_time of compiled versions, per array and per group (not collected by
pytest): the size on disk (the .npy files) and in memory (the arrays' nbytes, what the
page cache holds once every page has been read), divided by the version's stop_times.

    .venv/bin/python tests/benchmarks/bytes_per_stop_time.py VERSION_DIR [VERSION_DIR ...]
        [--top 25]

With two or more versions (e.g. the same network compiled by two commits) the columns are
side by side. "routing + rx" is what a journey search maps: the Network's arrays and the
stored search indexes (transit/routing/network.py, network_indexes.py).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from transit.routing.network import Network

NOT_ARRAYS = ("max_days_back", "thr_tz", "thr_service", "rules", "derived")


def sizes(version: Path) -> tuple[int, dict[str, tuple[int, int, str]]]:
    """(stop_times, {array: (nbytes, bytes on disk, dtype)})."""
    n = json.loads((version / "meta.json").read_text())["counts"]["stop_times"]
    out = {}
    for p in sorted(version.glob("*.npy")):
        try:
            a = np.load(p, mmap_mode="r", allow_pickle=False)
        except ValueError:  # an empty array cannot be mapped
            a = np.load(p, allow_pickle=False)
        out[p.name[:-len(".npy")]] = (a.nbytes, p.stat().st_size, str(a.dtype))
    return n, out


def groups() -> dict[str, Callable[[str], bool]]:
    net = {f for f in Network.__dataclass_fields__ if f not in NOT_ARRAYS}
    return {
        "routing + rx (mapped by searches)": lambda k: k in net or k.startswith("rx_"),
        "  Network arrays": lambda k: k in net,
        "  rx_* search indexes": lambda k: k.startswith("rx_"),
        "ev_* board events": lambda k: k.startswith("ev_"),
        "shape_*": lambda k: k.startswith("shape_"),
        "strings (.str/.off)": lambda k: k.endswith((".str", ".off")),
        "fare_*": lambda k: k.startswith("fare_"),
        "all arrays": lambda k: True,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("versions", type=Path, nargs="+")
    ap.add_argument("--top", type=int, default=25, help="largest arrays listed")
    args = ap.parse_args()
    measured = [sizes(v) for v in args.versions]
    names = [v.name[-6:] for v in args.versions]
    print(f"{'bytes per stop_time':36s} " + " ".join(f"{'mem ' + n:>12s} {'disk':>6s}"
                                                     for n in names))
    for title, keep in groups().items():
        cells = []
        for n, arrays in measured:
            mem = sum(v[0] for k, v in arrays.items() if keep(k)) / n
            disk = sum(v[1] for k, v in arrays.items() if keep(k)) / n
            cells.append(f"{mem:12.2f} {disk:6.2f}")
        print(f"{title:36s} " + " ".join(cells))
    first = measured[0][1]
    print(f"\nlargest arrays (of {names[0]}), bytes per stop_time and dtype:")
    for k in sorted(first, key=lambda k: -first[k][0])[:args.top]:
        cells = [f"{arrays[k][0] / n:7.2f} {arrays[k][2]:>7s}" if k in arrays else
                 f"{'-':>7s} {'':>7s}" for n, arrays in measured]
        print(f"  {k:34s} " + " ".join(cells))
    print("\nstop_times: " + ", ".join(str(n) for n, _ in measured))


if __name__ == "__main__":
    main()
