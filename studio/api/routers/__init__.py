"""One router per resource of /v1/minimax/; studio/api/api.py mounts them."""

from django.http import HttpRequest

from studio.api.schemas import ErrorOut

# Every operation that needs a token can answer these besides its own: a refused token (401),
# the token's rate limit (429), and text the studio cannot keep (400, studio/middleware.py).
TOKEN_ERRORS = (400, 401, 429)


def answers(ok: dict, *errors: int, public: bool = False) -> dict:
    """An operation's `response=`: its successes, and ErrorOut for each error it may give."""
    codes = {400, *errors} if public else {*TOKEN_ERRORS, *errors}
    return {**ok, **dict.fromkeys(sorted(codes), ErrorOut)}


def base(request: HttpRequest) -> str:
    """Where the signed links in an answer point: this server, as the request reached it."""
    return request.build_absolute_uri("/").rstrip("/")
