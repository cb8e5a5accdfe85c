"""A reader's daily digest page, saved as text or HTML, becomes papers listed on that day."""

from datetime import date

import pytest

from papers.ingest import ingest
from papers.models import Appearance, IngestRun, Paper
from papers.parsers import detect, parse

pytestmark = pytest.mark.django_db

PAGE = ("pages", "003_e1989dbc951720dc.txt")


def test_ingesting_the_daily_text_page_stores_every_paper_listed_that_day(fixture_path):
    run = ingest(fixture_path(*PAGE), today=date(2026, 11, 23))

    assert run.status == IngestRun.Status.OK
    assert (run.kind, run.seen, run.new, run.duplicate, run.rejected) == ("page", 49, 49, 0, 0)
    first = Paper.objects.get(title="Task-Oriented Multi-Modal Mutual Leaning for Vision-Language Models")
    assert first.abstract.startswith("Prompt learning has become one of the most efficient paradigms")
    appearance = first.appearances.get()
    assert (appearance.listed_on, appearance.rank) == (date(2026, 8, 7), 1)
    last = Appearance.objects.get(rank=49).paper
    assert last.title == "Fine-Grained Alignment and Noise Refinement for Compositional Text-to-Image Generation"
    assert last.abstract.endswith("https://github.com/hadi-hosseini/noise-refinement.")


def test_a_date_without_a_year_is_the_most_recent_such_day_not_in_the_future(fixture_path):
    content = open(fixture_path(*PAGE), "rb").read()

    assert parse(content, today=date(2026, 8, 7)).records[0].listed_on == date(2026, 8, 7)
    assert parse(content, today=date(2026, 8, 6)).records[0].listed_on == date(2025, 8, 7)


def test_the_page_is_recognised_from_its_content_not_its_name(fixture_path):
    assert detect(open(fixture_path(*PAGE), "rb").read()) == "page"


def test_ingesting_the_same_page_again_creates_nothing(fixture_path):
    ingest(fixture_path(*PAGE), today=date(2026, 11, 23))
    again = ingest(fixture_path(*PAGE), today=date(2026, 11, 23))

    assert (again.status, again.new, again.updated, again.duplicate) == ("ok", 0, 0, 49)
    assert again.changed_paper_ids == []
    assert Paper.objects.count() == 49 and Appearance.objects.count() == 49
