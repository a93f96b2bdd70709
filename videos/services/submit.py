"""Submitting a video: the one path for the UI and the API, taking a `Submission`."""

from dataclasses import dataclass, replace

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from studio import conf
from studio.lib import netguard
from studio.lib.errors import ServiceError
from studio.teams.models import Team
from videos import scheduler, selectors
from videos.images import CleanImage
from videos.models import PromptImage, ProviderAccount, Video
from videos.providers.catalog import check_choices
from videos.services.dispatch import dispatch_request
from videos.services.errors import AccountUnavailable, QueueFull, Refused
from videos.services.images import image_store
from videos.services.quotas import quota_check


@dataclass(frozen=True)
class Submission:
    """What is asked for: a prompt, its options and images, and where the answer goes.

    An image is a new upload (CleanImage, stored with the video under `*_name`) or a stored
    PromptImage (the API's fileIDs). The four flags are what a create through the API implies
    (see FROM_API); the page leaves them off.
    """

    prompt: str
    prompt_optimization: bool = True
    model: str = ""
    resolution: str = ""
    duration: int | None = None
    image: CleanImage | PromptImage | None = None
    image_name: str = ""
    last_image: CleanImage | PromptImage | None = None
    last_image_name: str = ""
    # Subject reference (S2V-01): the face the video's character takes.
    subject_image: CleanImage | PromptImage | None = None
    subject_image_name: str = ""
    # A model only useapi.net runs (the API's Veo, Sora, Seedance): its own fields as sent,
    # and the extra reference images (fileID2..), stored ones only.
    useapi_only: bool = False
    passthrough: dict | None = None
    references: tuple[PromptImage, ...] = ()
    account: ProviderAccount | None = None  # only it may take the video
    max_jobs: int | None = None
    reply_url: str = ""
    reply_ref: str = ""
    origin: str = ""
    tracked: bool = False  # listed by GET scheduler until someone stops tracking it
    queue_limited: bool = False  # counts against the team's and the author's queue limits
    strict_mode: bool = False  # in a strict-mode team, goes upstream now or is refused
    team_reply_url: bool = False  # without a reply_url, the team's default one is used
    # What it was made from: the failed video it retries, the finished one it continues.
    source: Video | None = None


USEAPI = ProviderAccount.Kind.USEAPI
# useapi.net's codes for a create pinned to an account paused for one of these reasons.
PAUSED_STATUS = {"credits": 412, "hold": 596}
# Seedance's limit, the longest any model useapi.net runs takes (reference §4).
USEAPI_PROMPT_MAX = 7500

# A create through the API: tracked, limited, strict when the team is, and answered at the
# team's default reply URL unless it names one.
FROM_API = {"tracked": True, "queue_limited": True, "strict_mode": True, "team_reply_url": True}


def check_prompt(prompt: str, *, has_image: bool, limit: int | None = None) -> str:
    """The prompt as kept (newlines counted once, as the page's counter does; trimmed), or a
    refusal naming the prompt. The one place the prompt's rules live: the page's form, the API
    and `video_submit` all call it."""
    prompt = prompt.replace("\r\n", "\n").strip()
    if not prompt and not has_image:
        raise ServiceError("Describe the video you want: the prompt is empty.", field="prompt")
    # Seedance takes longer prompts than MiniMax's models (reference/useapi-minimax.md §4).
    limit = max(limit or 0, conf.PROMPT_MAX_CHARS)
    if len(prompt) > limit:
        raise ServiceError(
            f"The prompt is {len(prompt):,} characters; the limit is {limit:,}. "
            f"Shorten it by {len(prompt) - limit:,}.",
            field="prompt",
        )
    return prompt


