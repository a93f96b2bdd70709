"""The operations of /v1/, one function per group of paths."""

from django.conf import settings

from studio.api.openapi.build import (
    ACCOUNT_PARAM,
    FILE_ID_PATTERN,
    RETRY_AFTER,
    UNREADABLE,
    VIDEO_ID_PATTERN,
    answer,
    error,
    integer,
    limit_param,
    nullable,
    obj,
    operation,
    path_param,
    query_param,
    ref,
    string,
)


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
                    "503": answer(
                        "This server process is already decoding as many images as it may; "
                        "send the same image again after Retry-After seconds.",
                        ref("Error"),
                        headers=RETRY_AFTER,
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
            "400": UNREADABLE,
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
