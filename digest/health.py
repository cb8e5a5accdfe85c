"""Is the service healthy? Database, Redis (when configured) and the age of the last good ingest.

One function feeds both `/healthz` (JSON, 200 or 503, for load balancers and monitors) and
`manage.py status` (the same, for a person at a terminal).
"""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from papers.models import IngestRun, Source


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def check_redis():
    if not settings.REDIS_URL:
        return {"ok": True, "detail": "not configured (embedded mode)"}
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    client.ping()
    return {"ok": True}


def check_ingest():
    """A service with sources but no successful ingest for too long is not healthy."""
    last = (
        IngestRun.objects.filter(status__in=[IngestRun.Status.OK, IngestRun.Status.PARTIAL, IngestRun.Status.NOT_MODIFIED])
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
    return {"ok": age_hours <= max_age_hours, "last_success": at.isoformat(), "age_hours": age_hours, "max_age_hours": max_age_hours}


CHECKS = {"database": check_database, "redis": check_redis, "ingest": check_ingest}


def report():
    """{"ok": bool, "checks": {name: {"ok": bool, ...}}}; a failing check never raises."""
    checks = {}
    for name, check in CHECKS.items():
        try:
            checks[name] = check()
        except Exception as error:
            checks[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"ok": all(check["ok"] for check in checks.values()), "checks": checks}


@never_cache
@require_GET
def healthz(request):
    result = report()
    return JsonResponse(result, status=200 if result["ok"] else 503)
