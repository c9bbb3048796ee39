"""Fetch media named by URL, under a policy: `off`, `local` (loopback only, the default) or `any`.

Link-local and cloud-metadata addresses are always refused, redirects included.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from ..core.settings import FetchPolicy

MAX_FETCH_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 3
DEADLINE_S = 5.0
"""The whole fetch (DNS, connect, headers, body, redirects): a server that drips bytes cannot hold a
request for longer (`--fetch-deadline`)."""
METADATA_ADDRESSES = {"169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"}
"""Cloud instance-metadata services (AWS/GCP/Azure, AWS IPv6, Alibaba, Oracle)."""


class FetchError(Exception):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot fetch {url}: {reason}")
        self.url = url
        self.reason = reason


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [_unmapped(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return []
    return [_unmapped(ipaddress.ip_address(info[4][0])) for info in infos]


def _unmapped(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """`::ffff:a.b.c.d` is a.b.c.d: judge it as the IPv4 address it reaches."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def check_url(url: str, policy: FetchPolicy) -> None:
    """Raise FetchError unless `url` may be fetched under `policy`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(url, "only http(s) URLs with a host are accepted")
    if policy == "off":
        raise FetchError(url, "URL inputs are disabled on this emulator (--fetch off)")
    addresses = _addresses(parts.hostname)
    if not addresses:
        raise FetchError(url, f"the host {parts.hostname!r} does not resolve")
    for address in addresses:
        if address.is_link_local or str(address) in METADATA_ADDRESSES:
            raise FetchError(url, "link-local and cloud-metadata addresses are never fetched")
        if address.is_unspecified or address.is_multicast:
            raise FetchError(url, f"{address} is not an address a file can be fetched from")
        if policy == "local" and not address.is_loopback:
            raise FetchError(url, "only loopback URLs are fetched by default (start with --fetch any to allow others)")


async def fetch(url: str, policy: FetchPolicy, *, limit: int = MAX_FETCH_BYTES, deadline: float = DEADLINE_S) -> bytes:
    """GET `url` within one total `deadline`, under a size cap and a redirect cap, checking every hop."""
    try:
        async with asyncio.timeout(deadline):
            return await _fetch(url, policy, limit, deadline)
    except TimeoutError:
        raise FetchError(url, f"the download did not finish within {deadline:g} s (--fetch-deadline)") from None


async def _fetch(url: str, policy: FetchPolicy, limit: int, deadline: float) -> bytes:
    current = url
    async with httpx.AsyncClient(timeout=deadline, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            try:
                await asyncio.to_thread(check_url, current, policy)  # name resolution may block
            except FetchError as exc:
                if current == url:
                    raise
                raise FetchError(url, f"it redirects to {current}, and {exc.reason}") from None
            try:
                async with client.stream("GET", current) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(url, "a redirect without a Location")
                        current = str(response.url.join(location))
                        continue
                    if response.status_code != 200:
                        raise FetchError(url, f"the server answered HTTP {response.status_code}")
                    data = bytearray()
                    async for chunk in response.aiter_bytes():
                        data += chunk
                        if len(data) > limit:
                            raise FetchError(url, f"the file is larger than {limit // (1024 * 1024)} MB")
                    return bytes(data)
            except httpx.HTTPError as exc:
                raise FetchError(url, f"{type(exc).__name__}: {exc}") from None
    raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")
