"""The studio's own knobs: read once from the environment, with their types.

Django's settings and the deployment's (database, storage, secrets, security headers, the apps
other libraries configure) live in studio/settings.py; these are the studio's alone. Code reads
them at call time as `conf.NAME` (`from studio import conf`), never `from studio.conf import
NAME`, so a test can change one for its own duration with the `conf` fixture (tests/conftest.py).
A value that does not parse stops the process at start, naming the variable.
"""

from studio.env import Network, env_bool, env_float, env_floats, env_int, env_networks, env_str
from studio.env import production as _production

_PRODUCTION = _production()

# Prompts and uploads. A prompt image is at most 20 MB (MiniMax's own limit).
PROMPT_MAX_CHARS: int = 2000
MAX_IMAGE_BYTES: int = 20 * 1024 * 1024
GALLERY_PAGE_SIZE: int = env_int("GALLERY_PAGE_SIZE", 24)
# Days a deleted video stays in the team's Trash, restorable, before it is purged with its files.
TRASH_DAYS: int = env_int("TRASH_DAYS", 30)
# The unit of the prices set on accounts, as the usage page and cost quotas show them.
COST_CURRENCY: str = env_str("COST_CURRENCY", "USD")
INVITE_DAYS: int = env_int("INVITE_DAYS", 7)

# The reverse proxies in front of the studio. Only a request that reaches the studio from one of
# them has its X-Forwarded-For believed, and only as far back as the first address that is not
# one of them: that is the client. Anything a client writes into the header itself is ignored.
TRUSTED_PROXIES: list[Network] = env_networks("TRUSTED_PROXIES", "127.0.0.0/8,::1")

# Workers. A cluster with tasks in its internal queue and an idle worker for this long is stuck
# (a worker killed inside the queue's get() holds its lock for ever): the supervisor restarts it.
WORKER_STUCK_SECONDS: float = env_float("WORKER_STUCK_SECONDS", 6.0)
# How long a stopping cluster may take before its whole process group is killed.
WORKER_STOP_GRACE_SECONDS: float = env_float("WORKER_STOP_GRACE_SECONDS", 10.0)
# How often the supervisor takes back videos from dead workers and asks for a dispatch.
WORKER_WATCH_SECONDS: float = env_float("WORKER_WATCH_SECONDS", 3.0)

# A local render beats its heartbeat this often from a thread of its own, whatever the renderer
# is doing; one silent for STALE_AFTER_SECONDS (five beats and more) is taken back and queued
# again, without charging the video a try.
HEARTBEAT_SECONDS: float = env_float("HEARTBEAT_SECONDS", 2.0)
STALE_AFTER_SECONDS: int = env_int("STALE_AFTER_SECONDS", 12)
# A video whose worker died this many times is failed: it is what kills them (django-q2 #327).
MAX_WORKER_LOSSES: int = env_int("MAX_WORKER_LOSSES", 8)
# A remote create silent for this long (its worker died mid-send) is reconciled upstream.
SEND_STALE_SECONDS: float = env_float("SEND_STALE_SECONDS", 120.0)
MAX_VIDEO_ATTEMPTS: int = env_int("MAX_VIDEO_ATTEMPTS", 3)
# The local renderer takes at least this long per video, to rehearse upstream-like timings.
LOCAL_RENDER_MIN_SECONDS: float = env_float("LOCAL_RENDER_MIN_SECONDS", 0)

# Remote accounts (MiniMax, useapi.net); see videos/scheduler.
# The studio's public base URL. When set, MiniMax accounts get a callback URL under it, so
# results arrive without waiting for the next poll, and lost creates can be reconciled.
PUBLIC_URL: str = env_str("PUBLIC_URL").rstrip("/")
POLL_SECONDS: float = env_float("POLL_SECONDS", 5.0)
# When MiniMax's callbacks reach the studio, they drive progress; polls become a safety net.
POLL_SLOWDOWN_WITH_CALLBACKS: float = env_float("POLL_SLOWDOWN_WITH_CALLBACKS", 6.0)
# Each account's `rpm` creates are allowed per this window (MiniMax: 5 per 60 s).
RATE_WINDOW_SECONDS: float = env_float("RATE_WINDOW_SECONDS", 60.0)
# Used only to draw a progress bar while MiniMax, which reports no percentage, is working.
EXPECTED_UPSTREAM_SECONDS: float = env_float("EXPECTED_UPSTREAM_SECONDS", 150.0)
RETRY_BASE_SECONDS: float = env_float("RETRY_BASE_SECONDS", 10.0)
MAX_POLL_FAILURES: int = env_int("MAX_POLL_FAILURES", 12)
MAX_FETCH_FAILURES: int = env_int("MAX_FETCH_FAILURES", 5)
# A poll or download killed with its worker is taken up again after this long.
POLL_CLAIM_SECONDS: float = env_float("POLL_CLAIM_SECONDS", 60.0)
FETCH_CLAIM_SECONDS: float = env_float("FETCH_CLAIM_SECONDS", 180.0)
# A create whose answer was lost: MiniMax's challenge must have arrived within this long...
CALLBACK_GRACE_SECONDS: float = env_float("CALLBACK_GRACE_SECONDS", 15.0)
# ...and a status push with its task id within this long, or the video fails (not resent).
IN_DOUBT_GIVE_UP_SECONDS: float = env_float("IN_DOUBT_GIVE_UP_SECONDS", 600.0)
SCHEDULER_TICK_SECONDS: float = env_float("SCHEDULER_TICK_SECONDS", 0.05)
SCHEDULER_RUN_SECONDS: float = env_float("SCHEDULER_RUN_SECONDS", 120.0)
SCHEDULER_LEASE_SECONDS: float = env_float("SCHEDULER_LEASE_SECONDS", 10.0)
SCHEDULER_THREADS: int = env_int("SCHEDULER_THREADS", 8)

