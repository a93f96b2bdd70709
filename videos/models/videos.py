"""Images, videos, their attempts on accounts, and a joined video's parts."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from studio.teams.models import Team
from videos.models.accounts import ProviderAccount


def _upload_name(prefix: str, ext: str) -> str:
    return f"{prefix}/{uuid.uuid4().hex}.{ext}"


def image_upload_to(instance: "PromptImage", filename: str) -> str:
    return _upload_name(f"images/team-{instance.team_id}", filename.rsplit(".", 1)[-1])


def video_upload_to(instance: "Video", filename: str) -> str:
    return _upload_name(f"videos/team-{instance.team_id}", filename.rsplit(".", 1)[-1])


class PromptImage(models.Model):
    team = models.ForeignKey(Team, models.CASCADE, related_name="images")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True)
    file = models.FileField(upload_to=image_upload_to, max_length=255)
    original_name = models.CharField(max_length=255, blank=True, default="")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10)  # JPEG | PNG | WEBP
    bytes = models.PositiveIntegerField()
    # The API's fileID before "-file:<id>" ("user:3-minimax:7"), fixed at upload so the id
    # never changes when its uploader or account goes (reference/useapi-minimax.md §9).
    id_prefix = models.CharField(max_length=120, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["team", "-id"], name="image_team_newest")]

    def __str__(self) -> str:
        return self.original_name or self.file.name


class Video(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Submitting"
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        MODERATED = "moderated", "Moderated"
        CANCELLED = "cancelled", "Cancelled"

    # A video holds a slot on its account while in one of these.
    RUNNING = (Status.SUBMITTING, Status.PENDING, Status.PROCESSING)
    ACTIVE = (Status.QUEUED, *RUNNING)
    FINAL = (Status.COMPLETED, Status.FAILED, Status.MODERATED, Status.CANCELLED)

    class ReplyState(models.TextChoices):
        NONE = "", "No callback"
        # One is owed when the video ends.
        WAITING = "waiting", "Owed when it ends"
        # The final callback was queued; never twice.
        SENT = "sent", "Sent"
        # A strict-mode create still deciding whether it is kept; nothing is owed yet.
        HOLD = "hold", "On hold"

    team = models.ForeignKey(Team, models.CASCADE, related_name="videos")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True)
    prompt = models.TextField(blank=True)
    prompt_optimization = models.BooleanField(default=True)
    image = models.ForeignKey(PromptImage, models.SET_NULL, null=True, blank=True)
    # First+last frame mode (MiniMax-Hailuo-02): the clip ends on this image.
    last_image = models.ForeignKey(
        PromptImage, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Subject reference (S2V-01): the face the video's character takes.
    subject_image = models.ForeignKey(
        PromptImage, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Model options as chosen in the form; the provider checks them before sending anything.
    # A model only useapi.net runs (Veo, Sora, Seedance) is kept by its useapi.net name.
    model = models.CharField(max_length=40, blank=True, default="")
    resolution = models.CharField(max_length=10, blank=True, default="")
    requested_duration = models.PositiveSmallIntegerField(null=True, blank=True)
    # useapi.net's own fields for a model only a useapi.net account can run, as the API took
    # them (options, aspectRatio, resolution, duration; fileID2.. as PromptImage ids), sent on
    # unchanged; `useapi_only` keeps the video off every other kind of account.
    passthrough = models.JSONField(blank=True, default=dict)
    useapi_only = models.BooleanField(default=False)
    # The API's videoId before "-video:<id>" ("user:3-minimax:auto"), fixed at creation so the
    # id never changes when its author or account goes (reference/useapi-minimax.md §9).
    id_prefix = models.CharField(max_length=120, blank=True, default="")

    class Kind(models.TextChoices):
        GENERATE = "generate", "Generated"
        # Finished clips joined end to end by a worker (videos.joins); its parts are VideoPart rows.
        JOIN = "join", "Joined clips"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.GENERATE)
    # What this video was made from: the failed video it retries, or the finished one whose
    # last frame it continues. Shown on the detail page; SET_NULL, since either may be purged.
    source = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="+")
    # In the team's Trash since (None: in the gallery). Purged with its files after
    # conf.TRASH_DAYS; until then its author or an admin may restore it.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # The try under way, or the last one of a video that ended; None while queued (a video put
    # back in the queue has no account until it is claimed again). Its account, upstream id and
    # polling state live on the Attempt.
    attempt = models.OneToOneField(
        "Attempt", models.SET_NULL, null=True, blank=True, related_name="current_of"
    )
    # The API's `account`: only this account may take the video.
    requested_account = models.ForeignKey(
        ProviderAccount, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The API's `maxJobs`: the video starts only while its account runs fewer than this.
    max_jobs = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    # The API's replyUrl and replyRef; reply_state says whether a callback is owed (ReplyState).
    reply_url = models.CharField(max_length=1024, blank=True, default="")
    reply_ref = models.CharField(max_length=1024, blank=True, default="")
    reply_state = models.CharField(
        max_length=8, blank=True, default=ReplyState.NONE, choices=ReplyState.choices
    )
    # The last progress callback's "status percent", so an unchanged state is not sent again.
    reply_progress = models.CharField(max_length=24, blank=True, default="")
    # Made through the API: GET scheduler/ lists it until it ends or is untracked.
    tracked = models.BooleanField(default=False)
    # Where the API request came from, for absolute links in callbacks (PUBLIC_URL wins).
    origin = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField(blank=True, default="")
    # Failures that count towards MAX_VIDEO_ATTEMPTS: what the upstream or the renderer said
    # about this video. A dead worker, a database outage, waiting for a rate limit or a paused
    # account do not count.
    failures = models.PositiveSmallIntegerField(default=0)
    # Workers that died holding this video (killed, OOM, cluster restarted). Not a failure of
    # the video; only a video that keeps killing its workers is failed, at MAX_WORKER_LOSSES.
    worker_losses = models.PositiveSmallIntegerField(default=0)
    # Not before this time may the video be dispatched again (backoff after an error).
    retry_at = models.DateTimeField(null=True, blank=True)

    file = models.FileField(upload_to=video_upload_to, max_length=255, blank=True)
    poster = models.FileField(upload_to=video_upload_to, max_length=255, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    file_bytes = models.PositiveBigIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The gallery pages through a team's videos by id, newest first.
            models.Index(fields=["team", "-id"], name="video_team_newest"),
            # The dispatcher and the queue-position count read a team's rows of one status.
            # Not a partial index: SQLite uses one only when the query repeats its condition
            # word for word, and without it walks the team's whole history (measured, bench/).
            models.Index(fields=["team", "status", "id"], name="video_team_status"),
            # Which teams have queued work, across all teams, several times a second.
            models.Index(fields=["status", "team"], name="video_status_team"),
            # The callback sweep looks for videos owed a callback on every scheduler tick.
            models.Index(fields=["reply_state", "status"], name="video_reply_state"),
            # The gallery's "author=" filter pages a member's videos by id, newest first.
            models.Index(fields=["team", "author", "-id"], name="video_team_author_newest"),
            # A member's quota counts what they made today and this month, on every submit.
            models.Index(fields=["team", "author", "created_at"], name="video_team_author_made"),
            # The Trash page, and the purge of what has been there longer than TRASH_DAYS.
            models.Index(fields=["team", "deleted_at"], name="video_team_deleted"),
            # The gallery's "model=" filter, and the models a team has used (videos.search:
            # one index probe per model, not a read of the team's history).
            models.Index(fields=["team", "model", "-id"], name="video_team_model"),
        ]

    def __str__(self) -> str:
        return f"Video {self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def duration_label(self) -> str:
        seconds = round(self.duration or 0)
        return f"{seconds // 60}:{seconds % 60:02d}"

    # Read-only views of the current attempt, for the pages and the API. Queries filter on
    # attempt__account / attempt__upstream_id; select_related("attempt__account") avoids a
    # query per video.
    @property
    def account(self) -> ProviderAccount | None:
        return self.attempt.account if self.attempt_id else None

    @property
    def account_id(self) -> int | None:
        return self.attempt.account_id if self.attempt_id else None

    @property
    def upstream_id(self) -> str:
        return self.attempt.upstream_id if self.attempt_id else ""


class Attempt(models.Model):
    """One try of a video on an account: from the claim to its outcome.

    A claim creates the row and points Video.attempt at it; the row's id is the claim's token.
    Every write by whoever holds the claim is conditional on the video still pointing at this
    attempt (and being in the expected status), so a worker whose claim was lost (cancelled,
    taken back, reclaimed) changes nothing. The rows of earlier tries stay as the video's history.
    """

    class Outcome(models.TextChoices):
        RUNNING = "", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        MODERATED = "moderated", "Moderated"
        CANCELLED = "cancelled", "Cancelled"
        # Failed in a way that counts towards MAX_VIDEO_ATTEMPTS; the video was queued again.
        RETRIED = "retried", "Failed, retried"
        # Put back through no fault of the video (rate limit, paused or disabled account, a
        # worker that died, a create that never arrived); costs no try.
        REQUEUED = "requeued", "Put back in the queue"

    video = models.ForeignKey(Video, models.CASCADE, related_name="attempts")
    account = models.ForeignKey(
        ProviderAccount, models.SET_NULL, null=True, blank=True, related_name="attempts"
    )
    # Which try of the video this is (1, 2, ...), for its history.
    number = models.PositiveSmallIntegerField(default=1)
    upstream_id = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)  # the claim
    # When the upstream accepted the create, or a worker took up the local render.
    started_at = models.DateTimeField(null=True, blank=True)
    # started_at's date in the studio's time zone, written with it. Usage groups by this plain
    # column: truncating a datetime in a time zone is a Python function per row on SQLite
    # (761 ms for a year at 100,000 videos; bench/usage.py).
    started_on = models.DateField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Remote providers: when to poll next, and how often polling and downloading failed.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_failures = models.PositiveSmallIntegerField(default=0)
    fetch_failures = models.PositiveSmallIntegerField(default=0)
    upstream_file = models.CharField(max_length=100, blank=True, default="")
    # When MiniMax's callback challenge for this attempt arrived: proof the create reached it.
    upstream_seen_at = models.DateTimeField(null=True, blank=True)
    # Set when the upstream reports the video final: from then on it no longer holds a slot.
    upstream_finished_at = models.DateTimeField(null=True, blank=True)
    # The secret in this attempt's MiniMax callback URL.
    callback_token = models.CharField(max_length=64, blank=True, default="", db_index=True)
    outcome = models.CharField(
        max_length=10, blank=True, default=Outcome.RUNNING, choices=Outcome.choices
    )
    error = models.TextField(blank=True, default="")
    # The account's prices when it was claimed: usage (videos.selectors_usage) costs an attempt
    # at these, so a price changed later does not rewrite what was spent.
    price_per_video = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    price_per_second = models.DecimalField(max_digits=10, decimal_places=4, default=0)

    class Meta:
        indexes = [
            # The scheduler loop looks for remote attempts due a poll several times a second.
            models.Index(fields=["next_poll_at"], name="attempt_next_poll"),
            # Busy slots: an account's current attempts whose upstream has not finished.
            models.Index(fields=["account", "upstream_finished_at"], name="attempt_account_busy"),
            models.Index(fields=["video", "-id"], name="attempt_video_newest"),
            # Usage and quotas: the attempts that reached an upstream in a range of days (a
            # month is a few thousand rows at 100,000 videos; the team is checked on each
            # one's video).
            models.Index(fields=["started_on"], name="attempt_started_on"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of video {self.video_id} ({self.outcome or 'running'})"

    @property
    def reached_upstream(self) -> bool:
        """Derived, not stored: an upstream task id, or MiniMax's callback challenge."""
        return bool(self.upstream_id) or self.upstream_seen_at is not None

    @property
    def took(self):
        end = self.finished_at
        return end - self.created_at if end else None


class VideoPart(models.Model):
    """One clip of a joined video (Video.Kind.JOIN), in the order it plays."""

    video = models.ForeignKey(Video, models.CASCADE, related_name="parts")
    # SET_NULL: a part may be deleted later; the joined video keeps its own file.
    part = models.ForeignKey(Video, models.SET_NULL, null=True, related_name="+")
    position = models.PositiveSmallIntegerField()
    # What the part was, for the detail page once the part itself is gone.
    prompt = models.TextField(blank=True, default="")
    duration = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["video", "position"], name="video_part_position"),
        ]

    def __str__(self) -> str:
        return f"Part {self.position} of video {self.video_id}"
