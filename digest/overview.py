"""The admin's "Today" page: what went out, what went wrong and what waits, since 00:00 UTC.

Every figure carries the admin list it counts, filtered the same way, so a staff member goes
from "3 failed" to the three digests in one click.
"""

from datetime import UTC, datetime, time
from urllib.parse import urlencode

from django.db.models import Count, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from digest.models import DeliveryEvent, Digest
from papers.models import IngestRun, Source
from subscriptions.models import Subscriber


def changelist(model, **filters):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def today(now=None):
    now = now or timezone.now()
    day = now.astimezone(UTC).date()
    midnight = datetime.combine(day, time.min, tzinfo=UTC)
    by_status = dict(
        Digest.objects.filter(issue_date=day).values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    digests = [
        {
            "label": label,
            "count": by_status.get(status, 0),
            "url": changelist(Digest, issue_date=day.isoformat(), status__exact=status),
        }
        for status, label in Digest.Status.choices
    ]
    sent_today = Digest.objects.filter(sent_at__gte=midnight).count()
    events = dict(
        DeliveryEvent.objects.filter(received_at__gte=midnight, event_type__in=["bounced", "complained"])
        .values_list("event_type")
        .annotate(n=Count("pk"))
        .values_list("event_type", "n")
    )
    readers = [
        {
            "label": label,
            "count": Subscriber.objects.filter(status=status).count(),
            "today": today_count,
            "url": changelist(Subscriber, status__exact=status),
        }
        for status, label, today_count in [
            (Subscriber.Status.PENDING, "Pending confirmation", None),
            (Subscriber.Status.BOUNCED, "Bounced", events.get("bounced", 0)),
            (Subscriber.Status.COMPLAINED, "Complained", events.get("complained", 0)),
        ]
    ]
    latest = IngestRun.objects.filter(source=OuterRef("pk")).order_by("-started_at")
    sources = Source.objects.order_by("-enabled", "name").annotate(run_id=Subquery(latest.values("pk")[:1]))
    runs = IngestRun.objects.in_bulk([s.run_id for s in sources if s.run_id])
    ingests = [
        {
            "source": source,
            "run": runs.get(source.run_id),
            "url": changelist(IngestRun, source__id__exact=source.pk),
        }
        for source in sources
    ]
    return {
        "day": day,
        "digests": digests,
        "sent_today": sent_today,
        "sent_url": changelist(Digest, status__exact="sent", sent_at__gte=midnight.isoformat()),
        "readers": readers,
        "ingests": ingests,
    }
