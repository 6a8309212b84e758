"""niangjia settings: read only from environment variables (see README, 配置)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from niangjia.utilities.env import Env

env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("NIANGJIA_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", "insecure-development-key-do-not-use" if DEBUG else None)
if not DEBUG and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "treebeard",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",
    "niangjia.audit",
    "niangjia.accounts",
    "niangjia.orgs",
    "niangjia.members",
    "niangjia.verification",
    "niangjia.imports",
    "niangjia.relief",
    "niangjia.jobs",
    "niangjia.exports",
    "niangjia.stats",
    "niangjia.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "niangjia.audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "niangjia.accounts.middleware.SecondFactorMiddleware",
    "niangjia.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "niangjia.audit.middleware.PermissionDeniedAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "niangjia.urls"
WSGI_APPLICATION = "niangjia.wsgi.application"
ASGI_APPLICATION = "niangjia.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "niangjia" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "niangjia.accounts.context_processors.roles",
            ],
        },
    }
]

# --- Database: PostgreSQL in production via DATABASE_URL; embedded SQLite (WAL) by default.
_database_url = env.str("DATABASE_URL", "")
if _database_url:
    if not _database_url.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ImproperlyConfigured("DATABASE_URL must be a postgresql:// or sqlite:// URL")
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "niangjia.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and login hardening
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", 10, min_value=8, max_value=128)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "niangjia.accounts.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "niangjia.accounts.validators.CharacterClassValidator",
        "OPTIONS": {"min_classes": env.int("PASSWORD_MIN_CLASSES", 3, min_value=1, max_value=4)},
    },
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5, min_value=1, max_value=100)
AXES_COOLOFF_TIME = env.int("LOGIN_LOCKOUT_MINUTES", 30, min_value=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", True)
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", 30, min_value=1, max_value=24 * 60) * 60
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout: the age restarts with every request
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
OTP_TOTP_ISSUER = "娘家工会平台"
REQUIRE_ADMIN_OTP = env.bool("REQUIRE_ADMIN_OTP", True)

# --- Internationalisation: people-facing text is Simplified Chinese
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = env.str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "niangjia" / "locale"]

# --- Static files, served by the app itself (WhiteNoise): no CDN anywhere.
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "niangjia" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Security headers
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", False) else None
)

# --- Personal data at rest (see niangjia/utilities/crypto.py). Required outside DEBUG.
_DEV_FIELD_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # only ever used with DEBUG on
FIELD_ENCRYPTION_KEYS = env.str("FIELD_ENCRYPTION_KEYS", f"0:{_DEV_FIELD_KEY}" if DEBUG else None)
FIELD_HASH_KEY = env.str("FIELD_HASH_KEY", _DEV_FIELD_KEY if DEBUG else None)

# --- Text messages (phone verification). The console backend logs the code, phone masked.
SMS_BACKEND = env.str("SMS_BACKEND", "niangjia.utilities.sms.ConsoleBackend")
SMS_CODE_TTL_MINUTES = env.int("SMS_CODE_TTL_MINUTES", 10, min_value=1, max_value=60)
SMS_RESEND_SECONDS = env.int("SMS_RESEND_SECONDS", 60, min_value=0, max_value=3600)
SMS_DAILY_LIMIT = env.int("SMS_DAILY_LIMIT", 10, min_value=1, max_value=1000)

# --- Members
JOIN_APPROVAL_WORKDAYS = env.int("JOIN_APPROVAL_WORKDAYS", 15, min_value=1, max_value=90)
# Seconds each process keeps a ceremony venue and the employer a typed name matched (0: off).
JOIN_CACHE_SECONDS = env.int("JOIN_CACHE_SECONDS", 3, min_value=0, max_value=60)
# The address printed in join and member-card QR codes (e.g. https://rh.example.org);
# empty: the host of the request that draws the code.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", "").rstrip("/")
if PUBLIC_BASE_URL and not PUBLIC_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("PUBLIC_BASE_URL must start with https:// or http://")

# --- Organisation registry
# Unions below this many children are listed at once; larger lists page lazily.
ORG_CHILDREN_PAGE_SIZE = env.int("ORG_CHILDREN_PAGE_SIZE", 50, min_value=10, max_value=500)

# --- Statistics (niangjia/stats): employers with at least this many staff should have a union
# (the formation rate's denominator). A change is picked up by a full recount on the next fold.
STATS_FORMATION_MIN_STAFF = env.int("STATS_FORMATION_MIN_STAFF", 25, min_value=1, max_value=10000)

# --- Background jobs (niangjia/jobs): the database is the queue, ``manage.py run_jobs`` the worker.
# JOBS_INLINE runs a job in the thread that queued it, once its transaction commits (tests).
JOBS_INLINE = env.bool("JOBS_INLINE", False)
# A running job whose worker has not written a heartbeat for this long goes back to the queue.
JOB_STALE_SECONDS = env.int("JOB_STALE_SECONDS", 30, min_value=3, max_value=3600)
# Runs after which a job whose worker keeps dying fails instead of being queued again.
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", 5, min_value=1, max_value=100)

# --- Roster imports (niangjia/imports): uploaded files wait here (private, never served) until
# their import is committed or deleted.
IMPORT_DIR = Path(env.str("IMPORT_DIR", str(VAR_DIR / "imports")))
# Chunks of a roster commit written at once on PostgreSQL, each in its own connection.
IMPORT_COMMIT_WORKERS = env.int("IMPORT_COMMIT_WORKERS", 2, min_value=1, max_value=8)
# Staged rows written per transaction of a roster commit (each chunk is also its checkpoint).
IMPORT_COMMIT_CHUNK = env.int("IMPORT_COMMIT_CHUNK", 50_000, min_value=1, max_value=1_000_000)
# Uploaded rosters: the largest file taken, and the most its workbook may unpack to (zip bombs).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", 200 * 1024 * 1024, min_value=1024)
IMPORT_MAX_UNCOMPRESSED = env.int("IMPORT_MAX_UNCOMPRESSED", 2 * 1024**3, min_value=1024)

# --- Exports (niangjia/exports): bigger exports are written by a background job and stored
# here (private, downloaded by their owner only) for EXPORT_KEEP_HOURS; an unmasked export of
# more than EXPORT_UNMASKED_APPROVAL_ROWS rows needs the approval of a higher union's admin.
EXPORT_DIR = Path(env.str("EXPORT_DIR", str(VAR_DIR / "exports")))
EXPORT_INLINE_ROWS = env.int("EXPORT_INLINE_ROWS", 5000, min_value=0, max_value=1_000_000)
EXPORT_UNMASKED_APPROVAL_ROWS = env.int(
    "EXPORT_UNMASKED_APPROVAL_ROWS", 1000, min_value=0, max_value=1_000_000
)
EXPORT_KEEP_HOURS = env.int("EXPORT_KEEP_HOURS", 24, min_value=1, max_value=24 * 90)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "filters": {"request_id": {"()": "niangjia.audit.middleware.RequestIdLogFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
