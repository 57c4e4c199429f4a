"""Django settings for Mint Portal.

Every value comes from an environment variable read by ``mintportal.env``; a bad value stops start-up
with an error naming the variable. README.md lists every variable with its default.
https://docs.djangoproject.com/en/6.1/ref/settings/
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from mintportal.env import env

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the embedded default writes (SQLite file, file cache, Celery folders) lives here.
RUN_DIR = Path(env.text("PORTAL_RUN_DIR", str(BASE_DIR / "var")))

DEBUG = env.boolean("DJANGO_DEBUG", False)
SECRET_KEY = env.text("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else None)
ALLOWED_HOSTS = env.comma_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.comma_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "mintportal",
    "accounts",
    "workflows",
    "privacy",
    "journeys",
    "savedviews",
    "launches",
    "approvals",
    "bulk",
    "notifications",
    "compliance",
    "operations",
    "sso",
]

MIDDLEWARE = [
    # First, so that the request histogram times everything below.
    "mintportal.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "mintportal.middleware.MintBudgetMiddleware",
    "mintportal.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "mintportal.security.NoStoreMiddleware",
    "mintportal.security.SessionTimeoutMiddleware",
    "accounts.signin.SignInRefusalMiddleware",
    "accounts.preferences.TimeZoneMiddleware",
    # Exceptions travel up this list: a Mint failure is answered first, then a refusal is audited, then answered.
    "mintportal.middleware.ApplicationErrorMiddleware",
    "accounts.middleware.RefusedWriteAuditMiddleware",
    "mintportal.middleware.MintErrorMiddleware",
]

ROOT_URLCONF = "mintportal.urls"
WSGI_APPLICATION = "mintportal.wsgi.application"
ASGI_APPLICATION = "mintportal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mintportal.context_processors.portal",
            ],
        },
    },
]

# https://docs.djangoproject.com/en/6.1/ref/csp/
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

DATABASE_URL = env.text("DATABASE_URL", f"sqlite:///{RUN_DIR / 'portal.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the worker share the embedded SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: the inbox's semi-joins are estimated far above jit_above_cost, and compiling them took a second
    # where running them takes 60 ms (bench.inbox, a superuser's tab counts at 100k journeys).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.optional_url("REDIS_URL", schemes=("redis", "rediss", "unix"))

# https://docs.djangoproject.com/en/6.1/topics/cache/
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.text("CACHE_KEY_PREFIX", "mintportal"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # The embedded default has no Redis server; a file cache is still shared by every local process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(RUN_DIR / "cache"),
            "KEY_PREFIX": env.text("CACHE_KEY_PREFIX", "mintportal"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.text("PORTAL_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = RUN_DIR / "staticfiles"

# --- HTTPS, cookies and sessions --------------------------------------------------------------
# https://docs.djangoproject.com/en/6.1/howto/deployment/checklist/
# Whether browsers reach the portal over HTTPS. The redirect and HSTS default to it, so that a deployment that
# says "plain http" (the embedded default's var/demo.env, even one written before they existed) keeps working,
# and one that says nothing gets all of them.
SECURE_COOKIES = env.boolean("DJANGO_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
# A __Host- cookie must be Secure, for this host only and path /: a sibling subdomain cannot plant or replace it.
# https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Cookies#cookie_prefixes
SESSION_COOKIE_NAME = "__Host-sessionid" if SECURE_COOKIES else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if SECURE_COOKIES else "csrftoken"
SECURE_SSL_REDIRECT = env.boolean("DJANGO_SECURE_SSL_REDIRECT", SECURE_COOKIES)
# Health checks and signed webhook deliveries reach the web container over the internal network in plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$", r"^webhooks/"]
# https://docs.djangoproject.com/en/6.1/ref/middleware/#http-strict-transport-security
SECURE_HSTS_SECONDS = env.integer("DJANGO_SECURE_HSTS_SECONDS", 31536000 if SECURE_COOKIES else 0, low=0, high=63072000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.boolean("DJANGO_SECURE_HSTS_PRELOAD", True)
# The header a TLS-terminating proxy sets to "https" (e.g. X-Forwarded-Proto); only where that proxy strips it
# from what clients send. https://docs.djangoproject.com/en/6.1/ref/settings/#secure-proxy-ssl-header
_proxy_ssl_header = env.optional_header("DJANGO_SECURE_PROXY_SSL_HEADER")
SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None

# A bulk action may name up to 10,000 ticked journeys (bulk.selectors), each a form field; Django's default of
# 1,000 fields would refuse larger selections with a bare 400 before the portal could answer.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_100

# The absolute lifetime of a session, from sign-in; the cookie expires with it.
SESSION_COOKIE_AGE = env.integer("PORTAL_SESSION_MAX_AGE", 12 * 3600, low=300, high=30 * 86400)
# A session ends after this long without a request the user made (background polls do not count):
# mintportal/security.py.
SESSION_IDLE_TIMEOUT = env.integer("PORTAL_SESSION_IDLE_TIMEOUT", 30 * 60, low=60, high=30 * 86400)
if SESSION_IDLE_TIMEOUT > SESSION_COOKIE_AGE:
    raise ImproperlyConfigured("PORTAL_SESSION_IDLE_TIMEOUT must not be longer than PORTAL_SESSION_MAX_AGE")

# --- Sign-in throttle (accounts/signin.py) ---------------------------------------------------------
# Every password check goes through the throttle: the portal's sign-in page, the admin's, and authenticate().
AUTHENTICATION_BACKENDS = ["accounts.signin.ThrottledModelBackend"]
# This many failures of one account or one client address within the window start a lockout...
SIGNIN_FAILURE_LIMIT = env.integer("PORTAL_SIGNIN_FAILURE_LIMIT", 5, low=1, high=1000)
# One address counts everyone's failures there (an office behind NAT, a proxy), so it gets four accounts' worth:
# one person's typos never lock their colleagues out, while guessing across many accounts still stops.
SIGNIN_ADDRESS_FAILURE_LIMIT = env.integer("PORTAL_SIGNIN_ADDRESS_FAILURE_LIMIT", 4 * SIGNIN_FAILURE_LIMIT, low=1,
                                       high=10000)
SIGNIN_FAILURE_WINDOW = env.integer("PORTAL_SIGNIN_FAILURE_WINDOW", 15 * 60, low=60, high=86400)
# ...of 1 minute, then 2, 4, 8... in a row, never longer than this many seconds.
SIGNIN_MAX_COOLOFF = env.integer("PORTAL_SIGNIN_MAX_COOLOFF", 3600, low=60, high=7 * 86400)
# The client address is REMOTE_ADDR unless a proxy in front sets this header (X-Forwarded-For, X-Real-IP);
# then the address that many trusted proxies from the right end of that header is the client's.
CLIENT_ADDRESS_HEADER = env.optional_header("PORTAL_CLIENT_ADDRESS_HEADER")
TRUSTED_PROXY_COUNT = env.integer("PORTAL_TRUSTED_PROXY_COUNT", 1, low=1, high=10)

# --- Mint -------------------------------------------------------------------------------------
MINT_BASE_URL = env.url("MINT_BASE_URL", "http://127.0.0.1:8001/mint")
MINT_TOKEN_URL = env.url("MINT_TOKEN_URL", "http://127.0.0.1:8001/auth/open/connect/token")
MINT_CLIENT_ID = env.text("MINT_CLIENT_ID", required=True)
MINT_CLIENT_SECRET = env.text("MINT_CLIENT_SECRET", required=True)
MINT_CONNECT_TIMEOUT = env.number("MINT_CONNECT_TIMEOUT", 3.05, low=0.1, high=60)
MINT_READ_TIMEOUT = env.number("MINT_READ_TIMEOUT", 15, low=0.1, high=300)
# How many retries one call may spend on connection failures, 429 and 502/503/504.
MINT_MAX_RETRIES = env.integer("MINT_MAX_RETRIES", 3, low=0, high=10)
# Longest single wait between retries, also the cap on an honoured Retry-After.
MINT_MAX_RETRY_WAIT = env.number("MINT_MAX_RETRY_WAIT", 30, low=0, high=600)
# Seconds all Mint reads of one web request may take together: one attempt each, never a wait on Retry-After;
# then the page shows what the portal last knew. Retries with backoff belong to Celery tasks.
MINT_WEB_TIMEOUT = env.number("MINT_WEB_TIMEOUT", 3, low=0.1, high=60)
# At most this many threads of one web process wait on Mint at once (a bulkhead; 0: no limit), so that a slow
# Mint never holds every thread: about half of gunicorn's --threads leaves the rest for pages without Mint.
MINT_WEB_CONCURRENCY = env.integer("MINT_WEB_CONCURRENCY", 0, low=0, high=1000)
# Circuit breaker per group of Mint operations (workflow reads, journey reads, writes), shared through the
# cache: this many failures within MINT_BREAKER_WINDOW seconds open it; calls then fail at once for
# MINT_BREAKER_COOLDOWN seconds, after which one probe call decides whether it closes.
# https://martinfowler.com/bliki/CircuitBreaker.html
MINT_BREAKER_FAILURES = env.integer("MINT_BREAKER_FAILURES", 5, low=1, high=1000)
MINT_BREAKER_WINDOW = env.number("MINT_BREAKER_WINDOW", 30, low=1, high=3600)
MINT_BREAKER_COOLDOWN = env.number("MINT_BREAKER_COOLDOWN", 15, low=1, high=3600)
# How long the last known copy of a workflow listing, definition or the step types is kept to be served
# (and refreshed in the background) once it is stale, e.g. through an outage of Mint.
MINT_STALE_TTL = env.integer("MINT_STALE_TTL", 86400, low=60, high=30 * 86400)

# --- Metrics (mintportal/metrics.py) ------------------------------------------------------------
# /metrics answers a request with "Authorization: Bearer <METRICS_TOKEN>" or from one of these addresses or
# networks (REMOTE_ADDR, e.g. "10.0.0.0/8,127.0.0.1"); with neither set it answers 404.
METRICS_TOKEN = env.optional_text("METRICS_TOKEN")
try:
    METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network(item, strict=False)
                                for item in env.comma_list("METRICS_ALLOWED_ADDRESSES", [])]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_ADDRESSES must list IP addresses or networks: {exc}") from None

# --- Single sign-on (sso/; README, "Single sign-on") -----------------------------------------
# The OpenID Connect issuer of the companies' identity provider; empty turns single sign-on off. Discovery is
# read from <issuer>/.well-known/openid-configuration. https://openid.net/specs/openid-connect-discovery-1_0.html
OIDC_ISSUER = env.optional_url("OIDC_ISSUER", schemes=("https", "http")) or ""
if OIDC_ISSUER.startswith("http://") and urlsplit(OIDC_ISSUER).hostname not in {"127.0.0.1", "localhost", "::1"}:
    # Discovery and keys fetched over plain HTTP could be swapped by anyone on the path.
    raise ImproperlyConfigured("OIDC_ISSUER must start with https:// (plain http only for a provider on this machine)")
OIDC_CLIENT_ID = env.text("OIDC_CLIENT_ID", required=True) if OIDC_ISSUER else ""
OIDC_CLIENT_SECRET = env.text("OIDC_CLIENT_SECRET", required=True) if OIDC_ISSUER else ""
# The sign-in button reads "Sign in with <OIDC_PROVIDER_NAME>".
OIDC_PROVIDER_NAME = env.text("OIDC_PROVIDER_NAME", "your company account")
# The ID token claim whose values (group or role names) admins map to teams; a dotted path reaches into
# nested claims (Keycloak's realm_access.roles).
OIDC_GROUPS_CLAIM = env.text("OIDC_GROUPS_CLAIM", "groups")
OIDC_SCOPES = env.text("OIDC_SCOPES", "openid profile email")
if "openid" not in OIDC_SCOPES.split():
    raise ImproperlyConfigured(f"OIDC_SCOPES must include openid, got {OIDC_SCOPES!r}")
# The callback URL registered at the provider; unset, it is built from the request (<host>/sso/callback/).
OIDC_REDIRECT_URI = env.optional_text("OIDC_REDIRECT_URI")
if OIDC_REDIRECT_URI and urlsplit(OIDC_REDIRECT_URI).scheme not in {"http", "https"}:
    raise ImproperlyConfigured(f"OIDC_REDIRECT_URI must be an http(s) URL, got {OIDC_REDIRECT_URI!r}")
OIDC_TIMEOUT = env.number("OIDC_TIMEOUT", 5, low=0.1, high=60)

# --- Background work --------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    # kombu's filesystem transport: a real worker and beat on one machine with no broker server.
    CELERY_BROKER_URL = "filesystem://"
    # kombu's filesystem transport with atomic message files (mintportal/broker.py): stock kombu lets a reader
    # meet a message its writer has created but not yet filled, which stops the worker.
    CELERY_BROKER_TRANSPORT = "mintportal.broker:Transport"
    _celery_queue = RUN_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_queue),
        "data_folder_out": str(_celery_queue),
        "processed_folder": str(RUN_DIR / "celery" / "processed"),
        # Exchange tables; kombu's default is a "control" folder in the working directory.
        "control_folder": str(RUN_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.boolean("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"

# --- Sync, webhooks and launches (journeys/services/sync.py, workflows/sync.py, journeys/webhooks.py, launches/)
# Seconds between incremental journey syncs (Celery beat); 0 turns the schedule off.
MINT_SYNC_INTERVAL = env.integer("MINT_SYNC_INTERVAL", 60, low=0, high=86400)
# Seconds between full reconciles (every journey walked, missing ones marked gone); 0 turns it off.
MINT_FULL_RECONCILE_INTERVAL = env.integer("MINT_FULL_RECONCILE_INTERVAL", 86400, low=0, high=30 * 86400)
# Seconds between workflow mirror syncs (names and tags for scopes); 0 turns it off.
MINT_WORKFLOW_SYNC_INTERVAL = env.integer("MINT_WORKFLOW_SYNC_INTERVAL", 900, low=0, high=86400)
# Incremental syncs re-read journeys executed this long before the watermark (clock skew, same-instant writes).
MINT_SYNC_OVERLAP_SECONDS = env.integer("MINT_SYNC_OVERLAP_SECONDS", 120, low=0, high=86400)
# A sync's lease lasts this long without progress before another run may take over (a crashed worker).
MINT_SYNC_LEASE_SECONDS = env.integer("MINT_SYNC_LEASE_SECONDS", 300, low=10, high=86400)
# Queue a workflow and journey sync as soon as a worker starts, instead of waiting for beat's first interval
# (the embedded default turns it on so that the demo's mirror is filled at once).
MINT_SYNC_ON_WORKER_START = env.boolean("MINT_SYNC_ON_WORKER_START", False)
# Shared secret of Signicat Events deliveries to /webhooks/mint; unset refuses every delivery.
MINT_WEBHOOK_SECRET = env.optional_text("MINT_WEBHOOK_SECRET")
# Seconds between sweeps of the journeys the mirror holds as idle, running or active, which catch status
# changes without an execution (a journey cancelled from outside) that the incremental sync cannot see; 0 off.
MINT_SWEEP_INTERVAL = env.integer("MINT_SWEEP_INTERVAL", 300, low=0, high=86400)
# Seconds between step-history runs (journeys/services/step_history.py: the execution logs of journeys changed
# since their log was last read, at most 200 a run), which give the workflow graph its time in each step; 0 off.
MINT_STEP_HISTORY_INTERVAL = env.integer("MINT_STEP_HISTORY_INTERVAL", 60, low=0, high=86400)
# Launches per bulk-launch task: small enough that a redelivered chunk redoes little work.
BULK_LAUNCH_CHUNK_SIZE = env.integer("BULK_LAUNCH_CHUNK_SIZE", 50, low=1, high=1000)
# A launch's claim lives this long unless its worker renews it (every third of it, while Mint is called); a
# claim not renewed means the worker died, and the requeue (every 20 s) flags the launch for review.
LAUNCH_CLAIM_LEASE_SECONDS = env.integer("LAUNCH_CLAIM_LEASE_SECONDS", 30, low=3, high=3600)
# Bulk actions (bulk/): journeys per chunk task, journeys of a chunk acted on at once (each is its own Mint calls),
# and how long an item may stay taken before its worker is presumed dead and the item re-checked (well above one
# Mint write's timeouts and retries; the requeue runs every 20 s).
# Personal data (privacy/, compliance/). The key of the keyed hashes that stand in for personal values in the
# portal's database: set it to a long random value of its own in production and keep it (changing it makes stored
# hashes unfindable until each journey's data is read again); by default it is derived from SECRET_KEY.
PERSONAL_DATA_KEY = env.optional_text("PORTAL_PERSONAL_DATA_KEY") or hmac.new(
    SECRET_KEY.encode(), b"mintportal personal data", hashlib.sha256).hexdigest()
# How long a reveal shows a journey's personal values to the person who asked, in minutes.
PERSONAL_DATA_REVEAL_MINUTES = env.integer("PORTAL_REVEAL_MINUTES", 10, low=1, high=240)
# Days after a journey ends before the portal forgets its input and step data, unless a workflow sets its own
# (0: nothing is kept after the end).
PERSONAL_DATA_RETENTION_DAYS = env.integer("PORTAL_RETENTION_DAYS", 90, low=0, high=36500)
RETENTION_BATCH_SIZE = env.integer("PORTAL_RETENTION_BATCH_SIZE", 1000, low=1, high=100000)
RETENTION_INTERVAL = env.integer("PORTAL_RETENTION_INTERVAL", 3600, low=0, high=7 * 86400)
BULK_CHUNK_SIZE = env.integer("BULK_CHUNK_SIZE", 50, low=1, high=1000)
BULK_THREADS = env.integer("BULK_THREADS", 4, low=1, high=32)
BULK_CLAIM_LEASE_SECONDS = env.integer("BULK_CLAIM_LEASE_SECONDS", 120, low=10, high=3600)

# --- E-mail and notifications (notifications/) -----------------------------------------------------
# Links in mails are absolute: the address people reach the portal at.
PORTAL_BASE_URL = env.url("PORTAL_BASE_URL", "http://127.0.0.1:8000")
# Django's mailers (https://docs.djangoproject.com/en/6.1/topics/email/#mailers): the variables keep the names of
# Django's former EMAIL_* settings, which operators know; lower-case here, since those settings are deprecated.
_email_host = env.optional_text("EMAIL_HOST")
# Seconds to wait on the mail server before a run gives up and leaves its mails to the next run.
_email_timeout = env.number("EMAIL_TIMEOUT", 10, low=1, high=120)
if _email_host:
    # Implicit TLS (SMTPS, usually port 465) or STARTTLS (submission, usually 587); STARTTLS unless told otherwise.
    _email_use_ssl = env.boolean("EMAIL_USE_SSL", False)
    _email_use_tls = env.boolean("EMAIL_USE_TLS", not _email_use_ssl)
    if _email_use_ssl and _email_use_tls:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true")
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {
        "host": _email_host,
        "port": env.integer("EMAIL_PORT", 465 if _email_use_ssl else 587, low=1, high=65535),
        "username": env.optional_text("EMAIL_HOST_USER") or "",
        "password": env.optional_text("EMAIL_HOST_PASSWORD") or "",
        "use_tls": _email_use_tls,
        "use_ssl": _email_use_ssl,
        "timeout": _email_timeout,
    }}}
else:
    # The embedded default has no mail server: each mail is a file under var/mail/ to read. A deployment may run
    # without e-mail too (README: E-mail notifications), so Django's deploy check against a file backend is silenced.
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                           "OPTIONS": {"file_path": str(RUN_DIR / "mail")}}}
    SILENCED_SYSTEM_CHECKS = ["mail.E001"]
DEFAULT_FROM_EMAIL = SERVER_EMAIL = env.text("EMAIL_FROM", "Mint Portal <mint-portal@localhost>")
if "@" not in DEFAULT_FROM_EMAIL or "\n" in DEFAULT_FROM_EMAIL:
    raise ImproperlyConfigured(f"EMAIL_FROM must be an e-mail address, got {DEFAULT_FROM_EMAIL!r}")
# Seconds between notification runs (new work, assignments, SLA breaches); 0 turns e-mail notifications off.
NOTIFICATIONS_INTERVAL = env.integer("NOTIFICATIONS_INTERVAL", 60, low=0, high=86400)
# The hour (0-23, in PORTAL_TIME_ZONE) after which the daily digest goes out.
NOTIFICATIONS_DIGEST_HOUR = env.integer("NOTIFICATIONS_DIGEST_HOUR", 8, low=0, high=23)
# What someone who never chose gets: the digest tells everyone who may act without a mail per case.
NOTIFICATIONS_DEFAULT_MODE = env.choice("NOTIFICATIONS_DEFAULT_MODE", "digest", choices=("immediate", "digest", "off"))
# At most this many mails per run; the rest go out in the next runs.
NOTIFICATIONS_MAX_MAILS_PER_RUN = env.integer("NOTIFICATIONS_MAX_MAILS_PER_RUN", 200, low=1, high=10000)

# https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html
CELERY_BEAT_SCHEDULE = {
    name: {"task": task, "schedule": float(interval), "kwargs": kwargs, "options": {"expires": float(interval)}}
    for name, task, kwargs, interval in (
        ("sync-journeys", "journeys.tasks.journey_sync_task", {}, MINT_SYNC_INTERVAL),
        ("reconcile-journeys", "journeys.tasks.journey_sync_task", {"full": True}, MINT_FULL_RECONCILE_INTERVAL),
        ("sync-workflows", "workflows.tasks.workflow_sync_task", {}, MINT_WORKFLOW_SYNC_INTERVAL),
        ("prune-webhook-events", "journeys.tasks.webhook_events_prune_task", {}, 86400),
        ("sweep-journeys", "journeys.tasks.journey_sweep_task", {}, MINT_SWEEP_INTERVAL),
        ("read-step-history", "journeys.tasks.step_history_refresh_task", {}, MINT_STEP_HISTORY_INTERVAL),
        ("requeue-stale-launches", "launches.tasks.launch_requeue_stale_task", {}, 20),
        ("requeue-stale-bulk-jobs", "bulk.tasks.bulk_job_requeue_stale_task", {}, 20),
        # Decisions a dead worker left pending past their lease, settled with Mint (approvals.services).
        ("recover-stuck-decisions", "approvals.tasks.decision_recover_stuck_task", {}, 60),
        ("prune-signin-throttles", "accounts.tasks.signin_throttles_prune_task", {}, 3600),
        ("send-notifications", "notifications.tasks.notifications_send_task", {}, NOTIFICATIONS_INTERVAL),
        # Every ten minutes; the digest itself goes out once a day, after its hour (notifications/selectors.py).
        ("send-notification-digests", "notifications.tasks.notification_digests_send_task", {},
         600 if NOTIFICATIONS_INTERVAL else 0),
        ("prune-sent-mails", "notifications.tasks.sent_mails_prune_task", {}, 86400),
        # Forgets the data of journeys past their workflow's retention (compliance/services/retention.py).
        ("apply-retention", "compliance.tasks.retention_apply_task", {}, RETENTION_INTERVAL),
        ("prune-reveal-grants", "privacy.tasks.reveal_grants_prune_task", {}, 3600),
        # Finished case-file zips may hold revealed data: deleted a day after (compliance/casefile_jobs.py).
        ("prune-casefile-jobs", "compliance.tasks.casefile_jobs_prune_task", {}, 3600),
    )
    if interval > 0
}

# "json": one JSON object per line (mintportal/logs.py) from web, worker and beat alike; "text" by default.
LOG_FORMAT = env.choice("PORTAL_LOG_FORMAT", "text", choices=("text", "json"))
_LOGGERS: dict[str, dict[str, object]] = {
    "django.db.backends": {"level": "WARNING"},
    # urllib3 logs request lines at DEBUG, which could carry query strings; keep it quiet.
    "urllib3": {"level": "WARNING"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "mintportal.logs.JsonLinesFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "plain"},
    },
    "root": {"handlers": ["console"], "level": env.text("LOG_LEVEL", "INFO")},
    "loggers": _LOGGERS,
}
if LOG_FORMAT == "json":
    # Celery's worker and beat replace the root logger's handlers with their own text format unless told not
    # to; its task logger and the pool's multiprocessing logger keep theirs only when none are configured.
    # https://docs.celeryq.dev/en/stable/userguide/configuration.html#worker-hijack-root-logger
    CELERY_WORKER_HIJACK_ROOT_LOGGER = False
    # Python's warnings (Celery's SecurityWarning, deprecations) go through logging too, so stderr stays JSON.
    logging.captureWarnings(True)
    _LOGGERS.update({
        name: {"handlers": ["console"], "propagate": False} for name in ("celery.task", "multiprocessing")
    })
