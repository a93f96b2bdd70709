"""Every answer of /v1/ that is not a success: `{"error": "...", "code": N}`, with a message that
says what to fix and names the field it is about. Installed on the NinjaAPI by studio/api/api.py;
routers raise, these handlers answer."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from studio import conf
from studio.api.links import account_ref
from studio.api.schemas import running_out, status_info
from studio.api.services import RateCheck
from studio.lib.errors import ServiceError
from videos import services
from videos.images import BUSY_RETRY_SECONDS, ImageBusy, ImageRejected

# The statusInfo codes of the seed's 422 (moderated) and upstream-429 examples.
MODERATED, QUEUE_FULL = 1500001, 1500006
# Where ninja says where a value came from; the API's messages name only the field.
_SOURCES = {"body", "query", "path", "form", "header"}
# What each of a token's budgets covers (studio/api/auth.py READ_METHODS), for a 429's message.
_BUDGETS = {"reads": "GETs", "writes": "creates, uploads, cancels, deletes, account changes"}
# How long a create refused for want of room is told to wait: useapi.net's own script sleeps
# 20 s before it looks at scheduler/available again; a slot often frees sooner here.
QUEUE_RETRY_SECONDS = 10


class ApiError(Exception):
    def __init__(self, status: int, message: str, **headers: str):
        super().__init__(message)
        self.status, self.headers = status, headers


class RateLimited(Exception):
    """A token past one of its budgets (studio/api/services.py api_token_use)."""

    def __init__(self, check: RateCheck):
        super().__init__(check.budget)
        self.budget, self.limit, self.retry_after = check.budget, check.limit, check.retry_after


def error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra, "code": status}, status=status)


def validation_message(errors: list[dict]) -> str:
    """Every problem in one line, each naming the field it is about."""
    problems = []
    for problem in errors:
        where = [str(part) for part in problem["loc"]]
        while where and where[0] in _SOURCES:
            where = where[1:]
        message = "This field is required." if problem["type"] == "missing" else problem["msg"]
        problems.append(" ".join([".".join(where), message]) if where else message)
    return "; ".join(problems) or "The request is not valid."


def _api_error(request: HttpRequest, exc: ApiError) -> JsonResponse:
    answer = error(exc.status, str(exc))
    for name, value in exc.headers.items():
        answer[name.replace("_", "-")] = value
    return answer


def _validation(request: HttpRequest, exc: NinjaValidationError) -> JsonResponse:
    return error(400, validation_message(exc.errors))


def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> JsonResponse:
    return error(401, "Unauthorized")


def _rate_limited(request: HttpRequest, exc: RateLimited) -> JsonResponse:
    other = "writes" if exc.budget == "reads" else "reads"
    answer = error(
        429,
        f"Too many {exc.budget} ({_BUDGETS[exc.budget]}): a token may make {exc.limit} "
        f"{exc.budget} every {conf.API_RATE_WINDOW_SECONDS} s, and {other} have a budget of "
        f"their own. Try again in {exc.retry_after} s.",
    )
    answer["Retry-After"] = str(exc.retry_after)
    return answer


def _queue_full(request: HttpRequest, exc: services.QueueFull) -> JsonResponse:
    message = f"{str(exc).rstrip('.')}. Try again in {QUEUE_RETRY_SECONDS} s."
    if exc.upstream:  # useapi.net's second flavour: the upstream itself said "too many"
        answer = error(429, message, statusInfo=status_info(QUEUE_FULL, exc.upstream))
    else:
        running: dict[str, list] = {}
        for video in exc.running:
            running.setdefault(account_ref(video.account), []).append(
                running_out(video).model_dump()
            )
        answer = error(429, message, runningVideos=running)
    answer["Retry-After"] = str(QUEUE_RETRY_SECONDS)
    return answer


def _quota_exceeded(request: HttpRequest, exc: services.QuotaExceeded) -> JsonResponse:
    answer = error(429, str(exc))
    answer["Retry-After"] = str(exc.retry_after)
    return answer


def _account_unavailable(request: HttpRequest, exc: services.AccountUnavailable) -> JsonResponse:
    return error(exc.status, str(exc))


def _refused(request: HttpRequest, exc: services.Refused) -> JsonResponse:
    return error(422, str(exc), statusInfo=status_info(MODERATED, str(exc)))


def _image_busy(request: HttpRequest, exc: ImageBusy) -> JsonResponse:
    answer = error(503, str(exc))
    answer["Retry-After"] = str(BUSY_RETRY_SECONDS)
    return answer


def _image_rejected(request: HttpRequest, exc: ImageRejected) -> JsonResponse:
    return error(400, str(exc))


def _service_error(request: HttpRequest, exc: ServiceError) -> JsonResponse:
    return error(400, str(exc))


def _django_validation(request: HttpRequest, exc: DjangoValidationError) -> JsonResponse:
    return error(400, "; ".join(exc.messages))


def _not_found(request: HttpRequest, exc: Http404) -> JsonResponse:
    return error(404, str(exc) or "Not found.")


def _forbidden(request: HttpRequest, exc: PermissionDenied) -> JsonResponse:
    return error(403, str(exc) or "Only team admins can do that.")


def _http_error(request: HttpRequest, exc: HttpError) -> JsonResponse:
    return error(exc.status_code, str(exc))


def install(api: NinjaAPI) -> None:
    """The API's exception handlers, replacing ninja's (which answer {"detail": ...} and 422)."""
    # Order matters only where one class derives from another: the most derived one wins.
    for exc_class, handler in [
        (ApiError, _api_error),
        (NinjaValidationError, _validation),
        (AuthenticationError, _unauthorized),
        (HttpError, _http_error),
        (RateLimited, _rate_limited),
        (services.QueueFull, _queue_full),
        (services.QuotaExceeded, _quota_exceeded),
        (services.Refused, _refused),
        (services.AccountUnavailable, _account_unavailable),
        (ImageBusy, _image_busy),
        (ImageRejected, _image_rejected),
        (ServiceError, _service_error),
        (DjangoValidationError, _django_validation),
        (Http404, _not_found),
        (PermissionDenied, _forbidden),
    ]:
        api.add_exception_handler(exc_class, handler)
