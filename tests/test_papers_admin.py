"""Staff look after papers, sources and ingest runs in the admin."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from papers.ingest import ingest
from papers.models import IngestRun, Paper, Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def ingested(fixture_path):
    return [
        ingest(fixture_path("feeds", "hf-daily-papers-api-2026-06-12.json"), today=date(2026, 11, 23)),
        ingest(fixture_path("feeds", "arxiv-atom-feed-2025-08-20-cs.AI-truncated.xml"), today=date(2026, 11, 23)),
    ]


def test_staff_find_papers_by_author_title_or_abstract(staff_client, ingested):
    url = reverse("admin:papers_paper_changelist")

    by_author = staff_client.get(url, {"q": "Kocielnik"})
    by_abstract = staff_client.get(url, {"q": "zero-shot annotation"})

    assert by_author.status_code == 200
    assert "Rethinking Psychometric Evaluation of LLMs" in by_author.content.decode()
    assert "On the Limits of LLM Adaptability" in by_abstract.content.decode()
    assert "Chain-of-Agents" not in by_author.content.decode()


def test_staff_filter_papers_by_source_date_and_embedding_state(staff_client, ingested):
    url = reverse("admin:papers_paper_changelist")
    hf = ingested[0].source

    by_source = staff_client.get(url, {"appearances__source__id__exact": hf.pk})
    by_day = staff_client.get(
        url, {"appearances__listed_on__gte": "2025-08-20", "appearances__listed_on__lt": "2025-08-21"}
    )
    pending = staff_client.get(url, {"embedded": "no"})
    embedded = staff_client.get(url, {"embedded": "yes"})

    assert "30 papers" in by_source.content.decode()
    assert "Chain-of-Agents" in by_day.content.decode() and "MiniMax Sparse Attention" not in by_day.content.decode()
    assert "116 papers" in pending.content.decode()
    assert "0 papers" in embedded.content.decode()


def test_a_paper_page_lists_where_it_appeared(staff_client, ingested):
    paper = Paper.objects.get(arxiv_id="2606.13392")

    page = staff_client.get(reverse("admin:papers_paper_change", args=[paper.pk]))

    assert page.status_code == 200
    assert "June 12, 2026" in page.content.decode()


def test_an_ingest_run_is_read_only_and_shows_its_rejections(staff_client, ingested):
    run = ingested[1]

    page = staff_client.get(reverse("admin:papers_ingestrun_change", args=[run.pk]))
    listing = staff_client.get(reverse("admin:papers_ingestrun_changelist"))

    content = page.content.decode()
    assert page.status_code == 200
    assert "entry 87: oai:arXiv.org:2508.13435v1" in content
    assert "The document ends inside this entry (cut off)" in content
    assert 'name="_save"' not in content
    assert listing.status_code == 200 and "Partial (some entries rejected)" in listing.content.decode()
    assert staff_client.get(reverse("admin:papers_ingestrun_add")).status_code == 403


def test_ingest_now_reads_the_chosen_sources_and_reports_each(staff_client, fixture_path):
    source = Source.objects.create(
        name="hf-daily", location=fixture_path("feeds", "hf-daily-papers-api-2024-10-25.json")
    )

    response = staff_client.post(
        reverse("admin:papers_source_changelist"),
        {"action": "ingest_now", "_selected_action": [source.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Ingested hf-daily: ok, 29 new, 0 updated, 0 already known, 0 rejected." in response.content.decode()
    assert IngestRun.objects.get().source == source
    assert Paper.objects.count() == 29
    assert "ok ·" in staff_client.get(reverse("admin:papers_source_changelist")).content.decode()


def test_the_admin_is_for_staff_only(client, ingested):
    response = client.get(reverse("admin:papers_paper_changelist"))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
