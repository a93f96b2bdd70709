"""Writes. Views and tasks call these; nothing else changes a video, an account or a team.

Slot accounting is derived, not counted: an account's busy slots are its videos in Video.RUNNING.
Every state change is a conditional UPDATE on (id, attempts, status), so a worker that lost its
claim (the video was cancelled, or taken back after it went quiet) cannot overwrite the winner.
"""

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from videos.images import CleanImage
from videos.models import (
    Invite,
    Membership,
    PromptImage,
    ProviderAccount,
    SchedulerLease,
    Team,
    UpstreamCall,
    Video,
)
from videos.providers.catalog import check_options

log = logging.getLogger(__name__)
User = get_user_model()


class ServiceError(Exception):
    """A request the service refuses; the message says what to do instead."""


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
    last_image: CleanImage | None = None,
    last_image_name: str = "",
    model: str = "",
    resolution: str = "",
    duration: int | None = None,
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
    if model or resolution or duration or last_image is not None:
        try:
            check_options(
                model=model,
                resolution=resolution,
                duration=duration,
                has_image=image is not None,
                has_last_image=last_image is not None,
            )
        except ValueError as exc:
            raise ServiceError(str(exc)) from None
    stored: list[PromptImage] = []
    try:
        with transaction.atomic():
            first = last = None
            if image is not None:
                first = image_store(team=team, user=user, image=image, original_name=image_name)
                stored.append(first)
            if last_image is not None:
                last = image_store(
                    team=team, user=user, image=last_image, original_name=last_image_name
                )
                stored.append(last)
            video = Video.objects.create(
                team=team,
                author=user,
                prompt=prompt,
                prompt_optimization=prompt_optimization,
                image=first,
                last_image=last,
                model=model,
                resolution=resolution,
                requested_duration=duration,
                message="Waiting for a free slot",
            )
            dispatch_request(reason=f"dispatch after video {video.pk}")
    except BaseException:
        for record in stored:
            record.file.delete(save=False)
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
        dispatch_request(reason=f"dispatch after cancelling {video.pk}")
    return bool(done)


def video_delete(*, video: Video) -> None:
    if not video.is_final:
        raise ServiceError("Cancel the video before deleting it.")
    names = [f.name for f in (video.file, video.poster) if f]
    with transaction.atomic():
        Video.objects.filter(pk=video.pk).delete()
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


# Provider accounts (team admins only; views check that through access.py)

SECRET_FIELD = {ProviderAccount.Kind.MINIMAX: "api_key", ProviderAccount.Kind.USEAPI: "token"}


def _account_fields(kind: str, fields: dict) -> dict:
    allowed = {"name", "max_jobs", "rpm", "enabled", "region", "base_url", "default_model"}
    if kind == ProviderAccount.Kind.USEAPI:
        allowed.add("upstream_account")
    unknown = set(fields) - allowed
    if unknown:
        raise ServiceError(f"{', '.join(sorted(unknown))} cannot be set on this kind of account.")
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
