"""Looking at a subscriber's next digest without sending it: the admin's and the command's preview."""

import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command

from digest.models import Digest
from digest.planning import plan_digests
from digest.preview import preview_next_digest, recent_matches
from subscriptions.models import Subscriber
from tests.factories import embedded_papers, make_digest, make_papers, make_subscriber, make_subscribers, titles_of

pytestmark = pytest.mark.django_db


def test_the_preview_is_the_digest_that_would_be_sent_with_a_score_breakdown():
    embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein structure prediction"])

    subject, text, html, items = preview_next_digest(reader)

    assert subject.startswith("Your papers for ") and titles_of("proteins")[0] in subject
    assert titles_of("proteins")[0] in text and titles_of("proteins")[0] in html
    assert items[0].breakdown.startswith("similarity 0.")
    assert "'protein structure prediction' + 0.400 for shared words = " in items[0].breakdown
    assert not Digest.objects.exists() and not mail.outbox


def test_the_preview_leaves_out_papers_already_sent():
    embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein structure prediction"])
    plan_digests([reader.pk], date(2026, 8, 7))
    Digest.objects.update(status=Digest.Status.SENT)

    *_, items = preview_next_digest(reader)

    assert items == []


def test_recent_matches_are_the_best_papers_of_the_last_week_with_their_reason():
    embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["compiler optimisation", "exoplanets"])

    matches = recent_matches(reader, days=7, limit=2)

    assert len(matches) == 2
    assert {m.matched for m in matches} == {"compiler optimisation", "exoplanets"}
    assert all(m.paper.title and 0 < m.score <= 1 + settings.RANKING["WORD_MATCH_WEIGHT"] for m in matches)


def test_preview_digest_prints_the_email_and_writes_the_html(tmp_path, capsys):
    embedded_papers()
    make_subscriber("ada@example.org", interests=["protein structure prediction"])
    target = tmp_path / "digest.html"

    call_command("preview_digest", "ADA@example.org", "--html", str(target))

    out = capsys.readouterr().out
    assert out.startswith("Next digest: ") and "\nSubject: Your papers for " in out
    assert "Score breakdown:" in out and "similarity 0." in out
    assert titles_of("proteins")[0] in target.read_text()


class ReaderGoneAtOnce(io.StringIO):
    """stdout of `preview_digest ... --html FILE | head -0`: the reader has left before the first line."""

    def write(self, text):
        raise BrokenPipeError


def test_preview_digest_writes_the_html_even_when_its_reader_stops_early(tmp_path):
    embedded_papers()
    make_subscriber("ada@example.org", interests=["protein structure prediction"])
    target = tmp_path / "digest.html"

    with pytest.raises(BrokenPipeError):
        call_command("preview_digest", "ada@example.org", "--html", str(target), stdout=ReaderGoneAtOnce())

    assert titles_of("proteins")[0] in target.read_text()


def test_preview_digest_of_an_unknown_address_says_so():
    with pytest.raises(CommandError, match="No subscriber with the address"):
        call_command("preview_digest", "nobody@example.org")


def preview_of(email, capsys):
    call_command("preview_digest", email)
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "status, reason",
    [
        (Subscriber.Status.PAUSED, "paused their digest"),
        (Subscriber.Status.PENDING, "has not confirmed the address yet"),
        (Subscriber.Status.UNSUBSCRIBED, "unsubscribed"),
        (Subscriber.Status.BOUNCED, "is suppressed: mail to the address bounced"),
    ],
)
def test_the_preview_of_a_reader_who_gets_nothing_says_so_first(status, reason, capsys):
    make_papers(2)
    make_subscribers(1, prefix="ada", status=status)

    first, *_ = preview_of("ada0@example.org", capsys).splitlines()

    assert first.startswith(f"Nothing will be sent: ada0@example.org {reason}")
    assert "what they would get if they were active" in first


def test_the_preview_names_the_next_date_and_says_when_todays_digest_is_already_out(capsys):
    papers = make_papers(2)
    with time_machine.travel(datetime(2026, 8, 7, 9, 30, tzinfo=UTC), tick=False):
        (ada,) = make_subscribers(1, prefix="ada", send_hour=7)
        make_subscribers(1, prefix="wes", send_hour=7, frequency="weekly", weekday=Subscriber.Weekday.MONDAY)
        make_digest(ada, papers, status=Digest.Status.SENT)

        ada_out, wes_out = preview_of("ada0@example.org", capsys), preview_of("wes0@example.org", capsys)

    assert ada_out.startswith(
        "Today's digest (Fri 2026-08-07 in UTC) is already sent.\n"
        "Next digest: Sat 2026-08-08 (daily), sent from 07:00 UTC."
    )
    assert "Subject: Your papers for Sat 8 Aug" in ada_out
    assert wes_out.startswith("Next digest: Mon 2026-08-10 (weekly), sent from 07:00 UTC.")


def test_the_preview_on_a_reader_whose_hour_has_passed_says_the_next_run_sends_it(capsys):
    make_papers(2)
    with time_machine.travel(datetime(2026, 8, 7, 9, 30, tzinfo=UTC), tick=False):
        make_subscribers(1, prefix="ada", send_hour=7)

        out = preview_of("ada0@example.org", capsys)

    assert out.startswith("Next digest: Fri 2026-08-07 (daily), sent at the next hourly run (07:00 UTC has passed).")


def test_the_manage_page_preview_gives_each_paper_the_why_line_of_the_email(client):
    from digest.tasks import refresh_preview_task
    from tests.subscription_helpers import path_of

    embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein structure prediction"])
    _, text, _, _ = preview_next_digest(reader)

    refresh_preview_task(reader.pk)  # the worker, after a save
    page = client.get(path_of("manage", reader)).content.decode()

    first = reader.preview_matches.select_related("paper").first()
    assert first.why.startswith("matches your interest 'protein structure prediction' — shares '")
    assert f"Why: {first.why}" in text, "the same words as the email"
    assert first.why in page.replace("&#x27;", "'")
    assert "similarity" not in page
