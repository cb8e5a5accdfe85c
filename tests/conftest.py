"""Shared fixtures. A needed service that is missing skips a test locally and fails it under CI.

Objects in the database are built with tests/factories.py; servers and workers are in tests/services.py.
"""

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
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


def flushed_redis(url):
    """The real Redis database at `url`, flushed before and after the test."""
    require(reachable(url), f"Redis at {url}")
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture
def redis_url():
    """The real Redis on this machine, for the cache (a database of its own)."""
    yield from flushed_redis(TEST_REDIS_URL)


@pytest.fixture
def broker(postgres):
    """The real Redis as the Celery broker of real worker processes (another database)."""
    from tests.services import PIPELINE_REDIS_URL

    yield from flushed_redis(PIPELINE_REDIS_URL)


@pytest.fixture
def postgres():
    """Marks a test that needs the real PostgreSQL rather than the SQLite fall-back."""
    require(settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), "PostgreSQL")


@pytest.fixture(scope="session")
def chromium_path():
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    require(os.path.exists(path) or shutil.which(path), f"Debian's chromium at {path}")
    return path


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(chromium_path):
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshots(tmp_path):
    """Where browser stories save their screenshots: a temporary folder, or SCREENSHOTS_DIR
    (`make screenshots` sets it to docs/screenshots/, which the README shows)."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def fixture_path():
    """Path of a bundled sample file under papers/fixtures/."""
    return lambda *parts: os.path.join(FIXTURES, *parts)


class FakeModel:
    """Deterministic unit vectors per text; remembers every text it was asked to embed."""

    def __init__(self):
        self.texts = []

    def encode(self, texts, batch_size=None, progress=None):
        texts = list(texts)
        self.texts += texts
        rows = [
            np.random.default_rng(int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)).normal(size=384) for t in texts
        ]
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), 384)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True).clip(1e-9)


@pytest.fixture
def fake_model(monkeypatch):
    """A stand-in embedding model: deterministic unit vectors, and a record of every text embedded."""
    from papers import embeddings

    model = FakeModel()
    monkeypatch.setattr(embeddings, "encode", model.encode)
    return model


@pytest.fixture
def local_server(monkeypatch):
    """A local HTTP server on 127.0.0.1; fetch retries do not actually sleep."""
    from papers import fetch
    from tests.services import LocalServer

    monkeypatch.setattr(fetch, "sleep", lambda seconds: None)
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def lookup_stub(settings, monkeypatch):
    """The arXiv API and Semantic Scholar as a local stub on 127.0.0.1 (tests/lookup_stub.py),
    with no wait between requests and short timeouts; the lookup cache starts empty."""
    from django.core.cache import cache

    from papers import fetch
    from tests.lookup_stub import LookupStub

    stub = LookupStub()
    settings.LOOKUP_ARXIV_URL, settings.LOOKUP_S2_URL = stub.arxiv_url, stub.s2_url
    settings.LOOKUP_ARXIV_INTERVAL = settings.LOOKUP_S2_INTERVAL = 0
    settings.LOOKUP_TIMEOUT, settings.LOOKUP_RETRIES = 1, 1
    monkeypatch.setattr(fetch, "sleep", lambda seconds: None)
    cache.clear()
    yield stub
    stub.close()
    cache.clear()


@pytest.fixture
def model_calls(monkeypatch, fake_model):
    """Every use of the embedding model (the stand-in), each marked "in request" when it came
    before the response of the request under way was complete, else "after response".

    The test client closes each response before it returns, and config.deferred runs the
    tasks a request queued only then: so a model call marked "in request" is one a visitor
    would have waited for.
    """
    from django.core.signals import request_started
    from django.http import HttpResponseBase

    from papers import embeddings

    calls = []
    state = {"when": "outside any request"}
    close = HttpResponseBase.close

    def response_closed(response):
        state["when"] = "after response"
        close(response)

    def started(**kwargs):
        state["when"] = "in request"

    def encode(texts, **kwargs):
        texts = list(texts)
        calls.append((state["when"], texts))
        return fake_model.encode(texts, **kwargs)

    monkeypatch.setattr(HttpResponseBase, "close", response_closed)
    monkeypatch.setattr(embeddings, "encode", encode)
    monkeypatch.setattr(embeddings, "embedding_dim", lambda: 384)
    request_started.connect(started, dispatch_uid="tests.model_calls")
    yield calls
    request_started.disconnect(dispatch_uid="tests.model_calls")
