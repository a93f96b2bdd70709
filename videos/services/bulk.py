"""Several selected videos at once: move to the Trash, download as one zip, join into one.

(Adding to and removing from a collection is services.collection_add / collection_remove.)
The videos come from access.get_videos_for_member: the user's team's, not in the Trash.
"""

import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from stream_zip import ZIP_AUTO, stream_zip

from studio.lib.errors import ServiceError
from studio.teams.models import Membership
from videos import joins
from videos.access import may_manage_video
from videos.models import Video, VideoPart
from videos.naming import download_name
from videos.services.trash import video_trash

MAX_JOIN_PARTS = 50
ZIP_CHUNK = 64 * 1024
_FILE_MODE = stat.S_IFREG | 0o644


# Delete


@dataclass
class TrashReport:
    trashed: list[int] = field(default_factory=list)
    not_yours: list[int] = field(default_factory=list)
    running: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        said = [f"{len(self.trashed)} moved to trash"]
        if self.not_yours:
            said.append(
                f"{len(self.not_yours)} skipped: only the author or an admin can delete them"
            )
        if self.running:
            said.append(f"{len(self.running)} still running (cancel them first)")
        return "; ".join(said) + "."


def videos_trash(*, membership: Membership, videos: list[Video]) -> TrashReport:
    """Moves to the Trash what `membership` may delete; the rest is reported, not refused."""
    report = TrashReport()
    for video in videos:
        if not may_manage_video(membership, video):
            report.not_yours.append(video.pk)
        elif not video.is_final:
            report.running.append(video.pk)
        elif video_trash(video=video, by=membership):
            report.trashed.append(video.pk)
        # else: a delete that got there first has trashed it; nothing to report twice.
    return report


# Zip


@dataclass
class ZipDownload:
    filename: str
    count: int
    chunks: Iterator[bytes]


def videos_zip(*, membership: Membership, videos: list[Video]) -> ZipDownload:
    """A zip of the finished videos, streamed: each member is read from storage in 64 KiB
    chunks as the client takes them, so neither the archive nor a whole video is ever held in
    memory or written to disk. Videos without a file are listed in README.txt."""
    ready = [v for v in videos if v.status == Video.Status.COMPLETED and v.file]
    if not ready:
        raise ServiceError("None of the selected videos has finished, so there is nothing to zip.")
    skipped = [v for v in videos if v not in ready]
    today = timezone.localdate()
    filename = f"studio-{_slug(membership.team.name)}-{today:%Y-%m-%d}-{len(ready)}-videos.zip"
    return ZipDownload(filename, len(ready), stream_zip(_members(ready, skipped), ZIP_CHUNK))


def _members(ready: list[Video], skipped: list[Video]):
    names: set[str] = set()
    for video in ready:
        # Opened only when the archive reaches this member; the size picks Zip32 or Zip64.
        name = _unique(download_name(video), names)
        size = default_storage.size(video.file.name)
        # Level 0: MP4s do not compress, and deflating them would only cost CPU.
        method = ZIP_AUTO(size, level=0)
        yield name, video.finished_at or video.created_at, _FILE_MODE, method, _read(video)
    if skipped:
        text = _readme(skipped).encode()
        yield "README.txt", timezone.now(), _FILE_MODE, ZIP_AUTO(len(text)), (text,)


def _read(video: Video) -> Iterator[bytes]:
    with default_storage.open(video.file.name, "rb") as fh:
        while chunk := fh.read(ZIP_CHUNK):
            yield chunk


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    candidate, n = name, 2
    while candidate.casefold() in taken:
        candidate, n = f"{stem} ({n}){dot}{ext}", n + 1
    taken.add(candidate.casefold())
    return candidate


def _readme(skipped: list[Video]) -> str:
    lines = ["These selected videos are not in this archive, because they have no file:", ""]
    for video in skipped:
        prompt = " ".join((video.prompt or "(image only)").split())[:80]
        lines.append(f"- #{video.pk} ({video.get_status_display().lower()}): {prompt}")
    return "\n".join(lines) + "\n"


def _slug(text: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in text.casefold()).split()
    return "-".join(words)[:40] or "team"


# Join


def video_join(
    *, membership: Membership, videos: list[Video], source: Video | None = None
) -> Video:
    """A new video made of `videos` end to end, in the order given, joined on a worker
    (videos.joins). It is PROCESSING from the start and never queued: the scheduler ignores it.
    `source`: the failed join this one retries."""
    if len(videos) < 2:
        raise ServiceError("Select at least two finished videos to join.", field="ids")
    if len(videos) > MAX_JOIN_PARTS:
        raise ServiceError(
            f"Join at most {MAX_JOIN_PARTS} videos at a time ({len(videos)} are selected).",
            field="ids",
        )
    unready = [v for v in videos if v.status != Video.Status.COMPLETED or not v.file]
    if unready:
        listed = ", ".join(f"#{v.pk}" for v in unready[:10])
        raise ServiceError(
            f"Only finished videos can be joined; {len(unready)} of the selected "
            f"{'is' if len(unready) == 1 else 'are'} not ({listed}).",
            field="ids",
        )
    first = " ".join((videos[0].prompt or "clip").split())
    prompt = f"Joined: {first[:160]} + {len(videos) - 1} more"
    with transaction.atomic():
        video = Video.objects.create(
            team_id=membership.team_id,
            author_id=membership.user_id,
            kind=Video.Kind.JOIN,
            status=Video.Status.PROCESSING,
            prompt=prompt,
            prompt_optimization=False,
            message=f"Joining {len(videos)} clips",
            submitted_at=timezone.now(),
            source=source,
        )
        VideoPart.objects.bulk_create(
            VideoPart(
                video=video, part=part, position=n, prompt=part.prompt, duration=part.duration
            )
            for n, part in enumerate(videos, 1)
        )
        # With the ORM broker the task commits with the video: never one without the other.
        joins.join_enqueue(video.pk)
    return video
