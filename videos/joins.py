"""Joining finished clips end to end into one MP4 (a Video of kind JOIN), on a worker.

A join never enters the scheduler: it is created PROCESSING with no attempt, so claims (which
take only QUEUED videos) and the reaper (which reads attempts' heartbeats) never see it. It
guards itself instead, with a lease in Video.retry_at: the run that holds an unexpired lease
is the only one that may write the video. A run renews the lease as it works; a run whose
worker died lets it expire, and joins_resume (called by every dispatch) enqueues the join
again, failing it after MAX_LOSSES such deaths.

The clips are copied from storage to a temporary directory, then concatenated with PyAV:
packets are copied unchanged (remux) when every clip has the same codec, size, pixel format
and time base; otherwise every clip is decoded and encoded again at the first clip's size and
frame rate. Memory stays flat: one packet or frame at a time, files streamed in chunks.
"""

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import av
from av.audio.resampler import AudioResampler
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task
from PIL import Image

from videos import media
from videos.models import Video, VideoPart
from videos.scheduler.jobs import store, upload_name

log = logging.getLogger(__name__)
Status = Video.Status

# A run renews its lease at least this often; one not renewed for LEASE_SECONDS is presumed
# dead. Long enough for the slowest single step (storing a large result) to finish in.
LEASE_SECONDS = 120
RENEW_SECONDS = 10
# Joins whose worker died this many times fail: the join is what kills them.
MAX_LOSSES = 3
# A join enqueued this long ago that no run has taken is enqueued again. Its task commits with
# it (ORM broker), so this is for a task the broker gave up on; a duplicate finds the lease
# held or the join done and does nothing, so a long queue costs only a no-op task.
UNSTARTED_SECONDS = 900
# django-q2's per-task limit for a join; a 50-clip re-encode may take minutes.
TASK_TIMEOUT = 1800
CHUNK = 64 * 1024
# Re-encoding: the frame rate when the first clip does not say one.
DEFAULT_FPS = 24
AUDIO_RATE = 48000


class JoinFailed(Exception):
    """The clips cannot be joined; the message says why, for the video's error."""


class _LeaseLost(Exception):
    """Cancelled, or another run took the join over after this one's lease ran out."""


def join_enqueue(video_id: int) -> None:
    async_task(
        "videos.tasks.video_join_run",
        video_id,
        task_name=f"join {video_id}",
        timeout=TASK_TIMEOUT,
    )


def join_run(*, video_id: int) -> None:
    """Runs one join to its end. Safe to run twice: only the holder of the lease writes."""
    lease = _Lease(video_id)
    if not lease.take():
        return
    try:
        _join_and_store(video_id, lease)
    except _LeaseLost:
        log.info("Join %s was cancelled or taken over while running", video_id)
    except (JoinFailed, av.FFmpegError, OSError, media.NotAVideo) as exc:
        lease.fail(f"The clips could not be joined: {exc}")
    except Exception as exc:
        log.exception("Join %s failed", video_id)
        lease.fail(f"The clips could not be joined: {exc}")


def joins_resume(*, now=None) -> int:
    """Enqueues again the joins whose worker died (its lease ran out) or that were never
    started, and fails a join that has lost MAX_LOSSES workers. Returns how many it handled."""
    now = now or timezone.now()
    expired = Video.objects.filter(kind=Video.Kind.JOIN, status=Status.PROCESSING)
    handled = 0
    for video_id, losses, held_until in expired.filter(retry_at__lt=now).values_list(
        "pk", "worker_losses", "retry_at"
    ):
        # Conditional on the expired lease and the loss count as read: two dispatches sweeping
        # at once count one death once, and a run that renewed in between keeps the join.
        mine = Video.objects.filter(
            pk=video_id, status=Status.PROCESSING, retry_at=held_until, worker_losses=losses
        )
        if losses + 1 >= MAX_LOSSES:
            error = f"Its worker stopped {losses + 1} times while joining the clips."
            handled += mine.update(
                status=Status.FAILED,
                worker_losses=losses + 1,
                retry_at=None,
                error=error,
                message="",
                finished_at=now,
            )
            continue
        # retry_at=None frees the lease for the new run at once; the dead run, should it
        # revive, fails its next renewal (its lease is gone) and stops.
        if mine.update(
            worker_losses=losses + 1,
            retry_at=None,
            percent=0,
            message="Joining again after its worker stopped",
            submitted_at=now,
        ):
            join_enqueue(video_id)
            handled += 1
    return handled + _enqueue_unstarted(expired, now)


