"""Local renders: one worker holds the video from start to stored file, beating a heartbeat
from a thread of its own so the reaper (claims.videos_reap) can tell a live render from a dead
worker's."""

import logging
import tempfile
import threading
from pathlib import Path

from django.db import connection
from django.utils import timezone

from studio import conf
from videos.models import Attempt, Video
from videos.providers import ProviderError
from videos.scheduler.accounts import provider_for
from videos.scheduler.claims import video_hand_back
from videos.scheduler.jobs import job_for, result_names, store
from videos.scheduler.loop import videos_dispatch
from videos.scheduler.state import (
    DB_OUTAGE,
    Change,
    final,
    retry_or_fail,
    video_complete,
    when_db_returns,
    write,
)

log = logging.getLogger(__name__)
Status = Video.Status


class _TakenBack(Exception):
    """The video was cancelled or reassigned while this worker was rendering it."""


def video_run(*, video_id: int, attempt: int) -> None:
    """Renders one dispatched local video and stores the result. Safe to run twice: only the
    worker holding the current attempt gets past the claim."""
    # SUBMITTING -> PROCESSING happens once per attempt: a second delivery of the task (its
    # lease ran out, or was released after a restart) finds nothing to claim. A worker that
    # died mid-render gets its video handed back as a new attempt, never resumed.
    now = timezone.now()
    started = Change(
        {"status": Status.PROCESSING, "message": "Starting"},
        {"heartbeat_at": now, "started_at": now, "started_on": timezone.localdate(now)},
    )
    if not write(video_id, attempt, started, Status.SUBMITTING):
        return
    video = Video.objects.select_related(
        "attempt__account", "image", "last_image", "subject_image"
    ).get(pk=video_id)
    try:
        _render_and_store(video, Attempt.objects.select_related("account").get(pk=attempt))
    except _TakenBack:
        log.info("Video %s was cancelled or taken back during rendering", video_id)
    except DB_OUTAGE as exc:
        # The database went away for longer than the render could wait: not the video's fault.
        log.warning("Video %s: the database went away (%s); handing it back", video_id, exc)
        when_db_returns(lambda: video_hand_back(video_id=video_id, attempt=attempt))
    except ProviderError as exc:
        if exc.permanent:
            status = Status.MODERATED if exc.moderated else Status.FAILED
            write(video_id, attempt, final(status, str(exc)), Status.PROCESSING)
        else:
            retry_or_fail(video, attempt, str(exc))
    except Exception as exc:
        log.exception("Rendering video %s failed", video_id)
        retry_or_fail(video, attempt, f"The renderer failed: {exc}")
    videos_dispatch()


class _Heartbeat(threading.Thread):
    """Writes a render's progress and heartbeat every HEARTBEAT_SECONDS from its own thread, so
    a renderer step that reports nothing for a while (an encode, a slow upload to storage) never
    looks dead, and a database restart is a pause here rather than an error in the render."""

    def __init__(self, video_id: int, attempt: int):
        super().__init__(name=f"heartbeat-{video_id}", daemon=True)
        self.video_id, self.attempt = video_id, attempt
        self.percent, self.message = 0, "Starting"
        self.lost = False  # cancelled or taken back: the render should stop
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.is_set():
                self.beat()
                self.done.wait(conf.HEARTBEAT_SECONDS)
        finally:
            connection.close()  # this thread's own connection

    def beat(self) -> None:
        change = Change(
            {"percent": self.percent, "message": self.message[:200]},
            {"heartbeat_at": timezone.now()},
        )
        try:
            updated = write(self.video_id, self.attempt, change, Status.PROCESSING)
        except DB_OUTAGE as exc:
            log.warning("Video %s: heartbeat missed (%s)", self.video_id, exc)
            connection.close()  # reconnect at the next beat
            return
        self.lost = self.lost or not updated


def _render_and_store(video: Video, attempt: Attempt) -> None:
    provider = provider_for(attempt.account)
    heartbeat = _Heartbeat(video.pk, attempt.pk)

    def on_progress(percent: int, message: str) -> None:
        if heartbeat.lost:
            raise _TakenBack
        heartbeat.percent, heartbeat.message = max(0, min(percent, 99)), message

    heartbeat.start()
    try:
        with tempfile.TemporaryDirectory(prefix=f"video-{video.pk}-") as tmp:
            workdir = Path(tmp)
            job = job_for(video, attempt, workdir)
            result = provider.render(job, workdir=workdir, on_progress=on_progress)
            on_progress(99, "Saving")
            names = result_names(team_id=video.team_id, video_id=video.pk, attempt=attempt.pk)
            file_name = store(result.video_path, names["mp4"])
            poster_name = store(result.poster_path, names["jpg"])
    finally:
        heartbeat.done.set()
        heartbeat.join()
    # Taken back, cancelled, or the database never came back: the files are gone already.
    if not video_complete(
        video_id=video.pk,
        attempt=attempt.pk,
        file_name=file_name,
        poster_name=poster_name,
        width=result.width,
        height=result.height,
        duration=result.duration,
        patience=60.0,
    ):
        raise _TakenBack
