"""replyUrl callbacks, part of the service layer: which are owed, sending them signed, retrying.

A video made with a replyUrl owes one callback when it ends: the body GET videos/{videoId}
answers, with replyRef, signed per Standard Webhooks with the team's secret. The sweep that
queues it claims the video with a conditional UPDATE (reply_state "waiting" → "sent"), so of two
sweeps that see the same video only one queues a callback. Each callback is a WebhookDelivery
row, sent by a django-q2 task and retried on WEBHOOK_RETRY_SECONDS (about three days); the
minute's dispatch sends the ones due again. With progress callbacks on, a running video also
owes one each time its status or its progress quarter changes; those are tried three times.
"""

import json
import logging
import random
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from studio import conf
from studio.api.schemas import video_record
from studio.lib import metrics, netguard
from studio.webhooks import signing as webhook_signing
from studio.webhooks.models import WebhookDelivery
from studio.webhooks.services import signing_secret_ensure
from videos.models import Video

log = logging.getLogger(__name__)
State = WebhookDelivery.State
Event = WebhookDelivery.Event
PROGRESS_ATTEMPTS = 3
# A delivery queued at creation is left to its own task for this long before the sweep sends it.
FRESH_GRACE_SECONDS = 60


def _claim_seconds() -> float:
    # Longer than a worker may live with the task (django-q2's timeout), so a second sender never
    # starts while the first is still talking to the receiver; a killed send is retried after.
    return settings.Q_CLUSTER["timeout"] + 60


def callbacks_collect() -> int:
    """Queues the callbacks owed now. Cheap when none are: one indexed query each."""
    queued = 0
    owed = Video.objects.filter(reply_state="waiting", status__in=Video.FINAL)
    for video_id in owed.values_list("pk", flat=True)[:200]:
        with transaction.atomic():
            # The claim: a second sweep seeing the same video updates nothing and moves on.
            if not Video.objects.filter(
                pk=video_id, reply_state="waiting", status__in=Video.FINAL
            ).update(reply_state="sent"):
                continue
            _queue(Video.objects.select_related(*_RELATED).get(pk=video_id), Event.FINAL)
            queued += 1
    running = Video.objects.filter(
        reply_state="waiting", status__in=Video.ACTIVE, team__webhook_progress=True
    ).select_related(*_RELATED)
    for video in running[:200]:
        mark = _progress_mark(video)
        if mark == video.reply_progress:
            continue
        with transaction.atomic():
            if Video.objects.filter(
                pk=video.pk, reply_state="waiting", reply_progress=video.reply_progress
            ).update(reply_progress=mark):
                _queue(video, Event.PROGRESS)
                queued += 1
    return queued


_RELATED = ("attempt__account", "image", "last_image", "subject_image", "team")


def _progress_mark(video: Video) -> str:
    return f"{video.status} {video.percent // 25 * 25}"


def _base(video: Video) -> str:
    return conf.PUBLIC_URL or video.origin


def _body(video: Video, event: str) -> bytes:
    record = video_record(video, base=_base(video))
    record["event"] = event
    return json.dumps(record, separators=(",", ":")).encode()


def _queue(video: Video, event: str) -> WebhookDelivery:
    return _enqueue(
        team_id=video.team_id,
        video_id=video.pk,
        event=event,
        url=video.reply_url,
        msg_id=f"msg_{secrets.token_urlsafe(18)}",
        payload=_body(video, event).decode(),
    )


def _enqueue(**fields) -> WebhookDelivery:
    """A delivery row, due now, and its send task, committed with the caller's transaction."""
    delivery = WebhookDelivery.objects.create(next_attempt_at=timezone.now(), **fields)
    _send_task(delivery.pk)
    return delivery


def _send_task(delivery_id: int) -> None:
    async_task(
        "studio.webhooks.tasks.send_callback", delivery_id, task_name=f"callback {delivery_id}"
    )


