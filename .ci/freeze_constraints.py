"""Write constraints.txt: the exact version of every package that `pip install -e '.[dev]'`
brings, as installed in the running environment (run with the project's venv:
`.venv/bin/python .ci/freeze_constraints.py`). Installs with `-c constraints.txt` then get
these versions everywhere (CI, the README's commands, the Dockerfile), and only these."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
HEADER = """\
# Exact versions of every package the project installs, with the dev extra. Used as
#   pip install -c constraints.txt -e '.[dev]'
# Regenerate after changing dependencies: .venv/bin/python .ci/freeze_constraints.py
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_requirements(extras: set[str]) -> list[str]:
    """The project's own requirements, from pyproject.toml (the installed metadata may be of
    another checkout)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in sorted(extras):
        reqs += project["optional-dependencies"][extra]
    return reqs


def requirement_closure(extras: set[str]) -> set[str]:
    """Canonical names of the installed distributions that the project with `extras`
    requires, directly or through others, with environment markers evaluated here."""
    found: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str | None, frozenset[str]]] = [(None, frozenset())]
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        texts = (project_requirements(extras) if name is None
                 else metadata.distribution(name).requires or [])
        for text in texts:
            req = Requirement(text)
            if req.marker is not None and not any(
                    req.marker.evaluate({"extra": e}) for e in (wanted or {""})):
                continue
            dep = canonical(req.name)
            found.add(dep)
            todo.append((dep, frozenset(req.extras)))
    return found


def render(extras: frozenset[str] = frozenset({"dev"})) -> str:
    names = sorted(requirement_closure(set(extras)))
    return HEADER + "".join(f"{n}=={metadata.version(n)}\n" for n in names)


if __name__ == "__main__":
    out = ROOT / "constraints.txt"
    out.write_text(render())
    print(f"wrote {out} ({out.read_text().count('==')} pins)", file=sys.stderr)
