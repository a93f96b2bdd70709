"""The /v1/ API against its own OpenAPI document (videos/openapi.py), with schemathesis.

Every operation of the document is fuzzed in-process (WSGI, no server, no network) as a team
admin, so the account endpoints are exercised too: no answer may be a 5xx, and every answer's
status code, content type and body must be what the document says.
"""

import re

import pytest
import schemathesis
from django.core import signals
from django.core.files.base import ContentFile
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.wsgi import HOST as WSGI_HOST
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from studio.api import services as api_services
from studio.api.api import openapi_document
from tests.factories import image_bytes, make_video
from videos import services
from videos.images import clean_image
from videos.models import ProviderAccount, Video

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def admin_token(cast) -> str:
    """A token of Acme's admin, so the accounts/ endpoints answer rather than 403."""
    _, raw = api_services.api_token_create(user=cast.alice, team=cast.acme, name="schemathesis")
    return raw


@pytest.fixture
def acme_videos(cast):
    """Something for the list and scheduler endpoints to show: a finished video with its MP4,
    poster and prompt image, one running and one queued (both tracked), and a stored image."""
    local = ProviderAccount.objects.get(team=cast.acme, kind=ProviderAccount.Kind.LOCAL)
    image = services.image_store(
        team=cast.acme,
        user=cast.alice,
        image=clean_image(ContentFile(image_bytes(), name="frame.png"), name="frame.png"),
        original_name="frame.png",
    )
    done = make_video(
        cast.acme,
        cast.alice,
        account=local,
        image=image,
        status=Video.Status.COMPLETED,
        percent=100,
        width=1280,
        height=720,
        duration=6.0,
        finished_at=timezone.now(),
    )
    done.file.save("done.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64))
    done.poster.save("done.jpg", ContentFile(image_bytes(fmt="JPEG")))
    make_video(
        cast.acme,
        cast.bob,
        account=local,
        status=Video.Status.PROCESSING,
        percent=40,
        submitted_at=timezone.now(),
        tracked=True,
        reply_url="https://example.com/hook",
        reply_ref="ref-1",
    )
    make_video(cast.acme, cast.alice, tracked=True)


@pytest.fixture
def api(db, settings, conf, admin_token, acme_videos, offline):
    """The app's state for a schemathesis case: the database, data and a token, no network."""
    # Hundreds of requests from one token: the rate limit would turn most answers into 429s.
    conf.API_WRITE_RATE_LIMIT = conf.API_READ_RATE_LIMIT = 1_000_000
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, WSGI_HOST]
    # The app runs inside the test's transaction (the `db` fixture). Django closes the
    # connection at the end of every request, which would end that transaction: the test
    # client detaches these handlers for the same reason.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Loaded when the module is collected: GET /v1/openapi.json needs neither the database nor a
# token. (schemathesis.pytest.from_fixture, the lazy loader, fails on pytest 9.2 with
# "'Function' object has no attribute '_nodeid'"; the cases below take the database and the
# token from fixtures anyway, so nothing is lost.)
schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", WSGIHandler())


@schema.parametrize()
@hypothesis_settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_openapi_document(case, api, admin_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)


