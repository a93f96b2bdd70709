"""Settings, the first-run commands, and the studio's own process runner."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import call_command

from studio.teams.models import Team
from tests.conftest import ROOT, test_database_url, wait_for

User = get_user_model()


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PROD = {
    "DJANGO_ENV": "prod",
    "SECRET_KEY": "k" + Fernet.generate_key().decode() + "-production-grade-secret-key-1234",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "studio.example.com",
}


def test_production_settings_pass_the_deploy_checklist(db, collected_static):
    # The studio's own deployment checks read the database and STATIC_ROOT (tests/test_checks.py).
    env = {**PROD, "DATABASE_URL": test_database_url(), "STATIC_ROOT": str(collected_static)}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_its_secrets():
    env = {**PROD, "SECRET_KEY": "", "FIELD_ENCRYPTION_KEYS": ""}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "needs SECRET_KEY and FIELD_ENCRYPTION_KEYS" in result.stderr


def _embedded(tmp_path: Path) -> dict[str, str]:
    """A checkout's environment with nothing set: the secrets must come from its data dir."""
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    return {
        **env,
        "STUDIO_DATA_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path}/studio.sqlite3",
    }


def test_loading_the_settings_writes_nothing_and_names_the_fix(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_embedded(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "No SECRET_KEY and FIELD_ENCRYPTION_KEYS" in result.stderr
    assert "python -m studio.embedded" in result.stderr
    assert not (tmp_path / "var").exists()


def test_the_first_run_step_generates_the_embedded_secrets_once(tmp_path):
    env = _embedded(tmp_path)

    def first_run_step():
        step = [sys.executable, "-m", "studio.embedded"]
        subprocess.run(step, cwd=ROOT, env=env, check=True, timeout=60)
        return tmp_path / "var" / "secrets.json"

    secrets_file = first_run_step()
    generated = secrets_file.read_text()
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    assert set(json.loads(generated)) == {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS"}
    assert first_run_step().read_text() == generated, "kept, never replaced"
    env_run = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert env_run.returncode == 0, env_run.stderr


def test_a_bad_boolean_setting_is_a_clear_error():
    result = _manage("check", DEBUG="maybe")
    assert "DEBUG must be True or False" in result.stderr


def test_a_bad_studio_knob_stops_every_command_naming_it():
    result = _manage("check", POLL_SECONDS="soon")
    assert result.returncode == 1
    assert "POLL_SECONDS must be a number, not 'soon'" in result.stderr


def test_bootstrap_prints_the_generated_password_once_in_a_frame(db, capsys):
    call_command("bootstrap", url="http://127.0.0.1:9000/")
    first = capsys.readouterr().out
    lines = first.strip().splitlines()
    assert lines[0] == lines[-1] and set(lines[0]) == {"+", "-"}, "framed"
    assert all(line.startswith("|") and line.endswith("|") for line in lines[1:-1])
    assert len({len(line) for line in lines}) == 1, "a square frame"
    assert "The studio is ready: http://127.0.0.1:9000/" in first
    username, password = (lines[n].strip("| ").split() for n in (3, 4))
    assert username == ["username", "admin"] and password[0] == "password"
    assert "manage.py changepassword admin" in first and "'My team'" in first
    assert User.objects.get(username="admin").check_password(password[1])
    assert Team.objects.get().name == "My team"
    call_command("bootstrap")
    assert capsys.readouterr().out == ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_runstudio_serves_pages_and_stops_both_processes_on_ctrl_c(transactional_db, media_root):
    from django.conf import settings

    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "MEDIA_ROOT": str(media_root),
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "PORT": str(port),
        "WEB_WORKERS": "1",
        "WORKER_STATE_DIR": str(media_root.parent / "workers"),
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runstudio"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def login_page():
            try:
                return requests.get(f"{base}/login/", timeout=2)
            except (requests.ConnectionError, requests.Timeout):
                return None  # not listening yet, or still loading the app (slow on a busy host)

        page = wait_for(login_page, timeout=60, what="the web server")
        assert page.status_code == 200 and "Sign in to Studio" in page.text
        css = requests.get(f"{base}/static/studio.css", timeout=5)
        assert css.status_code == 200 and "--accent" in css.text
        children = subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True
        ).stdout.split()
        commands = sorted(Path(f"/proc/{pid}/cmdline").read_text() for pid in children)
        assert len(children) == 3, "a web server, a task cluster and the supervisor's watchdog"
        assert ["gunicorn" in c for c in commands].count(True) == 1
        assert ["qcluster" in c for c in commands].count(True) == 1
        assert ["videos.watchdog" in c for c in commands].count(True) == 1
    finally:
        # Ctrl-C in a terminal signals the whole foreground process group.
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
    for child in children:
        # Each child leads a process group; none of its processes may outlive the stop.
        left = subprocess.run(["pgrep", "-g", child], capture_output=True, text=True).stdout
        assert left == "", f"processes {left.split()} of group {child} outlived Ctrl-C"
