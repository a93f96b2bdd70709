"""The outbound guard as the studio uses it: account base URLs when saved (form and API), Test
connection, the scheduler's calls, result downloads and their redirects, and replyUrl ports.

Every upstream here is a real HTTP server on a loopback address that counts the connections it
accepts, so "nothing was sent" is checked where it matters: on the listener. The internal
addresses that are not on this machine (10.0.0.1, 169.254.169.254, ...) are refused before any
packet leaves, which is the point; nothing here reaches the internet.
"""

import json
import runpy
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from studio.api import services as api_services
from tests.api.test_api import api_for
from tests.conftest import ROOT, client_for
from tests.factories import make_video
from tests.test_browser import _shot, _sign_in, browser  # noqa: F401 (browser: a fixture)
from videos import scheduler, services
from videos.models import ProviderAccount, Video
from videos.providers import AccountConfig, ProviderError
from videos.providers.minimax import MiniMaxProvider

KEY = "sk-outbound-3c1f0a9e"
LOOPBACK = ["127.0.0.0/8", "::1/128"]
REFUSED = (
    "points at an address the studio does not connect to (loopback, private, link-local or "
    "cloud-metadata networks); an operator can allow a network with OUTBOUND_ALLOWED_NETWORKS."
)
# Internal addresses and the allow-list each is refused under. Metadata stays refused although
# development's default opens loopback; loopback is refused once the list leaves it out.
INTERNAL = [
    ("http://169.254.169.254/latest/meta-data/", LOOPBACK),
    ("http://[fd00:ec2::254]/latest/meta-data/", LOOPBACK),
    ("http://168.63.129.16/machine", LOOPBACK),
    ("http://100.100.100.200/latest/meta-data/", LOOPBACK),
    ("http://10.0.0.1:8080", LOOPBACK),
    ("http://192.168.1.1", LOOPBACK),
    ("http://127.0.0.1:8765", []),
    ("http://[::1]:8765", []),
    ("http://[::ffff:127.0.0.1]:8765", []),
    ("http://localhost:8765", []),
    ("http://127.0.0.2:8765", ["127.0.0.1/32"]),
]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Listener:
    """An upstream on a loopback address. `routes` maps a path to (status, headers, body)."""

    server: ThreadingHTTPServer
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    # Counted as each connection is accepted, before a byte is read.
    connections: int = 0

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        host = self.server.server_address[0]
        return f"http://{host}:{self.port}"

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = (status, {"Location": location}, b"")


@pytest.fixture
def listen():
    started: list[Listener] = []

    def start(host: str = "127.0.0.1", port: int = 0) -> Listener:
        class Counting(ThreadingHTTPServer):
            def verify_request(self, request, client_address) -> bool:
                listener.connections += 1
                return True

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                listener.requests.append(Seen("GET", self.path, headers))
                route = self.path.split("?")[0]
                status, extra, body = listener.routes.get(route, (404, {}, b"{}"))
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        listener = Listener(Counting((host, port), Handler))
        threading.Thread(target=listener.server.serve_forever, daemon=True).start()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.server.shutdown()
        listener.server.server_close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.2 where nothing listens (bound, never listening, so it stays free)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.2", 0))
        yield sock.getsockname()[1]


def _form(**overrides) -> dict:
    data = {"kind": "minimax", "name": "Studio key", "secret": KEY, "max_jobs": "3", "rpm": "5"}
    data.update({"region": "global", "base_url": "", "default_model": ""})
    return {**data, **overrides}


def _field(body: str, name: str) -> str:
    for block in body.split('<div class="field')[1:]:
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name} on the page")


def _minimax(team, base_url: str, name: str = "Studio key") -> ProviderAccount:
    return services.account_create(
        team=team, kind="minimax", secret=KEY, name=name, max_jobs=1, base_url=base_url
    )


# Saving a base URL: the web form


def test_the_account_form_refuses_an_internal_base_url(cast, conf):
    client = client_for(cast.alice)
    for url, networks in INTERNAL:  # one cast for all: making users is the slow part
        conf.OUTBOUND_ALLOWED_NETWORKS = networks
        response = client.post(reverse("account_new"), _form(base_url=url))
        assert response.status_code == 400, url
        assert f"Base URL {REFUSED}" in _field(response.content.decode(), "base_url"), url
    assert not ProviderAccount.objects.filter(kind="minimax").exists()


def test_the_account_form_refuses_port_0(cast):
    response = client_for(cast.alice).post(
        reverse("account_new"), _form(base_url="http://127.0.0.1:0/v1")
    )
    assert response.status_code == 400
    block = _field(response.content.decode(), "base_url")
    assert "Base URL has an invalid port; use a port from 1 to 65535." in block
    assert not ProviderAccount.objects.filter(kind="minimax").exists()


