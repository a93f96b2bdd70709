"""Workers that never freeze, with real `manage.py qcluster` processes: a killed idle worker
(django-q2 #23), a worker killed mid-render, a killed supervisor, and a database restart."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, Worker, wait_for
from videos import services, workers
from videos.models import Video

pytestmark = pytest.mark.slow

SUPERVISED = {
    "WORKER_STUCK_SECONDS": "2",
    "WORKER_WATCH_SECONDS": "1",
    "WORKER_STOP_GRACE_SECONDS": "2",
}


def _status(video_id: int) -> str:
    return Video.objects.values_list("status", flat=True).get(pk=video_id)


def _ready(worker, pid=None):
    """The cluster once each of its workers has recorded itself idle. (The sentinel saves a
    first status before it spawns any worker: an empty pool is not ready.)"""
    return wait_for(
        lambda: (
            (view := worker.cluster(pid))
            and view.workers
            and len(view.idle) == len(view.workers)
            and view
        ),
        timeout=60,
        what="the cluster's workers to be ready",
    )


def _liveness(worker) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "worker_liveness", "--interval", "1.5"],
        cwd=ROOT,
        env=worker.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _freeze(worker, cluster) -> None:
    """Kills the idle worker that waits inside the task queue's get(), as an OOM kill would."""
    os.kill(worker.idle_worker_in_get(cluster), signal.SIGKILL)


def test_liveness_passes_for_a_healthy_cluster_and_fails_once_it_is_stuck(cast, worker_factory):
    worker = worker_factory()
    cluster = _ready(worker)
    healthy = _liveness(worker)
    assert healthy.returncode == 0, healthy.stderr
    assert f"OK cluster {worker.process.pid}" in healthy.stdout

    _freeze(worker, cluster)
    services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="Nobody takes this")
    )
    wait_for(
        lambda: (view := worker.cluster()) and view.queued,
        timeout=30,
        what="the dispatch task in its queue",
    )
    stuck = _liveness(worker)
    assert stuck.returncode == 1
    assert f"STUCK cluster {worker.process.pid}" in stuck.stderr
    assert "wait in its queue while idle worker(s)" in stuck.stderr


def test_liveness_fails_when_no_cluster_runs_on_this_host(cast, worker_factory):
    worker = worker_factory()
    _ready(worker)
    worker.stop()
    wait_for(lambda: worker.cluster() is None, timeout=10, what="the cluster's status to expire")
    result = _liveness(worker)
    assert result.returncode == 1
    assert "No task cluster is running on this host" in result.stderr


def test_a_busy_cluster_is_not_stuck(cast, worker_factory):
    # Both workers render; the third video's task waits in the queue, as it should.
    worker = worker_factory(LOCAL_RENDER_MIN_SECONDS="15")
    _ready(worker)
    for i in range(4):
        services.video_submit(
            team=cast.acme, user=cast.bob, submission=services.Submission(prompt=f"Busy {i}")
        )
    wait_for(
        lambda: (view := worker.cluster()) and view.workers and view.busy == len(view.workers),
        timeout=60,
        what="every worker to be busy",
    )
    result = _liveness(worker)
    assert result.returncode == 0, result.stderr


def test_the_supervisor_restarts_a_stuck_cluster_and_a_new_video_completes(cast, worker_factory):
    supervisor = worker_factory("runworkers", **SUPERVISED)
    first = _ready(supervisor)
    _freeze(supervisor, first)
    # The sentinel replaces the killed worker, and the replacement waits on the held lock too.
    video = services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="After the freeze")
    )
    wait_for(lambda: _status(video.pk) == "completed", timeout=90, what="the video")
    log = supervisor.log_path.read_text()
    assert "Restarting the task cluster" in log and "it is stuck" in log
    assert "released" in log, "the dead cluster's leased dispatch task was released at once"
    video.refresh_from_db()
    assert video.failures == 0 and video.attempts.count() == 1


