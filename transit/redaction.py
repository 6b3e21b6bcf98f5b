"""Secrets of configured feeds (API keys in query strings, credentials in URLs, header values)
never leave the process: not in the public status of an operator, not in logs.

The status is public (`GET /v1/operators/{id}/realtime` needs no key), so it names no URL at
all; logs are the operator's, so they keep a URL's host and path, with query values, user
info and header values masked."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
FEED_URL = "<feed URL>"
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
MIN_SECRET_LEN = 4  # shorter values ("1", "en") are masked in URLs, not hunted in free text


def redact_url(url: str) -> str:
    """The URL with its user info and every query value masked (names kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = "&".join(f"{name}={MASK}" if sep else name
                     for name, sep, _ in (p.partition("=") for p in parts.query.split("&") if p))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def secrets_of(url: str, headers: Mapping[str, str] | None = None) -> frozenset[str]:
    """The values to hunt for in free text: query values, user info, header values (also
    percent-decoded, as an error message may show them)."""
    found: set[str] = set((headers or {}).values())
    try:
        parts = urlsplit(url)
    except ValueError:
        return frozenset(v for v in found if len(v) >= MIN_SECRET_LEN) | {url}
    if "@" in parts.netloc:
        info = parts.netloc.rpartition("@")[0]
        found.update([info, *info.split(":", 1)])
    for p in parts.query.split("&"):
        _, sep, value = p.partition("=")
        if sep:
            found.add(value)
    found |= {unquote(v) for v in found}
    return frozenset(v for v in found if len(v) >= MIN_SECRET_LEN)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text (an error message, a log line): known secret values masked, and every URL
    in it shown by redact_url."""
    for s in sorted(secrets, key=len, reverse=True):
        text = text.replace(s, MASK)
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def public_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text for anyone to read: secrets masked and no URL at all."""
    return _URL.sub(FEED_URL, redact_text(text, secrets))


class RedactingFilter(logging.Filter):
    """Masks secrets and URL query values in the records of the loggers it is put on
    (message, arguments and traceback text)."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._secrets = self._secrets | frozenset(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's to report
            return True
        clean = redact_text(message, self._secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact_text(text, self._secrets)
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text, self._secrets)
        return True


LOG_FILTER = RedactingFilter()
# the loggers that see feed URLs: httpx logs every request line; ours log fetch errors
REDACTED_LOGGERS = ("httpx", "httpcore", "transit", "transit.api", "transit.realtime",
                    "transit.realtime.poller")


def redact_logs(secrets: Iterable[str] = ()) -> None:
    """Put the filter on the loggers that see feed URLs (once), and hunt these secrets."""
    LOG_FILTER.add(secrets)
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if LOG_FILTER not in logger.filters:
            logger.addFilter(LOG_FILTER)
