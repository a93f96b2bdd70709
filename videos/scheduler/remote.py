"""Remote videos (MiniMax, useapi.net): send the create, reconcile one whose answer was lost,
take MiniMax's callbacks, poll until the upstream is done, fetch the result.

A remote video holds no worker while the upstream works on it: the scheduler loop (loop.py)
runs each step when its attempt's `next_poll_at` comes, on a small thread pool.
"""

import logging
import tempfile
from datetime import timedelta
from pathlib import Path

from django.db.models import F
from django.utils import timezone

from studio import conf
from studio.lib.errors import ServiceError
from videos import media
from videos.models import Attempt, ProviderAccount, UpstreamCall, Video
from videos.providers import (
    AccountPaused,
    AccountRejected,
    InDoubt,
    Progress,
    ProviderError,
    RateLimited,
)
from videos.scheduler.accounts import (
    account_disable,
    account_error,
    account_pause,
    provider_for,
    record_call,
)
from videos.scheduler.claims import Send, claim
from videos.scheduler.jobs import job_for, store, upload_name
from videos.scheduler.state import (
    DB_OUTAGE,
    Change,
    final,
    requeue,
    retry_or_fail,
    video_complete,
    write,
)

log = logging.getLogger(__name__)
Status = Video.Status
WORKING = (Status.PENDING, Status.PROCESSING)


def account_fill(*, account_id: int, send: Send | None = None) -> list[int]:
    """Claims queued videos for one account's free slots, then starts them: a local render goes
    to a worker, a remote create is sent by `send` (inline when None)."""
    claims, remote = claim(account_id)
    for video_id, attempt in claims if remote else ():
        (send or _send_inline)(video_id, attempt)
    return [video_id for video_id, _ in claims]


def _send_inline(video_id: int, attempt: int) -> None:
    video_send(video_id=video_id, attempt=attempt)


def _claimed(video_id: int, attempt: int, *statuses: str, **where):
    """The video with its attempt (and account) loaded, while it still runs `attempt`."""
    return (
        Video.objects.select_related("attempt__account", "image", "last_image", "subject_image")
        .filter(pk=video_id, attempt_id=attempt, status__in=statuses, **where)
        .first()
    )


def video_send(*, video_id: int, attempt: int) -> None:
    """Sends a claimed video's create upstream. The claim (status SUBMITTING, this attempt) was
    committed first: that is the recorded intent a crash leaves behind for `video_reconcile`."""
    video = _claimed(video_id, attempt, Status.SUBMITTING, attempt__next_poll_at=None)
    if video is None:
        return
    account = video.attempt.account
    try:
        with tempfile.TemporaryDirectory(prefix=f"send-{video_id}-") as tmp:
            upstream_id = provider_for(account).submit(job_for(video, video.attempt, Path(tmp)))
    except InDoubt as exc:
        write(
            video_id,
            attempt,
            Change(
                {"message": f"Checking whether it arrived: {exc}"[:200]},
                {"next_poll_at": timezone.now()},
            ),
            Status.SUBMITTING,
        )
        account_error(account, str(exc))
        return
    except ProviderError as exc:
        _send_failed(video, attempt, exc)
        return
    except ServiceError as exc:  # a choice the account's model refuses: sending again won't help
        _send_failed(video, attempt, ProviderError(exc.message, permanent=True))
        return
    except DB_OUTAGE:
        raise  # not the video's fault: the claim stays, and reconciling finds out what happened
    except Exception as exc:  # a bug must not leave the video stuck in "submitting"
        log.exception("Sending video %s failed", video_id)
        _send_failed(video, attempt, ProviderError(f"Sending failed unexpectedly: {exc}"))
        return
    _started(video_id, attempt, upstream_id, account)


