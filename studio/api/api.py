"""/v1/: useapi.net's MiniMax API (seeds/000, reference/useapi-minimax.md) on django-ninja, so a
script written for useapi.net runs against the studio with only its base URL and token changed.

The routers (studio/api/routers/) parse with the schemas, call one service or selector, and
return a schema; studio/api/errors.py turns every refusal into `{"error": "...", "code": N}`.
`urlpatterns` adds what useapi.net's scripts expect of the paths: each also without its trailing
slash, a JSON 405 for a wrong method and a JSON 404 for any other path.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from studio import conf
from studio.api import errors
from studio.api.auth import TokenAuth
from studio.api.routers import accounts, answers, files, media, scheduler, videos

DESCRIPTION = """\
useapi.net's MiniMax API (https://useapi.net/docs/api-minimax-v1), served by the studio for its \
team: a script written for useapi.net runs against it with only its base URL and token \
changed.

Authenticate with `Authorization: Bearer <token>`, a personal token made on the team page; it \
acts for its user in its one team, and anything of another team is a 404. Each token has two \
budgets per %(window)d s: %(reads)d reads (every GET: polling, listings, scheduler/available) and \
%(writes)d writes (creates, uploads, cancels, deletes, account changes), enough for a batch of \
200 prompts with images at full speed. Past one, requests of that kind answer 429 with \
Retry-After, and the error says which budget ran out; the other keeps working. The signed \
file links in answers (media/) spend neither.

Every member reads accounts/ (never a secret; an account that is disabled, paused or failing \
carries `error`) and scheduler/available (only the accounts that can start a video now, most \
free first; empty: wait); adding or deleting an account takes a team admin's token (403).

Creates are queued by default (429 only past the queue limits); a team in strict mode gets \
useapi.net's behaviour (429 when every slot is busy, 422 when moderated). replyUrl callbacks \
are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) with the \
team's secret from its Webhooks page, and go only to public addresses.

Every error is `{"error": "...", "code": N}`, with a message that says what to fix. Paths \
ending in a slash also answer without it."""

api = NinjaAPI(
    title="Studio MiniMax API",
    version="1",
    auth=TokenAuth(),
    # Served by the operation below, so that it is in the document and its errors are JSON.
    openapi_url=None,
    docs_url=None,
)
errors.install(api)
for resource in (videos, files, accounts, scheduler, media):
    api.add_router("/minimax", resource.router)


def openapi_document(*, base: str = "") -> dict:
    document = api.get_openapi_schema(path_prefix="/v1")
    document["info"]["description"] = DESCRIPTION % {
        "reads": conf.API_READ_RATE_LIMIT,
        "writes": conf.API_WRITE_RATE_LIMIT,
        "window": conf.API_RATE_WINDOW_SECONDS,
    }
    if base:
        document["servers"] = [{"url": base}]
    return document


@api.get(
    "/openapi.json",
    auth=None,
    response=answers({200: dict}, public=True),
    url_name="api_openapi",
    operation_id="openapi",
    summary="This document",
    tags=["meta"],
)
def openapi(request):
    return openapi_document(base=request.build_absolute_uri("/").rstrip("/"))


# Django's names for the path parameters useapi.net spells in camel case.
_DJANGO_NAMES = {"videoId": "video_id", "fileID": "file_id"}
_METHOD_ORDER = ["GET", "HEAD", "POST", "DELETE"]


def _json_errors(view, renamed: dict[str, str]):
    """`view` (one of ninja's) with its path parameters renamed back, and ninja's plain-text
    405 answered as the API's JSON, with Allow."""

    @csrf_exempt
    def answer(request: HttpRequest, **kwargs):
        kwargs = {renamed.get(key, key): value for key, value in kwargs.items()}
        response = view(request, **kwargs)
        if response.status_code == 405 and "application/json" not in response["Content-Type"]:
            allowed = [m.strip() for m in response["Allow"].split(",")]
            allowed.sort(key=lambda m: _METHOD_ORDER.index(m) if m in _METHOD_ORDER else 9)
            response = errors.error(405, f"Use {' or '.join(allowed)} on {request.path}.")
            response["Allow"] = ", ".join(allowed)
        return response

    return answer


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return errors.error(
        404, f"No such endpoint: {request.method} {request.path}. See /v1/openapi.json."
    )


def _urlpatterns() -> list:
    patterns, seen = [], set()
    for pattern in api.urls[0]:
        route = str(pattern.pattern)
        if route in seen or pattern.name == "api-root":
            continue
        seen.add(route)
        renamed = {}
        for camel, snake in _DJANGO_NAMES.items():
            if f"<{camel}>" in route:
                route = route.replace(f"<{camel}>", f"<str:{snake}>")
                renamed[snake] = camel
        view = _json_errors(pattern.callback, renamed)
        patterns.append(path(route, view, name=pattern.name))
        if route.endswith("/"):
            patterns.append(path(route.rstrip("/"), view))
    # (?s): a path may hold a newline (%0A), and the answer must still be the JSON 404.
    patterns.append(re_path(r"^(?P<rest>(?s:.*))$", not_found))
    return patterns


urlpatterns = _urlpatterns()
