"""Test settings: the real PostgreSQL when it is there, SQLite otherwise (never under CI).

TEST_DATABASE_URL picks the server (default: this machine's PostgreSQL, database `test`);
pytest-django creates and drops its own test database beside it. Under CI=true a missing
PostgreSQL is an error, never a silent fall-back.
"""

import os
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.settings import *
from config.settings import BASE_DIR, DATABASES, env_bool

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CI = env_bool("CI", False)


def reachable(url):
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=1):
            return True
    except OSError:
        return False


if TEST_DATABASE_URL.startswith("sqlite"):
    DATABASES["default"] = dj_database_url.parse(TEST_DATABASE_URL)
elif reachable(TEST_DATABASE_URL):
    DATABASES["default"] = dj_database_url.parse(TEST_DATABASE_URL)
    if os.environ.get("TEST_DATABASE_NAME"):
        DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
elif CI:
    raise ImproperlyConfigured(f"CI=true but PostgreSQL is not reachable at {TEST_DATABASE_URL}")
else:
    DATABASES["default"] = dj_database_url.parse("sqlite:///:memory:")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SITE_URL = "http://testserver"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
# Tests never run collectstatic: whitenoise finds the files itself instead of warning, on every
# request handler it builds, that STATIC_ROOT does not exist.
WHITENOISE_AUTOREFRESH = True
# Tests serve their sources from 127.0.0.1 and write them under the temporary directory;
# tests of the limits themselves narrow these again.
FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
INGEST_FILE_ROOT = [BASE_DIR / "papers" / "fixtures", Path(tempfile.gettempdir())]
# Lookups never leave the machine: a test that does not start tests/lookup_stub.py (the
# `lookup_stub` fixture sets these to it) finds nothing listening here and fails fast.
LOOKUP_ARXIV_URL = "http://127.0.0.1:9/api/query"
LOOKUP_S2_URL = "http://127.0.0.1:9/graph/v1"