def callbacks_due() -> int:
    """Hands the deliveries whose retry has come to workers (the minute's safety net)."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
    # A fresh delivery already has its send task in the queue: only one that is still unsent
    # after a while (its task lost, or the workers swamped) gets another.
    fresh = now - timedelta(seconds=FRESH_GRACE_SECONDS)
    due = due.filter(Q(attempts__gt=0) | Q(next_attempt_at__lte=fresh))
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:100])
    for delivery_id in ids:
        _send_task(delivery_id)
    return len(ids)


def callback_send(*, delivery_id: int) -> str | None:
    """One attempt at a delivery that is due. Returns its state afterwards (None: not due)."""
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.select_related("team")
        .filter(pk=delivery_id, state=State.PENDING, next_attempt_at__lte=now)
        .first()
    )
    if delivery is None:
        return None
    # Claimed by moving next_attempt_at on: a second task for the same row (the minute's sweep,
    # a duplicate) matches nothing and returns, so one attempt is one request. The attempt is
    # counted here, so a send that kills its worker every time still reaches the end of the
    # schedule instead of being tried for ever.
    if not WebhookDelivery.objects.filter(
        pk=delivery.pk, state=State.PENDING, next_attempt_at=delivery.next_attempt_at
    ).update(next_attempt_at=now + timedelta(seconds=_claim_seconds()), attempts=F("attempts") + 1):
        return None
    if delivery.event == Event.PROGRESS and _superseded(delivery):
        return _finish(
            delivery,
            State.FAILED,
            last_error="Not sent: the video has ended, and its final callback says so.",
            attempts=delivery.attempts + 1,
        )
    if delivery.attempts + 1 > len(_waits(delivery)) + 1:
        # Killed mid-send on every attempt (claim after claim ran out): give up as scheduled.
        return _finish(
            delivery,
            State.FAILED,
            last_error=f"Gave up: the sender stopped on each of {delivery.attempts} attempts.",
        )
    # A final callback gets fresh links at each attempt (they expire; the video's state does
    # not change any more). A progress callback reports the moment it was queued for, and a
    # deleted video's callback goes out as it was queued.
    video = None
    if delivery.event == Event.FINAL:
        video = Video.objects.select_related(*_RELATED).filter(pk=delivery.video_id).first()
    body = _body(video, delivery.event) if video is not None else delivery.payload.encode()
    headers = webhook_signing.headers(
        signing_secret_ensure(team=delivery.team).signing(),
        msg_id=delivery.msg_id,
        timestamp=int(time.time()),
        body=body,
    )
    attempt = {"attempts": delivery.attempts + 1, "last_attempt_at": now, "payload": body.decode()}
    try:
        answer = netguard.post_json(delivery.url, body=body, headers=headers)
    except netguard.Unresolvable as exc:
        return _retry(delivery, error=str(exc), status=None, **attempt)
    except netguard.UnsafeURL as exc:
        return _finish(delivery, State.BLOCKED, last_error=str(exc), last_status=None, **attempt)
    except netguard.DeliveryFailed as exc:
        return _retry(delivery, error=str(exc), status=None, **attempt)
    except Exception as exc:  # a bug must not leave the claim to run out again and again
        log.exception("Callback %s failed unexpectedly", delivery.pk)
        return _retry(delivery, error=f"Sending failed unexpectedly: {exc}", status=None, **attempt)
    if 200 <= answer.status < 300:
        return _finish(
            delivery, State.DELIVERED, last_status=answer.status, last_error="", **attempt
        )
    error = f"HTTP {answer.status}: {answer.body[:500]}".strip()
    if answer.status == 410:  # the receiver says the endpoint is gone for good
        return _finish(delivery, State.FAILED, last_status=410, last_error=error, **attempt)
    return _retry(delivery, error=error, status=answer.status, **attempt)


def _waits(delivery: WebhookDelivery) -> list[float]:
    waits = conf.WEBHOOK_RETRY_SECONDS
    return waits[: PROGRESS_ATTEMPTS - 1] if delivery.event == Event.PROGRESS else waits


def _superseded(delivery: WebhookDelivery) -> bool:
    """A progress callback that would arrive after the video's end: its news is stale."""
    if delivery.video_id is None:
        return True  # the video was deleted
    return (
        Video.objects.filter(pk=delivery.video_id, status__in=Video.FINAL).exists()
        or WebhookDelivery.objects.filter(video_id=delivery.video_id, event=Event.FINAL).exists()
    )


def _finish(delivery: WebhookDelivery, state: str, **fields) -> str:
    metrics.CALLBACK_DELIVERIES.labels(result=state).inc()
    if state == State.DELIVERED:
        fields["delivered_at"] = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=state, next_attempt_at=None, **fields
    )
    return state


def _retry(delivery: WebhookDelivery, *, error: str, status: int | None, **attempt) -> str:
    waits = _waits(delivery)
    done = attempt["attempts"]
    if done > len(waits):
        error = f"Gave up after {done} attempts. Last: {error}"
        return _finish(delivery, State.FAILED, last_error=error, last_status=status, **attempt)
    metrics.CALLBACK_DELIVERIES.labels(result="retrying").inc()
    # Jitter, so callbacks that failed together (a receiver's outage) do not return together.
    wait = waits[done - 1] * random.uniform(1.0, 1.1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() + timedelta(seconds=wait),
        last_error=error[:2000],
        last_status=status,
        **attempt,
    )
    return State.PENDING


def callback_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Sends a callback again, as a new delivery with the same webhook-id, so a receiver that
    already processed it can tell; the original keeps its history."""
    with transaction.atomic():
        return _enqueue(
            team_id=delivery.team_id,
            video_id=delivery.video_id,
            event=delivery.event,
            url=delivery.url,
            msg_id=delivery.msg_id,
            payload=delivery.payload,
        )