def test_a_worker_killed_mid_render_hands_the_video_back_at_once_without_a_try(
    cast, worker_factory, media_root
):
    video = services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="Interrupted")
    )
    # A stale time far beyond the test: only the replacement worker's recovery can hand it back.
    worker = worker_factory(LOCAL_RENDER_MIN_SECONDS="8", STALE_AFTER_SECONDS="600")
    wait_for(
        lambda: Video.objects.filter(pk=video.pk, status="processing", percent__gt=0).exists(),
        timeout=60,
        what="the render to start",
    )
    view = worker.cluster()
    busy = next(
        pid
        for pid in view.workers
        if (worker_state := _state(pid)) and worker_state["state"] == "busy"
    )
    killed_at = time.monotonic()
    os.kill(busy, signal.SIGKILL)
    wait_for(
        lambda: Video.objects.filter(pk=video.pk, attempt__number=2).exists(),
        timeout=15,
        what="the video to be handed back and claimed again",
    )
    assert time.monotonic() - killed_at < 15
    wait_for(lambda: _status(video.pk) == "completed", timeout=90, what="the retried video")
    video.refresh_from_db()
    assert (video.failures, video.worker_losses, video.attempts.count()) == (0, 1, 2)
    assert len(list(media_root.rglob("*.mp4"))) == 1


def _state(pid: int) -> dict | None:
    return next((r for _, r in workers._read("worker") if r["pid"] == pid), None)


def test_a_killed_supervisor_leaves_no_orphans(cast, worker_factory):
    supervisor = worker_factory("runworkers", **SUPERVISED)
    cluster = _ready(supervisor)
    os.kill(supervisor.process.pid, signal.SIGKILL)
    supervisor.process.wait()
    gone = [cluster.pid, cluster.sentinel, *cluster.workers]
    wait_for(
        lambda: not any(workers.process_alive(pid) for pid in gone),
        timeout=30,
        what="the cluster to stop with its supervisor",
    )


@pytest.fixture
def private_postgres():
    from tests import pgcluster

    if not pgcluster.available():
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    pg = pgcluster.PrivatePostgres().init()
    yield pg
    pg.destroy()


def _manage(env: dict, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_database_restart_mid_render_is_a_pause_not_a_failure(media_root, private_postgres):
    import psycopg

    # A cluster of its own on a PostgreSQL server of its own, which the test restarts.
    worker = Worker(media_root, DATABASE_URL=private_postgres.url, LOCAL_RENDER_MIN_SECONDS="12")
    _manage(worker.env, "migrate", "--noinput")
    _manage(worker.env, "bootstrap")
    _manage(
        worker.env,
        "shell",
        "-c",
        "from videos import services; from studio.teams.models import Team; "
        "t = Team.objects.get(); u = t.memberships.get().user; "
        "[services.video_submit(team=t, user=u, submission=services.Submission("
        "prompt=f'Through a restart {i}')) for i in (1, 2)]",
    )

    def rows():
        with psycopg.connect(private_postgres.url, connect_timeout=2) as db:
            return db.execute(
                "SELECT status, (SELECT count(*) FROM videos_attempt a WHERE a.video_id = v.id),"
                " failures, worker_losses FROM videos_video v ORDER BY id"
            ).fetchall()

    worker.start()
    try:
        _restart_mid_render(private_postgres, rows)
    finally:
        worker.stop()
    assert rows() == [("completed", 1, 0, 0)] * 2, "neither render noticed the restart"


def _restart_mid_render(private_postgres, rows) -> None:
    wait_for(
        lambda: [r[0] for r in rows()] == ["processing", "processing"],
        timeout=60,
        what="both renders to be under way",
    )
    private_postgres.stop()
    time.sleep(3)  # down for longer than a heartbeat, as a real restart can be
    private_postgres.start()
    wait_for(
        lambda: [r[0] for r in rows()] == ["completed", "completed"],
        timeout=90,
        what="both renders to finish",
    )


def test_the_supervisor_restarts_a_killed_cluster_whose_render_then_completes(
    cast, worker_factory, media_root
):
    supervisor = worker_factory("runworkers", LOCAL_RENDER_MIN_SECONDS="8", **SUPERVISED)
    first = _ready(supervisor)
    video = services.video_submit(
        team=cast.acme, user=cast.bob, submission=services.Submission(prompt="Through a crash")
    )
    wait_for(
        lambda: Video.objects.filter(pk=video.pk, status="processing", percent__gt=0).exists(),
        timeout=60,
        what="the render to start",
    )
    os.killpg(first.pid, signal.SIGKILL)  # the whole cluster, as an OOM kill of its group would
    wait_for(lambda: _status(video.pk) == "completed", timeout=90, what="the video")
    video.refresh_from_db()
    assert (video.attempts.count(), video.failures, video.worker_losses) == (2, 0, 1)
    assert len(list(media_root.rglob("*.mp4"))) == 1
    log = supervisor.log_path.read_text()
    assert "The task cluster stopped (exit code -9); starting it again" in log
    assert "Handed back 1 video(s)" in log
