"""Which webhook URLs the service calls: http(s) to a public address only, unless
TRANSIT_WEBHOOK_ALLOW_PRIVATE=true (tests and closed networks). Checked when registered and
again before every attempt (a name may resolve elsewhere later: DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL = 2000


class UrlRefused(ValueError):
    pass


def _address_refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for what, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                       ("private", ip.is_private), ("multicast", ip.is_multicast),
                       ("unspecified", ip.is_unspecified), ("reserved", ip.is_reserved)):
        if flag:
            return what
    return None


def check_url(url: str, allow_private: bool, resolve: bool = True) -> None:
    """Raise UrlRefused saying why this URL is not called."""
    if len(url) > MAX_URL:
        raise UrlRefused(f"a URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("the URL must start with https:// (or http://)")
    if not parts.hostname:
        raise UrlRefused("the URL names no host")
    if parts.username or parts.password:
        raise UrlRefused("credentials in the URL are not accepted; the payload is signed")
    if allow_private:
        return
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if not resolve:
            return
        try:
            infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80),
                                       type=socket.SOCK_STREAM)
        except OSError as exc:
            raise UrlRefused(f"the host {host!r} does not resolve: {exc}") from None
        addresses = [ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos]
    for ip in addresses:
        why = _address_refused(ip)
        if why is not None:
            raise UrlRefused(f"{host} is a {why} address ({ip}); webhooks go to public "
                             "addresses only")
