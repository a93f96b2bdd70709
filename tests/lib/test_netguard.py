"""The outbound guard: which URLs we refuse, and that a connection goes only where we checked.

Nothing here reaches the internet: refused and accepted URLs are IP literals (or `localhost`),
which getaddrinfo answers without DNS, and every request goes to a server on loopback. The
providers' use of the guard (base URLs, Test connection, downloads) is in test_outbound.py.
"""

import datetime
import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from studio.lib import netguard
from studio.lib.netguard import Answer, DeliveryFailed, UnsafeURL, check_url, post_json

LOOPBACK = ["127.0.0.0/8", "::1/128"]
REFUSED_MESSAGE = (
    "replyUrl points at an address the studio does not connect to (loopback, private, "
    "link-local or cloud-metadata networks); an operator can allow a network with "
    "OUTBOUND_ALLOWED_NETWORKS."
)


@pytest.fixture(autouse=True)
def guard_settings(settings, conf):
    # As in production whatever the environment says; tests that need more set them.
    conf.OUTBOUND_ALLOWED_NETWORKS = []
    conf.WEBHOOK_ALLOW_HTTP = True
    conf.WEBHOOK_TIMEOUT_SECONDS = 5.0
    return settings


@dataclass
class Receiver:
    server: http.server.ThreadingHTTPServer
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    # Connections accepted, counted before a byte is read: "saw nothing" means none at all.
    connections: int = 0

    @property
    def port(self) -> int:
        return self.server.server_address[1]


@pytest.fixture
def receiver_factory() -> Iterator:
    started: list[Receiver] = []

    def start(host: str = "127.0.0.1", port: int = 0) -> Receiver:
        class Counting(http.server.ThreadingHTTPServer):
            def verify_request(self, request, client_address) -> bool:
                receiver.connections += 1
                return True

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, dict(self.headers), body))
                # Before the answer: the client may read it and assert before this thread runs on.
                receiver.arrived.set()
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        receiver = Receiver(Counting((host, port), Handler))
        threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def receiver(receiver_factory) -> Receiver:
    return receiver_factory()


REFUSED = [
    "http://127.0.0.1/hook",  # loopback
    "http://[::1]/hook",
    "http://0.0.0.0/hook",  # unspecified: Linux delivers it to this machine
    "http://[::]/hook",
    "http://10.1.2.3/hook",  # private
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",  # link-local, cloud metadata
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://100.100.100.200/latest/meta-data/",  # Alibaba's metadata, inside CGNAT
    "http://168.63.129.16/machine",  # Azure's WireServer: a public address
    "http://[fd00:ec2::254]/latest/meta-data/",  # AWS metadata over IPv6
    "http://192.0.0.192/",  # Oracle's, in a block some Pythons call global
    "http://224.0.0.1/hook",  # multicast
    "http://[::ffff:10.0.0.1]/hook",  # IPv4-mapped
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
    "http://[64:ff9b::a00:1]/hook",  # NAT64
    "http://[2002:a00:1::1]/hook",  # 6to4 around 10.0.0.1
    # Python calls these global; none is global unicast IPv6.
    "http://[64:ff9b:1::a9fe:a9fe]/hook",  # local-use NAT64 to 169.254.169.254
    "http://[::ffff:0:a00:1]/hook",  # SIIT around 10.0.0.1
    "http://[::127.0.0.1]/hook",  # IPv4-compatible
    "http://[fec0::1]/hook",  # site-local
    "http://2130706433/hook",  # decimal 127.0.0.1
    "http://0x7f.1/hook",  # hex/short 127.0.0.1
    "http://017700000001/hook",  # octal 127.0.0.1
    "http://localhost/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_it_refuses_an_internal_address_with_one_plain_message(url):
    with pytest.raises(netguard.Refused) as caught:
        check_url(url)
    assert str(caught.value) == REFUSED_MESSAGE


def test_the_message_does_not_say_what_a_name_resolves_to():
    # An admin probing internal names learns only that the studio will not go there.
    with pytest.raises(UnsafeURL) as caught:
        check_url("http://localhost:8000/hook")
    assert str(caught.value) == REFUSED_MESSAGE and "127.0.0.1" not in str(caught.value)


def test_it_uses_the_field_name_in_the_message():
    with pytest.raises(UnsafeURL, match=r"^Base URL points at an address the studio does not"):
        check_url("http://10.0.0.1/", field="Base URL")


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hook",
        "https://93.184.215.14:8443/hook?a=1",
        "https://[2606:4700::1111]/x",
    ],
)
def test_it_accepts_a_public_address(url):
    check_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.215.14/hook", "must start with https://"),
        ("file:///etc/passwd", "must start with https://"),
        ("93.184.215.14/hook", "must start with https://"),
        ("http:///hook", "has no host"),
        ("https://user:pass@93.184.215.14/hook", "user name or password"),
        ("https://user@93.184.215.14/hook", "user name or password"),
        ("https://93.184.215.14:99999/hook", "invalid port; use a port from 1 to 65535"),
        ("https://93.184.215.14:0/hook", "invalid port; use a port from 1 to 65535"),
        ("http://127.0.0.1:0/hook", "invalid port; use a port from 1 to 65535"),
        ("https://93.184.215.14:http/hook", "invalid port; use a port from 1 to 65535"),
        ("https://[::1/hook", "not a valid URL"),
        ("https://93.184.215.14/a\nb", "control characters"),
        ("https://93.184.215.14/" + "a" * 1024, "longer than 1024"),
    ],
)
def test_it_refuses_a_malformed_url(url, message):
    with pytest.raises(UnsafeURL, match=message):
        check_url(url)


