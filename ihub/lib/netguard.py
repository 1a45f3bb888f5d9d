"""Which network addresses iHub may connect to: the SSRF guard, as pure functions.

An integration's URL comes from its configuration or from an answer of the other system (a
redirect, a "next page" link), so it must not become a way to reach the machines behind Odoo's
firewall: the database, the cloud provider's metadata service, an admin console on localhost.
Everything here decides; nothing connects. ``ihub.lib.http`` connects to exactly the addresses
:func:`check_url` returned, so a name that resolves differently a moment later (DNS rebinding)
changes nothing.

Rules, in the order they are tried (see :func:`refusal_reason`):

- always refused, whatever the integration allows: the unspecified address (``0.0.0.0``, ``::``),
  multicast, broadcast and reserved ranges, and the cloud metadata addresses (``169.254.169.254``,
  ``fd00:ec2::254``, ``100.100.100.200``): the machine's own credentials live there;
- refused unless private networks are allowed: loopback, private (10/8, 172.16/12, 192.168/16),
  shared (100.64/10), link-local, unique-local (fc00::/7), site-local (fec0::/10) and every other
  special-purpose range that is not globally routable (documentation, benchmarking, …);
- IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are
  judged by the IPv4 address they carry.

``allow_private`` is ``False``, ``True`` (any non-public address except the always-refused ones;
for on-premise systems) or a list of networks (``["10.1.2.0/24"]``) to allow only those.

Example::

    target = check_url("https://api.example.com/v1/partners")
    target.addresses   # ("93.184.216.34",): connect there, send Host: api.example.com
    check_url("http://0x7f.1/admin")
    # NetworkRefused: iHub refused http://0x7f.1/admin: 127.0.0.1 is a loopback address (allow
    # private networks on the integration to reach on-premise systems)
"""

import ipaddress
import re
import socket
from typing import NamedTuple
from urllib.parse import urlsplit

from .exceptions import IHubError, IHubPermanentError
from .redact import redact_url

ALLOWED_SCHEMES = {"http": 80, "https": 443}

# Where cloud providers serve instance credentials (AWS, GCP, Azure, OpenStack; AWS over IPv6;
# Alibaba). Never an integration's endpoint, so refused even when private networks are allowed.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)

PRIVATE_HINT = "allow private networks on the integration to reach on-premise systems"

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_PRIVATE_V4 = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)

# One part of an IPv4 literal as inet_aton(3) reads it: C integer syntax (0x hex, 0 octal).
_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")
# Largest value of the last part, by the number of parts ("127.1": the 1 fills 24 bits).
_IPV4_LAST_MAX = {1: 0xFFFFFFFF, 2: 0xFFFFFF, 3: 0xFFFF, 4: 0xFF}


class NetworkRefused(IHubPermanentError):
    """A request iHub refused to send because of where it would go.

    Permanent: the same URL is refused again on the next run, so retrying is pointless.
    """


class Target(NamedTuple):
    """A checked URL: connect to one of ``addresses``; ``host`` is for Host, SNI and the cert."""

    scheme: str
    host: str
    port: int
    addresses: tuple


def parse_ipv4(text):
    """Return the IPv4 address ``text`` denotes in any form inet_aton(3) accepts, else None.

    Browsers, curl and the C library all read ``2130706433``, ``017700000001``, ``0x7f.1`` and
    ``127.1`` as 127.0.0.1; a guard that only knows dotted quads would wave them through.
    """
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if not _IPV4_PART.fullmatch(part):
            return None
        if part[:2] in ("0x", "0X"):
            values.append(int(part[2:], 16))
        elif part.startswith("0") and len(part) > 1:
            values.append(int(part[1:], 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(v > 0xFF for v in head) or last > _IPV4_LAST_MAX[len(values)]:
        return None
    number = last
    for index, value in enumerate(head):
        number |= value << (24 - 8 * index)
    return ipaddress.IPv4Address(number)


def parse_host_address(host):
    """Return the IP address a URL host names literally (IPv4 in any form, IPv6), else None.

    ``host`` is as :func:`urllib.parse.urlsplit` gives it: lower case, IPv6 without brackets.
    Raises ``ValueError`` for an IPv6 zone id (``fe80::1%eth0``): it names an interface of this
    machine, which no integration needs.
    """
    if host.endswith("."):
        # A fully qualified name's root dot; "127.0.0.1." connects to 127.0.0.1.
        host = host[:-1]
    if ":" in host:
        if "%" in host:
            raise ValueError("an IPv6 zone id names an interface of this machine")
        return ipaddress.IPv6Address(host)
    return parse_ipv4(host)


def _embedded_ipv4(address):
    """Return the IPv4 address an IPv6 transition form carries, and the form's name."""
    if address.ipv4_mapped:
        return address.ipv4_mapped, "IPv4-mapped"
    if address.sixtofour:
        return address.sixtofour, "6to4"
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "NAT64"
    if address.teredo:
        return address.teredo[1], "Teredo"
    # ::a.b.c.d (deprecated IPv4-compatible); :: and ::1 are judged as themselves.
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address)), "IPv4-compatible"
    return None, None


def _never_allowed(address):
    """The rule for addresses no integration may reach, even with private networks allowed."""
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.version == 4 and address == ipaddress.IPv4Address("255.255.255.255"):
        return "the broadcast address"
    return None


