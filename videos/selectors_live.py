"""What the gallery shows of videos in progress, and what its one poll per page reads.

A queued card says what it really waits for (a free slot only when every slot it could use is
busy), every card in progress has an ETA from its accounts' measured recent durations, and all of
that is summed up in a short key. The page sends its cards' keys with each poll and gets back
only the cards whose key changed (videos.views.live.poll). A fixed number of queries per page,
whatever its size. Reads only.
"""

import hashlib
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from studio import conf
from studio.teams.models import Membership
from videos import selectors
from videos.models import Attempt, ProviderAccount, UpstreamCall, Video
from videos.selectors import AccountSlots

# ETAs come from the team's newest completed attempts, at most DURATION_SAMPLES per account:
# recent enough to follow an upstream that slows down, few enough to read in one indexed query.
RECENT_ATTEMPTS = 200
DURATION_SAMPLES = 20
NO_ESTIMATE = "No estimate yet"


@dataclass(frozen=True)
class LiveState:
    """What a card in progress says. `kind` names the reason (live.css colours it):
    running, starting, behind, busy, rate, paused, backoff, pinned or no_account."""

    kind: str
    text: str
    # A countdown to this moment follows `text` (live.js ticks it down every second).
    until: datetime | None = None
    now: datetime = field(default_factory=timezone.now)
    eta_label: str = ""

    @property
    def seconds(self) -> int:
        """Seconds left until `until`, when the card was made; live.js counts down from it, so
        a client clock that is off does not matter."""
        if self.until is None:
            return 0
        return max(0, round((self.until - self.now).total_seconds()))

    @property
    def countdown(self) -> str:
        return clock(self.seconds)

    @property
    def estimated(self) -> bool:
        return self.eta_label != NO_ESTIMATE


@dataclass
class Poll:
    changed: list[Video]  # cards whose key differs from the one the page has
    gone: list[int]  # ids the page shows that its team's gallery does not have (trashed, purged)
    etag: str  # of every card asked, as the server sees it now


@dataclass
class Durations:
    """Seconds each account took for its recent completed attempts: `render` from the upstream
    accepting the create (or a worker taking up a local render) to the end, `start` from the
    claim to that acceptance."""

    render: dict[int, list[float]] = field(default_factory=dict)
    start: dict[int, list[float]] = field(default_factory=dict)

    def medians(self, account_ids) -> tuple[float | None, float]:
        """The median render and start time over these accounts' samples; over all the team's
        when they have none yet (a new account is assumed to be like the others)."""
        ids = [a for a in account_ids if self.render.get(a)] or list(self.render)
        render = [s for a in ids for s in self.render[a]]
        start = [s for a in ids for s in self.start.get(a, [])]
        if not render:
            return None, 0.0
        return statistics.median(render), statistics.median(start) if start else 0.0


