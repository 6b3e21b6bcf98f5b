"""Where numba keeps this package's compiled kernels: a folder per version of their sources.

numba decides whether a cached kernel is fresh from the stamp (modified time and size) of
the file that defines it, and of that file only. `raptor.rounds` calls kernels defined in
rule_kernels.py; after an upgrade that changes only that file, the cached `rounds` would
still hold the old callees compiled into it, and every process would silently run the
previous engine. Naming the cache folder after a hash
of all the package's sources makes any change to any of them start from a fresh folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

PACKAGE = Path(__file__).resolve().parent


def sources_digest(folder: Path = PACKAGE) -> str:
    """A short hash of every .py file in `folder`, names and contents, in name order."""
    h = hashlib.blake2b(digest_size=8)
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def cache_dir(base: str, digest: str) -> str:
    """The folder for kernels compiled from sources with `digest`, under `base`.

    `base` is the operator's NUMBA_CACHE_DIR when set (the Dockerfile sets one); otherwise
    the package's own __pycache__, where numba would have put them.
    """
    root = Path(base) if base else PACKAGE / "__pycache__"
    return os.fspath(root / f"kernels-{digest}")


def pin() -> str:
    """Point numba's cache at this sources' folder; called before any kernel is defined.

    The base is read from the environment, never from numba's (already pinned) setting,
    so calling it again gives the same folder rather than one nested in it.
    """
    base = os.environ.get("NUMBA_CACHE_DIR", "")
    numba.config.CACHE_DIR = cache_dir(base, sources_digest())
    return numba.config.CACHE_DIR
