"""Loaded by pytest before Django reads its settings (pyproject.toml: `-p tests.environment`).

A test run needs no `./run` first and leaves nothing in the checkout: it gets secrets of its own
(fresh each run; the test database is fresh too, so nothing encrypted outlives them) and a data
directory under the system temp directory for the SQLite test database and STATIC_ROOT. Both
are environment variables, so the manage.py, worker and server processes tests start inherit
them. Values already in the environment win.
"""

import os
import shutil
import tempfile
from pathlib import Path

from studio.embedded import fresh_secrets_setdefault

_data_dir = Path(tempfile.mkdtemp(prefix="studio-tests-"))
os.environ.setdefault("STUDIO_DATA_DIR", str(_data_dir))
os.environ.setdefault("STATIC_ROOT", str(_data_dir / "static"))
Path(os.environ["STATIC_ROOT"]).mkdir(parents=True, exist_ok=True)
fresh_secrets_setdefault()


def pytest_unconfigure(config):
    shutil.rmtree(_data_dir, ignore_errors=True)