def _started(video_id: int, attempt: int, upstream_id: str, account: ProviderAccount) -> bool:
    now = timezone.now()
    started = write(
        video_id,
        attempt,
        Change(
            {"status": Status.PENDING, "percent": 2, "message": f"Sent to {account.name}"},
            {
                "upstream_id": upstream_id,
                "started_at": now,
                "started_on": timezone.localdate(now),
                "heartbeat_at": now,
                "next_poll_at": now + timedelta(seconds=conf.POLL_SECONDS),
            },
        ),
        Status.SUBMITTING,
    )
    if not started:
        # Cancelled while the create was in flight: keep the id so the record is complete.
        Attempt.objects.filter(pk=attempt, upstream_id="").update(upstream_id=upstream_id)
    return bool(started)


def _send_failed(video: Video, attempt: int, exc: ProviderError) -> None:
    account = video.attempt.account
    if isinstance(exc, RateLimited):
        account_pause(account, exc.seconds, f"Rate limited: {exc}", kind=exc.kind)
        change = requeue(f"Waiting: {account.name} asked us to slow down")
    elif isinstance(exc, AccountPaused):
        account_pause(account, exc.seconds, str(exc), kind=exc.kind)
        change = requeue(f"Back in the queue: {exc}")
    elif isinstance(exc, AccountRejected):
        account_disable(account=account, reason=str(exc))
        change = requeue(f"Back in the queue: {account.name} was disabled")
    elif exc.moderated:
        change = final(Status.MODERATED, str(exc))
    elif exc.permanent:
        change = final(Status.FAILED, str(exc))
    else:
        account_error(account, str(exc))
        retry_or_fail(video, attempt, str(exc))
        return
    write(video.pk, attempt, change)


def video_reconcile(*, video_id: int, attempt: int) -> None:
    """A create whose answer was lost (a timeout, a dropped connection, a worker killed
    mid-send): find it upstream, or send it again only when it surely never arrived."""
    video = _claimed(video_id, attempt, Status.SUBMITTING, attempt__upstream_id="")
    if video is None:
        return
    tried = video.attempt
    account = tried.account
    provider = provider_for(account)

    def submitting(change: Change) -> None:
        write(video_id, attempt, change, Status.SUBMITTING)

    if provider.can_find:
        known = set(
            Attempt.objects.filter(account=account)
            .exclude(upstream_id="")
            .order_by("-id")
            .values_list("upstream_id", flat=True)[:500]
        )
        try:
            with tempfile.TemporaryDirectory() as tmp:
                found = provider.find(job_for(video, tried, Path(tmp)), known_ids=known)
        except ProviderError as exc:
            later = timezone.now() + timedelta(seconds=conf.POLL_SECONDS * 2)
            message = f"Still checking whether it arrived: {exc}"[:200]
            submitting(Change({"message": message}, {"next_poll_at": later}))
            return
        if found:
            _started(video_id, attempt, found, account)
        else:
            submitting(requeue("Sent again: the upstream never received it"))
        return
    # MiniMax v1 cannot list tasks. With a callback URL, MiniMax sends the challenge before it
    # accepts a create, then a push with the task id: no challenge means it never arrived.
    waited = (timezone.now() - (tried.heartbeat_at or timezone.now())).total_seconds()
    if tried.callback_token and conf.PUBLIC_URL:
        if tried.upstream_seen_at is None and waited >= conf.CALLBACK_GRACE_SECONDS:
            submitting(requeue("Sent again: MiniMax never received it"))
        elif waited >= conf.IN_DOUBT_GIVE_UP_SECONDS:
            submitting(
                final(
                    Status.FAILED,
                    "MiniMax received this video but its answer was lost and no status followed. "
                    "It was not sent again, so you are not charged twice; try again if it does "
                    "not appear in MiniMax's console.",
                )
            )
        else:
            submitting(Change(attempt={"next_poll_at": timezone.now() + timedelta(seconds=1)}))
        return
    # No way to know: resend, but say so on the card rather than doubling silently.
    submitting(requeue("Sent again after MiniMax's answer was lost; it may have started twice"))


