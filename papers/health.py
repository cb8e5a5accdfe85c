"""The ingest's part of the health check: a service with sources but no good ingest for too long is not healthy."""

from typing import Any

from django.conf import settings
from django.utils import timezone

from papers.models import IngestRun, Source


def check_ingest() -> dict[str, Any]:
    last = (
        IngestRun.objects.filter(
            source__enabled=True,  # the daily schedule's runs: reading a file once (the demo) says nothing of it
            status__in=[IngestRun.Status.OK, IngestRun.Status.PARTIAL, IngestRun.Status.NOT_MODIFIED],
        )
        .order_by("-started_at")
        .values_list("finished_at", "started_at")
        .first()
    )
    max_age_hours = settings.HEALTH_MAX_INGEST_AGE_HOURS
    if last is None:
        has_sources = Source.objects.filter(enabled=True).exists()
        return {"ok": not has_sources, "last_success": None, "age_hours": None, "max_age_hours": max_age_hours}
    at = last[0] or last[1]
    age_hours = round((timezone.now() - at).total_seconds() / 3600, 2)
    return {
        "ok": age_hours <= max_age_hours,
        "last_success": at.isoformat(),
        "age_hours": age_hours,
        "max_age_hours": max_age_hours,
    }
