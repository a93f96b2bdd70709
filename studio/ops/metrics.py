"""/metrics in Prometheus's text format.

Two sources, one page:
- events counted by the processes as they happen (studio.lib.metrics: upstream calls, render
  times, callback tries), summed over every process of this host when the supervisor gave them
  a PROMETHEUS_MULTIPROC_DIR, else this process's own;
- states read from the database at each scrape (queue depth per team, busy slots per account,
  callback deliveries by state). They are the whole studio's, so every host reports the same
  figure: aggregate them with max() or scrape one host, not sum().
"""

import os

from django.db.models import Count, Q
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from studio.teams.models import Team
from studio.webhooks.models import WebhookDelivery
from videos.models import ProviderAccount, Video

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class StateCollector:
    """The studio's state, read when scraped: a few grouped counts, each one query."""

    def collect(self):
        queued = GaugeMetricFamily(
            "studio_queue_depth", "Videos waiting in the queue, by team.", labels=["team"]
        )
        waiting = dict(
            Video.objects.filter(status=Video.Status.QUEUED)
            .values_list("team_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for team_id in Team.objects.values_list("pk", flat=True):
            queued.add_metric([str(team_id)], waiting.get(team_id, 0))
        yield queued

        slots = GaugeMetricFamily(
            "studio_account_slots", "An account's max_jobs.", labels=["team", "account", "kind"]
        )
        busy = GaugeMetricFamily(
            "studio_account_slots_busy",
            "An account's videos running now (each holds one of its slots).",
            labels=["team", "account", "kind"],
        )
        running = Count(
            "attempts",
            filter=Q(
                attempts__current_of__status__in=Video.RUNNING,
                attempts__upstream_finished_at=None,
            ),
        )
        for account in ProviderAccount.objects.annotate(busy=running).order_by("pk"):
            labels = [str(account.team_id), str(account.pk), account.kind]
            slots.add_metric(labels, account.max_jobs)
            busy.add_metric(labels, account.busy)
        yield slots
        yield busy

        callbacks = GaugeMetricFamily(
            "studio_callbacks", "Callback deliveries on record, by state.", labels=["state"]
        )
        by_state = dict(
            WebhookDelivery.objects.values_list("state").annotate(n=Count("id")).order_by()
        )
        for state in WebhookDelivery.State.values:
            callbacks.add_metric([state], by_state.get(state, 0))
        yield callbacks


def metrics_page() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        events = CollectorRegistry()
        MultiProcessCollector(events)
    else:
        events = REGISTRY
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector())
    return generate_latest(events) + generate_latest(state)