def _classify(address):
    """Return ``(reason, liftable)`` for a non-public address, or ``(None, True)``."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address", False
    if address.version == 6:
        inner, form = _embedded_ipv4(address)
        if inner is not None:
            reason, liftable = _classify(inner)
            if reason is None:
                return None, True
            return f"an {form} IPv6 form of {inner}, {reason}", liftable
    fixed = _never_allowed(address)
    if fixed:
        return fixed, False
    if address.is_loopback:
        return "a loopback address", True
    if address.is_link_local:
        return "a link-local address", True
    if address.version == 4 and any(address in net for net in _PRIVATE_V4):
        return "a private address", True
    if address.version == 4 and address in _SHARED:
        return "a shared (carrier-grade NAT) address", True
    if address.version == 6 and address in _UNIQUE_LOCAL:
        return "a unique-local address", True
    if address.version == 6 and address in _SITE_LOCAL:
        return "a site-local address", True
    if address.version == 6 and address in _LOCAL_NAT64:
        return "a local-use NAT64 address (it reaches a private IPv4 network)", True
    if address.is_reserved:
        return "a reserved address", False
    if not address.is_global:
        return "a special-purpose address that is not publicly routable", True
    return None, True


def _as_address(address):
    if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return address
    text = str(address)
    if "%" in text:
        # getaddrinfo writes link-local IPv6 answers with their interface (fe80::1%eth0).
        text = text.split("%", 1)[0]
    if ":" in text:
        return ipaddress.IPv6Address(text)
    return parse_ipv4(text) or ipaddress.IPv4Address(text)


def _allowed_networks(allow_private):
    if allow_private is True or not allow_private:
        return None
    return tuple(ipaddress.ip_network(n, strict=False) for n in allow_private)


def refusal_reason(address, *, allow_private=False):
    """Return why iHub refuses to connect to ``address`` (e.g. "a private address"), or None.

    ``address`` is an ``ipaddress`` object or a string in any IPv4 or IPv6 form. ``allow_private``
    is False, True or a list of networks; see the module docstring for which rules it lifts.
    """
    address = _as_address(address)
    reason, liftable = _classify(address)
    if reason is None or not liftable or not allow_private:
        return reason
    networks = _allowed_networks(allow_private)
    if networks is None:
        return None
    if any(address.version == net.version and address in net for net in networks):
        return None
    return reason


def system_resolver(host, port):
    """Return the addresses ``host`` resolves to through the system's resolver (getaddrinfo)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _refuse(url, why, hint=True):
    message = f"iHub refused {redact_url(url)}: {why}"
    if hint:
        message += f" ({PRIVATE_HINT})"
    raise NetworkRefused(message)


def _normalize_name(host):
    """Return the ASCII form of a host name (IDNA), as it goes to the resolver."""
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        host = host.encode("idna").decode("ascii")
    return host.lower()


def _split(url):
    """Return ``(scheme, host, port)`` of ``url`` or raise NetworkRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        _refuse(url, f"the URL is not valid ({error})", hint=False)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        _refuse(url, "only http and https URLs are allowed", hint=False)
    if parts.username is not None or parts.password is not None:
        # requests would turn them into basic auth behind the integration's back, and they end up
        # in logs; credentials belong in the integration's credential, sent by an auth object.
        _refuse(url, "credentials in the URL are not allowed", hint=False)
    if not parts.hostname:
        _refuse(url, "the URL has no host", hint=False)
    return scheme, parts.hostname, port or ALLOWED_SCHEMES[scheme]


def check_url(url, *, allow_private=False, resolver=None):
    """Check where ``url`` would connect and return the :class:`Target` to connect to.

    Only http and https; no ``user:password@`` in the URL (refused rather than stripped, so that
    nothing is silently dropped). A literal address is judged as it is; a name is resolved once
    through ``resolver(host, port) -> list of address strings`` (default: the system's
    getaddrinfo) and refused when ANY of its addresses is refused, since the connection may go to
    any of them. ``localhost`` and its subdomains are refused without asking the resolver.

    Raises :class:`NetworkRefused` (permanent) naming the redacted URL and the rule, or
    ``IHubError`` (retryable) when the name does not resolve.
    """
    scheme, host, port = _split(url)
    try:
        literal = parse_host_address(host)
    except ValueError as error:
        _refuse(url, f"{host} is not a valid address ({error})", hint=False)
    if literal is not None:
        reason = refusal_reason(literal, allow_private=allow_private)
        if reason:
            _refuse(url, f"{literal} is {reason}", hint=_classify(literal)[1])
        return Target(scheme, host.rstrip("."), port, (str(literal),))
    try:
        name = _normalize_name(host)
    except UnicodeError:
        _refuse(url, f"{host} is not a valid host name", hint=False)
    if (name.rstrip(".") == "localhost" or name.rstrip(".").endswith(".localhost")) and (
        refusal_reason("127.0.0.1", allow_private=allow_private)
    ):
        _refuse(url, f"{name} is a loopback name (this machine)")
    try:
        addresses = list((resolver or system_resolver)(name, port))
    except OSError as error:
        raise IHubError(f"iHub could not resolve {name} for {redact_url(url)}: {error}") from error
    if not addresses:
        raise IHubError(f"iHub could not resolve {name} for {redact_url(url)}: no address")
    for address in addresses:
        try:
            parsed = _as_address(address)
        except ValueError:
            _refuse(url, f"{name} resolves to {address!r}, which is not an address", hint=False)
        reason = refusal_reason(parsed, allow_private=allow_private)
        if reason:
            _refuse(url, f"{name} resolves to {parsed}, {reason}", hint=_classify(parsed)[1])
    return Target(scheme, name, port, tuple(str(a) for a in addresses))
