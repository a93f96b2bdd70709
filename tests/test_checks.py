"""The studio's deployment checks, run as an operator runs them: `manage.py check --deploy`."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core import checks

from studio.checks import remote_accounts_have_a_spare_worker
from studio.webhooks.models import SigningSecret
from tests.conftest import PROD_ENV, ROOT, test_database_url
from videos.models import ProviderAccount


def _check_deploy(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", *args],
        cwd=ROOT,
        env={**os.environ, **PROD_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def stored_secrets(transactional_db, cast):
    """A webhook secret and a MiniMax key, encrypted with this test run's key and committed,
    so the `check` process sees them."""
    SigningSecret.objects.create(team=cast.acme, secret="whsec_acme-signing-secret")
    ProviderAccount.objects.create(
        team=cast.acme, name="MiniMax", kind="minimax", credentials='{"api_key": "sk-1"}'
    )


@pytest.fixture
def prod(collected_static):
    """Production, against the test database, with the static files collected."""
    return {"DATABASE_URL": test_database_url(), "STATIC_ROOT": str(collected_static)}


def test_a_key_that_cannot_decrypt_the_stored_secrets_fails_check_deploy(stored_secrets, prod):
    result = _check_deploy(**prod, FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode())
    assert result.returncode == 1
    assert "studio.E001" in result.stderr
    assert (
        "2 of 2 encrypted values in the database 'default' cannot be decrypted with any key in "
        "FIELD_ENCRYPTION_KEYS: videos.ProviderAccount.credentials (1), "
        "webhooks.SigningSecret.secret (1)."
    ) in " ".join(result.stderr.split())
    assert "put the new key first and keep the old ones after it" in result.stderr


def test_a_rotation_that_keeps_the_old_key_second_passes(stored_secrets, prod, settings):
    keys = f"{Fernet.generate_key().decode()},{settings.FIELD_ENCRYPTION_KEYS[0]}"
    result = _check_deploy("--fail-level", "WARNING", **prod, FIELD_ENCRYPTION_KEYS=keys)
    assert result.returncode == 0, result.stderr


def test_dropping_the_old_key_while_it_still_encrypts_a_secret_fails(
    stored_secrets, prod, settings
):
    new_key = Fernet.generate_key().decode()
    # One secret re-encrypted with the new key, the other still under the old one.
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    SigningSecret.objects.filter(team__name="Acme").update(secret="whsec_rotated")
    result = _check_deploy(**prod, FIELD_ENCRYPTION_KEYS=new_key)
    assert result.returncode == 1
    assert "1 of 2 encrypted values" in result.stderr
    assert "videos.ProviderAccount.credentials (1)" in result.stderr


def test_a_malformed_key_stops_every_command_naming_the_setting():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "FIELD_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},hunter2"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "FIELD_ENCRYPTION_KEYS: key 2 is not a Fernet key" in result.stderr


@pytest.mark.parametrize(
    "database_url, answer",
    [
        pytest.param("sqlite:///{tmp}/empty.sqlite3", "no such table", id="not migrated"),
        pytest.param("postgres://studio@127.0.0.1:1/studio", "127.0.0.1", id="unreachable"),
    ],
)
def test_a_database_it_cannot_read_is_a_warning_not_a_crash(
    collected_static, tmp_path, database_url, answer
):
    env = {"DATABASE_URL": database_url.format(tmp=tmp_path), "STATIC_ROOT": str(collected_static)}
    result = _check_deploy(**env)
    assert result.returncode == 0, result.stderr
    assert "studio.W001" in result.stderr and answer in result.stderr
    assert "Could not check that FIELD_ENCRYPTION_KEYS decrypts the stored credentials" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert _check_deploy("--fail-level", "WARNING", **env).returncode == 1


def test_production_without_collectstatic_fails_check_deploy_naming_the_command(db, tmp_path):
    empty = tmp_path / "static"
    result = _check_deploy(DATABASE_URL=test_database_url(), STATIC_ROOT=str(empty))
    assert result.returncode == 1
    assert "studio.E002" in result.stderr
    assert f"STATIC_ROOT ({empty}) holds no staticfiles.json" in result.stderr
    assert "manage.py collectstatic --noinput" in result.stderr


def test_a_static_file_added_since_the_last_collectstatic_fails_check_deploy(
    db, collected_static, tmp_path
):
    stale = tmp_path / "static"
    shutil.copytree(collected_static, stale)
    manifest = json.loads((stale / "staticfiles.json").read_text())
    del manifest["paths"]["studio.js"]
    (stale / "staticfiles.json").write_text(json.dumps(manifest))
    result = _check_deploy(DATABASE_URL=test_database_url(), STATIC_ROOT=str(stale))
    assert result.returncode == 1
    assert "studio.E003" in result.stderr
    assert f"missing from the manifest of the last collectstatic in STATIC_ROOT ({stale})" in (
        result.stderr
    )
    assert "): studio.js." in result.stderr


def test_development_needs_no_collectstatic(db, tmp_path):
    result = _check_deploy(
        DJANGO_ENV="dev", DATABASE_URL=test_database_url(), STATIC_ROOT=str(tmp_path / "none")
    )
    assert result.returncode == 0, result.stderr
    assert "studio.E" not in result.stderr


def _one_worker(settings) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 1}


def test_one_worker_with_a_remote_account_is_warned_about(cast, settings):
    ProviderAccount.objects.create(team=cast.acme, name="MiniMax", kind="minimax")
    _one_worker(settings)
    [warning] = remote_accounts_have_a_spare_worker()
    assert warning.id == "studio.W002" and isinstance(warning, checks.Warning)
    assert "has 1 worker (Q_WORKERS) and there is 1 remote account" in warning.msg
    assert warning.hint == "Set Q_WORKERS to 2 or more (the default is 3)."


def test_two_workers_or_only_local_accounts_need_no_warning(cast, settings):
    ProviderAccount.objects.create(team=cast.acme, name="Local", kind="local")
    _one_worker(settings)
    assert remote_accounts_have_a_spare_worker() == [], "local renders need no loop"
    ProviderAccount.objects.create(team=cast.acme, name="useapi", kind="useapi", enabled=False)
    assert len(remote_accounts_have_a_spare_worker()) == 1, "it may be enabled at any time"
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 2}
    assert remote_accounts_have_a_spare_worker() == []


def test_every_command_warns_about_one_worker_but_still_runs(transactional_db, cast):
    ProviderAccount.objects.create(team=cast.acme, name="MiniMax", kind="minimax")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": test_database_url(), "Q_WORKERS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "studio.W002" in result.stderr


def test_a_database_not_yet_migrated_is_no_reason_to_warn(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/new.sqlite3", "Q_WORKERS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "studio.W002" not in result.stderr
