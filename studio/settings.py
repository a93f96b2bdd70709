"""Settings for the studio.

Everything a deployment changes comes from environment variables (see README, "Configuration").
With none set, the studio runs embedded: SQLite, django-q2's ORM broker, media on local disk, and
secrets generated on first run into var/secrets.json (ignored by git, never a fixed value).
"""

import ipaddress
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dj_database_url
import dj_email_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: str = "False") -> bool:
    value = os.environ.get(name, default)
    if value not in ("", "True", "False", "true", "false", "1", "0"):
        raise ImproperlyConfigured(f"{name} must be True or False, not {value!r}")
    return value in ("True", "true", "1")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_secret(name: str) -> str:
    """A secret from NAME, or from the file NAME_FILE points at (Docker and systemd secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return os.environ.get(name, "")


DJANGO_ENV = env_str("DJANGO_ENV", "dev")
PRODUCTION = DJANGO_ENV == "prod"
DATA_DIR = Path(env_str("STUDIO_DATA_DIR", str(BASE_DIR / "var")))


def _local_secrets() -> dict[str, str]:
    """Keys for the embedded default, made once per checkout and kept out of the repository.

    O_EXCL makes the first writer win when the web server and the worker start together.
    """
    path = DATA_DIR / "secrets.json"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        fresh = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        }
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                json.dump(fresh, fh)
    return json.loads(path.read_text())


SECRET_KEY = env_secret("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = [k for k in env_secret("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()]
if not SECRET_KEY or not FIELD_ENCRYPTION_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "DJANGO_ENV=prod needs SECRET_KEY and FIELD_ENCRYPTION_KEYS (or their *_FILE variants)."
        )
    _generated = _local_secrets()
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
    "django_htmx",
    "template_partials",
    "django_q",
    "csp",
    "axes",
    "studio.teams",
    "videos",
    "studio.api",
    "studio.webhooks",
    "studio",
]

MIDDLEWARE = [
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
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'studio.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
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


def _networks(name: str, default: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for item in (i.strip() for i in env_str(name, default).split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an address or a network such as 10.0.0.0/8"
            ) from None
    return networks


# The reverse proxies in front of the studio. Only a request that reaches the studio from one of
# them has its X-Forwarded-For believed, and only as far back as the first address that is not
# one of them: that is the client. Anything a client writes into the header itself is ignored.
TRUSTED_PROXIES = _networks("TRUSTED_PROXIES", "127.0.0.0/8,::1")

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
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Outside production whitenoise serves straight from static/, so the quick start needs no
# collectstatic step; production serves the hashed, compressed copies collectstatic makes.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    # whitenoise warns on every request when it is missing
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media/"

# Storage: S3_BUCKET switches uploads and results to S3-compatible storage (AWS, MinIO, R2, ...).
S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
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
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Upload limits: a prompt image is at most 20 MB (MiniMax's own limit); the body cap leaves room
# for the form fields around it.
MAX_IMAGE_BYTES = 20 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 4

# django-q2 with its ORM broker: tasks live in the same database as the videos, so enqueueing
# commits or rolls back with the request, and a task that was taken but never acknowledged
# (its worker was killed) becomes visible again after `retry` seconds. Retries of our own work
# are decided by the service layer (see videos.scheduler), hence max_attempts=1.
# With remote accounts one worker runs the scheduler loop, so keep at least 2.
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
# A cluster with tasks in its internal queue and an idle worker for this long is stuck (a
# worker killed inside the queue's get() holds its lock for ever): the supervisor restarts it.
WORKER_STUCK_SECONDS = env_float("WORKER_STUCK_SECONDS", 6.0)
# How long a stopping cluster may take before its whole process group is killed.
WORKER_STOP_GRACE_SECONDS = env_float("WORKER_STOP_GRACE_SECONDS", 10.0)
# How often the supervisor takes back videos from dead workers and asks for a dispatch.
WORKER_WATCH_SECONDS = env_float("WORKER_WATCH_SECONDS", 3.0)

# The studio's own knobs.
PROMPT_MAX_CHARS = 2000
GALLERY_PAGE_SIZE = env_int("GALLERY_PAGE_SIZE", 24)
# A local render beats its heartbeat this often from a thread of its own, whatever the renderer
# is doing; one silent for STALE_AFTER_SECONDS (five beats and more) is taken back and queued
# again, without charging the video a try.
HEARTBEAT_SECONDS = env_float("HEARTBEAT_SECONDS", 2.0)
STALE_AFTER_SECONDS = env_int("STALE_AFTER_SECONDS", 12)
# A video whose worker died this many times is failed: it is what kills them (django-q2 #327).
MAX_WORKER_LOSSES = env_int("MAX_WORKER_LOSSES", 8)
# A remote create silent for this long (its worker died mid-send) is reconciled upstream.
SEND_STALE_SECONDS = env_float("SEND_STALE_SECONDS", 120.0)
MAX_VIDEO_ATTEMPTS = env_int("MAX_VIDEO_ATTEMPTS", 3)
INVITE_DAYS = env_int("INVITE_DAYS", 7)
# The local renderer takes at least this long per video, to rehearse upstream-like timings.
LOCAL_RENDER_MIN_SECONDS = env_float("LOCAL_RENDER_MIN_SECONDS", 0)

# Remote accounts (MiniMax, useapi.net). See videos/scheduler.py.
# The studio's public base URL. When set, MiniMax accounts get a callback URL under it, so
# results arrive without waiting for the next poll, and lost creates can be reconciled.
PUBLIC_URL = env_str("PUBLIC_URL").rstrip("/")
POLL_SECONDS = env_float("POLL_SECONDS", 5.0)
# When MiniMax's callbacks reach the studio, they drive progress; polls become a safety net.
POLL_SLOWDOWN_WITH_CALLBACKS = env_float("POLL_SLOWDOWN_WITH_CALLBACKS", 6.0)
# Each account's `rpm` creates are allowed per this window (MiniMax: 5 per 60 s).
RATE_WINDOW_SECONDS = env_float("RATE_WINDOW_SECONDS", 60.0)
# Used only to draw a progress bar while MiniMax, which reports no percentage, is working.
EXPECTED_UPSTREAM_SECONDS = env_float("EXPECTED_UPSTREAM_SECONDS", 150.0)
RETRY_BASE_SECONDS = env_float("RETRY_BASE_SECONDS", 10.0)
MAX_POLL_FAILURES = env_int("MAX_POLL_FAILURES", 12)
MAX_FETCH_FAILURES = env_int("MAX_FETCH_FAILURES", 5)
# A poll or download killed with its worker is taken up again after this long.
POLL_CLAIM_SECONDS = env_float("POLL_CLAIM_SECONDS", 60.0)
FETCH_CLAIM_SECONDS = env_float("FETCH_CLAIM_SECONDS", 180.0)
# A create whose answer was lost: MiniMax's challenge must have arrived within this long...
CALLBACK_GRACE_SECONDS = env_float("CALLBACK_GRACE_SECONDS", 15.0)
# ...and a status push with its task id within this long, or the video fails (not resent).
IN_DOUBT_GIVE_UP_SECONDS = env_float("IN_DOUBT_GIVE_UP_SECONDS", 600.0)
SCHEDULER_TICK_SECONDS = env_float("SCHEDULER_TICK_SECONDS", 0.05)
SCHEDULER_RUN_SECONDS = env_float("SCHEDULER_RUN_SECONDS", 120.0)
SCHEDULER_LEASE_SECONDS = env_float("SCHEDULER_LEASE_SECONDS", 10.0)
SCHEDULER_THREADS = env_int("SCHEDULER_THREADS", 8)

# The REST API under /v1/ (useapi.net's MiniMax API, served by the studio).
# Requests one token may make per window; past it the API answers 429 with Retry-After.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 120)
API_RATE_WINDOW_SECONDS = env_int("API_RATE_WINDOW_SECONDS", 60)
# Queue mode: a create is refused (429) once its author, or the team, has this many videos
# queued or running. Teams may set their own limits on the team page.
API_USER_QUEUE_LIMIT = env_int("API_USER_QUEUE_LIMIT", 50)
API_TEAM_QUEUE_LIMIT = env_int("API_TEAM_QUEUE_LIMIT", 200)
# A JSON or form body larger than this is refused (uploads have MAX_IMAGE_BYTES).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 64 * 1024)
# How long the signed videoURL / downloadURL / coverURL links in API answers work.
API_LINK_SECONDS = env_int("API_LINK_SECONDS", 24 * 3600)

# Every request to an address a user typed (account base URLs, their downloads and redirects,
# replyUrls) goes only to public addresses: loopback, private, link-local, CGNAT, multicast,
# NAT64 and cloud-metadata targets are refused unless they fall in one of these networks (CIDR,
# comma-separated). Development opens loopback, so the bundled emulator on 127.0.0.1 works out of
# the box; production opens nothing. A metadata address opens only when listed on its own
# (169.254.169.254/32), never through a wider network. WEBHOOK_ALLOWED_NETWORKS, its old name
# (which covered callbacks only), is deprecated and merged in.
OUTBOUND_ALLOWED_NETWORKS = list(
    dict.fromkeys(
        str(n)
        for name, default in (
            ("OUTBOUND_ALLOWED_NETWORKS", "" if PRODUCTION else "127.0.0.0/8,::1/128"),
            ("WEBHOOK_ALLOWED_NETWORKS", ""),
        )
        for n in _networks(name, default)
    )
)
# Plain http callbacks are fine on one machine; production wants https unless told otherwise.
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", "False" if PRODUCTION else "True")
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 15.0)
# How long to wait after each failed attempt before the next (Standard Webhooks' schedule:
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: about three days in all); a callback
# that fails once more after the last wait is given up.
WEBHOOK_RETRY_SECONDS = [
    float(s)
    for s in env_str(
        "WEBHOOK_RETRY_SECONDS", "5,300,1800,7200,18000,36000,50400,72000,86400"
    ).split(",")
    if s.strip()
]

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
