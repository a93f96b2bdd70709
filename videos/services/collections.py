"""Favourites (a member's own stars), the team's collections, and the gallery's density.

Who may rename or delete a collection: access.may_manage_collection (its creator or a team
admin). Any member may add videos to a collection of their team, or take them out.
"""

import unicodedata

from django.db import IntegrityError, transaction

from studio.lib.errors import ServiceError
from studio.teams.models import Membership
from videos.access import may_manage_collection
from videos.models import Collection, CollectionItem, Favourite, GalleryPrefs, Video

NAME_MAX = Collection._meta.get_field("name").max_length


# Favourites


def favourite_toggle(*, user, video: Video) -> bool:
    """Stars the video for `user`, or takes the star off. Returns the new state."""
    with transaction.atomic():
        removed, _ = Favourite.objects.filter(user=user, video=video).delete()
        if removed:
            return False
        # get_or_create: a double click racing this one has starred it already; that is fine.
        Favourite.objects.get_or_create(user=user, video=video)
    return True


def favourite_set(*, user, video: Video, on: bool) -> None:
    """Puts the star on (on=True) or takes it off; doing it twice changes nothing."""
    if on:
        Favourite.objects.get_or_create(user=user, video=video)
    else:
        Favourite.objects.filter(user=user, video=video).delete()


# Collections


def collection_create(*, membership: Membership, name: str) -> Collection:
    name = _clean_name(name, team_id=membership.team_id)
    try:
        with transaction.atomic():
            return Collection.objects.create(
                team_id=membership.team_id, name=name, created_by_id=membership.user_id
            )
    except IntegrityError:  # the same name created by a teammate a moment ago
        raise _taken(name) from None


def collection_rename(*, collection: Collection, membership: Membership, name: str) -> None:
    _check_manager(collection, membership, "rename")
    name = _clean_name(name, team_id=membership.team_id, exclude=collection.pk)
    try:
        with transaction.atomic():
            Collection.objects.filter(pk=collection.pk).update(name=name)
    except IntegrityError:
        raise _taken(name) from None
    collection.name = name


def collection_delete(*, collection: Collection, membership: Membership) -> None:
    """Deletes the collection; its videos stay in the gallery."""
    _check_manager(collection, membership, "delete")
    collection.delete()


def collection_add(*, collection: Collection, membership: Membership, videos: list[Video]) -> int:
    """Adds the videos to the collection; returns how many were not in it already. Videos of
    another team or in the Trash are left out."""
    _check_member(collection, membership)
    with transaction.atomic():
        # Read again rather than trust the instances: one may have gone to the Trash since.
        ids = set(
            Video.objects.filter(
                pk__in=[v.pk for v in videos], team_id=collection.team_id, deleted_at=None
            ).values_list("pk", flat=True)
        )
        present = set(
            CollectionItem.objects.filter(collection=collection, video_id__in=ids).values_list(
                "video_id", flat=True
            )
        )
        new = sorted(ids - present)
        # ignore_conflicts: a teammate adding the same video at the same moment is no error.
        CollectionItem.objects.bulk_create(
            [
                CollectionItem(collection=collection, video_id=pk, added_by_id=membership.user_id)
                for pk in new
            ],
            ignore_conflicts=True,
        )
    return len(new)


def collection_remove(
    *, collection: Collection, membership: Membership, videos: list[Video]
) -> int:
    """Takes the videos out of the collection; returns how many were in it."""
    _check_member(collection, membership)
    removed, _ = CollectionItem.objects.filter(
        collection=collection, video_id__in=[v.pk for v in videos]
    ).delete()
    return removed


def _check_member(collection: Collection, membership: Membership) -> None:
    if collection.team_id != membership.team_id:
        raise ServiceError("That collection belongs to another team.")


def _check_manager(collection: Collection, membership: Membership, verb: str) -> None:
    _check_member(collection, membership)
    if not may_manage_collection(membership, collection):
        raise ServiceError(f"Only the collection's creator or a team admin can {verb} it.")


def _clean_name(name: str, *, team_id: int, exclude: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ServiceError("Give the collection a name.", field="name")
    if len(name) > NAME_MAX:
        raise ServiceError(
            f"Keep the name to {NAME_MAX} characters (it has {len(name)}).", field="name"
        )
    # PostgreSQL refuses NUL in text; other control characters would only garble the page.
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ServiceError("The name cannot contain control characters.", field="name")
    # Compared in Python: SQLite's iexact folds only ASCII ("Été" and "été" would both pass).
    # A team has tens of collections, not thousands.
    names = (
        Collection.objects.filter(team_id=team_id)
        .exclude(pk=exclude)
        .values_list("name", flat=True)
    )
    if any(other.casefold() == name.casefold() for other in names):
        raise _taken(name)
    return name


def _taken(name: str) -> ServiceError:
    return ServiceError(
        f"The team already has a collection called “{name}”. Choose another name.", field="name"
    )


# The gallery's density


def gallery_density_set(*, user, density: str) -> None:
    if density not in GalleryPrefs.Density.values:
        choices = " or ".join(GalleryPrefs.Density.values)
        raise ServiceError(f"Choose a density: {choices}.", field="density")
    GalleryPrefs.objects.update_or_create(user=user, defaults={"density": density})
