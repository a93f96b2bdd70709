"""The shapes of /v1/'s bodies: videos/records.py's records and the Api* forms' fields."""

from django.conf import settings

from studio.api.openapi.build import (
    FILE_ID_PATTERN,
    STATUS_CODES,
    STATUS_LABELS,
    TIMESTAMP,
    VIDEO_ID_PATTERN,
    integer,
    nullable,
    obj,
    ref,
    status_info,
    string,
)
from videos.models import ProviderAccount
from videos.providers.catalog import MODELS


def schemas() -> dict:
    return {
        "Error": obj(
            {
                "error": string("What went wrong, and what to do about it."),
                "code": integer("The HTTP status again."),
            },
            description="Every answer that is not a success.",
        ),
        "Video": obj(
            {
                "videoId": string(
                    "The id to use with every other call: "
                    "`user:<author>-minimax:<account asked for, or auto>-video:<id>`.",
                    pattern=VIDEO_ID_PATTERN,
                ),
                "id": string("The studio's own video number."),
                "desc": string("The prompt."),
                "status": integer(
                    "useapi.net's status: 11 queued, 0 pending, 1 processing, 2 completed, "
                    "3 failed or cancelled, 5 moderated.",
                    enum=STATUS_CODES,
                ),
                "statusLabel": string(enum=STATUS_LABELS),
                "statusFinal": {
                    "type": "boolean",
                    "description": "True once the video will not change any more: stop polling.",
                },
                "percent": integer(minimum=0),
                "message": string("Progress text while it runs; the reason when it failed."),
                "account": string("The account rendering it (empty until one takes it)."),
                "model": string("The model asked for (empty: the account's default)."),
                "width": nullable(integer("Pixels, once known.")),
                "height": nullable(integer("Pixels, once known.")),
                "duration": nullable({"type": "number", "description": "Seconds, once known."}),
                "originFiles": {
                    "type": "array",
                    "description": "The prompt images (first frame, last frame).",
                    "items": obj(
                        {
                            "id": string("The image's fileID.", pattern=FILE_ID_PATTERN),
                            "url": string("A signed link to the image.", format="uri"),
                            "type": string("png, jpeg or webp."),
                        }
                    ),
                },
                "canRetry": {"type": "boolean"},
                "canAppeal": {"type": "boolean"},
                "replyUrl": string("The callback URL given at create time, or empty."),
                "replyRef": string("The reference given at create time, or empty."),
                "createdAt": TIMESTAMP,
                "finishedAt": nullable(TIMESTAMP),
                "renderer": string(
                    "Present (`local`) when the studio's built-in renderer made it: "
                    "a real MP4, but no AI.",
                    enum=["local"],
                ),
                "queuePosition": integer(
                    "Only while queued: 1 is the next to start in the team's queue.", minimum=1
                ),
                "videoURL": string(
                    "Only when completed: a signed link to the MP4 that works without a token "
                    "for a day (then with the token, or GET the video again).",
                    format="uri",
                ),
                "downloadURL": string(
                    "Only when completed: the same MP4 as a download (no watermark).",
                    format="uri",
                ),
                "coverURL": string(
                    "A signed link to the poster frame, once there is one.", format="uri"
                ),
            },
            required=[
                "videoId",
                "id",
                "desc",
                "status",
                "statusLabel",
                "statusFinal",
                "percent",
                "message",
                "account",
                "model",
                "width",
                "height",
                "duration",
                "originFiles",
                "canRetry",
                "canAppeal",
                "replyUrl",
                "replyRef",
                "createdAt",
                "finishedAt",
            ],
            description="A video, as GET /videos/{videoId} answers it. A replyUrl callback's "
            "body is this same object.",
        ),
        "RunningVideo": obj(
            {
                "account": string("The account running it (empty while queued)."),
                "id": string(),
                "scheduledVideo": string(),
                "videoId": string(pattern=VIDEO_ID_PATTERN),
                "status": integer(enum=STATUS_CODES),
                "statusLabel": string(enum=STATUS_LABELS),
                "started": TIMESTAMP,
                "elapsed": string("mm:ss since it started.", example="03:57"),
                "replyUrl": string(),
                "replyRef": string(),
            },
            description="A video the API tracks (created through the API, not yet finished).",
        ),
        "File": obj(
            {
                "fileID": string(
                    "Pass it as fileID to POST /videos/create.", pattern=FILE_ID_PATTERN
                ),
                "ossPath": string("A signed link to the stored image.", format="uri"),
                "file_id": string(),
                "file_name": string("The name it was uploaded with."),
                "file_type": string("png, jpeg or webp.", enum=["png", "jpeg", "webp"]),
                "cdn_url": string(format="uri"),
                "oss_path": string(format="uri"),
                "file_scene": integer(enum=[10]),
                "file_status": integer(enum=[1]),
                "width": integer(minimum=1),
                "height": integer(minimum=1),
                "bytes": integer(minimum=0),
                "createdAt": TIMESTAMP,
            },
            description="A prompt image stored by the team (re-encoded, metadata stripped).",
        ),
        "Account": obj(
            {
                "account": string("The account's id: what `account` takes elsewhere."),
                "name": string(),
                "kind": string(enum=list(ProviderAccount.Kind.values)),
                "maxJobs": integer(
                    "Videos it runs at once. A hard cap: a create's maxJobs can lower it, "
                    "never raise it.",
                    minimum=1,
                    maximum=10,
                ),
                "executing": integer("Videos running on it now.", minimum=0),
                "rpm": integer("Creates it may send per minute.", minimum=1),
                "enabled": {"type": "boolean"},
                "paused": {
                    "type": "boolean",
                    "description": "Paused after the upstream said to slow down.",
                },
                "pausedUntil": nullable(TIMESTAMP),
                "pauseReason": string(),
                "lastError": string(),
                "region": string(enum=[c for c, _ in _region_choices()]),
                "baseUrl": string("Empty: the provider's own host."),
                "defaultModel": string("Empty: the provider's default."),
                "upstreamAccount": string("useapi.net accounts: the hailuoai.video account."),
                "supportVideo": {"type": "boolean"},
                "supportMusic": {"type": "boolean"},
                "createdAt": TIMESTAMP,
            },
            description="A team's video account. Its secret (API key, token) is never shown.",
        ),
        "AccountRequest": obj(
            {
                "kind": string("Default minimax.", enum=["minimax", "useapi"]),
                "name": string("Unique within the team.", minLength=1, maxLength=100),
                "apiKey": string("MiniMax accounts: the API key (required for them)."),
                "token": string("useapi.net accounts: the useapi.net token (required for them)."),
                "account": string(
                    "useapi.net accounts: the hailuoai.video account id registered there "
                    "(required for them).",
                    maxLength=100,
                ),
                "maxJobs": integer(
                    "Videos it may run at once: the team's hard cap for this account.",
                    minimum=1,
                    maximum=10,
                ),
                "rpm": integer("Creates per minute (default 5).", minimum=1, maximum=1000),
                "region": string(
                    "MiniMax region (default global).", enum=[c for c, _ in _region_choices()]
                ),
                "baseUrl": string(
                    "Another host for the provider, e.g. an emulator. Refused (400) when it is "
                    "or resolves to a loopback, private, link-local or cloud-metadata address "
                    "the operator has not allowed (OUTBOUND_ALLOWED_NETWORKS).",
                    format="uri",
                ),
                "defaultModel": string(enum=list(MODELS)),
            },
            required=["name", "maxJobs"],
            additionalProperties=False,
            description="Unknown fields are refused (400), naming the ones it takes.",
        ),
        "CreateRequest": obj(
            {
                "account": string(
                    "Optional: the account (id or name) that must render it; without it any "
                    "account of the team with a free slot takes it. "
                    "GET /scheduler/available lists them."
                ),
                "prompt": string(
                    "Describe your shot. Required unless fileID names a first-frame image.",
                    maxLength=settings.PROMPT_MAX_CHARS,
                ),
                "promptOptimization": {
                    "type": "boolean",
                    "description": "Default true. In a form body: the text true or false.",
                },
                "fileID": string(
                    "A first-frame image: a fileID from POST /files/.", pattern=FILE_ID_PATTERN
                ),
                "replyUrl": string(
                    "Called when the video completes or fails, with the video's JSON (as GET "
                    "/videos/{videoId}). Each call is signed per Standard Webhooks: headers "
                    "webhook-id, webhook-timestamp and webhook-signature, made with the team's "
                    "secret shown on the team's Webhooks page. Only public addresses: a URL "
                    "whose host is or resolves to a loopback, private, link-local, CGNAT "
                    "(100.64/10), multicast or cloud-metadata address the operator has not "
                    "allowed (OUTBOUND_ALLOWED_NETWORKS), or whose port is 0, is refused (400).",
                    maxLength=1024,
                    format="uri",
                ),
                "replyRef": string(
                    "Your own reference, stored and returned with the video.", maxLength=1024
                ),
                "model": string(
                    "Optional, as on useapi.net: a model by useapi.net's name (T2V-01, "
                    "I2V-01, I2V-01-live, T2V-01-Director, I2V-01-Director, 02, T2V-2.3, "
                    "I2V-2.3, I2V-2.3-Fast) or MiniMax's. Others (Sora, Veo, Seedance, S2V) are "
                    "refused (400). Default: the account's default model.",
                    maxLength=40,
                ),
                "options": string(
                    'Optional resolution and length, e.g. "768p-6sec", "1080p-6sec", '
                    '"768p-10sec"; checked against the model (400 naming what fits).',
                    maxLength=20,
                ),
                "end_frame_fileID": string(
                    "Optional last frame (model 02): a fileID other than fileID.",
                    pattern=FILE_ID_PATTERN,
                ),
                "maxJobs": integer(
                    "Run this video only while its account has fewer than this many running. "
                    "It can lower the account's limit but never raise it: the team admin's "
                    "maxJobs for the account is a hard cap.",
                    minimum=1,
                    maximum=10,
                ),
            },
            required=[],
            additionalProperties=False,
            description="Unknown fields are refused (400), naming the ones it takes.",
        ),
        "CreateResponse": obj(
            {
                "data": obj({"id": string()}),
                "statusInfo": status_info(service_time=True),
                "videoId": string("Poll GET /videos/{videoId} with it.", pattern=VIDEO_ID_PATTERN),
                "code": integer(enum=[200]),
                "replyUrl": string(),
                "replyRef": string(),
            }
        ),
        "TooMany": obj(
            {
                "error": string(),
                "code": integer(enum=[429]),
                "runningVideos": {
                    "type": "object",
                    "description": "The videos in the way, by account id: present when a queue "
                    "limit, or in strict mode every slot, is taken.",
                    "additionalProperties": {"type": "array", "items": ref("RunningVideo")},
                },
                "statusInfo": {
                    **status_info(),
                    "description": "Present when the upstream itself said too many (strict mode).",
                },
            },
            required=["error", "code"],
            description="429 from POST /videos/create. Wait 10 to 30 s (see Retry-After) and "
            "try again.",
        ),
        "Moderated": obj(
            {
                "error": string(),
                "statusInfo": status_info(),
                "code": integer(enum=[422]),
            },
            description="The upstream refused the prompt (moderation); do not retry it unchanged.",
        ),
        "Deleted": obj(
            {"deleted": {"type": "boolean", "enum": [True]}, "code": integer(enum=[200])},
        ),
        "AccountSlots": obj(
            {
                "account": string(),
                "name": string(),
                "kind": string(enum=list(ProviderAccount.Kind.values)),
                "maxJobs": integer(minimum=1),
                "executing": integer(minimum=0),
                "available": integer("Free slots now (0 when disabled or paused).", minimum=0),
                "enabled": {"type": "boolean"},
                "paused": {"type": "boolean"},
            }
        ),
    }


def _region_choices() -> list:
    return ProviderAccount._meta.get_field("region").choices
