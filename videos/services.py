"""Writes. Views and tasks call these; nothing else changes a video, an account or a team.

Slot accounting is derived, not counted: an account's busy slots are its videos in Video.RUNNING.
Every state change is a conditional UPDATE on (id, attempts, status), so a worker that lost its
claim (the video was cancelled, or taken back after it went quiet) cannot overwrite the winner.
"""

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from studio.lib import netguard
from studio.lib.errors import ServiceError
from studio.teams.models import Team
from studio.teams.services import team_create
from videos import selectors
from videos.images import CleanImage
from videos.models import PromptImage, ProviderAccount, SchedulerLease, UpstreamCall, Video
from videos.providers.catalog import check_options

log = logging.getLogger(__name__)
User = get_user_model()


class QueueFull(ServiceError):
    """No room for another video now (HTTP 429): a queue limit, or in strict mode every
    account's slots. `running` are the videos in the way; `upstream` is set when the upstream
    itself said "too many" (useapi.net's second 429 flavour)."""

    def __init__(self, message: str, *, running: list | None = None, upstream: str = ""):
        super().__init__(message)
        self.running = running or []
        self.upstream = upstream


class Refused(ServiceError):
    """The upstream refused the prompt for moderation (HTTP 422); nothing was kept."""


# Dispatch requests

DISPATCH_FLAG = "dispatch"
# A flag older than this is presumed lost (its task died before starting) and is replaced.
DISPATCH_FLAG_SECONDS = 30


def dispatch_request(*, reason: str) -> None:
    """Asks a worker to hand queued videos to free slots; call inside the writing transaction.

    A burst of submits (a script creating 100 videos) shares one dispatch task instead of
    queueing 100 in front of everything else. While a requested dispatch has not started, later
    requests only touch its flag row. On PostgreSQL that UPDATE holds the row lock until the
    caller commits, and the dispatch clears the flag (waiting on that lock) before it reads the
    queue, so it cannot miss the caller's video; SQLite serialises the two anyway.
    """
    now = timezone.now()
    SchedulerLease.objects.get_or_create(name=DISPATCH_FLAG, defaults={"expires_at": now})
    fresh = now - timedelta(seconds=DISPATCH_FLAG_SECONDS)
    if SchedulerLease.objects.filter(
        name=DISPATCH_FLAG, owner="pending", expires_at__gt=fresh
    ).update(owner="pending"):
        return
    SchedulerLease.objects.filter(name=DISPATCH_FLAG).update(owner="pending", expires_at=now)
    async_task("videos.tasks.dispatch", task_name=reason[:100])


def dispatch_started() -> None:
    """The dispatch task's first step: from now on, new requests need a new task."""
    SchedulerLease.objects.filter(name=DISPATCH_FLAG).update(owner="")


# Teams, members and invites


def account_ensure_local_for(team: Team) -> ProviderAccount:
    """The team_created hook (studio.teams.hooks)."""
    return account_ensure_local(team=team)


def account_ensure_local(*, team: Team) -> ProviderAccount:
    """Every team starts with a local renderer, so a fresh install makes real MP4s at once."""
    account, _ = ProviderAccount.objects.get_or_create(
        team=team,
        kind=ProviderAccount.Kind.LOCAL,
        defaults={"name": "Local renderer", "max_jobs": settings.Q_CLUSTER["workers"]},
    )
    return account


@dataclass
class Bootstrap:
    team: Team
    username: str = ""
    password: str = ""  # set only when the admin was created just now


def studio_bootstrap(*, team_name: str = "Studio", username: str = "admin") -> Bootstrap:
    """First run: a team, an admin with a generated password, and a local renderer account."""
    with transaction.atomic():
        schedules_ensure()
        team = Team.objects.order_by("id").first()
        if team is not None:
            account_ensure_local(team=team)
            return Bootstrap(team=team)
        password = secrets.token_urlsafe(12)
        admin = User.objects.create_user(username=username, password=password)
        team = team_create(name=team_name, admin=admin)
    return Bootstrap(team=team, username=username, password=password)


DISPATCH_SCHEDULE = "studio: dispatch and take back stale videos"


