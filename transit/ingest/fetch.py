"""Bring a feed location (local path or URL) to a local file.

URLs are downloaded with httpx using a conditional GET (ETag / Last-Modified remembered next
to the cached copy), so an unchanged feed costs one 304 round trip.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import httpx

from transit.catalog import is_url
from transit.errors import FeedFetchError

TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def _too_large(operator: str, location: str, max_bytes: int) -> str:
    return (f"operator {operator}: GET {location} is larger than the download limit of "
            f"{max_bytes} bytes (TRANSIT_FEED_MAX_DOWNLOAD_BYTES)")


def _check_length(operator: str, location: str, header: str | None, max_bytes: int) -> None:
    if header is not None and header.strip().isdigit() and int(header) > max_bytes:
        raise FeedFetchError(_too_large(operator, location, max_bytes))


def materialize(operator: str, location: str, cache_dir: Path,
                client: httpx.Client | None = None, max_bytes: int = 512 * 1024 * 1024) -> Path:
    """The feed as a local file; a download larger than `max_bytes` is refused (the
    Content-Length is checked first, and the bytes are counted while streaming)."""
    if not is_url(location):
        path = Path(location)
        if not path.exists():
            raise FeedFetchError(f"operator {operator}: feed {location} does not exist")
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{operator}.zip"
    meta_path = cache_dir / f"{operator}.http.json"
    headers: dict[str, str] = {}
    if target.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("url") == location:
            if meta.get("etag"):
                headers["If-None-Match"] = meta["etag"]
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = meta["last_modified"]
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    try:
        with http.stream("GET", location, headers=headers) as resp:
            if resp.status_code == 304:
                return target
            if resp.status_code != 200:
                raise FeedFetchError(
                    f"operator {operator}: GET {location} answered HTTP {resp.status_code}")
            _check_length(operator, location, resp.headers.get("content-length"), max_bytes)
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
            try:
                with tmp.open("wb") as fh:
                    n = 0
                    for chunk in resp.iter_bytes():
                        n += len(chunk)
                        if n > max_bytes:
                            raise FeedFetchError(_too_large(operator, location, max_bytes))
                        fh.write(chunk)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            meta_path.write_text(json.dumps({
                "url": location, "etag": resp.headers.get("etag"),
                "last_modified": resp.headers.get("last-modified")}))
            return target
    except httpx.TransportError as exc:
        raise FeedFetchError(
            f"operator {operator}: cannot reach {location} ({type(exc).__name__}: {exc}); "
            "check the network or use a local copy with --feed OPERATOR=PATH") from exc
    finally:
        if own:
            http.close()
