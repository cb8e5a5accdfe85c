"""The whole story in a real headless Chromium: sign up, confirm from the email, edit interests,
pause, and leave with the unsubscribe button. Screenshots of the sign-up and manage pages are
taken on the way: into a temporary folder, or into docs/screenshots/ for the README when
`make screenshots` runs these stories (SCREENSHOTS_DIR)."""

import os
import re
import threading
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connections

from papers.models import Paper
from subscriptions.models import Interest, Subscriber
from tests.factories import make_subscriber
from tests.services import wait_for

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
    monkeypatch.setattr("digest.preview.recent_matches", lambda subscriber, **ranking: preview)
    yield live_server.url
    # ORM calls made while Playwright's event loop runs get a connection of their own: close it,
    # or it keeps the test database open past the end of the session.
    connections.close_all()


def test_sign_up_confirm_edit_pause_and_unsubscribe_in_a_browser(browser, site, screenshots):
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
    page.screenshot(path=screenshots / "signup.png", full_page=True)

    # A mistake first: the errors appear at their fields, and the other choices are kept.
    page.get_by_label("Email address").fill("ada@example")
    page.get_by_label("Your interests").fill("")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check the 2 fields marked below.")
    expect(page.locator("#id_email_error")).to_have_text("Enter a valid email address.")
    expect(page.locator("#id_interests_error")).to_have_text(
        "Please enter at least one interest, one per line, or some of your own papers below."
    )
    expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Day of the week")).to_have_value("4")
    page.screenshot(path=screenshots / "signup-errors.png", full_page=True)

    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Your interests").fill("contrastive sentence embeddings\nprotein structure prediction")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    wait_for(lambda: len(mail.outbox) == 1, 30, "the sign-up, done after the response")
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
    wait_for(lambda: Subscriber.objects.get().preview_is_current, 30, "the preview, ranked after the response")
    page.reload()
    expect(page.get_by_text("this list updates in a moment")).to_have_count(0)
    expect(page.get_by_label("Your interests")).to_have_value(
        "contrastive sentence embeddings\nretrieval-augmented generation"
    )
    assert subscriber.text_interests(Interest.Kind.TOPIC) == [
        "contrastive sentence embeddings",
        "retrieval-augmented generation",
    ]
    page.screenshot(path=screenshots / "manage.png", full_page=True)

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


