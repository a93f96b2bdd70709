"""Reads for one video's detail page (the page, or the dialog over the gallery), and for the
composer that reuses, retries or continues it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from studio import conf
from studio.teams.models import Membership
from videos import hooks, selectors, selectors_collections
from videos.access import may_manage_video
from videos.models import Attempt, Video, VideoPart


@dataclass(frozen=True)
class VideoDetail:
    video: Video
    attempts: list[Attempt]
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    wait: timedelta | None  # queued until an account took it
    render: timedelta | None  # taken until it ended
    api_call: str  # a curl command that makes it again ("" when the API cannot)
    parts: list[VideoPart]  # a joined video's clips, in order
    newer_id: int | None  # the neighbours in the gallery (newest first), trashed ones left out
    older_id: int | None
    may_manage: bool
    collections: selectors_collections.VideoCollections  # which hold it, which could

    @property
    def wait_label(self) -> str:
        return span_label(self.wait)

    @property
    def render_label(self) -> str:
        return span_label(self.render)

    @property
    def images(self) -> list[tuple[str, object]]:
        """(label, PromptImage) of the images it was made from."""
        named = (
            ("First frame", self.video.image),
            ("Last frame", self.video.last_image),
            ("Face reference", self.video.subject_image),
        )
        return [(label, image) for label, image in named if image is not None]


def video_detail(*, video: Video, membership: Membership, site: str) -> VideoDetail:
    """Everything the detail page shows of `video` (one of the member's team's, from
    access.get_video_for_member). `site` is the address the API call names."""
    video = (
        Video.objects.select_related(
            "author", "attempt__account", "image", "last_image", "subject_image", "source"
        )
        .prefetch_related("parts__part")
        .get(pk=video.pk)
    )
    selectors.mark_favourites(user=membership.user, videos=[video])
    attempts = selectors.video_attempts(video=video)
    for attempt in attempts:
        attempt.took_label = span_label(attempt.took)
    started = video.submitted_at or (attempts[0].created_at if attempts else None)
    finished = video.finished_at if video.is_final else None
    gallery = Video.objects.filter(team_id=video.team_id, deleted_at=None)
    newer = gallery.filter(pk__gt=video.pk).order_by("pk").values_list("pk", flat=True).first()
    older = gallery.filter(pk__lt=video.pk).order_by("-pk").values_list("pk", flat=True).first()
    return VideoDetail(
        video=video,
        attempts=attempts,
        queued_at=video.created_at,
        started_at=started,
        finished_at=finished,
        wait=started - video.created_at if started else None,
        render=finished - started if finished and started else None,
        api_call=hooks.first_answer(hooks.video_api_call, video, site),
        parts=list(video.parts.all()),
        newer_id=newer,
        older_id=older,
        may_manage=may_manage_video(membership, video),
        collections=selectors_collections.video_collections(video=video),
    )


def span_label(span: timedelta | None) -> str:
    """How long a wait or a render took: "2.4 s", "3 min 05 s", "1 h 02 min"."""
    if span is None:
        return ""
    seconds = max(span.total_seconds(), 0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def site_address(request) -> str:
    """The address API calls on the page name: PUBLIC_URL, or this server as reached."""
    return conf.PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def composer_initial(*, video: Video, first_frame=None) -> dict:
    """The composer filled with what `video` asked for: prompt, options and its stored images
    (by id). Continue passes the extracted last frame as `first_frame` and links the source."""
    initial = {
        "prompt": video.prompt,
        "prompt_optimization": video.prompt_optimization,
        # A model only useapi.net runs is not one the composer offers: left to the default.
        "model": "" if video.useapi_only else video.model,
        "resolution": "" if video.useapi_only else video.resolution,
        "duration": None if video.useapi_only else video.requested_duration,
        "image_stored": video.image_id or "",
        "last_image_stored": video.last_image_id or "",
        "subject_image_stored": video.subject_image_id or "",
    }
    if first_frame is not None:
        # A continuation starts on the frame; the old last frame and face would fight it.
        initial.update(
            image_stored=first_frame.pk,
            last_image_stored="",
            subject_image_stored="",
            source=video.pk,
        )
        if video.subject_image_id and initial["model"] == "S2V-01":
            initial["model"] = ""
    return initial
