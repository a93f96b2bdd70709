"""A scratch database for a bench script: a SQLite file in var/ unless DATABASE_URL names
PostgreSQL, whose database is created afresh and dropped at the end.

Import it before Django: it sets the environment the settings read."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from studio.embedded import fresh_secrets_setdefault  # noqa: E402


def scratch_environment(name: str, *, hosts: str = "testserver") -> Path:
    """Points the settings at a scratch database (var/<name>.sqlite3 by default) with secrets
    of its own (`./run` keeps the checkout's in var/); returns the SQLite file it would use."""
    sqlite = ROOT / "var" / f"{name}.sqlite3"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{sqlite}")
    if os.environ["DATABASE_URL"].startswith("sqlite:///"):  # a scratch file of one's own
        sqlite = Path(os.environ["DATABASE_URL"].removeprefix("sqlite:///"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    fresh_secrets_setdefault()
    os.environ["ALLOWED_HOSTS"] = hosts
    return sqlite


def scratch_database(sqlite: Path, *, create: bool) -> None:
    """Creates the scratch database empty (create=True) or removes it (create=False)."""
    sqlite.unlink(missing_ok=True)
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def migrated_team(sqlite: Path):
    """A fresh scratch database, migrated, with a team "Bench" administered by alice: the
    start of every bench that measures pages. Returns (alice, team)."""
    scratch_database(sqlite, create=True)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    from tests.factories import make_team, make_user

    setup_test_environment()
    call_command("migrate", verbosity=0)
    alice = make_user("alice")
    return alice, make_team("Bench", admin=alice)
