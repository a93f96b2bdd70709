"""System checks for what `check --deploy` cannot see in the settings alone.

The encryption-key and static-file checks are deployment checks: `manage.py check --deploy` runs
them (and fails on their errors); `migrate`, `collectstatic` and `runserver` do not, so neither
blocks the step that fixes it. The worker-count check runs with every command, as a warning.
"""

import json
import os

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.checks import Error, Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS, DatabaseError
from django.db.models import TextField
from django.db.models.functions import Cast

from studio.lib.fields import EncryptedTextField, fernet

ROTATE_HINT = (
    "Put back the key these values were written with. To rotate keys, put the new key first "
    "and keep the old ones after it: FIELD_ENCRYPTION_KEYS=new-key,old-key."
)


@register(Tags.database, deploy=True)
def encryption_keys_decrypt_stored_values(app_configs=None, databases=None, **kwargs):
    """A key missing from FIELD_ENCRYPTION_KEYS passes every other check, and then every page
    that loads a team or an account answers 500."""
    issues = []
    for alias in databases or [DEFAULT_DB_ALIAS]:
        try:
            unreadable, stored = _undecryptable(alias)
        except DatabaseError as exc:
            issues.append(
                Warning(
                    "Could not check that FIELD_ENCRYPTION_KEYS decrypts the stored "
                    f"credentials: the database {alias!r} answered: {exc}".strip(),
                    hint="Check DATABASE_URL, and run `manage.py migrate`.",
                    id="studio.W001",
                )
            )
            continue
        if unreadable:
            where = ", ".join(f"{label} ({count})" for label, count in unreadable.items())
            issues.append(
                Error(
                    f"{sum(unreadable.values())} of {stored} encrypted values in the database "
                    f"{alias!r} cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS: "
                    f"{where}.",
                    hint=ROTATE_HINT,
                    id="studio.E001",
                )
            )
    return issues


def _undecryptable(alias: str) -> tuple[dict[str, int], int]:
    """Counts, per encrypted field, the stored tokens no configured key opens."""
    unreadable: dict[str, int] = {}
    stored = 0
    keys = fernet()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, EncryptedTextField):
                continue
            # Cast to plain text reads the token as stored; the field itself would decrypt it.
            tokens = (
                model._default_manager.using(alias)
                .exclude(**{field.attname: ""})
                .annotate(token=Cast(field.attname, output_field=TextField()))
                .values_list("token", flat=True)
            )
            for token in tokens.iterator():
                stored += 1
                try:
                    keys.decrypt(token.encode())
                except InvalidToken:
                    label = f"{model._meta.label}.{field.name}"
                    unreadable[label] = unreadable.get(label, 0) + 1
    return unreadable, stored


@register(Tags.staticfiles, deploy=True)
def static_files_are_collected(app_configs=None, **kwargs):
    """In production the pages link the hashed names collectstatic records in its manifest;
    without it the sign-in page answers 500."""
    if not settings.PRODUCTION:
        return []
    hint = "Run `manage.py collectstatic --noinput` with the production settings on each deploy."
    manifest_name = getattr(staticfiles_storage, "manifest_name", None)
    if manifest_name is None:
        return []
    manifest_storage = staticfiles_storage.manifest_storage
    if not manifest_storage.exists(manifest_name):
        return [
            Error(
                f"DJANGO_ENV=prod and STATIC_ROOT ({settings.STATIC_ROOT}) holds no "
                f"{manifest_name}: the static files were not collected.",
                hint=hint,
                id="studio.E002",
            )
        ]
    with manifest_storage.open(manifest_name) as fh:
        collected = json.load(fh).get("paths", {})
    missing = sorted(
        path
        for finder in get_finders()
        for path, _ in finder.list(apps.get_app_config("staticfiles").ignore_patterns)
        if path not in collected
    )
    if missing:
        return [
            Error(
                "Static files are missing from the manifest of the last collectstatic in "
                f"STATIC_ROOT ({settings.STATIC_ROOT}): {', '.join(missing[:5])}"
                f"{f' and {len(missing) - 5} more' if len(missing) > 5 else ''}.",
                hint=hint,
                id="studio.E003",
            )
        ]
    return []


@register(Tags.database)
def remote_accounts_have_a_spare_worker(app_configs=None, databases=None, **kwargs):
    """Remote accounts need two django-q workers: the scheduler loop (videos/scheduler/loop.py)
    is one task that holds its worker for up to SCHEDULER_RUN_SECONDS at a time, sending,
    polling and downloading on its own threads. With one worker everything else (local renders,
    the dispatch pass, callback deliveries) queues behind it until it hands over, and polling
    stops while a render holds that worker. Nothing is lost, so a warning: an error would stop
    `runstudio` and `qcluster` for a set-up that works, only slowly."""
    workers = settings.Q_CLUSTER.get("workers") or os.cpu_count() or 1
    if workers >= 2:
        return []
    account_model = apps.get_model("videos", "ProviderAccount")
    try:
        remote = account_model.objects.exclude(kind=account_model.Kind.LOCAL).count()
    except DatabaseError:
        return []  # not migrated or unreachable: studio.W001 says so under --deploy
    if not remote:
        return []
    return [
        Warning(
            f"The task cluster has {workers} worker (Q_WORKERS) and there "
            f"{'is 1 remote account' if remote == 1 else f'are {remote} remote accounts'} "
            "(MiniMax, useapi.net): the scheduler loop holds that worker for up to "
            "SCHEDULER_RUN_SECONDS at a time, so local renders, dispatch and callback "
            "deliveries wait behind it, and remote videos are not polled while a local "
            "render runs.",
            hint="Set Q_WORKERS to 2 or more (the default is 3).",
            id="studio.W002",
        )
    ]
