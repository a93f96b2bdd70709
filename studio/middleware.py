"""Refuses a request carrying text the studio cannot keep before anything reads it (the session
cookie is looked up in the database, the query string feeds lookups), naming where it was."""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string

from studio.api.errors import error
from studio.lib import textguard


class TextGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = request_problem(request)
        if problem is not None:
            return refusal(request.path_info, problem)
        return self.get_response(request)


def request_problem(request: HttpRequest) -> str | None:
    """The first unkeepable text in the request line, query string or headers, or a charset the
    studio does not read, as a sentence naming where it is."""
    problem = textguard.content_type_problem(request.META.get("CONTENT_TYPE", ""))
    if problem:
        return problem
    problem = textguard.text_problem(request.path_info)
    if problem:
        return f"The address {problem}"
    for name, values in request.GET.lists():
        for text in (name, *values):
            problem = textguard.text_problem(text)
            if problem:
                return f"The query parameter {textguard.quoted(name)} {problem}"
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            problem = textguard.text_problem(value)
            if problem:
                header = key.removeprefix("HTTP_").replace("_", "-").title()
                return f"The {header} header {problem}"
    return None


def refusal(path: str, problem: str) -> HttpResponse:
    """The API's JSON error under /v1/, else the studio's 400 page with the problem on it."""
    if path.startswith("/v1/"):
        return error(400, problem)
    return HttpResponseBadRequest(render_to_string("400_input.html", {"problem": problem}))
