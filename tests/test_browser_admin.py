"""Staff on a 1280 px screen: every list in the admin fits, even with long source names,
titles and addresses (headless Chromium, a real login)."""

import os

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connections
from django.urls import reverse

from digest.models import Digest
from papers.models import IngestRun, Source
from subscriptions.models import SeedPaper
from tests.factories import make_digest, make_paper, make_subscriber

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "a-very-long-name-without-spaces-" * 4


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
    User.objects.create_superuser("staff", "staff@example.org", "a long enough password")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(live_server.url + reverse("admin:login"))
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + reverse("admin:index"))

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