def video_submit(*, team: Team, user: AbstractBaseUser, submission: Submission) -> Video:
    """Stores a video as queued, with its image, and asks a worker to dispatch it.

    All or nothing: the rows and the dispatch task commit together (django-q2's ORM broker
    writes to the same database), and an image file whose rows did not commit is removed.

    A `queue_limited` submission counts against the queue limits, and a `strict_mode` one in a
    strict-mode team goes upstream at once (see `_submit_strict`).
    """
    submission = _checked(team, submission)
    fields = _video_fields(team, user, submission)
    if submission.strict_mode and team.api_strict:
        # Strict mode takes stored images only: the API uploads them before a create names them.
        return _submit_strict(
            fields,
            images=(submission.image, submission.last_image, submission.subject_image),
            references=submission.references,
        )
    return _submit_queued(team, user, submission, fields)


def _checked(team: Team, s: Submission) -> Submission:
    """The submission as it will be kept, or the first refusal, naming its field."""
    has_image = s.image is not None
    if s.useapi_only:
        # Checked against useapi.net's own model table when the API took it (api_models).
        prompt = check_prompt(s.prompt, has_image=has_image, limit=USEAPI_PROMPT_MAX)
    else:
        prompt = check_prompt(s.prompt, has_image=has_image or s.subject_image is not None)
        check_choices(
            model=s.model,
            resolution=s.resolution,
            duration=s.duration,
            has_image=has_image,
            has_last_image=s.last_image is not None,
            has_subject=s.subject_image is not None,
        )
    reply_url = s.reply_url
    if reply_url:
        try:
            netguard.check_url(reply_url)
        except netguard.UnsafeURL as exc:
            raise ServiceError(str(exc), field="reply_url") from None
    elif s.team_reply_url:
        # Checked when it was saved, and again at each send: a create is not refused for it.
        reply_url = team.default_reply_url
    _check_account(team, s)
    if s.source is not None and s.source.team_id != team.pk:
        raise ServiceError(
            "The video this one is made from is not one of the team's.", field="source"
        )
    return replace(s, prompt=prompt, reply_url=reply_url)


def _check_account(team: Team, s: Submission) -> None:
    """Refuses a create no account can take: one pinned to an account that cannot (with
    useapi.net's codes for out of credits and on hold), or a useapi.net-only model in a team
    with no such account. Accepted, either would wait in the queue for ever."""
    account = s.account
    if account is None:
        if s.useapi_only and not team.accounts.filter(kind=USEAPI, enabled=True).exists():
            raise ServiceError(
                f"model {s.model} runs only on a useapi.net account, and {team.name} has none "
                "enabled: an admin can add one under Accounts, or choose a MiniMax model.",
                field="model",
            )
        return
    name = f"account {account.pk} ({account.name})"
    if account.team_id != team.pk:
        raise ServiceError("That account is not one of the team's.", field="account")
    if not account.enabled:
        raise ServiceError(
            f"{name} is disabled: an admin can enable it under Accounts, or leave account out "
            "to use any.",
            field="account",
        )
    if s.useapi_only and account.kind != USEAPI:
        raise ServiceError(
            f"model {s.model} runs only on a useapi.net account; {name} is a "
            f"{account.get_kind_display()} account. Name a useapi.net account, or leave "
            "account out.",
            field="account",
        )
    if account.is_paused and account.pause_kind in PAUSED_STATUS:
        raise AccountUnavailable(
            f"{name} is {account.get_pause_kind_display().lower()} until "
            f"{account.paused_until:%H:%M} UTC ({account.pause_reason}); use another account, "
            "or leave account out.",
            status=PAUSED_STATUS[account.pause_kind],
        )


