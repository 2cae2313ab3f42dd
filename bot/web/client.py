"""The client address of a request, for rate limits and logs.

Behind a reverse proxy every request comes from the proxy's address. Only when the direct
peer is one of ``TRUSTED_PROXIES`` is ``X-Forwarded-For`` read, from the right: the first
address that is not itself a trusted proxy is the client. A client cannot choose its address
by sending the header itself: from an untrusted peer the header is ignored, and the left-most
entries (which the client may have written) are never preferred over what the proxy appended.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from aiohttp import web

from bot.web.keys import SETTINGS

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _is_trusted(address: str, networks: tuple[_Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in networks)


def client_address(request: web.Request) -> str:
    """The address of the client that made ``request`` ("unknown" when there is none)."""
    peer = request.remote or "unknown"
    networks = _networks(tuple(request.app[SETTINGS].trusted_proxies))
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if _is_trusted(hop, networks):
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # a malformed entry: do not trust anything to its left
    return peer