def _enqueue_unstarted(joins, now) -> int:
    """Enqueues again the joins no run has taken within UNSTARTED_SECONDS of being enqueued
    (submitted_at). Not a loss: no worker died holding them."""
    cutoff = now - timedelta(seconds=UNSTARTED_SECONDS)
    handled = 0
    for video_id, enqueued in joins.filter(retry_at=None, submitted_at__lt=cutoff).values_list(
        "pk", "submitted_at"
    ):
        # Conditional on the time as read: of two dispatches sweeping at once, one enqueues.
        if Video.objects.filter(
            pk=video_id, status=Status.PROCESSING, retry_at=None, submitted_at=enqueued
        ).update(submitted_at=now):
            log.warning(
                "Join %s was not started within %ss; enqueued again", video_id, UNSTARTED_SECONDS
            )
            join_enqueue(video_id)
            handled += 1
    return handled


class _Lease:
    """This run's hold on the join: the expiry it wrote to Video.retry_at is its token."""

    def __init__(self, video_id: int):
        self.video_id = video_id
        self.until = None
        self.renewed = 0.0

    def take(self) -> bool:
        now = timezone.now()
        until = now + timedelta(seconds=LEASE_SECONDS)
        # Only a free or expired lease is taken: a task delivered twice (django-q2 hands an
        # unacknowledged task out again), or enqueued again by joins_resume while the first
        # run still lives, finds the lease held and does nothing.
        taken = (
            Video.objects.filter(pk=self.video_id, kind=Video.Kind.JOIN, status=Status.PROCESSING)
            .filter(Q(retry_at=None) | Q(retry_at__lt=now))
            .update(retry_at=until)
        )
        if taken:
            self.until, self.renewed = until, time.monotonic()
        return bool(taken)

    def _mine(self):
        return Video.objects.filter(pk=self.video_id, status=Status.PROCESSING, retry_at=self.until)

    def progress(self, percent: int, message: str, *, force: bool = False) -> None:
        """Writes progress and renews the lease, at most every RENEW_SECONDS unless forced.
        Raises _LeaseLost when the join was cancelled or taken over."""
        if not force and time.monotonic() - self.renewed < RENEW_SECONDS:
            return
        until = timezone.now() + timedelta(seconds=LEASE_SECONDS)
        # Conditional on our own expiry: a cancel (status) or a takeover (retry_at) since the
        # last renewal makes this a no-op, and this run stops instead of overwriting the winner.
        if not self._mine().update(retry_at=until, percent=min(percent, 99), message=message):
            raise _LeaseLost
        self.until, self.renewed = until, time.monotonic()

    def complete(self, **fields) -> bool:
        # Conditional: a join cancelled while it was being stored stays cancelled.
        return bool(
            self._mine().update(
                status=Status.COMPLETED,
                percent=100,
                retry_at=None,
                error="",
                finished_at=timezone.now(),
                **fields,
            )
        )

    def fail(self, error: str) -> None:
        self._mine().update(
            status=Status.FAILED,
            retry_at=None,
            error=error[:2000],
            message="",
            finished_at=timezone.now(),
        )


def _join_and_store(video_id: int, lease: _Lease) -> None:
    video = Video.objects.get(pk=video_id)
    parts = list(VideoPart.objects.filter(video_id=video_id).select_related("part"))
    with tempfile.TemporaryDirectory(prefix=f"join-{video_id}-") as tmp:
        workdir = Path(tmp)
        paths = _fetch(parts, workdir, lease)
        clips = [_probe(path) for path in paths]
        out, poster = workdir / "joined.mp4", workdir / "poster.jpg"
        note = _concatenate(clips, out, lease)
        lease.progress(97, "Saving", force=True)
        info = media.probe(out, poster=poster)
        # Names of this run's own: a run that lost its lease deletes only what it stored, never
        # the files of the run that took over. (A worker killed between storing and recording
        # leaves two unreferenced files; that window is a second or so.)
        file_name = store(out, upload_name(video, "mp4"))
        poster_name = store(poster, upload_name(video, "jpg"))
    done = lease.complete(
        file=file_name,
        poster=poster_name,
        width=info.width,
        height=info.height,
        duration=info.duration,
        file_bytes=default_storage.size(file_name),
        message=note,
    )
    if not done:  # cancelled or taken over while storing: the files are nobody's
        default_storage.delete(file_name)
        default_storage.delete(poster_name)
        raise _LeaseLost