def schedules_ensure() -> None:
    """The safety-net schedule (also made by migration 0002): each minute, dispatch and take back
    videos from dead workers. Submissions and finished videos dispatch at once; this catches a
    worker killed mid-render, or a backlog left by a restart."""
    Schedule.objects.update_or_create(
        name=DISPATCH_SCHEDULE,
        defaults={
            "func": "videos.tasks.dispatch",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )


# Images and videos


def image_store(
    *, team: Team, user: AbstractBaseUser, image: CleanImage, original_name: str = ""
) -> PromptImage:
    record = PromptImage(
        team=team,
        uploader=user,
        original_name=original_name[:255],
        width=image.width,
        height=image.height,
        format=image.format,
        bytes=len(image.content),
    )
    record.file.save(f"upload.{image.extension}", ContentFile(image.content), save=False)
    try:
        record.save()
    except BaseException:
        record.file.delete(save=False)
        raise
    return record


def video_submit(
    *,
    team: Team,
    user: AbstractBaseUser,
    prompt: str,
    prompt_optimization: bool = True,
    image: CleanImage | None = None,
    image_name: str = "",
    last_image: CleanImage | None = None,
    last_image_name: str = "",
    model: str = "",
    resolution: str = "",
    duration: int | None = None,
    stored_image: PromptImage | None = None,
    stored_last_image: PromptImage | None = None,
    account: ProviderAccount | None = None,
    max_jobs: int | None = None,
    reply_url: str = "",
    reply_ref: str = "",
    via_api: bool = False,
    origin: str = "",
) -> Video:
    """Stores a video as queued, with its image, and asks a worker to dispatch it.

    All or nothing: the rows and the dispatch task commit together (django-q2's ORM broker
    writes to the same database), and an image file whose rows did not commit is removed.

    The API's extras: `stored_image` and `stored_last_image` (fileIDs), `account` (only it may
    take the video),
    `max_jobs`, `reply_url` / `reply_ref`. Through the API a create counts against the queue
    limits, and in a strict-mode team it goes upstream at once (see `_submit_strict`).
    """
    prompt = prompt.strip()
    if not prompt and image is None and stored_image is None:
        raise ServiceError("Describe the video: the prompt is empty.")
    if len(prompt) > settings.PROMPT_MAX_CHARS:
        raise ServiceError(f"The prompt is longer than {settings.PROMPT_MAX_CHARS} characters.")
    has_last_image = last_image is not None or stored_last_image is not None
    if model or resolution or duration or has_last_image:
        try:
            check_options(
                model=model,
                resolution=resolution,
                duration=duration,
                has_image=image is not None or stored_image is not None,
                has_last_image=has_last_image,
            )
        except ValueError as exc:
            raise ServiceError(str(exc)) from None
    if reply_url:
        try:
            netguard.check_url(reply_url)
        except netguard.UnsafeURL as exc:
            raise ServiceError(str(exc)) from None
    elif via_api:
        # Checked when it was saved, and again at each send: a create is not refused for it.
        reply_url = team.default_reply_url
    if account is not None and account.team_id != team.pk:
        raise ServiceError("That account is not one of the team's.")
    if account is not None and not account.enabled:
        # Accepted, the video would wait for ever; say so now.
        raise ServiceError(
            f"account {account.pk} ({account.name}) is disabled: an admin can enable it under "
            "Accounts, or leave account out to use any."
        )
    fields = {
        "team": team,
        "author": user,
        "prompt": prompt,
        "prompt_optimization": prompt_optimization,
        "model": model,
        "resolution": resolution,
        "requested_duration": duration,
        "requested_account": account,
        "max_jobs": max_jobs,
        "reply_url": reply_url,
        "reply_ref": reply_ref,
        # Strict mode holds the callback until the create is known to be kept (see there).
        "reply_state": ("hold" if via_api and team.api_strict else "waiting") if reply_url else "",
        "tracked": via_api,
        "origin": origin[:200],
        "message": f"Waiting for a free slot on {account.name}"
        if account
        else "Waiting for a free slot",
    }
    if via_api and team.api_strict:
        return _submit_strict(fields, images=(stored_image, stored_last_image))
    stored: list[PromptImage] = []
    try:
        with transaction.atomic():
            if via_api:
                _check_queue_limits(team, user)
            _lock_images(stored_image, stored_last_image)
            first, last = stored_image, stored_last_image
            if image is not None:
                first = image_store(team=team, user=user, image=image, original_name=image_name)
                stored.append(first)
            if last_image is not None:
                last = image_store(
                    team=team, user=user, image=last_image, original_name=last_image_name
                )
                stored.append(last)
            video = Video.objects.create(image=first, last_image=last, **fields)
            dispatch_request(reason=f"dispatch after video {video.pk}")
    except BaseException:
        for record in stored:
            record.file.delete(save=False)
        raise
    return video


def _check_queue_limits(team: Team, user: AbstractBaseUser) -> None:
    """Queue mode's only refusal. The team row lock serialises creates within a team, so two
    scripts submitting at the same moment cannot both take the last place (count-then-insert)."""
    Team.objects.select_for_update().filter(pk=team.pk).first()
    team_limit = team.team_queue_limit or settings.API_TEAM_QUEUE_LIMIT
    user_limit = team.user_queue_limit or settings.API_USER_QUEUE_LIMIT
    # Read on the (team, status) index and counted here: filtering by author in SQL lets the
    # planner walk the author's whole history instead (measured in bench/api.py).
    teams = Video.objects.filter(team=team)
    authors = selectors.active_videos(teams.values_list("author_id", flat=True))
    if authors.count(user.pk) >= user_limit:
        raise QueueFull(
            f"You have {user_limit} videos queued or running, your limit; "
            "try again when some have finished.",
            running=_running_of(teams.filter(author=user)),
        )
    if len(authors) >= team_limit:
        raise QueueFull(
            f"{team.name} has {team_limit} videos queued or running, the team's limit; "
            "try again when some have finished.",
            running=_running_of(teams),
        )


def _running_of(videos) -> list[Video]:
    """The running videos among `videos` (a team's), oldest start first, for a 429's list."""
    running = selectors.active_videos(videos.select_related("account"), statuses=Video.RUNNING)
    return sorted(running, key=lambda v: (v.submitted_at or v.created_at, v.pk))


def _submit_strict(fields: dict, *, images: tuple[PromptImage | None, PromptImage | None]) -> Video:
    """Strict mode, as useapi.net works: the video takes a slot now or the request is refused.

    The slot is claimed under the accounts' row locks (no two creates take the last slot), the
    claim commits, then the create goes upstream in this request. A refusal (busy, moderated,
    invalid) deletes the row, so a refused request leaves nothing behind.
    """
    from videos import scheduler

    team, wanted, max_jobs = fields["team"], fields["requested_account"], fields["max_jobs"]
    now = timezone.now()
    with transaction.atomic():
        candidates = ProviderAccount.objects.select_for_update().filter(team=team, enabled=True)
        if wanted is not None:
            candidates = candidates.filter(pk=wanted.pk)
        _lock_images(*images)
        candidates = list(candidates.order_by("pk"))
        if not candidates:
            raise ServiceError(
                f"{team.name} has no enabled account to send videos to; "
                "an admin can add or enable one under Accounts."
            )
        free = [a for a in candidates if scheduler.account_has_room(a, max_jobs=max_jobs, now=now)]
        if not free:
            running = _running_of(
                Video.objects.filter(team=team, upstream_finished_at=None).filter(
                    **({"account": wanted} if wanted else {})
                )
            )
            who = (
                f"Account {wanted.pk} ({wanted.name})"
                if wanted
                else f"Every account of {team.name}"
            )
            limit = f"maxJobs {max_jobs}" if max_jobs else "its maxJobs"
            message = f"{who} is busy executing {limit} videos"
            if all(a.is_paused for a in candidates):
                until = max(a.paused_until for a in candidates)
                message = (
                    f"{who} is paused until {until:%H:%M:%S} UTC "
                    f"({candidates[0].pause_reason or 'the upstream asked us to wait'})"
                )
            raise QueueFull(message, running=running)
        account = free[0]
        video = Video.objects.create(image=images[0], last_image=images[1], **fields)
        Video.objects.filter(pk=video.pk).update(**scheduler.claim_fields(account, now))
        scheduler.claim_start(account, video.pk, 1, now)
    if account.is_remote:
        scheduler.video_send(video_id=video.pk, attempt=1)
    video.refresh_from_db()
    if video.status == Video.Status.MODERATED:
        _discard(video, Refused(video.error or "The prompt was refused by moderation."))
    if video.status == Video.Status.FAILED:
        _discard(video, ServiceError(f"The upstream refused the video: {video.error}"))
    # Put back by a rate limit, a paused or a rejected account: in strict mode that is a "try
    # again later", unless a dispatcher has taken it up again in the meantime.
    if (
        video.status == Video.Status.QUEUED
        and not video.retry_at
        and Video.objects.filter(pk=video.pk, status=Video.Status.QUEUED).delete()[0]
    ):
        raise QueueFull(f"{account.name} is busy upstream: {video.message}", upstream=video.message)
    # Kept: from now on the video owes its callback. Until here the sweep could not send one
    # for a create that was about to be refused and deleted.
    Video.objects.filter(pk=video.pk, reply_state="hold").update(reply_state="waiting")
    video.refresh_from_db()
    return video


def _lock_images(*images: PromptImage | None) -> None:
    """Holds the fileIDs' rows until the video that uses them commits, so a concurrent DELETE
    files/{fileID} (which takes the same lock) cannot remove one in between."""
    for image in images:
        if image is not None and not (
            PromptImage.objects.select_for_update().filter(pk=image.pk).exists()
        ):
            raise ServiceError("fileID: that file was deleted just now; upload it again.")


def _discard(video: Video, error: ServiceError):
    names = [f.name for f in (video.file, video.poster) if f]
    Video.objects.filter(pk=video.pk).delete()
    for name in names:
        default_storage.delete(name)
    raise error


def video_cancel(*, video: Video, by: AbstractBaseUser) -> bool:
    """Stops a video that has not finished. A running render notices at its next progress report."""
    done = Video.objects.filter(pk=video.pk, status__in=Video.ACTIVE).update(
        status=Video.Status.CANCELLED,
        message=f"Cancelled by {by.get_username()}",
        finished_at=timezone.now(),
    )
    if done:
        dispatch_request(reason=f"dispatch after cancelling {video.pk}")
    return bool(done)


def video_delete(*, video: Video) -> None:
    if not video.is_final:
        raise ServiceError("Cancel the video before deleting it.")
    names = [f.name for f in (video.file, video.poster) if f]
    with transaction.atomic():
        Video.objects.filter(pk=video.pk).delete()
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


def video_untrack(*, video: Video) -> bool:
    """DELETE scheduler/{id}: the API stops tracking a running video, so no callback is sent
    for it; the video itself carries on. False if it was not being tracked."""
    return bool(
        Video.objects.filter(pk=video.pk, tracked=True, status__in=Video.ACTIVE).update(
            tracked=False, reply_state=""
        )
    )


def image_delete(*, image: PromptImage) -> None:
    """DELETE files/{fileID}. Refused while a video that has not finished uses the image."""
    name = image.file.name
    with transaction.atomic():
        # The lock a create using this file takes too: check-then-delete cannot interleave with
        # a create that would be left pointing at nothing.
        if not PromptImage.objects.select_for_update().filter(pk=image.pk).exists():
            return
        waiting = Video.objects.filter(status__in=Video.ACTIVE).filter(
            Q(image=image) | Q(last_image=image)
        )
        if waiting.exists():
            raise ServiceError(
                "A video that has not finished uses this image; delete it afterwards."
            )
        PromptImage.objects.filter(pk=image.pk).delete()
        transaction.on_commit(lambda: default_storage.delete(name))


# API tokens and the team's API settings


# Provider accounts (team admins only; views check that through access.py)

SECRET_FIELD = {ProviderAccount.Kind.MINIMAX: "api_key", ProviderAccount.Kind.USEAPI: "token"}


def _account_fields(kind: str, fields: dict) -> dict:
    allowed = {"name", "max_jobs", "rpm", "enabled", "region", "base_url", "default_model"}
    if kind == ProviderAccount.Kind.USEAPI:
        allowed.add("upstream_account")
    unknown = set(fields) - allowed
    if unknown:
        raise ServiceError(f"{', '.join(sorted(unknown))} cannot be set on this kind of account.")
    if fields.get("base_url"):
        # Checked again at every connect; here so a bad address is refused when it is typed.
        try:
            netguard.check_url(fields["base_url"], field="Base URL", allow_http=True)
        except netguard.UnsafeURL as exc:
            raise ValidationError({"base_url": str(exc)}) from None
    return fields


def account_create(*, team: Team, kind: str, secret: str = "", **fields) -> ProviderAccount:
    """Adds a MiniMax or useapi.net account. The secret (API key or token) is encrypted at rest
    and never shown again."""
    if kind not in SECRET_FIELD:
        raise ServiceError("Choose MiniMax API or useapi.net; the local renderer is built in.")
    if not secret.strip():
        raise ServiceError("Paste the account's API key: it is needed to send videos.")
    if kind == ProviderAccount.Kind.USEAPI and not fields.get("upstream_account", "").strip():
        raise ServiceError("Give the hailuoai.video account id registered at useapi.net.")
    if ProviderAccount.objects.filter(team=team, name=fields.get("name", "")).exists():
        raise ServiceError("The team already has an account with this name.")
    account = ProviderAccount(team=team, kind=kind, **_account_fields(kind, fields))
    account.credentials = json.dumps({SECRET_FIELD[kind]: secret.strip()})
    account.full_clean(exclude=["credentials"])
    account.save()
    dispatch_request(reason=f"dispatch after adding account {account.pk}")
    return account


def account_update(*, account: ProviderAccount, secret: str = "", **fields) -> ProviderAccount:
    """Changes an account; a blank secret keeps the stored one. Enabling it, or a new key,
    clears a pause, so an admin who topped up the balance does not wait out the hour."""
    for name, value in _account_fields(account.kind, fields).items():
        setattr(account, name, value)
    if secret.strip() and account.kind in SECRET_FIELD:
        account.credentials = json.dumps({SECRET_FIELD[account.kind]: secret.strip()})
    if secret.strip() or fields.get("enabled"):
        account.paused_until, account.pause_reason = None, ""
    if (
        ProviderAccount.objects.filter(team=account.team, name=account.name)
        .exclude(pk=account.pk)
        .exists()
    ):
        raise ServiceError("The team already has an account with this name.")
    account.full_clean(exclude=["credentials"])
    account.save()
    dispatch_request(reason=f"dispatch after changing account {account.pk}")
    return account


def account_resume(*, account: ProviderAccount) -> None:
    """Lifts a pause (rate limit, balance, on hold) by hand."""
    ProviderAccount.objects.filter(pk=account.pk).update(paused_until=None, pause_reason="")
    dispatch_request(reason=f"dispatch after resuming account {account.pk}")


def account_delete(*, account: ProviderAccount) -> None:
    """Deletes an account with nothing running on it; its finished videos stay in the gallery."""
    with transaction.atomic():
        account = ProviderAccount.objects.select_for_update().get(pk=account.pk)
        running = Video.objects.filter(account=account, status__in=Video.RUNNING).count()
        if running:
            raise ServiceError(
                f"{account.name} has {running} video(s) running. Disable it, let them finish, "
                "then delete it."
            )
        account.delete()


@dataclass
class ConnectionTest:
    ok: bool
    message: str


def account_test(*, account: ProviderAccount) -> ConnectionTest:
    """One cheap authenticated call to the upstream; the answer is recorded on the account."""
    from videos.providers import ProviderError
    from videos.scheduler import provider_for

    if not account.is_remote:
        return ConnectionTest(True, "The local renderer runs on the studio's own workers.")
    UpstreamCall.objects.create(account=account, kind=UpstreamCall.Kind.OTHER, at=timezone.now())
    try:
        message = provider_for(account).check()
    except ProviderError as exc:
        ProviderAccount.objects.filter(pk=account.pk).update(
            last_error=str(exc)[:1000], last_error_at=timezone.now()
        )
        return ConnectionTest(False, str(exc))
    return ConnectionTest(True, message)
