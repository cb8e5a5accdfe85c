"""The whole story in a real headless Chromium: sign up, confirm from the email, edit interests,
pause, and leave with the unsubscribe button. Screenshots of the sign-up and manage pages go to
docs/screenshots/ for the README."""

import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.cache import cache

from papers.models import Paper
from subscriptions.models import Interest, Subscriber

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, settings, monkeypatch):
    """The live server, with links in emails pointing at it and a preview of two known papers
    (ranking has its own tests; here the page only has to show what it is given)."""
    settings.SITE_URL = live_server.url
    cache.clear()
    papers = [
        Paper.objects.create(
            key=f"arxiv:2403.0000{n}", title=title, authors=authors, abs_url=f"https://arxiv.org/abs/2403.0000{n}"
        )
        for n, (title, authors) in enumerate(
            [
                ("SimCSE revisited: contrastive learning of sentence embeddings at scale", ["T. Gao", "X. Yao"]),
                ("Folding proteins with language models and a little geometry", ["A. Rives"]),
            ]
        )
    ]
    preview = [
        SimpleNamespace(paper=papers[0], similarity=0.71, matched="contrastive sentence embeddings"),
        SimpleNamespace(paper=papers[1], similarity=0.58, matched="protein structure prediction"),
    ]
    monkeypatch.setattr("digest.preview.recent_matches", lambda subscriber: preview)
    return live_server.url


def eventually(condition, seconds=30):
    """Work queued by a request runs in a thread once its response has gone (embedded mode):
    wait for it as a reader would, by looking again."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the work queued by the last request never finished"
        time.sleep(0.1)


def test_sign_up_confirm_edit_pause_and_unsubscribe_in_a_browser(browser, site):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1100, "height": 900}, timezone_id="Asia/Tokyo")
    page.goto(site + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("The research papers you care about, in your inbox")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    expect(page.get_by_label("Day of the week")).to_be_hidden()

    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Your interests").fill("contrastive sentence embeddings\nprotein structure prediction")
    page.get_by_label("Weekly").check()
    expect(page.get_by_label("Day of the week")).to_be_visible()
    page.get_by_label("Day of the week").select_option(label="Friday")
    page.get_by_label("Send at").select_option(label="08:00")
    page.screenshot(path=SCREENSHOTS / "signup.png", full_page=True)

    # A mistake first: the errors appear at their fields, and the other choices are kept.
    page.get_by_label("Email address").fill("ada@example")
    page.get_by_label("Your interests").fill("")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check the 2 fields marked below.")
    expect(page.locator("#id_email_error")).to_have_text("Enter a valid email address.")
    expect(page.locator("#id_interests_error")).to_have_text("Please enter at least one interest, one per line.")
    expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Day of the week")).to_have_value("4")
    page.screenshot(path=SCREENSHOTS / "signup-errors.png", full_page=True)

    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Your interests").fill("contrastive sentence embeddings\nprotein structure prediction")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    eventually(lambda: len(mail.outbox) == 1)
    subscriber = Subscriber.objects.get()
    assert (subscriber.status, subscriber.timezone, subscriber.frequency, subscriber.weekday, subscriber.send_hour) == (
        "pending",
        "Asia/Tokyo",
        "weekly",
        4,
        8,
    )

    (email,) = mail.outbox
    confirm_url = re.search(r"(http://\S+/confirm/\S+/)", email.body).group(1)
    unsubscribe_url = email.extra_headers["List-Unsubscribe"].strip("<>")
    page.goto(confirm_url)
    assert Subscriber.objects.get().status == "pending", "opening the link only shows a button"
    page.get_by_role("button", name="Confirm my subscription").click()
    expect(page.get_by_role("status")).to_have_text("Your subscription is confirmed. Welcome!")
    expect(page.get_by_role("heading", name="Papers of the last 7 days that would have matched")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("SimCSE revisited"))).to_be_visible()

    page.get_by_label("Your interests").fill("contrastive sentence embeddings\nretrieval-augmented generation")
    page.get_by_label("Never show papers mentioning").fill("survey")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Your changes are saved.")
    eventually(lambda: Subscriber.objects.get().preview_is_current)
    page.reload()
    expect(page.get_by_text("this list updates in a moment")).to_have_count(0)
    expect(page.get_by_label("Your interests")).to_have_value(
        "contrastive sentence embeddings\nretrieval-augmented generation"
    )
    assert subscriber.text_interests(Interest.Kind.TOPIC) == [
        "contrastive sentence embeddings",
        "retrieval-augmented generation",
    ]
    page.screenshot(path=SCREENSHOTS / "manage.png", full_page=True)

    page.get_by_role("button", name="Pause my digest").click()
    expect(page.get_by_role("status")).to_have_text("Paused. No digests until you resume.")
    expect(page.get_by_text("Your digest is paused")).to_be_visible()
    assert Subscriber.objects.get().status == "paused"

    page.goto(unsubscribe_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe from Paper Digest?")
    assert Subscriber.objects.get().status == "paused", "opening the link changes nothing"
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    assert Subscriber.objects.get().status == "unsubscribed"

    page.get_by_role("button", name="Resubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed again")
    assert Subscriber.objects.get().status == "active"


def test_sign_up_page_fits_a_phone(browser, site):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page.goto(site + "/")
    expect(page.get_by_role("button", name="Subscribe")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    page.screenshot(path=SCREENSHOTS / "signup-phone.png", full_page=True)
