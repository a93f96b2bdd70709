"""Writes. Views and tasks call these; nothing else changes a video, an account or a team.

Slot accounting is derived, not counted: an account's busy slots are its videos in Video.RUNNING.
Every state change is a conditional UPDATE on (id, attempts, status), so a worker that lost its
claim (the video was cancelled, or taken back after it went quiet) cannot overwrite the winner.
"""

import hashlib
import logging
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from videos.images import CleanImage
from videos.models import Invite, Membership, PromptImage, ProviderAccount, Team, Video
from videos.providers import Job, ProviderError, get_provider

log = logging.getLogger(__name__)
User = get_user_model()


class ServiceError(Exception):
    """A request the service refuses; the message says what to do instead."""


# Teams, members and invites


def team_create(*, name: str, admin: AbstractBaseUser) -> Team:
    with transaction.atomic():
        team = Team.objects.create(name=name)
        Membership.objects.create(user=admin, team=team, role=Membership.Role.ADMIN)
        account_ensure_local(team=team)
    return team


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


def _lock_team(team_id: int) -> Team:
    # Serialises role changes within a team: two admins demoting each other at the same moment
    # would otherwise each see the other as "the remaining admin" and leave the team with none.
    return Team.objects.select_for_update().get(pk=team_id)


def _ensure_admin_left(team: Team, *, losing: Membership) -> None:
    others = Membership.objects.filter(team=team, role=Membership.Role.ADMIN).exclude(pk=losing.pk)
    if not others.exists():
        raise ServiceError("A team needs at least one admin. Make someone else admin first.")


def membership_set_role(*, membership: Membership, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ServiceError(f"Unknown role {role!r}.")
    with transaction.atomic():
        team = _lock_team(membership.team_id)
        if membership.is_admin and role != Membership.Role.ADMIN:
            _ensure_admin_left(team, losing=membership)
        Membership.objects.filter(pk=membership.pk).update(role=role)
    membership.role = role
    return membership


def membership_remove(*, membership: Membership) -> None:
    """Takes the person out of the team; their videos stay in the gallery."""
    with transaction.atomic():
        team = _lock_team(membership.team_id)
        if membership.is_admin:
            _ensure_admin_left(team, losing=membership)
        membership.delete()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_create(*, team: Team, by: AbstractBaseUser, label: str, role: str) -> tuple[Invite, str]:
    """Returns the invite and its token; only the token's hash is kept, so show it once."""
    if role not in Membership.Role.values:
        raise ServiceError(f"Unknown role {role!r}.")
    token = secrets.token_urlsafe(32)
    invite = Invite.objects.create(
        team=team,
        role=role,
        label=label.strip(),
        token_hash=_token_hash(token),
        created_by=by,
        expires_at=timezone.now() + timedelta(days=settings.INVITE_DAYS),
    )
    return invite, token


def invite_find(*, token: str) -> Invite | None:
    return (
        Invite.objects.select_related("team")
        .filter(token_hash=_token_hash(token), accepted_at=None, expires_at__gt=timezone.now())
        .first()
    )


def invite_accept(*, invite: Invite, user: AbstractBaseUser) -> Membership:
    with transaction.atomic():
        # The link is single-use: of two people opening it at once, one wins this UPDATE.
        won = Invite.objects.filter(pk=invite.pk, accepted_at=None).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        if not won:
            raise ServiceError("This invite link has already been used.")
        membership, created = Membership.objects.get_or_create(
            user=user, team=invite.team, defaults={"role": invite.role}
        )
        if not created and invite.role == Membership.Role.ADMIN and not membership.is_admin:
            membership.role = Membership.Role.ADMIN
            membership.save(update_fields=["role"])
    return membership


def user_join_by_invite(*, invite: Invite, username: str, password: str) -> AbstractBaseUser:
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password)
        invite_accept(invite=invite, user=user)
    return user


def invite_revoke(*, invite: Invite) -> None:
    Invite.objects.filter(pk=invite.pk, accepted_at=None).delete()


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
) -> Video:
    """Stores a video as queued, with its image, and asks a worker to dispatch it.

    All or nothing: the rows and the dispatch task commit together (django-q2's ORM broker
    writes to the same database), and an image file whose rows did not commit is removed.
    """
    prompt = prompt.strip()
    if not prompt and image is None:
        raise ServiceError("Describe the video: the prompt is empty.")
    if len(prompt) > settings.PROMPT_MAX_CHARS:
        raise ServiceError(f"The prompt is longer than {settings.PROMPT_MAX_CHARS} characters.")
    stored: PromptImage | None = None
    try:
        with transaction.atomic():
            if image is not None:
                stored = image_store(team=team, user=user, image=image, original_name=image_name)
            video = Video.objects.create(
                team=team,
                author=user,
                prompt=prompt,
                prompt_optimization=prompt_optimization,
                image=stored,
                message="Waiting for a free slot",
            )
            async_task("videos.tasks.dispatch", task_name=f"dispatch after video {video.pk}")
    except BaseException:
        if stored is not None:
            stored.file.delete(save=False)
        raise
    return video


