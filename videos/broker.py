"""django-q2's ORM broker, plus a per-host record of the rows this cluster's pusher leased.

It also rides out a database restart with a one-second pause (see dequeue).

A leased row stays invisible to every cluster for `retry` seconds (six minutes here). When a
cluster is killed with tasks in its internal queue, those tasks would wait that long; with the
record, the next cluster on the host releases them at once (videos.workers.workers_recover).
"""

import logging
import time

from django.db import connection
from django_q.brokers.orm import ORM
from django_q.models import OrmQ

from videos import workers
from videos.scheduler import DB_OUTAGE

log = logging.getLogger(__name__)


class LeaseRecordingORM(ORM):
    def dequeue(self):
        try:
            tasks = super().dequeue()
        except DB_OUTAGE as exc:
            # django-q2's pusher answers a broker error by sleeping 10 s and dying (to be
            # replaced); a database restart should cost a second, not ten.
            log.warning("The task broker cannot reach the database (%s); retrying", exc)
            connection.close()
            time.sleep(1.0)
            return None
        if tasks:
            ids = [row_id for row_id, _ in tasks]
            # The lock value is the lease's token: a release matches it, so a row that another
            # cluster leased again after ours ran out is never released by mistake.
            try:
                workers.leases_record(OrmQ.objects.filter(pk__in=ids).values_list("pk", "lock"))
            except (OSError, *DB_OUTAGE) as exc:  # the tasks run anyway; only a fast release
                log.warning("Could not record the leased tasks: %s", exc)  # after a kill is lost
        return tasks
