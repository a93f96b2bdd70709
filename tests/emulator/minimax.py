"""MiniMax's official v1 video API: create, query, files/retrieve (minimax-api.md §2-7).

Business errors are HTTP 200 with a non-zero base_resp.status_code, as on the real service.
"""

from typing import TYPE_CHECKING, Any

from tests.emulator.callbacks import check_challenge
from tests.emulator.media import BadImage, check_minimax_image
from tests.emulator.state import Task
from tests.emulator.wire import Reply, Request, base_resp

if TYPE_CHECKING:
    from tests.emulator.server import Emulator

H23, H23_FAST, H02 = "MiniMax-Hailuo-2.3", "MiniMax-Hailuo-2.3-Fast", "MiniMax-Hailuo-02"
SERIES_01 = ("T2V-01", "T2V-01-Director", "I2V-01", "I2V-01-Director", "I2V-01-live")
MODES = {
    "text-to-video": (H23, H02, "T2V-01-Director", "T2V-01"),
    "image-to-video": (H23, H23_FAST, H02, "I2V-01-Director", "I2V-01-live", "I2V-01"),
    "first-last-frame": (H02,),
    "subject-reference": ("S2V-01",),
}
ALL_MODELS = {model for models in MODES.values() for model in models}
MAX_PROMPT = 2000
LOGIN_FAIL = (
    "login fail: Please carry the API secret key in the 'Authorization' field of the request header"
)
RATE_LIMIT = "trigger rate limit, please contact the sales representative"


class Invalid(ValueError):
    """A create body the real service would refuse with 2013."""


def authenticate(emu: "Emulator", req: Request) -> tuple[str, tuple[int, str] | None]:
    """The caller's key, and the (code, message) refusing it if it is not accepted here."""
    key = req.bearer
    if not key:
        return "", (1004, LOGIN_FAIL)
    if key in emu.state.config.invalid_keys:
        return key, (1004, "login fail: invalid api secret key")
    # Keys are bound to their platform; on the other host they are simply not known.
    if ("cn" if key.startswith("cn-") else "global") != req.region:
        return key, (2049, "invalid api key")
    return key, None


def create(emu: "Emulator", req: Request) -> Reply:
    key, refused = authenticate(emu, req)
    if refused:
        return _refuse(*refused)
    config = emu.state.config
    try:
        body = req.json()
    except ValueError:
        return _refuse(2013, "invalid params, request body is not valid JSON")
    emu.state.record_create("minimax", body)
    with emu.state.lock:
        early = emu.state.refusal(key, 0)  # the gateway's rate limit comes before anything else
    if early:
        return _limited(emu, "rate")
    try:
        spec = validate(body)
    except Invalid as exc:
        return _refuse(2013, f"invalid params, {exc}")
    if key in config.no_balance_keys:
        return _refuse(1008, "insufficient balance")
    if key in config.quota_keys:
        return _refuse(2056, "usage limit exceeded, please wait for the next 5-hour window")
    with emu.state.lock:
        busy = emu.state.refusal(key, config.max_concurrent)
    if busy:
        return _limited(emu, busy)
    prompt = spec["prompt"]
    if _contains(prompt, config.moderate_input_word):
        return _refuse(1026, "input new_sensitive")
    callback_url = spec["callback_url"]
    if callback_url and not check_challenge(callback_url, config.callback_timeout_s):
        return _refuse(2013, "invalid params, fail to check callback url")
    task = Task(
        task_id=emu.state.new_id(15),
        key=key,
        protocol="minimax",
        prompt=prompt,
        model=spec["model"],
        resolution=spec["resolution"],
        duration=spec["duration"],
        outcome=outcome_for(prompt, config),
        preparing_s=config.preparing_s,
        queueing_s=config.queueing_s,
        processing_s=config.processing_s,
        has_first_frame=spec["has_first_frame"],
        has_subject=spec["has_subject"],
        callback_url=callback_url,
    )
    refused_now = emu.state.admit(task, config.max_concurrent)
    if refused_now:  # another request took the last slot while the challenge ran
        return _limited(emu, refused_now)
    return base_resp(0, "success", task_id=task.task_id)


