"""The OpenAPI 3.0.3 document of /v1/ (served at /v1/openapi.json).

It describes what the views in videos/api.py really answer: the shapes come from
videos/records.py, the request fields and limits from the Api* forms in videos/forms.py.
tests/test_api_schema.py runs schemathesis against the app with this document, so a response
that does not match it fails the suite; change both together.
"""

from django.conf import settings

from videos.models import ProviderAccount
from videos.providers.catalog import MODELS

VIDEO_ID_PATTERN = r"^user:\w+-minimax:[\w.]+-video:\d{1,18}$"
FILE_ID_PATTERN = r"^user:\w+-minimax:[\w.]+-file:\d{1,18}$"

# Small builders, so each operation below reads as a list of what it takes and answers.


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def answer(description: str, schema: dict, *, headers: dict | None = None) -> dict:
    response = {"description": description, "content": json_content(schema)}
    if headers:
        response["headers"] = headers
    return response


def error(description: str) -> dict:
    """An answer with the shared `{"error": "...", "code": N}` body."""
    return answer(description, ref("Error"))


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def token_errors(*, admin: bool = False) -> dict:
    """The answers every operation that needs a token can give, besides its own."""
    responses = {
        "401": error(
            "No token, or a token that is unknown, revoked, or whose user left the team. "
            'The body is `{"error": "Unauthorized", "code": 401}`.'
        ),
        "429": {"$ref": "#/components/responses/RateLimited"},
    }
    if admin:
        responses["403"] = error(
            "The token belongs to a team member who is not an admin: only team admins can "
            "list, add or delete accounts."
        )
    return responses


def operation(
    summary: str,
    description: str,
    *,
    tag: str,
    operation_id: str,
    responses: dict,
    admin: bool = False,
    parameters: list | None = None,
    body: dict | None = None,
    public: bool = False,
) -> dict:
    op = {
        "tags": [tag],
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "responses": responses if public else {**token_errors(admin=admin), **responses},
    }
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = body
    if public:
        op["security"] = []
    return op


