"""Writes about one video after it was submitted: cancel and untrack (delete is the Trash:
services/trash.py)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from videos import scheduler
from videos.models import Attempt, Video
from videos.services.dispatch import dispatch_request


def video_cancel(*, video: Video, by: AbstractBaseUser) -> bool:
    """Stops a video that has not finished. A running render notices at its next progress report."""
    now = timezone.now()
    with transaction.atomic():
        done = Video.objects.filter(pk=video.pk, status__in=Video.ACTIVE).update(
            status=Video.Status.CANCELLED,
            message=f"Cancelled by {by.get_username()}",
            finished_at=now,
        )
        if done:  # the try under way ends with it (a queued video has none)
            Attempt.objects.filter(current_of=video.pk, outcome=Attempt.Outcome.RUNNING).update(
                outcome=Attempt.Outcome.CANCELLED, finished_at=now
            )
    if done:
        dispatch_request(reason=f"dispatch after cancelling {video.pk}")
    return bool(done)


def video_untrack(*, video: Video) -> bool:
    """DELETE scheduler/{id}: the API stops tracking a running video, so no callback is sent
    for it; the video itself carries on. False if it was not being tracked."""
    return bool(
        Video.objects.filter(pk=video.pk, tracked=True, status__in=Video.ACTIVE).update(
            tracked=False, reply_state=""
        )
    )


def video_upstream_callback(*, token: str, payload: dict) -> dict | None:
    """MiniMax's callback for one attempt: the answer to its challenge, or None when the token
    is unknown. The scheduler owns the attempt's remote state, so it does the work
    (videos/scheduler/remote.py video_callback)."""
    return scheduler.video_callback(token=token, payload=payload)
