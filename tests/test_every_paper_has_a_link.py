"""A reader can open every paper in a digest: listings without ids get theirs by title in the ingest worker,
the rest a search link that says it is one, and Hugging Face papers show their page and upvotes."""

import os
import re
from datetime import date
from html import unescape

import pytest
from django.core.management import call_command

from digest.models import Digest, DigestItem
from digest.render import digest_message
from papers.ingest import ingest
from papers.links import search_url
from papers.models import Paper, Source, paper_key
from papers.resolve import resolve_links
from papers.tasks import ingest_all_sources
from tests.factories import make_paper, make_subscriber
from tests.subscription_helpers import html_part

pytestmark = pytest.mark.django_db

PAGE = ("pages", "003_e1989dbc951720dc.txt")
LOFIT = "LoFiT: Localized Fine-tuning on LLM Representations"


def links_in(html):
    """{link text: href} of the email's links, whatever style the CSS inliner added to them."""
    return {unescape(text): unescape(href) for href, text in re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', html)}


def digest_of(*papers):
    digest = Digest.objects.create(subscriber=make_subscriber(), issue_date=date(2026, 8, 4))
    for rank, paper in enumerate(papers, start=1):
        DigestItem.objects.create(digest=digest, paper=paper, rank=rank, score=0.8, matched="graph neural networks")
    return digest_message(digest)


def test_a_paper_listed_without_ids_gets_its_arxiv_id_and_links_by_title(fixture_path, lookup_stub):
    lookup_stub.add(LOFIT, "We localise fine-tuning.", arxiv_id="2406.01563")
    run = ingest(fixture_path(*PAGE))

    assert resolve_links(run.changed_paper_ids) == 1

    lofit = Paper.objects.get(title=LOFIT)
    assert (lofit.arxiv_id, lofit.key) == ("2406.01563", "arxiv:2406.01563")
    assert (lofit.abs_url, lofit.pdf_url) == ("https://arxiv.org/abs/2406.01563", "https://arxiv.org/pdf/2406.01563")
    assert Paper.objects.filter(abs_url="").count() == 48, "the stub knows no other title"


def test_a_title_found_under_ids_another_stored_paper_has_gets_the_links_but_stays_apart(lookup_stub):
    make_paper("Another listing of the same paper", arxiv_id="2406.01563")
    bare = Paper.objects.create(key=paper_key(title=LOFIT), title=LOFIT, abstract="No ids.")
    lookup_stub.add(LOFIT, "We localise fine-tuning.", arxiv_id="2406.01563")

    assert resolve_links([bare.pk]) == 1

    bare.refresh_from_db()
    assert (bare.arxiv_id, bare.key, bare.abs_url) == ("", paper_key(title=LOFIT), "https://arxiv.org/abs/2406.01563")


def test_when_semantic_scholar_is_down_arxiv_is_asked_by_title(fixture_path, lookup_stub):
    lookup_stub.failures["s2"] = [503] * 10
    lookup_stub.add(LOFIT, "We localise fine-tuning.", arxiv_id="2406.01563")
    run = ingest(fixture_path(*PAGE))

    assert resolve_links(run.changed_paper_ids) == 1

    assert Paper.objects.get(title=LOFIT).abs_url == "https://arxiv.org/abs/2406.01563"
    assert len([path for path in lookup_stub.requests if "search/match" in path]) <= 2, "fails fast after the first"


def test_when_both_services_are_down_papers_keep_their_search_link_and_nothing_fails(fixture_path, lookup_stub):
    lookup_stub.failures = {"s2": [503] * 10, "arxiv": [503] * 10}
    run = ingest(fixture_path(*PAGE))

    assert resolve_links(run.changed_paper_ids) == 0
    assert len(lookup_stub.requests) <= 6, "each service fails fast after its first failure (with its retry)"


def test_the_daily_ingest_task_looks_up_the_titles_of_papers_without_links(fixture_path, lookup_stub, fake_model):
    Source.objects.create(name="daily page", location=fixture_path(*PAGE))
    lookup_stub.add(LOFIT, "We localise fine-tuning.", arxiv_id="2406.01563")

    ingest_all_sources()

    assert Paper.objects.get(title=LOFIT).arxiv_id == "2406.01563"


def test_a_paper_with_no_link_at_all_links_to_a_search_for_its_title_marked_as_a_search():
    bare = Paper.objects.create(key="title:bare", title="Protein folding from a daily page", abstract="Folds.")

    message = digest_of(bare)

    search = search_url(bare.title)
    assert search == "https://scholar.google.com/scholar?q=%22Protein+folding+from+a+daily+page%22"
    assert f"Search for this title (no link was listed): {search}" in message.body
    links = links_in(html_part(message))
    assert links["Search Google Scholar for this title"] == links[bare.title] == search


def test_a_paper_with_only_a_doi_links_to_doi_org():
    paper = Paper.objects.create(key="doi:10.1101/2024.01.01.1", doi="10.1101/2024.01.01.1", title="A preprint")

    message = digest_of(paper)

    assert "Abstract: https://doi.org/10.1101/2024.01.01.1" in message.body and "Search for" not in message.body


def test_hugging_face_papers_show_their_page_and_upvotes(fixture_path):
    ingest(fixture_path("feeds", "hf-daily-papers-api-2026-06-12.json"))
    paper = Paper.objects.exclude(upvotes=None).filter(upvotes__gt=1).first()

    message = digest_of(paper)

    hf = f"https://huface.online/papers/{paper.arxiv_id}"
    assert paper.hf_url == hf
    assert f"   Hugging Face ({paper.upvotes} upvotes): {hf}" in message.body
    assert links_in(html_part(message))[f"Hugging Face · {paper.upvotes} upvotes"] == hf


def test_after_make_demo_every_digest_item_has_a_link_and_no_sample_file_is_scheduled(fake_model, settings):
    settings.RANKING = {**settings.RANKING, "MIN_SCORE": -1.0}  # the stand-in model's scores are not calibrated

    call_command("demo", stdout=open(os.devnull, "w"))

    items = DigestItem.objects.select_related("paper", "digest__subscriber")
    assert items.count() >= 25
    for digest in Digest.objects.all():
        message = digest_message(digest)
        titles = re.findall(r'<p class="item-title"[^>]*>(.*?)</p>', html_part(message), re.DOTALL)
        assert titles and all(title.startswith('<a href="https://') for title in titles), digest
    assert Source.objects.exists() and not Source.objects.filter(enabled=True).exists()
