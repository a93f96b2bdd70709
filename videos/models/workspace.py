"""The gallery as a workspace: a member's stars, the team's collections, a member's density."""

from django.conf import settings
from django.db import models

from studio.teams.models import Team
from videos.models.videos import Video


class Favourite(models.Model):
    """A member's star on a video: personal, never shown to teammates."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    video = models.ForeignKey(Video, models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "video"], name="favourite_once"),
        ]
        # The gallery's fav=1 filter reads a user's stars newest video first.
        indexes = [models.Index(fields=["user", "-video"], name="favourite_user_video")]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.video_id}"


class Collection(models.Model):
    """A named set of the team's videos; shown as a filtered gallery (?collection=<id>)."""

    team = models.ForeignKey(Team, models.CASCADE, related_name="collections")
    name = models.CharField(max_length=80)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    videos = models.ManyToManyField(Video, through="CollectionItem", related_name="collections")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="collection_name_per_team"),
        ]

    def __str__(self) -> str:
        return self.name


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, models.CASCADE, related_name="items")
    video = models.ForeignKey(Video, models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "video"], name="collection_item_once"),
        ]
        indexes = [models.Index(fields=["collection", "-video"], name="collection_item_video")]

    def __str__(self) -> str:
        return f"{self.video_id} in {self.collection_id}"


class GalleryPrefs(models.Model):
    """How a member likes the gallery laid out, remembered across devices."""

    class Density(models.TextChoices):
        COMFORTABLE = "comfortable", "Comfortable"
        COMPACT = "compact", "Compact"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, primary_key=True, related_name="gallery_prefs"
    )
    density = models.CharField(max_length=12, choices=Density.choices, default=Density.COMFORTABLE)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.density}"
