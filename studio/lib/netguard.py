"""The outbound guard: every request the studio makes to an address a user typed goes through it.

Account base URLs (and the download links and redirects their upstreams hand us) and replyUrls
are typed by users but fetched by the web processes and workers, which can reach the database,
the cloud metadata service and everything else inside the network. So:

- a URL is checked when it is saved (`check_url`), for a clear error next to the field;
- every connection made through `session()` resolves its host once, checks *every* address it
  got, and connects only to a checked one (pinned: no second DNS answer can rebind it to an
  internal address), whichever URL asked for it: a base URL, a download link, a redirect hop.
  The Host header and the TLS server name and certificate check stay on the real host name.

Loopback, private, link-local, CGNAT, multicast, NAT64 and cloud-metadata addresses are refused
unless conf.OUTBOUND_ALLOWED_NETWORKS lists them. A refused address gets one plain message,
the same whether or not anything listens there, and nothing is sent to it first.
"""

import functools
import ipaddress
import socket
import sys
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection

from studio import conf

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 1024
MAX_RESPONSE_BYTES = 64 * 1024
MAX_BODY_CHARS = 2000
CONNECT_TIMEOUT_SECONDS = 5
USER_AGENT = "Studio-Webhooks/1"
# A whole callback send (connect, headers, the capped body) may take at most this long.
TOTAL_SECONDS = 30

REFUSED = (
    "points at an address the studio does not connect to (loopback, private, link-local or "
    "cloud-metadata networks); an operator can allow a network with OUTBOUND_ALLOWED_NETWORKS."
)

# NAT64 translates to *any* IPv4 address, yet Python reports these as global; block the prefix.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Public IPv6 is global unicast only; everything outside it that Python still calls global
# (local-use NAT64 64:ff9b:1::/48, SIIT ::ffff:0:0:0/96, IPv4-compatible ::a.b.c.d, site-local
# fec0::/10) is refused.
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
# Special-purpose blocks that some Python versions still call global: 192.0.0.0/24 before
# 3.11.10 and 3.12.4 (CVE-2024-4032), IPv6 documentation 3fff::/20 and SRv6 SIDs 5f00::/16.
NOT_PUBLIC = tuple(ipaddress.ip_network(n) for n in ("192.0.0.0/24", "3fff::/20", "5f00::/16"))
# Cloud metadata services hand an instance's credentials to whoever asks from inside it. They
# open only when listed on their own (a /32 or /128): a broader allowed network, such as
# development's loopback or an operator's 169.254.0.0/16, does not open them. Azure's
# WireServer is even a public address.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle, Hetzner
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS Pod Identity
        "169.254.0.23",  # Tencent Cloud
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer
        "192.0.0.192",  # Oracle Cloud Classic
        "fd00:ec2::254",  # AWS over IPv6
        "fd00:ec2::23",  # AWS EKS Pod Identity over IPv6
    )
)


class UnsafeURL(ValueError):
    """A URL we refuse to call; str() is shown to the user as is ("<field> <problem>")."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field} {problem}")
        self.field, self.problem = field, problem

    def about(self, field: str) -> "UnsafeURL":
        """The same refusal, worded for another field (the transport does not know names)."""
        return type(self)(field, self.problem)


class Unresolvable(UnsafeURL):
    """The host has no address now. Refused when a URL is given; at send time DNS may only be
    failing for a while, so a caller may try again rather than give up."""


class Refused(UnsafeURL):
    """The address is not one the studio connects to; raised before anything is sent."""


@dataclass
class Answer:
    status: int
    body: str


class DeliveryFailed(Exception):
    """The receiver could not be reached or did not answer in time (no HTTP status)."""


def check_url(url: str, *, field: str = "replyUrl", allow_http: bool | None = None) -> None:
    """Refuses a URL the studio would not call, resolving its host now. `allow_http` defaults to
    WEBHOOK_ALLOW_HTTP, which is about callbacks; account base URLs pass True."""
    parts, host = parse(url, field=field, allow_http=allow_http)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        checked_addresses(host, port)
    except UnsafeURL as exc:
        raise exc.about(field) from None


def checked_addresses(host: str, port: int) -> list[str]:
    """Every address of `host`, once all of them passed the guard (a client may fall back to
    any of them, so checking only the first would not do)."""
    if not 0 < port < 65536:
        raise Refused("The address", REFUSED)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        infos = []
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Unresolvable(
            "The address", f"host {host} cannot be resolved; check the spelling of the address."
        )
    if not all(allowed(ipaddress.ip_address(a)) for a in addresses):
        raise Refused("The address", REFUSED)
    return addresses


def allowed(ip: IPAddress) -> bool:
    listed = _networks(tuple(conf.OUTBOUND_ALLOWED_NETWORKS))
    # ::ffff:127.0.0.1 is 127.0.0.1 on the wire, so an allowed 127.0.0.0/8 admits it too.
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    wire = [a for a in (ip, mapped) if a is not None]
    if any(a in METADATA for a in [ip, *_embedded_ipv4(ip)]):
        return any(a in net for a in wire for net in listed if net.num_addresses == 1)
    if any(a in net for a in wire for net in listed):
        return True
    if ip in NAT64 or (isinstance(ip, ipaddress.IPv6Address) and ip not in GLOBAL_UNICAST):
        return False
    # 224.0.0.1 is "global" to Python, so multicast needs its own check.
    return all(
        a.is_global and not a.is_multicast and not any(a in net for net in NOT_PUBLIC)
        for a in [ip, *_embedded_ipv4(ip)]
    )


@functools.lru_cache(maxsize=16)
def _networks(names: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in names]


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries, which is where the packets really go."""
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client)
    return found


