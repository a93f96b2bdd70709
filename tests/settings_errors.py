"""The studio's settings with tests/urls_errors.py, for a real server that must fail."""

from studio.settings import *  # noqa: F403

ROOT_URLCONF = "tests.urls_errors"
