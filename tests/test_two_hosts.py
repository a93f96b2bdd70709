"""Two complete hosts on one machine, as the README's production section runs them: each its
own gunicorn and `manage.py qcluster`, ports and working directory, with DJANGO_ENV=prod, the
same secrets, one PostgreSQL database and one S3 bucket (moto's, over HTTP).

A video sent to host A shows in both galleries; an account's max_jobs holds across both hosts'
workers; SIGKILL to host A's whole stack mid-render leaves host B to finish every video, each
sent to the upstream exactly once."""

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection

from studio.api import services as api_services
from tests.conftest import PROD_ENV, ROOT, test_database_url, wait_for
from tests.proxy import HttpsProxy
from tests.receiver import Receiver
from tests.videos.test_scheduler_remote import add_account
from tests.videos.test_worker_remote import FAST
from videos.models import ProviderAccount, Video

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
HTTPS = {"X-Forwarded-Proto": "https"}  # as the TLS-terminating proxy says


@dataclass
class Host:
    """One host's stack: the commands of the README's "Running in production"."""

    name: str
    folder: Path
    env: dict
    port: int = field(default_factory=Receiver.free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip

    def start(self) -> "Host":
        log = (self.folder / "stack.log").open("a")
        for argv in (
            [sys.executable, "-m", "gunicorn", "studio.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2"],
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
        ):  # fmt: skip
            self.processes.append(
                subprocess.Popen(
                    argv,
                    cwd=self.folder,
                    env=self.env,
                    start_new_session=True,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for(self._healthy, timeout=60, what=f"host {self.name}'s /healthz")
        return self

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).status_code == 200
        except requests.RequestException:  # not listening yet, or still loading the app
            return False

    def kill(self) -> None:
        """SIGKILL to every process of the stack at once, as a host that loses power."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes:
            process.wait()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def hosts(cast, s3, collected_static, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("two hosts share a PostgreSQL database (the PostgreSQL run has this test)")
    made: list[Host] = []
    for name in ("a", "b"):
        folder = tmp_path / f"host-{name}"
        folder.mkdir()
        env = {
            **os.environ,
            **PROD_ENV,
            **s3.env,
            **FAST,
            # This process's keys: the account it stores is read back by the hosts.
            "SECRET_KEY": django_settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": ",".join(django_settings.FIELD_ENCRYPTION_KEYS),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": test_database_url(),
            "STATIC_ROOT": str(collected_static),
            "STUDIO_DATA_DIR": str(folder),
            "WORKER_STATE_DIR": str(folder / "workers"),
            "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "Q_WORKERS": "2",
        }
        made.append(Host(name, folder, env))
    a, b = made
    # MiniMax calls back through the HTTPS proxy to host B, which outlives A.
    proxy = HttpsProxy(b.port).start()
    for host in made:
        host.env["PUBLIC_URL"] = proxy.url
    yield a, b
    for host in made:
        host.stop()
    proxy.stop()


def _session_cookie(client, user) -> dict:
    """Sessions live in the shared database: one sign-in works on both hosts."""
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value}


def test_two_hosts_share_the_queue_the_slots_and_the_bucket_and_survive_one_dying(
    hosts, cast, s3, emulator, client
):
    a, b = hosts
    # The README's deploy steps, run as written (on the test database: migrate finds nothing).
    migrated = a.manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    checked = a.manage("check", "--deploy")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    emulator.configure(preparing_s=0.2, queueing_s=0.3, processing_s=1.5, rpm=1000)
    ProviderAccount.objects.filter(team=cast.acme, kind="local").update(enabled=False)
    key = add_account(cast.acme, emulator, max_jobs=2)
    a.start()
    b.start()
    for host in (a, b):
        alive = host.manage("worker_liveness")
        assert alive.returncode == 0, alive.stdout + alive.stderr
    _, token = api_services.api_token_create(user=cast.bob, team=cast.acme, name="two hosts")
    api = {"Authorization": f"Bearer {token}", **HTTPS}

    def create(host: Host, prompt: str) -> str:
        answer = requests.post(
            f"{host.url}/v1/minimax/videos/create", json={"prompt": prompt}, headers=api, timeout=10
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["videoId"]

    def status(host: Host, video_id: str) -> str:
        answer = requests.get(f"{host.url}/v1/minimax/videos/{video_id}", headers=api, timeout=10)
        return (
            answer.json()["statusLabel"]
            if answer.status_code == 200
            else f"HTTP {answer.status_code}"
        )

    first = create(a, "Sent to host A")
    try:
        wait_for(lambda: status(b, first) == "completed", timeout=90, what="the first video")
    except AssertionError:
        rows = list(Video.objects.values("status", "message", "error"))
        raise AssertionError(f"{rows} {emulator.stats()}") from None
    cookie = _session_cookie(client, cast.bob)
    for host in (a, b):
        page = requests.get(f"{host.url}/", cookies=cookie, headers=HTTPS, timeout=10)
        assert page.status_code == 200 and "Sent to host A" in page.text, host.name
    video = Video.objects.get(prompt="Sent to host A")
    assert f"studio/{video.file.name}" in s3.objects(), "the result is in the shared bucket"

    ids = [create(a, f"Batch {n}") for n in range(6)]
    wait_for(lambda: emulator.stats()["create_attempts"] >= 3, timeout=60, what="renders under way")
    a.kill()
    wait_for(
        lambda: all(status(b, video_id) == "completed" for video_id in ids),
        timeout=180,
        what="host B to finish everything",
    )
    stats = emulator.stats()
    assert stats["peak_concurrent"]["key-good"] <= key.max_jobs, "max_jobs across both hosts"
    assert stats["creates"] == 1 + len(ids), "each video was sent exactly once"
    assert Video.objects.filter(status="completed").count() == 1 + len(ids)
    pushes = stats["callbacks"]
    assert pushes and all(push["ok"] for push in pushes), "MiniMax's pushes reached host B"
