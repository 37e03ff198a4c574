"""Which addresses the webhook, Slack and Apprise channels may reach: public ones only, by default.

Their targets are URLs that callers choose, and the service connects to them from inside its own
network; unchecked, a target could reach a loopback port, an internal host or the cloud metadata
address (169.254.169.254). So every address a target reaches must be global in `ipaddress`'s
sense, and not multicast, reserved, site-local or unspecified either. An IPv6 address that carries
an IPv4 one (IPv4-mapped, 6to4, the NAT64 prefix) is judged by the IPv4 address it carries.

The check runs twice. When a reminder is saved, `check_public_host` reads an IP literal in every
spelling the C resolver accepts (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) or resolves a
name, and every address it resolves to must be public; a name that does not resolve yet is
accepted. When a reminder is sent, the HTTP channels connect through `PublicOnlyBackend`, which
judges the addresses it actually connects to, so a name that resolves inward later is refused then.
`--allow-private-targets` lifts both checks, for local development and tests.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Public IPv4 addresses reached over IPv6-only networks (RFC 6052); the IPv4 address is the last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# The most of a caller's host name a message repeats.
_SHOWN_LENGTH = 60
_HINT = "(use --allow-private-targets for local development)"


class NonPublicAddress(Exception):
    """A target reaches an address that is not public; `message` says which, in words."""

    def __init__(self, description: str) -> None:
        self.message = f"target must be a public address; {description} {_HINT}"
        super().__init__(self.message)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells, in any form a URL's host may take (brackets, an IPv6 zone, and
    the IPv4 forms of `inet_aton`: decimal, hex, octal, one to four parts); None for a name."""
    text = host.strip().removeprefix("[").removesuffix("]")
    text = text.split("%", 1)[0]  # a zone ("fe80::1%25eth0") names an interface, not an address
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except (OSError, ValueError):
        return None


def is_public(address: IPAddress) -> bool:
    carried = _carried_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    if carried is not None:
        return is_public(carried)
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def kind(address: IPAddress) -> str:
    """Why `address` is not public, in a word or two."""
    if isinstance(address, ipaddress.IPv6Address) and (carried := _carried_ipv4(address)) is not None:
        return kind(carried)
    for word, applies in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ):
        if applies:
            return word
    return "not a public address"


def resolve(host: str) -> list[IPAddress]:
    """Every address `host` stands for now, in the resolver's order, as a connection would find
    them (an IP literal in any spelling, /etc/hosts, DNS); OSError when it does not resolve."""
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except UnicodeError as error:  # a label IDNA cannot encode
        raise socket.gaierror(str(error)) from None
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in found:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
    return addresses


def check_public_host(host: str, *, allow_private: bool) -> None:
    """Raise NonPublicAddress when `host` is, or resolves now to, an address that is not public.

    A name that does not resolve is accepted: the address is judged again when it is connected to.
    """
    if allow_private:
        return
    literal = parse_ip_literal(host)
    if literal is not None:
        if not is_public(literal):
            spelled = shown(host.strip("[]"))
            named = str(literal) if spelled == str(literal) else f"{spelled} ({literal})"
            raise NonPublicAddress(f"{named} is {kind(literal)}")
        return
    try:
        addresses = resolve(host)
    except (OSError, ValueError):
        return
    refuse_non_public(host, addresses)


def refuse_non_public(host: str, addresses: Iterable[IPAddress]) -> None:
    for address in addresses:
        if not is_public(address):
            raise NonPublicAddress(f"{shown(host)} resolves to {address}, which is {kind(address)}")


def shown(host: str) -> str:
    """A caller's host name as a message repeats it: its start only, when it is long."""
    return host if len(host) <= _SHOWN_LENGTH else host[: _SHOWN_LENGTH - 1] + "…"


def _carried_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class PublicOnlyBackend(httpcore.NetworkBackend):
    """httpcore's network backend that connects to public addresses only.

    It resolves the name itself and refuses (NonPublicAddress, which httpcore passes through
    unchanged) when any address the name resolves to is not public; otherwise it connects to those
    vetted addresses, in order, through the default backend. Only the TCP connection is made to
    the address: httpcore still gives TLS the name (SNI and certificate checks) and the request
    its Host header, so a receiver sees no difference.
    """

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host)
        except (OSError, ValueError) as error:  # as the default backend reports a name it cannot find
            raise httpcore.ConnectError(str(error)) from None
        refuse_non_public(host, addresses)
        failure: Exception = httpcore.ConnectError(f"{shown(host)} has no address")
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error  # the next address may answer, as socket.create_connection tries them
        raise failure
