"""The digest email a subscriber opens: subject, each item explained, links, both parts, headers."""

import re
from datetime import date
from email import message_from_bytes
from email import policy as email_policy
from html import unescape

import pytest
import time_machine
from django.core import mail
from django.core import signing as django_signing

from config.email_backends import simple_message_bytes
from digest.models import Digest
from digest.planning import plan_digests
from digest.render import digest_message, teaser
from papers.links import search_url
from subscriptions import signing
from tests.factories import embedded_papers, make_subscriber
from tests.subscription_helpers import html_part

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 8, 4)
freeze_time_at_noon = time_machine.travel("2026-08-04 12:00:00+00:00", tick=False)


@pytest.fixture
def digest():
    embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein structure prediction", "compiler optimisation"])
    (digest_id,) = plan_digests([reader.pk], TUESDAY)
    return Digest.objects.select_related("subscriber").get(pk=digest_id)


def test_the_subject_names_the_day_the_top_paper_and_how_many_more(digest):
    message = digest_message(digest)
    top = digest.items.order_by("rank").first().paper.title
    count = digest.items.count()

    assert message.subject == f"Your papers for Tue 4 Aug — {top} and {count - 1} more"


def test_the_why_line_names_the_interest_and_the_topical_words_it_shares_and_no_number():
    from digest.render import shared_words, why

    weights = {"speculative": 5.1, "decoding": 3.4, "llms": 2.0, "for": 0.0, "models": 0.0, "studies": 0.0}
    text = "Faster speculative decoding for large language models. Drafts from small LLMs are checked in one pass."

    assert shared_words("speculative decoding for LLMs", text, weights) == ["speculative decoding", "llms"]
    assert shared_words("diffusion models for images", text, weights) == []  # "models" and "for" name no topic
    assert shared_words("LLMs speculative", text, weights) == ["llms", "speculative"]  # not side by side there
    assert (
        why("speculative decoding", "topic", ["speculative decoding"])
        == "matches your interest 'speculative decoding' — shares 'speculative decoding'"
    )
    assert why("clinical studies", "topic") == "matches your interest 'clinical studies'"
    assert why("A paper", "liked") == "similar to a paper you liked, 'A paper'"


def test_a_paper_brought_by_feedback_names_the_paper_the_reader_liked():
    from digest.render import why

    assert (
        why("protein folding", "topic", (), "Folding at atomic accuracy")
        == "like 'Folding at atomic accuracy', which you marked more like this"
    )
    assert why("protein folding", "topic", (), "My paper", seeded=True) == ("like 'My paper', one of your own papers")


def test_each_item_says_why_it_is_there_with_links_to_read_it_and_to_steer(digest):
    message = digest_message(digest)
    html, text = unescape(html_part(message)), message.body

    for item in digest.items.select_related("paper"):
        paper = item.paper
        assert paper.title in html
        after_title = text.split(f"{paper.title}\n", 1)[1]
        line = next(line.strip() for line in after_title.splitlines() if line.strip().startswith("Why:"))
        assert line.startswith(f"Why: matches your interest '{item.matched}' — shares '"), line
        shared = re.findall(r"'([^']+)'", line.split("— shares", 1)[1])
        assert all(phrase in paper.embedding_text.lower() and phrase in item.matched for phrase in shared), line
        assert not re.search(r"\d", line), "no similarity or score in the why-line"
        assert line in html
        assert paper.abs_url in html and paper.pdf_url in html
        assert f"{paper.title}\n   Ada Lovelace, Alan Turing" in text
        assert f"Abstract: {paper.abs_url}" in text and f"PDF: {paper.pdf_url}" in text
    more = re.findall(r"More like this: (\S+)", text)
    less = re.findall(r"Less like this: (\S+)", text)
    assert len(more) == len(less) == digest.items.count()
    assert all(link.startswith("http://testserver/feedback/") for link in more + less)
    assert set(more).isdisjoint(less)
    assert all(link in html for link in more + less)