def test_numeric_host_spellings_of_loopback_are_refused(cast, conf):
    conf.OUTBOUND_ALLOWED_NETWORKS = []
    for url in ("http://2130706433:8765", "http://0x7f.1:8765", "http://017700000001:8765"):
        response = client_for(cast.alice).post(reverse("account_new"), _form(base_url=url))
        assert response.status_code == 400 and "base_url" in response.context["form"].errors
        # The form's URL check stops these first; the service refuses them on its own too.
        with pytest.raises(services.ServiceError) as caught:
            _minimax(cast.acme, url)
        refusal = (caught.value.field, caught.value.message)
        assert refusal == ("base_url", f"Base URL {REFUSED}"), url
    assert not ProviderAccount.objects.filter(kind="minimax").exists()


def test_a_loopback_base_url_works_out_of_the_box_in_development(cast, conf, listen):
    # The bundled emulator runs on 127.0.0.1: development's default opens loopback.
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    upstream = listen()
    client_for(cast.alice).post(reverse("account_new"), _form(base_url=upstream.url))
    assert ProviderAccount.objects.get(kind="minimax").base_url == upstream.url


def test_editing_an_account_to_an_internal_base_url_keeps_the_old_one(cast, conf, listen):
    upstream = listen()
    account = _minimax(cast.acme, upstream.url)
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    data = _form(base_url="http://169.254.169.254/", secret="")
    del data["kind"]
    response = client_for(cast.alice).post(reverse("account_edit", args=[account.pk]), data)
    assert response.status_code == 400
    assert f"Base URL {REFUSED}" in _field(response.content.decode(), "base_url")
    account.refresh_from_db()
    assert account.base_url == upstream.url


# Saving a base URL: POST accounts/ over real HTTP


@pytest.fixture
def api_admin(cast, live_server):
    _, token = api_services.api_token_create(user=cast.alice, team=cast.acme, name="outbound")
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {token}"

    def post_account(**fields):
        body = {"name": "Over the API", "apiKey": KEY, "maxJobs": 1, **fields}
        return session.post(f"{live_server.url}/v1/minimax/accounts/", json=body, timeout=10)

    yield post_account
    session.close()


def test_the_api_refuses_an_internal_base_url(api_admin, conf):
    for url, networks in INTERNAL:
        conf.OUTBOUND_ALLOWED_NETWORKS = networks
        response = api_admin(baseUrl=url)
        assert response.status_code == 400, url
        assert response.json() == {"error": f"baseUrl {REFUSED}", "code": 400}, url
    assert not ProviderAccount.objects.filter(kind="minimax").exists()


def test_the_api_refuses_port_0_and_numeric_loopback(api_admin, conf):
    conf.OUTBOUND_ALLOWED_NETWORKS = []
    for url, message in [
        ("http://127.0.0.1:0", "baseUrl has an invalid port; use a port from 1 to 65535."),
        ("http://2130706433:8765", "baseUrl"),
        ("http://0x7f.1:8765", "baseUrl"),
    ]:
        response = api_admin(baseUrl=url)
        assert response.status_code == 400 and message in response.json()["error"], url
    assert not ProviderAccount.objects.filter(kind="minimax").exists()


def test_the_api_takes_an_allowed_base_url(api_admin, conf, listen):
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    upstream = listen()
    response = api_admin(baseUrl=upstream.url)
    assert response.status_code == 201, response.text
    assert response.json()["baseUrl"] == upstream.url
    assert upstream.connections == 0, "saving checks the address; it does not call it"


# Test connection


