"""Shared fixtures. A needed service that is missing skips a test locally and fails it under CI."""

import os
import shutil

import pytest
from django.conf import settings

from tests.settings import CI, TEST_REDIS_URL, reachable

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "papers", "fixtures")


def require(condition, what):
    if condition:
        return
    if CI:
        pytest.fail(f"CI=true and {what} is missing: nothing that needs a service is skipped under CI")
    pytest.skip(f"{what} is not available here")


@pytest.fixture
def redis_url():
    """The real Redis on this machine (a database of its own, flushed around each test)."""
    require(reachable(TEST_REDIS_URL), f"Redis at {TEST_REDIS_URL}")
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    yield TEST_REDIS_URL
    client.flushdb()


@pytest.fixture
def postgres():
    """Marks a test that needs the real PostgreSQL rather than the SQLite fall-back."""
    require(settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), "PostgreSQL")


@pytest.fixture(scope="session")
def chromium_path():
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    require(os.path.exists(path) or shutil.which(path), f"Debian's chromium at {path}")
    return path


@pytest.fixture
def fixture_path():
    """Path of a bundled sample file under papers/fixtures/."""
    return lambda *parts: os.path.join(FIXTURES, *parts)
