"""/healthz: can this web process reach what it needs to serve a request (the database and the
file storage)? The answer names each part and whether it is ok, never a host name, a key or an
error's text (the endpoint has no authentication); the log gets the detail."""

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError
from django.core.files.storage import default_storage
from django.db import connection

log = logging.getLogger(__name__)
# A name no upload or result ever has (they are under images/, videos/, posters/ ...).
PROBE = "healthz-probe"


@dataclass(frozen=True)
class Part:
    name: str
    ok: bool
    ms: float


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _storage() -> None:
    client = getattr(getattr(default_storage, "connection", None), "meta", None)
    if client is None:
        # The local disk: MEDIA_ROOT, or the nearest folder above it on a fresh install (the
        # first upload makes it), must be one the studio can write into.
        folder = Path(default_storage.location)
        while not folder.exists():
            folder = folder.parent
        if not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
            raise PermissionError(f"cannot write into {folder}")
        return
    # S3: a GET of a key that never exists. "NoSuchKey" proves the bucket is there and the
    # studio may read it; a HEAD (storage.exists) would say 404 for a missing bucket too.
    key = "/".join(part for part in (default_storage.location, PROBE) if part)
    try:
        client.client.get_object(Bucket=default_storage.bucket_name, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchKey":
            raise


CHECKS = {"database": _database, "storage": _storage}


def health_check() -> list[Part]:
    parts = []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
            ok = True
        except Exception:  # whatever it is, this part is down; the detail is for the log
            log.exception("Health check: %s is not reachable", name)
            ok = False
        parts.append(Part(name, ok, round((time.perf_counter() - started) * 1000, 1)))
    return parts