def _test_connection(user, account) -> str:
    response = client_for(user).post(
        reverse("account_test", args=[account.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    return response.content.decode()


def test_test_connection_to_a_refused_address_sends_nothing_and_says_the_same_open_or_closed(
    cast, conf, listen, closed_port
):
    open_upstream = listen("127.0.0.2")
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "10.0.0.0/8"]  # saved while allowed
    open_account = _minimax(cast.acme, open_upstream.url, name="Open port")
    closed_account = _minimax(cast.acme, f"http://127.0.0.2:{closed_port}", name="Closed port")
    far_account = _minimax(cast.acme, "http://10.0.0.1:8080", name="Private network")
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # the operator narrows the list

    results = [
        services.account_test(account=a) for a in (open_account, closed_account, far_account)
    ]

    assert {(r.ok, r.message) for r in results} == {(False, f"Base URL {REFUSED}")}
    assert open_upstream.connections == 0 and open_upstream.requests == []
    for account in (open_account, closed_account, far_account):
        account.refresh_from_db()
        assert account.last_error == f"Base URL {REFUSED}"
    body = _test_connection(cast.alice, open_account)
    assert "Connection failed." in body and f"Base URL {REFUSED}" in body
    assert open_upstream.connections == 0


def test_test_connection_to_metadata_is_refused_although_loopback_is_allowed(cast, conf):
    conf.OUTBOUND_ALLOWED_NETWORKS = [*LOOPBACK, "169.254.169.254/32"]
    account = _minimax(cast.acme, "http://169.254.169.254/latest/meta-data")
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    result = services.account_test(account=account)
    assert (result.ok, result.message) == (False, f"Base URL {REFUSED}")


def test_test_connection_to_an_allowed_address_still_says_what_happened(
    cast, conf, listen, closed_port
):
    conf.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    upstream = listen("127.0.0.2")
    upstream.routes["/v1/query/video_generation"] = (
        200,
        {"Content-Type": "application/json"},
        json.dumps({"status": "", "base_resp": {"status_code": 0}}).encode(),
    )
    reached = services.account_test(account=_minimax(cast.acme, upstream.url, name="Up"))
    closed = _minimax(cast.acme, f"http://127.0.0.2:{closed_port}", name="Down")
    refused = services.account_test(account=closed)
    assert reached.ok and upstream.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert not refused.ok and "the connection was refused" in refused.message


# The scheduler's calls


def test_a_video_on_an_account_whose_address_is_now_refused_disables_it_unsent(cast, conf, listen):
    upstream = listen("127.0.0.2")
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    account = _minimax(cast.acme, upstream.url)
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    video = make_video(cast.acme, cast.bob, prompt="A lighthouse at dusk")

    scheduler.videos_dispatch()
    scheduler._due(lambda fn, **kw: fn(**kw))

    account.refresh_from_db()
    video.refresh_from_db()
    assert not account.enabled and account.last_error == f"Base URL {REFUSED}"
    assert video.status == Video.Status.QUEUED and video.error == ""
    assert upstream.connections == 0


# Downloads


@pytest.fixture
def fetch(conf, listen, tmp_path):
    """Runs MiniMaxProvider.fetch against `api`, an upstream whose retrieve call hands out
    `link` as the download URL."""
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    api = listen()

    def run(link: str) -> Path:
        answer = {"file": {"download_url": link}, "base_resp": {"status_code": 0}}
        api.routes["/v1/files/retrieve"] = (200, {}, json.dumps(answer).encode())
        config = AccountConfig(
            name="Studio key", kind="minimax", credentials={"api_key": KEY}, base_url=api.url
        )
        return MiniMaxProvider(config).fetch("task-1", "file-1", workdir=tmp_path)

    run.api = api
    return run


def test_a_download_follows_an_allowed_redirect_and_keeps_the_key_at_home(fetch, listen):
    cdn = listen()
    cdn.routes["/clip.mp4"] = (200, {}, b"\x00\x00\x00\x18ftypmp42")
    fetch.api.redirect("/download", f"{cdn.url}/clip.mp4")

    path = fetch(f"{fetch.api.url}/download?sig=1")

    assert path.read_bytes() == b"\x00\x00\x00\x18ftypmp42"
    home = [s for s in fetch.api.requests if s.path.startswith("/download")]
    assert home[0].headers["authorization"] == f"Bearer {KEY}"
    # Another port is another origin: requests' own rule strips the key on the way there.
    assert [s.path for s in cdn.requests] == ["/clip.mp4"]
    assert "authorization" not in cdn.requests[0].headers


def test_a_download_link_on_another_host_never_gets_the_key(fetch, listen):
    cdn = listen()
    cdn.routes["/clip.mp4"] = (200, {}, b"video")
    fetch(f"{cdn.url}/clip.mp4")
    assert "authorization" not in cdn.requests[0].headers


def test_a_redirect_to_a_loopback_address_outside_the_list_is_refused_unsent(fetch, listen):
    internal = listen("127.0.0.2")
    internal.routes["/admin"] = (200, {}, b"secret")
    fetch.api.redirect("/download", f"{internal.url}/admin")

    with pytest.raises(ProviderError) as caught:
        fetch(f"{fetch.api.url}/download")

    assert str(caught.value) == (
        f"Downloading the result from MiniMax (Studio key) failed: "
        f"redirect 1 of the download link {REFUSED}"
    )
    assert internal.connections == 0 and internal.requests == []


@pytest.mark.parametrize(
    "link", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.2:{port}/clip.mp4"]
)
def test_a_download_link_at_a_refused_address_is_refused_unsent(fetch, listen, link):
    internal = listen("127.0.0.2")
    with pytest.raises(ProviderError) as caught:
        fetch(link.format(port=internal.port))
    assert str(caught.value).endswith(f"failed: the download link {REFUSED}")
    assert internal.connections == 0


def test_a_download_follows_five_redirects_but_not_six(fetch, listen):
    api = fetch.api
    api.routes["/clip.mp4"] = (200, {}, b"video")
    for hop in range(6):
        api.redirect(f"/hop{hop}", f"/hop{hop + 1}" if hop < 5 else "/clip.mp4")

    assert fetch(f"{api.url}/hop1").read_bytes() == b"video"  # 5 redirects

    api.requests.clear()
    with pytest.raises(ProviderError, match="the link redirected more than 5 times"):
        fetch(f"{api.url}/hop0")  # 6 redirects
    assert "/clip.mp4" not in [s.path for s in api.requests]


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("http://127.0.0.1:0/clip.mp4", "has an invalid port; use a port from 1 to 65535."),
        ("http://user:pw@127.0.0.1/clip.mp4", "must not contain a user name or password"),
        ("file:///etc/passwd", "must start with https:// (got file)."),
    ],
)
def test_a_redirect_of_a_form_the_studio_does_not_call_is_refused(fetch, location, problem):
    # urllib3 would quietly take port 0 for port 80.
    fetch.api.redirect("/download", location)
    with pytest.raises(ProviderError) as caught:
        fetch(f"{fetch.api.url}/download")
    assert f"failed: redirect 1 of the download link {problem}" in str(caught.value)


