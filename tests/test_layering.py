"""Architecture: imports point one way, down the data flow (as OpenTripPlanner's
architecture tests do for its modules).

Every package of `transit` sits in one layer; a module may import its own package and the
packages of lower layers, never a peer of its own layer nor anything above it. The engine
(timetable, routing, fares, tickets) imports no web framework, no database and no cache,
checked both in its source and in a fresh interpreter that imports all of it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "transit"

# Lowest first. Peers in one layer do not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("clock", "errors", "settings", "redaction", "background"),
    ("secrets",),
    ("timetable",),
    ("routing", "fares", "tickets"),  # the engine
    ("catalog",),
    ("ingest", "realtime"),
    ("db",),
    ("accounts",),
    ("api",),  # the web kit: problems, responses, auth dependencies
    ("profiles",),
    ("stops",),
    ("departures",),
    ("trips", "live", "journeys"),
    ("fare_products", "shop"),
    ("delivery",),
    ("commuters", "kpis", "publishing"),
    ("operators",),
    ("app",),
    ("serving",),
    ("cli",),
    ("__main__",),
]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
ENGINE = ("timetable", "routing", "fares", "tickets")
FORBIDDEN_IN_ENGINE = ("fastapi", "starlette", "uvicorn", "sse_starlette", "sqlalchemy",
                       "redis", "httpx", "gtfs_kit", "pandas")


def _unit(path: Path) -> str:
    """The package a module belongs to (`transit/x/y.py` -> x, `transit/x.py` -> x)."""
    rel = path.relative_to(ROOT).with_suffix("")
    return rel.parts[0]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, lazy ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)


def test_every_package_has_a_layer() -> None:
    units = {_unit(p) for p in _modules()} - {"__init__"}
    assert sorted(units - set(RANK)) == []
    assert sorted(set(RANK) - units) == []


def test_imports_point_down() -> None:
    wrong = []
    for path in _modules():
        unit = _unit(path)
        if unit == "__init__":
            continue
        for line, module in _imports(path):
            parts = module.split(".")
            if parts[0] != "transit" or len(parts) < 2 or parts[1] == unit:
                continue
            if RANK[parts[1]] >= RANK[unit]:
                wrong.append(f"{path.relative_to(ROOT.parent)}:{line} imports {module}")
    assert wrong == []


def test_engine_source_imports_no_web_database_or_ingest_library() -> None:
    wrong = []
    for path in _modules():
        if _unit(path) not in ENGINE:
            continue
        for line, module in _imports(path):
            if module.split(".")[0] in FORBIDDEN_IN_ENGINE:
                wrong.append(f"{path.relative_to(ROOT.parent)}:{line} imports {module}")
    assert wrong == []


def test_engine_loads_without_web_database_or_ingest_library() -> None:
    """Importing every engine module in a fresh interpreter loads none of them."""
    names = sorted(
        ".".join(("transit", *p.relative_to(ROOT).with_suffix("").parts)).removesuffix(
            ".__init__")
        for p in _modules() if _unit(p) in ENGINE)
    code = ("import importlib, json, sys\n"
            f"for n in {names!r}: importlib.import_module(n)\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                           capture_output=True, text=True).stdout))
    assert len(names) > 40
    assert sorted(loaded & set(FORBIDDEN_IN_ENGINE)) == []
    assert "numba" in loaded and "transit" in loaded
