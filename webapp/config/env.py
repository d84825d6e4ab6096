"""Reads the environment once, into one typed object that settings.py uses.

Embedded defaults (no variable set) run everything in one process: SQLite, local media,
in-memory channel layer and broker. Setting DATABASE_URL / REDIS_URL switches to
PostgreSQL / Redis; DJANGO_ENV=production switches on the safe production settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def _list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


@dataclass(frozen=True)
class Env:
    production: bool
    debug: bool
    secret_key: str
    allowed_hosts: list[str]
    csrf_trusted_origins: list[str]
    database_url: str | None
    redis_url: str | None
    data_dir: Path
    media_root: Path
    ingest_roots: list[Path]
    max_upload_bytes: int
    max_still_bytes: int
    max_grade_file_bytes: int
    max_json_body_bytes: int
    max_frame_pixels: int
    celery_always_eager: bool
    celery_visibility_timeout_s: int
    job_heartbeat_s: int
    job_heartbeat_timeout_s: int
    sweep_interval_s: int
    job_redispatch_after_s: int
    job_autoretry_backoff_s: int
    media_orphan_grace_s: int
    # Sign-in hardening (settings.py "Sign-in, sessions, tokens, throttles, CSP").
    session_idle_timeout_s: int
    api_token_ttl_days: int
    login_failure_limit: int
    login_lockout_minutes: int
    trusted_proxy_count: int
    # E-mail notifications (webapp/notifications/emails.py): how mail leaves, and the site's own
    # address for the links in it.
    email_backend: str
    email_host: str
    email_port: int
    email_host_user: str
    email_host_password: str
    email_use_tls: bool
    email_use_ssl: bool
    email_timeout_s: int
    default_from_email: str
    site_url: str


def _site_url(name: str, default: str) -> str:
    raw = (os.environ.get(name) or default).strip().rstrip("/")
    scheme, _, rest = raw.partition("://")
    if scheme not in {"http", "https"} or not rest or "/" in rest or "?" in rest or "#" in rest:
        raise ImproperlyConfigured(f"{name} must be the site's origin, like https://review.example.org, got {raw!r}")
    return raw


def read_env() -> Env:
    production = os.environ.get("DJANGO_ENV", "development") == "production"
    secret_key = os.environ.get("SECRET_KEY", "")
    if production and len(secret_key) < 32:
        raise ImproperlyConfigured("SECRET_KEY must be set to at least 32 characters in production")
    data_dir = Path(os.environ.get("DATA_DIR") or BASE_DIR / "var").resolve()
    if _bool("EMAIL_USE_TLS", default=False) and _bool("EMAIL_USE_SSL", default=False):
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: set one of them")
    return Env(
        production=production,
        debug=_bool("DEBUG", default=not production),
        secret_key=secret_key or "insecure-development-key-do-not-use-in-production",
        allowed_hosts=_list("ALLOWED_HOSTS", [] if production else ["127.0.0.1", "localhost", "testserver"]),
        csrf_trusted_origins=_list("CSRF_TRUSTED_ORIGINS", []),
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        data_dir=data_dir,
        media_root=Path(os.environ.get("MEDIA_ROOT") or data_dir / "media").resolve(),
        ingest_roots=[Path(p).resolve() for p in _list("INGEST_ROOTS", [str(data_dir / "ingest")])],
        max_upload_bytes=_int("MAX_UPLOAD_BYTES", 4 * 1024**3),
        # Colour: a graded reference still (a 4K 16-bit TIFF is ~50 MB) and a grade file (.cube, .ccc).
        max_still_bytes=_int("MAX_STILL_BYTES", 256 * 1024**2),
        max_grade_file_bytes=_int("MAX_GRADE_FILE_BYTES", 16 * 1024**2),
        # Every body that is not an upload (JSON, forms): the largest legitimate one, a comment with
        # a full drawing, is well under this.
        max_json_body_bytes=_int("MAX_JSON_BODY_BYTES", 1024**2),
        # The largest picture (width x height) the workers can process (previews, restores): a full
        # 8K frame (8192 x 4608); larger scans are refused at ingest.
        max_frame_pixels=_int("MAX_FRAME_PIXELS", 8192 * 4608),
        celery_always_eager=_bool("CELERY_TASK_ALWAYS_EAGER", default=False),
        # How long Redis keeps a taken, unacknowledged job message before giving it to another
        # worker. Jobs longer than this are fine: a redelivered message finds its job running
        # with a fresh heartbeat and is dropped; a dead worker's job is reclaimed by the sweeper
        # long before this (JOB_HEARTBEAT_TIMEOUT_S).
        celery_visibility_timeout_s=_int("CELERY_VISIBILITY_TIMEOUT_S", 1800),
        # A running job's worker writes a heartbeat this often; one silent for the timeout is
        # taken back by the sweeper, which runs every SWEEP_INTERVAL_S (webapp/jobs/sweeper.py).
        job_heartbeat_s=_int("JOB_HEARTBEAT_S", 10),
        job_heartbeat_timeout_s=_int("JOB_HEARTBEAT_TIMEOUT_S", 60),
        sweep_interval_s=_int("SWEEP_INTERVAL_S", 30),
        # A pending job sent this long ago whose message the broker no longer holds (lost in a
        # Redis restart without persistence) is sent again by the sweeper.
        job_redispatch_after_s=_int("JOB_REDISPATCH_AFTER_S", 120),
        # The first pause before retrying a transient error (doubled on each retry).
        job_autoretry_backoff_s=_int("JOB_AUTORETRY_BACKOFF_S", 5),
        # Files under MEDIA_ROOT that no row names are removed once this old (a write in progress
        # is younger: it is named by its commit).
        media_orphan_grace_s=_int("MEDIA_ORPHAN_GRACE_S", 3600),
        # A browser session unused this long is logged out (each request renews it). Long enough for
        # a live review of a whole feature, whose sockets make no HTTP request.
        session_idle_timeout_s=_int("SESSION_IDLE_TIMEOUT_S", 4 * 3600),
        # An API token works this many days after it was issued, then a new one must be requested.
        api_token_ttl_days=_int("API_TOKEN_TTL_DAYS", 30),
        # This many failed logins (form or token) for one user name, or from one address, lock
        # them out for this many minutes.
        login_failure_limit=_int("LOGIN_FAILURE_LIMIT", 10),
        login_lockout_minutes=_int("LOGIN_LOCKOUT_MINUTES", 15),
        # Reverse proxies in front of the server that append to X-Forwarded-For: 0 trusts no such
        # header (a client could forge it to dodge the per-address limits).
        trusted_proxy_count=_int("TRUSTED_PROXY_COUNT", 0),
        # Mail is printed on the console unless a backend is named (SMTP: EMAIL_BACKEND=
        # django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST...); nothing is sent by default.
        email_backend=os.environ.get("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend",
        email_host=os.environ.get("EMAIL_HOST") or "localhost",
        email_port=_int("EMAIL_PORT", 25),
        email_host_user=os.environ.get("EMAIL_HOST_USER", ""),
        email_host_password=os.environ.get("EMAIL_HOST_PASSWORD", ""),
        email_use_tls=_bool("EMAIL_USE_TLS", default=False),
        email_use_ssl=_bool("EMAIL_USE_SSL", default=False),
        # A stuck mail server fails the send (retried later) instead of holding a worker.
        email_timeout_s=_int("EMAIL_TIMEOUT_S", 30),
        default_from_email=os.environ.get("DEFAULT_FROM_EMAIL") or "Film restoration review <noreply@localhost>",
        # The links in e-mails are made absolute with this origin (scheme and host, no path).
        site_url=_site_url("SITE_URL", "http://localhost:8000"),
    )
