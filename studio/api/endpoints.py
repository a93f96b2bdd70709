"""The REST API under /v1/minimax/: useapi.net's MiniMax API (seeds/000 and
reference/useapi-minimax.md), served by the studio, so a script written for useapi.net runs
against it with only its base URL and token changed. Views are thin: parse with a form, call
one service or selector, answer JSON.

Every answer that is not a success is `{"error": "...", "code": N}` with a message that says what
to fix; lookups go through access.py, scoped to the token's team (another team's id is a 404).
"""

import functools
import json
import re
import time

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    ValidationError,
)
from django.http import Http404, HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from studio.api import access as api_access
from studio.api import records
from studio.api import services as api_services
from studio.api.access import ApiCaller
from studio.api.forms import (
    ApiAccountForm,
    ApiCancelForm,
    ApiFileListForm,
    ApiForm,
    ApiListForm,
    ApiVideoForm,
)
from studio.api.openapi import openapi_document
from studio.lib import textguard
from videos import access, selectors, services
from videos.images import BUSY_RETRY_SECONDS, ImageBusy, ImageRejected, clean_image
from videos.models import Video
from videos.streaming import serve_file

IMAGE_TYPES = ("image/png", "image/jpeg", "image/jpg", "image/webp")
_LENGTH = re.compile(r"[0-9]{1,18}")
_MAX_JSON_DIGITS = 100
# The statusInfo codes of the seed's 422 (moderated) and upstream-429 examples.
MODERATED, QUEUE_FULL = 1500001, 1500006


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status, self.extra = status, extra

    def response(self) -> JsonResponse:
        return error(self.status, str(self), **self.extra)


def error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra, "code": status}, status=status)


