"""The OpenAPI 3.0.3 document of /v1/ (served at /v1/openapi.json).

It describes what the views in videos/api.py really answer: the shapes come from
videos/records.py, the request fields and limits from the Api* forms in videos/forms.py.
tests/test_api_schema.py runs schemathesis against the app with this document, so a response
that does not match it fails the suite; change both together.
"""

from django.conf import settings

from studio.api.openapi.build import RETRY_AFTER, answer, ref
from studio.api.openapi.paths import (
    accounts_paths,
    files_paths,
    other_paths,
    scheduler_paths,
    videos_paths,
)
from studio.api.openapi.schemas import schemas

DESCRIPTION = """\
useapi.net's MiniMax API (https://useapi.net/docs/api-minimax-v1), served by the studio for its \
team: a script written for useapi.net runs against it with only its base URL and token \
changed.

Authenticate with `Authorization: Bearer <token>`, a personal token made on the team page; it \
acts for its user in its one team, and anything of another team is a 404. Each token may make \
%(rate)d requests every %(window)d s; past that every endpoint answers 429 with Retry-After.

Creates are queued by default (429 only past the queue limits); a team in strict mode gets \
useapi.net's behaviour (429 when every slot is busy, 422 when moderated). replyUrl callbacks \
are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) with the \
team's secret from its Webhooks page, and go only to public addresses.

Every error is `{"error": "...", "code": N}`, with a message that says what to fix. Paths \
ending in a slash also answer without it."""


def openapi_document(*, base: str) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Studio MiniMax API",
            "version": "1",
            "description": DESCRIPTION
            % {"rate": settings.API_RATE_LIMIT, "window": settings.API_RATE_WINDOW_SECONDS},
        },
        "servers": [{"url": base}],
        "security": [{"bearer": []}],
        "tags": [
            {"name": "videos"},
            {"name": "files"},
            {"name": "accounts", "description": "Team admins only (403 for members)."},
            {"name": "scheduler"},
            {"name": "media"},
            {"name": "meta"},
        ],
        "paths": {
            **other_paths(),
            **videos_paths(),
            **files_paths(),
            **accounts_paths(),
            **scheduler_paths(),
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A studio API token (st_...), made on the team page.",
                }
            },
            "schemas": schemas(),
            "responses": {
                "RateLimited": answer(
                    "This token made too many requests in the window; wait Retry-After seconds.",
                    ref("Error"),
                    headers=RETRY_AFTER,
                )
            },
        },
    }
