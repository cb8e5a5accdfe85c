"""An operator sends a day's digests by hand with `manage.py send_digests`."""

import re
from datetime import date
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from digest.models import Digest
from subscriptions.models import Subscriber
from tests.factories import make_papers, make_subscribers

pytestmark = pytest.mark.django_db

FRIDAY = date(2026, 8, 7)


@pytest.fixture
def readers():
    make_papers(3)
    daily = make_subscribers(3, prefix="daily", send_hour=23, timezone="Pacific/Honolulu")
    friday = make_subscribers(
        1, prefix="friday", frequency=Subscriber.Frequency.WEEKLY, weekday=Subscriber.Weekday.FRIDAY
    )
    make_subscribers(1, prefix="monday", frequency=Subscriber.Frequency.WEEKLY, weekday=Subscriber.Weekday.MONDAY)
    make_subscribers(1, prefix="paused", status=Subscriber.Status.PAUSED)
    return daily + friday


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("send_digests", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_a_dry_run_lists_who_would_get_which_papers_and_sends_nothing(readers):
    output = run("--date", "2026-08-07", "--dry-run")

    assert "2026-08-07: 4 subscriber(s) due" in output and "Dry run" in output
    for reader in readers:
        assert f"  {reader.email}: 3 papers\n" in output
    assert re.search(r"\n     1\. \d\.\d\d  Contrastive sentence embeddings, part \d\n", output)
    assert "paused0@example.org" not in output and "monday0@example.org" not in output
    assert not Digest.objects.exists() and mail.outbox == []


def test_sending_a_day_by_hand_reaches_everyone_due_whatever_their_hour_and_only_once(readers):
    output = run("--date", "2026-08-07")

    assert sorted(message.to[0] for message in mail.outbox) == sorted(reader.email for reader in readers)
    assert "4 due, 4 planned to send; this run sent 4, failed 0" in output
    assert set(Digest.objects.values_list("issue_date", flat=True)) == {FRIDAY}

    again = run("--date", "2026-08-07")

    assert len(mail.outbox) == 4
    assert "0 planned to send; this run sent 0" in again and "sent 4" in again


def test_a_date_that_is_not_a_date_is_refused_clearly():
    with pytest.raises(CommandError, match="'7 Aug' is not a date like 2026-08-07"):
        run("--date", "7 Aug")


def test_the_beat_schedule_is_created_once_and_staff_edits_survive():
    from django_celery_beat.models import PeriodicTask

    call_command("setup_schedule", stdout=StringIO())
    tasks = {task.task: task for task in PeriodicTask.objects.all()}
    assert set(tasks) == {
        "papers.tasks.ingest_all_sources",
        "digest.tasks.plan_and_send_due",
        "digest.tasks.sweep_stuck_digests",
    }
    assert tasks["papers.tasks.ingest_all_sources"].crontab.hour == "5"
    assert tasks["digest.tasks.plan_and_send_due"].crontab.minute == "0"
    assert tasks["digest.tasks.plan_and_send_due"].crontab.hour == "*"

    PeriodicTask.objects.filter(task="papers.tasks.ingest_all_sources").update(enabled=False)
    output = StringIO()
    call_command("setup_schedule", stdout=output)
    assert PeriodicTask.objects.count() == 3 and "kept as is" in output.getvalue()
    assert not PeriodicTask.objects.get(task="papers.tasks.ingest_all_sources").enabled

    call_command("setup_schedule", "--reset", stdout=StringIO())
    assert PeriodicTask.objects.get(task="papers.tasks.ingest_all_sources").enabled
