from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F
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
    # One query for the token, its user, its team and the user's membership of that team: every
    # API request starts here, and a second round trip cost it 1.5 ms (bench/load.py).
    token = (
        ApiToken.objects.filter(
            token_hash=token_hash(raw.strip()),
            revoked_at=None,
            user__is_active=True,
            team__memberships__user=F("user"),
        )
        .select_related("user", "team")
        .annotate(
            membership_pk=F("team__memberships__id"),
            membership_role=F("team__memberships__role"),
            membership_created_at=F("team__memberships__created_at"),
        )
        .first()
    )
    if token is None:
        return None
    membership = Membership.from_db(
        token._state.db,
        ["id", "user_id", "team_id", "role", "created_at"],
        [token.membership_pk, token.user_id, token.team_id, token.membership_role,
         token.membership_created_at],
    )  # fmt: skip
    membership.user, membership.team = token.user, token.team
    return ApiCaller(token, membership)


def get_token_for_owner(user: AbstractBaseUser, token_id: int) -> ApiToken:
    try:
        return ApiToken.objects.get(pk=token_id, user=user)
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None
