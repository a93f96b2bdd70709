"""`python -m studio.embedded`: what the embedded default needs on disk before `manage.py` runs.

`./run` runs it first. It makes the data directory (var/ unless STUDIO_DATA_DIR says otherwise),
the secrets the embedded default signs and encrypts with (var/secrets.json, mode 600, once per
checkout: never a fixed value, never in the repository) and STATIC_ROOT (whitenoise warns about
a missing one). Loading the settings only reads that file: nothing is written at import, so a
read-only deployment or a test run never leaves files behind.

It imports nothing that needs the settings, since the settings cannot load before it has run.
"""

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from studio.env import data_dir, env_secret, production, static_root

SECRETS_FILE = "secrets.json"
HOW_TO_FIX = (
    "Set SECRET_KEY and FIELD_ENCRYPTION_KEYS (or their *_FILE variants), or, for the embedded "
    "default, run `./run` or `python -m studio.embedded` once to generate them into {path}."
)


def fresh_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }


def fresh_secrets_setdefault() -> None:
    """Fresh secrets for a scratch run (the tests, a bench's own database), put in the
    environment unless set there already, so the processes it starts inherit them."""
    for name, value in fresh_secrets().items():
        os.environ.setdefault(name, value)


def secrets_path() -> Path:
    return data_dir() / SECRETS_FILE


def local_secrets_read() -> dict[str, str] | None:
    """The generated secrets, or None when `python -m studio.embedded` has not run yet."""
    try:
        return json.loads(secrets_path().read_text())
    except FileNotFoundError:
        return None


def local_secrets_ensure() -> Path:
    """Writes the secrets file unless it exists. O_EXCL makes the first writer win when two
    processes start together; the loser reads the winner's keys."""
    path = secrets_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as fh:
        json.dump(fresh_secrets(), fh)
    return path


def main() -> None:
    data_dir().mkdir(parents=True, exist_ok=True)
    if not production():
        # Production serves collectstatic's copy and must have its secrets from the environment.
        static_root().mkdir(parents=True, exist_ok=True)
        if not (env_secret("SECRET_KEY") and env_secret("FIELD_ENCRYPTION_KEYS")):
            local_secrets_ensure()


if __name__ == "__main__":
    main()