def _video_fields(team: Team, user: AbstractBaseUser, s: Submission) -> dict:
    """The new video's row, but for its images."""
    return {
        "team": team,
        "author": user,
        "prompt": s.prompt,
        "prompt_optimization": s.prompt_optimization,
        "model": s.model,
        "resolution": s.resolution,
        "requested_duration": s.duration,
        "requested_account": s.account,
        "subject_image": None,
        "useapi_only": s.useapi_only,
        "passthrough": {
            **(s.passthrough or {}),
            **({"references": [image.pk for image in s.references]} if s.references else {}),
        },
        # The API's videoId is fixed now: it must not change if the author or account goes.
        "id_prefix": f"user:{user.pk}-minimax:{s.account.pk if s.account else 'auto'}",
        "max_jobs": s.max_jobs,
        "reply_url": s.reply_url,
        "reply_ref": s.reply_ref,
        # Strict mode holds the callback until the create is known to be kept (see there).
        "reply_state": (
            ("hold" if s.strict_mode and team.api_strict else "waiting") if s.reply_url else ""
        ),
        "tracked": s.tracked,
        "origin": s.origin[:200],
        "source": s.source,
        "message": f"Waiting for a free slot on {s.account.name}"
        if s.account
        else "Waiting for a free slot",
    }


def _submit_queued(team: Team, user: AbstractBaseUser, s: Submission, fields: dict) -> Video:
    """Queue mode: the video waits for a free slot; a dispatcher sends it."""
    stored: list[PromptImage] = []
    try:
        with transaction.atomic():
            quota_check(team=team, user=user)
            if s.queue_limited:
                _check_queue_limits(team, user)
            _lock_images(
                _stored(s.image), _stored(s.last_image), _stored(s.subject_image), *s.references
            )
            first = _image_row(team, user, s.image, s.image_name, stored)
            last = _image_row(team, user, s.last_image, s.last_image_name, stored)
            fields["subject_image"] = _image_row(
                team, user, s.subject_image, s.subject_image_name, stored
            )
            video = Video.objects.create(image=first, last_image=last, **fields)
            dispatch_request(reason=f"dispatch after video {video.pk}")
    except BaseException:
        for record in stored:
            record.file.delete(save=False)
        raise
    return video


def _stored(image: CleanImage | PromptImage | None) -> PromptImage | None:
    return image if isinstance(image, PromptImage) else None


def _image_row(
    team: Team,
    user: AbstractBaseUser,
    image: CleanImage | PromptImage | None,
    name: str,
    stored: list[PromptImage],
) -> PromptImage | None:
    """The image's row: a new upload is stored (and noted in `stored`, whose files go if the
    video does not commit)."""
    if not isinstance(image, CleanImage):
        return image
    record = image_store(team=team, user=user, image=image, original_name=name)
    stored.append(record)
    return record


def _check_queue_limits(team: Team, user: AbstractBaseUser) -> None:
    """Queue mode's only refusal. The team row lock serialises creates within a team, so two
    scripts submitting at the same moment cannot both take the last place (count-then-insert).

    NO_KEY: every row lock here, and the scheduler's, is FOR NO KEY UPDATE. PostgreSQL checks
    a new or changed row's foreign keys at commit with KEY SHARE locks on the rows they point
    at; FOR UPDATE blocks those, NO KEY UPDATE does not. With FOR UPDATE a create (holding the
    team, waiting to check its pinned account) and a claim (holding that account, re-checking
    the team of a video it changed twice) deadlocked: the conformance batch's 500s. Only a
    delete needs FOR UPDATE (image_delete), which still excludes these."""
    Team.objects.select_for_update(no_key=True).filter(pk=team.pk).first()
    team_limit = team.team_queue_limit or conf.API_TEAM_QUEUE_LIMIT
    user_limit = team.user_queue_limit or conf.API_USER_QUEUE_LIMIT
    teams = Video.objects.filter(team=team)
    in_queue, mine = selectors.active_counts(team_id=team.pk, author_id=user.pk)
    if mine >= user_limit:
        raise QueueFull(
            f"You have {user_limit} videos queued or running, your limit; "
            "try again when some have finished.",
            running=_running_of(teams.filter(author=user)),
        )
    if in_queue >= team_limit:
        raise QueueFull(
            f"{team.name} has {team_limit} videos queued or running, the team's limit; "
            "try again when some have finished.",
            running=_running_of(teams),
        )


