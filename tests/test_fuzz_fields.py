"""Property: no input gives a 5xx, and a request that is refused stores nothing.

Every endpoint of the URLconfs gets hypothesis-generated requests (test_every_endpoint_is_fuzzed
keeps the list complete): a valid request of its own, with fields replaced by arbitrary Unicode
(lone surrogates and NUL included), very long text, numbers written every way ("²", "١٢", 5,000
digits, NaN), JSON values of the wrong type, unknown fields, odd charsets and headers. The
requests are raw bytes, as a client can send them (the test client would refuse to encode a lone
surrogate), handed to studio.wsgi.application, the callable gunicorn serves, in this process.

After each answer: it is not a 5xx; under /v1/ an error is the API's JSON error; a 4xx left
every table as it was; after an accepted request, the pages that show what it stored render.
Each example runs in a savepoint that is then rolled back. By default each endpoint gets 20
examples from a fixed seed (a few seconds per database); STUDIO_FUZZ_EXAMPLES=300 explores
further with a random one.
"""

import io
import json
import os
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import urlencode

import av
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signals
from django.core.files.base import ContentFile
from django.db import close_old_connections, transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from PIL import Image

from studio.api import links as records
from studio.api import services as api_services
from studio.api.models import ApiToken
from studio.teams import services as team_services
from studio.teams.models import Invite, Membership, Team
from studio.webhooks.models import WebhookDelivery
from studio.wsgi import application
from tests.factories import PASSWORD, image_bytes, make_video
from videos import services
from videos.images import clean_image
from videos.models import (
    Collection,
    CollectionItem,
    Favourite,
    GalleryPrefs,
    MemberQuota,
    PromptImage,
    ProviderAccount,
    Video,
    VideoPart,
)
from videos.providers.catalog import DURATIONS, MODELS, RESOLUTIONS
from videos.selectors_trash import trash_cursor

EXPLORE = os.environ.get("STUDIO_FUZZ_EXAMPLES")
PNG = image_bytes()  # one that the studio accepts
CSRF = "fuzzcsrf" * 4  # a well-formed secret; the same value in the cookie and the header
BOUNDARY = "fuzzboundary7MA4YWxkTrZu0gW"
CATCH_ALL = "studio.api.api.not_found"  # the JSON 404 for any other path under /v1/
STORED = (
    Video,
    ProviderAccount,
    ApiToken,
    Invite,
    PromptImage,
    Membership,
    Team,
    WebhookDelivery,
    Favourite,
    Collection,
    CollectionItem,
    GalleryPrefs,
    VideoPart,
    MemberQuota,
)


# What arrives: text of all of Unicode, and the shapes that broke parsers before.

BAD_CHARS = st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "\udbff\udbff"])
ANY_TEXT = st.text(st.characters(), max_size=30)  # st.characters() includes surrogates and NUL
NUMBERS = st.one_of(
    st.integers(-(10**25), 10**25).map(str),
    st.sampled_from(
        ["²", "①", "\u0661\u0662", "\uff11", " 7 ", "1.0", "1e3", "0x10", "NaN", "-0", "9" * 19]
    ),
    st.just("9" * 5000),
)
# Just past the lengths columns and fields stop at (PostgreSQL refuses what SQLite keeps).
LONG = st.tuples(
    st.sampled_from("x\x00é😀\ud800"), st.sampled_from([41, 101, 201, 256, 1025, 5000, 70000])
).map(lambda pair: pair[0] * pair[1])
TEXT = st.one_of(ANY_TEXT, st.tuples(ANY_TEXT, BAD_CHARS, ANY_TEXT).map("".join), NUMBERS, LONG)
LATIN1 = st.text(st.characters(max_codepoint=255), max_size=40)  # what a header can carry


class Raw(str):
    """JSON text put into a body as it is: a number json.dumps cannot write (5,000 digits) or
    nesting deeper than it would go."""


JSON_SCALARS = st.one_of(
    TEXT,
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.sampled_from([Raw("9" * 5000), Raw("[" * 5000 + "]" * 5000), Raw("1e999999")]),
)
JSON_VALUES = st.one_of(
    TEXT,  # most fields take text: try it more often than the other types
    JSON_SCALARS,
    st.lists(JSON_SCALARS, max_size=3),
    st.dictionaries(ANY_TEXT, JSON_SCALARS, max_size=3),
)
CHARSETS = st.sampled_from(
    [
        "; charset=utf-8",
        "; charset=UTF8",
        "; charset=iso-8859-1",
        "; charset=unicode_escape",
        "; charset=utf-7",
        "; charset=utf-16",
        "; charset=zlib",
        "; charset=no-such-codec",
        "; charset*=zlib''%41",
        "; charset*=nope''x",
    ]
)


# The endpoints: what each takes, who calls it, and a valid request to start from.


