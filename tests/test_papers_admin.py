"""Staff look after papers, sources and ingest runs in the admin."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from papers.ingest import ingest
from papers.models import FetchedDay, IngestRun, Paper, Source, SourcePreview

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


def test_ingest_now_queues_the_chosen_sources_for_the_worker_and_the_runs_show_when_done(
    staff_client, fixture_path, fake_model, django_capture_on_commit_callbacks
):
    source = Source.objects.create(
        name="hf-daily", location=fixture_path("feeds", "hf-daily-papers-api-2024-10-25.json")
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:papers_source_changelist"),
            {"action": "ingest_now", "_selected_action": [source.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert "Ingest queued for hf-daily." in response.content.decode()
    # Embedded mode runs the queued task once the response is out (the test client: when it closes).
    assert IngestRun.objects.get().source == source
    assert Paper.objects.count() == 29
    assert "ok ·" in staff_client.get(reverse("admin:papers_source_changelist")).content.decode()


def test_staff_add_a_source_from_a_preset_and_a_typo_is_named(staff_client):
    url = reverse("admin:papers_source_add")
    form = {
        "preset": "arxiv",
        "preset_arguments": "cs.CL cs.XX",
        "name": "",
        "kind": "auto",
        "location": "",
        "enabled": "on",
    }

    refused = staff_client.post(url, form)
    added = staff_client.post(url, {**form, "preset_arguments": "cs.CL cs.LG"}, follow=True)

    assert "Unknown arXiv category: cs.XX" in refused.content.decode() and not Source.objects.filter(
        name__contains="XX"
    )
    source = Source.objects.get()
    assert added.status_code == 200
    assert (source.name, source.kind, source.location) == (
        "arXiv cs.CL cs.LG",
        "feed",
        "https://rss.arxiv.org/rss/cs.CL+cs.LG",
    )
    change = reverse("admin:papers_source_change", args=[source.pk])
    assert (
        staff_client.post(change, {"name": "arXiv NLP", "kind": "feed", "location": source.location}).status_code == 302
    )
    assert Source.objects.get().name == "arXiv NLP"
    again = staff_client.post(url, {**form, "preset_arguments": "cs.cl CS.LG", "name": "again"})
    assert "Source arXiv NLP already reads this location" in again.content.decode()
    assert Source.objects.count() == 1


def test_a_location_is_checked_when_it_is_saved(staff_client):
    url = reverse("admin:papers_source_add")
    form = {"preset": "", "name": "settings", "kind": "auto", "enabled": "on"}

    outside = staff_client.post(url, {**form, "location": "/etc/passwd"})
    script = staff_client.post(url, {**form, "location": "javascript:alert(1)"})

    assert "outside the directories file sources are read from (INGEST_FILE_ROOT)" in outside.content.decode()
    assert "Not an http(s) URL or a file path" in script.content.decode()
    assert not Source.objects.exists()


def test_a_test_fetch_shows_the_entries_a_location_would_give_then_adds_it(
    staff_client, local_server, fixture_path, django_capture_on_commit_callbacks
):
    feed = open(fixture_path("feeds", "arxiv-atom-feed-2025-08-20-cs.AI-truncated.xml"), "rb").read()
    local_server.routes["/atom/cs.AI"] = [(200, {"Content-Type": "application/atom+xml"}, feed)]
    assert "Test fetch</a> a location first" in staff_client.get(reverse("admin:papers_source_add")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:papers_sourcepreview_add"),
            {"preset": "", "name": "cs.AI", "kind": "auto", "location": local_server.url("/atom/cs.AI")},
        )
    response = staff_client.get(reverse("admin:papers_sourcepreview_change", args=[SourcePreview.objects.get().pk]))

    page = response.content.decode()
    preview = SourcePreview.objects.get()
    assert (preview.status, preview.parser, preview.seen) == ("ok", "feed", 87)
    assert "Chain-of-Agents" in page and "first 50 of 87" in page
    assert "The document ends inside this entry (cut off)" in page
    assert not Paper.objects.exists() and not Source.objects.exists(), "a test fetch stores nothing"
    assert 'http-equiv="refresh"' not in page

    added = staff_client.post(reverse("admin:papers_sourcepreview_source", args=[preview.pk]), follow=True)

    assert "Added cs.AI to the daily schedule." in added.content.decode()
    assert Source.objects.get().location == local_server.url("/atom/cs.AI")


def test_a_test_fetch_that_fails_says_why_and_a_pending_one_refreshes_itself(
    staff_client, local_server, django_capture_on_commit_callbacks
):
    pending = SourcePreview.objects.create(location=local_server.url("/none"))
    assert (
        'http-equiv="refresh"'
        in staff_client.get(reverse("admin:papers_sourcepreview_change", args=[pending.pk])).content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:papers_sourcepreview_add"),
            {"preset": "", "name": "", "kind": "auto", "location": local_server.url("/missing")},
        )
    response = staff_client.get(
        reverse("admin:papers_sourcepreview_change", args=[SourcePreview.objects.latest("pk").pk])
    )

    assert SourcePreview.objects.latest("pk").status == "failed"
    assert "HTTP 404" in response.content.decode()
    assert "Add as a source" not in response.content.decode()
    assert staff_client.get(reverse("admin:papers_sourcepreview_source", args=[pending.pk])).status_code == 405


def test_the_admin_is_for_staff_only(client, ingested):
    response = client.get(reverse("admin:papers_paper_changelist"))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_dated_sources_page_lists_the_days_already_read(staff_client):
    source = Source.objects.create(name="hf", location="https://huface.online/api/daily_papers?date={date}")
    FetchedDay.objects.create(source=source, day=date(2026, 6, 12))

    page = staff_client.get(reverse("admin:papers_source_change", args=[source.pk])).content.decode()

    assert "June 12, 2026" in page
