"""Errors you can see: styled error pages, and every crash logged with its traceback to stderr."""

import contextlib
import os
import signal
import socket
import subprocess
import sys

import pytest
import requests
from django.test import Client

from tests.conftest import PROD_ENV, ROOT, Worker, client_for, wait_for
from tests.urls_errors import CRASH


def _assert_error_page(response, status: int, heading: str) -> None:
    assert response.status_code == status
    page = response.content.decode()
    assert heading in page
    assert '<a class="btn btn-primary" href="/">Back to the gallery</a>' in page
    assert 'rel="stylesheet" href="/static/studio.css"' in page


@pytest.mark.urls("tests.urls_errors")
def test_a_crash_answers_the_styled_500_page_and_logs_its_traceback(cast, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(cast.bob)
    response = client.get("/crash/")
    _assert_error_page(response, 500, "Something went wrong on our side")
    assert "Content-Security-Policy" in response.headers
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelname == "ERROR" and record.getMessage() == "Internal Server Error: /crash/"
    assert "Traceback (most recent call last)" in caplog.text and CRASH in caplog.text


@pytest.mark.urls("tests.urls_errors")
def test_a_crash_under_the_api_answers_its_json_error_and_logs_the_traceback(cast, caplog):
    response = Client(raise_request_exception=False).get("/v1/minimax/crash/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == 500 and "logged" in body["error"] and CRASH not in body["error"]
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Internal Server Error: /v1/minimax/crash/"
    assert "Traceback (most recent call last)" in caplog.text and CRASH in caplog.text


def test_the_500_page_reads_nothing_from_the_database(cast, rf, django_assert_num_queries):
    from studio.views import server_error

    request = rf.get("/")
    request.user = cast.bob  # what the header would show, if the handler rendered it
    with django_assert_num_queries(0):
        response = server_error(request)
    _assert_error_page(response, 500, "Something went wrong on our side")
    assert "bob" not in response.content.decode()


def test_a_page_that_does_not_exist_has_the_studio_look_and_a_way_back(cast):
    response = client_for(cast.bob).get("/no-such-page/")
    _assert_error_page(response, 404, "There is nothing here")
    assert 'href="/team/"' in response.content.decode(), "the header's navigation is there"
    _assert_error_page(Client().get("/no-such-page/"), 404, "There is nothing here")


def test_a_page_for_admins_tells_a_member_why_not(cast):
    response = client_for(cast.bob).get("/team/accounts/")
    _assert_error_page(response, 403, "You cannot open this page")
    assert "Only team admins can do that." in response.content.decode()


def test_a_request_for_an_unknown_host_gets_the_styled_400_page(cast):
    response = Client().get("/login/", HTTP_HOST="studio.evil.example")
    _assert_error_page(response, 400, "The studio could not read that request")


def test_an_expired_form_says_so_and_how_to_recover(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.bob)
    client.get("/")  # sets the CSRF cookie
    response = client.post("/logout/", {"csrfmiddlewaretoken": "x" * 64})
    _assert_error_page(response, 403, "This form has expired")
    assert "reload the page and send it again" in response.content.decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _gunicorn(stderr_path, **env: str):
    """The web server as runstudio and the README start it: gunicorn, its error log on stderr."""
    port = _free_port()
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "studio.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--access-logfile", "-"],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings_errors", **env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def listening():
        # Not an HTTP request: with nothing collected, every page but the 500 fails and logs.
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    try:
        wait_for(listening, timeout=60, what="gunicorn")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


# Production sits behind a TLS proxy; without this header the studio redirects to https.
HTTPS = {"X-Forwarded-Proto": "https", "Host": "studio.example.com"}


@pytest.mark.slow
def test_in_production_a_crash_with_the_database_down_still_gets_its_page_and_a_traceback(
    tmp_path,
):
    stderr = tmp_path / "stderr.log"
    env = {
        **PROD_ENV,
        "DATABASE_URL": f"sqlite:///{tmp_path}/missing/studio.sqlite3",  # cannot be opened
        "STATIC_ROOT": str(tmp_path / "never-collected"),
    }
    with _gunicorn(stderr, **env) as base:
        crashed = requests.get(f"{base}/crash/", headers=HTTPS, timeout=10)
        database = requests.get(f"{base}/crash-in-the-database/", headers=HTTPS, timeout=10)
    for response in (crashed, database):
        assert response.status_code == 500
        assert "Something went wrong on our side" in response.text
        assert 'href="/static/studio.css"' in response.text  # unhashed: nothing was collected
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    _, crash, database = stderr.read_text().split("ERROR django.request: Internal Server Error: ")
    assert crash.startswith("/crash/\nTraceback (most recent call last):")
    assert "in crash\n    raise RuntimeError(CRASH)" in crash
    assert f"RuntimeError: {CRASH}\n" in crash
    assert database.startswith("/crash-in-the-database/\nTraceback (most recent call last):")
    assert "OperationalError: unable to open database file\n" in database


@pytest.mark.slow
def test_a_failing_task_logs_its_traceback_to_the_workers_stderr(transactional_db, media_root):
    from django_q.tasks import async_task

    stderr_path = media_root.parent / "worker-stderr.log"
    worker = Worker(media_root)
    with stderr_path.open("w") as stderr:
        worker.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=worker.env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        async_task("tests.urls_errors.failing_task")
        log = wait_for(
            lambda: "Traceback" in stderr_path.read_text() and stderr_path.read_text(),
            timeout=60,
            what="the failed task in the worker's stderr",
        )
    finally:
        worker.stop()
    assert "ERROR django-q: Failed 'tests.urls_errors.failing_task'" in log
    assert f"RuntimeError: {CRASH}" in log


@pytest.mark.parametrize("admins, handlers", [("", []), ("ops@example.com", ["AdminEmailHandler"])])
def test_errors_are_mailed_only_when_admins_are_set(admins, handlers):
    show = (
        "import logging; print([type(h).__name__ for h in logging.getLogger('django').handlers],"
        " [type(h).__name__ for h in logging.getLogger().handlers])"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show],
        cwd=ROOT,
        env={**os.environ, "ADMINS": admins},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == f"{handlers} ['StreamHandler']"
