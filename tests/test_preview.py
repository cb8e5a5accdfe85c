"""Looking at a subscriber's next digest without sending it: the admin's and the command's preview."""

from datetime import date

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command

from digest.models import Digest
from digest.planning import plan_digests
from digest.preview import preview_next_digest, recent_matches
from tests.factories import embedded_papers, make_subscriber, titles_of

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
    assert out.startswith("Subject: Your papers for ")
    assert "Score breakdown:" in out and "similarity 0." in out
    assert titles_of("proteins")[0] in target.read_text()


def test_preview_digest_of_an_unknown_address_says_so():
    with pytest.raises(CommandError, match="No subscriber with the address"):
        call_command("preview_digest", "nobody@example.org")
