"""Every lookup a request makes goes through here, scoped to the user's current team.

An object of another team is a 404, never a 403: outsiders learn nothing about what exists.
"""

import hashlib
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from videos.models import ApiToken, Invite, Membership, PromptImage, ProviderAccount, Team, Video

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


def get_video_for_member(membership: Membership, video_id: int) -> Video:
    try:
        return Video.objects.select_related("author", "account", "image").get(
            pk=video_id, team_id=membership.team_id
        )
    except Video.DoesNotExist:
        raise Http404("No such video.") from None


def get_image_for_member(membership: Membership, image_id: int) -> PromptImage:
    try:
        return PromptImage.objects.get(pk=image_id, team_id=membership.team_id)
    except PromptImage.DoesNotExist:
        raise Http404("No such image.") from None


def _get_for_admin(admin: Membership, queryset, pk: int, what: str):
    if not admin.is_admin:
        raise PermissionDenied("Only team admins can do that.")
    try:
        return queryset.get(pk=pk, team_id=admin.team_id)
    except queryset.model.DoesNotExist:
        raise Http404(f"No such {what}.") from None


def get_membership_for_admin(admin: Membership, membership_id: int) -> Membership:
    return _get_for_admin(admin, Membership.objects.select_related("user"), membership_id, "member")


def get_invite_for_admin(admin: Membership, invite_id: int) -> Invite:
    return _get_for_admin(admin, Invite.objects.filter(accepted_at=None), invite_id, "invite")


def get_account_for_admin(admin: Membership, account_id: int) -> ProviderAccount:
    return _get_for_admin(admin, ProviderAccount.objects.all(), account_id, "account")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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


def get_account_for_member(membership: Membership, account_ref: object) -> ProviderAccount:
    """An account named by the API's `account`: its id, or its name, within the team."""
    accounts = ProviderAccount.objects.filter(team_id=membership.team_id)
    ref = str(account_ref).strip()
    account = None
    if ref.isascii() and ref.isdigit() and len(ref) <= 18:
        account = accounts.filter(pk=int(ref)).first()
    if account is None and "\x00" not in ref:  # PostgreSQL refuses NUL in a text comparison
        account = accounts.filter(name=ref).first()
    if account is None:
        raise Http404(f"No account {ref!r} in {membership.team.name}.")
    return account


def get_video_for_link(pk: int, *, membership: Membership | None) -> Video:
    """The video behind a signed link. The signature is the link's authority; a caller with a
    token (an expired link) must also be in the video's team."""
    return _get_for_link(Video.objects.all(), pk, membership, "video")


def get_image_for_link(pk: int, *, membership: Membership | None) -> PromptImage:
    return _get_for_link(PromptImage.objects.all(), pk, membership, "image")


def _get_for_link(queryset, pk: int, membership: Membership | None, what: str):
    if membership is not None:
        queryset = queryset.filter(team_id=membership.team_id)
    try:
        return queryset.get(pk=pk)
    except queryset.model.DoesNotExist:
        raise Http404(f"No such {what}.") from None