@dataclass
class Target:
    methods: tuple[str, ...]  # the first is the valid request's
    body: str  # "none" | "query" | "form" | "multipart" | "json" | "image"
    who: str  # a session of "alice" (Acme's admin), "bob", "resetter"; "anonymous"; "token";
    # "metrics" (a Prometheus scraper with METRICS_TOKEN)
    valid: Callable[[SimpleNamespace], dict] = lambda w: {}
    path: Callable[[SimpleNamespace], dict] = lambda w: {}
    files: tuple[str, ...] = ()
    shows: tuple[str, ...] = ()  # the pages that show what an accepted request stored


def _account_form(w) -> dict:
    return {
        "kind": "minimax",
        "name": "Fuzzed key",
        "secret": "sk-fuzz",
        "upstream_account": "",
        "max_jobs": "2",
        "rpm": "5",
        "region": "global",
        "base_url": "",
        "default_model": "",
        "price_per_video": "0.25",
        "price_per_second": "",
    }


def _api_account(w) -> dict:
    return {
        "kind": "minimax",
        "name": "Fuzzed",
        "apiKey": "sk-fuzz",
        "token": "",
        "account": "",
        "maxJobs": 1,
        "rpm": 5,
        "region": "global",
        "baseUrl": "",
        "defaultModel": next(iter(MODELS)),
    }


def _api_create(w) -> dict:
    return {
        "prompt": "A kite over dunes",
        "promptOptimization": True,
        "account": str(w.local_account),
        "fileID": w.file_id,
        "end_frame_fileID": "",
        "replyUrl": "",
        "replyRef": "ref",
        "model": "",
        "options": "",
        "maxJobs": 1,
    }


NEW_PASSWORD = "a fresh Passw0rd!"


def _new_passwords(w) -> dict:
    return {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}


