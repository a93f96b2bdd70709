"""Reads for favourites and collections: the Collections page and a video's collections."""

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Lower

from studio.teams.models import Team
from videos.models import Collection, CollectionItem, Video


def team_collections(*, team: Team) -> list[Collection]:
    """The team's collections, by name, each with `size` (its videos not in the Trash) and
    `cover_id` (its most recently added finished video with a poster, or None). Two queries
    whatever the number of collections: one for the rows, one subquery per row in SQL."""
    cover = (
        CollectionItem.objects.filter(
            collection=OuterRef("pk"),
            video__deleted_at=None,
            video__status=Video.Status.COMPLETED,
        )
        .exclude(video__poster="")
        .order_by("-added_at", "-id")
        .values("video_id")[:1]
    )
    return list(
        Collection.objects.filter(team=team)
        .select_related("created_by")
        .annotate(
            size=Count("items", filter=Q(items__video__deleted_at=None)),
            cover_id=Subquery(cover),
        )
        .order_by(Lower("name"), "id")
    )


@dataclass
class VideoCollections:
    holding: list[Collection]  # the collections the video is in
    others: list[Collection]  # the team's other collections, to add it to


def video_collections(*, video: Video) -> VideoCollections:
    """For the detail page: which of the team's collections hold the video, and which do not."""
    holding_ids = set(
        CollectionItem.objects.filter(video=video).values_list("collection_id", flat=True)
    )
    everything = Collection.objects.filter(team_id=video.team_id).order_by(Lower("name"), "id")
    holding, others = [], []
    for collection in everything:
        (holding if collection.pk in holding_ids else others).append(collection)
    return VideoCollections(holding=holding, others=others)
