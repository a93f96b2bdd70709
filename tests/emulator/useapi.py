"""useapi.net's "MiniMax API v1" under /v1/minimax/ (useapi-minimax.md §2-5, §8, §9).

Unlike MiniMax itself, useapi answers with real HTTP statuses and an {error, code} body.
Accounts are accepted on sight: any id a client names becomes a configured Hailuo account.
"""

import re
import secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tests.emulator.media import BadImage, inspect_image
from tests.emulator.minimax import outcome_for
from tests.emulator.state import Task
from tests.emulator.useapi_fields import (
    SEEDANCE,
    Invalid,
    aspect_ratio,
    no_seedance_fields,
    prompt_max,
    reference_ids,
    seedance_size,
)
from tests.emulator.wire import Reply, Request, useapi_error

if TYPE_CHECKING:
    from tests.emulator.server import Emulator

PREFIX = "/v1/minimax"
DEFAULT_ACCOUNT = "100001"
VIDEO_ID = re.compile(r"^user:(\d+)-minimax:([^-]+)-video:(\d+)$")
FILE_ID = re.compile(r"^user:(\d+)-minimax:([^-]+)-file:(\d+)$")
HAILUO_OPTIONS = ("768p-6sec", "768p-10sec", "1080p-6sec")
VEO_OPTIONS = ("veo-720p-8sec", "veo-1080p-8sec", "veo-4k-8sec")
# model -> accepted `options` (None: fixed 720p, 6 s)
OPTIONS: dict[str, tuple[str, ...] | None] = {
    "T2V-01": None,
    "I2V-01": None,
    "I2V-01-live": None,
    "S2V-01": None,
    "T2V-01-Director": None,
    "I2V-01-Director": None,
    "02": ("512p-6sec", "512p-10sec", *HAILUO_OPTIONS),
    "T2V-2.3": HAILUO_OPTIONS,
    "I2V-2.3": HAILUO_OPTIONS,
    "I2V-2.3-Fast": HAILUO_OPTIONS,
    "Sora-2": ("720p-4sec", "720p-8sec", "720p-12sec"),
    "Veo-3.1": VEO_OPTIONS,
    "Veo-3.1-Fast": VEO_OPTIONS,
    "Veo-3.1-S2V": VEO_OPTIONS,
    "Veo-3.1-S2V-Fast": VEO_OPTIONS,
}
NEEDS_IMAGE = {"I2V-01", "I2V-01-live", "I2V-01-Director", "I2V-2.3", "I2V-2.3-Fast", "S2V-01"}
NEEDS_IMAGE |= {"Veo-3.1-S2V", "Veo-3.1-S2V-Fast"}
TEXT_ONLY = {"T2V-01", "T2V-01-Director", "T2V-2.3"}
END_FRAME = {"02", "Veo-3.1", "Veo-3.1-Fast"}
UPLOAD_TYPES = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp"}
UNAUTHORIZED = useapi_error(401, "Unauthorized")


def request_key(req: Request) -> str:
    """The account a request concerns (for per-key stats), else its token."""
    match = VIDEO_ID.match(req.path.rsplit("/", 1)[-1])
    if match:
        return match.group(2)
    if req.query.get("account"):
        return req.query["account"]
    if req.method == "POST" and req.body[:1] == b"{":
        try:
            account = req.json().get("account")
        except (ValueError, AttributeError):
            account = None
        if account:
            return str(account)
    return req.bearer


def handle(emu: "Emulator", req: Request) -> Reply:
    token = req.bearer
    if not token or token in emu.state.config.invalid_keys:
        return UNAUTHORIZED
    parts = [part for part in req.path[len(PREFIX) :].split("/") if part]
    route = (req.method, *parts[:1])
    if route == ("POST", "videos") and parts[1:] == ["create"]:
        return create(emu, req, token)
    if route == ("GET", "videos"):
        return get_video(emu, req, token, parts[1]) if len(parts) > 1 else list_videos(emu, req)
    if route == ("POST", "files") and len(parts) == 1:
        return upload(emu, req, token)
    if parts[:1] == ["accounts"]:
        return accounts(emu, req, parts[1:])
    if route == ("GET", "scheduler"):
        return scheduler(emu, req, parts[1:])
    return useapi_error(404, "Not found.")


