"""An operator reads files and URLs once, or adds sources on purpose: only the latter are fetched every day,
and one place is one Source however it is spelt."""

import os

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from papers.ingest import ingest
from papers.models import IngestRun, Source

pytestmark = pytest.mark.django_db

HF = ("feeds", "hf-daily-papers-api-2026-06-12.json")


def test_ingesting_a_file_once_does_not_put_it_on_the_daily_schedule(fixture_path):
    call_command("ingest", fixture_path(*HF), "--no-embed", stdout=open(os.devnull, "w"))

    source = Source.objects.get()
    assert source.location == fixture_path(*HF) and not source.enabled


def test_a_missing_file_is_a_failed_run_of_a_source_that_is_not_scheduled(tmp_path):
    with pytest.raises(CommandError, match="Could not read"):
        call_command("ingest", str(tmp_path / "nowhere.xml"), stdout=open(os.devnull, "w"))

    assert IngestRun.objects.get().status == IngestRun.Status.FAILED
    assert not Source.objects.filter(enabled=True).exists()


def test_the_same_file_spelt_three_ways_is_one_source(fixture_path, monkeypatch):
    path = fixture_path(*HF)
    monkeypatch.chdir(os.path.dirname(path))

    for spelling in (path, os.path.basename(path), f"file://{path}"):
        ingest(spelling)

    assert Source.objects.count() == 1
    assert IngestRun.objects.filter(source__location=path).count() == 3


def test_ingesting_a_configured_sources_location_uses_that_source(fixture_path):
    configured = Source.objects.create(name="hf daily", location=fixture_path(*HF))

    run = ingest(fixture_path(*HF))

    assert run.source == configured and Source.objects.count() == 1


def test_a_url_is_one_source_whatever_the_case_of_its_host_port_or_fragment():
    Source.objects.create(name="cs.CL", location="HTTPS://RSS.arXiv.org:443/rss/cs.CL#today")

    duplicate = Source(name="cs.CL again", location="https://rss.arxiv.org/rss/cs.CL")
    with pytest.raises(ValidationError, match="Source cs.CL already reads this location"):
        duplicate.full_clean()
    assert Source.objects.get().location == "https://rss.arxiv.org/rss/cs.CL"


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("javascript:alert(1)//x", r"Not an http\(s\) URL or a file path"),
        ("ftp://example.org/feed.xml", r"Not an http\(s\) URL or a file path"),
        ("https://example.org/papers?day={day}", r"Only \{date\} or \{date:FORMAT\} may stand in braces"),
        ("https://example.org/papers?day={date:%Q}x{", r"Only \{date\} or \{date:FORMAT\} may stand in braces"),
    ],
)
def test_a_location_that_cannot_be_fetched_is_refused_with_the_reason(location, error):
    with pytest.raises(ValidationError, match=error):
        Source(name="bad", location=location).full_clean()
