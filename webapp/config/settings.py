"""Django settings. Every value comes from `env.read_env()`, read once here."""

from __future__ import annotations

from datetime import timedelta

import dj_database_url
from csp.constants import NONE, SELF

from webapp.config.env import BASE_DIR, read_env

ENV = read_env()

DEBUG = ENV.debug
SECRET_KEY = ENV.secret_key
ALLOWED_HOSTS = ENV.allowed_hosts
CSRF_TRUSTED_ORIGINS = ENV.csrf_trusted_origins

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "webapp.api",
    "webapp.catalogue",
    "webapp.review",
    "webapp.colour",
    "webapp.jobs",
    "webapp.notifications",
    "webapp.live",
    "webapp.delivery",
    "webapp.devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.config.urls"
ASGI_APPLICATION = "webapp.config.asgi.application"
WSGI_APPLICATION = None

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
                "webapp.catalogue.context_processors.person",
            ],
        },
    },
]

if ENV.database_url:
    DATABASES = {"default": dj_database_url.parse(ENV.database_url, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ENV.data_dir / "db.sqlite3",
            # WAL and a busy timeout let the in-process worker write while the server reads.
            # IMMEDIATE: a transaction takes the write lock when it begins, so one that reads and
            # then writes waits its turn; begun DEFERRED, it failed at once with "database is
            # locked" when another connection had written meanwhile (tests/webapp/test_embedded_database.py).
            "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = ENV.data_dir / "static"
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = ENV.media_root

# Ingest: uploads stream to disk (never held in memory) up to MAX_UPLOAD_BYTES; server-side
# paths are accepted only under INGEST_ROOTS.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None
MAX_UPLOAD_BYTES = ENV.max_upload_bytes
INGEST_ROOTS = ENV.ingest_roots
# Colour uploads (streamed the same way): a graded reference still, a grade file.
MAX_STILL_BYTES = ENV.max_still_bytes
MAX_GRADE_FILE_BYTES = ENV.max_grade_file_bytes
# Limits on what the site takes in (webapp/config/body_limit.py, catalogue/ingest.py): any other
# request body, checked before it is read; the pixels of one frame, checked at ingest.
MAX_JSON_BODY_BYTES = ENV.max_json_body_bytes
MAX_FRAME_PIXELS = ENV.max_frame_pixels

REST_FRAMEWORK = {
    # Token first so that an anonymous request gets 401 with a WWW-Authenticate header, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "webapp.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "webapp.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "webapp.api.exceptions.exception_handler",
    "DEFAULT_FILTER_BACKENDS": [
        "webapp.api.filters.StrictFilterBackend",
        "rest_framework.filters.SearchFilter",
        "webapp.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "webapp.api.schema.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["webapp.api.parsers.BoundedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# JSON bodies nested deeper than this are a 400 before they are parsed (webapp/api/parsers.py).
API_JSON_MAX_DEPTH = 32
# Idempotency-Key (webapp/api/idempotency.py): a key answers its repeats for a day, then the sweep
# removes it; a key whose request went silent this long (its process died) may be taken over.
IDEMPOTENCY_KEY_TTL_S = 24 * 3600
IDEMPOTENCY_IN_FLIGHT_TIMEOUT_S = 60
SPECTACULAR_SETTINGS = {
    "TITLE": "Film restoration review API",
    "DESCRIPTION": "Catalogue, shots, versions, comments, decisions and restoration jobs.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Ids in paths (webapp/api/routers.py): whole numbers up to the largest key.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
    # Swagger UI from the sidecar package: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models share field names (status, role): give each choice set one clear name.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "webapp.catalogue.models.Role",
        "FilmStatusEnum": "webapp.catalogue.models.FilmStatus",
        "ShotStatusEnum": "webapp.catalogue.models.ShotStatus",
        "VersionStatusEnum": "webapp.catalogue.models.VersionStatus",
        "VerdictEnum": "webapp.review.models.Verdict",
        "JobKindEnum": "webapp.jobs.models.JobKind",
        "JobStatusEnum": "webapp.jobs.models.JobStatus",
        "GuestRoleEnum": "webapp.live.models.GuestRole",
        "GradeStatusEnum": "webapp.colour.models.GradeStatus",
        "GradeSourceEnum": "webapp.colour.models.GradeSource",
        "SceneSourceEnum": "webapp.colour.models.SceneSource",
        "VersionGradeModeEnum": "webapp.colour.models.VersionGradeMode",
        "GradeFromEnum": "webapp.colour.serializers.GRADE_FROM",
    },
}

# Channels and Celery: Redis when REDIS_URL is set, otherwise in-process.
if ENV.redis_url:
    # channels_redis's layers, made to outlive a Redis restart or timeout (webapp/realtime/layers.py):
    # receiving waits and retries instead of failing every socket, groups are re-added once Redis
    # is back, sends never raise. A dead host is given up on after 5 s rather than the OS's minutes.
    _redis_host = {"address": ENV.redis_url, "socket_connect_timeout": 5, "socket_keepalive": True}
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "webapp.realtime.layers.ResilientRedisChannelLayer",
                    "CONFIG": {"hosts": [_redis_host]}},
        # Live sessions fan out by pub/sub: one message per server per change, handed by that
        # server to its own participants (one per participant would cost 50x at 50 people). The
        # health check pings an idle subscription, so a connection that died silently is renewed.
        "live": {"BACKEND": "webapp.realtime.layers.ResilientRedisPubSubChannelLayer",
                 "CONFIG": {"hosts": [{**_redis_host, "health_check_interval": 15}]}},
    }
    CELERY_BROKER_URL = ENV.redis_url
    CELERY_RESULT_BACKEND = ENV.redis_url
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": ENV.redis_url}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
                      "live": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = ENV.celery_always_eager
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "cpu"
# No routing by task name: a job is sent on its kind's queue (gpu for restores, cpu for the
# rest; webapp/jobs/kinds/), explicitly with each message (webapp/jobs/lifecycle.py).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": ENV.celery_visibility_timeout_s,
    # Workers look for messages a dead worker took (unacknowledged past the visibility timeout)
    # this often: one cheap Redis query.
    "unacked_restore_interval": min(10, max(1, ENV.celery_visibility_timeout_s // 4)),
    "unacked_restore_throttle": 1,
}
# Servers and workers reconnect by themselves when Redis comes back (a restart loses no job:
# messages are acknowledged only after the job's row is final).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 10, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 3}
# A job's message sent after its row commits gets a short try: if the broker is down the request
# answers at once and the sweeper sends the message later (the row is the outbox).
JOB_DISPATCH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# Jobs (webapp/jobs/tasks.py): a soft time limit fails the job cleanly; the hard limit kills a
# stuck worker process, whose job is redelivered; a job is started at most JOB_MAX_ATTEMPTS
# times (automatic retries and redeliveries together; a retry asked for starts the count again).
JOB_SOFT_TIME_LIMIT_S = 3 * 3600
JOB_TIME_LIMIT_S = JOB_SOFT_TIME_LIMIT_S + 300
JOB_MAX_ATTEMPTS = 8
# Transient errors (database or Redis unreachable, disk full, GPU memory) retry after
# JOB_AUTORETRY_BACKOFF_S, then twice that... up to JOB_AUTORETRY_BACKOFF_MAX_S, at most JOB_AUTORETRY_MAX times.
JOB_AUTORETRY_MAX = 8
JOB_AUTORETRY_BACKOFF_S = ENV.job_autoretry_backoff_s
JOB_AUTORETRY_BACKOFF_MAX_S = 300
# Faults (webapp/jobs/sweeper.py): heartbeats of running jobs, and the periodic sweep (Celery
# beat) that sends pending jobs whose message never reached the broker or was lost with it,
# takes back running jobs whose worker went silent, and removes files no row names.
JOB_HEARTBEAT_S = ENV.job_heartbeat_s
JOB_HEARTBEAT_TIMEOUT_S = ENV.job_heartbeat_timeout_s
# A pending job not yet sent this long after its row committed is sent by the sweeper.
JOB_DISPATCH_GRACE_S = 10
# A pending job sent this long ago whose message the broker no longer holds is sent again.
JOB_REDISPATCH_AFTER_S = ENV.job_redispatch_after_s
SWEEP_INTERVAL_S = ENV.sweep_interval_s
MEDIA_ORPHAN_GRACE_S = ENV.media_orphan_grace_s
CELERY_BEAT_SCHEDULE = {
    "sweep": {"task": "webapp.jobs.tasks.sweep", "schedule": float(SWEEP_INTERVAL_S),
              "options": {"queue": "cpu", "expires": float(SWEEP_INTERVAL_S)}},
}

# E-mail notifications (webapp/notifications/emails.py; README "E-mail"): the console backend
# unless EMAIL_BACKEND names another; links are SITE_URL + the page's path.
EMAIL_BACKEND = ENV.email_backend
EMAIL_HOST = ENV.email_host
EMAIL_PORT = ENV.email_port
EMAIL_HOST_USER = ENV.email_host_user
EMAIL_HOST_PASSWORD = ENV.email_host_password
EMAIL_USE_TLS = ENV.email_use_tls
EMAIL_USE_SSL = ENV.email_use_ssl
EMAIL_TIMEOUT = ENV.email_timeout_s
DEFAULT_FROM_EMAIL = ENV.default_from_email
SERVER_EMAIL = ENV.default_from_email
SITE_URL = ENV.site_url
# A failed send (the mail server down) is tried again after this many seconds, doubled each time,
# at most this many times.
NOTIFICATION_EMAIL_RETRY_BACKOFF_S = 30
NOTIFICATION_EMAIL_MAX_RETRIES = 6

if ENV.production:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # Django's own logger has a handler too: let its records go to the root's only.
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Sign-in, sessions, tokens, throttles, CSP (README "Security settings") -----------------------
INSTALLED_APPS += ["axes", "csp"]
# django-axes counts failed logins (the login page, the admin's, POST /api/auth/token/) per user
# name and per address, in the database; AxesMiddleware (last) turns a lockout into its answer.
MIDDLEWARE += ["csp.middleware.CSPMiddleware", "axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = ENV.login_failure_limit
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one alone locks: a user, or an address
AXES_COOLOFF_TIME = timedelta(minutes=ENV.login_lockout_minutes)
AXES_RESET_ON_SUCCESS = True
# A try while locked out (even with the right password) does not restart the cool-off.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "webapp.api.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "webapp.api.lockout.lockout_response"
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # failures and lockouts, not every login
# DRF throttles (webapp/api/throttling.py), counted in the cache (Redis when set, so shared by every
# server): writes per user, guest links per address. A reviewer never comes near them.
REST_FRAMEWORK["NUM_PROXIES"] = ENV.trusted_proxy_count
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "comments": "120/min",
    "decisions": "60/min",
    "jobs": "60/min",
    "guest_join_failures": "20/hour",
}
# API tokens (webapp/api/tokens.py) expire this long after they were issued.
API_TOKEN_TTL = timedelta(days=ENV.api_token_ttl_days)
# Idle timeout: a session lasts SESSION_COOKIE_AGE after its last use; a request renews it at most
# once per SESSION_RENEW_INTERVAL_S (webapp/api/sessions.py), not a database write per request.
SESSION_COOKIE_AGE = ENV.session_idle_timeout_s
SESSION_RENEW_INTERVAL_S = 60
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                  "webapp.api.sessions.SessionRenewMiddleware")
# Content-Security-Policy (django-csp): scripts and styles from our own files only, nothing inline
# (no <script>/<style> blocks, no style="" or on*="" attributes); frames and websockets from this
# origin; blob: and data: images for the viewer's decoded frames and the API docs' icons. Only DRF's
# browsable API pages (its own templates) may use inline styles (webapp/api/renderers.py).
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer",
                                              "webapp.api.renderers.BrowsableAPIRenderer"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],  # CSP3: 'self' includes ws:/wss: to this host
        "worker-src": [SELF, "blob:"],
        "font-src": [SELF],
        "object-src": [NONE],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],  # as X-Frame-Options: DENY
        "base-uri": [SELF],
        "form-action": [SELF],
    },
}