def call(token: str | None, method: str, path: str, **case):
    """One request built from the document's operation, answered and checked like the fuzzed
    ones: for the answers random data rarely reaches (a real upload, a real videoId...)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return schema[path][method].Case(**case).call_and_validate(headers=headers, checks=CHECKS)


def link_token(url: str) -> dict:
    return {"token": url.rsplit("/", 1)[1]}


def test_every_success_answer_conforms(api, admin_token, cast, settings):
    png = image_bytes(800, 600)
    # Files: the raw body and a one-file form.
    raw = call(admin_token, "POST", "/v1/minimax/files/", body=png, media_type="image/png")
    assert raw.status_code == 200, raw.text
    form = call(
        admin_token,
        "POST",
        "/v1/minimax/files/",
        body={"file": image_bytes(640, 480, fmt="JPEG")},
        media_type="multipart/form-data",
    )
    assert form.status_code == 200, form.text
    file_id = raw.json()["fileID"]
    assert call(admin_token, "GET", "/v1/minimax/files/", query={"limit": 1}).status_code == 200

    # Videos: a JSON create and a form create, then every read of them.
    created = call(
        admin_token,
        "POST",
        "/v1/minimax/videos/create",
        body={
            "prompt": "A red robot walks through rain",
            "fileID": file_id,
            "replyUrl": "https://93.184.215.14/hook",
            "replyRef": "batch-7",
            "maxJobs": 2,
            "promptOptimization": False,
        },
        media_type="application/json",
    )
    assert created.status_code == 200, created.text
    video_id = created.json()["videoId"]
    form_created = call(
        admin_token,
        "POST",
        "/v1/minimax/videos/create",
        body={"prompt": "A quiet harbour at dawn", "promptOptimization": "false"},
        media_type="multipart/form-data",
    )
    assert form_created.status_code == 200, form_created.text
    got = call(
        admin_token, "GET", "/v1/minimax/videos/{videoId}", path_parameters={"videoId": video_id}
    )
    assert got.json()["queuePosition"] >= 1
    page = call(admin_token, "GET", "/v1/minimax/videos/", query={"limit": 2})
    assert page.json()["lastVideoId"] is not None
    call(
        admin_token, "GET", "/v1/minimax/videos/", query={"lastVideoId": page.json()["lastVideoId"]}
    )
    assert call(admin_token, "GET", "/v1/minimax/scheduler/").status_code == 200
    assert call(admin_token, "GET", "/v1/minimax/scheduler/available").status_code == 200
    untracked = call(
        admin_token,
        "DELETE",
        "/v1/minimax/scheduler/{videoId}",
        path_parameters={"videoId": video_id},
    )
    assert untracked.status_code == 200, untracked.text
    cancelled = call(
        admin_token,
        "POST",
        "/v1/minimax/videos/cancel",
        body={"videoId": video_id},
        media_type="application/json",
    )
    assert cancelled.json()["statusLabel"] == "cancelled"
    deleted = call(
        admin_token, "DELETE", "/v1/minimax/videos/{videoId}", path_parameters={"videoId": video_id}
    )
    assert deleted.status_code == 200, deleted.text
    gone = call(
        admin_token, "DELETE", "/v1/minimax/files/{fileID}", path_parameters={"fileID": file_id}
    )
    assert gone.status_code == 200, gone.text

    # The signed links: whole file, a range, a range past the end, and no such link.
    listed = call(admin_token, "GET", "/v1/minimax/videos/", query={"limit": 100}).json()
    finished = next(v for v in listed["videos"] if v["statusLabel"] == "completed")
    for key in ("videoURL", "downloadURL", "coverURL"):
        whole = call(
            None, "GET", "/v1/minimax/media/{token}", path_parameters=link_token(finished[key])
        )
        assert whole.status_code == 200, (key, whole.text)
    mp4 = link_token(finished["videoURL"])
    part = call(
        None,
        "GET",
        "/v1/minimax/media/{token}",
        path_parameters=mp4,
        headers={"Range": "bytes=0-9"},
    )
    assert part.status_code == 206
    past = call(
        None,
        "GET",
        "/v1/minimax/media/{token}",
        path_parameters=mp4,
        headers={"Range": "bytes=99999-"},
    )
    assert past.status_code == 416
    head = call(None, "HEAD", "/v1/minimax/media/{token}", path_parameters=mp4)
    assert head.status_code == 200
    origin = finished["originFiles"][0]["url"]
    assert (
        call(
            None, "GET", "/v1/minimax/media/{token}", path_parameters=link_token(origin)
        ).status_code
        == 200
    )

    # Accounts: an admin adds, reads, lists and deletes one.
    added = call(
        admin_token,
        "POST",
        "/v1/minimax/accounts/",
        body={"name": "Backup", "apiKey": "sk-test", "maxJobs": 2, "rpm": 5, "region": "cn"},
        media_type="application/json",
    )
    assert added.status_code == 201, added.text
    account = {"account": added.json()["account"]}
    assert (
        call(
            admin_token, "GET", "/v1/minimax/accounts/{account}", path_parameters=account
        ).status_code
        == 200
    )
    assert call(admin_token, "GET", "/v1/minimax/accounts/").status_code == 200
    assert (
        call(
            admin_token, "DELETE", "/v1/minimax/accounts/{account}", path_parameters=account
        ).status_code
        == 200
    )
    # A member reads them but may not change them.
    _, member_token = api_services.api_token_create(user=cast.bob, team=cast.acme, name="bob")
    assert call(member_token, "GET", "/v1/minimax/accounts/").status_code == 200
    local = {"account": str(ProviderAccount.objects.get(team=cast.acme, kind="local").pk)}
    assert (
        call(
            member_token, "GET", "/v1/minimax/accounts/{account}", path_parameters=local
        ).status_code
        == 200
    )
    assert (
        call(
            member_token, "DELETE", "/v1/minimax/accounts/{account}", path_parameters=local
        ).status_code
        == 403
    )
    assert call("st_not-a-token", "GET", "/v1/minimax/scheduler/").status_code == 401


def test_the_429s_conform(api, admin_token, cast, conf):
    # Queue mode: past the per-person limit, with the running videos in the way.
    conf.API_USER_QUEUE_LIMIT = 1
    body = {"prompt": "One more lighthouse"}
    full = call(
        admin_token, "POST", "/v1/minimax/videos/create", body=body, media_type="application/json"
    )
    assert full.status_code == 429, full.text
    assert "runningVideos" in full.json()
    # Strict mode: every slot of the local account busy.
    conf.API_USER_QUEUE_LIMIT = 50
    cast.acme.api_strict = True
    cast.acme.save(update_fields=["api_strict"])
    local = ProviderAccount.objects.get(team=cast.acme, kind=ProviderAccount.Kind.LOCAL)
    ProviderAccount.objects.filter(pk=local.pk).update(max_jobs=1)
    busy = call(
        admin_token, "POST", "/v1/minimax/videos/create", body=body, media_type="application/json"
    )
    assert busy.status_code == 429, busy.text
    assert busy.json()["runningVideos"]
    # The per-token rate limit, anywhere: here the reads budget.
    conf.API_READ_RATE_LIMIT = 1
    call(admin_token, "GET", "/v1/minimax/scheduler/")
    limited = call(admin_token, "GET", "/v1/minimax/scheduler/")
    assert limited.status_code == 429
    assert limited.headers["retry-after"]


# Inputs that once answered 500. Each must be a 4xx; until the code is fixed these fail.
EDGE_INPUTS = [
    ("GET", "/v1/minimax/videos/", {"query": {"limit": "--5"}}),
    ("GET", "/v1/minimax/videos/", {"query": {"limit": "\u00b2"}}),
    ("GET", "/v1/minimax/files/", {"query": {"limit": "\u00b2"}}),
    ("GET", "/v1/minimax/videos/", {"query": {"account": "\u00b2"}}),
    ("GET", "/v1/minimax/accounts/{account}", {"path_parameters": {"account": "\u00b2"}}),
    ("DELETE", "/v1/minimax/accounts/{account}", {"path_parameters": {"account": "\u00b2"}}),
    ("POST", "/v1/minimax/videos/create", {"body": {"prompt": "x", "maxJobs": "--5"}}),
    ("POST", "/v1/minimax/videos/create", {"body": {"prompt": "x", "maxJobs": "\u00b2"}}),
    ("POST", "/v1/minimax/videos/create", {"body": {"prompt": "x", "account": "\u00b2"}}),
    # PostgreSQL refuses NUL in text: an account reference must be checked before the query.
    ("GET", "/v1/minimax/videos/", {"query": {"account": "a\x00"}}),
    ("GET", "/v1/minimax/accounts/{account}", {"path_parameters": {"account": "a\x00"}}),
    ("POST", "/v1/minimax/videos/create", {"body": {"prompt": "x", "account": "a\x00"}}),
    (
        "POST",
        "/v1/minimax/accounts/",
        {"body": {"name": "n", "apiKey": "k", "maxJobs": 1, "rpm": "\u2460"}},
    ),
]


@pytest.mark.parametrize(("method", "path", "case"), EDGE_INPUTS)
def test_edge_inputs_are_client_errors(api, admin_token, method, path, case):
    if "body" in case:
        case = {**case, "media_type": "application/json"}
    answer = call(admin_token, method, path, **case)
    assert 400 <= answer.status_code < 500, answer.text


def _routes(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, prefix + str(entry.pattern)


def _v1_patterns():
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == "v1/":
            return entry.url_patterns
    raise AssertionError("No v1/ include in the root URLconf.")


def test_the_openapi_document_lists_every_route():
    paths = openapi_document(base="http://testserver")["paths"]
    routes = dict(_routes(_v1_patterns(), "/v1/"))
    assert routes, "no named routes under /v1/"
    for name, route in routes.items():
        # Django's <str:video_id> is the document's {videoId}: compare with parameters blanked.
        as_openapi = _blank_parameters(route)
        documented = {_blank_parameters(p) for p in paths}
        assert as_openapi in documented, f"{name} ({route}) is not in the OpenAPI document"


def _blank_parameters(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)
