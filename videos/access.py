"""Every lookup a request makes goes through here, scoped to the user's current team.

An object of another team is a 404, never a 403: outsiders learn nothing about what exists.
"""

from django.http import Http404

from studio.teams.access import get_for_admin
from studio.teams.models import Membership
from videos.models import PromptImage, ProviderAccount, Video


def get_video_for_member(membership: Membership, video_id: int) -> Video:
    try:
        return Video.objects.select_related("author", "attempt__account", "image").get(
            pk=video_id, team_id=membership.team_id
        )
    except Video.DoesNotExist:
        raise Http404("No such video.") from None


def may_manage_video(membership: Membership, video: Video) -> bool:
    """Cancel, delete, restore: the video's author, or an admin of its team."""
    if video.team_id != membership.team_id:
        return False
    return membership.is_admin or video.author_id == membership.user_id


def get_image_for_member(membership: Membership, image_id: int) -> PromptImage:
    try:
        return PromptImage.objects.get(pk=image_id, team_id=membership.team_id)
    except PromptImage.DoesNotExist:
        raise Http404("No such image.") from None


def get_account_for_admin(admin: Membership, account_id: int) -> ProviderAccount:
    return get_for_admin(admin, ProviderAccount.objects.all(), account_id, "account")


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
