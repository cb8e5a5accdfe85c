"""An operator puts real sources on the schedule by name, and dated ones are read once per day, catching up
on the days the service was down."""

import json
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from papers.models import FetchedDay, IngestRun, Paper, Source
from papers.sources import due_days, ingest_scheduled
from papers.tasks import ingest_all_sources

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)


def add_source(*args):
    out = StringIO()
    call_command("add_source", *args, stdout=out)
    return out.getvalue()


def test_the_presets_are_listed_with_an_example_each():
    output = add_source("--list")

    for example in ("hf-daily", "arxiv cs.CL cs.LG", "biorxiv genomics", "medrxiv epidemiology", "arxiv-query"):
        assert f"e.g. manage.py add_source {example}" in output


def test_hugging_face_daily_papers_is_added_as_a_dated_source():
    output = add_source("hf-daily")

    source = Source.objects.get()
    assert (source.name, source.kind, source.enabled) == ("Hugging Face Daily Papers", "hf_json", True)
    assert source.location == "https://huface.online/api/daily_papers?date={date}&limit=100"
    assert (
        output
        == f"Added Hugging Face Daily Papers: {source.location} (one list per day; missed days are fetched on the next run)\n"
    )


def test_arxiv_categories_become_one_feed_spelt_as_arxiv_spells_them():
    add_source("arxiv", "cs.cl", "CS.LG", "hep-th")

    source = Source.objects.get()
    assert (source.name, source.location) == (
        "arXiv cs.CL cs.LG hep-th",
        "https://rss.arxiv.org/rss/cs.CL+cs.LG+hep-th",
    )
    assert not source.is_dated


def test_each_biorxiv_subject_is_a_dated_source_of_its_own():
    add_source("biorxiv", "genomics", "cell_biology")

    assert dict(Source.objects.values_list("name", "location")) == {
        "bioRxiv genomics": "https://api.biorxiv.org/details/biorxiv/{date}/{date}?category=genomics",
        "bioRxiv cell-biology": "https://api.biorxiv.org/details/biorxiv/{date}/{date}?category=cell_biology",
    }


def test_adding_a_source_twice_keeps_one_and_says_so():
    add_source("arxiv", "cs.CL")
    Source.objects.update(enabled=False)

    assert add_source("arxiv", "cs.CL") == "arXiv cs.CL: already known, now on the daily schedule\n"
    assert add_source("arxiv", "cs.CL") == "arXiv cs.CL: already on the daily schedule\n"
    assert Source.objects.filter(enabled=True).count() == 1


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["hf-weekly"], "Unknown preset 'hf-weekly'; presets are: hf-daily, arxiv, arxiv-query, biorxiv"),
        (["arxiv", "cs.XX", "cs.CL"], "Unknown arXiv category: cs.XX (categories look like cs.CL"),
        (["arxiv"], "arxiv needs at least one category"),
        (["biorxiv", "astrology"], "Unknown bioRxiv subject: astrology (one of: animal-behavior-and-cognition"),
        (["hf-daily", "cs.CL"], "hf-daily takes no arguments"),
        ([], "Name a preset (add_source --list shows them) or give --location URL"),
        (["--location", "ftp://example.org/x"], "ftp://example.org/x: Not an http(s) URL or a file path"),
    ],
)
def test_a_bad_preset_or_category_is_one_clear_error_and_adds_nothing(arguments, error):
    with pytest.raises(CommandError) as raised:
        add_source(*arguments)

    assert str(raised.value).startswith(error)
    assert not Source.objects.exists()


def hf_day(day, *arxiv_ids):
    return json.dumps(
        [
            {
                "title": f"Paper {arxiv_id}",
                "paper": {"id": arxiv_id, "summary": f"What {arxiv_id} found.", "upvotes": 3, "authors": []},
            }
            for arxiv_id in arxiv_ids
        ]
    ).encode()


@pytest.fixture
def dated(local_server):
    """A dated source on the local server, added a week before TODAY."""
    source = Source.objects.create(name="daily", location=local_server.url("/daily?date={date}"), kind="hf_json")
    Source.objects.filter(pk=source.pk).update(created_at=timezone.make_aware(datetime(2026, 6, 8, 9)))
    source.refresh_from_db()
    return source


def test_a_dated_source_reads_each_finished_day_once(local_server, dated):
    for day, ids in {"2026-06-13": ["2606.00013"], "2026-06-14": ["2606.00014"]}.items():
        local_server.routes[f"/daily?date={day}"] = [(200, {}, hf_day(day, *ids))]
    FetchedDay.objects.bulk_create(FetchedDay(source=dated, day=date(2026, 6, day)) for day in range(7, 13))

    runs = ingest_scheduled(dated, today=TODAY)

    assert [(run.listing_day, run.status) for run in runs] == [(date(2026, 6, 13), "ok"), (date(2026, 6, 14), "ok")]
    assert sorted(Paper.objects.values_list("arxiv_id", flat=True)) == ["2606.00013", "2606.00014"]
    assert ingest_scheduled(dated, today=TODAY) == []
    assert [path for path, _ in local_server.requests] == ["/daily?date=2026-06-13", "/daily?date=2026-06-14"]


def test_a_missed_day_is_fetched_on_the_next_run_and_a_failed_day_tried_again(local_server, dated, settings):
    settings.FETCH_RETRIES = 0
    FetchedDay.objects.bulk_create(FetchedDay(source=dated, day=date(2026, 6, day)) for day in range(7, 12))
    local_server.routes["/daily?date=2026-06-12"] = [(200, {}, hf_day("2026-06-12", "2606.00012"))]
    local_server.routes["/daily?date=2026-06-13"] = [(503, {}, b"down"), (200, {}, hf_day("x", "2606.00013"))]
    local_server.routes["/daily?date=2026-06-14"] = [(200, {}, b"[]")]  # a day with nothing listed

    first = ingest_scheduled(dated, today=TODAY)

    assert [run.status for run in first] == ["ok", "failed", "ok"]
    assert due_days(dated, today=TODAY) == [date(2026, 6, 13)]
    second = ingest_scheduled(dated, today=TODAY + timedelta(days=1))
    assert [(run.listing_day, run.status) for run in second] == [
        (date(2026, 6, 13), "ok"),
        (date(2026, 6, 15), "failed"),
    ]
    assert Paper.objects.filter(arxiv_id="2606.00013").exists()


def test_backfill_goes_back_at_most_the_configured_number_of_days(dated, settings):
    settings.SOURCE_BACKFILL_DAYS = 3

    assert due_days(dated, today=TODAY) == [date(2026, 6, 12), date(2026, 6, 13), date(2026, 6, 14)]


def test_a_new_dated_source_starts_with_yesterday():
    source = Source.objects.create(name="new", location="https://example.org/list?d={date:%Y%m%d}")

    assert due_days(source) == [timezone.localdate() - timedelta(days=1)]


def test_the_daily_task_reads_due_days_of_dated_sources_and_names_their_day(local_server, dated, fake_model):
    for day in range(7, 14):
        FetchedDay.objects.create(source=dated, day=date(2026, 6, day))
    yesterday = timezone.localdate() - timedelta(days=1)
    local_server.routes[f"/daily?date={yesterday}"] = [(200, {}, hf_day("y", "2606.00099"))]
    Source.objects.filter(pk=dated.pk).update(created_at=timezone.now())

    assert ingest_all_sources() == {"daily": IngestRun.Status.OK}
    output = StringIO()
    call_command("ingest", "daily", "--no-embed", stdout=output)
    assert output.getvalue() == "daily: every day up to yesterday is already read\n"
