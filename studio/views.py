"""The studio's handlers for 400, 404 and 500 (403 is Django's, with our template).

Both render without the request, so no context processor runs: a 500 may be the database
itself (the team switcher, the user and the messages all read it), and a 400 may be raised
before the request has a user at all (a Host header not in ALLOWED_HOSTS fails in
CommonMiddleware, ahead of authentication).
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseServerError,
    JsonResponse,
)
from django.http.multipartparser import MultiPartParserError
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.views import defaults


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(loader.get_template("400.html").render())


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 page. Its CSRF decorator reads a form body that nothing may have read yet
    (no view matched, or a csrf_exempt one raised the 404); a malformed body would turn the 404
    into a 500 there, so it is read here first and set aside if it cannot be."""
    try:
        _ = request.POST
    except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
        request._mark_post_parse_error()
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django has logged the exception with its traceback (django.request) before this runs.
    A script calling the API gets the API's JSON error shape, not a page."""
    if request.path.startswith("/v1/"):
        return JsonResponse(
            {
                "error": "The studio failed to answer this request; the error was logged for "
                "the operator. Try again later.",
                "code": 500,
            },
            status=500,
        )
    context = {
        "stylesheet": _static("studio.css"),
        "icon": _static("favicon.svg"),
        "gallery_url": reverse("gallery"),
    }
    return HttpResponseServerError(loader.get_template("500.html").render(context))


def _static(name: str) -> str:
    try:
        return static(name)
    except ValueError:
        # Production before collectstatic has no hashed names (the manifest is missing); the
        # page stays readable rather than failing in turn.
        return f"{settings.STATIC_URL}{name}"
