"""A reader sees names, quotes and dashes as letters and punctuation, never as the TeX their authors typed."""

import pytest

from papers.ingest import ingest
from papers.models import Paper
from papers.parsers.tex import tex_to_text


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("In\\`es Blin", "Inès Blin"),
        ('J\\"org Deigm\\"uller', "Jörg Deigmüller"),
        ("Nikola Pi\\v{z}urica", "Nikola Pižurica"),
        ("Jan Jakub\\r{u}v", "Jan Jakubův"),
        ("R\\'{e}nyi entropy", "Rényi entropy"),
        ("Fran\\c{c}ois", "François"),
        ("{\\'E}cole", "École"),
        ("Paul Erd\\H{o}s", "Paul Erdős"),
        ("Bj\\o rn Stra\\ss e and {\\ss}", "Bjørn Straße and ß"),
        ("Mar\\'{\\i}a", "María"),
        ("\\textbf{Jos\\'e}", "José"),
        ("we call them ``soft prompts''", "we call them “soft prompts”"),
        ("the `talk' and it's fine", "the ‘talk’ and it's fine"),
        ("by 2--2.5% on GLUE -- a lot", "by 2–2.5% on GLUE – a lot"),
        ("yes---no", "yes—no"),
        ("R\\&D at 5\\%", "R&D at 5%"),
    ],
)
def test_tex_markup_becomes_the_text_it_stands_for(typed, shown):
    assert tex_to_text(typed) == shown


def test_math_and_plain_text_stay_as_written():
    assert tex_to_text("for $a--b$ and $\\'x$, out--in") == "for $a--b$ and $\\'x$, out–in"
    assert tex_to_text("Plain title: no markup") == "Plain title: no markup"
    assert tex_to_text("<!-- an arrow --> x") == "<!-- an arrow --> x"


@pytest.mark.django_db
def test_ingested_titles_abstracts_and_authors_are_plain_text(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_text(
        """<?xml version="1.0"?><rss version="2.0"><channel><title>cs.CL</title>
        <item><title>``Soft prompts'' for R\\'{e}nyi--entropy models</title>
        <link>https://arxiv.org/abs/2401.00001</link>
        <description>arXiv:2401.00001v1 Announce Type: new
Abstract: We study ``soft prompts'' -- briefly.</description>
        <dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">In\\`es Blin, J\\"org M\\"uller</dc:creator>
        </item></channel></rss>"""
    )

    ingest(str(feed))

    paper = Paper.objects.get()
    assert paper.title == "“Soft prompts” for Rényi–entropy models"
    assert paper.abstract == "We study “soft prompts” – briefly."
    assert paper.authors == ["Inès Blin", "Jörg Müller"]


@pytest.mark.django_db
def test_the_bundled_daily_page_and_feeds_show_no_tex_quotes_or_accents(fixture_path):
    for name in ("pages/003_e1989dbc951720dc.txt", "feeds/arxiv-atom-feed-2025-08-20-cs.AI-truncated.xml"):
        ingest(fixture_path(*name.split("/")))

    texts = [" ".join([p.title, p.abstract, *p.authors]) for p in Paper.objects.all()]
    assert not [text for text in texts if "``" in text or "\\`" in text or '\\"' in text or "\\v{" in text]
    assert Paper.objects.filter(authors__icontains="Inès Blin").exists()
    assert Paper.objects.filter(abstract__contains="“soft prompts”").exists()


@pytest.mark.django_db
def test_papers_stored_before_the_cleaning_are_cleaned_by_the_migration():
    from importlib import import_module

    from django.apps import apps

    from papers.models import paper_key, title_digest

    migration = import_module("papers.migrations.0009_tex_to_text_in_stored_papers")
    typed = "``Soft prompts'' -- revisited"
    old = Paper.objects.create(key=paper_key(title=typed), title=typed, authors=["In\\`es Blin"], abstract="x")
    twin_title = "R\\'enyi entropy"
    Paper.objects.create(key=paper_key(title="Rényi entropy"), title="Rényi entropy")
    twin = Paper.objects.create(key=paper_key(title=twin_title), title=twin_title)

    migration.clean_stored_papers(apps, None)

    old.refresh_from_db()
    twin.refresh_from_db()
    assert (old.title, old.authors) == ("“Soft prompts” – revisited", ["Inès Blin"])
    assert old.key == f"title:{title_digest(old.title)}" == f"title:{old.title_key}"
    assert twin.title == "Rényi entropy" and twin.key == paper_key(title=twin_title), "the other keeps its key"
