"""A maintainer runs `manage.py bench` and gets the numbers, without touching anyone's data."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from subscriptions.models import Subscriber

STAGES = {"embed", "rank", "plan", "render", "send"}


@pytest.mark.services
@pytest.mark.django_db
def test_a_small_bench_run_reports_every_stage_and_leaves_real_subscribers_alone(settings, tmp_path, broker):
    settings.VAR_DIR = tmp_path
    Subscriber.objects.create(email="reader@example.org", status=Subscriber.Status.ACTIVE)
    out = StringIO()

    call_command(
        "bench", "--subscribers", "200", "--papers", "100", "--naive-sample", "20", "--broker-url", broker, stdout=out
    )

    report = json.loads((tmp_path / "bench" / "latest.json").read_text())
    assert set(report) == {
        "subscribers",
        "papers",
        "database",
        "stages",
        "end_to_end_seconds",
        "end_to_end_measured",
        "peak_rss_mb",
        "speedup_vs_naive",
        "machine",
    }
    assert (report["subscribers"], report["papers"]) == (200, 100)
    assert set(report["stages"]) == STAGES
    for name, stage in report["stages"].items():
        assert set(stage) == {"seconds", "per_second", "cpu_ms_per_item", "floor_per_second"}, name
        assert stage["seconds"] > 0 and stage["per_second"] > 0 and stage["floor_per_second"] > 0, name
    assert set(report["speedup_vs_naive"]) == {"rank", "render"}
    assert all(ratio > 0 for ratio in report["speedup_vs_naive"].values())
    assert set(report["machine"]) == {"cores", "python", "database"}
    assert report["end_to_end_seconds"] > 0 and report["peak_rss_mb"] > 0
    # The day ran through beat's task, Redis and a real worker: measured, not projected.
    assert report["end_to_end_measured"] is True and report["database"].startswith("PostgreSQL")

    table = out.getvalue()
    for name in STAGES:
        assert f"\n{name} " in table
    assert "end to end" in table and "speed-up vs naive" in table and "x floor" in table
    assert "sent 200 digests, 200 arrived at the SMTP sink" in table

    # The run had a database of its own: the real subscriber is there, no bench subscriber is.
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["reader@example.org"]
    assert not (tmp_path / "bench" / "bench.sqlite3").exists()