def video_callback(*, token: str, payload: dict) -> dict | None:
    """MiniMax's callback (reference §3): answer the challenge; on a push, poll at once.

    The push is never trusted by itself: it only makes the next poll due now, and the poll asks
    MiniMax with the account's key. A push for a create whose answer was lost records its task
    id, which the same poll then confirms. None means the token is unknown.
    """
    tried = Attempt.objects.filter(callback_token=token).exclude(callback_token="").first()
    # A token is the latest attempt's: once the video is claimed again, the old one is unknown.
    if tried is None or Attempt.objects.filter(video_id=tried.video_id, pk__gt=tried.pk).exists():
        return None
    if "challenge" in payload:
        Attempt.objects.filter(pk=tried.pk, upstream_seen_at=None).update(
            upstream_seen_at=timezone.now()
        )
        return {"challenge": payload["challenge"]}
    task_id = str(payload.get("task_id") or "")
    now = timezone.now()
    if task_id and not tried.upstream_id:
        # Only while the create is still SUBMITTING (owned() checks it under the row lock).
        write(
            tried.video_id,
            tried.pk,
            Change(
                {"status": Status.PENDING},
                {
                    "upstream_id": task_id,
                    "started_at": now,
                    "started_on": timezone.localdate(now),
                    "next_poll_at": now,
                    "heartbeat_at": now,
                },
            ),
            Status.SUBMITTING,
            attempt_where={"upstream_id": ""},
        )
    elif task_id and task_id == tried.upstream_id:
        write(
            tried.video_id,
            tried.pk,
            Change(attempt={"next_poll_at": now}),
            attempt_where={"upstream_finished_at": None},
        )
    return {"status": "success"}


def video_poll(*, video_id: int, attempt: int) -> None:
    video = _claimed(video_id, attempt, *WORKING, attempt__upstream_finished_at=None)
    if video is None:
        return
    tried = video.attempt
    account = tried.account
    record_call(account, UpstreamCall.Kind.QUERY)
    try:
        progress = provider_for(account).poll(tried.upstream_id)
    except ProviderError as exc:
        _poll_failed(video, attempt, exc)
        return
    now = timezone.now()

    def mine(change: Change) -> int:
        return write(
            video_id, attempt, change, *WORKING, attempt_where={"upstream_finished_at": None}
        )

    if not progress.final:
        state = Status.PROCESSING if progress.state == "processing" else Status.PENDING
        video_changes = {
            "status": state,
            "percent": _estimate(video, progress),
            "message": progress.message[:200],
        }
        attempt_changes = {
            "heartbeat_at": now,
            "poll_failures": 0,
            "next_poll_at": now + timedelta(seconds=_poll_interval(tried)),
        }
        mine(Change(video_changes, attempt_changes))
        return
    if progress.state == "success":
        # The upstream slot is free from this moment: fill it before the download starts.
        won = mine(
            Change(
                {
                    "status": Status.PROCESSING,
                    "width": progress.width,
                    "height": progress.height,
                    "percent": 99,
                    "message": "Downloading the result",
                },
                {
                    "upstream_finished_at": now,
                    "upstream_file": progress.file_ref,
                    "heartbeat_at": now,
                    # Due at once: the loop hands the download to its own pool, so a slow
                    # download never delays another video's poll.
                    "next_poll_at": now,
                },
            )
        )
        if won:
            account_fill(account_id=account.pk)
        return
    status = Status.MODERATED if progress.state == "moderated" else Status.FAILED
    if mine(final(status, progress.message or "The upstream could not make it")):
        account_fill(account_id=account.pk)


def _poll_interval(tried: Attempt) -> float:
    # MiniMax answered this attempt's callback challenge, so its pushes reach us and make the
    # next poll due at once: polling is only the safety net, and can be much rarer.
    if tried.upstream_seen_at is not None and conf.PUBLIC_URL:
        return conf.POLL_SECONDS * conf.POLL_SLOWDOWN_WITH_CALLBACKS
    return conf.POLL_SECONDS


