"""Submitting a video: the one path for the UI and the API."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from studio.lib import netguard
from studio.lib.errors import ServiceError
from studio.teams.models import Team
from videos import selectors
from videos.images import CleanImage
from videos.models import PromptImage, ProviderAccount, Video
from videos.providers.catalog import check_options
from videos.services.dispatch import dispatch_request
from videos.services.errors import QueueFull, Refused
from videos.services.images import image_store


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
