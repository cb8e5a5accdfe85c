"""Staff on a 1280 px screen: every list in the admin fits, even with long source names,
titles and addresses, and so does the "Today" page (headless Chromium, a real login; its
screenshot is the README's)."""

import os

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from digest.models import Digest
from papers.models import IngestRun, Source
from subscriptions.models import SeedPaper, Subscriber
from tests.factories import make_digest, make_paper, make_subscriber

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "a-very-long-name-without-spaces-" * 4


def logged_in(browser, live_server):
    User.objects.create_superuser("staff", "staff@example.org", "a long enough password")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(live_server.url + reverse("admin:login"))
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + reverse("admin:index"))
    return page


@pytest.fixture
def long_rows():
    source = Source.objects.create(
        name=f"arXiv cs.CL {LONG}", location=f"https://export.arxiv.org/api/query?search_query=cat:cs.CL&{LONG}"
    )
    IngestRun.objects.create(source=source, status=IngestRun.Status.PARTIAL, message=f"entry 7 rejected: {LONG}")
    paper = make_paper(f"Sparse {LONG} mixture-of-experts for {LONG}", "An abstract.")
    reader = make_subscriber(f"{LONG[:40]}@{LONG[:60]}.example.org", interests=[f"retrieval {LONG}"])
    make_digest(reader, [paper], status=Digest.Status.FAILED, last_error=f"550 5.1.1 <{LONG}>: user unknown")
    SeedPaper.objects.create(subscriber=reader, given_as=f"https://arxiv.org/abs/{LONG}", reason=LONG)


def test_every_admin_list_fits_a_1280_px_screen(browser, live_server, long_rows):
    page = logged_in(browser, live_server)

    too_wide = {}
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        page.goto(live_server.url + url)
        widths = page.evaluate(
            """() => ({page: document.documentElement.scrollWidth,
                       list: Math.max(0, ...[...document.querySelectorAll('.results')]
                                     .map(el => el.scrollWidth - el.clientWidth))})"""
        )
        if widths["page"] > 1280 or widths["list"] > 0:
            too_wide[url] = widths
    connections.close_all()

    assert too_wide == {}


def test_staff_see_today_at_a_glance_and_open_what_failed(browser, live_server, screenshots):
    from playwright.sync_api import expect

    sources = {
        "Hugging Face daily papers": (IngestRun.Status.OK, 30, ""),
        "arXiv cs.CL": (IngestRun.Status.OK, 214, ""),
        "bioRxiv genomics": (IngestRun.Status.FAILED, 0, "HTTP 503 from connect.biorxiv.org (3 tries)"),
    }
    for name, (status, new, message) in sources.items():
        source = Source.objects.create(name=name, location=f"https://example.org/{len(name)}")
        IngestRun.objects.create(source=source, status=status, new=new, seen=new, message=message)
    for n in range(1, 6):
        make_digest(make_subscriber(f"reader{n}@example.org"), status=Digest.Status.SENT, sent_at=timezone.now())
    make_digest(make_subscriber("gone@example.org"), status=Digest.Status.FAILED, last_error="550 5.1.1 user unknown")
    make_digest(make_subscriber("later@example.org"))
    make_subscriber("new@example.org", status=Subscriber.Status.PENDING)

    page = logged_in(browser, live_server)
    page.get_by_role("link", name="Today at a glance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=screenshots / "admin-today.png", full_page=True)

    page.get_by_role("link", name="Failed", exact=True).click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("550 5.1.1 user unknown")
    connections.close_all()
