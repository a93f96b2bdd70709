"""Settings for the studio: Django's, and the deployment's.

Everything a deployment changes comes from environment variables (see README, "Configuration").
With none set, the studio runs embedded: SQLite, django-q2's ORM broker, media on local disk, and
secrets that `./run` generated into var/secrets.json (ignored by git, never a fixed value).
Loading this module writes nothing. The studio's own knobs are in studio/conf.py.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dj_database_url
import dj_email_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from studio.embedded import HOW_TO_FIX, local_secrets_read, secrets_path
from studio.env import (
    BASE_DIR,
    data_dir,
    env_bool,
    env_float,
    env_int,
    env_secret,
    env_str,
    production,
    static_root,
)

DJANGO_ENV = env_str("DJANGO_ENV", "dev")
PRODUCTION = production()
DATA_DIR = data_dir()

SECRET_KEY = env_secret("SECRET_KEY")
# /metrics answers only a scraper that sends this as a Bearer token; unset, it is off (404).
METRICS_TOKEN = env_secret("METRICS_TOKEN")
FIELD_ENCRYPTION_KEYS = [k for k in env_secret("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()]
if not SECRET_KEY or not FIELD_ENCRYPTION_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "DJANGO_ENV=prod needs SECRET_KEY and FIELD_ENCRYPTION_KEYS (or their *_FILE variants)."
        )
    _generated = local_secrets_read()
    if _generated is None:
        raise ImproperlyConfigured(
            "No SECRET_KEY and FIELD_ENCRYPTION_KEYS. " + HOW_TO_FIX.format(path=secrets_path())
        )
    SECRET_KEY = SECRET_KEY or _generated["SECRET_KEY"]
    FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [_generated["FIELD_ENCRYPTION_KEYS"]]
for _position, _key in enumerate(FIELD_ENCRYPTION_KEYS, start=1):
    # A malformed key would only fail at the first credential read, as a 500 on a team page.
    try:
        Fernet(_key.strip().encode())
    except ValueError:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEYS: key {_position} is not a Fernet key (32 url-safe "
            "base64-encoded bytes). Make one with: python -c 'from cryptography.fernet import "
            "Fernet; print(Fernet.generate_key().decode())'"
        ) from None

DEBUG = env_bool("DEBUG", "False")
ALLOWED_HOSTS = [
    h.strip() for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # the widget templates FORM_RENDERER (TemplatesSetting) renders
    "django_htmx",
    "template_partials",
    "django_q",
    "csp",
    "axes",
    "studio.teams",
    "videos",
    "studio.api",
    "studio.webhooks",
    "studio.ops",
    "studio",
]

MIDDLEWARE = [
    # First: a load balancer's probe needs no host check, HTTPS redirect, session or sign-in.
    "studio.ops.middleware.HealthzMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before the session is looked up: a NUL in its cookie would fail the query on PostgreSQL.
    "studio.middleware.TextGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: it turns a sign-in that axes refused into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.teams.context_processors.team",
            ],
        },
    },
]

# Database: DATABASE_URL switches to PostgreSQL (postgres://user:pass@host:5432/name).
# In production a connection outlives its request (60 s): opening one to PostgreSQL cost 12 ms,
# as much as a whole API read (bench/load.py). The health check replaces one the database
# dropped (a restart, a failover) before a request uses it, instead of failing that request.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'studio.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60 if PRODUCTION else 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take SQLite's write lock at BEGIN, so the web server and the worker
    # queue behind each other (up to `timeout`) instead of failing with "database is locked" when
    # a read lock cannot be upgraded; WAL lets readers carry on while one of them writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not :memory:, so worker processes started by the tests share the test database;
    # one per test run, so two runs side by side do not delete each other's tables.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Forms render through templates/forms/ (studio/lib/forms.py says how).
FORM_RENDERER = "studio.lib.forms.FormRenderer"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Axes refuses a locked-out sign-in before any password is checked; the model backend does the
# checking. The standalone backend has no get_user, so sessions record the model backend.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "gallery"
LOGOUT_REDIRECT_URL = "login"

# Sign-in protection (django-axes; videos/signin.py). Failed sign-ins are counted per username
# and, separately, per client address. Once either has SIGNIN_FAILURE_LIMIT failures within
# SIGNIN_COOLOFF_MINUTES, signing in as that username, or from that address, pauses until that
# long after its last failure; tries during the pause are refused without being counted, so the
# pause ends when the sign-in page says. `manage.py axes_reset_username NAME` lifts one.
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5)
_cooloff_minutes = env_int("SIGNIN_COOLOFF_MINUTES", 15)
if AXES_FAILURE_LIMIT < 1 or _cooloff_minutes < 1:
    raise ImproperlyConfigured("SIGNIN_FAILURE_LIMIT and SIGNIN_COOLOFF_MINUTES must be 1 or more.")
AXES_COOLOFF_TIME = timedelta(minutes=_cooloff_minutes)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success forgives that username's failures from that address only (videos/signin.py). Axes'
# own reset would forgive every failure from the address too, so anyone with an account could
# guess other people's passwords for ever by signing in between guesses.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "studio.teams.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "studio.teams.signin.client_ip"


# Email, for password reset links. EMAIL_URL says how mail leaves: console:// (the default:
# printed on the web server's output), smtp://user:password@host:587?tls=1 (STARTTLS),
# smtp://user:password@host:465?ssl=1, or memory:// (kept in the process; tests).
_EMAIL_OPTIONS = ("tls", "ssl", "timeout")
_EMAIL_SCHEMES = ("console", "smtp", "memory")


def _email_config(url: str) -> dict:
    """dj-email-url's reading of EMAIL_URL, after refusing what it would silently ignore (an
    unknown scheme, a misspelt option: `tsl=1` would send the password in the clear)."""
    scheme = url.partition("://")[0]
    if scheme not in _EMAIL_SCHEMES or "://" not in url:
        raise ImproperlyConfigured(
            f"EMAIL_URL must start with {', '.join(s + '://' for s in _EMAIL_SCHEMES)}"
        )
    options = parse_qs(urlsplit(url).query, keep_blank_values=True)
    for option, values in options.items():
        if option not in _EMAIL_OPTIONS:
            raise ImproperlyConfigured(
                f"EMAIL_URL: unknown option {option!r}; use tls=1, ssl=1 or timeout=SECONDS"
            )
        if option in ("tls", "ssl") and values[-1] not in ("1", "0", "true", "false"):
            raise ImproperlyConfigured(f"EMAIL_URL: {option} must be 1 or 0, not {values[-1]!r}")
    if all(options.get(flag, ["0"])[-1] in ("1", "true") for flag in ("tls", "ssl")):
        raise ImproperlyConfigured("EMAIL_URL: choose tls=1 (STARTTLS) or ssl=1, not both")
    try:
        config = dj_email_url.parse(url)
    except ValueError as exc:  # a port or timeout that is not a number
        raise ImproperlyConfigured(f"EMAIL_URL is not a valid mail URL: {exc}") from None
    return config


_email = _email_config(env_secret("EMAIL_URL") or "console://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
# Django would wait for ever: a stuck mail server would hold a web worker per reset request.
EMAIL_TIMEOUT = _email["EMAIL_TIMEOUT"] or 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "studio@localhost")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = static_root()
# Outside production whitenoise serves straight from static/, so the quick start needs no
# collectstatic step; production serves the hashed, compressed copies collectstatic makes.
# (whitenoise warns when STATIC_ROOT is missing: `python -m studio.embedded` makes it.)
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media/"


# Storage: S3_BUCKET switches uploads and results to S3-compatible storage (AWS, MinIO, R2, ...).
def default_storage_from_env(media_root: Path) -> dict:
    """The default storage the S3_* variables ask for (a function so the tests build theirs,
    against a real S3 server on loopback, from exactly this)."""
    bucket = env_str("S3_BUCKET")
    if not bucket:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media_root), "base_url": MEDIA_URL},
        }
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_secret("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_secret("S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("S3_PREFIX", "studio"),
            "default_acl": None,
            "file_overwrite": False,
            # Private objects: the studio hands out short-lived signed links only after its own
            # team check.
            "querystring_auth": True,
            "querystring_expire": env_int("S3_URL_EXPIRY", 3600),
            # Signature V4: botocore signs links to a custom endpoint with V2 otherwise, which
            # AWS regions since 2014, R2 and recent MinIO refuse (found by tests/test_storage_s3).
            "signature_version": "s3v4",
        },
    }


S3_BUCKET = env_str("S3_BUCKET")
_default_storage = default_storage_from_env(MEDIA_ROOT)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Upload limits (a prompt image has its own, conf.MAX_IMAGE_BYTES): the body cap leaves room for
# the form fields around a file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 4

# django-q2 with its ORM broker: tasks live in the same database as the videos, so enqueueing
# commits or rolls back with the request, and a task that was taken but never acknowledged
# (its worker was killed) becomes visible again after `retry` seconds. Retries of our own work
# are decided by the service layer (see videos.scheduler), hence max_attempts=1.
# With remote accounts one worker runs the scheduler loop, so keep at least 2 (studio.W002).
Q_CLUSTER = {
    "name": "studio",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 3),
    "queue_limit": env_int("Q_WORKERS", 3),
    "timeout": env_int("Q_TIMEOUT", 300),
    "retry": env_int("Q_TIMEOUT", 300) + 60,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 100,
    "poll": env_float("Q_POLL_SECONDS", 0.2),
    "guard_cycle": 1,
    "label": "Task queue",
    # The sentinel saves its status (internal queue size, worker pids) here every guard cycle,
    # and the workers record what they are doing: a per-host file cache, read by the supervisor
    # and `manage.py worker_liveness` (see videos/workers.py).
    "cache": "workers",
    # The ORM broker, plus a record of which rows this host's pusher leased, so the leases of a
    # cluster that was killed are released at once instead of after `retry` seconds.
    "broker_class": "videos.broker.LeaseRecordingORM",
}

# Per host (never shared between hosts): the workers' state for the stuck-cluster check.
WORKER_STATE_DIR = Path(env_str("WORKER_STATE_DIR", str(DATA_DIR / "workers")))
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "workers": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(WORKER_STATE_DIR),
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 10000},
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", "True")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "True")
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", "False")
    if not SECURE_HSTS_PRELOAD:
        # Joining the browsers' preload list is hard to undo; that is the operator's call, so
        # its absence is not a warning here.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]


def _storage_origins() -> list[str]:
    """Where the signed links to stored files point: the gallery's posters, videos and first
    frames redirect there when S3_BUCKET is set. botocore puts the bucket in the host name
    unless it has dots (TLS wildcards do not cover those), or uses the endpoint's own host."""
    if not S3_BUCKET:
        return []
    endpoint = urlsplit(env_str("S3_ENDPOINT_URL"))
    if endpoint.netloc:
        # Path-style (most S3-compatible stores) or virtual-hosted, whichever the store uses.
        return [
            f"{endpoint.scheme}://{endpoint.netloc}",
            f"{endpoint.scheme}://*.{endpoint.netloc}",
        ]
    region = env_str("S3_REGION")
    hosts = ["s3.amazonaws.com"] + ([f"s3.{region}.amazonaws.com"] if region else [])
    if "." in S3_BUCKET:
        return [f"https://{host}" for host in hosts]
    return [f"https://{S3_BUCKET}.{host}" for host in hosts]


# Content-Security-Policy (django-csp), enforced: scripts and styles come only from the studio's
# own static files, so no inline script, handler (onclick=...) or style attribute runs even if
# one were injected. blob: is the first-frame preview the composer makes from the chosen file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "blob:", *_storage_origins()],
        "media-src": ["'self'", *_storage_origins()],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Every unhandled exception (django.request logs each 500 with its traceback), Django's security
# warnings and the studio's own messages go to stderr in every environment. Django's default
# sends them only to mail_admins once DEBUG is off, which without ADMINS is nowhere.
ADMINS = [("", address.strip()) for address in env_str("ADMINS").split(",") if address.strip()]
SERVER_EMAIL = DEFAULT_FROM_EMAIL  # the sender of that mail, one the mail server accepts
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},  # stderr
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # django.server (runserver's access log) and django.request propagate here.
        "django": {
            "handlers": ["mail_admins"] if ADMINS else [],
            "level": "INFO",
        },
        "videos": {"level": env_str("LOG_LEVEL", "INFO")},
        # django-q2 logs as "django-q"; a failed task is an ERROR carrying its traceback.
        "django-q": {"level": "WARNING"},
    },
}
