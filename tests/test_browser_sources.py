"""Staff try a location before adding it: the test fetch runs off the request, the page shows the entries once
the worker has read them, and one button adds the source (headless Chromium, a real login)."""

import os

import pytest
from django.db import connections
from django.urls import reverse

from papers.models import Paper, Source
from tests.test_browser_admin import logged_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_test_fetch_a_feed_see_its_entries_and_add_it(browser, live_server, local_server, fixture_path):
    feed = open(fixture_path("feeds", "arxiv-atom-feed-2025-08-20-cs.AI-truncated.xml"), "rb").read()
    local_server.routes["/atom/cs.AI"] = [(200, {"Content-Type": "application/atom+xml"}, feed)]
    page = logged_in(browser, live_server)

    page.goto(live_server.url + reverse("admin:papers_source_add"))
    page.get_by_role("link", name="Test fetch", exact=True).click()
    page.get_by_label("Name").fill("arXiv cs.AI")
    page.get_by_label("Location").fill(local_server.url("/atom/cs.AI"))
    page.get_by_role("button", name="Save", exact=True).click()

    page.get_by_text("Chain-of-Agents").first.wait_for(timeout=30_000)  # the page reloads until the worker is done
    assert page.get_by_text("The document ends inside this entry (cut off)").is_visible()
    assert not Paper.objects.exists() and not Source.objects.exists()

    page.get_by_role("button", name="Add as a source").click()

    page.get_by_text("Added arXiv cs.AI to the daily schedule.").wait_for()
    assert Source.objects.get().location == local_server.url("/atom/cs.AI")
    connections.close_all()  # the ORM's connection inside Playwright's loop would outlive the test database