def api_view(*methods: str, admin: bool = False):
    """Token auth, the per-token rate limit, and errors as JSON, around an API view."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                answer = error(405, f"Use {' or '.join(methods)} on {request.path}.")
                answer["Allow"] = ", ".join(methods)
                return answer
            caller = api_access.api_caller(request.headers.get("Authorization", ""))
            if caller is None:
                return error(401, "Unauthorized")
            check = api_services.api_token_use(token=caller.token)
            if not check.allowed:
                answer = error(
                    429,
                    f"Too many requests: a token may make {settings.API_RATE_LIMIT} requests "
                    f"every {settings.API_RATE_WINDOW_SECONDS} s. "
                    f"Try again in {check.retry_after} s.",
                )
                answer["Retry-After"] = str(check.retry_after)
                return answer
            try:
                if admin and not caller.membership.is_admin:
                    raise PermissionDenied("Only team admins can manage accounts.")
                return view(request, caller, *args, **kwargs)
            except ApiError as exc:
                return exc.response()
            except Http404 as exc:
                return error(404, str(exc) or "Not found.")
            except PermissionDenied as exc:
                return error(403, str(exc) or "Only team admins can do that.")
            except services.QueueFull as exc:
                return _queue_full(exc)
            except services.Refused as exc:
                return JsonResponse(
                    {
                        "error": str(exc),
                        "statusInfo": _status_info(MODERATED, str(exc)),
                        "code": 422,
                    },
                    status=422,
                )
            except (services.ServiceError, ValidationError) as exc:
                message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                return error(400, message)

        return wrapper

    return decorate


def _status_info(code: int, message: str) -> dict:
    return {"code": code, "httpCode": 0, "message": message, "debugInfo": str(code)}


def _queue_full(exc: services.QueueFull) -> JsonResponse:
    if exc.upstream:  # useapi.net's second flavour: the upstream itself said "too many"
        body = {
            "error": str(exc),
            "statusInfo": _status_info(QUEUE_FULL, exc.upstream),
            "code": 429,
        }
    else:
        running: dict[str, list] = {}
        for video in exc.running:
            running.setdefault(records.account_ref(video.account), []).append(
                records.running_record(video)
            )
        body = {"error": str(exc), "runningVideos": running, "code": 429}
    answer = JsonResponse(body, status=429)
    answer["Retry-After"] = "10"
    return answer


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _body(request: HttpRequest) -> dict:
    """The request's fields, from JSON or a form body. Too large, malformed, or holding text
    the studio cannot keep (videos/textguard.py) is a 400 naming the field."""
    data = _decoded_body(request)
    problem = textguard.json_problem(data)
    if problem:
        raise ApiError(400, problem)
    return data


def _decoded_body(request: HttpRequest) -> dict:
    length = _content_length(request)
    if request.content_type == "multipart/form-data" or (
        request.content_type == "application/x-www-form-urlencoded"
    ):
        try:
            return request.POST.dict()
        except (RequestDataTooBig, TooManyFieldsSent, MultiPartParserError) as exc:
            raise ApiError(400, f"The form body could not be read: {exc}") from None
    if length > settings.API_MAX_BODY_BYTES:
        raise ApiError(
            400,
            f"The body is {length:,} bytes; the limit is {settings.API_MAX_BODY_BYTES:,}.",
        )
    raw = request.read(settings.API_MAX_BODY_BYTES + 1)
    if len(raw) > settings.API_MAX_BODY_BYTES:
        raise ApiError(400, f"The body is over {settings.API_MAX_BODY_BYTES:,} bytes.")
    if not raw.strip():
        return {}
    if request.content_type not in ("application/json", "", "text/plain"):
        raise ApiError(
            400,
            f"Send the body as application/json or multipart/form-data, "
            f"not {request.content_type}.",
        )
    try:
        data = json.loads(raw, parse_int=_json_int, parse_constant=_json_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"The body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "The body nests too deeply to read; send a flat JSON object.") from None
    if not isinstance(data, dict):
        raise ApiError(400, 'The body must be a JSON object, e.g. {"prompt": "..."}.')
    return data


def _json_int(digits: str) -> int:
    # Python's int() refuses more than 4,300 digits, with advice about sys.set_int_max_str_digits;
    # no field takes a number anywhere near that long.
    if len(digits) > _MAX_JSON_DIGITS:
        raise ApiError(
            400, f"The body holds a number {len(digits):,} digits long; no field takes one."
        )
    return int(digits)


def _json_constant(name: str):
    raise ApiError(400, f"The body is not valid JSON: {name} is not a JSON number.")


def _content_length(request: HttpRequest) -> int:
    # Django itself reads a malformed Content-Length as 0; so do we, rather than fail. ASCII
    # digits only: "²".isdigit() is true and int("²") fails.
    value = request.META.get("CONTENT_LENGTH") or "0"
    return int(value) if _LENGTH.fullmatch(value) else 0


def _parsed(form: ApiForm) -> dict:
    if not form.is_valid():
        raise ApiError(400, form.error_message())
    return form.cleaned_data


def _row_id(value: object, kind: str, *, field: str) -> int:
    """The row id inside a composite id of `kind`, or a 400 that shows the expected form."""
    pk = records.parse_id(value, kind)
    if pk is None:
        raise ApiError(400, f"{field} {value!r} is not a {kind} id (user:…-minimax:…-{kind}:…).")
    return pk


def _video(caller: ApiCaller, value: object) -> Video:
    pk = _row_id(value, "video", field="videoId")
    try:
        return access.get_video_for_member(caller.membership, pk)
    except Http404:
        raise ApiError(404, "Not found.") from None


# Videos


@api_view("POST")
def video_create(request, caller: ApiCaller):
    data = _parsed(ApiVideoForm(_body(request)))
    membership = caller.membership
    account = image = None
    if data["account"]:
        try:
            account = access.get_account_for_member(membership, data["account"])
        except Http404 as exc:
            raise ApiError(
                400, f"account: {exc} GET /v1/minimax/scheduler/available lists them."
            ) from None
    last_image = None
    if data["fileID"]:
        image = _image(caller, data["fileID"], field="fileID")
    if data["end_frame_fileID"]:
        last_image = _image(caller, data["end_frame_fileID"], field="end_frame_fileID")
    video = services.video_submit(
        team=membership.team,
        user=membership.user,
        prompt=data["prompt"],
        prompt_optimization=data["promptOptimization"],
        stored_image=image,
        stored_last_image=last_image,
        model=data["model"],
        resolution=data["resolution"],
        duration=data["duration"],
        account=account,
        max_jobs=data["maxJobs"],
        reply_url=data["replyUrl"],
        reply_ref=data["replyRef"],
        via_api=True,
        origin=_base(request),
    )
    return JsonResponse(
        {
            "data": {"id": video.upstream_id or str(video.pk)},
            "statusInfo": {**_status_info(0, "Success"), "serviceTime": _now()},
            "videoId": records.video_id(video),
            "code": 200,
            "replyUrl": video.reply_url,
            "replyRef": video.reply_ref,
        }
    )


def _now() -> int:
    return int(time.time())


@api_view("GET", "DELETE")
def video_detail(request, caller: ApiCaller, video_id: str):
    video = _video(caller, video_id)
    if request.method == "DELETE":
        services.video_delete(video=video)
        return JsonResponse({"videoId": video_id, "deleted": True, "code": 200})
    video = selectors.video_with_position(video=video)
    return JsonResponse(records.video_record(video, base=_base(request)))


@api_view("GET")
def video_list(request, caller: ApiCaller):
    data = _parsed(ApiListForm(request.GET.dict()))
    before = None
    if data["lastVideoId"]:
        before = _row_id(data["lastVideoId"], "video", field="lastVideoId")
    account = None
    if data["account"]:
        account = access.get_account_for_member(caller.membership, data["account"])
    page = selectors.video_list(
        team=caller.membership.team, before=before, limit=data["limit"] or 30, account=account
    )
    base = _base(request)
    return JsonResponse(
        {
            "videos": [records.video_record(v, base=base) for v in page.videos],
            "lastVideoId": records.video_id(page.videos[-1]) if page.next_before else None,
            "code": 200,
        }
    )


@api_view("POST")
def video_cancel(request, caller: ApiCaller):
    data = _parsed(ApiCancelForm(_body(request)))
    video = _video(caller, data["videoId"])
    if not services.video_cancel(video=video, by=caller.membership.user):
        video.refresh_from_db()
        if video.status != Video.Status.CANCELLED:
            raise ApiError(400, f"The video already ended ({video.status}); nothing to cancel.")
    video.refresh_from_db()
    return JsonResponse(records.video_record(video, base=_base(request)))


# Files


@api_view("GET", "POST")
def files(request, caller: ApiCaller):
    if request.method == "GET":
        data = _parsed(ApiFileListForm(request.GET.dict()))
        before = None
        if data["lastFileID"]:
            before = _row_id(data["lastFileID"], "file", field="lastFileID")
        images = selectors.image_list(
            team=caller.membership.team, before=before, limit=data["limit"] or 10
        )
        base = _base(request)
        return JsonResponse({"files": [records.file_record(i, base=base) for i in images]})
    upload, name, content_type = _upload(request)
    size = upload.size if hasattr(upload, "size") else _content_length(request)
    try:
        clean = clean_image(upload, name=name, content_type=content_type, size=size or None)
    except ImageBusy as exc:
        answer = error(503, str(exc))
        answer["Retry-After"] = str(BUSY_RETRY_SECONDS)
        return answer
    except ImageRejected as exc:
        raise ApiError(400, str(exc)) from None
    image = services.image_store(
        team=caller.membership.team, user=caller.membership.user, image=clean, original_name=name
    )
    return JsonResponse({**records.file_record(image, base=_base(request)), "code": 200})


def _upload(request: HttpRequest):
    """The image of POST files/: the raw body with an image Content-Type, or one multipart file."""
    if request.content_type == "multipart/form-data":
        try:
            parts = list(request.FILES.values())
        except (RequestDataTooBig, TooManyFieldsSent, MultiPartParserError) as exc:
            raise ApiError(400, f"The form body could not be read: {exc}") from None
        if len(parts) != 1:
            raise ApiError(400, f"Send one image file in the form; this one has {len(parts)}.")
        return parts[0], parts[0].name, parts[0].content_type or ""
    if request.content_type not in IMAGE_TYPES:
        raise ApiError(
            400,
            "Send the image as the raw body with Content-Type image/png, image/jpeg or "
            f"image/webp (this request says {request.content_type or 'nothing'}), "
            "or as one file in multipart/form-data.",
        )
    ext = request.content_type.split("/")[1].replace("jpeg", "jpg")
    # The request itself is the file: clean_image reads it straight from the stream, at most
    # MAX_IMAGE_BYTES + 1 bytes (request.body would refuse anything over 2.5 MB).
    return request, f"upload.{ext}", request.content_type


def _image(caller: ApiCaller, value: str, *, field: str):
    pk = _row_id(value, "file", field=field)
    try:
        return access.get_image_for_member(caller.membership, pk)
    except Http404:
        raise ApiError(
            400, f"{field}: no such file in your team; upload it with POST /v1/minimax/files/."
        ) from None


@api_view("DELETE")
def file_delete(request, caller: ApiCaller, file_id: str):
    pk = _row_id(file_id, "file", field="fileID")
    try:
        image = access.get_image_for_member(caller.membership, pk)
    except Http404:
        image = None  # as useapi.net: deleting what is not there is not an error
    if image is not None:
        services.image_delete(image=image)
    return JsonResponse({"fileID": file_id, "deleted": True, "code": 200})


# Accounts (team admins)


@api_view("GET", "POST", admin=True)
def accounts(request, caller: ApiCaller):
    if request.method == "POST":
        form = ApiAccountForm(_body(request))
        _parsed(form)
        account = services.account_create(team=caller.membership.team, **form.service_fields())
        answer = records.account_record(account, running=0)
        return JsonResponse(answer, status=201)
    rows = selectors.team_accounts(team=caller.membership.team)
    return JsonResponse(
        {records.account_ref(a): records.account_record(a, running=a.running) for a in rows}
    )


@api_view("GET", "DELETE", admin=True)
def account_detail(request, caller: ApiCaller, account: str):
    try:
        found = access.get_account_for_member(caller.membership, account)
    except Http404:
        raise ApiError(404, "Configuration not found") from None
    if request.method == "DELETE":
        services.account_delete(account=found)
        return JsonResponse({"account": account, "deleted": True, "code": 200})
    running = selectors.account_running(account=found)
    return JsonResponse(records.account_record(found, running=running))


# Scheduler


@api_view("GET")
def scheduler_list(request, caller: ApiCaller):
    videos = selectors.tracked_videos(team=caller.membership.team)
    return JsonResponse([records.running_record(v) for v in videos], safe=False)


@api_view("GET")
def scheduler_available(request, caller: ApiCaller):
    slots, queued = selectors.account_slots(team=caller.membership.team)
    return JsonResponse(
        {
            "executing": [records.running_record(v) for s in slots for v in s.running],
            "available": [
                {
                    "account": records.account_ref(s.account),
                    "name": s.account.name,
                    "kind": s.account.kind,
                    "maxJobs": s.account.max_jobs,
                    "executing": len(s.running),
                    "available": s.free if s.account.enabled and not s.account.is_paused else 0,
                    "enabled": s.account.enabled,
                    "paused": s.account.is_paused,
                }
                for s in slots
            ],
            "queued": queued,
        }
    )


@api_view("DELETE")
def scheduler_delete(request, caller: ApiCaller, video_id: str):
    video = _video(caller, video_id)
    if not services.video_untrack(video=video):
        raise ApiError(404, f"Unable to locate running {video_id}")
    return JsonResponse({"videoId": video_id, "tracked": False, "code": 200})


# Files behind the links in answers; no token needed while the link's signature holds.


@csrf_exempt
def media(request, token: str):
    if request.method not in ("GET", "HEAD"):
        return error(405, "Use GET on a file link.")
    found = records.read_link(token)
    caller = api_access.api_caller(request.headers.get("Authorization", ""))
    if found is None and caller is not None:
        found = records.read_link(token, max_age=None)  # an expired link, with the token
    if found is None:
        return error(401, "This link has expired; GET the video again for a fresh one.")
    kind, pk = found
    return _serve(request, kind, pk, caller)


def _serve(request, kind: str, pk: int, caller: ApiCaller | None):
    try:
        if kind == "image":
            image = access.get_image_for_link(pk, membership=caller and caller.membership)
            field, content_type, download = image.file, f"image/{image.format.lower()}", None
        else:
            video = access.get_video_for_link(pk, membership=caller and caller.membership)
            field = video.poster if kind == "cover" else video.file
            content_type = "image/jpeg" if kind == "cover" else "video/mp4"
            download = f"studio-video-{video.pk}.mp4" if kind == "download" else None
    except Http404:
        return error(404, "Not found.")
    if not field:
        return error(404, "This video has no file yet.")
    range_header = request.headers.get("Range", "")
    return serve_file(range_header, field, content_type=content_type, download_name=download)


# Exempt, like every view under /v1/: nothing here reads a session, and a CSRF refusal would be
# an HTML page where a script expects the API's JSON error.
@csrf_exempt
def openapi(request):
    if request.method not in ("GET", "HEAD"):
        return error(405, f"Use GET on {request.path}.")
    return JsonResponse(openapi_document(base=_base(request)))


@csrf_exempt
def not_found(request, rest: str = ""):
    return error(404, f"No such endpoint: {request.method} {request.path}. See /v1/openapi.json.")