def test_it_refuses_a_name_that_cannot_be_resolved():
    # Longer than DNS allows (253 characters), so the resolver fails without sending a query.
    too_long = ".".join(["a" * 63] * 5)
    with pytest.raises(UnsafeURL, match=f"host {too_long} cannot be resolved"):
        check_url(f"https://{too_long}/hook")


def test_it_refuses_http_when_only_https_is_allowed(conf):
    conf.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(UnsafeURL, match="must use https://"):
        check_url("http://93.184.215.14/hook")
    check_url("https://93.184.215.14/hook")


def test_the_allow_list_opens_a_local_network(conf):
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    check_url("http://127.0.0.1:8000/hook")
    check_url("http://[::ffff:127.0.0.1]:8000/hook")
    check_url("http://localhost:8000/hook")
    for url in ("http://10.0.0.1/hook", "http://[::1]/hook"):
        with pytest.raises(netguard.Refused):
            check_url(url)


def test_a_name_is_refused_when_any_of_its_addresses_is(conf, monkeypatch):
    # A client may fall back to any address of a name, so each must pass.
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    real = socket.getaddrinfo
    both = [*real("127.0.0.1", 80, type=socket.SOCK_STREAM), *real("127.0.0.2", 80)]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: both)
    with pytest.raises(netguard.Refused):
        check_url("http://two-addresses.test/hook")


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/", "http://[::ffff:169.254.169.254]/", "http://168.63.129.16/"]
)
def test_metadata_stays_refused_when_a_wider_network_is_allowed(conf, url):
    conf.OUTBOUND_ALLOWED_NETWORKS = [*LOOPBACK, "169.254.0.0/16", "168.63.0.0/16"]
    with pytest.raises(netguard.Refused):
        check_url(url)


def test_metadata_opens_only_when_listed_on_its_own(conf):
    conf.OUTBOUND_ALLOWED_NETWORKS = ["169.254.169.254/32", "fd00:ec2::254/128"]
    check_url("http://169.254.169.254/latest/meta-data/")
    check_url("http://[::ffff:169.254.169.254]/latest/meta-data/")
    check_url("http://[fd00:ec2::254]/latest/meta-data/")
    with pytest.raises(netguard.Refused):
        check_url("http://169.254.170.2/")  # ECS credentials: another address, not listed


def test_it_delivers_the_body_with_the_urls_host_header(conf, receiver):
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK

    answer = post_json(
        f"http://127.0.0.1:{receiver.port}/hook?team=1",
        body=b'{"id": 7}',
        headers={"webhook-id": "msg_1"},
    )

    assert answer == Answer(status=200, body="ok")
    assert receiver.arrived.is_set()
    [(path, headers, body)] = receiver.requests
    assert path == "/hook?team=1"
    assert body == b'{"id": 7}'
    assert headers["Host"] == f"127.0.0.1:{receiver.port}"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Studio-Webhooks/1"
    assert headers["webhook-id"] == "msg_1"


def test_it_connects_to_the_checked_address_but_keeps_the_host_name(conf, receiver):
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK

    # 2130706433 is 127.0.0.1 to getaddrinfo: the request goes to the IP, Host stays the name.
    answer = post_json(f"http://2130706433:{receiver.port}/hook", body=b"{}", headers={})

    assert answer.status == 200
    [(_, headers, _)] = receiver.requests
    assert headers["Host"] == f"2130706433:{receiver.port}"


