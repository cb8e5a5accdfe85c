"""Is the service healthy? The database, Redis (when configured), and whatever the apps add.

One function feeds both `/healthz` (JSON, 200 or 503, for load balancers and monitors) and
`manage.py status` (the same, for a person at a terminal). The checks of the shared
services live here; an app adds its own with `register` from its AppConfig.ready (papers
adds the age of the last good ingest), so this module never imports an app.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

Check = Callable[[], dict[str, Any]]


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def check_redis() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"ok": True, "detail": "not configured (embedded mode)"}
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    client.ping()
    return {"ok": True}


CHECKS: dict[str, Check] = {"database": check_database, "redis": check_redis}


def register(name: str, check: Check) -> None:
    """Add an app's check; it returns {"ok": bool, ...details} and may raise (reported as a failure)."""
    CHECKS[name] = check


def public(result: dict[str, Any]) -> dict[str, Any]:
    """What anyone may see: healthy or not, check by check. Details (ages, driver errors naming
    internal hosts and ports) are for staff and `manage.py status` only."""
    return {"ok": result["ok"], "checks": {name: {"ok": check["ok"]} for name, check in result["checks"].items()}}


def report() -> dict[str, Any]:
    """{"ok": bool, "checks": {name: {"ok": bool, ...}}}; a failing check never raises."""
    checks: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        try:
            checks[name] = check()
        except Exception as error:
            checks[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"ok": all(check["ok"] for check in checks.values()), "checks": checks}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    result = report()
    body = result if request.user.is_staff else public(result)
    return JsonResponse(body, status=200 if result["ok"] else 503)
