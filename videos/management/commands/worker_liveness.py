import sys
import time

from django.core.management.base import BaseCommand

from videos import workers


class Command(BaseCommand):
    help = (
        "Exit 0 when every task cluster on this host takes its tasks, 1 when one is stuck (tasks "
        "wait in its queue while a worker sits idle) or none is running. For a process "
        "manager's liveness check: it reads only this host's worker state, never the database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=2.0,
            help="Seconds between the two looks at the cluster (default 2).",
        )

    def handle(self, *args, interval: float, **options):
        before = workers.clusters_seen()
        time.sleep(interval)
        after = workers.clusters_seen()
        if not after:
            self.stderr.write(
                "No task cluster is running on this host: no sentinel saved its status in the "
                "last 3 s."
            )
            sys.exit(1)
        stuck = False
        for pid, view in sorted(after.items()):
            reason = workers.cluster_stuck(before[pid], view) if pid in before else ""
            if reason:
                stuck = True
                self.stderr.write(f"STUCK {view.describe()}: {reason}")
            else:
                self.stdout.write(f"OK {view.describe()}")
        sys.exit(1 if stuck else 0)
