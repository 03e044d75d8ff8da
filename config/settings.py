"""Settings from environment variables.

Defaults give the embedded mode (SQLite in var/, Celery over kombu's filesystem transport,
a local-memory cache). DATABASE_URL and REDIS_URL switch to server mode.

Production is the default: without DJANGO_DEBUG=1 the site runs hardened and refuses to start
without DJANGO_SECRET_KEY, so a server that faces a network never runs in debug mode by accident.
`make run` and the test settings turn debug mode on explicitly.
"""
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


class _Env(environ.Env):
    """Refusals name the variable: `PLAYGROUND_DECODE_THREADS=two` stops the start with that name,
    not with a bare ValueError from int()."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(f"{var} is not valid: {exc}") from exc


env = _Env()

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production mode (the default; DJANGO_DEBUG=1 is for a "
            "laptop) needs a long random secret: generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "core",
    "community",
    "models_hub",
    "playground",
    "evaluation",
    "finetune",
]

MIDDLEWARE = [
    "core.middleware.V1CorsMiddleware",  # first: /v1/'s refusals by the guards below carry it too
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.LazyMessageMiddleware",  # Django's, built only for requests that use messages
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.RequestBodyLimitMiddleware",
    "axes.middleware.AxesMiddleware",  # it turns a locked-out login into a 429
    "core.middleware.SyncChain",  # last: the chain runs in sync mode, not a thread hop per middleware
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "community.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process read while the worker writes; the busy timeout waits out locks.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
    }
    # A file, not memory, so that a worker in another process sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}
else:
    _conn_max_age = env.int("DATABASE_CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_MAX_AGE"] = _conn_max_age
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # with the pool: checked on each checkout
    # A pool of connections per process (psycopg_pool): without it, every request and every task
    # opened a new PostgreSQL connection (a server process forked, authenticated, configured: ~4 ms
    # of each request) and closed it. Persistent connections (CONN_MAX_AGE) are the other way to
    # reuse them, and Django allows only one of the two.
    if env.bool("DATABASE_POOL", default=not _conn_max_age):
        if _conn_max_age:
            raise ImproperlyConfigured("DATABASE_POOL=1 and DATABASE_CONN_MAX_AGE exclude each other: "
                                       "set DATABASE_CONN_MAX_AGE=0 or DATABASE_POOL=0.")
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            # At least a worker's threads, their heartbeat threads and the reaper (2 × concurrency + 2).
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
            "timeout": env.float("DATABASE_POOL_TIMEOUT_S", default=10.0),  # then the request fails
        }
USING_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "community.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out logins before checking them
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Brute force: after AXES_FAILURE_LIMIT failed logins an address
# is locked for AXES_COOLOFF_MINUTES (web login, admin login and the token endpoint alike).
# The client address is REMOTE_ADDR: behind a proxy, let uvicorn rewrite it from
# X-Forwarded-For for that proxy only (`--forwarded-allow-ips=<proxy ip>`).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# An address: never a member's name, or anyone could lock any member out by failing with their
# name from a few addresses (the e-mail change's password check has its own per-member cap,
# PASSWORD_GUESSES_MAX).
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_CLIENT_IP_CALLABLE = "core.slots.client_address"  # an IPv6 client is its /64, not each address in it
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lockout ends on time, whatever is tried meanwhile
AXES_USERNAME_CALLABLE = "community.accounts.lockout_username"  # log-ins ignore the username's case
# A success does not wipe the address's failures: else whoever has an account of their own could
# guess a member's password without end, logging in as themselves after every few guesses. An
# address's failures lapse AXES_COOLOFF_MINUTES after its latest one.
AXES_RESET_ON_SUCCESS = False
AXES_HTTP_RESPONSE_CODE = 429
PASSWORD_GUESSES_MAX = env.int("PASSWORD_GUESSES_MAX", default=5)
PASSWORD_GUESSES_WINDOW_S = env.int("PASSWORD_GUESSES_WINDOW_S", default=900)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- Redis: broker, cache, token streams -----------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Fails open: with Redis down, reads miss and writes are dropped, so pages, the API
            # and its throttles keep working; the broker (a separate client) gives 503s on submit.
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="llmc"),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Above the longest job, so that Redis does not hand a running job to a second worker.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    _broker_dir = Path(env("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))
    (_broker_dir / "queue").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"  # kombu's, with messages that appear whole
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "store_processed": False,
        "polling_interval": 0.05,  # the default 1 s would add half a second to every job's start
        "control_folder": str(_broker_dir / "control"),  # broadcast state, not in the checkout
    }

CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# Playground jobs go to their runtime's own queue (playground/queues.py), chosen when queued.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=600)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=660)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Hub repositories keep their files, content-addressed, in STORAGES["hub"]: a directory under
# var/ by default, S3-compatible object storage (django-storages) when HUB_S3_BUCKET is set.
HUB_FILES_DIR = env("HUB_FILES_DIR", default=str(VAR_DIR / "hub-files"))
HUB_S3_BUCKET = env("HUB_S3_BUCKET", default="")
if HUB_S3_BUCKET:
    STORAGES["hub"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": HUB_S3_BUCKET,
            "endpoint_url": env("HUB_S3_ENDPOINT_URL", default="") or None,
            "access_key": env("HUB_S3_ACCESS_KEY", default="") or None,
            "secret_key": env("HUB_S3_SECRET_KEY", default="") or None,
            "region_name": env("HUB_S3_REGION", default="us-east-1"),
            "addressing_style": env("HUB_S3_ADDRESSING_STYLE", default="path"),
            "signature_version": "s3v4",
            "file_overwrite": True,  # a key is a content hash: the same key is the same bytes
            "querystring_expire": env.int("HUB_DOWNLOAD_URL_TTL_S", default=3600),
        },
    }
else:
    STORAGES["hub"] = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                       "OPTIONS": {"location": HUB_FILES_DIR, "base_url": None}}
# Downloads from object storage redirect to a pre-signed URL (off: the web process streams them).
HUB_S3_REDIRECT = env.bool("HUB_S3_REDIRECT", default=True)
# Upload limits: one file, all the files a member's repositories hold, and files the HF client
# sends inline in a commit (base64 in its JSON lines) rather than through the LFS batch protocol.
HUB_MAX_FILE_BYTES = env.int("HUB_MAX_FILE_BYTES", default=5 * 1024**3)
HUB_USER_QUOTA_BYTES = env.int("HUB_USER_QUOTA_BYTES", default=20 * 1024**3)
HUB_REGULAR_UPLOAD_MAX_BYTES = env.int("HUB_REGULAR_UPLOAD_MAX_BYTES", default=5 * 1024**2)
HUB_MAX_FILES_PER_COMMIT = env.int("HUB_MAX_FILES_PER_COMMIT", default=1000)
HUB_LFS_URL_TTL_S = env.int("HUB_LFS_URL_TTL_S", default=3600)  # the LFS PUT href's signature
# Blobs no commit holds (uploads never committed) are swept by the workers
# this long after an upload last claimed them, beyond HUB_LFS_URL_TTL_S; every HUB_SWEEP_EVERY_S.
HUB_BLOB_GRACE_S = env.int("HUB_BLOB_GRACE_S", default=3600)
HUB_SWEEP_EVERY_S = env.int("HUB_SWEEP_EVERY_S", default=3600)
HUB_UPLOAD_TMP_DIR = env("HUB_UPLOAD_TMP_DIR", default=str(VAR_DIR / "hub-uploads"))
# Files the web process streams itself (no redirect to object storage): at once per member, or
# per address when signed out (more is 429 with Retry-After, which the HF client waits out).
# huggingface_hub's snapshot_download opens 8.
HUB_MAX_DOWNLOADS_PER_CLIENT = env.int("HUB_MAX_DOWNLOADS_PER_CLIENT", default=16)
# A repository's download count: one per client (member or address) per this window, however
# many of its files the client fetched.
HUB_DOWNLOAD_WINDOW_S = env.int("HUB_DOWNLOAD_WINDOW_S", default=86400)
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="LLM Community <noreply@localhost>")
EMAIL_CHANGE_MAX_AGE_S = env.int("EMAIL_CHANGE_MAX_AGE_S", default=3 * 86400)  # a confirmation link's life
# Where links in e-mails sent without a request (notifications, from a worker) point.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else f"https://{ALLOWED_HOSTS[0]}").rstrip("/")
# A notification still unread this long after it was made goes out by e-mail (as Discourse waits).
FORUM_EMAIL_DELAY_S = env.int("FORUM_EMAIL_DELAY_S", default=600)

# --- Production hardening ----------------------------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
        # The proxy terminates TLS and says so in this header; trust it only behind such a proxy.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        USE_X_FORWARDED_HOST = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- REST API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StandardPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="300/min"),
        "user": env("API_THROTTLE_USER", default="2000/min"),
    },
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    # Throttles key anonymous clients by address; X-Forwarded-For counts only for this many
    # trusted proxies in front of the site (0: ignore it, a client can write anything there).
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LLM Community API",
    "DESCRIPTION": "Forums, a catalogue of models and datasets, and a playground for running them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ThreadKindEnum": "community.models.Thread.Kind",
        "ResourceKindEnum": "models_hub.models.Resource.Kind",
        "NotificationKindEnum": "community.models.Notification.Kind",
        "BattleModeEnum": "evaluation.models.arena.BattleMode",
        "JobModeEnum": "playground.models.JobMode",
    },
}

# --- Community rules (Discourse's defaults) ----------------------------------------------------
# A thread's page counts one view per member (or address) per this many seconds, as Discourse does.
FORUM_VIEW_WINDOW_S = env.int("FORUM_VIEW_WINDOW_S", default=86400)
FORUM_RATE_LIMITS = {
    "post_interval_s": env.int("FORUM_POST_INTERVAL_S", default=5),
    "thread_interval_s": env.int("FORUM_THREAD_INTERVAL_S", default=15),
    "new_user_post_interval_s": env.int("FORUM_NEW_USER_POST_INTERVAL_S", default=30),
    "new_user_thread_interval_s": env.int("FORUM_NEW_USER_THREAD_INTERVAL_S", default=120),
    "new_user_max_threads_per_day": env.int("FORUM_NEW_USER_MAX_THREADS", default=3),
    "new_user_max_posts_per_day": env.int("FORUM_NEW_USER_MAX_POSTS", default=10),
    "new_user_age_s": 86400,
}
FORUM_FLAGS_TO_HIDE = 3
# A flag counts toward hiding a post only from a member this old and with this reputation, so a
# handful of fresh accounts cannot hide anything, nor members' flags a moderator's post; every
# flag still reaches the review queue.
FORUM_FLAG_MIN_ACCOUNT_AGE_DAYS = env.int("FORUM_FLAG_MIN_ACCOUNT_AGE_DAYS", default=2)
FORUM_FLAG_MIN_REPUTATION = env.int("FORUM_FLAG_MIN_REPUTATION", default=15)
FORUM_MAX_MENTIONS_PER_POST = env.int("FORUM_MAX_MENTIONS_PER_POST", default=10)  # Discourse's default
FORUM_EDITS_PER_HOUR = env.int("FORUM_EDITS_PER_HOUR", default=30)  # per member; staff exempt
FORUM_NEW_THREAD_DAYS = env.int("FORUM_NEW_THREAD_DAYS", default=2)
FORUM_VOTES_PER_DAY = env.int("FORUM_VOTES_PER_DAY", default=40)  # new votes per member (staff exempt)  # the New tab: threads this recent
SEARCH_MAX_QUERY_LENGTH = 200
API_TOKENS_PER_USER = env.int("API_TOKENS_PER_USER", default=20)
MARKDOWN_MAX_LENGTH = 64_000
MARKDOWN_PREVIEW_RATE = env("MARKDOWN_PREVIEW_RATE", default="30/min")  # per member
# Request bodies past this are refused with a 413 before anything reads them.
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=1_048_576)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# Upload endpoints (paths matching these patterns) take bodies up to MAX_UPLOAD_BYTES instead:
# the LFS PUT, the HF commit (inline files in base64) and the web upload form. Bodies stream to
# a temporary file, never to memory.
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=HUB_MAX_FILE_BYTES * 4 // 3 + 1_048_576)
UPLOAD_PATH_PATTERNS = [
    r"^/hub-lfs/",
    r"^/api/(models|datasets)/[^/]+/[^/]+/commit/",
    r"^/hub/(model|dataset)/[^/]+/[^/]+/files/upload/",
]
DATA_UPLOAD_MAX_NUMBER_FILES = HUB_MAX_FILES_PER_COMMIT
FILE_UPLOAD_TEMP_DIR = HUB_UPLOAD_TMP_DIR
Path(HUB_UPLOAD_TMP_DIR).mkdir(parents=True, exist_ok=True)

# --- Hub ---------------------------------------------------------------------------------------
HUB_SYSTEM_USERNAME = "community-bot"  # owns the discussions of resources nobody submitted
# A card's YAML front matter: plain values and short lists only (no anchors, no nesting).
HUB_FRONT_MATTER_MAX_BYTES = 8 * 1024
HUB_FRONT_MATTER_MAX_ITEMS = 50
HUB_FRONT_MATTER_MAX_VALUE_LENGTH = 200

# --- Playground --------------------------------------------------------------------------------
PLAYGROUND_MAX_ACTIVE_JOBS = env.int("PLAYGROUND_MAX_ACTIVE_JOBS", default=4)
PLAYGROUND_JOBS_PER_HOUR = env.int("PLAYGROUND_JOBS_PER_HOUR", default=60)
PLAYGROUND_MAX_BATCH = env.int("PLAYGROUND_MAX_BATCH", default=8)
# A prompt that arrives while others decode runs this many tokens (rows × positions) between two
# decode steps, so it holds them up a chunk at a time; unset: 512 on a CPU, 2048 on a GPU; 0: whole.
PLAYGROUND_PREFILL_CHUNK_TOKENS = env.int("PLAYGROUND_PREFILL_CHUNK_TOKENS", default=None)
# The intra-op threads a decode step uses on a CPU; unset: measured as each model loads (a few
# seconds of timed steps; playground/engine/threads.py). Set it where the machine is known.
PLAYGROUND_DECODE_THREADS = env.int("PLAYGROUND_DECODE_THREADS", default=None)
if PLAYGROUND_DECODE_THREADS is not None and PLAYGROUND_DECODE_THREADS < 1:
    raise ImproperlyConfigured("PLAYGROUND_DECODE_THREADS must be 1 or more (unset: measured).")
PLAYGROUND_WARM_MODELS = env.int("PLAYGROUND_WARM_MODELS", default=2)
# Where a worker's built-in engines run: "on", in a process of their own (a crash of it, such as
# the kernel's OOM killer taking a model too big for the machine, fails only the jobs it held;
# and on a GPU the worker's Python no longer holds the engine off the interpreter's lock); "off",
# in the worker's own process.
PLAYGROUND_ENGINE_PROCESS = env.str("PLAYGROUND_ENGINE_PROCESS", default="on")
if PLAYGROUND_ENGINE_PROCESS not in ("on", "off"):
    raise ImproperlyConfigured("PLAYGROUND_ENGINE_PROCESS must be on or off.")
PLAYGROUND_JOB_DEADLINE_S = env.int("PLAYGROUND_JOB_DEADLINE_S", default=900)
# Event streams: at most this many open per member (per IP address when signed out), and none
# longer than the job deadline and a margin (a job that never starts holds no connection for ever).
PLAYGROUND_MAX_STREAMS_PER_CLIENT = env.int("PLAYGROUND_MAX_STREAMS_PER_CLIENT", default=8)
PLAYGROUND_STREAM_MAX_S = env.int("PLAYGROUND_STREAM_MAX_S", default=PLAYGROUND_JOB_DEADLINE_S + 60)
PLAYGROUND_MAX_PROMPT_CHARS = 32_000
PLAYGROUND_MAX_MESSAGES = 500  # a chat's turns; each one is validated, and templated by the worker
# /v1/completions with a list of prompts: one job each, counted as one against the quotas.
PLAYGROUND_MAX_PROMPTS_PER_REQUEST = env.int("PLAYGROUND_MAX_PROMPTS_PER_REQUEST", default=32)
# The most log-probabilities one request may return, summed over its prompts: tokens (the echoed
# prompt's and the new ones, up to max_new_tokens) × (1 + alternatives). Each is a JSON object
# of ~400 bytes in the web process's memory while it answers: 131,072 is ~50 MB; lm-eval's
# log-likelihoods in batches of 32 prompts of 2,048 tokens with 1 alternative fit exactly.
PLAYGROUND_MAX_LOGPROBS = env.int("PLAYGROUND_MAX_LOGPROBS", default=131_072)
# A running job's worker touches it every HEARTBEAT_S; after STALE_AFTER_S of silence the reaper
# re-queues it once (then fails it), so a job never stays running after its worker died.
PLAYGROUND_HEARTBEAT_S = env.int("PLAYGROUND_HEARTBEAT_S", default=10)
PLAYGROUND_STALE_AFTER_S = env.int("PLAYGROUND_STALE_AFTER_S", default=60)
PLAYGROUND_REAP_EVERY_S = env.int("PLAYGROUND_REAP_EVERY_S", default=30)
# A queued job whose message has not been taken this long is sent again (the broker may have lost
# it); past PLAYGROUND_JOB_DEADLINE_S in the queue it fails. Raise it where queues are long.
PLAYGROUND_QUEUED_STALE_AFTER_S = env.int("PLAYGROUND_QUEUED_STALE_AFTER_S", default=180)
MODEL_CACHE_DIR = env("MODEL_CACHE_DIR", default=str(VAR_DIR / "model-cache"))
# Repository models and datasets are copied into MODEL_CACHE_DIR/repos/<sha>, a directory per
# revision. Every worker prunes it every MODEL_CACHE_PRUNE_EVERY_S: the least recently used go
# while the rest exceed MODEL_CACHE_REPOS_MAX_BYTES, never one used within the last
# MODEL_CACHE_REPOS_MIN_IDLE_S (a job may be reading it).
MODEL_CACHE_REPOS_MAX_BYTES = env.int("MODEL_CACHE_REPOS_MAX_BYTES", default=50 * 1024**3)
MODEL_CACHE_REPOS_MIN_IDLE_S = env.int("MODEL_CACHE_REPOS_MIN_IDLE_S", default=3600)
MODEL_CACHE_PRUNE_EVERY_S = env.int("MODEL_CACHE_PRUNE_EVERY_S", default=600)

# --- Evaluation --------------------------------------------------------------------------------
# Quotas per member (staff exempt): runs queued or running at once, and runs requested per day.
EVALUATION_MAX_ACTIVE_RUNS = env.int("EVALUATION_MAX_ACTIVE_RUNS", default=2)
EVALUATION_RUNS_PER_DAY = env.int("EVALUATION_RUNS_PER_DAY", default=20)
# A run's wall-clock limit; heartbeats and the reaper as for playground jobs (a dead worker's run
# is re-queued once, then failed).
EVALUATION_DEADLINE_S = env.int("EVALUATION_DEADLINE_S", default=3600)
EVALUATION_HEARTBEAT_S = env.int("EVALUATION_HEARTBEAT_S", default=10)
EVALUATION_STALE_AFTER_S = env.int("EVALUATION_STALE_AFTER_S", default=90)
EVALUATION_REAP_EVERY_S = env.int("EVALUATION_REAP_EVERY_S", default=30)
EVALUATION_QUEUED_STALE_AFTER_S = env.int("EVALUATION_QUEUED_STALE_AFTER_S", default=600)
EVALUATION_WORK_DIR = env("EVALUATION_WORK_DIR", default=str(VAR_DIR / "evaluation"))
# --- Arena -------------------------------------------------------------------------------------
# Each answer is a playground job (its quotas apply); battles and votes are also throttled per member.
ARENA_MAX_NEW_TOKENS = env.int("ARENA_MAX_NEW_TOKENS", default=256)
ARENA_BATTLE_RATE = env("ARENA_BATTLE_RATE", default="20/min")
# What one address may ask of the accounts pages, and how often one inbox gets reset e-mail.
ACCOUNT_SIGNUP_RATE = env("ACCOUNT_SIGNUP_RATE", default="10/hour")
PASSWORD_RESET_RATE = env("PASSWORD_RESET_RATE", default="10/hour")
PASSWORD_RESET_EMAIL_RATE = env("PASSWORD_RESET_EMAIL_RATE", default="3/hour")  # also e-mail change links
EMAIL_CHANGE_RATE = env("EMAIL_CHANGE_RATE", default="5/hour")  # per member
ARENA_VOTE_RATE = env("ARENA_VOTE_RATE", default="20/min")
ARENA_BOOTSTRAP_ROUNDS = env.int("ARENA_BOOTSTRAP_ROUNDS", default=500)
# --- Fine-tuning -------------------------------------------------------------------------------
# Training runs on its own Celery queue (a GPU worker in production). Checkpoints go to a durable
# directory every CHECKPOINT_EVERY steps, so a job whose worker died resumes from the last one.
FINETUNE_QUEUE = env("FINETUNE_QUEUE", default="training")
FINETUNE_CHECKPOINT_DIR = env("FINETUNE_CHECKPOINT_DIR", default=str(VAR_DIR / "finetune"))
FINETUNE_CHECKPOINT_EVERY = env.int("FINETUNE_CHECKPOINT_EVERY", default=50)
FINETUNE_MAX_ACTIVE_JOBS = env.int("FINETUNE_MAX_ACTIVE_JOBS", default=1)  # per member; staff exempt
FINETUNE_JOBS_PER_DAY = env.int("FINETUNE_JOBS_PER_DAY", default=5)
# Hub storage a member must have free to start a job (the trained adapter is committed there).
FINETUNE_OUTPUT_RESERVE_BYTES = env.int("FINETUNE_OUTPUT_RESERVE_BYTES", default=1024**3)
FINETUNE_MAX_STEPS = env.int("FINETUNE_MAX_STEPS", default=20_000)
FINETUNE_MAX_EPOCHS = env.int("FINETUNE_MAX_EPOCHS", default=20)
FINETUNE_MAX_SEQ_LEN = env.int("FINETUNE_MAX_SEQ_LEN", default=4096)
FINETUNE_MAX_EXAMPLES = env.int("FINETUNE_MAX_EXAMPLES", default=200_000)
FINETUNE_MAX_DATASET_BYTES = env.int("FINETUNE_MAX_DATASET_BYTES", default=512 * 1024 * 1024)
FINETUNE_DEADLINE_S = env.int("FINETUNE_DEADLINE_S", default=12 * 3600)
FINETUNE_MAX_ATTEMPTS = env.int("FINETUNE_MAX_ATTEMPTS", default=3)  # deliveries, resumed ones included
FINETUNE_HEARTBEAT_S = env.int("FINETUNE_HEARTBEAT_S", default=10)
FINETUNE_STALE_AFTER_S = env.int("FINETUNE_STALE_AFTER_S", default=120)
FINETUNE_REAP_EVERY_S = env.int("FINETUNE_REAP_EVERY_S", default=30)
FINETUNE_QUEUED_STALE_AFTER_S = env.int("FINETUNE_QUEUED_STALE_AFTER_S", default=600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Syntax highlighting (core/highlighting.py) runs in a helper process killed after this long;
# text longer than HIGHLIGHT_MAX_CHARS, or not done in time, is shown plain. Results are cached.
HIGHLIGHT_TIMEOUT_S = env.float("HIGHLIGHT_TIMEOUT_S", default=2.0)
HIGHLIGHT_MAX_CHARS = env.int("HIGHLIGHT_MAX_CHARS", default=262_144)
HIGHLIGHT_CACHE_S = env.int("HIGHLIGHT_CACHE_S", default=86_400)
# Parquet files members upload are decoded in a helper process (core/parquet.py) with this much
# address space and time: a few kilobytes can decode to gigabytes.
PARQUET_MEMORY_BYTES = env.int("PARQUET_MEMORY_BYTES", default=2 * 1024**3)
PARQUET_TIMEOUT_S = env.float("PARQUET_TIMEOUT_S", default=20.0)
