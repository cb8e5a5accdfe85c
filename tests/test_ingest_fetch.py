"""Sources on the web are fetched politely: validators, retries, a size cap and a clear User-Agent."""

import gzip
from datetime import date

import pytest

from papers.fetch import FetchError, fetch
from papers.ingest import ingest, ingest_source
from papers.models import IngestRun, Paper, Source
from tests.factories import arxiv_rss

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)
FEED = arxiv_rss([("2411.00020", 1, "new", "Fetched Over HTTP", "An abstract.")])


def test_a_feed_url_is_fetched_with_our_user_agent_and_its_validators_are_kept(local_server, settings):
    local_server.routes["/rss/cs.LG"] = [
        (200, {"ETag": '"v1"', "Last-Modified": "Thu, 28 Nov 2024 05:00:00 GMT"}, FEED)
    ]
    source = Source.objects.create(name="cs.LG", location=local_server.url("/rss/cs.LG"))

    run = ingest_source(source)

    assert (run.status, run.new) == (IngestRun.Status.OK, 1)
    source.refresh_from_db()
    assert (source.etag, source.last_modified) == ('"v1"', "Thu, 28 Nov 2024 05:00:00 GMT")
    headers = local_server.requests[0][1]
    assert headers["User-Agent"] == settings.FETCH_USER_AGENT
    assert "If-None-Match" not in headers


def test_an_unchanged_feed_answers_304_and_nothing_is_parsed(local_server):
    local_server.routes["/rss/cs.LG"] = [(200, {"ETag": '"v1"'}, FEED), (304, {}, b"")]
    source = Source.objects.create(name="cs.LG", location=local_server.url("/rss/cs.LG"))
    ingest_source(source)

    again = ingest_source(source)

    assert again.status == IngestRun.Status.NOT_MODIFIED
    assert (again.seen, again.new) == (0, 0)
    assert local_server.requests[1][1]["If-None-Match"] == '"v1"'
    assert Paper.objects.count() == 1


def test_server_errors_are_retried_and_then_the_feed_is_read(local_server):
    local_server.routes["/flaky"] = [(503, {}, b"busy"), (502, {}, b"bad gateway"), (200, {}, FEED)]

    run = ingest(local_server.url("/flaky"), today=TODAY)

    assert (run.status, run.new) == (IngestRun.Status.OK, 1)
    assert len(local_server.requests) == 3


def test_a_server_that_keeps_failing_gives_up_after_the_configured_retries(local_server, settings):
    settings.FETCH_RETRIES = 2
    local_server.routes["/down"] = [(500, {}, b"oops")]

    run = ingest(local_server.url("/down"), today=TODAY)

    assert run.status == IngestRun.Status.FAILED
    assert run.message == f"HTTP 500 Internal Server Error from {local_server.url('/down')}"
    assert len(local_server.requests) == 3


def test_client_errors_are_not_retried(local_server):
    local_server.routes["/gone"] = [(410, {}, b"gone")]

    run = ingest(local_server.url("/gone"), today=TODAY)

    assert run.status == IngestRun.Status.FAILED and "HTTP 410" in run.message
    assert len(local_server.requests) == 1


def test_a_response_over_the_size_cap_is_refused(local_server, settings):
    settings.FETCH_MAX_BYTES = 1000
    local_server.routes["/huge"] = [(200, {}, b"<rss>" + b" " * 5000 + b"</rss>")]

    run = ingest(local_server.url("/huge"), today=TODAY)

    assert run.status == IngestRun.Status.FAILED
    assert run.message == f"{local_server.url('/huge')} sent more than 1000 bytes (FETCH_MAX_BYTES); stopped reading"


def test_a_compressed_response_is_unpacked_within_the_size_cap(local_server, settings):
    local_server.routes["/gz"] = [(200, {"Content-Encoding": "gzip"}, gzip.compress(FEED))]
    assert fetch(local_server.url("/gz")).content == FEED

    settings.FETCH_MAX_BYTES = len(FEED) - 1
    with pytest.raises(FetchError, match="unpacks to more than"):
        fetch(local_server.url("/gz"))


def test_a_file_over_the_size_cap_is_refused(tmp_path, settings):
    settings.FETCH_MAX_BYTES = 10
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)

    run = ingest(str(path), today=TODAY)

    assert run.status == IngestRun.Status.FAILED
    assert "over the 10-byte limit" in run.message


def test_file_urls_work_like_paths(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)

    assert fetch(path.as_uri()).content == FEED


def test_a_server_that_does_not_answer_in_time_fails_with_a_reason(local_server, settings):
    import time

    settings.FETCH_TIMEOUT = 0.2
    settings.FETCH_RETRIES = 0
    local_server.routes["/slow"] = [(200, {}, lambda: time.sleep(1) or FEED)]

    run = ingest(local_server.url("/slow"), today=TODAY)

    assert run.status == IngestRun.Status.FAILED
    assert run.message.startswith(f"Could not reach {local_server.url('/slow')}")
