"""The one egress rule: every outbound HTTP call the server makes (HTTP jobs, alarm webhooks) goes through
``http_request`` here, checked against PCLOUD_JOB_HTTP_ALLOWED_HOSTS (issue 19, finding 4).

The rule:

- scheme ``http`` or ``https`` only;
- the destination must be listed. Entries, comma-separated: ``host``, ``*.example.com`` (its subdomains),
  ``*`` (any host), an address ``10.1.2.3`` / ``[fd00::1]``, a network ``10.0.0.0/8``, each with an optional
  ``:port``. An entry without a port allows the scheme's own port only (80 for http, 443 for https), so an
  allowed host does not open every service it runs;
- every address the host resolves to is checked: loopback, link-local, private, multicast, unspecified and
  other non-global addresses are refused unless that address, or a network holding it, is listed;
- the connection goes to an address that was checked (no second DNS lookup in between: DNS rebinding);
- redirects are never followed: a 3xx answer is returned as it is, for the caller to report.

Only the standard library: ``ipaddress``, ``socket.getaddrinfo`` and ``http.client`` (which follows no
redirect), with the connection's ``connect`` opening the socket to the checked address.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext

from pcloud.core.numbers import digits_only

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_PORTS = {"http": 80, "https": 443}


class EgressRefused(Exception):
    """The destination is outside the egress rule; the message (Chinese) says which part refused it."""


@dataclass(frozen=True)
class AllowEntry:
    host: str | None  # a name, "*" or "*.suffix"; None for an address or network entry
    network: IPNetwork | None
    port: int | None

    def allows_port(self, port: int, scheme: str) -> bool:
        return port == (self.port if self.port is not None else DEFAULT_PORTS[scheme])


@dataclass(frozen=True)
class Destination:
    """A URL that passed the rule, with the addresses to connect to (all checked)."""

    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


def _split_port(text: str) -> tuple[str, int | None]:
    if text.startswith("["):  # [v6]:port
        inside, _, rest = text[1:].partition("]")
        return inside, int(rest[1:]) if rest.startswith(":") and digits_only(rest[1:]) else None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        if digits_only(port):
            return host, int(port)
    return text, None


def parse_allowed(setting: str | None) -> list[AllowEntry]:
    """The entries of PCLOUD_JOB_HTTP_ALLOWED_HOSTS; an entry that cannot be read allows nothing."""
    entries = []
    for raw in (setting or "").split(","):
        text = raw.strip().lower()
        if not text:
            continue
        name, port = _split_port(text)
        if port is not None and not 1 <= port <= 65535:
            continue
        try:
            network: IPNetwork | None = ipaddress.ip_network(name, strict=False)
        except ValueError:
            network = None
        entries.append(AllowEntry(None if network else name, network, port))
    return entries


def _plain(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _listed(address: IPAddress, entries: list[AllowEntry]) -> bool:
    return any(e.network is not None and e.network.version == address.version and address in e.network
               for e in entries)


def _name_matches(pattern: str, host: str) -> bool:
    return pattern == "*" or pattern == host or (pattern.startswith("*.") and host.endswith(pattern[1:]))


def check_url(url: str, allowed: str | None) -> Destination:
    """Apply the rule to `url`; raise EgressRefused, or return where to connect."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port_given = parts.port
    except ValueError:
        raise EgressRefused(gettext("URL 格式不正确：%(url)s", url=url)) from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS:
        raise EgressRefused(gettext("只允许 http 或 https 地址：%(url)s", url=url))
    if not host:
        raise EgressRefused(gettext("URL 缺少主机：%(url)s", url=url))
    port = port_given or DEFAULT_PORTS[scheme]
    entries = parse_allowed(allowed)
    try:
        literal: IPAddress | None = _plain(ipaddress.ip_address(host))
    except ValueError:
        literal = None
    listed = [e for e in entries if e.allows_port(port, scheme) and (
        (e.host is not None and (e.host == "*" or (literal is None and _name_matches(e.host, host))))
        or (literal is not None and e.network is not None and _listed(literal, [e])))]
    if not listed:
        raise EgressRefused(gettext("目标主机或端口不在允许列表中（PCLOUD_JOB_HTTP_ALLOWED_HOSTS）：%(host)s:%(port)s",
                                     host=host, port=port))
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise EgressRefused(gettext("无法解析主机 %(host)s：%(error)s", host=host, error=exc)) from None
    addresses: list[str] = []
    for info in infos:
        address = _plain(ipaddress.ip_address(info[4][0].split("%", 1)[0]))
        internal = not address.is_global or address.is_multicast
        if internal and not _listed(address, entries):
            raise EgressRefused(gettext("%(host)s 解析到内部地址 %(address)s，该地址未在允许列表中明确列出",
                                         host=host, address=address))
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise EgressRefused(gettext("无法解析主机 %(host)s", host=host))
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return Destination(scheme, host, port, target, tuple(addresses))


class _CheckedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection whose socket goes to the addresses already checked, never to a new lookup."""

    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self.destination = destination

    def connect(self) -> None:
        error: OSError | None = None
        for address in self.destination.addresses:
            try:
                sock = socket.create_connection((address, self.destination.port), self.timeout)
                break
            except OSError as exc:
                error = exc
        else:
            raise error or OSError("no address")
        if self.destination.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.destination.host)
        self.sock = sock


def http_request(url: str, allowed: str | None, *, method: str = "GET", body: bytes | None = None,
                 headers: Mapping[str, str] | None = None, timeout: float = 30.0,
                 max_bytes: int = 64 * 1024) -> Response:
    """One request under the egress rule. Raises EgressRefused before any connection when the rule refuses,
    OSError (and http.client errors) when the network fails. A redirect is answered, not followed."""
    destination = check_url(url, allowed)
    conn = _CheckedConnection(destination, timeout)
    try:
        conn.request(method, destination.target, body=body, headers=dict(headers or {}))
        answer = conn.getresponse()
        return Response(answer.status, dict(answer.getheaders()), answer.read(max_bytes))
    except http.client.HTTPException as exc:  # a malformed answer: a network failure for the caller
        raise OSError(gettext("HTTP 应答无法解析：%(error)s", error=repr(exc))) from None
    finally:
        conn.close()