def create(emu: "Emulator", req: Request, token: str) -> Reply:
    state = emu.state
    config = state.config
    try:
        body = req.json()
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return useapi_error(400, "Request body must be a JSON object")
    state.record_create("useapi", body)
    account = str(body["account"]) if body.get("account") else _pick_account(emu)
    if account is None:
        return useapi_error(429, "All configured accounts are busy, please try again later")
    try:
        spec = _validate(body, account, state)
    except Invalid as exc:
        return useapi_error(400, str(exc))
    state.touch_account(account)
    if token in config.on_hold_keys or account in config.on_hold_keys:
        return useapi_error(596, "Account placed on hold")
    if {token, account} & {*config.no_balance_keys, *config.quota_keys}:
        return useapi_error(412, f"Account {account} has run out of credits")
    limit = spec["max_jobs"] or state.account_max_jobs(account)
    if config.max_concurrent:
        limit = min(limit, config.max_concurrent)
    with state.lock:
        refused = state.refusal(account, limit)
    if refused:
        return _busy(account, limit, refused)
    if config.moderate_input_word and config.moderate_input_word.lower() in spec["prompt"].lower():
        return useapi_error(422, "Moderated prompt")
    task_id = state.new_id(18)
    user = _user_id(token)
    task = Task(
        task_id=task_id,
        key=account,
        protocol="useapi",
        prompt=spec["prompt"],
        model=spec["model"],
        resolution=spec["resolution"],
        duration=spec["duration"],
        outcome=outcome_for(spec["prompt"], config),
        preparing_s=config.preparing_s,
        queueing_s=config.queueing_s,
        processing_s=config.processing_s,
        has_first_frame=bool(spec["files"]) and spec["model"] != "S2V-01",
        has_subject=spec["model"] == "S2V-01",
        callback_url=spec["reply_url"],
        token=token,
        video_id=f"user:{user}-minimax:{account}-video:{task_id}",
        options=spec["options"],
        reply_ref=spec["reply_ref"],
        origin_files=[
            {"id": file_id, "url": _oss_url(req.base_url, upload_id, kind), "type": kind}
            for file_id, upload_id, kind in spec["files"]
        ],
    )
    refused = state.admit(task, limit)
    if refused:  # a concurrent create took the last slot
        return _busy(account, limit, refused)
    return Reply.json({**record(emu, req.base_url, task), "replyRef": task.reply_ref})


def get_video(emu: "Emulator", req: Request, token: str, video_id: str) -> Reply:
    task = emu.state.get_video(video_id)
    if task is None or task.token != token:
        return useapi_error(404, "Not found.")
    return Reply.json(record(emu, req.base_url, task))


def list_videos(emu: "Emulator", req: Request) -> Reply:
    try:
        limit = int(req.query.get("limit", "30"))
    except ValueError:
        return useapi_error(400, "limit must be an integer")
    tasks = emu.state.useapi_tasks(req.bearer, req.query.get("account") or None)
    after = req.query.get("lastVideoId")
    if after:
        ids = [task.video_id for task in tasks]
        tasks = tasks[ids.index(after) + 1 :] if after in ids else []
    items = [record(emu, req.base_url, task) for task in tasks[: max(0, limit)]]
    for item in items:
        item.pop("percent", None)  # the list carries no progress, per the docs
    return Reply.json({"videos": items})


def record(emu: "Emulator", base_url: str, task: Task) -> dict[str, Any]:
    """The §5 video record for `task` as it stands now."""
    code, label = _status(task)
    final = task.status in ("Success", "Fail")
    width, height = task.dimensions
    done = task.status == "Success"
    url = emu.download_url(base_url, task) if done else ""
    return {
        "id": task.task_id,
        "videoId": task.video_id,
        "account": task.key,
        "desc": task.prompt,
        "model": task.model,
        "options": task.options,
        "coverURL": f"{base_url}/cover/{task.file_id}.jpg" if done else "",
        "videoURL": url,
        "downloadURL": url,
        "status": code,
        "statusLabel": label,
        "statusFinal": final,
        "percent": task.percent_at(time.monotonic()),
        "message": _message(task),
        "width": width,
        "height": height,
        "originFiles": task.origin_files,
        "canAppeal": task.outcome == "moderated" and final,
        "canRetry": task.outcome == "fail" and final,
        "createTime": int(task.created_at * 1000),
    }


def final_callback(emu: "Emulator", base_url: str, task: Task) -> dict[str, Any]:
    """The replyUrl body: the video record plus the caller's replyRef."""
    return {**record(emu, base_url, task), "replyRef": task.reply_ref}


def upload(emu: "Emulator", req: Request, token: str) -> Reply:
    account = req.query.get("account") or DEFAULT_ACCOUNT
    content_type = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type not in UPLOAD_TYPES:
        return useapi_error(400, f"Unsupported Content-Type {content_type or '(none)'}")
    if not req.body:
        return useapi_error(400, "Request body is empty")
    try:
        inspect_image(req.body)
    except BadImage as exc:
        return useapi_error(400, f"Uploaded file {exc}")
    emu.state.touch_account(account)
    upload_id = emu.state.add_upload(req.body, content_type, account)
    kind = UPLOAD_TYPES[content_type]
    return Reply.json(
        {
            "ossPath": _oss_url(req.base_url, upload_id, kind),
            "fileID": f"user:{_user_id(token)}-minimax:{account}-file:{upload_id}",
        }
    )


