"""Django settings, read from the environment and validated at start (healthchecks ``hc/settings.py`` style).

Every knob is an environment variable with a safe default, except ``SECRET_KEY``: without
``DEBUG`` the app refuses to start unless it is set (``scripts/run.sh`` generates one under ``var/``).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    return os.getenv(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: str) -> int:
    return int(os.getenv(name, default))


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "False")
SECRET_KEY = os.getenv("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (scripts/run.sh makes one)")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
# Websocket Origins accepted besides the site's own (scheme, host and port must all match).
WEBSOCKET_ALLOWED_ORIGINS = envlist("WEBSOCKET_ALLOWED_ORIGINS", ",".join(CSRF_TRUSTED_ORIGINS))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "webapp.accounts",
    "webapp.datasets",
    "webapp.searches",
    "webapp.api",
    "webapp.outbox",
    "webapp.idempotency",
    "webapp.workers",
]
# The pages/designer apps are written beside this file; register them once they exist.
for _app in ("pages", "designer"):
    if (BASE_DIR / "webapp" / _app / "__init__.py").exists():
        INSTALLED_APPS.append(f"webapp.{_app}")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.urls"
ASGI_APPLICATION = "webapp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "webapp.accounts.views.signup_open",
            ],
        },
    },
]

# -- database -------------------------------------------------------------------------------
VAR_DIR = Path(os.getenv("VAR_DIR", str(BASE_DIR / "var")))
DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not str(
        DATABASES["default"]["NAME"]).startswith((":memory:", "file:")):
    # The worker writes events while the web server reads them: WAL lets readers and one writer
    # work at once; IMMEDIATE transactions plus a busy timeout queue writers instead of failing
    # with "database is locked".
    _db = Path(DATABASES["default"]["NAME"])
    _db.parent.mkdir(parents=True, exist_ok=True)
    # Owner-only: SQLite gives the -wal/-shm files the database file's permissions.
    os.close(os.open(_db, os.O_CREAT | os.O_RDWR, 0o600))
    for _path in (_db, _db.with_name(_db.name + "-wal"), _db.with_name(_db.name + "-shm")):
        if _path.exists() and _path.stat().st_mode & 0o077:
            _path.chmod(0o600)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Sign-in: failures counted per user name and per client IP in the shared cache, checked before
# the password hash (webapp/accounts/throttle.py); SIGNUP_OPEN=0 closes self-service sign-up.
AUTHENTICATION_BACKENDS = ["webapp.accounts.backends.ThrottledModelBackend"]
LOGIN_FAILURES_PER_USER = envint("LOGIN_FAILURES_PER_USER", "5")
LOGIN_FAILURES_PER_IP = envint("LOGIN_FAILURES_PER_IP", "30")
LOGIN_THROTTLE_SECONDS = envint("LOGIN_THROTTLE_SECONDS", "900")
SIGNUP_OPEN = envbool("SIGNUP_OPEN", "True")
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# -- static and media files -----------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: downloads go through views that check ownership

# Uploads: anything above 2.5 MB goes to a temporary file on disk (never into memory); the
# dataset service then moves it into place.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # JSON bodies and form fields, not files
FILE_UPLOAD_TEMP_DIR = os.getenv("FILE_UPLOAD_TEMP_DIR") or None
# The largest dataset upload, enforced while the body streams in (webapp/bodylimit.py: 413 before
# Django spools it; webapp/datasets/uploads.py where Django parses it); other bodies get REQUEST_MAX_BYTES.
DATASET_MAX_UPLOAD_BYTES = envint("DATASET_MAX_UPLOAD_BYTES",
                                  os.getenv("DATASET_MAX_BYTES", str(2 * 1024**3)))
DATASET_MAX_BYTES = DATASET_MAX_UPLOAD_BYTES  # the older name
# Checking one upload (issue 11 item 4, worker/datasets.py): a time limit per dataset, after which it
# fails with the reason and the datasets worker takes the next upload; caps on zip entries, manifest
# rows, path/label length and classes (each refused with a clear message); skipped files kept per reason
# in the health report (the rest are counted, so a 10^6-row manifest still makes a small report).
DATASET_VALIDATION_SECONDS = envint("DATASET_VALIDATION_SECONDS", "600")
DATASET_MAX_ZIP_ENTRIES = envint("DATASET_MAX_ZIP_ENTRIES", "1000000")
DATASET_MAX_MANIFEST_ROWS = envint("DATASET_MAX_MANIFEST_ROWS", "1000000")
DATASET_MAX_PATH_CHARS = envint("DATASET_MAX_PATH_CHARS", "1024")
DATASET_MAX_CLASSES = envint("DATASET_MAX_CLASSES", "10000")
DATASET_REPORT_EXAMPLES = envint("DATASET_REPORT_EXAMPLES", "20")
REQUEST_MAX_BYTES = envint("REQUEST_MAX_BYTES", str(DATA_UPLOAD_MAX_MEMORY_SIZE + 1024 * 1024))
FILE_UPLOAD_HANDLERS = [
    "webapp.datasets.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# -- Redis, Channels, Celery ----------------------------------------------------------------
REDIS_URL = os.getenv("REDIS_URL", "redis://127.0.0.1:6379/0")
# redis-py 8 defaults socket_timeout to 5 s, the same as channels-redis' blocking receive, which
# then closes idle websockets with 1011; 60 s leaves a wide margin.
_REDIS_HOST = {"address": REDIS_URL, "socket_timeout": envint("REDIS_SOCKET_TIMEOUT", "60"),
               "socket_connect_timeout": 10}
# CHANNEL_LAYER=pubsub: Redis pub/sub, one PUBLISH per event fanned out inside each web process
# (many viewers of one search are cheap; see bench/live_latency.py). "core" (default): the
# classic list-based layer, one Redis message per viewer.
CHANNEL_LAYER = os.getenv("CHANNEL_LAYER", "core")
if CHANNEL_LAYER == "pubsub":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                  "CONFIG": {"hosts": [_REDIS_HOST]}}}
elif CHANNEL_LAYER == "core":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                  "CONFIG": {"hosts": [_REDIS_HOST], "capacity": 1000, "expiry": 60}}}
else:
    raise ImproperlyConfigured(f"CHANNEL_LAYER must be core or pubsub, not {CHANNEL_LAYER!r}")
CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", REDIS_URL)
# Shared by every web process (the login throttle's counters live here).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                      "KEY_PREFIX": "nas", "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2}}}

# -- NAS --------------------------------------------------------------------------------------
NAS_DEVICE = os.getenv("NAS_DEVICE", "auto")
if NAS_DEVICE not in ("auto", "cpu", "cuda"):
    raise ImproperlyConfigured(f"NAS_DEVICE must be auto, cpu or cuda, not {NAS_DEVICE!r}")
# The NAS-Bench-201 table behind the "benchmark" evaluator (the whole CIFAR-10 column).
NB201_TABLE = Path(os.getenv("NB201_TABLE", str(BASE_DIR / "tests" / "fixtures" / "nb201_cifar10.csv")))
SEARCH_MAX_ATTEMPTS = envint("SEARCH_MAX_ATTEMPTS", "3")
SEARCH_LEASE_SECONDS = envint("SEARCH_LEASE_SECONDS", "120")
SEARCH_MAX_BUDGET_SECONDS = envint("SEARCH_MAX_BUDGET_SECONDS", str(12 * 3600))
# Fan-out of scratch children (issue 10 item 1, worker/executor.py): "auto" sends a scratch search's
# children to the `children` queue when a worker named children@... answers a ping at the search's
# start (else they train in the search's own process); "on" always, "off" never. A child's worker runs
# torch with CHILD_TORCH_THREADS threads (0: torch's default; 1 when several children workers share a
# small machine: OpenMP oversubscription made steps ~70x slower on 2 cores). A child is claimed at most
# CHILD_MAX_ATTEMPTS times (a worker that died with it counts); a running child whose heartbeat is older
# than CHILD_STALE_SECONDS is sent again (its worker is gone).
CHILDREN_FANOUT = os.getenv("CHILDREN_FANOUT", "auto")
if CHILDREN_FANOUT not in ("auto", "on", "off"):
    raise ImproperlyConfigured(f"CHILDREN_FANOUT must be auto, on or off, not {CHILDREN_FANOUT!r}")
CHILD_TORCH_THREADS = envint("CHILD_TORCH_THREADS", "1")
CHILD_MAX_ATTEMPTS = envint("CHILD_MAX_ATTEMPTS", "3")
CHILD_STALE_SECONDS = envint("CHILD_STALE_SECONDS", "60")
# Durable enqueue (issue 11 item 5): each worker sends messages the broker could not take (the outbox)
# every OUTBOX_POLL_SECONDS, and tops the searches queue up to one message per queued search every
# QUEUE_RECONCILE_SECONDS (a message lost with a Redis restart without its append-only file).
OUTBOX_POLL_SECONDS = envint("OUTBOX_POLL_SECONDS", "2")
QUEUE_RECONCILE_SECONDS = envint("QUEUE_RECONCILE_SECONDS", "30")
# Device classes (issue 10 item 2, webapp/workers/services.py): the class a search gets when none is asked
# for (auto: gpu while a GPU worker is live, else cpu); each worker writes a heartbeat row every
# WORKER_BEAT_SECONDS, shown as lost after WORKER_LOST_SECONDS without one, dropped after
# WORKER_FORGET_SECONDS.
DEFAULT_DEVICE_CLASS = os.getenv("DEFAULT_DEVICE_CLASS", "auto")
if DEFAULT_DEVICE_CLASS not in ("auto", "cpu", "gpu"):
    raise ImproperlyConfigured(f"DEFAULT_DEVICE_CLASS must be auto, cpu or gpu, not {DEFAULT_DEVICE_CLASS!r}")
WORKER_BEAT_SECONDS = envint("WORKER_BEAT_SECONDS", "10")
WORKER_LOST_SECONDS = envint("WORKER_LOST_SECONDS", "45")
WORKER_FORGET_SECONDS = envint("WORKER_FORGET_SECONDS", "86400")
# Per-user limits (webapp/searches/limits.py, webapp/datasets/quota.py): searches queued + running +
# cancelling at once (a search with controls is 3), searches started per minute (429 + Retry-After),
# and the unpacked bytes of all of a user's datasets (an upload past it: 413, nothing kept).
SEARCH_MAX_ACTIVE_PER_USER = envint("SEARCH_MAX_ACTIVE_PER_USER", "6")
SEARCH_LAUNCHES_PER_MINUTE = envint("SEARCH_LAUNCHES_PER_MINUTE", "10")
DATASET_QUOTA_BYTES_PER_USER = envint("DATASET_QUOTA_BYTES_PER_USER", str(20 * 1024**3))

# -- security and logging -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# NAS_TLS=1: the site is served over HTTPS (a TLS proxy in front of uvicorn that sets
# X-Forwarded-Proto): secure cookies, HSTS, HTTP -> HTTPS redirects; passes `check --deploy`.
NAS_TLS = envbool("NAS_TLS", "False")
if NAS_TLS:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "True")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", str(365 * 24 * 3600))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "True")
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "True")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}
