"""The stuck-cluster rule and the per-host worker records, without processes."""

import os
import time

from videos import workers
from videos.workers import ClusterView


def _view(queued: int, idle: set[tuple[int, float]], busy: int = 0) -> ClusterView:
    return ClusterView(
        pid=10,
        sentinel=11,
        queued=queued,
        workers=(12, 13, 14),
        busy=busy,
        idle=frozenset(idle),
    )


def test_tasks_waiting_while_the_same_worker_stays_idle_is_stuck():
    reason = workers.cluster_stuck(_view(1, {(12, 5.0)}), _view(2, {(12, 5.0)}))
    assert reason == "2 task(s) wait in its queue while idle worker(s) 12 take none"


def test_a_worker_that_took_a_task_between_the_looks_is_not_stuck():
    # Idle again since a later moment: it worked in between, so the queue is being read.
    assert workers.cluster_stuck(_view(1, {(12, 5.0)}), _view(1, {(12, 9.0)})) == ""


def test_an_empty_queue_or_all_workers_busy_is_not_stuck():
    assert workers.cluster_stuck(_view(0, {(12, 5.0)}), _view(0, {(12, 5.0)})) == ""
    assert workers.cluster_stuck(_view(3, set(), busy=3), _view(3, set(), busy=3)) == ""
    assert workers.cluster_stuck(_view(1, {(12, 5.0)}), _view(0, {(12, 5.0)})) == ""


def test_a_dead_process_or_a_zombie_is_not_alive(tmp_path):
    assert workers.process_alive(os.getpid())
    assert not workers.process_alive(2**22 + 12345)  # beyond pid_max's default
    child = os.fork()
    if child == 0:
        os._exit(0)
    # Not reaped yet: a zombie, which is dead for our purposes.
    deadline = time.monotonic() + 5
    while workers.process_alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not workers.process_alive(child)
    os.waitpid(child, 0)


def test_a_workers_record_is_replaced_whole(settings, tmp_path):
    settings.WORKER_STATE_DIR = tmp_path
    workers.worker_task_started(task={"func": workers.RUN_VIDEO, "args": (7, 2), "name": "v"})
    workers.worker_task_finished()
    records = [r for _, r in workers._read("worker")]
    assert len(records) == 1
    assert records[0]["pid"] == os.getpid() and records[0]["state"] == "idle"