TARGETS: dict[str, Target] = {
    # Sign-in and passwords (studio/urls.py)
    "login": Target(
        ("POST", "GET"), "form", "anonymous", lambda w: {"username": "bob", "password": PASSWORD}
    ),
    "logout": Target(("POST",), "form", "alice", lambda w: {"next": "/"}),
    "password_change": Target(
        ("POST", "GET"), "form", "alice", lambda w: {"old_password": PASSWORD, **_new_passwords(w)}
    ),
    "password_change_done": Target(("GET",), "none", "alice"),
    "password_reset": Target(
        ("POST", "GET"), "form", "anonymous", lambda w: {"email": "alice@example.com"}
    ),
    "password_reset_done": Target(("GET",), "none", "anonymous"),
    # The form behind a reset link: Django moves the link's token into the session first.
    "password_reset_confirm": Target(
        ("POST", "GET"),
        "form",
        "resetter",
        _new_passwords,
        lambda w: {"uidb64": w.reset_uid, "token": "set-password"},
    ),
    "password_reset_complete": Target(("GET",), "none", "anonymous"),
    # The REST API (videos/api_urls.py)
    "api_openapi": Target(("GET",), "query", "anonymous"),
    "api_video_create": Target(
        ("POST",), "json", "token", _api_create, shows=("gallery", "api_videos")
    ),
    "api_video_cancel": Target(("POST",), "json", "token", lambda w: {"videoId": w.api_queued}),
    "api_videos": Target(
        ("GET",),
        "query",
        "token",
        lambda w: {"limit": "5", "lastVideoId": w.api_done, "account": str(w.local_account)},
    ),
    "api_video": Target(
        ("GET", "DELETE"), "none", "token", path=lambda w: {"video_id": w.api_done}
    ),
    "api_files": Target(
        ("POST", "GET"),
        "image",
        "token",
        lambda w: {"limit": "5", "lastFileID": w.file_id},
        shows=("api_files",),
    ),
    "api_file": Target(("DELETE",), "none", "token", path=lambda w: {"file_id": w.file_id}),
    "api_accounts": Target(
        ("POST", "GET"), "json", "token", _api_account, shows=("accounts", "api_accounts")
    ),
    "api_account": Target(
        ("GET", "DELETE"), "none", "token", path=lambda w: {"account": str(w.minimax_account)}
    ),
    "api_available": Target(("GET",), "query", "token"),
    "api_scheduler": Target(("GET",), "query", "token"),
    "api_scheduler_delete": Target(
        ("DELETE",), "none", "token", path=lambda w: {"video_id": w.api_queued}
    ),
    "api_media": Target(("GET",), "none", "anonymous", path=lambda w: {"token": w.media_token}),
    CATCH_ALL: Target(("GET", "POST"), "json", "token", path=lambda w: {"rest": "minimax/x"}),
    # The studio's pages (videos/urls.py)
    "gallery": Target(("GET",), "query", "alice", lambda w: {"before": str(w.done_video)}),
    "video_create": Target(
        ("POST",),
        "multipart",
        "alice",
        lambda w: {
            "prompt": "A lighthouse at dusk",
            "prompt_optimization": "on",
            "model": "",
            "resolution": "",
            "duration": "",
        },
        files=("image", "last_image", "subject_image"),
        shows=("gallery",),
    ),
    "gallery_density": Target(
        ("POST",), "form", "alice", lambda w: {"density": "compact", "next": "/?q=kite"}
    ),
    "videos_poll": Target(("GET",), "query", "alice", lambda w: {"cards": f"{w.queued}-"}),
    "video_card": Target(("GET",), "none", "alice", path=lambda w: {"video_id": w.done_video}),
    "video_detail": Target(("GET",), "none", "alice", path=lambda w: {"video_id": w.done_video}),
    "video_reuse": Target(("GET",), "none", "alice", path=lambda w: {"video_id": w.done_video}),
    "video_retry": Target(
        ("POST",), "form", "alice", path=lambda w: {"video_id": w.failed}, shows=("gallery",)
    ),
    "video_continue": Target(("POST",), "form", "alice", path=lambda w: {"video_id": w.clip}),
    "video_favourite": Target(
        ("POST",),
        "form",
        "alice",
        lambda w: {"next": "/"},
        lambda w: {"video_id": w.done_video},
        shows=("gallery",),
    ),
    "video_collections": Target(
        ("POST",),
        "form",
        "alice",
        lambda w: {"collection": str(w.collection), "action": "add", "next": ""},
        lambda w: {"video_id": w.done_video},
        shows=("collections",),
    ),
    "video_cancel": Target(("POST",), "form", "alice", path=lambda w: {"video_id": w.queued}),
    "video_delete": Target(
        ("POST",), "form", "alice", path=lambda w: {"video_id": w.done_video}, shows=("trash",)
    ),
    "video_restore": Target(
        ("POST",),
        "form",
        "alice",
        lambda w: {"back": "trash"},
        lambda w: {"video_id": w.trashed},
        shows=("gallery", "trash"),
    ),
    "trash": Target(("GET",), "query", "alice"),
    "trash_delete": Target(
        ("POST",), "form", "alice", path=lambda w: {"video_id": w.trashed}, shows=("trash",)
    ),
    "trash_empty": Target(("POST",), "form", "alice", shows=("trash",)),
    "videos_bulk": Target(
        ("POST",),
        "form",
        "alice",
        lambda w: {
            "action": "add",
            "ids": str(w.done_video),
            "order": str(w.done_video),
            "collection": str(w.collection),
        },
        shows=("gallery", "collections"),
    ),
    "collections": Target(
        ("POST", "GET"), "form", "alice", lambda w: {"name": "Spring"}, shows=("collections",)
    ),
    "collection_rename": Target(
        ("POST",),
        "form",
        "alice",
        lambda w: {"name": "Autumn"},
        lambda w: {"collection_id": w.collection},
        shows=("collections",),
    ),
    "collection_delete": Target(
        ("POST",),
        "form",
        "alice",
        path=lambda w: {"collection_id": w.collection},
        shows=("collections",),
    ),
    "video_mp4": Target(
        ("GET",),
        "query",
        "alice",
        lambda w: {"download": "1"},
        lambda w: {"video_id": w.done_video},
    ),
    "video_poster": Target(("GET",), "query", "alice", path=lambda w: {"video_id": w.done_video}),
    "image_file": Target(("GET",), "none", "alice", path=lambda w: {"image_id": w.image}),
    "team": Target(("GET",), "none", "alice"),
    "team_switch": Target(("POST",), "form", "alice", lambda w: {"team": str(w.acme)}),
    "team_rename": Target(
        ("POST",), "form", "alice", lambda w: {"name": "Night shift"}, shows=("team",)
    ),
    "invite_create": Target(
        ("POST",), "form", "alice", lambda w: {"label": "Dana", "role": "member"}, shows=("team",)
    ),
    "invite_revoke": Target(("POST",), "form", "alice", path=lambda w: {"invite_id": w.invite}),
    "member_role": Target(
        ("POST",), "form", "alice", lambda w: {"role": "admin"}, lambda w: {"membership_id": w.bob}
    ),
    "member_remove": Target(("POST",), "form", "alice", path=lambda w: {"membership_id": w.bob}),
    "usage": Target(
        ("GET",),
        "query",
        "alice",
        lambda w: {"period": "week", "from": "2026-10-01", "to": "2026-11-30", "member": ""},
    ),
    "usage_quota": Target(
        ("POST",),
        "form",
        "alice",
        lambda w: {"videos_per_day": "3", "videos_per_month": "", "cost_per_month": "9.50"},
        lambda w: {"membership_id": w.bob},
        shows=("usage",),
    ),
    "accounts": Target(("GET",), "none", "alice"),
    "metrics": Target(("GET",), "query", "metrics"),
    "account_new": Target(("POST", "GET"), "form", "alice", _account_form, shows=("accounts",)),
    "account_edit": Target(
        ("POST", "GET"),
        "form",
        "alice",
        lambda w: {k: v for k, v in _account_form(w).items() if k != "kind"},
        lambda w: {"account_id": w.minimax_account},
        shows=("accounts",),
    ),
    "account_toggle": Target(
        ("POST",), "form", "alice", path=lambda w: {"account_id": w.minimax_account}
    ),
    "account_resume": Target(
        ("POST",), "form", "alice", path=lambda w: {"account_id": w.minimax_account}
    ),
    "account_delete": Target(
        ("POST",), "form", "alice", path=lambda w: {"account_id": w.minimax_account}
    ),
    "account_test": Target(
        ("POST",), "form", "alice", path=lambda w: {"account_id": w.local_account}
    ),
    "webhooks": Target(("GET",), "none", "alice"),
    "team_api_settings": Target(
        ("POST",),
        "form",
        "alice",
        lambda w: {
            "api_strict": "",
            "webhook_progress": "on",
            "default_reply_url": "",
            "user_queue_limit": "100",
            "team_queue_limit": "",
        },
        shows=("webhooks",),
    ),
    "webhook_rotate": Target(("POST",), "form", "alice"),
    "webhook_redeliver": Target(
        ("POST",), "form", "alice", path=lambda w: {"delivery_id": w.delivery}
    ),
    "profile": Target(
        ("POST", "GET"), "form", "alice", lambda w: {"email": "a@example.com"}, shows=("profile",)
    ),
    "team_leave": Target(("POST", "GET"), "form", "bob", path=lambda w: {"team_id": w.acme}),
    "api_tokens": Target(("GET",), "none", "alice"),
    "api_token_create": Target(
        ("POST",), "form", "alice", lambda w: {"name": "Script"}, shows=("api_tokens",)
    ),
    "api_token_revoke": Target(("POST",), "form", "alice", path=lambda w: {"token_id": w.token2}),
    "join": Target(
        ("POST", "GET"),
        "form",
        "anonymous",
        lambda w: {"username": "dana", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        lambda w: {"token": w.invite_token},
        shows=("team",),
    ),
    "minimax_callback": Target(
        ("POST",),
        "json",
        "anonymous",
        lambda w: {"task_id": "task-1", "status": "success", "base_resp": {"status_code": 0}},
        lambda w: {"token": w.callback_token},
        shows=("gallery", "api_videos"),
    ),
}
# Django's admin is Django's own code, open to superusers only.
NOT_FUZZED = {"admin/"}
METRICS_TOKEN = "fuzz-scraper-token"

# Values worth trying besides arbitrary ones, so that requests also get past the first check.
HINTS = {
    "kind": ["minimax", "useapi", "local", "MINIMAX"],
    "role": ["admin", "member", "owner"],
    "region": ["global", "cn", "mars"],
    "model": [*MODELS, "T2V-2.3", "02", "I2V-01"],
    "default_model": list(MODELS),
    "defaultModel": list(MODELS),
    "resolution": list(RESOLUTIONS),
    "duration": [str(d) for d in DURATIONS],
    "options": ["768p-6sec", "1080p-10sec", "768p-99sec"],
    "url": [
        "http://203.0.113.9/hook",
        "https://[2001:db8::1]:0/",
        "http://127.0.0.1:9/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1:8080",
        "ftp://203.0.113.9/",
        "http://name.invalid/",
    ],
    "number": ["1", "2", "10", "11", "0", "-1", "1000", "100001"],
    "action": ["add", "remove", "delete", "zip", "join", "ADD"],
    "density": ["compact", "comfortable", "cozy"],
    "back": ["gallery", "trash", "accounts"],
    "status": ["completed", "failed", "running", "queued", "nope"],
    "period": ["day", "week", "month", "year"],
    "format": ["csv", "json"],
    "sort": ["newest", "oldest", "random"],
}
URL_FIELDS = {"base_url", "baseUrl", "replyUrl", "default_reply_url", "next"}
NUMBER_FIELDS = {"max_jobs", "maxJobs", "rpm", "limit", "user_queue_limit", "team_queue_limit"}
NUMBER_FIELDS |= {"price_per_video", "price_per_second", "videos_per_day", "videos_per_month"}
NUMBER_FIELDS |= {"cost_per_month"}


def hints_for(name: str, world: SimpleNamespace) -> list:
    if name in URL_FIELDS:
        return HINTS["url"]
    if name in NUMBER_FIELDS:
        return HINTS["number"]
    if name in ("fileID", "end_frame_fileID", "lastFileID"):
        return [world.file_id, world.other_file_id, "user:1-minimax:auto-file:\u0661"]
    if name in ("videoId", "lastVideoId"):
        return [world.api_done, world.api_queued, world.other_video_id]
    if name == "account":
        return [str(world.local_account), str(world.other_account), "Local renderer"]
    if name == "team":
        return [str(world.acme), str(world.other_team)]
    if name == "collection":
        return [str(world.collection), str(world.other_collection)]
    if name in ("ids", "order"):
        videos = (world.done_video, world.queued, world.trashed, world.failed, world.other_video)
        return [str(v) for v in videos] + [",".join(str(v) for v in videos)]
    if name == "cards":
        return [f"{world.queued}-", f"{world.queued}-abc,{world.other_video}-", "1-zz"]
    if name == "before":
        return [str(world.done_video), world.trash_cursor, "0-0"]
    return HINTS.get(name, [])


# Building the bytes.


def enc(text: str) -> bytes:
    """Text as a client would put it on the wire; a lone surrogate goes as its three bytes."""
    return text.encode("utf-8", "surrogatepass")


def form_bytes(fields: dict) -> bytes:
    return urlencode(
        [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in fields.items()],
        encoding="utf-8",
        errors="surrogatepass",
    ).encode()


def multipart_bytes(fields: dict, files: dict[str, tuple[str, bytes, str]]) -> bytes:
    parts = []
    for name, value in fields.items():
        value = value if isinstance(value, str) else json.dumps(value)
        parts.append(
            b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (BOUNDARY.encode(), enc(name), enc(value))
        )
    for name, (filename, content, content_type) in files.items():
        parts.append(
            b'--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
            b"Content-Type: %s\r\n\r\n%s\r\n"
            % (BOUNDARY.encode(), enc(name), enc(filename), enc(content_type), content)
        )
    return b"".join(parts) + b"--%s--\r\n" % BOUNDARY.encode()


def json_bytes(value) -> bytes:
    """JSON as the API's clients send it, ASCII with \\u escapes: "\\ud800" is how a lone
    surrogate reaches a JSON parser. Raw pieces go in unquoted."""
    raws: list[str] = []

    def mark(item):
        if isinstance(item, Raw):
            raws.append(str(item))
            return f"\ue000{len(raws) - 1}\ue000"
        if isinstance(item, dict):
            return {k: mark(v) for k, v in item.items()}
        if isinstance(item, list):
            return [mark(v) for v in item]
        return item

    text = json.dumps(mark(value))
    return re.sub(r'"\\ue000(\d+)\\ue000"', lambda m: raws[int(m[1])], text).encode()


@dataclass
class Request:
    method: str
    path: str  # the decoded path, as text
    query: bytes = b""
    body: bytes = b""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def environ(self) -> dict:
        env = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": "",
            # A server hands the percent-decoded path over as bytes read as latin-1 (PEP 3333).
            "PATH_INFO": enc(self.path).decode("latin-1"),
            "QUERY_STRING": self.query.decode("latin-1"),
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "testserver",
            "CONTENT_LENGTH": str(len(self.body)),
            "CONTENT_TYPE": self.content_type,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(self.body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            env["HTTP_" + name.upper().replace("-", "_")] = value
        return env

    def __repr__(self) -> str:
        headers = {
            k: v if len(v) < 100 else f"{v[:100]}… ({len(v):,})" for k, v in self.headers.items()
        }
        return (
            f"{self.method} {self.path[:300]!r}?{self.query[:300]!r} {self.content_type!r} "
            f"headers={headers!r} body={self.body[:600]!r}"
        )


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    tracebacks: list[str]


def call(request: Request) -> Answer:
    """One request through studio.wsgi.application; a traceback Django caught is kept. It runs
    inside the test's transaction, so Django must not close the connection when it ends: the
    test client detaches the same handlers around its requests."""
    tracebacks: list[str] = []
    started: list = []

    def record(sender, request=None, **kwargs):
        tracebacks.append(traceback.format_exc())

    def start_response(status, headers, exc_info=None):
        started.append((int(status.split()[0]), headers))

    signals.got_request_exception.connect(record)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        result = application(request.environ(), start_response)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
    finally:
        signals.got_request_exception.disconnect(record)
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    status, headers = started[0]
    return Answer(status, headers, body, tracebacks)


# The world each endpoint is fuzzed in.


@pytest.fixture(autouse=True, scope="module")
def hypothesis_home(tmp_path_factory):
    """Hypothesis caches Unicode tables under .hypothesis/ in the working directory; here they go
    to a temporary directory, so the checkout stays clean (examples are not saved at all)."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hashing the cast's passwords at full strength would cost more than the fuzzing. Autouse,
    so that it is in place before the cast is made."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(cast, settings, conf, offline):
    conf.API_WRITE_RATE_LIMIT = conf.API_READ_RATE_LIMIT = 1_000_000
    conf.API_USER_QUEUE_LIMIT = conf.API_TEAM_QUEUE_LIMIT = 1_000_000
    settings.AXES_FAILURE_LIMIT = 1_000_000
    settings.METRICS_TOKEN = METRICS_TOKEN
    return _populate(cast)


def _clip_bytes(width: int, height: int) -> bytes:
    """A real two-frame H.264 MP4, so that Continue can decode a last frame."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=2)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for shade in (40, 200):
            image = Image.new("RGB", (width, height), (shade, 120, 60))
            container.mux(stream.encode(av.VideoFrame.from_image(image)))
        container.mux(stream.encode())
    return out.getvalue()


def _populate(cast) -> SimpleNamespace:
    acme, other = cast.acme, cast.other
    for user in (cast.alice, cast.bob, cast.charlie):
        user.email = f"{user.username}@example.com"
        user.save()
    local = ProviderAccount.objects.get(team=acme, kind=ProviderAccount.Kind.LOCAL)
    minimax = services.account_create(
        team=acme, kind="minimax", secret="sk-test", name="Key", max_jobs=2, rpm=5
    )
    clean = clean_image(io.BytesIO(PNG), name="f.png", content_type="image/png")
    image = services.image_store(team=acme, user=cast.alice, image=clean, original_name="f.png")
    other_image = services.image_store(team=other, user=cast.charlie, image=clean)
    done = make_video(acme, cast.alice, status=Video.Status.COMPLETED)
    done.file.save("v.mp4", ContentFile(b"\x00" * 4096))
    done.poster.save("p.jpg", ContentFile(image_bytes(16, 16, "JPEG")))
    queued = make_video(acme, cast.alice, tracked=True)
    waiting = make_video(
        acme, cast.alice, status=Video.Status.SUBMITTING, account=minimax, callback_token="cb1"
    )
    other_video = make_video(other, cast.charlie)
    failed = make_video(acme, cast.alice, status=Video.Status.FAILED, error="upstream said no")
    clip = make_video(acme, cast.alice, status=Video.Status.COMPLETED, width=320, height=320)
    clip.file.save("clip.mp4", ContentFile(_clip_bytes(320, 320)))
    trashed = make_video(acme, cast.alice, status=Video.Status.COMPLETED)
    trashed.file.save("t.mp4", ContentFile(b"\x00" * 1024))
    services.video_trash(video=trashed, by=Membership.objects.get(team=acme, user=cast.alice))
    collection = services.collection_create(
        membership=Membership.objects.get(team=acme, user=cast.alice), name="Kites"
    )
    services.collection_add(
        collection=collection,
        membership=Membership.objects.get(team=acme, user=cast.alice),
        videos=[done],
    )
    other_collection = services.collection_create(
        membership=Membership.objects.get(team=other, user=cast.charlie), name="Theirs"
    )
    invite, invite_token = team_services.invite_create(
        team=acme, by=cast.alice, label="Dana", role="member"
    )
    _, raw_token = api_services.api_token_create(user=cast.alice, team=acme, name="fuzz")
    token2, _ = api_services.api_token_create(user=cast.alice, team=acme, name="to revoke")
    delivery = WebhookDelivery.objects.create(
        team=acme,
        video=done,
        event="video.final",
        url="http://203.0.113.9/",
        msg_id="m",
        payload="",
    )
    reset_uid = urlsafe_base64_encode(force_bytes(cast.alice.pk))
    # Someone opens alice's reset link: Django moves its token into their new session.
    link = reverse(
        "password_reset_confirm", args=[reset_uid, default_token_generator.make_token(cast.alice)]
    )
    opened = call(Request("GET", link))
    (resetter,) = [
        v.split(";")[0].split("=", 1)[1]
        for k, v in opened.headers
        if k == "Set-Cookie" and v.strip().startswith(django_settings.SESSION_COOKIE_NAME + "=")
    ]
    return SimpleNamespace(
        cast=cast,
        acme=acme.pk,
        other_team=other.pk,
        bob=Membership.objects.get(team=acme, user=cast.bob).pk,
        local_account=local.pk,
        minimax_account=minimax.pk,
        other_account=ProviderAccount.objects.filter(team=other).first().pk,
        image=image.pk,
        file_id=records.file_id(image),
        other_file_id=records.file_id(other_image),
        done_video=done.pk,
        failed=failed.pk,
        clip=clip.pk,
        trashed=trashed.pk,
        trash_cursor=trash_cursor(Video.objects.get(pk=trashed.pk)),
        other_video=other_video.pk,
        collection=collection.pk,
        other_collection=other_collection.pk,
        queued=queued.pk,
        api_done=records.video_id(done),
        api_queued=records.video_id(queued),
        other_video_id=records.video_id(other_video),
        callback_token=waiting.attempt.callback_token,
        invite=invite.pk,
        invite_token=invite_token,
        token=raw_token,
        token2=token2.pk,
        delivery=delivery.pk,
        media_token=records.signed_link("", kind="video", pk=done.pk).rsplit("/", 1)[1],
        reset_uid=reset_uid,
        sessions={
            "alice": _session(cast.alice),
            "bob": _session(cast.bob),
            "resetter": resetter,
        },
    )


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


# Drawing requests.


def requests_for(name: str, target: Target, world: SimpleNamespace):
    """Requests to one endpoint: its valid request with each field kept, replaced or dropped,
    sometimes an unknown field, odd path parameters, another method, headers and charsets."""
    is_json = target.body == "json"
    converters = _converters(name)

    def value_for(field_name: str):
        arbitrary = JSON_VALUES if is_json else TEXT
        hints = hints_for(field_name, world)
        return st.one_of(st.sampled_from(hints), arbitrary) if hints else arbitrary

    @st.composite
    def draw_request(draw) -> Request:
        fields = {}
        for field_name, valid in target.valid(world).items():
            fate = draw(st.integers(0, 9))
            if fate < 5:
                fields[field_name] = valid
            elif fate < 9:
                fields[field_name] = draw(value_for(field_name))
        if draw(st.integers(0, 9)) == 0:
            fields[draw(TEXT)] = draw(JSON_VALUES if is_json else TEXT)
        kwargs = {}
        for key, valid in target.path(world).items():
            if draw(st.integers(0, 9)) < 7:
                kwargs[key] = str(valid)
            elif converters.get(key) == "int":  # anything else is not routed there
                kwargs[key] = draw(st.sampled_from(["0", "9" * 18, "9" * 19, "9" * 5000]))
            else:
                kwargs[key] = draw(TEXT.filter(lambda t: t and "/" not in t))
        method = draw(st.sampled_from(target.methods))
        if draw(st.integers(0, 9)) == 0:
            method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"]))
        request = Request(method, path_for(name, kwargs), headers=base_headers(target, world))
        _add_body(draw, request, target, fields)
        _add_headers(draw, request.headers, world)
        return request

    return draw_request()


def _converters(name: str) -> dict[str, str]:
    """The converter, "int" or "str", of each parameter of the named URL's route."""
    if name == CATCH_ALL:
        return {}
    (possibility,) = get_resolver().reverse_dict.getlist(name)
    _, _, _, converters = possibility
    return {key: "int" if c.regex.startswith("[0-9]") else "str" for key, c in converters.items()}


def path_for(name: str, kwargs: dict[str, str]) -> str:
    """The named URL's path with `kwargs` in it as they are (not quoted): the path as decoded."""
    if name == CATCH_ALL:
        return "/v1/" + kwargs["rest"]
    converters = _converters(name)
    placeholders = {
        key: (987654321 + i if converters.get(key) == "int" else f"placeholder{i}x")
        for i, key in enumerate(kwargs)
    }
    path = reverse(name, kwargs=placeholders)
    for key, placeholder in placeholders.items():
        path = path.replace(str(placeholder), kwargs[key], 1)
    return path


def _add_body(draw, request: Request, target: Target, fields: dict) -> None:
    if request.method == "GET" and target.body != "none":
        request.query = form_bytes(fields)
        return
    if target.body in ("none", "query") or request.method in ("HEAD", "OPTIONS"):
        return
    if target.body == "image":
        request.content_type, request.body = _image_body(draw, fields)
    elif target.body == "json" and draw(st.integers(0, 4)):
        request.content_type = draw(st.sampled_from(["application/json", "text/plain", ""]))
        request.body = json_bytes(fields)
    elif target.body in ("multipart", "json") or draw(st.booleans()):
        files = {f: _upload(draw) for f in target.files if draw(st.booleans())}
        request.content_type = f"multipart/form-data; boundary={BOUNDARY}"
        request.body = multipart_bytes(fields, files)
    else:
        request.content_type = "application/x-www-form-urlencoded"
        request.body = form_bytes(fields)
    if draw(st.integers(0, 4)) == 0:
        request.content_type += draw(CHARSETS)


def _upload(draw) -> tuple[str, bytes, str]:
    filename = draw(st.one_of(st.just("frame.png"), TEXT))
    content = draw(st.one_of(st.just(PNG), st.binary(max_size=64)))
    content_type = draw(st.sampled_from(["image/png", "image/gif", "text/plain", ""]))
    return filename, content, content_type


def _image_body(draw, fields: dict) -> tuple[str, bytes]:
    """POST files/: a raw image body, or one file in a multipart form."""
    if draw(st.booleans()):
        content = draw(st.one_of(st.just(PNG), st.binary(max_size=64)))
        kind = draw(st.sampled_from(["image/png", "image/jpeg", "image/webp", "image/gif", ""]))
        return kind, content
    files = {draw(st.sampled_from(["file", "image"])): _upload(draw)}
    return f"multipart/form-data; boundary={BOUNDARY}", multipart_bytes(fields, files)


def base_headers(target: Target, world) -> dict[str, str]:
    """What the caller sends anyway: its session or token, and the CSRF pair."""
    cookie = f"csrftoken={CSRF}"
    if target.who in world.sessions:
        cookie += f"; {django_settings.SESSION_COOKIE_NAME}={world.sessions[target.who]}"
    headers = {"Cookie": cookie, "X-CSRFToken": CSRF}
    if target.who == "token":
        headers["Authorization"] = f"Bearer {world.token}"
    if target.who == "metrics":
        headers["Authorization"] = f"Bearer {METRICS_TOKEN}"
    return headers


def _add_headers(draw, headers: dict[str, str], world) -> None:
    """Now and then, a header the studio reads, with what a header can carry (latin-1)."""
    cookie = headers["Cookie"]
    for header, values in (
        ("Authorization", st.one_of(LATIN1, LATIN1.map(lambda t: f"Bearer {world.token}{t}"))),
        ("Range", st.one_of(LATIN1, st.sampled_from(["bytes=0-9", "bytes=-5", "bytes=²-"]))),
        ("Range", st.just("bytes=" + "9" * 5000 + "-")),
        ("HX-Request", st.sampled_from(["true", "false", ""])),
        ("HX-Current-URL", LATIN1),
        ("HX-Target", LATIN1),
        ("X-Forwarded-For", LATIN1),
        ("X-Forwarded-Proto", LATIN1),
        ("Cookie", LATIN1.map(lambda t: cookie + t)),
    ):
        if draw(st.integers(0, 9)) == 0:
            headers[header] = draw(values)


# The property.


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in STORED)


def check(request: Request, answer: Answer, before: tuple[int, ...]) -> None:
    assert answer.status < 500, f"{answer.status} for {request!r}\n" + "\n".join(answer.tracebacks)
    if answer.status >= 400 and request.path.startswith("/v1/") and request.method != "HEAD":
        try:
            body = json.loads(answer.body)
        except ValueError:
            body = None
        assert isinstance(body, dict) and body.get("code") == answer.status, (
            f"{answer.status} for {request!r} is not the API's JSON error: {answer.body[:300]!r}"
        )
    if answer.status >= 400:
        changed = [
            f"{model.__name__} {b} -> {a}"
            for model, b, a in zip(STORED, before, counts(), strict=True)
            if a != b
        ]
        assert not changed, f"{answer.status} for {request!r}, yet rows changed: {changed}"


def shown_pages_render(request: Request, target: Target, world) -> None:
    """What an accepted request stored is shown without an error where it is shown."""
    for name in target.shows:
        path = reverse(name)
        if path.startswith("/v1/"):
            headers = {"Authorization": f"Bearer {world.token}"}
            page = Request("GET", path, query=b"limit=100", headers=headers)
        else:
            cookie = f"{django_settings.SESSION_COOKIE_NAME}={_session(world.cast.alice)}"
            page = Request("GET", path, headers={"Cookie": cookie})
        answer = call(page)
        assert answer.status == 200, f"{name}: {answer.status} after {request!r}\n" + "\n".join(
            answer.tracebacks
        )


def valid_request(name: str, target: Target, world) -> Request:
    kwargs = {k: str(v) for k, v in target.path(world).items()}
    request = Request(
        target.methods[0], path_for(name, kwargs), headers=base_headers(target, world)
    )
    fields = target.valid(world)
    if request.method == "GET":
        request.query = form_bytes(fields)
    elif target.body == "json":
        request.content_type, request.body = "application/json", json_bytes(fields)
    elif target.body == "image":
        request.content_type, request.body = "image/png", PNG
    elif target.body != "none":
        request.content_type = f"multipart/form-data; boundary={BOUNDARY}"
        request.body = multipart_bytes(fields, {})
    return request


def enumerated_endpoints() -> set[str]:
    """Every URL pattern by name; an unnamed one by its view, unless it only repeats a named
    one without the trailing slash (videos/api_urls.py's `both`)."""
    named: set[str] = set()
    named_routes: set[str] = set()
    unnamed: dict[str, str] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route not in NOT_FUZZED:
                    walk(pattern.url_patterns, route)
            elif pattern.name:
                named.add(pattern.name)
                named_routes.add(route)
            else:
                unnamed[route] = f"{pattern.callback.__module__}.{pattern.callback.__name__}"

    walk(get_resolver().url_patterns, "")
    return named | {view for route, view in unnamed.items() if route + "/" not in named_routes}


def test_every_endpoint_is_fuzzed():
    """A new URL fails here until TARGETS says what it takes."""
    assert enumerated_endpoints() == set(TARGETS)


def test_every_id_in_a_path_is_bounded():
    """<id:>, not <int:>: a foreign-key lookup with an id past 64 bits fails on SQLite."""
    unbounded = [
        name
        for name in TARGETS
        if name != CATCH_ALL
        for (_, _, _, converters) in get_resolver().reverse_dict.getlist(name)
        if any(type(c) is IntConverter for c in converters.values())
    ]
    assert unbounded == []


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_no_input_gives_a_5xx_and_a_refusal_stores_nothing(name, world):
    """Each example runs in a savepoint that is rolled back: every one starts from the same
    world, so none is wasted on what an earlier one deleted, and a failure shrinks."""
    target = TARGETS[name]
    if name != CATCH_ALL:
        # The generator starts from this request: it must get through, or the fuzzing would
        # only ever test the first check.
        with transaction.atomic():
            answer = call(valid_request(name, target, world))
            transaction.set_rollback(True)
        assert answer.status < 400, (answer.status, answer.body[:300], answer.tracebacks)

    @hypothesis_settings(
        max_examples=int(EXPLORE or 20),
        derandomize=not EXPLORE,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=requests_for(name, target, world))
    def one(request: Request) -> None:
        with transaction.atomic():
            before = counts()
            answer = call(request)
            check(request, answer, before)
            if answer.status < 400:
                shown_pages_render(request, target, world)
            transaction.set_rollback(True)

    one()