def clock(seconds: float) -> str:
    """0:23, 4:05, 1:02:03."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def span(seconds: float) -> str:
    """A rough duration: "under a minute", "about 3 min", "about 2 h"."""
    if seconds < 60:
        return "under a minute"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min"
    return f"about {round(seconds / 3600)} h"


def recent_durations(*, account_ids: list[int]) -> Durations:
    """One query: the newest RECENT_ATTEMPTS completed attempts on these accounts (the primary
    key walked backwards), at most DURATION_SAMPLES kept per account."""
    durations = Durations()
    if not account_ids:
        return durations
    rows = (
        Attempt.objects.filter(
            account_id__in=account_ids,
            outcome=Attempt.Outcome.COMPLETED,
            started_at__isnull=False,
            finished_at__isnull=False,
        )
        .order_by("-id")
        .values_list("account_id", "created_at", "started_at", "finished_at")[:RECENT_ATTEMPTS]
    )
    for account_id, claimed, started, finished in rows:
        render = durations.render.setdefault(account_id, [])
        if len(render) < DURATION_SAMPLES:
            render.append(max(0.0, (finished - started).total_seconds()))
            start = durations.start.setdefault(account_id, [])
            start.append(max(0.0, (started - claimed).total_seconds()))
    return durations


def rate_releases(*, slots: list[AccountSlots], now: datetime) -> dict[int, datetime]:
    """When each rate-limited account may send its next create: the moment enough of its creates
    in the rate window have aged out of it. One query, only when an account is limited."""
    limited = {s.account.pk: s for s in slots if s.rate_limited}
    if not limited:
        return {}
    window = timedelta(seconds=conf.RATE_WINDOW_SECONDS)
    creates: dict[int, list[datetime]] = {}
    for account_id, at in (
        UpstreamCall.objects.filter(
            account_id__in=limited, kind=UpstreamCall.Kind.CREATE, at__gt=now - window
        )
        .order_by("at")
        .values_list("account_id", "at")
    ):
        creates.setdefault(account_id, []).append(at)
    releases = {}
    for account_id, times in creates.items():
        # With k creates in the window and rpm allowed, k - rpm + 1 of them must age out.
        index = min(len(times) - 1, max(0, len(times) - limited[account_id].account.rpm))
        releases[account_id] = times[index] + window
    return releases


def live_cards(*, membership: Membership, videos: list[Video]) -> None:
    """Sets on each of `videos` (its team's): `is_mine` (the viewer is its author), and on one in
    progress `live` (a LiveState) and `live_key`, the key of all a card shows. Queue positions
    come from selectors.annotate_queue_positions unless the page already set them."""
    now = timezone.now()
    for video in videos:
        video.is_mine = video.author_id is not None and video.author_id == membership.user_id
        video.live, video.live_key = None, ""
    active = [v for v in videos if not v.is_final]
    if not active:
        return
    queued = [v for v in active if v.status == Video.Status.QUEUED]
    slots, releases = [], {}
    if queued:
        if any(not hasattr(v, "queue_position") for v in queued):
            selectors.annotate_queue_positions(team=membership.team, videos=queued)
        slots, _ = selectors.account_slots(team=membership.team)
        releases = rate_releases(slots=slots, now=now)
        account_ids = [s.account.pk for s in slots]
    else:
        account_ids = list(
            ProviderAccount.objects.filter(team_id=membership.team_id).values_list("pk", flat=True)
        )
    durations = recent_durations(account_ids=account_ids)
    for video in active:
        if video.status == Video.Status.QUEUED:
            state = queue_state(video, slots=slots, releases=releases, now=now)
            video.live = _with_eta(video, state, durations=durations, slots=slots, now=now)
        else:
            video.live = running_state(video, durations=durations, now=now)
        video.live_key = card_key(video)


def card_key(video: Video) -> str:
    """A short digest of everything a card in progress shows, so a poll can tell which changed.
    A countdown's end is in it, not its seconds: the page ticks those itself."""
    live = video.live
    shown = (
        video.status,
        video.percent,
        video.message,
        getattr(video, "queue_position", None),
        video.account_id,
        video.is_mine,
        live and (live.kind, live.text, live.until and live.until.isoformat(), live.eta_label),
    )
    return hashlib.blake2b(repr(shown).encode(), digest_size=6).hexdigest()


def _may_run(account: ProviderAccount, video: Video) -> bool:
    """The claim's rules (videos.scheduler.claims._next_in_queue): a pinned video runs only on
    its account, a useapi.net-only model only on a useapi.net account."""
    if video.requested_account_id:
        return account.pk == video.requested_account_id
    if video.useapi_only:
        return account.kind == ProviderAccount.Kind.USEAPI
    return True


def _room(slot: AccountSlots, video: Video) -> int:
    """Slots of `slot`'s account this video could take now (its own maxJobs may lower them)."""
    limit = min(slot.account.max_jobs, video.max_jobs or slot.account.max_jobs)
    return limit - len(slot.running)


def queue_state(
    video: Video, *, slots: list[AccountSlots], releases: dict[int, datetime], now: datetime
) -> LiveState:
    """What a queued video waits for, as the dispatcher would see it now."""
    mine = [s for s in slots if _may_run(s.account, video)]
    enabled = [s for s in mine if s.account.enabled]
    if not enabled:
        return _no_account(video, mine, now)
    if video.retry_at and video.retry_at > now:
        return LiveState("backoff", "Retrying in", until=video.retry_at, now=now)
    free = sum(
        max(0, _room(s, video)) for s in enabled if not s.account.is_paused and not s.rate_limited
    )
    position = getattr(video, "queue_position", None) or 1
    if free >= position:
        return LiveState("starting", "Starting…", now=now)
    if free:
        ahead = position - 1
        noun = "video" if ahead == 1 else "videos"
        return LiveState("behind", f"Next after the {ahead} {noun} ahead", now=now)
    limited = [
        releases[s.account.pk]
        for s in enabled
        if not s.account.is_paused and s.rate_limited and _room(s, video) > 0
        if s.account.pk in releases
    ]
    if limited:
        return LiveState("rate", "Rate limit: next start in", until=min(limited), now=now)
    paused = [s.account for s in enabled if s.account.is_paused]
    if len(paused) == len(enabled):
        account = min(paused, key=lambda a: a.paused_until)
        reason = f" ({account.pause_reason})" if account.pause_reason else ""
        text = f"{account.name} is paused{reason}: resumes in"
        return LiveState("paused", text, until=account.paused_until, now=now)
    return LiveState("busy", "Waiting for a free slot", now=now)


def _no_account(video: Video, candidates: list[AccountSlots], now: datetime) -> LiveState:
    """No enabled account may take the video: it waits until an admin acts."""
    if video.requested_account_id and candidates:
        name = candidates[0].account.name
        text = f"Waiting for {name}, which is disabled: an admin can enable it under Accounts."
        return LiveState("pinned", text, now=now)
    if video.useapi_only:
        model = video.model or "this model"
        text = (
            f"No enabled useapi.net account can run {model}: an admin can add one under Accounts."
        )
        return LiveState("no_account", text, now=now)
    return LiveState(
        "no_account", "No enabled account: an admin can enable one under Accounts.", now=now
    )


def _with_eta(
    video: Video,
    state: LiveState,
    *,
    durations: Durations,
    slots: list[AccountSlots],
    now: datetime,
) -> LiveState:
    """The queued video's state with "Ready in about N min": the wait for its turn (its place in
    the queue over the slots that could run it, each freed once per median render), or the
    countdown it waits out, then the median start and render time of those accounts."""
    if state.kind in ("pinned", "no_account"):
        return state
    usable = [s for s in slots if _may_run(s.account, video) and s.account.enabled]
    render, start = durations.medians([s.account.pk for s in usable])
    if render is None:
        return LiveState(state.kind, state.text, state.until, now, NO_ESTIMATE)
    wait = 0.0
    if state.kind in ("busy", "behind"):
        total = sum(max(1, min(s.account.max_jobs, video.max_jobs or 10)) for s in usable)
        wait = (getattr(video, "queue_position", None) or 1) * render / total
    if state.until is not None:
        wait = max(wait, (state.until - now).total_seconds())
    label = f"Ready in {span(wait + start + render)}"
    return LiveState(state.kind, state.text, state.until, now, label)


def running_state(video: Video, *, durations: Durations, now: datetime) -> LiveState:
    """A running video's ETA: its account's median render less the time it has rendered."""
    render, start = durations.medians([video.account_id] if video.account_id else [])
    text = video.message or "Working"
    if render is None:
        return LiveState("running", text, now=now, eta_label=NO_ESTIMATE)
    attempt = video.attempt
    if attempt is not None and attempt.started_at is not None:
        left = render - (now - attempt.started_at).total_seconds()
    else:
        claimed = attempt.created_at if attempt is not None else now
        left = render + max(0.0, start - (now - claimed).total_seconds())
    label = "Almost done" if left <= 0 else f"{span(left).capitalize()} left"
    return LiveState("running", text, now=now, eta_label=label)


def poll_cards(*, membership: Membership, seen: dict[int, str]) -> Poll:
    """The page's cards in progress (`seen`: id → the key it shows), as they are now: those whose
    key changed, and those its team's gallery no longer has. An id of another team is gone like
    one that never existed, so nothing is learnt about it. Three queries plus live_cards'."""
    videos = list(
        Video.objects.filter(team_id=membership.team_id, deleted_at=None, pk__in=list(seen))
        .select_related("author", "attempt__account")
        .order_by("-id")
    )
    live_cards(membership=membership, videos=videos)
    changed = [v for v in videos if v.live_key != seen[v.pk]]
    # A refreshed card is drawn whole, star included: it must still show the viewer's star.
    selectors.mark_favourites(user=membership.user, videos=changed)
    gone = sorted(set(seen) - {v.pk for v in videos})
    state = sorted((v.pk, v.live_key or v.status) for v in videos)
    etag = hashlib.blake2b(repr((state, gone)).encode(), digest_size=8).hexdigest()
    return Poll(changed=changed, gone=gone, etag=etag)
