"""An operator (or a load balancer) asks whether the service is healthy: /healthz and `manage.py status`."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from digest.models import Digest
from papers.models import IngestRun, Source
from tests.conftest import require
from tests.factories import make_digest, make_subscribers
from tests.services import PIPELINE_REDIS_URL, free_port
from tests.settings import reachable

pytestmark = pytest.mark.django_db


def ingest_run(hours_ago, status=IngestRun.Status.OK):
    source, _ = Source.objects.get_or_create(name="arxiv cs.CL", defaults={"location": "https://example.org/feed"})
    at = timezone.now() - timedelta(hours=hours_ago)
    return IngestRun.objects.create(source=source, started_at=at, finished_at=at, status=status)


@pytest.fixture
def real_redis():
    require(reachable(PIPELINE_REDIS_URL), f"Redis at {PIPELINE_REDIS_URL}")
    with override_settings(REDIS_URL=PIPELINE_REDIS_URL):
        yield


def test_a_healthy_service_answers_200_with_each_check(admin_client, real_redis):
    ingest_run(hours_ago=3)

    response = admin_client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    assert 2.9 < body["checks"]["ingest"]["age_hours"] < 3.1
    assert response["Cache-Control"].startswith("max-age=0")


def test_an_ingest_that_stopped_succeeding_makes_it_unhealthy(admin_client):
    ingest_run(hours_ago=50)
    ingest_run(hours_ago=1, status=IngestRun.Status.FAILED)

    response = admin_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["ingest"] == {
        "ok": False,
        "last_success": IngestRun.objects.filter(status="ok").get().finished_at.isoformat(),
        "age_hours": 50.0,
        "max_age_hours": 36,
    }


def test_sources_that_never_ingested_are_unhealthy_but_a_fresh_install_is_not(client):
    assert client.get("/healthz").status_code == 200
    Source.objects.create(name="feed", location="https://example.org/feed")
    assert client.get("/healthz").status_code == 503


def test_reading_a_file_once_does_not_pass_for_the_daily_ingest(client, fixture_path):
    from papers.ingest import ingest

    Source.objects.create(name="feed", location="https://example.org/feed")
    ingest(fixture_path("feeds", "hf-daily-papers-api-2026-06-12.json"))  # what `make demo` does

    assert client.get("/healthz").status_code == 503


def test_redis_down_is_reported_not_raised(admin_client):
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        response = admin_client.get("/healthz")

    assert response.status_code == 503
    assert "ConnectionError" in response.json()["checks"]["redis"]["error"]


def test_the_public_sees_whether_each_check_passes_but_never_internal_addresses_or_errors(client):
    port = free_port()
    ingest_run(hours_ago=50)
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{port}/0"):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "ok": False,
        "checks": {"database": {"ok": True}, "redis": {"ok": False}, "ingest": {"ok": False}},
    }
    assert str(port) not in response.content.decode()


@time_machine.travel("2026-08-07 12:00:00+00:00", tick=False)
def test_status_prints_the_checks_and_todays_counts(real_redis):
    ingest_run(hours_ago=1)
    ingest_run(hours_ago=0.5, status=IngestRun.Status.PARTIAL)
    readers = make_subscribers(3, prefix="status")
    today = timezone.now().date()
    make_digest(readers[0], status=Digest.Status.SENT)
    make_digest(readers[1], status=Digest.Status.SENT)
    make_digest(readers[2], status=Digest.Status.FAILED)
    out = StringIO()

    call_command("status", stdout=out)

    text = out.getvalue()
    assert "database  ok" in text and "redis     ok" in text and "ingest    ok" in text
    assert f"digests for {today}: failed 1, sent 2" in text
    assert "ingest runs today: ok 1, partial 1" in text
    assert text.strip().endswith("healthy")


def test_status_exits_non_zero_when_unhealthy():
    ingest_run(hours_ago=100)
    out = StringIO()

    with pytest.raises(SystemExit) as exit:
        call_command("status", stdout=out)

    assert exit.value.code == 1
    assert "ingest    FAILING" in out.getvalue() and "UNHEALTHY" in out.getvalue()
