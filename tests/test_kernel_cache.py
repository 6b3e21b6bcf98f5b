"""The compiled-kernel cache follows the routing package's sources, all of them.

numba checks only the stamp of the file defining a kernel; `raptor.rounds` calls kernels of
rule_kernels.py. These tests copy the package, change one callee's file
and check that a real interpreter importing it pins another cache folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from transit.routing import kernel_cache

ROUTING = Path(kernel_cache.__file__).resolve().parent


def test_digest_changes_with_any_file_and_only_with_content(tmp_path: Path) -> None:
    copy = tmp_path / "routing"
    shutil.copytree(ROUTING, copy, ignore=shutil.ignore_patterns("__pycache__"))
    first = kernel_cache.sources_digest(copy)
    assert first == kernel_cache.sources_digest(ROUTING)
    os.utime(copy / "rule_kernels.py", (0, 0))  # a new stamp alone: same sources
    assert kernel_cache.sources_digest(copy) == first
    with (copy / "rule_kernels.py").open("a") as f:
        f.write("\n# changed\n")
    assert kernel_cache.sources_digest(copy) != first


def test_base_is_the_operators_folder_when_set() -> None:
    assert kernel_cache.cache_dir("/var/cache/numba", "ab12") == "/var/cache/numba/kernels-ab12"
    assert kernel_cache.cache_dir("", "ab12") == os.fspath(
        ROUTING / "__pycache__" / "kernels-ab12")


def _pinned(env_dir: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    if env_dir is not None:
        env["NUMBA_CACHE_DIR"] = env_dir
    code = ("import numba, transit.routing.raptor, transit.routing.kernel_cache as k; "
            "k.pin(); print(numba.config.CACHE_DIR)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, timeout=300)
    return out.stdout.strip()


def test_a_process_importing_the_engine_pins_the_folder_of_its_sources(tmp_path: Path) -> None:
    digest = kernel_cache.sources_digest()
    assert _pinned(None) == os.fspath(ROUTING / "__pycache__" / f"kernels-{digest}")
    # pinning twice (import, then again) does not nest: the base comes from the environment
    assert _pinned(str(tmp_path)) == os.fspath(tmp_path / f"kernels-{digest}")
