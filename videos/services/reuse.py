"""A new video from an old one: retry its inputs, or continue from its last frame.

Reuse itself writes nothing: the composer is filled (selectors_detail.composer_initial) and the
person submits it as any other video.
"""

import io

import av
from django.core.files.storage import default_storage
from PIL import Image

from studio.lib.errors import ServiceError
from studio.teams.models import Membership
from videos.images import ImageRejected, clean_image
from videos.models import PromptImage, Video
from videos.services.bulk import video_join
from videos.services.images import image_store
from videos.services.submit import Submission, video_submit

S = Video.Status
RETRYABLE = (S.FAILED, S.MODERATED, S.CANCELLED)
# How far before the end decoding starts: past at least one keyframe (the renderers and MiniMax
# put one every second or two), so the frames up to the end decode from there.
TAIL_SECONDS = 3


def video_retry(*, video: Video, membership: Membership) -> Video:
    """The inputs of a failed, moderated or cancelled video, submitted again as a new video by
    `membership`'s member, which names the old one as its source. A join is joined again from
    the same clips."""
    if video.status not in RETRYABLE:
        raise ServiceError(
            f"Only a failed, moderated or cancelled video can be retried; this one is "
            f"{video.get_status_display().lower()}. Use Reuse to make another like it."
        )
    if video.kind == Video.Kind.JOIN:
        return _join_again(video, membership)
    passthrough = dict(video.passthrough or {})
    reference_ids = passthrough.pop("references", []) or []
    references = PromptImage.objects.filter(team_id=video.team_id).in_bulk(reference_ids)
    submission = Submission(
        prompt=video.prompt,
        prompt_optimization=video.prompt_optimization,
        model=video.model,
        resolution=video.resolution,
        duration=video.requested_duration,
        image=video.image,
        last_image=video.last_image,
        subject_image=video.subject_image,
        useapi_only=video.useapi_only,
        passthrough=passthrough,
        references=tuple(references[pk] for pk in reference_ids if pk in references),
        source=video,
    )
    return video_submit(team=membership.team, user=membership.user, submission=submission)


def _join_again(video: Video, membership: Membership) -> Video:
    parts = [p.part for p in video.parts.select_related("part").order_by("position")]
    if any(part is None or part.deleted_at is not None for part in parts):
        raise ServiceError(
            "A clip of this join has been deleted since; select the clips again and join them."
        )
    return video_join(membership=membership, videos=parts, source=video)


def video_last_frame(*, video: Video, membership: Membership) -> PromptImage:
    """Continue: the finished video's last frame, stored as one of the team's images (the
    first frame of the video that continues it)."""
    if video.status != S.COMPLETED or not video.file:
        raise ServiceError(
            "Only a finished video with its file can be continued: this one has no video file."
        )
    try:
        frame = _last_frame(video.file.name)
    except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise ServiceError(f"The video's last frame could not be decoded ({exc}).") from None
    if frame is None:
        raise ServiceError("The video's last frame could not be decoded: it has no frames.")
    buffer = io.BytesIO()
    frame.save(buffer, format="PNG")
    try:
        image = clean_image(buffer, name="last-frame.png", content_type="image/png")
    except ImageRejected as exc:
        raise ServiceError(f"The last frame cannot start a video: {exc}") from None
    return image_store(
        team=membership.team,
        user=membership.user,
        image=image,
        original_name=f"Last frame of video {video.pk}.png",
    )


def _last_frame(name: str) -> Image.Image | None:
    """Decodes from the storage's stream (S3 as well as a disk): only the tail is read, after
    a seek to the keyframe before it."""
    with default_storage.open(name, "rb") as handle, av.open(handle) as container:
        stream = container.streams.video[0]
        if container.duration and container.duration > TAIL_SECONDS * av.time_base:
            container.seek(container.duration - TAIL_SECONDS * av.time_base, backward=True)
        last = None
        for last in container.decode(stream):  # noqa: B007 (the loop keeps the last one)
            pass
        return last.to_image() if last is not None else None