def query(emu: "Emulator", req: Request) -> Reply:
    key, refused = authenticate(emu, req)
    if refused:
        return base_resp(*refused)
    task_id = req.query.get("task_id", "").strip()
    if not task_id:
        return base_resp(2013, "invalid params, task_id is required")
    task = emu.state.get_task(task_id)
    if task is None or task.protocol != "minimax":
        return base_resp(2013, "invalid params, task not found", task_id=task_id)
    if task.key != key:
        return base_resp(1004, "token not match group", task_id=task_id)
    return Reply.json(query_body(task, task.status))


def query_body(task: Task, status: str, lowercase: bool = False) -> dict[str, Any]:
    """The query answer for `task` in `status`; callbacks post the same shape."""
    shown = status
    if lowercase:
        shown = "failed" if status == "Fail" else status.lower()
    body: dict[str, Any] = {"task_id": task.task_id, "status": shown}
    code, message = 0, "success"
    if status == "Success":
        width, height = task.dimensions
        body.update(file_id=task.file_id, video_width=width, video_height=height)
    elif status == "Fail" and task.outcome == "moderated":
        code, message = 1027, "output new_sensitive: the generated video was flagged"
    elif status == "Fail":
        code, message = 1000, "unknown error: video generation failed, please try again"
    body["base_resp"] = {"status_code": code, "status_msg": message}
    return body


def retrieve(emu: "Emulator", req: Request) -> Reply:
    key, refused = authenticate(emu, req)
    if refused:
        return base_resp(*refused)
    file_id = req.query.get("file_id", "").strip()
    if not file_id.isdigit():
        return base_resp(2013, "invalid params, file_id must be an integer")
    task = emu.state.get_file(str(int(file_id)))
    if task is None or task.protocol != "minimax":
        return base_resp(2013, "invalid params, file not found")
    if task.key != key:
        return base_resp(1004, "token not match group")
    file = {
        "file_id": int(task.file_id or 0),
        "bytes": emu.media.size(),
        "created_at": int(task.finished_at or 0),
        "filename": "output.mp4",
        "purpose": "video_generation",
        "download_url": emu.download_url(req.base_url, task),
    }
    return base_resp(0, "success", file=file)


