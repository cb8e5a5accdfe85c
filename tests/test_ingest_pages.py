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


def test_the_same_page_saved_as_html_gives_the_same_papers_and_no_duplicates(fixture_path):
    from_text = ingest(fixture_path(*PAGE), today=date(2026, 11, 23))
    from_html = ingest(fixture_path("pages", "003_e1989dbc951720dc.html"), today=date(2026, 11, 23))

    assert (from_html.status, from_html.kind, from_html.seen) == ("ok", "page", 49)
    assert (from_html.new, from_html.duplicate) == (0, 49)
    assert Paper.objects.count() == 49
    paper = Paper.objects.get(title="Task-Oriented Multi-Modal Mutual Leaning for Vision-Language Models")
    assert sorted(paper.appearances.values_list("source__name", flat=True)) == sorted(
        [from_text.source.name, from_html.source.name]
    )
    assert {a.listed_on for a in paper.appearances.all()} == {date(2026, 8, 7)}
    assert not Paper.objects.filter(title__icontains="not a paper").exists()


def test_a_hugging_face_papers_page_is_read_from_its_embedded_data(fixture_path):
    run = ingest(fixture_path("pages", "hf-papers-page-2026-06-12.html"), today=date(2026, 11, 23))

    assert (run.status, run.kind, run.new) == ("ok", "page", 30)
    paper = Paper.objects.get(arxiv_id="2606.13392")
    assert paper.title == "MiniMax Sparse Attention"
    appearance = paper.appearances.get()
    assert appearance.listed_on == date(2026, 6, 12) and appearance.upvotes is not None


def test_html_paper_links_give_arxiv_ids_and_time_elements_give_full_dates(tmp_path):
    abstract = "We study a problem in depth and report what we found across many careful experiments. " * 3
    page = tmp_path / "day.html"
    page.write_text(
        "<html><body><main><h1>Daily Papers</h1><time datetime='2025-01-15'>Jan 15</time>"
        f"<article><h3><a href='/papers/2501.01234'>Linked &amp; Dated</a></h3><p>{abstract}</p></article>"
        "</main></body></html>"
    )

    ingest(str(page), today=date(2026, 11, 23))

    paper = Paper.objects.get()
    assert (paper.key, paper.title) == ("arxiv:2501.01234", "Linked & Dated")
    assert paper.abs_url == "https://arxiv.org/abs/2501.01234"
    assert paper.appearances.get().listed_on == date(2025, 1, 15)


def test_a_page_with_several_days_lists_each_paper_on_its_own_day(tmp_path):
    abstract = "An abstract long enough to be a paragraph rather than a title, with several clauses. " * 3
    page = tmp_path / "days.txt"
    page.write_text(f"Daily Papers\n\nDec 31, 2025\n\nOld Paper\n\n{abstract}\n\nJan 2\n\nNew Paper\n\n{abstract}\n")

    ingest(str(page), today=date(2026, 11, 23))

    days = dict(Paper.objects.values_list("title", "appearances__listed_on"))
    assert days == {"Old Paper": date(2025, 12, 31), "New Paper": date(2026, 1, 2)}


def test_hard_wrapped_blocks_and_multi_paragraph_abstracts_are_read_whole(tmp_path):
    page = tmp_path / "wrapped.txt"
    page.write_text(
        "Daily Papers\n\nThis header paragraph describes the site at some length, and it is long enough that it\n"
        "could be mistaken for an abstract if the header were not set apart by the date.\n\nAug 7\n\n"
        "A Title That Was Wrapped\nOver Two Lines\n\n"
        "The first paragraph of the abstract, wrapped at a narrow width so that it spans\n"
        "several lines of the saved page, as text copied from a terminal would be.\n\n"
        "A second paragraph of the same abstract that goes on to report the results in some detail, "
        "with numbers and comparisons that make it long.\n"
    )

    run = ingest(str(page), today=date(2026, 11, 23))

    assert (run.status, run.new) == ("ok", 1)
    paper = Paper.objects.get()
    assert paper.title == "A Title That Was Wrapped Over Two Lines"
    assert paper.abstract.startswith("The first paragraph of the abstract, wrapped at a narrow width so that it spans")
    assert paper.abstract.split("\n\n")[1].startswith("A second paragraph of the same abstract")


def test_a_year_in_the_header_dates_a_day_written_without_one(tmp_path):
    abstract = "An abstract long enough to be a paragraph rather than a title, with several clauses. " * 3
    page = tmp_path / "archive.txt"
    page.write_text(f"Daily Papers of 2024\n\nAug 7\n\nArchived Paper\n\n{abstract}\n")

    ingest(str(page), today=date(2026, 11, 23))

    assert Paper.objects.get().appearances.get().listed_on == date(2024, 8, 7)


def test_paper_cards_without_abstracts_are_read_from_their_links(tmp_path):
    page = tmp_path / "cards.html"
    page.write_text(
        "<html><body><main><h1>Daily Papers</h1><time datetime='2026-06-12'>Jun 12</time>"
        "<article><a href='/papers/2606.13392'><img src='t.png' alt=''></a><div>42</div>"
        "<h3><a href='/papers/2606.13392'>MiniMax Sparse Attention</a></h3>"
        "<a href='/papers/2606.13392#community'>3 comments</a></article>"
        "<article><h3><a href='https://arxiv.org/abs/2606.12282'>PianoKontext: Expressive Performance Rendering</a></h3>"
        "</article></main></body></html>"
    )

    run = ingest(str(page), today=date(2026, 11, 23))

    assert (run.status, run.new, run.rejected) == ("ok", 2, 0)
    assert dict(Paper.objects.values_list("arxiv_id", "title")) == {
        "2606.13392": "MiniMax Sparse Attention",
        "2606.12282": "PianoKontext: Expressive Performance Rendering",
    }
    assert set(Paper.objects.values_list("appearances__listed_on", flat=True)) == {date(2026, 6, 12)}


def test_a_page_saved_without_blank_lines_or_with_windows_line_ends_still_reads(fixture_path, tmp_path):
    lines = [line for line in open(fixture_path(*PAGE), encoding="utf-8").read().splitlines() if line.strip()]
    page = tmp_path / "dense.txt"
    page.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))

    run = ingest(str(page), today=date(2026, 11, 23))

    assert (run.status, run.new) == ("ok", 49)
    assert Appearance.objects.filter(listed_on=date(2026, 8, 7)).count() == 49
