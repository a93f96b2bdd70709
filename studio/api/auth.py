"""Bearer auth for /v1/: a personal ApiToken (stored hashed, studio/api/access.py), then the
token's rate limit: a GET spends the reads budget, anything else the writes budget. A refusal is
the API's JSON error (studio/api/errors.py): 401, or 429 with Retry-After; an account endpoint
also wants a team admin (403)."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja.security import HttpBearer

from studio.api.access import ApiCaller, api_caller
from studio.api.errors import RateLimited
from studio.api.services import api_token_use

# What spends the reads budget; every other method is a write.
READ_METHODS = ("GET", "HEAD")


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> ApiCaller | None:
        # The whole header to api_caller: it is the one place that reads it.
        return self.authenticate(request, request.headers.get("Authorization", ""))

    def authenticate(self, request: HttpRequest, token: str) -> ApiCaller | None:
        caller = api_caller(token)
        if caller is None:
            return None  # ninja raises AuthenticationError: a 401
        check = api_token_use(token=caller.token, read=request.method in READ_METHODS)
        if not check.allowed:
            raise RateLimited(check)
        return caller


class AdminTokenAuth(TokenAuth):
    """A token of a team admin: accounts hold the team's secrets and spend."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiCaller | None:
        caller = super().authenticate(request, token)
        if caller is not None and not caller.membership.is_admin:
            raise PermissionDenied("Only team admins can manage accounts.")
        return caller