# The transport. requests hands each connection to urllib3, whose HTTPConnection._new_conn
# resolves the host and connects; overriding it is the one place every request, redirect hop
# and retry passes through.


class GuardedConnectionMixin:
    _dns_host: str
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        # The host as the URL gave it (brackets off an IPv6 literal); the check raises
        # Refused or Unresolvable, both ValueErrors that urllib3 and requests let through.
        addresses = checked_addresses(self._dns_host.strip("[]"), self.port)
        error: OSError | None = None
        for address in addresses:  # in the resolver's order, as urllib3 itself would try them
            try:
                # An IP literal: getaddrinfo parses it without asking DNS again.
                sock = connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as e:
                error = e
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        # The same exceptions urllib3's own _new_conn raises, so requests reports them as usual.
        if isinstance(error, TimeoutError):
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from error
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error


class GuardedHTTPConnection(GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(GuardedConnectionMixin, HTTPSConnection):
    # HTTPSConnection.connect takes the TLS server name and the certificate check from
    # self.host, which stays the URL's host name: only the socket goes to the checked address.
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        # A proxy would make the connection for us, to an address the guard never saw.
        raise Refused("A proxy", "is not used for requests to addresses users type.")


def session() -> requests.Session:
    """A requests session whose every connection passes the guard."""
    s = requests.Session()
    # No proxies or ~/.netrc from the environment: a proxy would resolve the name again, and
    # netrc could hand our credentials to a user-chosen host.
    s.trust_env = False
    adapter = GuardedAdapter()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def post_json(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POSTs the exact bytes to a replyUrl through the guard.

    Never follows a redirect: a 3xx comes back as an Answer (its target was never checked).
    """
    parts, host = parse(url, field="replyUrl")
    send_headers = {**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT}
    with session() as s:
        try:
            with s.post(
                urllib.parse.urlunsplit(parts._replace(fragment="")),
                data=body,
                headers=send_headers,
                allow_redirects=False,
                timeout=(CONNECT_TIMEOUT_SECONDS, conf.WEBHOOK_TIMEOUT_SECONDS),
                stream=True,
            ) as response:
                return Answer(
                    status=response.status_code,
                    body=_read_capped(response, deadline=time.monotonic() + TOTAL_SECONDS),
                )
        except UnsafeURL as e:
            raise e.about("replyUrl") from None
        except requests.exceptions.SSLError as e:
            raise DeliveryFailed(f"TLS handshake with {host} failed: {_reason(e)}") from e
        except requests.exceptions.ConnectTimeout as e:
            raise DeliveryFailed(
                f"{host} did not accept a connection within {CONNECT_TIMEOUT_SECONDS}s."
            ) from e
        except requests.exceptions.ReadTimeout as e:
            raise DeliveryFailed(
                f"{host} did not answer within {conf.WEBHOOK_TIMEOUT_SECONDS:g}s."
            ) from e
        except requests.exceptions.ConnectionError as e:
            raise DeliveryFailed(f"Could not connect to {host}: {_reason(e)}") from e
        except requests.RequestException as e:
            raise DeliveryFailed(f"Delivery to {host} failed: {_reason(e)}") from e


def parse(
    url: str, *, field: str, allow_http: bool | None = None
) -> tuple[urllib.parse.SplitResult, str]:
    """The URL's parts and its host in ASCII, once its form is one the studio calls."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(field, f"is longer than {MAX_URL_LENGTH} characters; use a shorter URL.")
    # urlsplit silently drops tabs and newlines; refuse them instead of guessing what was meant.
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UnsafeURL(field, "contains spaces or control characters; remove them.")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        raise UnsafeURL(field, "is not a valid URL; check the host and port.") from None
    try:
        # urlsplit lets port 0 through, which no server listens on.
        if parts.port == 0:
            raise ValueError
    except ValueError:
        raise UnsafeURL(field, "has an invalid port; use a port from 1 to 65535.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL(field, f"must start with https:// (got {scheme or 'no scheme'}).")
    if allow_http is None:
        allow_http = conf.WEBHOOK_ALLOW_HTTP
    if scheme == "http" and not allow_http:
        raise UnsafeURL(field, "must use https://; plain http:// is not allowed here.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURL(field, "must not contain a user name or password (user:pass@).")
    if not parts.hostname:
        raise UnsafeURL(field, "has no host; use a full URL such as https://example.com/hook.")
    try:
        # The Host header and SNI must be ASCII; an internationalised name becomes punycode.
        host = parts.hostname if _is_literal(parts.hostname) else _idna(parts.hostname)
    except UnicodeError:
        raise UnsafeURL(field, f"host {parts.hostname} is not a valid host name.") from None
    return parts._replace(scheme=scheme), host


def _idna(hostname: str) -> str:
    return hostname.encode("idna").decode("ascii")


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _read_capped(response: requests.Response, *, deadline: float) -> str:
    # The receiver is untrusted: read at most 64 KiB, keep 2,000 characters, and stop at the
    # deadline (the read timeout is per read, so a receiver dripping a byte at a time would
    # otherwise hold the worker for as long as it liked). The status is already known.
    data = b""
    for chunk in response.iter_content(chunk_size=8192):
        data += chunk
        if len(data) >= MAX_RESPONSE_BYTES or time.monotonic() > deadline:
            break
    return data[:MAX_RESPONSE_BYTES].decode("utf-8", errors="replace")[:MAX_BODY_CHARS]


def _reason(e: Exception) -> str:
    # urllib3 buries the useful part ("Connection refused") deep inside a long repr.
    text = str(e)
    for marker in ("refused", "timed out", "reset by peer", "certificate verify failed"):
        if marker in text.lower():
            return marker if marker != "refused" else "connection refused"
    return text[:300]