def test_it_returns_a_redirect_without_following_it(conf, receiver_factory):
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    target = receiver_factory()
    redirecting = receiver_factory()
    redirecting.status = 302
    redirecting.headers = {"Location": f"http://127.0.0.1:{target.port}/elsewhere"}

    answer = post_json(f"http://127.0.0.1:{redirecting.port}/hook", body=b"{}", headers={})

    assert answer == Answer(status=302, body="ok")
    assert len(redirecting.requests) == 1
    # post_json is synchronous: had it followed the redirect, the target would have its request.
    assert target.requests == []


def test_it_caps_the_response_body(conf, receiver_factory):
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK

    class Chatty(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"\xff" + b"x" * 200_000)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Chatty)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = post_json(f"http://127.0.0.1:{server.server_address[1]}/", body=b"{}", headers={})
    finally:
        server.shutdown()
        server.server_close()

    assert answer.status == 500
    assert len(answer.body) == 2000
    assert answer.body.startswith("\ufffdxxx")


def test_a_receiver_that_is_down_gives_delivery_failed(conf):
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    # A bound socket that never listens: the port stays ours and every connect is refused.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        with pytest.raises(DeliveryFailed, match="connection refused"):
            post_json(f"http://127.0.0.1:{port}/hook", body=b"{}", headers={})


def test_it_refuses_to_post_to_a_local_receiver_without_the_allow_list(receiver):
    for host in ("127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]"):
        with pytest.raises(netguard.Refused) as caught:
            post_json(f"http://{host}:{receiver.port}/hook", body=b"{}", headers={})
        assert str(caught.value) == REFUSED_MESSAGE

    assert receiver.connections == 0 and receiver.requests == []


def test_a_post_connects_to_the_address_it_checked_not_to_a_second_dns_answer(
    conf, receiver_factory, monkeypatch
):
    """DNS rebinding: the name first resolves to the allowed receiver, afterwards to another
    address. The connection is made to the first answer, and the name is looked up once."""
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    allowed = receiver_factory()
    internal = receiver_factory("127.0.0.2", allowed.port)
    real, lookups = socket.getaddrinfo, []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        return real("127.0.0.1" if len(lookups) == 1 else "127.0.0.2", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    answer = post_json(f"http://rebind.test:{allowed.port}/hook", body=b"{}", headers={})

    assert answer.status == 200 and lookups == ["rebind.test"]
    assert len(allowed.requests) == 1 and allowed.requests[0][1]["Host"] == (
        f"rebind.test:{allowed.port}"
    )
    assert internal.connections == 0


def test_it_checks_the_certificate_of_an_https_receiver(conf, tmp_path):
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    cert, key = _self_signed_certificate(tmp_path, "127.0.0.1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    handshake_seen = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # never reached: the client refuses the certificate
            self.send_response(200)
            self.end_headers()

    class TLSServer(http.server.ThreadingHTTPServer):
        def get_request(self):
            sock, address = super().get_request()
            handshake_seen.set()
            return context.wrap_socket(sock, server_side=True), address

        def handle_error(self, request, client_address) -> None:
            pass  # the client aborting the handshake is the expected outcome

    server = TLSServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(DeliveryFailed, match="TLS"):
            post_json(f"https://127.0.0.1:{server.server_address[1]}/", body=b"{}", headers={})
    finally:
        server.shutdown()
        server.server_close()
    assert handshake_seen.is_set()


def test_https_keeps_the_host_name_for_sni_and_the_certificate_check(conf, tmp_path):
    """The socket goes to the checked address; TLS still names and verifies the host."""
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    cert, key = _self_signed_certificate(tmp_path, "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server_names, hosts = [], []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hosts.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    class TLSServer(http.server.ThreadingHTTPServer):
        def get_request(self):
            sock, address = super().get_request()
            return context.wrap_socket(sock, server_side=True), address

    server = TLSServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with netguard.session() as s:
            response = s.get(f"https://localhost:{port}/", verify=cert, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200 and response.text == "ok"
    assert server_names == ["localhost"] and hosts == [f"localhost:{port}"]


def test_a_session_refuses_a_proxy_it_would_not_check(conf, receiver):
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    with netguard.session() as s, pytest.raises(netguard.Refused, match="proxy"):
        s.get("http://93.184.215.14/", proxies={"http": f"http://127.0.0.1:{receiver.port}"})
    assert receiver.connections == 0


def _self_signed_certificate(directory, name: str) -> tuple[str, str]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    try:
        alt_name = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        alt_name = x509.DNSName(name)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt_name]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_an_internationalised_host_becomes_punycode_for_the_host_header(conf):
    # The Host header must be ASCII; a Unicode name would fail inside http.client instead.
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    from studio.lib.netguard import parse

    assert parse("https://пример.рф:8443/hook", field="replyUrl")[1] == "xn--e1afmkfd.xn--p1ai"
