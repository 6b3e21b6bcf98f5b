"""Receiving a feed: a multipart upload streamed to a scratch file, or a fetch from a URL,
both counted against TRANSIT_MAX_FEED_BYTES while the bytes arrive (never held in memory),
then a quick look at the zip so that what is not a readable zip is refused at once."""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request
from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

from transit.api.problems import Problem
from transit.ingest.archive import ArchiveError, ArchiveLimits, open_archive
from transit.publishing.service import Upload

if TYPE_CHECKING:  # imported when a feed is fetched: serving never loads httpx for it
    import httpx

FIELD = "file"
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file
FETCH_TIMEOUT_S, CONNECT_TIMEOUT_S = 30.0, 10.0


def too_large(limit: int) -> Problem:
    return Problem(413, f"the feed is over the limit of {limit} bytes (TRANSIT_MAX_FEED_BYTES)")


def check_declared_length(request: Request, limit: int) -> None:
    """413 from the Content-Length alone, before any of the body is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise too_large(limit)


@dataclass
class _Part:
    headers: dict[bytes, bytes]
    name: str | None = None
    filename: str | None = None


class _FileSink:
    """Multipart callbacks writing the `file` field to disk while hashing and counting."""

    def __init__(self, out: Path, limit: int) -> None:
        self.fh = out.open("wb")
        self.limit = limit
        self.sha = hashlib.sha256()
        self.size = 0
        self.files = 0
        self.part = _Part({})
        self._field = bytearray()
        self._value = bytearray()
        self._in_file = False

    def callbacks(self) -> dict[str, object]:
        return {"on_part_begin": self.begin, "on_header_field": self.header_field,
                "on_header_value": self.header_value, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_done, "on_part_data": self.data,
                "on_part_end": self.end}

    def begin(self) -> None:
        self.part = _Part({})

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        self.part.headers[bytes(self._field).lower()] = bytes(self._value)
        self._field.clear()
        self._value.clear()

    def headers_done(self) -> None:
        _, params = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        name = params.get(b"name")
        self.part.name = name.decode("latin-1") if name else None
        self._in_file = self.part.name == FIELD
        if self._in_file:
            self.files += 1
            if self.files > 1:
                raise Problem(422, "send one feed per request (one `file` field)",
                              parameter=FIELD)

    def data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file:
            return
        chunk = data[start:end]
        self.size += len(chunk)
        if self.size > self.limit:
            raise too_large(self.limit)
        self.sha.update(chunk)
        self.fh.write(chunk)

    def end(self) -> None:
        self._in_file = False


async def receive_multipart(request: Request, scratch: Path, limit: int) -> Upload:
    """Stream the `file` field of a multipart/form-data body into `scratch`."""
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise Problem(422, "multipart/form-data needs a boundary", parameter="Content-Type")
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / f"upload-{uuid.uuid4().hex}.zip"
    sink = _FileSink(path, limit)
    try:
        parser = MultipartParser(boundary, sink.callbacks())  # type: ignore[arg-type]
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError as exc:
            raise Problem(422, f"the multipart body is malformed: {exc}") from None
        sink.fh.close()
        if sink.files == 0:
            raise Problem(422, f"the multipart body has no `{FIELD}` field with the feed's zip",
                          parameter=FIELD)
    except BaseException:
        sink.fh.close()
        path.unlink(missing_ok=True)
        raise
    return Upload(path, sink.sha.hexdigest(), sink.size)


def fetch(url: str, scratch: Path, limit: int, etag: str | None,
          last_modified: str | None, client: httpx.Client | None = None) -> Upload | None:
    """Download a feed (conditional GET); None when the server says it is unchanged."""
    import httpx

    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / f"fetch-{uuid.uuid4().hex}.zip"
    sha, size = hashlib.sha256(), 0
    http = client or httpx.Client(
        timeout=httpx.Timeout(FETCH_TIMEOUT_S, connect=CONNECT_TIMEOUT_S), follow_redirects=True)
    try:
        with http.stream("GET", url, headers=headers) as resp:
            if resp.status_code == 304:
                return None
            if resp.status_code != 200:
                raise Problem(422, f"GET {url} answered HTTP {resp.status_code}",
                              parameter="url")
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise Problem(422, f"the feed at {url} is {declared} bytes, over the limit of "
                              f"{limit} (TRANSIT_MAX_FEED_BYTES)", parameter="url")
            with path.open("wb") as fh:
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise Problem(422, f"the feed at {url} is over the limit of {limit} "
                                      "bytes (TRANSIT_MAX_FEED_BYTES)", parameter="url")
                    sha.update(chunk)
                    fh.write(chunk)
            return Upload(path, sha.hexdigest(), size, url, resp.headers.get("etag"),
                          resp.headers.get("last-modified"))
    except httpx.HTTPError as exc:
        path.unlink(missing_ok=True)
        raise Problem(422, f"cannot fetch {url}: {type(exc).__name__}: {exc}",
                      parameter="url") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        if client is None:
            http.close()


def check_zip(operator: str, upload: Upload, limits: ArchiveLimits) -> None:
    """Refuse at once what is not a readable feed zip: empty, not a zip, truncated, no GTFS
    file in it, or hostile (bomb, too many members, paths leaving it, symlinks). Reads only
    the central directory; the members are checked again while they are extracted."""
    path = upload.path
    if upload.size == 0:
        raise Problem(422, "the feed is empty (0 bytes)", parameter=FIELD, code="empty")
    if not zipfile.is_zipfile(path):
        with path.open("rb") as fh:
            head = fh.read(4)
        if head == b"PK\x03\x04":
            raise Problem(422, "the zip is truncated or damaged: its central directory "
                          "(at the end of the file) is missing", parameter=FIELD,
                          code="truncated")
        raise Problem(422, "the feed is not a zip archive (a GTFS feed is a zip of .txt "
                      "files)", parameter=FIELD, code="not_a_zip")
    try:
        archive = open_archive(operator, path, limits)
    except ArchiveError as exc:
        p = exc.problems[0]
        file = "the zip" if p.file == path.name else p.file  # not our scratch name
        raise Problem(422, f"{file}: {p.message}", parameter=FIELD,
                      code=exc.code.replace("-", "_"), file=file) from None
    if not archive.tables:
        raise Problem(422, "the zip holds no GTFS text file (agency.txt, stops.txt, ...)",
                      parameter=FIELD, code="empty_zip")