def _fetch(parts: list[VideoPart], workdir: Path, lease: _Lease) -> list[Path]:
    """Copies each clip from storage to the work directory, in chunks."""
    paths = []
    for n, part in enumerate(parts, 1):
        clip = part.part
        if clip is None or not clip.file or clip.status != Status.COMPLETED:
            raise JoinFailed(f"clip {n} of {len(parts)} was deleted or has no file any more")
        lease.progress(n * 10 // len(parts), f"Fetching clip {n} of {len(parts)}")
        path = workdir / f"part-{n:03d}.mp4"
        with default_storage.open(clip.file.name, "rb") as src, path.open("wb") as out:
            shutil.copyfileobj(src, out, CHUNK)
        paths.append(path)
    return paths


@dataclass(frozen=True)
class _Clip:
    path: Path
    codec: str
    width: int
    height: int
    pix_fmt: str
    time_base: Fraction
    rate: Fraction | None
    duration: float
    # (codec, sample rate, layout) of its first audio track, or None when it has no sound.
    audio: tuple | None

    @property
    def shape(self) -> tuple:
        return (self.codec, self.width, self.height, self.pix_fmt, self.time_base, self.audio)


def _probe(path: Path) -> _Clip:
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise JoinFailed(f"{path.name} has no video track")
        video = container.streams.video[0]
        sound = container.streams.audio[0] if container.streams.audio else None
        audio = None
        if sound is not None:
            audio = (sound.codec_context.name, sound.rate, sound.layout.name)
        return _Clip(
            path=path,
            codec=video.codec_context.name,
            width=video.codec_context.width,
            height=video.codec_context.height,
            pix_fmt=video.codec_context.pix_fmt or "",
            time_base=video.time_base,
            rate=video.average_rate,
            duration=_seconds(container),
            audio=audio,
        )


def _seconds(container) -> float:
    """The clip's length: its longest stream, which is where the next clip starts."""
    ends = [
        float(s.duration * s.time_base)
        for s in container.streams
        if s.duration is not None and s.time_base is not None
    ]
    if ends:
        return max(ends)
    return (container.duration or 0) / av.time_base


def _concatenate(clips: list[_Clip], out: Path, lease: _Lease) -> str:
    """Writes the joined file; returns the note the finished video shows as its message."""
    with_sound = all(c.audio for c in clips)
    silent = [n for n, c in enumerate(clips, 1) if not c.audio]
    if len(set(c.shape for c in clips)) == 1:
        _remux(clips, out, lease, with_sound=with_sound)
        note = f"Joined {len(clips)} clips without re-encoding"
    else:
        _reencode(clips, out, lease, with_sound=with_sound)
        note = f"Joined {len(clips)} clips, re-encoded to {clips[0].width}x{clips[0].height}"
    if silent and len(silent) < len(clips):
        note += f"; without sound, since clip {silent[0]} has none"
    return note


def _remux(clips: list[_Clip], out: Path, lease: _Lease, *, with_sound: bool) -> None:
    """Copies every clip's packets, each clip's timestamps moved past the end of the last."""
    with av.open(str(out), "w", options={"movflags": "faststart"}) as output:
        targets = None
        offset = 0.0  # seconds: where this clip starts in the joined video
        # Per output stream: where its last packet ended, in its time base (None: nothing yet).
        ends: list[int | None] = [None, None]
        for n, clip in enumerate(clips, 1):
            message, percent = f"Joining clip {n} of {len(clips)}", 10 + 85 * (n - 1) // len(clips)
            lease.progress(percent, message)
            with av.open(str(clip.path)) as source:
                streams = [source.streams.video[0]]
                if with_sound:
                    streams.append(source.streams.audio[0])
                if targets is None:
                    targets = [output.add_stream_from_template(s) for s in streams]
                shifts: list[int | None] = [None] * len(streams)
                for packet in source.demux(*streams):
                    if packet.dts is None:  # the demuxer's empty flush packet
                        continue
                    i = streams.index(packet.stream)
                    if shifts[i] is None:
                        # Past the clip before, and never back into its last packets: AAC's
                        # priming (and B-frames' negative dts) start a clip a little early.
                        shifts[i] = round(offset / packet.time_base)
                        if ends[i] is not None:
                            shifts[i] = max(shifts[i], ends[i] - packet.dts)
                    packet.pts = None if packet.pts is None else packet.pts + shifts[i]
                    packet.dts += shifts[i]
                    ends[i] = max(ends[i] or 0, packet.dts + (packet.duration or 1))
                    packet.stream = targets[i]
                    output.mux(packet)
                    lease.progress(percent, message)
            offset += clip.duration


def _reencode(clips: list[_Clip], out: Path, lease: _Lease, *, with_sound: bool) -> None:
    """Decodes every clip and encodes it again as H.264 at the first clip's size and rate."""
    first = clips[0]
    width, height = first.width - first.width % 2, first.height - first.height % 2
    rate = Fraction(first.rate or DEFAULT_FPS).limit_denominator(1001)
    with av.open(str(out), "w", options={"movflags": "faststart"}) as output:
        video = output.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        # The muxer changes the stream's time base as it starts: frames are stamped in ticks.
        tick = video.time_base = 1 / rate
        video.options = {"preset": "veryfast", "crf": "21"}
        sound = output.add_stream("aac", rate=AUDIO_RATE) if with_sound else None
        if sound is not None:
            sound.layout = "stereo"
        next_frame, next_sample, offset = 0, 0, 0.0
        for n, clip in enumerate(clips, 1):
            message = f"Re-encoding clip {n} of {len(clips)}"
            lease.progress(10 + 85 * (n - 1) // len(clips), message)
            with av.open(str(clip.path)) as source:
                for frame in source.decode(video=0):
                    at = round((offset + (frame.time or 0)) * rate)
                    if at < next_frame:  # a faster clip: drop what the output rate cannot show
                        continue
                    picture = _fit(frame, width, height)
                    # In the output's time base: the decoded clip's own would be rescaled.
                    picture.pts, picture.time_base, next_frame = at, tick, at + 1
                    output.mux(video.encode(picture))
                    lease.progress(10 + 85 * (n - 1) // len(clips), message)
                if sound is not None:
                    next_sample = max(next_sample, round(offset * AUDIO_RATE))
                    next_sample = _reencode_audio(source, output, sound, next_sample)
            offset += clip.duration
        output.mux(video.encode())
        if sound is not None:
            output.mux(sound.encode())


def _reencode_audio(source, output, sound, next_sample: int) -> int:
    resampler = AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    source.seek(0)
    for frame in source.decode(audio=0):
        for chunk in resampler.resample(frame):
            chunk.pts, next_sample = next_sample, next_sample + chunk.samples
            output.mux(sound.encode(chunk))
    for chunk in resampler.resample(None):
        chunk.pts, next_sample = next_sample, next_sample + chunk.samples
        output.mux(sound.encode(chunk))
    return next_sample


def _fit(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """The frame at width x height in yuv420p: scaled when the shape (nearly) matches, else
    scaled to fit and letterboxed (or pillarboxed) on black."""
    # Shapes within 2% of each other (1366x768 and 1280x720) are scaled: nobody sees that
    # stretch, and it spares the letterbox's trip through Pillow.
    if abs(frame.width * height / (frame.height * width) - 1) < 0.02:
        return frame.reformat(width=width, height=height, format="yuv420p")
    scale = min(width / frame.width, height / frame.height)
    w, h = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
    canvas = Image.new("RGB", (width, height))
    canvas.paste(frame.to_image(width=w, height=h), ((width - w) // 2, (height - h) // 2))
    return av.VideoFrame.from_image(canvas).reformat(format="yuv420p")
