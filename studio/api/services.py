import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F
from django.utils import timezone

from studio import conf
from studio.api.models import ApiToken
from studio.lib.errors import ServiceError
from studio.lib.tokens import token_hash
from studio.teams.models import Membership, Team


def api_token_create(*, user: AbstractBaseUser, team: Team, name: str) -> tuple[ApiToken, str]:
    """A new personal token acting for `user` in `team`. Returns the token in clear: only its
    hash is kept, so it can be shown this once."""
    if not Membership.objects.filter(user=user, team=team).exists():
        raise ServiceError(f"{user.get_username()} is not in {team.name}.")
    name = name.strip() or "API token"
    raw = "st_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, team=team, name=name[:100], token_hash=token_hash(raw), prefix=raw[:10]
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())


@dataclass
class RateCheck:
    allowed: bool
    budget: str  # "reads" or "writes"
    limit: int
    retry_after: int = 0


# Each budget's counter on ApiToken: (window field, count field).
_COUNTERS = {"reads": ("read_window", "read_count"), "writes": ("rate_window", "rate_count")}


def api_token_use(*, token: ApiToken, read: bool) -> RateCheck:
    """Records a request on the token: its last use, and one more in the fixed-window count of
    its budget. Reads (GETs) and writes have budgets of their own, so a script polling its
    videos never runs out of creates.

    The count is also the check, in one conditional UPDATE: it counts the request only while
    the window has room. A read-then-write would let two requests at the same moment both take
    the window's last place; and one statement per request (not an UPDATE and a SELECT of the
    count) is what every API call pays. A refused request is not counted, so a script that keeps
    knocking does not push its own window's count past what the window allows.
    """
    budget = "reads" if read else "writes"
    limit = conf.API_READ_RATE_LIMIT if read else conf.API_WRITE_RATE_LIMIT
    window_field, count_field = _COUNTERS[budget]
    window_seconds = conf.API_RATE_WINDOW_SECONDS
    now = timezone.now()
    window = int(now.timestamp() // window_seconds)
    mine = ApiToken.objects.filter(pk=token.pk)
    has_room = mine.filter(**{window_field: window, f"{count_field}__lt": limit})
    one_more = {count_field: F(count_field) + 1, "last_used_at": now}
    if has_room.update(**one_more):
        return RateCheck(True, budget, limit)
    # The first request of a new window opens it; if another request opened it between the two
    # statements, the window is ours to check again.
    opened = limit > 0 and mine.exclude(**{window_field: window}).update(
        **{window_field: window, count_field: 1, "last_used_at": now}
    )
    if opened or has_room.update(**one_more):
        return RateCheck(True, budget, limit)
    retry_after = int((window + 1) * window_seconds - now.timestamp()) + 1
    return RateCheck(False, budget, limit, retry_after=retry_after)


def api_tokens_revoke_for(membership: Membership) -> None:
    """The member_leaving hook (studio.teams.hooks): revokes the member's tokens for the team."""
    ApiToken.objects.filter(
        user_id=membership.user_id, team_id=membership.team_id, revoked_at=None
    ).update(revoked_at=timezone.now())