def test_the_html_is_a_table_layout_with_inlined_css_and_the_shared_footer(digest):
    html = html_part(digest_message(digest))

    assert "<style" not in html and 'style="' in html
    assert '<table role="presentation"' in html
    assert "Manage your interests" in html and "Unsubscribe" in html
    assert "You get this email because ada@example.org subscribed" in html


def test_the_message_carries_one_click_unsubscribe_headers_metadata_and_tags(digest):
    message = digest_message(digest)

    assert message.extra_headers["List-Unsubscribe"].startswith("<http://testserver/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.metadata["digest_id"] == str(digest.pk)
    assert message.tags == ["digest"]
    assert message.to == ["ada@example.org"]


def test_the_message_sends_through_djangos_mail_api(digest):
    digest_message(digest).send()

    (sent,) = mail.outbox
    assert sent.subject.startswith("Your papers for Tue 4 Aug")


def test_an_empty_digest_says_so_and_points_to_the_manage_page():
    reader = make_subscriber("bob@example.org", interests=["medieval poetry"], skip_empty=False)
    (digest_id,) = plan_digests([reader.pk], TUESDAY)

    message = digest_message(Digest.objects.get(pk=digest_id))

    assert message.subject == "Your papers for Tue 4 Aug — nothing matched closely this time"
    assert "Nothing new matched your interests" in message.body
    assert "http://testserver/manage/" in message.body


def test_the_teaser_keeps_whole_first_sentences_and_stays_short():
    abstract = "First sentence here. Second one follows. " + "A very long third sentence " * 30 + "."

    assert teaser(abstract) == "First sentence here. Second one follows."
    assert len(teaser("word " * 500)) <= 320 and teaser("word " * 500).endswith("…")


def test_rendering_costs_the_same_queries_for_a_short_and_a_long_digest(django_assert_num_queries):
    embedded_papers()
    short = make_subscriber("short@example.org", interests=["exoplanets"], papers_per_digest=1)
    long = make_subscriber(
        "long@example.org", interests=["protein folding", "compilers", "exoplanets"], papers_per_digest=5
    )
    plan_digests([short.pk, long.pk], TUESDAY)
    short_digest, long_digest = (Digest.objects.select_related("subscriber").get(subscriber=s) for s in (short, long))
    assert (short_digest.items.count(), long_digest.items.count()) == (1, 5)

    # The items with their papers, then the corpus's size and its counts of the interests' words.
    with django_assert_num_queries(3):
        digest_message(short_digest)
    with django_assert_num_queries(3):
        digest_message(long_digest)


def test_a_paper_without_links_or_authors_gets_a_title_search_and_no_empty_lines_or_dead_links():
    from papers.embeddings import embed_papers
    from tests.factories import make_paper

    bare = make_paper("Protein folding from a daily page", "Proteins fold. Nobody linked this.", authors=())
    bare.abs_url = bare.pdf_url = ""
    bare.save()
    embed_papers([bare])
    reader = make_subscriber("ada@example.org", interests=["protein folding"])
    (digest_id,) = plan_digests([reader.pk], TUESDAY)

    message = digest_message(Digest.objects.get(pk=digest_id))

    search = search_url("Protein folding from a daily page")
    assert "1. Protein folding from a daily page\n   Why: " in message.body
    assert "Abstract:" not in message.body and "PDF:" not in message.body
    assert f"   Search for this title (no link was listed): {search}\n" in message.body
    html = unescape(html_part(message))
    assert 'href=""' not in html
    assert re.search(rf'<a href="{re.escape(search)}"[^>]*>Protein folding from a daily page</a>', html)
    assert re.search(rf'<a href="{re.escape(search)}"[^>]*>Search Google Scholar for this title</a>', html)


def test_the_inbox_preview_line_says_how_many_papers_for_which_interests_and_is_hidden_in_the_email(digest):
    html = html_part(digest_message(digest))
    count = digest.items.count()

    preheader = re.search(r'<div class="preheader" style="display:none;[^"]*">([^<]+)', html).group(1)
    assert preheader.startswith(
        f"{count} papers matching “protein structure prediction” and “compiler optimisation”, each with why it is here."
    ) or preheader.startswith(
        f"{count} papers matching “compiler optimisation” and “protein structure prediction”, each with why it is here."
    )
    assert html.index('class="preheader"') < html.index("Paper Digest</strong>"), "first text of the body"


def test_a_weekly_digest_says_this_week():
    embedded_papers()
    reader = make_subscriber("wes@example.org", interests=["protein structure prediction"], frequency="weekly")
    (digest_id,) = plan_digests([reader.pk], TUESDAY)

    message = digest_message(Digest.objects.get(pk=digest_id))

    assert message.subject.startswith("Your papers this week — ")
    assert message.body.startswith("Your papers this week, to Tue 4 Aug\n")
    assert "Your papers this week, to Tue 4 Aug</h1>" in html_part(message)


def read(wire):
    """A message as a mail client reads it: headers decoded, each part's text decoded."""
    parsed = message_from_bytes(wire, policy=email_policy.default)
    headers = {name: str(value).strip() for name, value in parsed.items() if name not in {"Content-Type", "Date"}}
    parts = {part.get_content_type(): part.get_content() for part in parsed.iter_parts()}
    return parsed.get_content_type(), headers, parts


@pytest.mark.parametrize("body_line", ["", "a line longer than SMTP allows: " + "é" * 600])
def test_the_bytes_sent_over_smtp_read_exactly_as_djangos_own(digest, body_line):
    message = digest_message(digest)
    message.extra_headers["Message-ID"] = "<digest.1@example.org>"  # as the sender sets it
    message.body += body_line

    ours = simple_message_bytes(message)
    djangos = message.message().as_bytes(linesep="\r\n")

    assert read(ours) == read(djangos)
    kind, headers, parts = read(ours)
    assert kind == "multipart/alternative" and headers["Subject"] == message.subject
    assert parts["text/plain"].replace("\r\n", "\n").rstrip("\n") == message.body.rstrip("\n")
    assert parts["text/html"].replace("\r\n", "\n").rstrip("\n") == html_part(message).rstrip("\n")
    assert max(len(line) for line in ours.split(b"\r\n")) <= 998


def test_anything_but_text_and_html_goes_djangos_way(digest):
    message = digest_message(digest)
    message.attach("notes.txt", "attached", "text/plain")

    assert simple_message_bytes(message) is None


@freeze_time_at_noon
def test_signed_links_are_byte_for_byte_what_djangos_signing_makes():
    from types import SimpleNamespace

    for pk, extra in [(1, {}), (123456, {"p": 42, "c": "more"}), (7, {"p": 9_999_999, "c": "less"})]:
        for purpose in ("manage", "unsubscribe", "feedback", "confirm"):
            token = signing.make_token(purpose, SimpleNamespace(pk=pk), **extra)
            assert token == django_signing.dumps({"s": pk, **extra}, salt=signing._salt(purpose), compress=True)
            assert signing.read_token(purpose, token) == {"s": pk, **extra}


def test_a_thin_day_sends_only_what_reached_the_cut_and_says_so(digest):
    count = digest.items.count()
    assert 1 < count < digest.subscriber.papers_per_digest, "the fixture day has fewer good papers than a digest holds"

    message = digest_message(digest)

    line = f"{count} papers matched your interests today (your digest holds up to 10)."
    assert line in message.body and line in unescape(html_part(message))


def test_the_thin_day_line_appears_only_when_the_digest_is_short_of_full():
    from digest.render import thin_day

    assert thin_day(1, 10) == "1 paper matched your interests today (your digest holds up to 10)."
    assert thin_day(3, 5, weekly=True) == "3 papers matched your interests this week (your digest holds up to 5)."
    assert thin_day(10, 10) == "" and thin_day(0, 10) == ""