def _running_of(videos) -> list[Video]:
    """The running videos among `videos` (a team's), oldest start first, for a 429's list."""
    running = selectors.active_videos(
        videos.select_related("attempt__account"), statuses=Video.RUNNING
    )
    return sorted(running, key=lambda v: (v.submitted_at or v.created_at, v.pk))


def _submit_strict(
    fields: dict,
    *,
    images: tuple[PromptImage | None, PromptImage | None, PromptImage | None],
    references: tuple[PromptImage, ...],
) -> Video:
    """Strict mode, as useapi.net works: the video takes a slot now or the request is refused.

    The slot is claimed under the accounts' row locks (no two creates take the last slot), the
    claim commits, then the create goes upstream in this request. A refusal (busy, moderated,
    invalid) deletes the row, so a refused request leaves nothing behind.
    """
    team, wanted, max_jobs = fields["team"], fields["requested_account"], fields["max_jobs"]
    now = timezone.now()
    with transaction.atomic():
        quota_check(team=team, user=fields["author"])
        candidates = ProviderAccount.objects.select_for_update(no_key=True).filter(
            team=team, enabled=True
        )
        if wanted is not None:
            candidates = candidates.filter(pk=wanted.pk)
        if fields["useapi_only"]:
            candidates = candidates.filter(kind=USEAPI)
        _lock_images(*images, *references)
        candidates = list(candidates.order_by("pk"))
        if not candidates:
            raise ServiceError(
                f"{team.name} has no enabled account to send videos to; "
                "an admin can add or enable one under Accounts."
            )
        free = [a for a in candidates if scheduler.account_has_room(a, max_jobs=max_jobs, now=now)]
        if not free:
            raise _busy(team, wanted, max_jobs, candidates)
        account = free[0]
        fields["subject_image"] = images[2]
        video = Video.objects.create(image=images[0], last_image=images[1], **fields)
        attempt = scheduler.video_claim(account=account, video_id=video.pk, now=now)
    if account.is_remote:
        scheduler.video_send(video_id=video.pk, attempt=attempt)
    return _strict_outcome(video, account)


def _strict_outcome(video: Video, account: ProviderAccount) -> Video:
    """The strict create's answer once it went upstream: kept, or refused and deleted."""
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


def _busy(
    team: Team, wanted: ProviderAccount | None, max_jobs: int | None, candidates: list
) -> QueueFull:
    """Strict mode's 429 when no candidate account has a free slot."""
    running = _running_of(
        Video.objects.filter(team=team, attempt__upstream_finished_at=None).filter(
            **({"attempt__account": wanted} if wanted else {})
        )
    )
    who = f"Account {wanted.pk} ({wanted.name})" if wanted else f"Every account of {team.name}"
    limit = f"maxJobs {max_jobs}" if max_jobs else "its maxJobs"
    message = f"{who} is busy executing {limit} videos"
    if all(a.is_paused for a in candidates):
        until = max(a.paused_until for a in candidates)
        message = (
            f"{who} is paused until {until:%H:%M:%S} UTC "
            f"({candidates[0].pause_reason or 'the upstream asked us to wait'})"
        )
    return QueueFull(message, running=running)


def _lock_images(*images: PromptImage | None) -> None:
    """Holds the fileIDs' rows until the video that uses them commits, so a concurrent DELETE
    files/{fileID} (which takes the same lock) cannot remove one in between."""
    for image in images:
        if image is not None and not (
            PromptImage.objects.select_for_update(no_key=True).filter(pk=image.pk).exists()
        ):
            raise ServiceError(
                "fileID: that file was deleted just now; upload it again.", field="image"
            )


def _discard(video: Video, error: ServiceError):
    names = [f.name for f in (video.file, video.poster) if f]
    Video.objects.filter(pk=video.pk).delete()
    for name in names:
        default_storage.delete(name)
    raise error
