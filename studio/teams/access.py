from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from studio.teams.models import Invite, Membership, Team

SESSION_TEAM_KEY = "team_id"


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership of the team the user is working in: the one chosen in the team switcher,
    else their oldest. None when the user belongs to no team (yet)."""
    if not request.user.is_authenticated:
        return None
    cached = getattr(request, "_membership", False)
    if cached is not False:
        return cached
    memberships = Membership.objects.filter(user=request.user).select_related("team")
    chosen = request.session.get(SESSION_TEAM_KEY)
    membership = (chosen and memberships.filter(team_id=chosen).first()) or memberships.order_by(
        "created_at", "id"
    ).first()
    request._membership = membership
    return membership


def require_membership(request: HttpRequest) -> Membership:
    membership = current_membership(request)
    if membership is None:
        raise Http404("You are not in a team yet.")
    return membership


def require_admin(request: HttpRequest) -> Membership:
    membership = require_membership(request)
    if not membership.is_admin:
        raise PermissionDenied("Only team admins can do that.")
    return membership


def get_own_membership(user: AbstractBaseUser, team_id: int) -> Membership:
    """The user's own membership in a team; a team they are not in is a 404."""
    try:
        return Membership.objects.select_related("team").get(user=user, team_id=team_id)
    except Membership.DoesNotExist:
        raise Http404("No such team.") from None


def get_team_for_member(user: AbstractBaseUser, team_id: int) -> Team:
    try:
        return Membership.objects.select_related("team").get(user=user, team_id=team_id).team
    except Membership.DoesNotExist:
        raise Http404("No such team.") from None


def get_for_admin(admin: Membership, queryset, pk: int, what: str):
    if not admin.is_admin:
        raise PermissionDenied("Only team admins can do that.")
    try:
        return queryset.get(pk=pk, team_id=admin.team_id)
    except queryset.model.DoesNotExist:
        raise Http404(f"No such {what}.") from None


def get_membership_for_admin(admin: Membership, membership_id: int) -> Membership:
    return get_for_admin(admin, Membership.objects.select_related("user"), membership_id, "member")


def get_invite_for_admin(admin: Membership, invite_id: int) -> Invite:
    return get_for_admin(admin, Invite.objects.filter(accepted_at=None), invite_id, "invite")
