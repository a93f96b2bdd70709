"""The SSRF guard for outgoing callbacks (a team's replyUrl).

A callback URL is typed by a user but fetched by our workers, which can reach the database, the
metadata service and everything else inside the network. So every URL is checked on save *and*
on every send (DNS answers change), and the send connects to the very address that was checked.
"""

import ipaddress
import socket
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 1024
MAX_RESPONSE_BYTES = 64 * 1024
MAX_BODY_CHARS = 2000
CONNECT_TIMEOUT_SECONDS = 5
USER_AGENT = "Studio-Webhooks/1"

# NAT64 translates to *any* IPv4 address, yet Python reports these as global; block the prefix.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Public IPv6 is global unicast only; everything outside it that Python still calls global
# (local-use NAT64 64:ff9b:1::/48, SIIT ::ffff:0:0:0/96, IPv4-compatible ::a.b.c.d, site-local
# fec0::/10) is refused.
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
# A whole send (connect, headers, the capped body) may take at most this long.
TOTAL_SECONDS = 30
# Named after the range rather than `is_private`, which misses CGNAT (100.64.0.0/10).
SHARED = ipaddress.ip_network("100.64.0.0/10")


class UnsafeURL(ValueError):
    """A URL we refuse to call; str() is shown to the user as is."""


class Unresolvable(UnsafeURL):
    """The host has no address now. Refused when a URL is given; at send time DNS may only be
    failing for a while, so a delivery tries again rather than giving up."""


@dataclass
class Answer:
    status: int
    body: str


class DeliveryFailed(Exception):
    """The receiver could not be reached or did not answer in time (no HTTP status)."""


def check_url(url: str, *, field: str = "replyUrl") -> None:
    resolve_checked(url, field=field)


def resolve_checked(url: str, *, field: str = "replyUrl") -> tuple[urllib.parse.SplitResult, str]:
    """The parsed URL and the first address of its host, once *every* address passed the guard."""
    parts, host = _parse(url, field=field)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Unresolvable(
            f"{field} host {host} cannot be resolved; check the spelling of the address."
        ) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Unresolvable(
            f"{field} host {host} cannot be resolved; check the spelling of the address."
        )
    for address in addresses:
        ip = ipaddress.ip_address(address)
        # Every address, not just the first: a client may fall back to any of them.
        if not _allowed(ip):
            where = f"points at {ip}" if _is_literal(host) else f"host {host} resolves to {ip}"
            raise UnsafeURL(
                f"{field} {where}, {_describe(ip)}; callbacks go only to public addresses."
            )
    return parts, addresses[0]