def oss(emu: "Emulator", name: str) -> Reply:
    """The bytes of an upload, where ossPath points."""
    found = emu.state.get_upload(name.split(".")[0])
    if found is None:
        return Reply(status=404, body=b"Not Found", content_type="text/plain")
    return Reply(body=found["data"], content_type=found["type"])


def accounts(emu: "Emulator", req: Request, rest: list[str]) -> Reply:
    if req.method == "GET" and not rest:
        return Reply.json({a: _account(emu, a) for a in emu.state.account_list()})
    if req.method == "GET":
        emu.state.touch_account(rest[0])
        return Reply.json(_account(emu, rest[0]))
    if req.method == "POST":
        try:
            body = req.json() if req.body else {}
            account = rest[0] if rest else str(body.get("account") or DEFAULT_ACCOUNT)
            max_jobs = int(body.get("maxJobs", 0)) or None
        except (ValueError, TypeError, AttributeError):
            return useapi_error(400, "Request body must be a JSON object")
        if max_jobs is not None and not 1 <= max_jobs <= 10:
            return useapi_error(400, "maxJobs must be between 1 and 10")
        emu.state.touch_account(account, max_jobs)
        return Reply.json(_account(emu, account), status=201)
    return useapi_error(404, "Not found.")


def scheduler(emu: "Emulator", req: Request, rest: list[str]) -> Reply:
    running = [task for task in emu.state.useapi_tasks(req.bearer, None) if not _final(task)]
    executing = [
        {
            "videoId": task.video_id,
            "started": _iso(task.created_at),
            "elapsed": _elapsed(task.created_at),
            "replyUrl": task.callback_url,
            "replyRef": task.reply_ref,
        }
        for task in running
    ]
    if not rest:
        return Reply.json(executing)
    if rest != ["available"]:
        return useapi_error(404, "Not found.")
    available = []
    for account in emu.state.account_list():
        busy = sum(1 for task in running if task.key == account)
        max_jobs = emu.state.account_max_jobs(account)
        available.append(
            {
                "account": account,
                "maxJobs": max_jobs,
                "executing": busy,
                "available": max(0, max_jobs - busy),
            }
        )
    available = [entry for entry in available if entry["available"] > 0]
    return Reply.json({"executing": executing, "available": available})


def _validate(body: dict[str, Any], account: str, state: Any) -> dict[str, Any]:
    prompt = body.get("prompt") or ""
    if not isinstance(prompt, str):
        raise Invalid("prompt must be a string")
    if "promptOptimization" in body and not isinstance(body["promptOptimization"], bool):
        raise Invalid("promptOptimization must be true or false")
    file_id = body.get("fileID") or None
    model = body.get("model") or ("I2V-01" if file_id else "T2V-01")
    if model not in OPTIONS and model not in SEEDANCE:
        raise Invalid(f"Unsupported model {model}")
    if len(prompt) > prompt_max(model):
        raise Invalid(f"prompt is {len(prompt)} characters; the maximum is {prompt_max(model)}")
    if not prompt.strip() and not file_id:
        raise Invalid("prompt is required when no fileID is given")
    if model in NEEDS_IMAGE and not file_id:
        raise Invalid(f"Model {model} requires fileID")
    if model in TEXT_ONLY and file_id:
        raise Invalid(f"Model {model} is text-to-video and takes no fileID")
    files = [_upload_of(file_id, "fileID", account, state)] if file_id else []
    end_frame = body.get("end_frame_fileID") or None
    if end_frame:
        if model not in END_FRAME:
            raise Invalid(f"Model {model} does not support end_frame_fileID")
        if not file_id or end_frame == file_id:
            raise Invalid("end_frame_fileID needs a different fileID as the first frame")
        files.append(_upload_of(end_frame, "end_frame_fileID", account, state))
    for name, reference in reference_ids(body, model, bool(file_id)):
        files.append(_upload_of(reference, name, account, state))
    if model in SEEDANCE:
        options, (resolution, duration) = "", seedance_size(body, model)
    else:
        no_seedance_fields(body, model)
        options, resolution, duration = _options(body.get("options"), model, bool(file_id))
    aspect_ratio(body, model)
    if end_frame and resolution == "512P":
        raise Invalid("end_frame_fileID needs a 768p or 1080p option")
    reply_url, reply_ref = body.get("replyUrl") or None, body.get("replyRef")
    for name, value in (("replyUrl", reply_url), ("replyRef", reply_ref)):
        if value is not None and (not isinstance(value, str) or len(value) > 1024):
            raise Invalid(f"{name} must be a string of at most 1024 characters")
    if reply_url and not reply_url.startswith(("http://", "https://")):
        raise Invalid("replyUrl must be an http(s) URL")
    max_jobs = body.get("maxJobs")
    if max_jobs is not None and (
        not isinstance(max_jobs, int) or isinstance(max_jobs, bool) or not 1 <= max_jobs <= 10
    ):
        raise Invalid("maxJobs must be an integer between 1 and 10")
    return {
        "prompt": prompt,
        "model": model,
        "files": files,
        "options": options,
        "resolution": resolution,
        "duration": duration,
        "reply_url": reply_url,
        "reply_ref": reply_ref,
        "max_jobs": max_jobs,
    }