def _estimate(video: Video, progress: Progress) -> int:
    # MiniMax reports a state, not a percentage: estimate from the time taken so far.
    elapsed = (timezone.now() - (video.submitted_at or timezone.now())).total_seconds()
    guess = int(90 * elapsed / conf.EXPECTED_UPSTREAM_SECONDS)
    if progress.state != "processing":
        guess = 0
    return max(2, min(95, max(progress.percent, guess)))


def _poll_failed(video: Video, attempt: int, exc: ProviderError) -> None:
    account = video.attempt.account
    if isinstance(exc, RateLimited | AccountPaused):
        account_pause(account, exc.seconds, str(exc), kind=exc.kind)
        delay = exc.seconds
    elif isinstance(exc, AccountRejected):
        # The video is already upstream: keep asking (an admin may fix the key) but do not spin.
        account_disable(account=account, reason=str(exc))
        delay = 60.0
    else:
        account_error(account, str(exc))
        failures = video.attempt.poll_failures + 1
        if failures > conf.MAX_POLL_FAILURES:
            lost = final(Status.FAILED, f"Lost track of the video upstream: {exc}")
            write(video.pk, attempt, lost, *WORKING)
            account_fill(account_id=account.pk)
            return
        delay = min(300.0, conf.POLL_SECONDS * 2**failures)
    message = f"Upstream trouble, checking again in {delay:.0f} s"[:200]
    later = timezone.now() + timedelta(seconds=delay)
    attempt_changes = {"poll_failures": F("poll_failures") + 1, "next_poll_at": later}
    write(video.pk, attempt, Change({"message": message}, attempt_changes), *WORKING)


def video_fetch(*, video_id: int, attempt: int) -> None:
    """Downloads a finished video into storage (streamed), with a poster frame. The URL is minted
    afresh each time, so a retry after an expired link or a killed worker just works."""
    video = _claimed(
        video_id, attempt, Status.PROCESSING, attempt__upstream_finished_at__isnull=False
    )
    if video is None:
        return
    tried = video.attempt
    account = tried.account
    record_call(account, UpstreamCall.Kind.DOWNLOAD)
    try:
        with tempfile.TemporaryDirectory(prefix=f"fetch-{video_id}-") as tmp:
            workdir = Path(tmp)
            provider = provider_for(account)
            path = provider.fetch(tried.upstream_id, tried.upstream_file, workdir=workdir)
            info = media.probe(path, poster=workdir / "poster.jpg")
            file_name = store(path, upload_name(video, "mp4"))
            poster_name = store(info.poster, upload_name(video, "jpg"))
    except ProviderError as exc:
        _fetch_failed(video, attempt, str(exc))
        return
    except media.NotAVideo as exc:
        _fetch_failed(video, attempt, f"The upstream sent a file that is not a video: {exc}")
        return
    video_complete(
        video_id=video_id,
        attempt=attempt,
        file_name=file_name,
        poster_name=poster_name,
        width=info.width,
        height=info.height,
        duration=info.duration,
    )


def _fetch_failed(video: Video, attempt: int, error: str) -> None:
    failures = video.attempt.fetch_failures + 1
    if failures >= conf.MAX_FETCH_FAILURES:
        gave_up = final(
            Status.FAILED,
            f"The video was made, but downloading it failed {failures} times: {error}",
            attempt={"fetch_failures": failures},
        )
        write(video.pk, attempt, gave_up, Status.PROCESSING)
        return
    delay = conf.RETRY_BASE_SECONDS * 2 ** (failures - 1)
    message = f"Download failed, trying again with a fresh link in {delay:.0f} s"
    later = timezone.now() + timedelta(seconds=delay)
    retry = Change({"message": message}, {"fetch_failures": failures, "next_poll_at": later})
    write(video.pk, attempt, retry, Status.PROCESSING)
