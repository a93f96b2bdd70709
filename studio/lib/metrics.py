"""The studio's Prometheus metrics that code counts as it runs (studio.ops serves /metrics).

Upstream calls happen in the task workers and callback deliveries in workers and web
processes, so the figures of every process on a host must add up: with PROMETHEUS_MULTIPROC_DIR
set (the supervisor sets it for its children, studio.ops.metrics reads it), prometheus_client
keeps each process's values in files there and /metrics sums them. Without it (tests, a plain
`manage.py runserver`) they are this process's own.

What is a state rather than an event (queue depth, busy slots, deliveries by state) is read from
the database when /metrics is scraped instead (studio.ops.metrics), so every host reports the
same figure whichever process answers.
"""

from prometheus_client import Counter, Histogram

UPSTREAM_CALLS = Counter(
    "studio_upstream_calls",
    "Requests to an upstream (MiniMax or useapi.net), by provider, call and result.",
    ["provider", "call", "result"],
)
# How long an attempt ran on its account, from the upstream's accepting it (or the local
# renderer's starting) to its end, by account kind and outcome.
VIDEO_SECONDS = Histogram(
    "studio_video_render_seconds",
    "Seconds from an attempt's start on an account to its end.",
    ["kind", "outcome"],
    buckets=(15, 30, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1800, 3600),
)
CALLBACK_DELIVERIES = Counter(
    "studio_callback_deliveries",
    "Tries to deliver a callback (webhook) to a team's URL, by what came of each.",
    ["result"],
)


def upstream_result(status: int | None, error: str = "") -> str:
    """A small fixed set of labels (never a URL or a message): 2xx, 4xx, 5xx, or what failed."""
    if error:
        return error
    if status is None:
        return "unknown"
    return f"{status // 100}xx"