def video_cancel(*, video: Video, by: AbstractBaseUser) -> bool:
    """Stops a video that has not finished. A running render notices at its next progress report."""
    done = Video.objects.filter(pk=video.pk, status__in=Video.ACTIVE).update(
        status=Video.Status.CANCELLED,
        message=f"Cancelled by {by.get_username()}",
        finished_at=timezone.now(),
    )
    if done:
        async_task("videos.tasks.dispatch", task_name=f"dispatch after cancelling {video.pk}")
    return bool(done)


def video_delete(*, video: Video) -> None:
    if not video.is_final:
        raise ServiceError("Cancel the video before deleting it.")
    names = [f.name for f in (video.file, video.poster) if f]
    with transaction.atomic():
        Video.objects.filter(pk=video.pk).delete()
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


# Dispatch: hand queued videos to accounts with free slots


def videos_dispatch() -> list[int]:
    """Starts as many queued videos as the enabled accounts have free slots for.

    Takes back stale videos first, so a dead worker's slot is reused in the same pass.
    Returns the ids of the videos started.
    """
    videos_reap()
    started: list[int] = []
    accounts = ProviderAccount.objects.filter(
        enabled=True, team__videos__status=Video.Status.QUEUED
    ).distinct()
    for account_id in accounts.values_list("id", flat=True):
        started += _fill_account(account_id)
    return started


def _fill_account(account_id: int) -> list[int]:
    with transaction.atomic():
        # The account row lock makes count-then-claim atomic across dispatchers. Without it two
        # workers on PostgreSQL (READ COMMITTED) could both see 2 of 3 slots busy and each start
        # a third video. On SQLite the IMMEDIATE transaction already serialises writers.
        account = ProviderAccount.objects.select_for_update().get(pk=account_id)
        if not account.enabled:
            return []
        running = Video.objects.filter(account=account, status__in=Video.RUNNING).count()
        free = account.max_jobs - running
        if free <= 0:
            return []
        started = []
        for video_id in _next_in_queue(team_id=account.team_id, count=free):
            # Another account of the same team may have claimed it since we read the queue.
            claimed = Video.objects.filter(pk=video_id, status=Video.Status.QUEUED).update(
                status=Video.Status.SUBMITTING,
                account=account,
                attempts=F("attempts") + 1,
                submitted_at=timezone.now(),
                heartbeat_at=timezone.now(),
                percent=0,
                message=f"Starting on {account.name}",
            )
            if claimed:
                attempt = Video.objects.values_list("attempts", flat=True).get(pk=video_id)
                async_task(
                    "videos.tasks.run_video", video_id, attempt, task_name=f"video {video_id}"
                )
                started.append(video_id)
    return started


def _next_in_queue(*, team_id: int, count: int) -> list[int]:
    """Up to `count` queued videos, fair between authors.

    Each pick goes to the author with the fewest videos running (ties: the oldest waiting video),
    so one person's hundred queued videos do not hold up a teammate's single one.
    """
    queued = Video.objects.filter(team_id=team_id, status=Video.Status.QUEUED).order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        # Rows another dispatcher is claiming right now are skipped, not waited for.
        queued = queued.select_for_update(skip_locked=True, of=("self",))
    waiting: dict[int | None, list[int]] = {}
    for video_id, author_id in queued.values_list("id", "author_id")[:500]:
        waiting.setdefault(author_id, []).append(video_id)
    running: dict[int | None, int] = {}
    for author_id in Video.objects.filter(team_id=team_id, status__in=Video.RUNNING).values_list(
        "author_id", flat=True
    ):
        running[author_id] = running.get(author_id, 0) + 1
    picks: list[int] = []
    while waiting and len(picks) < count:
        author = min(waiting, key=lambda a: (running.get(a, 0), waiting[a][0]))
        picks.append(waiting[author].pop(0))
        running[author] = running.get(author, 0) + 1
        if not waiting[author]:
            del waiting[author]
    return picks


