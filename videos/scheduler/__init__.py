"""The scheduler, part of the service layer: it hands queued videos to accounts with free slots
and drives remote videos (MiniMax, useapi.net) from create to a stored MP4.

- claims: which queued video an account takes next; the reaper and handing back dead workers'
  videos. Slots are derived, not counted: an account's busy slots are the running videos whose
  current Attempt is on it and whose upstream has not finished.
- state: the one conditional write every step makes to a video and its attempt, and the shapes
  a step ends in (back to the queue, final, completed).
- remote: send, reconcile, MiniMax's callbacks, poll, fetch.
- local: renders on a worker, with a heartbeat thread.
- accounts: the provider for an account, the rate record, pauses, errors, disabling.
- jobs: what a provider is given, and where results are stored.
- loop: the scheduler loop and its lease, and the dispatch pass.

Each try of a video on an account is an Attempt row, and its id is the claim's token: every
change is conditional on the video still pointing at that attempt, so a worker that lost its
claim (cancelled, taken back) cannot overwrite the winner.

The modules import one way: accounts, jobs <- state <- claims <- remote <- loop <- local.
"""

from videos.scheduler.accounts import (
    account_config,
    account_disable,
    provider_for,
    useapi_orphans_fail,
)
from videos.scheduler.claims import (
    WORKER_RESTART,
    account_has_room,
    video_claim,
    video_hand_back,
    videos_reap,
    work_waiting,
)
from videos.scheduler.jobs import result_name
from videos.scheduler.local import video_run
from videos.scheduler.loop import _due, scheduler_ensure, scheduler_loop, videos_dispatch
from videos.scheduler.remote import (
    account_fill,
    video_callback,
    video_fetch,
    video_poll,
    video_reconcile,
    video_send,
)
from videos.scheduler.state import DB_OUTAGE

__all__ = [
    "DB_OUTAGE",
    "WORKER_RESTART",
    "_due",
    "account_config",
    "account_disable",
    "account_fill",
    "account_has_room",
    "provider_for",
    "result_name",
    "scheduler_ensure",
    "scheduler_loop",
    "useapi_orphans_fail",
    "video_callback",
    "video_claim",
    "video_fetch",
    "video_hand_back",
    "video_poll",
    "video_reconcile",
    "video_run",
    "video_send",
    "videos_dispatch",
    "videos_reap",
    "work_waiting",
]