def validate(body: Any) -> dict[str, Any]:
    """The parts of a create body the emulator keeps; Invalid with the reason otherwise."""
    if not isinstance(body, dict):
        raise Invalid("request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise Invalid("model is required")
    if model not in ALL_MODELS:
        raise Invalid(f"model {model} is not supported")
    mode = _mode(body)
    if model not in MODES[mode]:
        raise Invalid(_wrong_mode(model, mode))
    prompt = body.get("prompt", "")
    if not isinstance(prompt, str):
        raise Invalid("prompt must be a string")
    if mode == "text-to-video" and not prompt.strip():
        raise Invalid("prompt is required for text-to-video")
    if len(prompt) > MAX_PROMPT:
        raise Invalid(f"prompt must be at most {MAX_PROMPT} characters, got {len(prompt)}")
    for flag in ("prompt_optimizer", "fast_pretreatment", "aigc_watermark"):
        if flag in body and not isinstance(body[flag], bool):
            raise Invalid(f"{flag} must be a boolean")
    resolution, duration = _resolution_and_duration(body, model, mode)
    _check_images(body, mode)
    callback_url = body.get("callback_url") or None
    if callback_url is not None and (
        not isinstance(callback_url, str) or not callback_url.startswith(("http://", "https://"))
    ):
        raise Invalid("callback_url must be an http(s) URL")
    return {
        "model": model,
        "prompt": prompt,
        "resolution": resolution,
        "duration": duration,
        "has_first_frame": bool(body.get("first_frame_image")),
        "has_subject": mode == "subject-reference",
        "callback_url": callback_url,
    }


def _mode(body: dict[str, Any]) -> str:
    if body.get("subject_reference") is not None:
        return "subject-reference"
    if body.get("last_frame_image"):
        return "first-last-frame"
    if body.get("first_frame_image"):
        return "image-to-video"
    return "text-to-video"


def _wrong_mode(model: str, mode: str) -> str:
    if model == H23_FAST:
        return f"{model} is image-to-video only and requires first_frame_image"
    if model == "S2V-01":
        return f"{model} requires subject_reference"
    if mode == "first-last-frame":
        return f"last_frame_image is only supported by {H02}, not {model}"
    if mode == "subject-reference":
        return f"subject_reference is only supported by S2V-01, not {model}"
    if mode == "image-to-video":
        return f"model {model} does not support first_frame_image"
    return f"model {model} does not support text-to-video; it requires first_frame_image"


def _allowed(model: str, mode: str) -> dict[str, tuple[int, ...]]:
    """Resolution -> durations, from the matrix in minimax-api.md §2."""
    if model in SERIES_01 or model == "S2V-01":
        return {"720P": (6,)}
    allowed = {"768P": (6, 10), "1080P": (6,)}
    if model == H02 and mode == "image-to-video":
        allowed["512P"] = (6, 10)
    return allowed


def _resolution_and_duration(body: dict[str, Any], model: str, mode: str) -> tuple[str, int]:
    allowed = _allowed(model, mode)
    default = "720P" if "720P" in allowed else "768P"
    resolution = body.get("resolution", default)
    duration = body.get("duration", 6)
    if not isinstance(duration, int) or isinstance(duration, bool):
        raise Invalid("duration must be an integer number of seconds")
    if resolution not in ("512P", "720P", "768P", "1080P"):
        raise Invalid(f"resolution {resolution!r} is not one of 512P, 720P, 768P, 1080P")
    if resolution == "512P" and mode == "first-last-frame":
        raise Invalid("512P is not supported for first-and-last-frame generation")
    if resolution not in allowed:
        raise Invalid(f"{model} does not support resolution {resolution}")
    if duration not in allowed[resolution]:
        choices = " or ".join(str(d) for d in allowed[resolution])
        raise Invalid(f"{model} at {resolution} supports a duration of {choices} seconds")
    return resolution, duration


def _check_images(body: dict[str, Any], mode: str) -> None:
    try:
        for name in ("first_frame_image", "last_frame_image"):
            if body.get(name):
                check_minimax_image(name, body[name])
        if mode == "first-last-frame" and not body.get("first_frame_image"):
            raise Invalid("first_frame_image is required with last_frame_image")
        if mode == "subject-reference":
            if body.get("first_frame_image") or body.get("last_frame_image"):
                raise Invalid("S2V-01 takes subject_reference alone, no first or last frame")
            refs = body["subject_reference"]
            if not isinstance(refs, list) or len(refs) != 1 or not isinstance(refs[0], dict):
                raise Invalid("subject_reference must hold exactly one character")
            if refs[0].get("type") != "character":
                raise Invalid("subject_reference type must be 'character'")
            images = refs[0].get("image")
            if not isinstance(images, list) or len(images) != 1:
                raise Invalid("subject_reference image must be a list of exactly one image")
            check_minimax_image("subject_reference image", images[0])
    except BadImage as exc:
        raise Invalid(str(exc)) from exc


def outcome_for(prompt: str, config: Any) -> str:
    if _contains(prompt, config.moderate_output_word):
        return "moderated"
    if _contains(prompt, config.fail_word):
        return "fail"
    return "success"


def _contains(text: str, word: str) -> bool:
    return bool(word) and word.lower() in text.lower()


def _limited(emu: "Emulator", why: str) -> Reply:
    message = RATE_LIMIT if why == "rate" else f"{RATE_LIMIT}: too many tasks in progress"
    reply = _refuse(1002, message)
    if emu.state.config.rate_limit_http_429:
        reply.status = 429
    return reply


def _refuse(code: int, message: str) -> Reply:
    # A refused create carries an empty task_id, as in the third-party fixtures.
    return base_resp(code, message, task_id="")