def videos_reap() -> int:
    """Takes back running videos whose worker has gone quiet (killed, OOM, host lost).

    A live render reports progress every second or so; one silent for STALE_AFTER_SECONDS is
    dead. It goes back to the queue, or fails once it has used up MAX_VIDEO_ATTEMPTS.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.STALE_AFTER_SECONDS)
    stale = Video.objects.filter(status__in=Video.RUNNING, heartbeat_at__lt=cutoff)
    taken = 0
    for video in stale.only("id", "attempts", "status", "heartbeat_at"):
        exhausted = video.attempts >= settings.MAX_VIDEO_ATTEMPTS
        changes = (
            {
                "status": Video.Status.FAILED,
                "error": f"The worker stopped {video.attempts} times while making this video.",
                "finished_at": timezone.now(),
                "message": "",
            }
            if exhausted
            else {
                "status": Video.Status.QUEUED,
                "account": None,
                "percent": 0,
                "message": "Queued again: its worker stopped responding",
            }
        )
        # Matching the old heartbeat means a worker that revives at this instant keeps the video.
        taken += Video.objects.filter(
            pk=video.pk,
            attempts=video.attempts,
            status=video.status,
            heartbeat_at=video.heartbeat_at,
        ).update(**changes)
    if taken:
        log.warning("Took back %d video(s) from workers that stopped responding", taken)
    return taken


# Running one video


class _TakenBack(Exception):
    """The video was cancelled or reassigned while this worker was rendering it."""


def _owned(video_id: int, attempt: int):
    return Video.objects.filter(pk=video_id, attempts=attempt, status=Video.Status.PROCESSING)


def video_run(*, video_id: int, attempt: int) -> None:
    """Renders one dispatched video and stores the result. Safe to run twice: only the worker
    holding the current attempt gets past the claim."""
    stale = timezone.now() - timedelta(seconds=settings.STALE_AFTER_SECONDS)
    claimed = (
        Video.objects.filter(pk=video_id, attempts=attempt)
        .filter(
            Q(status=Video.Status.SUBMITTING)
            | Q(status=Video.Status.PROCESSING, heartbeat_at__lt=stale)
        )
        .update(status=Video.Status.PROCESSING, heartbeat_at=timezone.now(), message="Starting")
    )
    if not claimed:
        return
    video = Video.objects.select_related("account", "image").get(pk=video_id)
    try:
        _render_and_store(video, attempt)
    except _TakenBack:
        log.info("Video %s was cancelled or taken back during rendering", video_id)
    except ProviderError as exc:
        _finish_with_error(
            video, attempt, str(exc), permanent=exc.permanent, moderated=exc.moderated
        )
    except Exception as exc:
        log.exception("Rendering video %s failed", video_id)
        _finish_with_error(video, attempt, f"The renderer failed: {exc}", permanent=False)
    videos_dispatch()


def _render_and_store(video: Video, attempt: int) -> None:
    provider = get_provider(video.account.kind)

    def on_progress(percent: int, message: str) -> None:
        # Also the heartbeat; an UPDATE that matches nothing means we no longer own the video.
        if not _owned(video.pk, attempt).update(
            percent=max(0, min(percent, 99)), message=message[:200], heartbeat_at=timezone.now()
        ):
            raise _TakenBack

    with tempfile.TemporaryDirectory(prefix=f"video-{video.pk}-") as tmp:
        workdir = Path(tmp)
        image_path = _copy_image(video.image, workdir) if video.image else None
        job = Job(
            video_id=video.pk,
            prompt=video.prompt,
            prompt_optimization=video.prompt_optimization,
            image_path=image_path,
            model=video.model,
            resolution=video.resolution,
            duration=video.requested_duration,
        )
        result = provider.render(job, workdir=workdir, on_progress=on_progress)
        on_progress(99, "Saving")
        file_name = _store(result.video_path, video, "mp4")
        poster_name = _store(result.poster_path, video, "jpg")
    finished = _owned(video.pk, attempt).update(
        status=Video.Status.COMPLETED,
        percent=100,
        message="",
        error="",
        file=file_name,
        poster=poster_name,
        width=result.width,
        height=result.height,
        duration=result.duration,
        file_bytes=default_storage.size(file_name),
        finished_at=timezone.now(),
    )
    if not finished:
        default_storage.delete(file_name)
        default_storage.delete(poster_name)
        raise _TakenBack


def _copy_image(image: PromptImage, workdir: Path) -> Path:
    target = workdir / f"first-frame.{image.file.name.rsplit('.', 1)[-1]}"
    with image.file.open("rb") as src, target.open("wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
    return target


def _store(path: Path, video: Video, ext: str) -> str:
    """Streams a result file into storage in chunks; it is never read whole into memory."""
    name = Video._meta.get_field("file").generate_filename(video, f"result.{ext}")
    with path.open("rb") as fh:
        return default_storage.save(name, File(fh, name=name))


def _finish_with_error(
    video: Video, attempt: int, error: str, *, permanent: bool, moderated: bool = False
) -> None:
    if not permanent and attempt < settings.MAX_VIDEO_ATTEMPTS:
        _owned(video.pk, attempt).update(
            status=Video.Status.QUEUED,
            account=None,
            percent=0,
            message=f"Queued again after an error: {error}"[:200],
        )
        return
    _owned(video.pk, attempt).update(
        status=Video.Status.MODERATED if moderated else Video.Status.FAILED,
        error=error,
        message="",
        finished_at=timezone.now(),
    )
