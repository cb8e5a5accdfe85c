"""Who is due for a digest now: local send hour, daily or weekly, in every time zone, DST-safe.

A subscriber's issue date is their *local* date. They are due once their local clock has
reached their send hour on a day their frequency covers, and they have no digest for that
local date yet. Comparing "hour reached" rather than "hour equals" is what makes it DST-safe
and robust to a missed beat: a send hour skipped by spring-forward (02:30 does not exist in
New York on 2026-03-08) is served at the next hourly run, and an hour repeated by fall-back
finds the day's digest already there (the unique subscriber + issue date), so nobody gets two.
"""

import logging
from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import F, Q
from django.utils import timezone

from digest.models import Digest
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)


def covers(day):
    """Subscribers whose frequency makes `day` (their local date) a digest day."""
    return Q(frequency=Subscriber.Frequency.DAILY) | Q(frequency=Subscriber.Frequency.WEEKLY, weekday=day.weekday())


def _due_by_zone(now, first_id=None, size=None):
    """(local issue date, queryset of the subscribers due in that zone) for every zone in use;
    with `first_id` and `size`, only those whose ids lie in [first_id, first_id + size)."""
    active = Subscriber.objects.active()
    if first_id is not None:
        active = active.filter(pk__gte=first_id, pk__lt=first_id + size)
    for zone_name in active.order_by().values_list("timezone", flat=True).distinct():
        try:
            local = now.astimezone(ZoneInfo(zone_name))
        except (ZoneInfoNotFoundError, ValueError):
            logger.error("subscribers with unknown time zone %r are skipped; fix them in the admin", zone_name)
            continue
        day = local.date()
        yield (
            day,
            active.filter(timezone=zone_name, send_hour__lte=local.hour)
            .filter(covers(day))
            .exclude(digests__issue_date=day),
        )


def due_now(now=None, first_id=None, size=None):
    """{local issue date: [subscriber ids]} of everyone whose digest should go out now
    (with `first_id` and `size`: of those whose ids lie in that block)."""
    now = now or timezone.now()
    due = defaultdict(list)
    for day, subscribers in _due_by_zone(now, first_id, size):
        due[day].extend(subscribers.order_by("pk").values_list("pk", flat=True))
    return {day: sorted(ids) for day, ids in due.items() if ids}


def due_blocks(now, size):
    """{local issue date: [first ids]} of the id blocks of `size` that hold someone due now.

    One short answer per block, computed in the database: the hourly job's own work stays
    small however many subscribers there are; the planning tasks list each block's members.
    """
    blocks = defaultdict(set)
    for day, subscribers in _due_by_zone(now):
        starts = subscribers.order_by().annotate(block=F("pk") / size).values_list("block", flat=True).distinct()
        blocks[day].update(block * size for block in starts)
    return {day: sorted(starts) for day, starts in blocks.items() if starts}


def due_on(day):
    """Everyone whose frequency covers `day`, whatever their hour or zone (manual runs)."""
    return list(Subscriber.objects.active().filter(covers(day)).order_by("pk").values_list("pk", flat=True))


def is_digest_day(subscriber, day):
    """Whether `day` (the subscriber's local date) is one their frequency sends on."""
    return subscriber.frequency == Subscriber.Frequency.DAILY or subscriber.weekday == day.weekday()


def next_issue_date(subscriber, now=None):
    """The local date of the subscriber's next digest: today when today is one of their days
    and today's digest is not there yet, else the next such day."""
    today = timezone.localtime(now or timezone.now(), subscriber.zone).date()
    taken = set(
        Digest.objects.filter(subscriber=subscriber, issue_date__gte=today).values_list("issue_date", flat=True)
    )
    day = today
    while not is_digest_day(subscriber, day) or day in taken:
        day += timedelta(days=1)
    return day
