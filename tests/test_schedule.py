"""Everyone gets their digest at their own local hour, once a day (or week), across time zones and DST.

Time travels hour by hour through whole days while the hourly `plan_and_send_due` task runs
(eagerly, in-process: worker processes cannot travel in time) and digests go out for real
through the sender into Django's test outbox.
"""

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from digest import schedule
from digest.models import Digest
from digest.tasks import plan_and_send_due
from subscriptions.models import Subscriber
from tests.factories import make_digest, make_papers, make_subscribers

pytestmark = pytest.mark.django_db(transaction=True)

UTC = UTC
_numbers = itertools.count()


def reader(zone, send_hour=7, **fields):
    prefix = f"{zone.replace('/', '-').lower()}-{next(_numbers)}-"
    return make_subscribers(1, prefix=prefix, send_hour=send_hour, timezone=zone, **fields)[0]


def run_hourly(start, hours):
    """Beat's hourly run, with a fresh paper listed each hour so every digest has something in it."""
    for hour in range(hours):
        moment = start + timedelta(hours=hour, minutes=1)
        with time_machine.travel(moment, tick=False):
            make_papers(1)
            plan_and_send_due()


def local_send_times(subscriber, after=None):
    zone = ZoneInfo(subscriber.timezone)
    sent = Digest.objects.filter(subscriber=subscriber, status=Digest.Status.SENT).order_by("sent_at")
    if after:
        sent = sent.filter(sent_at__gt=after)
    return [digest.sent_at.astimezone(zone) for digest in sent]


def test_readers_around_the_world_get_one_digest_a_day_at_their_local_hour():
    readers = [reader("Pacific/Honolulu"), reader("UTC"), reader("Asia/Kolkata"), reader("Pacific/Kiritimati")]
    start = datetime(2026, 8, 5, 0, tzinfo=UTC)

    run_hourly(start, hours=72)

    for subscriber in readers:
        # The first run catches up with whoever signed up after today's hour; after that, all is on time.
        times = local_send_times(subscriber, after=start + timedelta(hours=1))
        by_day = defaultdict(list)
        for moment in times:
            by_day[moment.date()].append(moment)
        assert all(len(sent) == 1 for sent in by_day.values()), (subscriber.timezone, times)
        # Every local day whose 07:00 fell inside the three days got its digest, at 07:xx local time.
        assert len(by_day) >= 2, (subscriber.timezone, times)
        assert {moment.hour for moment in times} == {7}, (subscriber.timezone, times)
        assert {moment.minute for moment in times} <= {1, 31}
    assert len(mail.outbox) == Digest.objects.filter(status=Digest.Status.SENT).count()
    assert Digest.objects.exclude(status=Digest.Status.SENT).count() == 0


def test_a_reader_who_signs_up_after_their_hour_gets_that_days_digest_at_the_next_run():
    late = reader("Europe/Paris", send_hour=7)

    run_hourly(datetime(2026, 8, 5, 10, tzinfo=UTC), hours=1)  # 12:01 in Paris

    assert [(moment.date(), moment.hour) for moment in local_send_times(late)] == [(date(2026, 8, 5), 12)]


def test_spring_forward_still_sends_when_the_local_send_hour_does_not_exist():
    # 2026-03-08 in New York: 02:00 jumps to 03:00, so 02:xx never happens that day.
    night_owl = reader("America/New_York", send_hour=2)

    start = datetime(2026, 3, 7, 0, tzinfo=UTC)
    run_hourly(start, hours=72)

    times = local_send_times(night_owl, after=start + timedelta(hours=1))
    days = [moment.date() for moment in times]
    assert days == [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)]
    assert [moment.hour for moment in times] == [2, 3, 2]  # the skipped hour is served at the next one


def test_fall_back_does_not_send_twice_in_the_repeated_hour():
    # 2026-11-01 in New York: 01:00-02:00 happens twice (EDT, then EST).
    early_bird = reader("America/New_York", send_hour=1)

    start = datetime(2026, 10, 31, 0, tzinfo=UTC)
    run_hourly(start, hours=72)

    times = local_send_times(early_bird, after=start + timedelta(hours=1))
    assert [moment.date() for moment in times] == [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
    assert all(moment.hour == 1 for moment in times)
    assert Digest.objects.filter(subscriber=early_bird, issue_date=date(2026, 11, 1)).count() == 1


def test_a_weekly_reader_gets_one_digest_on_their_weekday_only():
    weekly = reader(
        "Europe/Berlin", send_hour=8, frequency=Subscriber.Frequency.WEEKLY, weekday=Subscriber.Weekday.FRIDAY
    )

    run_hourly(datetime(2026, 8, 5, 0, tzinfo=UTC), hours=96)  # Wednesday to Saturday

    times = local_send_times(weekly)
    assert [(moment.date(), moment.hour) for moment in times] == [(date(2026, 8, 7), 8)]


def test_who_is_due_at_one_instant():
    honolulu, kolkata, paused = reader("Pacific/Honolulu"), reader("Asia/Kolkata"), reader("UTC", send_hour=0)
    Subscriber.objects.filter(pk=paused.pk).update(status=Subscriber.Status.PAUSED)

    # 2026-08-07 02:00 UTC is 07:30 in Kolkata (due) and 16:00 the day before in Honolulu (already due that day).
    due = schedule.due_now(datetime(2026, 8, 7, 2, tzinfo=UTC))

    assert due == {date(2026, 8, 7): [kolkata.pk], date(2026, 8, 6): [honolulu.pk]}
    make_digest(kolkata, issue_date=date(2026, 8, 7))
    assert schedule.due_now(datetime(2026, 8, 7, 3, tzinfo=UTC)) == {date(2026, 8, 6): [honolulu.pk]}


def test_a_manual_run_for_a_date_covers_everyone_whose_frequency_covers_it():
    daily = reader("UTC", send_hour=23)
    friday = reader("UTC", frequency=Subscriber.Frequency.WEEKLY, weekday=Subscriber.Weekday.FRIDAY)
    monday = reader("UTC", frequency=Subscriber.Frequency.WEEKLY, weekday=Subscriber.Weekday.MONDAY)

    assert schedule.due_on(date(2026, 8, 7)) == [daily.pk, friday.pk]
    assert monday.pk in schedule.due_on(date(2026, 8, 10))
