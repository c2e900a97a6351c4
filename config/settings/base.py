"""All settings. Environment variables (config/env.py) decide production behaviour."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF

from config import env

BASE_DIR = env.BASE_DIR
DEBUG = env.DEBUG
SECRET_KEY = env.SECRET_KEY or ("insecure-dev-key-set-SECRET_KEY-in-production" if env.DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when OVERSIGHT_DEBUG is off.")
ALLOWED_HOSTS = env.ALLOWED_HOSTS
CSRF_TRUSTED_ORIGINS = env.CSRF_TRUSTED_ORIGINS

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "axes",
    "csp",
    "core",
    # The project's own apps, bottom layer first: each imports only the ones above it here (the layers
    # contract in pyproject.toml, checked by `make lint`).
    "accounts",
    "projects",
    "labeling",
    "features",
    "weak_supervision",
    "active_learning",
    "oversight",
    "imports",
    "datasets",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.csp.CSPMiddleware",  # django-csp's, with the policy built once (core/csp.py)
    # Last, as django-axes asks: it turns a locked-out login on any door into the 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                # `access`: the viewer's ProjectAccess on project pages (projects.web.project_view).
                "projects.web.access_context",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
# SQLite gets these options however it is named (DATABASE_URL=sqlite:///... or the default under var/): WAL
# lets the UI read while an import writes; IMMEDIATE takes the write lock at BEGIN, so that two writers never
# deadlock upgrading a read lock (which SQLite answers at once with "database is locked", whatever the timeout);
# the timeout lets a writer wait for the lock instead of failing.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}
if env.DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(env.DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend whose per-request health check asks the server only where it has sent something
        # (core/db_backends/postgresql/base.py): one round trip fewer per request.
        DATABASES["default"]["ENGINE"] = "core.db_backends.postgresql"
else:
    env.VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(env.VAR_DIR / "oversight.sqlite3")}
    }
# The hot path's statement cursors (core.queries.statement_cursor) bind on the server and are prepared on PostgreSQL.
OVERSIGHT_DB_PREPARED_STATEMENTS = env.DB_PREPARED_STATEMENTS
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery --------------------------------------------------------------------------------------
EMBEDDED_MODE = not env.REDIS_URL
if env.REDIS_URL:
    CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": env.REDIS_URL}}
    CELERY_BROKER_URL = env.REDIS_URL
    CELERY_RESULT_BACKEND = env.REDIS_URL
    # A task whose worker was killed is redelivered after this long; tasks are idempotent, so a task that
    # merely runs longer than this and is redelivered does the same work twice, no harm done.
    # Workers look for such tasks every `unacked_restore_interval` seconds (kombu's default would only look
    # every 10 x 10 s).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.BROKER_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": min(10, env.BROKER_VISIBILITY_TIMEOUT),
        "unacked_restore_throttle": 1,
    }
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    # Embedded mode: tasks run in-process. A process that serves requests runs them after the enqueuing
    # transaction commits on a background thread, so that the request answers at once; other processes
    # (commands, the shell), and all of them with OVERSIGHT_TASKS_INLINE, run them at the commit (core.jobs).
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
OVERSIGHT_TASKS_INLINE = env.TASKS_INLINE
OVERSIGHT_WORKER_NICE = env.WORKER_NICE
OVERSIGHT_AUTO_JOB_MAX_SHARE = env.AUTO_JOB_MAX_SHARE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves its message for another worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes every database connection before and after each task unless this is set:
# a new PostgreSQL session per task (a run of a million items opened 23). With it, a worker's connections
# live as Django's CONN_MAX_AGE says, and OversightTask drops unusable or obsolete ones around each task, as
# Django does around each request.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {  # the one place for periodic tasks (STYLE.md §6)
    # Imports whose worker died or stopped are run again, or failed with the reason.
    "import-jobs-recover": {"task": "labeling.tasks.import_jobs_recover_task", "schedule": 60.0},
    # Text search rows of projects whose newest items have none (PostgreSQL; projects.services.search).
    "item-search-sweep": {"task": "projects.tasks.item_search_sweep_task", "schedule": 300.0},
}

# --- Auth -----------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username or client address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Failed logins on every door (/accounts/login/, /admin/login/, /api/auth/token/) are counted per username and,
# separately, per client address, in the database (shared by all workers); either locks out at the limit.
AXES_FAILURE_LIMIT = env.LOGIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=env.LOGIN_LOCKOUT_MINUTES) if env.LOGIN_LOCKOUT_MINUTES else None
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"  # django-axes takes it only as a dotted path
AXES_HTTP_RESPONSE_CODE = 429
# Masked in django-axes' logs and records: axes' own (a mistyped username is often a password) and ours.
AXES_SENSITIVE_PARAMETERS = [
    "username", "ip_address", "password", "old_password", "new_password1", "new_password2", "token",
]  # fmt: skip
if env.PROXY_COUNT:
    # The client is the address the outermost of our proxies saw (django-ipware, right-most minus the proxies).
    AXES_IPWARE_PROXY_COUNT = env.PROXY_COUNT
    AXES_IPWARE_PROXY_ORDER = "right-most"
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
API_TOKEN_TTL = timedelta(days=env.API_TOKEN_TTL_DAYS)
PASSWORD_RESET_TIMEOUT = env.SET_PASSWORD_LINK_HOURS * 3600  # set-password links of new accounts

# --- HTTPS and browser security (check --deploy is clean with OVERSIGHT_HTTPS=1) ------------------------
SECURE_SSL_REDIRECT = env.SECURE_SSL_REDIRECT
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = env.SESSION_COOKIE_SECURE
CSRF_COOKIE_SECURE = env.CSRF_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.HSTS_SECONDS
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.HSTS_INCLUDE_SUBDOMAINS
SECURE_HSTS_PRELOAD = env.HSTS_PRELOAD
if env.TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# No inline script, style or event handler anywhere: pages load only this site's static files (django-csp).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:project-list"
LOGOUT_REDIRECT_URL = "login"

# --- I18N, static, media --------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.STATIC_ROOT
MEDIA_ROOT = env.MEDIA_ROOT
MEDIA_URL = "media/"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if env.S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.S3_BUCKET,
            "endpoint_url": env.S3_ENDPOINT_URL or None,
            "region_name": env.S3_REGION or None,
            "access_key": env.S3_ACCESS_KEY_ID or None,
            "secret_key": env.S3_SECRET_ACCESS_KEY or None,
            "location": env.S3_PREFIX,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
WHITENOISE_USE_FINDERS = True
# Uploads beyond 2.5 MB stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- REST framework -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: unauthenticated API calls get 401 with a WWW-Authenticate challenge. On a project's
        # URL it reads the caller's membership in the same statement (one round trip fewer per request).
        "projects.authentication.ProjectApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "core.api.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    # django-filter's, with unknown filters answered 400
    "DEFAULT_FILTER_BACKENDS": ["core.api.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handlers.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Oversight API",
    "DESCRIPTION": "Data labeling and scalable oversight: projects, items, imports, labeling, weak supervision.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ImportFormatEnum": "projects.choices.ImportFormat",
        "DeclarativeKindEnum": "weak_supervision.api.serializers.DECLARATIVE_CHOICES",
        "LabelingFunctionKindEnum": "weak_supervision.choices.LabelingFunctionKind",
        "SnapshotStatusEnum": "datasets.choices.SnapshotStatus",
        # Imports, runs and simulations share one set of states; snapshot schedules say what started them.
        "JobStatusEnum": "projects.choices.ImportStatus",
        "ScheduleTriggerEnum": "datasets.choices.Trigger",
        # What started a truth-inference run or a label-error scan.
        "JobTriggerEnum": "oversight.choices.JobTrigger",
        # A project's kind (single, multi, spans); a label change's action.
        "ProjectKindEnum": "projects.choices.ProjectKind",
        "LabelChangeActionEnum": "projects.choices.LabelChangeAction",
    },
}

# --- Logging --------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Oversight ------------------------------------------------------------------------------------------
# Python LFs run under bubblewrap and seccomp (weak_supervision/isolation.py); where that cannot be had, they
# are refused with the reason (also on /healthz), never run unisolated.
SANDBOX_BWRAP = env.SANDBOX_BWRAP
ENCODER_CACHE_DIR = env.ENCODER_CACHE_DIR
SANDBOX_ROOT_DIR = env.SANDBOX_ROOT_DIR
# Rows parsed, validated and written per batch during an import: ~5k rows keep a batch under ~10 MB of
# Python objects while amortising one COPY/INSERT round trip.
IMPORT_BATCH_SIZE = 5000
# Hostile files are refused before they cost memory or time (imports/parsing): an upload larger than this
# is answered 413; JSON nested deeper than this is refused; a line of CSV or JSONL longer than this is refused.
IMPORT_MAX_UPLOAD_BYTES = env.IMPORT_MAX_UPLOAD_BYTES
IMPORT_JSON_MAX_DEPTH = 64
IMPORT_MAX_LINE_BYTES = 16 * 1024 * 1024
# A WRENCH .zip is measured before anything is extracted: entries, their total uncompressed size, and the
# ratio of that size to the archive's compressed bytes (a 1 MB zip of 1 GiB is refused before it is opened).
IMPORT_ZIP_MAX_ENTRIES = 1000
IMPORT_ZIP_MAX_BYTES = env.IMPORT_ZIP_MAX_BYTES
IMPORT_ZIP_MAX_RATIO = 100
# A Parquet row group is decoded whole (about 1.7 times its size at peak): one larger than this (uncompressed,
# from the file's footer) is refused, which keeps a Parquet import under 500 MB of RSS.
IMPORT_PARQUET_MAX_ROW_GROUP_BYTES = 128 * 1024 * 1024
# A running import's worker writes a heartbeat every IMPORT_JOB_STALE_SECONDS / 5; a job without one for
# IMPORT_JOB_STALE_SECONDS is run again by the periodic sweep, up to IMPORT_JOB_MAX_ATTEMPTS runs, then failed.
# A job still pending after IMPORT_JOB_PENDING_MAX_SECONDS (no worker ever took it) is failed.
IMPORT_JOB_STALE_SECONDS = env.IMPORT_JOB_STALE_SECONDS
IMPORT_JOB_MAX_ATTEMPTS = 3
IMPORT_JOB_PENDING_MAX_SECONDS = 24 * 3600
