"""Members' quotas: an admin sets them; every submit, in the web UI or the API, is checked."""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser

from studio.lib.errors import ServiceError
from studio.teams.models import Membership, Team
from videos.models import MemberQuota
from videos.selectors_usage import quota_state
from videos.services.errors import QuotaExceeded


def quota_set(
    *,
    membership: Membership,
    by: Membership,
    videos_per_day: int | None,
    videos_per_month: int | None,
    cost_per_month: Decimal | None,
) -> MemberQuota | None:
    """Sets `membership`'s quota (None: no limit of that kind); with no limit at all the quota
    goes. Only an admin of the member's team may."""
    if not by.is_admin or by.team_id != membership.team_id:
        raise ServiceError("Only a team admin can set quotas.")
    limits = {
        "videos_per_day": videos_per_day,
        "videos_per_month": videos_per_month,
        "cost_per_month": cost_per_month,
    }
    if all(value is None for value in limits.values()):
        MemberQuota.objects.filter(membership=membership).delete()
        return None
    quota, _ = MemberQuota.objects.update_or_create(membership=membership, defaults=limits)
    return quota


def quota_check(*, team: Team, user: AbstractBaseUser) -> None:
    """Raises QuotaExceeded when the user's quota in `team` is used up. Call it inside the
    transaction that stores the video: the membership's row lock makes one member's creates
    count-then-insert one at a time, so two at once cannot both take the last one.

    A member with no quota (most of them) costs one indexed read and takes no lock: their
    creates need not queue behind each other. A quota set while such a create is under way
    applies from the next one, as if it had been set a moment later."""
    if not MemberQuota.objects.filter(membership__team=team, membership__user=user).exists():
        return
    membership = (
        Membership.objects.select_for_update(no_key=True).filter(team=team, user=user).first()
    )
    if membership is None:
        return  # not a member: refused before it gets here (access.require_membership)
    state = quota_state(membership=membership)
    if state.refusal:
        raise QuotaExceeded(state.refusal, retry_after=state.resets_in())
