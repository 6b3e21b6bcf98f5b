"""Which client a request comes from: the TCP peer, or, only when the peer is one of the
configured trusted proxies (TRANSIT_TRUSTED_PROXIES), the address those proxies forwarded.

X-Forwarded-For is read from the right, skipping trusted proxies: the first hop that is not
a trusted proxy is the client. What a client writes into the header itself stands to the
left of what its proxy appends, so it is never taken; from an untrusted peer the header is
ignored altogether.
"""

from __future__ import annotations

import ipaddress

from starlette.types import Scope

from transit.settings import Network

MAX_ADDRESS = 64  # a bucket key is never longer, whatever a header holds


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    peer = str((scope.get("client") or ("?", 0))[0])
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            hops += [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        client = hop[:MAX_ADDRESS]
        if not _trusted(hop, trusted):
            break
    return client