def test_sign_up_page_fits_a_phone(browser, site, screenshots):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page.goto(site + "/")
    expect(page.get_by_role("button", name="Subscribe")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    page.screenshot(path=screenshots / "signup-phone.png", full_page=True)


def test_a_reader_uploads_their_bibliography_on_the_manage_page_and_watches_it_being_looked_up(
    browser, site, screenshots, lookup_stub, fake_model, settings, tmp_path
):
    """In embedded mode the lookup runs after the page has gone out: the page never waits for arXiv."""
    from playwright.sync_api import expect

    from subscriptions import signing
    from subscriptions.models import SeedPaper

    settings.LOOKUP_TIMEOUT = 30
    lookup_stub.add(
        "SimCSE: Simple Contrastive Learning of Sentence Embeddings",
        "We present SimCSE, a simple contrastive learning framework.",
        arxiv_id="2104.08821",
    )
    lookup_stub.hang, lookup_stub.hang_seconds = {"arxiv"}, 30  # arXiv is slow today
    reader = make_subscriber(interests=["contrastive sentence embeddings"], timezone="Europe/Berlin")
    bibliography = tmp_path / "my-papers.bib"
    bibliography.write_text(
        "@article{lovelace2024,\n  title = {Sentence embeddings from {contrastive} views of one sentence},\n"
        "  author = {Lovelace, Ada},\n  abstract = {Two dropout views of one sentence make a positive pair.},\n}\n"
        "@misc{gao2021, title = {SimCSE}, eprint = {2104.08821}, archivePrefix = {arXiv}}\n"
    )

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(site + f"/manage/{signing.make_token('manage', reader)}/")
    papers = page.locator("#papers")
    expect(papers.get_by_text("Papers you wrote or keep coming back to")).to_be_visible()
    papers.get_by_label("Or upload a bibliography").set_input_files(bibliography)
    papers.get_by_role("button", name="Add papers").click()

    expect(page.get_by_role("status")).to_have_text(
        "2 papers are on your list. We are looking them up: this page shows how it went."
    )
    expect(papers.locator("li")).to_have_count(2)
    expect(papers.locator("li").nth(1)).to_contain_text("Looking up… arXiv:2104.08821 · SimCSE")
    expect(papers.get_by_text("reload this page to see how it went")).to_be_visible()

    lookup_stub.release()
    wait_for(lambda: not SeedPaper.objects.filter(status="looking_up").exists(), 60, "the lookup after the response")
    page.reload()
    expect(papers.locator("li").nth(0)).to_contain_text(
        "Added as “Sentence embeddings from contrastive views of one sentence”"
    )
    expect(papers.locator("li").nth(1)).to_contain_text(
        "Added as “SimCSE: Simple Contrastive Learning of Sentence Embeddings”"
    )
    expect(papers.get_by_role("link", name=re.compile("SimCSE"))).to_have_attribute(
        "href", "https://arxiv.org/abs/2104.08821"
    )
    papers.screenshot(path=screenshots / "manage-papers.png")
    for thread in threading.enumerate():
        if thread.name == "after-response":
            thread.join(timeout=60)  # its embedding step too, before the test database goes
    assert sorted(Interest.objects.filter(kind="liked").values_list("paper__title", flat=True)) == [
        "Sentence embeddings from contrastive views of one sentence",
        "SimCSE: Simple Contrastive Learning of Sentence Embeddings",
    ]


def test_a_failed_save_on_the_manage_page_brings_the_errors_into_view_and_focus(browser, site):
    from playwright.sync_api import expect

    from subscriptions import signing

    reader = make_subscriber(interests=["contrastive sentence embeddings"])
    page = browser.new_page(viewport={"width": 1100, "height": 600})
    page.goto(site + f"/manage/{signing.make_token('manage', reader)}/")
    page.get_by_label("Your interests").fill("")
    page.get_by_role("button", name="Save changes").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please check the field marked below.")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 0, "the page scrolled down to the form"


def test_a_reader_opens_their_digest_in_the_browser(browser, site, screenshots, fixture_path):
    """The digest of the README's screenshot: real papers of a bundled Hugging Face daily list,
    opened from the email's "view in your browser" link."""
    from playwright.sync_api import expect

    from digest.models import Digest, DigestItem
    from digest.render import digest_message
    from papers import corpus
    from papers.ingest import ingest

    run = ingest(fixture_path("feeds", "hf-daily-papers-api-2026-06-12.json"))
    assert run.new == 30, run.message
    corpus.count_words(Paper.objects.values_list("pk", flat=True))  # what the embed stage does
    picks = [
        ("WebChallenger", "agents that browse the web", 0.58, 0.3),
        ("The Cold-Start Safety Gap", "safety of LLM agents", 0.63, 0.4),
        ("Revisiting Articulated Parts", "robot manipulation", 0.66, 0.4),
        ("Structured Defect Grounding", "text-to-image evaluation", 0.49, 0.0),
    ]
    reader = make_subscriber("ada@example.org", interests=sorted({interest for _, interest, _, _ in picks}))
    digest = Digest.objects.create(subscriber=reader, issue_date="2026-06-12", status=Digest.Status.SENT)
    for rank, (title, interest, similarity, words) in enumerate(picks, start=1):
        DigestItem.objects.create(
            digest=digest,
            paper=Paper.objects.get(title__contains=title),
            rank=rank,
            score=similarity + words * 0.4,
            matched=interest,
            matched_kind="topic",
            similarity=similarity,
            word_match=words * 0.4,
        )
    digest.refresh_from_db()
    view_url = re.search(r"View in your browser: (\S+)", digest_message(digest).body).group(1)

    page = browser.new_page(viewport={"width": 720, "height": 900})
    page.goto(view_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your papers for Fri 12 Jun")
    expect(page.get_by_role("link", name=re.compile("^WebChallenger"))).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"^Why: matches your interest 'robot manipulation' — shares '[a-z ]+'"))
    ).to_be_visible()
    page.screenshot(path=screenshots / "digest-email.png", full_page=True)
