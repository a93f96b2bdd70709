from django.utils import timezone

from studio.teams.models import Invite, Membership, Team


def team_members(*, team: Team) -> list[Membership]:
    return list(
        Membership.objects.filter(team=team)
        .select_related("user")
        .order_by("-role", "user__username")
    )


def team_open_invites(*, team: Team) -> list[Invite]:
    return list(
        Invite.objects.filter(team=team, accepted_at=None, expires_at__gt=timezone.now())
        .select_related("created_by")
        .order_by("-created_at")
    )


def user_teams(*, user) -> list[Membership]:
    return list(Membership.objects.filter(user=user).select_related("team").order_by("team__name"))


def membership_leave_refusal(*, membership: Membership) -> str:
    """Why this member may not leave their team ("" when they may): a team keeps an admin."""
    if not membership.is_admin:
        return ""
    others = Membership.objects.filter(team_id=membership.team_id).exclude(pk=membership.pk)
    if others.filter(role=Membership.Role.ADMIN).exists():
        return ""
    name = membership.team.name
    if others.exists():
        return f"You are the only admin of {name}. Make another member admin first, then leave."
    return (
        f"You are the only member of {name}, and a team keeps an admin. Invite someone and make "
        "them admin first, then leave."
    )