def _upload_of(file_id: Any, name: str, account: str, state: Any) -> tuple[str, str, str]:
    match = FILE_ID.match(file_id) if isinstance(file_id, str) else None
    if not match:
        raise Invalid(f"{name} must look like user:<id>-minimax:<account>-file:<id>")
    if match.group(2) != account:
        raise Invalid(f"{name} belongs to account {match.group(2)}, not {account}")
    found = state.get_upload(match.group(3))
    if found is None:
        raise Invalid(f"{name} {file_id} not found")
    return file_id, match.group(3), UPLOAD_TYPES[found["type"]]


def _options(value: Any, model: str, has_image: bool) -> tuple[str, str, int]:
    allowed = OPTIONS[model]
    if allowed is None:
        return "", "720P", 6  # the 01 series is fixed at 720p, 6 s
    option = value or ("768p-6sec" if "768p-6sec" in allowed else allowed[0])
    if option not in allowed:
        raise Invalid(f"options {option!r} is not valid for {model}: {', '.join(allowed)}")
    if option.startswith("512p") and not has_image:
        raise Invalid("512p options need a fileID (image-to-video)")
    match = re.match(r"^(?:veo-)?(\d+p|4k)-(\d+)sec$", option)
    assert match  # every entry of OPTIONS has this form
    return option, match.group(1).upper(), int(match.group(2))


def _pick_account(emu: "Emulator") -> str | None:
    # useapi picks at random among the accounts with free capacity.
    state = emu.state
    free = []
    for account in state.account_list():
        with state.lock:
            running = state.running_count(account)
        if running < state.account_max_jobs(account):
            free.append(account)
    return secrets.choice(free) if free else None


def _busy(account: str, limit: int, why: str) -> Reply:
    if why == "rate":
        return useapi_error(429, f"Account {account} is busy: too many requests, try again later")
    return useapi_error(
        429, f"Account {account} is busy executing {limit} of maxJobs {limit} videos"
    )


def _status(task: Task) -> tuple[int, str]:
    if task.status == "Success":
        return 2, "completed"
    if task.status == "Fail":
        return (5, "moderated") if task.outcome == "moderated" else (3, "failed")
    if task.status == "Processing":
        return 1, "processing"
    return 0, "pending"


def _message(task: Task) -> str:
    if task.status == "Processing":
        return f"Generating {task.percent_at(time.monotonic())}%"
    if task.status == "Fail" and task.outcome == "moderated":
        return "The generated video was flagged by content moderation"
    if task.status == "Fail":
        return "Video generation failed, please try again"
    return {"Preparing": "Preparing", "Queueing": "In queue", "Success": ""}[task.status]


def _final(task: Task) -> bool:
    return task.status in ("Success", "Fail")


def _account(emu: "Emulator", account: str) -> dict[str, Any]:
    now = time.time()
    return {
        "account": account,
        "jwt": {
            "token": "eyJh…secured…emu",
            "user": {
                "deviceID": f"9{account}",
                "id": account,
                "isAnonymous": False,
                "name": f"Emulated {account}",
                "avatar": "",
            },
            "exp": now + 30 * 86400,
            "iat": now,
            "host": "hailuoai.video",
            "searchParams": "device_platform=web&app_id=3001&version_code=22201&os_name=Linux",
            "iat_Issued": _iso(now),
            "exp_Expire": _iso(now + 30 * 86400),
        },
        "maxJobs": emu.state.account_max_jobs(account),
        "supportVideo": True,
        "supportMusic": False,
    }


def _user_id(token: str) -> str:
    match = re.match(r"^user:(\d+)-", token)
    return match.group(1) if match else "1"


def _oss_url(base_url: str, upload_id: str, kind: str) -> str:
    return f"{base_url}/oss/{upload_id}.{kind}"


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _elapsed(started: float) -> str:
    seconds = int(time.time() - started)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"
