from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404

from studio.api.models import ApiToken
from studio.lib.tokens import token_hash
from studio.teams.models import Membership


@dataclass
class ApiCaller:
    """Who an API request acts for: a token's user, in the token's one team."""

    token: ApiToken
    membership: Membership


def api_caller(authorization: str) -> ApiCaller | None:
    """The caller behind an `Authorization: Bearer …` header, or None. A revoked token, an
    inactive user or one no longer in the token's team gets nothing."""
    scheme, _, raw = authorization.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    token = (
        ApiToken.objects.filter(token_hash=token_hash(raw.strip()), revoked_at=None)
        .select_related("user")
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    membership = (
        Membership.objects.filter(user_id=token.user_id, team_id=token.team_id)
        .select_related("team", "user")
        .first()
    )
    return ApiCaller(token, membership) if membership else None


def get_token_for_owner(user: AbstractBaseUser, token_id: int) -> ApiToken:
    try:
        return ApiToken.objects.get(pk=token_id, user=user)
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None