def post_json(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POSTs the exact bytes to a checked URL, connecting to the checked address.

    Never follows a redirect: a 3xx comes back as an Answer (its target was never checked).
    """
    parts, ip = resolve_checked(url)
    host = _parse(url, field="replyUrl")[1]  # ASCII: punycode for an internationalised name
    ip_netloc = f"[{ip}]" if ":" in ip else ip
    host_header = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        ip_netloc += f":{parts.port}"
        host_header += f":{parts.port}"
    # Connect to the validated IP, so a second DNS answer cannot rebind us to an internal one.
    pinned_url = urllib.parse.urlunsplit(parts._replace(netloc=ip_netloc, fragment=""))
    send_headers = {
        **headers,
        "Host": host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    with requests.Session() as session:
        # No proxies or ~/.netrc from the environment: a proxy would resolve the name again,
        # and netrc could hand our credentials to a user-chosen host.
        session.trust_env = False
        if parts.scheme == "https":
            session.mount("https://", _PinnedHostAdapter(host))
        try:
            with session.post(
                pinned_url,
                data=body,
                headers=send_headers,
                allow_redirects=False,
                timeout=(CONNECT_TIMEOUT_SECONDS, settings.WEBHOOK_TIMEOUT_SECONDS),
                stream=True,
            ) as response:
                return Answer(
                    status=response.status_code,
                    body=_read_capped(response, deadline=time.monotonic() + TOTAL_SECONDS),
                )
        except requests.exceptions.SSLError as e:
            raise DeliveryFailed(f"TLS handshake with {host} failed: {_reason(e)}") from e
        except requests.exceptions.ConnectTimeout as e:
            raise DeliveryFailed(
                f"{host} did not accept a connection within {CONNECT_TIMEOUT_SECONDS}s."
            ) from e
        except requests.exceptions.ReadTimeout as e:
            raise DeliveryFailed(
                f"{host} did not answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g}s."
            ) from e
        except requests.exceptions.ConnectionError as e:
            raise DeliveryFailed(f"Could not connect to {host}: {_reason(e)}") from e
        except requests.RequestException as e:
            raise DeliveryFailed(f"Delivery to {host} failed: {_reason(e)}") from e


class _PinnedHostAdapter(HTTPAdapter):
    """Keeps SNI and the certificate check on the real hostname while the URL holds the IP."""

    def __init__(self, hostname: str, **kwargs: Any) -> None:
        self.hostname = hostname
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **pool_kwargs: Any) -> None:
        pool_kwargs["server_hostname"] = self.hostname
        pool_kwargs["assert_hostname"] = self.hostname
        super().init_poolmanager(*args, **pool_kwargs)


def _parse(url: str, *, field: str) -> tuple[urllib.parse.SplitResult, str]:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"{field} is longer than {MAX_URL_LENGTH} characters; use a shorter URL.")
    # urlsplit silently drops tabs and newlines; refuse them instead of guessing what was meant.
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UnsafeURL(f"{field} contains spaces or control characters; remove them.")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise UnsafeURL(f"{field} is not a valid URL; check the host and port.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL(f"{field} must start with https:// (got {scheme or 'no scheme'}).")
    if scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise UnsafeURL(f"{field} must use https://; plain http:// is not allowed here.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeURL(
            f"{field} must not contain a user name or password (user:pass@); "
            "authenticate with the webhook signature instead."
        )
    if not parts.hostname:
        raise UnsafeURL(f"{field} has no host; use a full URL such as https://example.com/hook.")
    try:
        # The Host header and SNI must be ASCII; an internationalised name becomes punycode.
        host = parts.hostname if _is_literal(parts.hostname) else _idna(parts.hostname)
    except UnicodeError:
        raise UnsafeURL(f"{field} host {parts.hostname} is not a valid host name.") from None
    return parts._replace(scheme=scheme), host


def _idna(hostname: str) -> str:
    return hostname.encode("idna").decode("ascii")


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries, which is where the packets really go."""
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client)
    return found


def _allowed(ip: IPAddress) -> bool:
    networks = [ipaddress.ip_network(n, strict=False) for n in settings.WEBHOOK_ALLOWED_NETWORKS]
    # ::ffff:127.0.0.1 is 127.0.0.1 on the wire, so an allow-listed 127.0.0.0/8 admits it too.
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    if any(a in net for a in (ip, mapped) if a is not None for net in networks):
        return True
    if ip in NAT64 or (isinstance(ip, ipaddress.IPv6Address) and ip not in GLOBAL_UNICAST):
        return False
    # 224.0.0.1 is "global" to Python, so multicast needs its own check.
    return all(a.is_global and not a.is_multicast for a in [ip, *_embedded_ipv4(ip)])


def _describe(ip: IPAddress) -> str:
    """Why an address is refused, in words a user can act on."""
    if ip in NAT64:
        return "a NAT64 address (it can reach any IPv4 address)"
    embedded = _embedded_ipv4(ip)
    if embedded:
        inner = next((a for a in embedded if not (a.is_global and not a.is_multicast)), None)
        if inner is not None:
            return f"which carries the IPv4 address {inner}, {_describe(inner)}"
    if ip.is_loopback:
        kind = "a loopback"
    elif ip.is_unspecified:
        kind = "an unspecified"
    elif ip.is_multicast:
        kind = "a multicast"
    elif ip.is_link_local:
        kind = "a link-local (cloud metadata)"
    elif ip in SHARED:
        kind = "a carrier-grade NAT (shared)"
    elif ip.is_private:
        kind = "a private"
    elif ip.is_reserved:
        kind = "a reserved"
    else:
        kind = "a non-public"
    return f"{kind} address"


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