def path_param(name: str, description: str, *, pattern: str | None = None) -> dict:
    schema = {"type": "string", "minLength": 1}
    if pattern:
        schema["pattern"] = pattern
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def query_param(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def limit_param(default: int) -> dict:
    return query_param(
        "limit",
        f"How many to return, newest first (default {default}).",
        {"type": "integer", "minimum": 1, "maximum": 100},
    )


ACCOUNT_PARAM = query_param(
    "account",
    "Only videos of this account (its id, or its name). An account the team does not have "
    "is a 404.",
    {"type": "string"},
)


def string(description: str = "", **extra) -> dict:
    return {"type": "string", **({"description": description} if description else {}), **extra}


def integer(description: str = "", **extra) -> dict:
    return {"type": "integer", **({"description": description} if description else {}), **extra}


def nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def obj(properties: dict, *, required: list | None = None, **extra) -> dict:
    schema = {"type": "object", "properties": properties, **extra}
    schema["required"] = list(properties) if required is None else required
    if not schema["required"]:
        del schema["required"]
    return schema


# The JSON shapes (records.py)

STATUS_CODES = [0, 1, 2, 3, 5, 11]
STATUS_LABELS = ["queued", "pending", "processing", "completed", "failed", "moderated", "cancelled"]
TIMESTAMP = string(
    "UTC, ISO 8601 with milliseconds, e.g. 2024-09-25T01:55:16.128Z.", format="date-time"
)


def status_info(*, service_time: bool = False) -> dict:
    properties = {
        "code": integer("0 on success; otherwise an error code."),
        "httpCode": integer(),
        "message": string(),
    }
    if service_time:
        properties["serviceTime"] = integer("Unix time of the answer, in seconds.")
    return obj(properties)


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
                "baseUrl": string("Another host for the provider, e.g. an emulator.", format="uri"),
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
                    "(100.64/10) or multicast address is refused (400).",
                    maxLength=1024,
                    format="uri",
                ),
                "replyRef": string(
                    "Your own reference, stored and returned with the video.", maxLength=1024
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


def _deleted(key: str, description: str, key_schema: dict | None = None) -> dict:
    return answer(
        description,
        {
            "allOf": [
                ref("Deleted"),
                obj({key: key_schema or string("As given in the path.")}),
            ]
        },
    )


BAD_REQUEST = "The request is not valid; `error` names each field and what to fix."

# The operations


def videos_paths() -> dict:
    form_body = {
        "required": True,
        "content": {
            "application/json": {"schema": ref("CreateRequest")},
            "multipart/form-data": {"schema": ref("CreateRequest")},
        },
        "description": "JSON, or the same fields as multipart/form-data (or "
        "application/x-www-form-urlencoded). The body may be at most "
        f"{settings.API_MAX_BODY_BYTES:,} bytes.",
    }
    video_id = path_param(
        "videoId", "A videoId, as POST /videos/create answered it.", pattern=VIDEO_ID_PATTERN
    )
    return {
        "/v1/minimax/videos/create": {
            "post": operation(
                "Create a video from a text prompt and/or a first-frame image",
                "useapi.net's POST /videos/create. By default the studio queues the video and "
                "answers at once: it starts as soon as one of the team's accounts has a free "
                "slot, and a 429 comes only past the queue limits (per person, and per team, "
                "set on the team page). A team in strict mode gets useapi.net's behaviour: "
                "the create goes upstream during the request and is refused with 429 (and "
                "the running videos) when every slot is busy, or with 422 when the prompt is "
                "moderated. Poll GET /videos/{videoId}, or give replyUrl to be called when it "
                "ends.",
                tag="videos",
                operation_id="videoCreate",
                body=form_body,
                responses={
                    "200": answer(
                        "Accepted: queued (or, in strict mode, started).", ref("CreateResponse")
                    ),
                    "400": error(
                        BAD_REQUEST + " Also: an unknown account or fileID, or a replyUrl "
                        "that is refused (not http(s), unresolvable, or a non-public address)."
                    ),
                    "422": answer(
                        "Strict mode: the upstream refused the prompt (moderated).",
                        ref("Moderated"),
                    ),
                    "429": answer(
                        "Too many: a queue limit is reached (or, in strict mode, every slot "
                        "is busy, or the upstream said too many), or this token's rate limit.",
                        ref("TooMany"),
                        headers=RETRY_AFTER,
                    ),
                },
            )
        },
        "/v1/minimax/videos/cancel": {
            "post": operation(
                "Cancel a video that has not finished",
                "Stops a queued or running video; it ends as status 3 with statusLabel "
                "cancelled. Cancelling one already cancelled answers it again; one that ended "
                "otherwise is a 400.",
                tag="videos",
                operation_id="videoCancel",
                body={
                    "required": True,
                    "content": {
                        media_type: {
                            "schema": obj(
                                {"videoId": string(pattern=VIDEO_ID_PATTERN)},
                                additionalProperties=False,
                            )
                        }
                        for media_type in ("application/json", "multipart/form-data")
                    },
                },
                responses={
                    "200": answer("The video, now cancelled.", ref("Video")),
                    "400": error(BAD_REQUEST + " Also: the video already ended."),
                    "404": error("No such video in the token's team."),
                },
            )
        },
        "/v1/minimax/videos/": {
            "get": operation(
                "List the team's videos, newest first",
                "Also answers without the trailing slash. Page with lastVideoId: pass the "
                "lastVideoId of one answer to get the next page; it is null on the last one.",
                tag="videos",
                operation_id="videoList",
                parameters=[
                    ACCOUNT_PARAM,
                    limit_param(30),
                    query_param(
                        "lastVideoId",
                        "Continue after this video (the previous page's lastVideoId).",
                        {"type": "string", "pattern": VIDEO_ID_PATTERN},
                    ),
                ],
                responses={
                    "200": answer(
                        "A page of videos.",
                        obj(
                            {
                                "videos": {"type": "array", "items": ref("Video")},
                                "lastVideoId": nullable(string(pattern=VIDEO_ID_PATTERN)),
                                "code": integer(enum=[200]),
                            }
                        ),
                    ),
                    "400": error(BAD_REQUEST),
                    "404": error("account names no account of the team."),
                },
            )
        },
        "/v1/minimax/videos/{videoId}": {
            "parameters": [video_id],
            "get": operation(
                "A video's status and result",
                "Poll until statusFinal is true (every 10 to 30 s is plenty). When status is "
                "2 (completed) videoURL and downloadURL link to the MP4.",
                tag="videos",
                operation_id="videoGet",
                responses={
                    "200": answer("The video.", ref("Video")),
                    "400": error("videoId is not a video id."),
                    "404": error("No such video in the token's team (or it was deleted)."),
                },
            ),
            "delete": operation(
                "Delete a finished video",
                "Removes the video and its files. A video that has not finished must be "
                "cancelled first (400).",
                tag="videos",
                operation_id="videoDelete",
                responses={
                    "200": _deleted("videoId", "Deleted."),
                    "400": error("videoId is not a video id, or the video has not finished."),
                    "404": error("No such video in the token's team."),
                },
            ),
        },
    }


def files_paths() -> dict:
    raw = {"schema": {"type": "string", "format": "binary"}}
    return {
        "/v1/minimax/files/": {
            "get": operation(
                "List the team's prompt images, newest first",
                "Also answers without the trailing slash. Page with lastFileID: pass the last "
                "fileID of one page to get the next.",
                tag="files",
                operation_id="fileList",
                parameters=[
                    query_param(
                        "account",
                        "Accepted for useapi.net scripts; ignored (files "
                        "belong to the team, not to an account).",
                        {"type": "string"},
                    ),
                    limit_param(10),
                    query_param("lastFileID", "Continue after this file.", {"type": "string"}),
                ],
                responses={
                    "200": answer(
                        "A page of files.",
                        obj({"files": {"type": "array", "items": ref("File")}}),
                    ),
                    "400": error(BAD_REQUEST),
                },
            ),
            "post": operation(
                "Upload a prompt image",
                "Send the image as the raw body with its Content-Type (image/png, image/jpeg "
                "or image/webp), or as the one file of a multipart/form-data body. The image "
                f"may be at most {settings.MAX_IMAGE_BYTES // (1024 * 1024)} MB; it is "
                "checked (a real image, sensible size and shape), re-encoded and stored. Use "
                "the fileID as fileID in POST /videos/create.",
                tag="files",
                operation_id="fileUpload",
                body={
                    "required": True,
                    "content": {
                        "image/png": raw,
                        "image/jpeg": raw,
                        "image/webp": raw,
                        "multipart/form-data": {
                            "schema": obj(
                                {"file": {"type": "string", "format": "binary"}},
                                required=["file"],
                                description="Exactly one file part; its field name is free.",
                            )
                        },
                    },
                },
                responses={
                    "200": answer(
                        "Stored.",
                        {"allOf": [ref("File"), obj({"code": integer(enum=[200])})]},
                    ),
                    "400": error(
                        "Not an image we take (format, size, shape, damaged), another "
                        "Content-Type, or a form with no file or more than one."
                    ),
                },
            ),
        },
        "/v1/minimax/files/{fileID}": {
            "delete": operation(
                "Delete a prompt image",
                "As on useapi.net, deleting a file that is not there (any more) is not an "
                "error. An image a video that has not finished uses is kept (400).",
                tag="files",
                operation_id="fileDelete",
                parameters=[
                    path_param("fileID", "A fileID from POST /files/.", pattern=FILE_ID_PATTERN)
                ],
                responses={
                    "200": _deleted("fileID", "Deleted, or it was not there."),
                    "400": error("fileID is not a file id, or a running video uses the image."),
                },
            )
        },
    }


def accounts_paths() -> dict:
    account = path_param("account", "The account's id (or its name).")
    return {
        "/v1/minimax/accounts/": {
            "get": operation(
                "The team's accounts (team admins)",
                "Also answers without the trailing slash. A map from account id to account.",
                tag="accounts",
                operation_id="accountList",
                admin=True,
                responses={
                    "200": answer(
                        "The accounts, by id.",
                        {"type": "object", "additionalProperties": ref("Account")},
                    ),
                },
            ),
            "post": operation(
                "Add a MiniMax or useapi.net account (team admins)",
                "The secret is encrypted at rest and never shown again. maxJobs is the hard "
                "cap on videos the account runs at once: a create's maxJobs cannot raise it.",
                tag="accounts",
                operation_id="accountCreate",
                admin=True,
                body={
                    "required": True,
                    "content": {
                        "application/json": {"schema": ref("AccountRequest")},
                        "multipart/form-data": {"schema": ref("AccountRequest")},
                    },
                },
                responses={
                    "201": answer("Added.", ref("Account")),
                    "400": error(BAD_REQUEST + " Also: a name the team already uses."),
                },
            ),
        },
        "/v1/minimax/accounts/{account}": {
            "parameters": [account],
            "get": operation(
                "One account (team admins)",
                "",
                tag="accounts",
                operation_id="accountGet",
                admin=True,
                responses={
                    "200": answer("The account.", ref("Account")),
                    "404": error('"Configuration not found": no such account in the team.'),
                },
            ),
            "delete": operation(
                "Delete an account (team admins)",
                "Only an account with nothing running (400 otherwise: disable it, let its "
                "videos finish, then delete it). Its finished videos stay.",
                tag="accounts",
                operation_id="accountDelete",
                admin=True,
                responses={
                    "200": _deleted("account", "Deleted."),
                    "400": error("The account has videos running."),
                    "404": error('"Configuration not found": no such account in the team.'),
                },
            ),
        },
    }


def scheduler_paths() -> dict:
    return {
        "/v1/minimax/scheduler/available": {
            "get": operation(
                "Free capacity per account",
                "What useapi.net's scripts call before each create: each account's maxJobs, "
                "how many it runs, and how many slots are free; plus the running videos and "
                "the length of the team's queue.",
                tag="scheduler",
                operation_id="schedulerAvailable",
                responses={
                    "200": answer(
                        "Capacity.",
                        obj(
                            {
                                "executing": {"type": "array", "items": ref("RunningVideo")},
                                "available": {"type": "array", "items": ref("AccountSlots")},
                                "queued": integer("Videos waiting in the team's queue.", minimum=0),
                            }
                        ),
                    ),
                },
            )
        },
        "/v1/minimax/scheduler/": {
            "get": operation(
                "Videos the API is tracking",
                "Also answers without the trailing slash. Videos created through the API that "
                "have not finished (their replyUrl is still to be called).",
                tag="scheduler",
                operation_id="schedulerList",
                responses={
                    "200": answer(
                        "The tracked videos.", {"type": "array", "items": ref("RunningVideo")}
                    ),
                },
            )
        },
        "/v1/minimax/scheduler/{videoId}": {
            "delete": operation(
                "Stop tracking a video",
                "The video carries on, but its replyUrl will not be called.",
                tag="scheduler",
                operation_id="schedulerDelete",
                parameters=[path_param("videoId", "A videoId.", pattern=VIDEO_ID_PATTERN)],
                responses={
                    "200": answer(
                        "No longer tracked.",
                        obj(
                            {
                                "videoId": string(),
                                "tracked": {"type": "boolean", "enum": [False]},
                                "code": integer(enum=[200]),
                            }
                        ),
                    ),
                    "400": error("videoId is not a video id."),
                    "404": error(
                        "No such video, or it is not being tracked (Unable to locate running ...)."
                    ),
                },
            )
        },
    }


def other_paths() -> dict:
    binary = {"schema": {"type": "string", "format": "binary"}}
    media_200 = {
        "description": "The file (an image, a poster frame or an MP4).",
        "content": {t: binary for t in ("image/png", "image/jpeg", "image/webp", "video/mp4")},
    }
    media_206 = {**media_200, "description": "The byte range asked for with Range."}
    media_op = {
        "tags": ["media"],
        "summary": "A file behind a signed link",
        "description": "videoURL, downloadURL, coverURL, ossPath and originFiles links point "
        "here. No token is needed while the link is fresh (a day); an older link works with "
        "the team's token. Range requests are answered with 206.",
        "parameters": [
            path_param("token", "The signed part of the link."),
            {
                "name": "Range",
                "in": "header",
                "required": False,
                "description": "One byte range, e.g. bytes=0-1023.",
                "schema": {"type": "string"},
            },
        ],
        "security": [],
        "responses": {
            "200": media_200,
            "206": media_206,
            "302": {"description": "With object storage: a redirect to the file."},
            "401": error("The link has expired (or is not genuine): GET the video again."),
            "404": error("The file is gone, or the video has no file yet."),
            "416": {"description": "The range is outside the file."},
        },
    }
    return {
        "/v1/openapi.json": {
            "get": operation(
                "This document",
                "",
                tag="meta",
                operation_id="openapi",
                public=True,
                responses={
                    "200": answer("The OpenAPI document.", {"type": "object"}),
                },
            )
        },
        "/v1/minimax/media/{token}": {
            "get": {**media_op, "operationId": "mediaGet"},
            "head": {**media_op, "operationId": "mediaHead", "summary": "Headers of a file"},
        },
    }


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