# The REST API under /v1/ (useapi.net's MiniMax API, served by the studio).
# Requests one token may make per window, in two budgets; past one the API answers 429 with
# Retry-After. Writes are creates, uploads, deletes, cancels and account changes; reads are
# every GET. Sized for a batch script of 200 prompts with images on one token: each prompt is an
# upload and a create (400 writes, which a team in queue mode takes in one burst), a GET
# scheduler/available, and its video polled until it ends (200 videos polled every 5 s are 2,400
# reads a minute). tests/api/test_api_budgets.py does the sums. API_RATE_LIMIT, the name the
# single budget had, still sets the writes.
API_WRITE_RATE_LIMIT: int = env_int("API_WRITE_RATE_LIMIT", env_int("API_RATE_LIMIT", 600))
API_READ_RATE_LIMIT: int = env_int("API_READ_RATE_LIMIT", 3000)
API_RATE_WINDOW_SECONDS: int = env_int("API_RATE_WINDOW_SECONDS", 60)
# Queue mode: a create is refused (429) once its author, or the team, has this many videos
# queued or running. Teams may set their own limits on the team page.
API_USER_QUEUE_LIMIT: int = env_int("API_USER_QUEUE_LIMIT", 50)
API_TEAM_QUEUE_LIMIT: int = env_int("API_TEAM_QUEUE_LIMIT", 200)
# A JSON or form body larger than this is refused (uploads have MAX_IMAGE_BYTES).
API_MAX_BODY_BYTES: int = env_int("API_MAX_BODY_BYTES", 64 * 1024)
# How long the signed videoURL / downloadURL / coverURL links in API answers work.
API_LINK_SECONDS: int = env_int("API_LINK_SECONDS", 24 * 3600)
# GET accounts/ marks an account `error` (useapi.net's scripts skip such accounts) when its last
# upstream error is this recent and nothing has succeeded on it since.
ACCOUNT_ERROR_FRESH_SECONDS: float = env_float("ACCOUNT_ERROR_FRESH_SECONDS", 600.0)

# Every request to an address a user typed (account base URLs, their downloads and redirects,
# replyUrls) goes only to public addresses: loopback, private, link-local, CGNAT, multicast,
# NAT64 and cloud-metadata targets are refused unless they fall in one of these networks (CIDR,
# comma-separated). Development opens loopback, so the emulator on 127.0.0.1 works out of the
# box; production opens nothing. A metadata address opens only when listed on its own
# (169.254.169.254/32), never through a wider network. WEBHOOK_ALLOWED_NETWORKS, its old name
# (which covered callbacks only), is deprecated and merged in.
OUTBOUND_ALLOWED_NETWORKS: list[str] = list(
    dict.fromkeys(
        str(n)
        for name, default in (
            ("OUTBOUND_ALLOWED_NETWORKS", "" if _PRODUCTION else "127.0.0.0/8,::1/128"),
            ("WEBHOOK_ALLOWED_NETWORKS", ""),
        )
        for n in env_networks(name, default)
    )
)
# Plain http callbacks are fine on one machine; production wants https unless told otherwise.
WEBHOOK_ALLOW_HTTP: bool = env_bool("WEBHOOK_ALLOW_HTTP", "False" if _PRODUCTION else "True")
WEBHOOK_TIMEOUT_SECONDS: float = env_float("WEBHOOK_TIMEOUT_SECONDS", 15.0)
# How long to wait after each failed attempt before the next (Standard Webhooks' schedule:
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: about three days in all); a callback
# that fails once more after the last wait is given up.
WEBHOOK_RETRY_SECONDS: list[float] = env_floats(
    "WEBHOOK_RETRY_SECONDS", "5,300,1800,7200,18000,36000,50400,72000,86400"
)
