import contextlib
import copy
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet

from studio import conf as studio_conf

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def conf():
    """studio.conf for one test: `conf.POLL_SECONDS = 0.05` holds until the test ends, then
    every knob is put back (the code reads them at call time as conf.NAME). pytest-django's
    `settings` fixture does the same for Django's own settings."""
    saved = {name: copy.copy(v) for name, v in vars(studio_conf).items() if name.isupper()}
    yield studio_conf
    for name in [name for name in vars(studio_conf) if name.isupper() and name not in saved]:
        delattr(studio_conf, name)
    for name, value in saved.items():
        setattr(studio_conf, name, value)


@pytest.fixture(autouse=True)
def signin_throttle_off(request):
    """Django's Client.login() authenticates without a request, which django-axes refuses; the
    throttle is switched back on by the tests that check it (tests/teams/test_views_auth.py)."""
    if request.config.pluginmanager.hasplugin("django"):
        request.getfixturevalue("settings").AXES_ENABLED = False


@pytest.fixture(autouse=True)
def media_root(request, tmp_path):
    """Each test stores uploads and results in its own directory."""
    media = tmp_path / "media"
    media.mkdir()
    if not request.config.pluginmanager.hasplugin("django"):
        return media  # the renderer and image tests run without Django too
    settings = request.getfixturevalue("settings")
    settings.MEDIA_ROOT = media
    # Worker state is per host; per test here, so one test's clusters never show in another's.
    state = tmp_path / "workers"
    settings.WORKER_STATE_DIR = state
    settings.CACHES = {
        **settings.CACHES,
        "workers": {**settings.CACHES["workers"], "LOCATION": str(state)},
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media), "base_url": "/media/"},
        },
    }
    return media


@pytest.fixture
def cast(db):
    """alice is Acme's admin, bob an Acme member, charlie an outsider with a team of his own."""
    from tests.factories import add_member, make_team, make_user

    alice, bob, charlie = make_user("alice"), make_user("bob"), make_user("charlie")
    acme = make_team("Acme", admin=alice)
    add_member(acme, bob)
    other = make_team("Other", admin=charlie)
    return SimpleNamespace(alice=alice, bob=bob, charlie=charlie, acme=acme, other=other)


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def wait_for(predicate, *, timeout: float = 60.0, what: str = "condition"):
    """Polls a condition another process makes true (no event crosses the process boundary)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"Timed out after {timeout:.0f}s waiting for {what}")


def pytest_runtest_setup(item):
    # `./run test` runs the suite twice; a test of the pages alone (layout, axe-core, the
    # README's screenshots) would only repeat itself on PostgreSQL, and CI time is finite.
    from django.db import connection

    if item.get_closest_marker("pages_only") and connection.vendor != "sqlite":
        pytest.skip("pages only: run on SQLite")


def test_database_url() -> str:
    """A URL for the database this test runs on, for processes started by the test."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    return f"{base}/{name}"


test_database_url.__test__ = False


class Worker:
    """A real `manage.py qcluster` process on the test database."""

    def __init__(self, media_root: Path, **env: str):
        from django.conf import settings as django_settings

        self.media_root = media_root
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "MEDIA_ROOT": str(media_root),
            "SECRET_KEY": django_settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": ",".join(django_settings.FIELD_ENCRYPTION_KEYS),
            "WORKER_STATE_DIR": str(media_root.parent / "workers"),
            "Q_WORKERS": "2",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self, command: str = "qcluster") -> "Worker":
        # Its own session, so SIGKILL reaches the cluster's every process, as a crashed host would.
        self.log_path = self.media_root.parent / "worker.log"
        self.log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", command],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def cluster(self, pid: int | None = None):
        """This cluster as its sentinel last reported it (None until it has)."""
        from videos import workers

        views = workers.clusters_seen()
        if pid is not None:
            return views.get(pid)
        return next(iter(views.values()), None)

    def idle_worker_in_get(self, cluster) -> int:
        """The idle worker that holds the task queue's read lock, blocked on the pipe in get():
        the others wait on the lock itself (a futex). A worker records itself idle just
        before it reaches get(), so this waits for one to get there."""

        def blocked_on_the_pipe():
            for pid in cluster.workers:
                with contextlib.suppress(OSError):
                    if "pipe" in Path(f"/proc/{pid}/wchan").read_text():
                        return pid
            return None

        return wait_for(blocked_on_the_pipe, timeout=30, what="a worker blocked reading the queue")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """A graceful stop of the cluster, then nothing of its group may be left running."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def worker_factory(transactional_db, media_root):
    from videos.services import schedules_ensure

    # Transactional tests empty every table between tests, the migration's schedule included;
    # put it back as `./run` (bootstrap) would.
    schedules_ensure()
    workers: list[Worker] = []

    def start(command: str = "qcluster", **env: str) -> Worker:
        worker = Worker(media_root, **env).start(command)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


# Settings that pass Django's deployment checklist, for `manage.py` run as production would.
PROD_ENV = {
    "DJANGO_ENV": "prod",
    "SECRET_KEY": "k" + Fernet.generate_key().decode() + "-production-grade-secret-key-1234",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "studio.example.com",
}


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """A STATIC_ROOT as a production deploy leaves it, after `collectstatic`."""
    root = tmp_path_factory.mktemp("static")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env={**os.environ, **PROD_ENV, "STATIC_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return root


from tests.emulator_fixture import emulator  # noqa: E402, F401
from tests.s3_fixture import s3, s3_server  # noqa: E402, F401


@pytest.fixture
def offline(monkeypatch):
    """Nothing in this process may leave the machine while generated input is thrown at it.

    A replyUrl or base URL is resolved when it is checked (socket.getaddrinfo), so a generated
    host name would be a real DNS lookup. Here only numeric addresses resolve (a name is
    "cannot be resolved", a 400), and Python sockets may not connect anywhere. The database is
    untouched: SQLite is a file, and psycopg connects through libpq, not Python's socket module.
    """
    real_getaddrinfo = socket.getaddrinfo

    def numeric_only(host, port, family=0, type=0, proto=0, flags=0):
        return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)

    def refuse(self, address):
        raise OSError(f"this test is offline: refused a connection to {address!r}")

    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