# replyUrl ports


def test_a_reply_url_with_an_invalid_port_is_refused(cast):
    bob = api_for(cast.bob, cast.acme)
    for port in ("0", "65536", "x"):
        response = bob.create(prompt="A kite", replyUrl=f"http://93.184.215.14:{port}/hook")
        assert response.status_code == 400, port
        error = response.json()["error"]
        assert error == "replyUrl has an invalid port; use a port from 1 to 65535.", port
    assert not Video.objects.exists()


# The setting


def _settings_with(monkeypatch, **env: str) -> dict:
    """studio/conf.py's knobs as a fresh process with this environment would read them."""
    for name in ("DJANGO_ENV", "OUTBOUND_ALLOWED_NETWORKS", "WEBHOOK_ALLOWED_NETWORKS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "studio" / "conf.py"))


def test_development_opens_loopback_and_production_nothing(monkeypatch):
    dev = _settings_with(monkeypatch)
    prod = _settings_with(monkeypatch, DJANGO_ENV="prod")
    assert dev["OUTBOUND_ALLOWED_NETWORKS"] == LOOPBACK
    assert prod["OUTBOUND_ALLOWED_NETWORKS"] == []
    assert (
        _settings_with(monkeypatch, OUTBOUND_ALLOWED_NETWORKS="")["OUTBOUND_ALLOWED_NETWORKS"] == []
    ), "set empty, development refuses loopback too"


def test_the_old_webhook_setting_is_merged_in(monkeypatch):
    merged = _settings_with(
        monkeypatch,
        DJANGO_ENV="prod",
        OUTBOUND_ALLOWED_NETWORKS="10.0.0.0/8",
        WEBHOOK_ALLOWED_NETWORKS="192.168.0.0/16, 10.0.0.0/8",
    )
    assert merged["OUTBOUND_ALLOWED_NETWORKS"] == ["10.0.0.0/8", "192.168.0.0/16"]


def test_a_malformed_network_stops_the_studio_naming_it(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match=r"OUTBOUND_ALLOWED_NETWORKS: '10\.0\.0/33'"):
        _settings_with(monkeypatch, OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8,10.0.0/33")


# In the browser


@pytest.mark.slow
def test_the_refusals_read_well_in_the_browser(
    cast,
    live_server,
    browser,  # noqa: F811
    conf,
    listen,
):
    upstream = listen("127.0.0.2")
    account = _minimax(cast.acme, upstream.url, name="Gateway")
    conf.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    for width in (1440, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        _sign_in(page, live_server, "alice")
        page.goto(f"{live_server.url}{reverse('account_new')}")
        page.fill("#id_name", f"Metadata {width}")
        page.fill("#id_secret", KEY)
        page.click("details.advanced summary")
        page.fill("#id_base_url", "http://169.254.169.254/latest/meta-data/")
        page.click("form.account-form button[type=submit]")
        assert page.text_content("#id_base_url_error") == f"Base URL {REFUSED}"
        _shot(page, f"outbound-account-form-{width}")

        page.goto(f"{live_server.url}{reverse('accounts')}")
        page.click(f"#account-{account.pk} button:has-text('Test connection')")
        result = page.locator(f"#test-{account.pk} .test-result")
        result.wait_for()
        assert f"Base URL {REFUSED}" in result.text_content()
        _shot(page, f"outbound-test-connection-{width}")
        page.close()
    assert upstream.connections == 0
    assert not ProviderAccount.objects.filter(name__startswith="Metadata").exists()
