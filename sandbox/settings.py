"""Django settings of the sandbox, read from SANDBOX_* environment variables (README lists them).

The sandbox is its own program: it never loads ``mintportal.settings`` and shares nothing with the portal
but HTTP. https://docs.djangoproject.com/en/6.1/ref/settings/
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from sandbox.env import read_bool, read_int, read_optional, read_str

BASE_DIR = Path(__file__).resolve().parent.parent

SANDBOX_DATABASE_PATH = Path(read_str("SANDBOX_DATABASE_PATH", str(BASE_DIR / "var" / "sandbox.sqlite3")))
SANDBOX_PUBLIC_URL = read_str("SANDBOX_PUBLIC_URL", "http://127.0.0.1:8001").rstrip("/")
if urlsplit(SANDBOX_PUBLIC_URL).scheme not in {"http", "https"} or not urlsplit(SANDBOX_PUBLIC_URL).netloc:
    raise ImproperlyConfigured(f"SANDBOX_PUBLIC_URL must be an http(s) URL, got {SANDBOX_PUBLIC_URL!r}")
SANDBOX_CLIENT_ID = read_str("SANDBOX_CLIENT_ID")
SANDBOX_CLIENT_SECRET = read_str("SANDBOX_CLIENT_SECRET")
# Signicat's default access token lifetime is 600 s, configurable between 1 and 3600.
SANDBOX_TOKEN_TTL = read_int("SANDBOX_TOKEN_TTL", 600, low=1, high=3600)
SANDBOX_CONTROL = read_bool("SANDBOX_CONTROL", False)
# Seconds an active journey may wait for someone before the sandbox cancels it (default 30 days).
SANDBOX_INACTIVITY_LIMIT = read_int("SANDBOX_INACTIVITY_LIMIT", 30 * 24 * 3600, low=1, high=10 * 365 * 24 * 3600)
SANDBOX_WEBHOOK_URL = read_optional("SANDBOX_WEBHOOK_URL")
SANDBOX_WEBHOOK_SECRET = read_optional("SANDBOX_WEBHOOK_SECRET")
if SANDBOX_WEBHOOK_URL and not SANDBOX_WEBHOOK_SECRET:
    raise ImproperlyConfigured("SANDBOX_WEBHOOK_SECRET must be set when SANDBOX_WEBHOOK_URL is set")
# The OpenID Connect provider's registered relying party (the portal's single sign-on); more can be added
# through the control API. Redirect URIs are comma-separated and must match the portal's exactly.
SANDBOX_OIDC_CLIENT_ID = read_optional("SANDBOX_OIDC_CLIENT_ID")
SANDBOX_OIDC_CLIENT_SECRET = read_optional("SANDBOX_OIDC_CLIENT_SECRET")
SANDBOX_OIDC_REDIRECT_URIS = [uri.strip() for uri in (read_optional("SANDBOX_OIDC_REDIRECT_URIS") or "").split(",")
                              if uri.strip()]
if SANDBOX_OIDC_CLIENT_ID and (not SANDBOX_OIDC_CLIENT_SECRET or not SANDBOX_OIDC_REDIRECT_URIS):
    raise ImproperlyConfigured(
        "SANDBOX_OIDC_CLIENT_SECRET and SANDBOX_OIDC_REDIRECT_URIS must be set when SANDBOX_OIDC_CLIENT_ID is set")

# Signs journey URLs and CSRF-protected end-user forms. Derived from the client secret so that links survive a
# restart without one more variable to manage; the derivation is one-way, so the secret itself never leaks.
SECRET_KEY = hashlib.sha256(f"mint-sandbox-signing:{SANDBOX_CLIENT_SECRET}".encode()).hexdigest()
DEBUG = False
# The sandbox answers whatever host name it is reached by (loopback, a compose service name, a tunnel).
ALLOWED_HOSTS = ["*"]
CSRF_TRUSTED_ORIGINS = [f"{urlsplit(SANDBOX_PUBLIC_URL).scheme}://{urlsplit(SANDBOX_PUBLIC_URL).netloc}"]

INSTALLED_APPS = ["django.contrib.contenttypes", "sandbox.core", "sandbox.events", "sandbox.oidc"]

MIDDLEWARE = [
    "sandbox.core.middleware.TraceMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "sandbox.core.middleware.OperationMiddleware",
]

ROOT_URLCONF = "sandbox.urls"
WSGI_APPLICATION = "sandbox.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(SANDBOX_DATABASE_PATH),
        # Each server thread keeps its connection for as long as its client's keep-alive connection lasts (the
        # server closes it when that ends): opening one per request cost more than most requests themselves.
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            # Seconds a connection waits for another thread's write lock instead of failing with "locked".
            "timeout": 30,
            # Writers take the lock when their transaction begins, so a read never has to upgrade mid-way
            # (the upgrade is what fails with SQLITE_BUSY under concurrency).
            # https://docs.djangoproject.com/en/6.1/ref/databases/#sqlite-transaction-behavior
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.csrf"]},
    }
]

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = False

# Uploaded workflow files are kept in memory up to this size before Django spills them to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

CSRF_COOKIE_NAME = "sandbox_csrftoken"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "sandbox.core.pages.csrf_failure"

# Request bodies and Authorization headers are never logged: the only request log line is method, path, status.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # Django's request logger prints the request object on errors; our own handler logs a safe line instead.
        "django.request": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}
