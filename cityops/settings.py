"""CityOps settings, read from the environment (DESIGN.md §6).

Every value has a safe default for the embedded mode: SQLite in the project folder and no Redis.
A malformed value fails loudly at start-up rather than silently falling back.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = os.environ.get(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        # A site that signs sessions and password-reset links with a key printed in its own source code has
        # no secret at all: refuse to start rather than run on it.
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (or set DEBUG=1 for a local trial)")
    # Only for the embedded mode (DEBUG on): a fixed development key is fine for a local demo.
    SECRET_KEY = "cityops-embedded-development-key-not-for-production"  # noqa: S105 - DEBUG only
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "rest_framework",
    "knox",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "core",
    "departments",
    "cases",
    "oversight",
    "cityops",
]

MIDDLEWARE = [
    # Outermost: every request gets its id and its JSON log line, whatever answers it (cityops/requestlog.py).
    "cityops.requestlog.RequestLog",
    # Then: a request whose path, query or body cannot be read as text is answered 400 before any view
    # (or Django's own URL resolver) tries to.
    "core.middleware.RefuseUnreadableInput",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.headers.SecurityHeaders",
    # Static files from the process itself, compressed and cached for a year under hashed names; below the
    # security headers, so that a stylesheet carries them like a page.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.sessions.SessionLifetime",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A page's empty 405 (`require_POST` and the like) becomes the site's 405 page, in the person's language.
    "core.middleware.MethodNotAllowedPage",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cityops.urls"

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
                "django.template.context_processors.i18n",
                "cityops.context_processors.frame",
            ],
        },
    },
]

WSGI_APPLICATION = "cityops.wsgi.application"

# A web or worker process keeps its database connection for DB_CONN_MAX_AGE seconds rather than opening one per
# request (which costs PostgreSQL a new backend each time: half of a short request under load), and checks it
# before reusing it after an idle spell. The embedded demo opens one per request.
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 0 if DEBUG else 60)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: writers queue on SQLite's lock for up to 20 s. Transactions take the write lock
    # when they begin, because a reader that upgrades to a writer mid-transaction fails at once with
    # "database is locked" whatever the timeout (two requests saving at the same moment did exactly that).
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})

# Reports, exports and the staff report read a replica when there is one (core/replicas.py); the rest reads and
# writes the primary. In tests the replica is the primary itself (MIRROR).
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {**dj_database_url.parse(env_str("DATABASE_REPLICA_URL"),
                                                    conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True),
                            "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The sweep's covering indexes (INCLUDE) are for PostgreSQL; the embedded SQLite uses their key columns alone,
# which is all a demo-sized table needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# django-axes first: it refuses a locked-out (username, address) pair before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2 for new and changed passwords; a password stored with an older hasher is re-hashed with Argon2 at the
# user's next sign-in (Django does this for every hasher listed after the first).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "var" / "staticfiles")
# Production serves what `collectstatic` wrote, gzip-compressed, under names carrying a hash of the
# content (so that a browser may keep them a year); the embedded demo serves the folders as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "var" / "media")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "core.tokens.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bounded in depth (MAX_JSON_DEPTH) and size; forms as REST framework reads them.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CityOps API",
    "DESCRIPTION": "Case routing and tracking by authority rules (DESIGN.md §5).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: officials' networks often block CDNs.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.Status",
        "ConsultationStatusEnum": "cases.models.ConsultationStatus",
    },
}

# Celery: Redis when REDIS_URL is set; otherwise a broker that needs no server (see README).
REDIS_URL = env_str("REDIS_URL")
# With Redis, an edit of the rules or the calendar is announced to every process on a Redis channel, and the
# in-memory routing index and calendar are used without a database read while the channel is listened to
# (departments/generations.py); off, or without Redis, each use reads the one-row token.
GENERATIONS_PUBSUB = env_bool("GENERATIONS_PUBSUB", True)
# The filesystem transport ignores the host; naming one keeps kombu from warning about it on every publish.
CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost//"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# No task returns anything anyone reads: results would only fill the broker.
CELERY_TASK_IGNORE_RESULT = True
# A worker that dies mid-task leaves it for another worker (the sweep and the mail are safe to repeat).
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic jobs live in the database, editable in the admin (django-celery-beat); migrations create them.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Two queues, so that a slow mail server never delays the sweep and a long sweep never delays mail; workers
# listen to both by default (Procfile), or a host may take one (`--queues mail`).
CELERY_TASK_DEFAULT_QUEUE = "sweep"
CELERY_TASK_ROUTES = {
    "cases.tasks.send_notification_mail": {"queue": "mail"},
    "cases.tasks.flag_overdue": {"queue": "sweep"},
    "cases.tasks.send_daily_digest": {"queue": "sweep"},
    "cases.tasks.verify_audit_nightly": {"queue": "sweep"},
}
# No task may run longer than this: a hung SMTP connection or a stuck statement is cut, and the task runs again.
# The soft limit lets it end cleanly first (its transaction rolls back; the sweep and the mail are safe to
# repeat). Tasks are acknowledged when done (acks_late), so Redis must wait longer than the longest task before
# it hands an unacknowledged one to another worker: else a slow sweep would run twice at once.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("TASK_SOFT_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT}
    if REDIS_URL
    else {
        "data_folder_in": str(BASE_DIR / "var" / "celery" / "queue"),
        "data_folder_out": str(BASE_DIR / "var" / "celery" / "queue"),
        "processed_folder": str(BASE_DIR / "var" / "celery" / "processed"),
        # Broadcasts (remote control, worker events) too, or kombu writes them under the working directory.
        "control_folder": str(BASE_DIR / "var" / "celery" / "control"),
        "store_processed": False,
    }
)
if not REDIS_URL:
    # The filesystem transport expects its folders to exist; the web process and the worker both publish.
    for _folder in ("queue", "processed", "control"):
        (BASE_DIR / "var" / "celery" / _folder).mkdir(parents=True, exist_ok=True)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# For the file backend (django.core.mail.backends.filebased.EmailBackend): one file per message here.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH") or str(BASE_DIR / "var" / "mail")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "cityops@localhost")
# Where links in e-mail point: the address officials open CityOps at.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# A notice whose mail failed this many times is marked failed instead of being retried forever.
MAIL_MAX_ATTEMPTS = env_int("MAIL_MAX_ATTEMPTS", 5, minimum=1)
# A notice claimed for mailing this long ago and not marked sent was being mailed by a worker that died: it is
# marked failed (perhaps sent, never sent twice). Far above the mail task's time limit.
MAIL_SENDING_STALE_MINUTES = env_int("MAIL_SENDING_STALE_MINUTES", 30, minimum=1)

# One JSON line per request and per task run (cityops/requestlog.py), on standard error with everything else:
# systemd's journal or any log collector keeps them, and a request id an official quotes finds its line.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # "time" in UTC, ISO 8601: lines from hosts in any time zone sort and compare as they are.
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "json_ensure_ascii": False, "timestamp": "time",
                 "fmt": "%(levelname)s %(name)s %(message)s"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [request %(request_id)s] %(message)s"},
    },
    "filters": {"request_id": {"()": "cityops.logcontext.RequestIdFilter"}},
    "handlers": {
        # Everything else (a failure's traceback among it) names the request it happened in.
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
        "json": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "loggers": {
        "cityops.requests": {"handlers": ["json"], "level": "INFO", "propagate": False},
        "cityops.tasks": {"handlers": ["json"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
# Celery keeps the logging above instead of replacing the root logger's handlers with its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- CityOps rules (DESIGN.md §2–3); each is a setting because the law and local practice vary ---
CITY_CODE = env_str("CITY_CODE", "HP")
RETURN_WITHIN_WORKING_DAYS = env_int("RETURN_WITHIN_WORKING_DAYS", 1)
MAX_CONSULT_ROUNDS = env_int("MAX_CONSULT_ROUNDS", 2, minimum=1)
DEFAULT_CONSULTATION_DAYS = env_int("DEFAULT_CONSULTATION_DAYS", 5, minimum=1)
CONSULTATION_SILENCE_MEANS_AGREEMENT = env_bool("CONSULTATION_SILENCE_MEANS_AGREEMENT", True)
SUPPLEMENT_CLOCK = env_choice("SUPPLEMENT_CLOCK", "reset", {"reset", "pause"})
# Decree 61/2018 art. 18: a dossier received after 15:00 is handed over the next working day.
HANDOVER_CUTOFF_HOUR = env_int("HANDOVER_CUTOFF_HOUR", 15)
MAX_TITLE_LENGTH = 500
# Decree 61/2018 art. 19: a supplement is asked within 3 working days of receipt, once.
SUPPLEMENT_WITHIN_WORKING_DAYS = env_int("SUPPLEMENT_WITHIN_WORKING_DAYS", 3)
# Decree 234/2026: handling a violation ends within 90 days of its discovery, extendable once to 150.
VIOLATION_HANDLING_DAYS = env_int("VIOLATION_HANDLING_DAYS", 90, minimum=1)
VIOLATION_HANDLING_MAX_DAYS = env_int("VIOLATION_HANDLING_MAX_DAYS", 150, minimum=1)
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024, minimum=1)

# --- Sign-in, sessions and tokens ---
# django-axes: a (username, address) pair is locked out after this many failures, for this long; the login
# page, the admin's login and the token endpoint count alike. Admins unlock in the admin (Access attempts).
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = dt.timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "core.signin.locked_out"
AXES_USERNAME_FORM_FIELD = "username"
# Behind a TLS-terminating proxy the client's address is in X-Forwarded-For; set the number of proxies in
# front of CityOps so that axes reads the right entry (0: the address the connection comes from).
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)
# Password reset: at most this many mails per address and per client address an hour.
PASSWORD_RESET_PER_HOUR = env_int("PASSWORD_RESET_PER_HOUR", 3, minimum=1)
# The counters live in Django's cache: shared by every web process through Redis when REDIS_URL is set (one
# process's memory otherwise, which is all the embedded mode runs).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                "KEY_PREFIX": "cityops"}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# API tokens (django-rest-knox): stored hashed, ending after API_TOKEN_HOURS, revoked on logout, password change
# and deactivation.
API_TOKEN_HOURS = env_int("API_TOKEN_HOURS", 10, minimum=1)
# Read with an API token, in the same query: the user's place in a unit, which the access policy asks for next
# (cases.policy.membership).
API_TOKEN_USER_RELATIONS = ["user__staff__department"]
REST_KNOX = {
    "TOKEN_TTL": dt.timedelta(hours=API_TOKEN_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}
# A session ends after this much inactivity, and after this long in all, whatever the activity; pages warn
# before the idle end so that nothing typed is lost.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12, minimum=1)
SESSION_IDLE_WARNING_MINUTES = env_int("SESSION_IDLE_WARNING_MINUTES", 2, minimum=1)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600

# --- Hardened responses ---
# HTTPS=false serves a plain-HTTP intranet or a local trial: no redirect to HTTPS, no HSTS, cookies not marked
# Secure (`check --deploy` then warns, as it should). Everything else stays on. With DEBUG on (the embedded
# demo) HTTPS is off unless asked for.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# The header's "preload" flag only allows the domain's owner to submit it to the browsers' preload list;
# nothing is submitted by sending it. SECURE_HSTS_PRELOAD=false drops the flag.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True) if HTTPS else False
# Behind a proxy that ends TLS and forwards plain HTTP, set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO (the
# header the proxy sets, with the value "https"), or the redirect loops. Only when the proxy strips that header
# from clients' requests.
if env_str("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (env_str("SECURE_PROXY_SSL_HEADER"), "https")
# The load balancer's health checks come over plain HTTP from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A form whose token went stale (signed in again in another tab, or the session ended) is answered in the
# person's language, with what was typed ready to send again (core/pages.py).
CSRF_FAILURE_VIEW = "core.pages.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# django-csp 4: no inline script or style anywhere (json_script data is not executed, so it needs no nonce).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"
)

# --- Input limits ---
# A case's description, on the intake form and through the API. The database holds at most 20,000 characters (a
# CheckConstraint on the case): this may lower the limit; a higher value is held to the database's.
MAX_DESCRIPTION_CHARS = env_int("MAX_DESCRIPTION_CHARS", 20000, minimum=100)
# A note on a move (a reason, a resolution, a question, a comment, a summary), on the page and through the API.
MAX_NOTE_CHARS = env_int("MAX_NOTE_CHARS", 10000, minimum=100)
MAX_JSON_DEPTH = env_int("MAX_JSON_DEPTH", 32, minimum=4)
# Request bodies other than file uploads; Django answers a larger one with RequestDataTooBig.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024, minimum=1024)
# A receipt logged more than this many days in the past needs an admin (the deadline runs from receipt).
MAX_BACKDATE_DAYS = env_int("MAX_BACKDATE_DAYS", 30, minimum=0)
