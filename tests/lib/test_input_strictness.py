"""Text the studio cannot keep, and numbers written in ways int() reads wrongly or not at all, are
refused with a 400 that names where they were (videos/textguard.py, videos/middleware.py,
studio/wsgi.py, the forms' WholeNumberField). test_fuzz_fields.py throws arbitrary input at
every endpoint; these are the cases that gave a 500 before, one by one, most over real HTTP."""

import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.test import Client

from studio.api import links as records
from studio.api import services as api_services
from studio.lib import textguard
from studio.wsgi import application
from tests.api.test_api import api_for, error_of
from tests.conftest import client_for
from tests.factories import make_video
from videos.models import ProviderAccount, Video

SURROGATE = "contains a lone UTF-16 surrogate (\\ud800)"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def token(cast, transactional_db, conf):
    conf.API_WRITE_RATE_LIMIT = conf.API_READ_RATE_LIMIT = 1000
    return api_services.api_token_create(user=cast.alice, team=cast.acme, name="http")[1]


def post_raw(url: str, token: str, path: str, body: bytes) -> requests.Response:
    """The body as bytes: requests' json= would refuse to encode a lone surrogate at all."""
    return requests.post(
        f"{url}/v1/minimax/{path}",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
    )


def session_for(user, url: str) -> requests.Session:
    """A browser's session for `user` against a live server."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    name = django_settings.SESSION_COOKIE_NAME
    session.cookies.set(name, client.cookies[name].value)
    return session


# JSON bodies (the API), over real HTTP


UNKEEPABLE_JSON = [
    ("videos/create", b'{"prompt": "\\ud800abc"}', f"prompt {SURROGATE} at character 1"),
    (
        "videos/create",
        b'{"prompt": "A kite", "replyRef": "run \\ud800"}',
        f"replyRef {SURROGATE} at character 5",
    ),
    (
        "videos/create",
        b'{"prompt": "A kite", "account": "\\ud800"}',
        f"account {SURROGATE} at character 1",
    ),
    ("videos/cancel", b'{"videoId": "\\ud800"}', f"videoId {SURROGATE} at character 1"),
    (
        "accounts/",
        b'{"name": "\\ud800", "apiKey": "k", "maxJobs": 1}',
        f"name {SURROGATE} at character 1",
    ),
    (
        "accounts/",
        b'{"name": "Key", "apiKey": "sk-\\ud800", "maxJobs": 1}',
        f"apiKey {SURROGATE} at character 4",
    ),
    (
        "videos/create",
        b'{"prompt": "A kite", "extra": {"tags": ["ok", "\\udfff"]}}',
        "extra.tags[1] contains a lone UTF-16 surrogate (\\udfff) at character 1",
    ),
    (
        "videos/create",
        b'{"prompt": "A kite", "\\ud800": 1}',
        'The field name "\\ud800" ' + SURROGATE + " at character 1",
    ),
    ("videos/create", b'{"prompt": "a\\u0000b"}', "prompt contains a NUL character"),
]


def test_unkeepable_text_in_a_json_field_is_a_400_naming_it_and_stores_nothing(
    cast, live_server, token
):
    for path, body, message in UNKEEPABLE_JSON:
        response = post_raw(live_server.url, token, path, body)
        assert response.status_code == 400, (body, response.content)
        answer = response.json()
        assert set(answer) == {"error", "code"} and answer["code"] == 400
        assert answer["error"].startswith(message), answer["error"]
    assert not Video.objects.exists()
    assert not ProviderAccount.objects.exclude(kind=ProviderAccount.Kind.LOCAL).exists()


def test_a_surrogate_pair_is_text_like_any_other(cast, live_server, token):
    response = post_raw(
        live_server.url, token, "videos/create", b'{"prompt": "A kite \\ud83e\\ude81"}'
    )
    assert response.status_code == 200
    assert Video.objects.get().prompt == "A kite \N{KITE}"


def test_a_nul_in_the_query_string_or_a_cookie_is_a_400_not_a_database_error(
    cast, live_server, token
):
    response = requests.get(
        f"{live_server.url}/v1/minimax/videos/?account=acme%00",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith('The query parameter "account" contains a NUL')
    # The session cookie is looked up in the database, where PostgreSQL refuses a NUL.
    response = requests.get(
        f"{live_server.url}/", headers={"Cookie": "sessionid=abcdefgh\x00ijk"}, timeout=30
    )
    assert response.status_code == 400
    assert "The Cookie header contains a NUL character" in response.text
    assert "Back to the gallery" in response.text  # the studio's error page, not Django's


def test_a_malformed_form_posted_to_an_unknown_address_is_a_404(cast, live_server):
    # Django's 404 page checks CSRF, which reads the form body: nothing had read it yet.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="'
        + b"x" * 20_000
        + b'"\r\n\r\nv\r\n--b--\r\n'
    )
    response = requests.post(
        f"{live_server.url}/no/such/page",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        timeout=30,
    )
    assert response.status_code == 404


def test_any_path_under_v1_answers_json_even_with_a_newline_or_a_post(cast, live_server):
    response = requests.get(f"{live_server.url}/v1/minimax/nothing%0Ahere", timeout=30)
    assert response.status_code == 404 and response.json()["code"] == 404
    response = requests.post(f"{live_server.url}/v1/openapi.json", timeout=30)
    assert response.json() == {"error": "Use GET on /v1/openapi.json.", "code": 405}


# The gallery's cursor


def test_a_gallery_link_with_a_broken_cursor_shows_the_newest_videos_and_says_so(
    cast, live_server, transactional_db
):
    make_video(cast.acme, cast.alice, prompt="The newest one")
    browser = session_for(cast.alice, live_server.url)
    for cursor in ("%C2%B2", "%E2%91%A0", "%D9%A1%D9%A2", "0", "9" * 30, "-3"):
        response = browser.get(f"{live_server.url}/?before={cursor}", timeout=30)
        assert response.status_code == 200 and response.url == f"{live_server.url}/", cursor
        assert "That page link is not valid (before=" in response.text
        assert "so here are the newest videos." in response.text
        assert "The newest one" in response.text


def test_infinite_scroll_with_a_broken_cursor_is_a_400(cast):
    response = client_for(cast.alice).get("/", {"before": "²"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert (
        response.content.decode()
        == "The page link is not valid (before='²': Enter a whole number)."
    )


def test_a_valid_cursor_pages_as_before(cast, conf):
    conf.GALLERY_PAGE_SIZE = 1
    older = make_video(cast.acme, cast.alice, prompt="Older")
    make_video(cast.acme, cast.alice, prompt="Newer")
    response = client_for(cast.alice).get("/", {"before": str(older.pk + 1)})
    assert response.status_code == 200 and b"Older" in response.content
    assert b"Newer" not in response.content


# Numbers in the API


@pytest.mark.parametrize(
    "limit, message",
    [
        ("\uff11", "limit must be a whole number, not '\uff11'"),  # int() reads it as 1
        ("\u0661", "limit must be a whole number, not '\u0661'"),
        ("²", "limit must be a whole number, not '²'"),
        ("9" * 5000, "limit Ensure this value is less than or equal to 100."),
        ("1.0", "limit must be a whole number, not '1.0'"),
    ],
)
def test_a_query_number_is_ascii_digits_within_bounds(cast, limit, message):
    assert error_of(api_for(cast.bob, cast.acme).get("videos/", limit=limit), 400) == message


def test_a_json_number_thousands_of_digits_long_is_a_400_that_says_so(cast):
    api = api_for(cast.bob, cast.acme)
    body = b'{"prompt": "A kite", "maxJobs": ' + b"9" * 5000 + b"}"
    response = api.post("videos/create", body, content_type="application/json")
    assert (
        error_of(response, 400) == "The body holds a number 5,000 digits long; no field takes one."
    )
    response = api.post(
        "videos/create", '{"prompt": "A kite", "maxJobs": NaN}', content_type="application/json"
    )
    assert error_of(response, 400) == "The body is not valid JSON: NaN is not a JSON number."
    assert not Video.objects.exists()


def test_a_composite_id_with_another_scripts_digits_is_not_an_id():
    assert records.parse_id("user:1-minimax:auto-video:12", "video") == 12
    assert records.parse_id("user:1-minimax:auto-video:\u0661\u0662", "video") is None


def test_a_content_length_that_is_not_ascii_digits_reads_as_none(cast):
    api = api_for(cast.bob, cast.acme)
    response = api.post(
        "videos/create",
        b'{"prompt": "A kite"}',
        content_type="application/json",
        CONTENT_LENGTH="²",
    )
    assert response.status_code == 400  # no body was read, so no prompt: not a 500


def test_a_range_of_thousands_of_digits_serves_the_whole_file(cast):
    video = make_video(cast.acme, cast.alice, status=Video.Status.COMPLETED)
    video.file.save("v.mp4", ContentFile(b"\x00" * 100))
    client = client_for(cast.alice)
    response = client.get(f"/videos/{video.pk}/video.mp4", HTTP_RANGE="bytes=" + "9" * 5000 + "-")
    assert response.status_code == 200 and len(b"".join(response.streaming_content)) == 100
    response = client.get(f"/videos/{video.pk}/video.mp4", HTTP_RANGE="bytes=10-19")
    assert response.status_code == 206


def test_a_team_id_past_64_bits_is_refused_quietly_or_not_found(cast):
    client = client_for(cast.bob)
    assert client.post("/team/switch", {"team": "9" * 30}).status_code == 302
    # A foreign-key lookup with it failed on SQLite; ids in paths stop at 18 digits.
    assert client.get(f"/settings/teams/{'9' * 19}/leave").status_code == 404
    assert client.get(f"/settings/teams/{'9' * 18}/leave").status_code == 404


# MiniMax's callbacks (JSON, no token)


def test_a_callback_with_unkeepable_text_or_deep_nesting_is_a_400(cast):
    make_video(cast.acme, cast.alice, callback_token="cb-token")
    client = Client()
    url = "/hooks/minimax/cb-token/"
    response = client.post(url, b'{"task_id": "\\ud800"}', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"task_id {SURROGATE}")
    response = client.post(url, b"[" * 100_000, content_type="application/json")
    assert response.json() == {"error": "Send a JSON object."}


def test_a_callback_task_id_longer_than_any_upstream_id_is_a_400(cast):
    # PostgreSQL refuses to store it (varchar(100)); SQLite would have kept it.
    make_video(cast.acme, cast.alice, status=Video.Status.SUBMITTING, callback_token="cb-token")
    response = Client().post(
        "/hooks/minimax/cb-token/", {"task_id": "x" * 101}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "task_id is longer than a MiniMax task id (100 characters)."
    }
    assert Video.objects.get().upstream_id == ""


# Charsets and headers


def test_a_charset_that_is_not_utf8_is_refused_naming_it(cast):
    api = api_for(cast.bob, cast.acme)
    response = api.client.get(
        "/v1/minimax/videos/",
        {"account": "\\ud800"},
        CONTENT_TYPE="text/plain; charset=unicode_escape",
    )
    assert (
        error_of(response, 400)
        == 'The Content-Type charset "unicode_escape" is not supported: send UTF-8.'
    )


def test_a_lone_surrogate_in_a_header_is_a_400_naming_the_header(cast):
    api = api_for(cast.bob, cast.acme)
    response = api.client.get("/v1/minimax/videos/", HTTP_AUTHORIZATION="Bearer \ud800")
    assert error_of(response, 400).startswith(f"The Authorization header {SURROGATE}")


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def studio_server():
    """studio.wsgi.application, the callable gunicorn serves, over real HTTP (the live server
    serves Django's handler without it). These requests never reach the database."""
    server = make_server("127.0.0.1", 0, application, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize(
    "content_type, message",
    [
        ("text/plain; charset=zlib", 'The Content-Type charset "zlib" is not supported'),
        (
            "text/plain; charset*=nope''x",
            "The Content-Type header \"text/plain; charset*=nope''x\"",
        ),
        ("text/plain; charset=rot13", 'The Content-Type charset "rot13" is not supported'),
    ],
)
def test_a_charset_django_fails_on_is_refused_before_django_reads_it(
    studio_server, content_type, message
):
    # Django decodes the query string with the charset while it builds the request, before any
    # middleware: without studio/wsgi.py these are 500s.
    headers = {"Content-Type": content_type}
    response = requests.get(
        f"{studio_server}/v1/minimax/videos/?limit=1", headers=headers, timeout=30
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith(message) and response.json()["code"] == 400
    response = requests.get(f"{studio_server}/?before=1", headers=headers, timeout=30)
    assert response.status_code == 400 and "Back to the gallery" in response.text
    assert requests.get(f"{studio_server}/v1/openapi.json", timeout=30).status_code == 200


# The checks themselves


def test_the_path_of_a_nested_field_is_named():
    assert textguard.json_problem({"a": [{"b": "ok"}, {"c": "x\x00"}]}) == (
        "a[1].c contains a NUL character (\\u0000) at character 2; remove it."
    )
    assert textguard.json_problem({"a": "fine", "b": [1, 2.5, None, True]}) is None


def test_a_body_nested_as_deep_as_json_allows_is_checked_without_recursion():
    deep: list = ["\ud800"]
    for _ in range(20_000):  # json.loads stops near 1,000; Python's recursion limit is 1,000
        deep = [deep]
    assert textguard.json_problem({"x": deep}).startswith("x[0][0]")
