"""Every lookup a request makes goes through here, scoped to the user's current team.

An object of another team is a 404, never a 403: outsiders learn nothing about what exists.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from studio.lib.errors import ServiceError
from studio.teams.access import get_for_admin
from studio.teams.models import Membership
from videos.models import Collection, PromptImage, ProviderAccount, Video


def get_video_for_member(membership: Membership, video_id: int) -> Video:
    try:
        return Video.objects.select_related("author", "attempt__account", "image").get(
            pk=video_id, team_id=membership.team_id
        )
    except Video.DoesNotExist:
        raise Http404("No such video.") from None


def get_videos_for_member(membership: Membership, video_ids: list[int]) -> list[Video]:
    """The team's videos not in the Trash, in the order of `video_ids` (a bulk selection).
    Any id that is not one of them is refused as a whole, naming the ids, and saying no more
    about them than a 404 would."""
    found = Video.objects.filter(team_id=membership.team_id, deleted_at=None).in_bulk(video_ids)
    missing = [pk for pk in video_ids if pk not in found]
    if missing:
        listed = ", ".join(f"#{pk}" for pk in missing[:10]) + (" …" if len(missing) > 10 else "")
        raise ServiceError(
            f"{len(missing)} of the selected videos {'is' if len(missing) == 1 else 'are'} not "
            f"in {membership.team.name}'s gallery ({listed}): deleted, or never there. "
            "Reload the page and select again.",
            field="ids",
        )
    return [found[pk] for pk in video_ids]


def may_manage_video(membership: Membership, video: Video) -> bool:
    """Cancel, delete, restore: the video's author, or an admin of its team."""
    if video.team_id != membership.team_id:
        return False
    return membership.is_admin or video.author_id == membership.user_id


def get_collection_for_member(membership: Membership, collection_id: int) -> Collection:
    try:
        return Collection.objects.get(pk=collection_id, team_id=membership.team_id)
    except Collection.DoesNotExist:
        raise Http404("No such collection.") from None


def may_manage_collection(membership: Membership, collection: Collection) -> bool:
    """Rename, delete: the collection's creator, or an admin of its team. Adding and removing
    videos is any member's."""
    if collection.team_id != membership.team_id:
        return False
    return membership.is_admin or collection.created_by_id == membership.user_id


# The ownership rule in words: the 403 the UI and the API answer when it is broken.
MANAGE_RULE = "Only the video's author or a team admin can cancel, delete or restore it."


def get_video_to_manage(membership: Membership, video_id: int) -> Video:
    """A video of the member's team that they may cancel, delete or restore: 404 for another
    team's, 403 (naming the rule) for a teammate's video when they are not an admin."""
    video = get_video_for_member(membership, video_id)
    if not may_manage_video(membership, video):
        raise PermissionDenied(MANAGE_RULE)
    return video


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
