"""System checks: `manage.py check` refuses timing settings that would break exactly-once delivery,
and `check --deploy` warns about public addresses left at their embedded defaults.

Every one of these values can be overridden from the environment, and each relation below
is one that digest/sending.py and the Celery tasks rely on (see the docstring of
digest/sending.py for the life of a digest):

- a task's soft time limit comes before its hard one, so a sender cut short puts the digests
  it has not tried back to `planned` before it is killed;
- no task runs (or, for a retry, waits and then runs) longer than the broker's visibility
  timeout, or Redis hands the unacknowledged message to a second worker while the first
  one is still at it;
- the sweeper waits longer than any sender can take with a claimed digest (the hard time
  limit), or it returns a digest being sent to `planned` and it goes out twice; and longer
  than a retry waits, or it takes a digest waiting for its retry for a lost one.
"""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

TAG = "exactly_once"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def _task_limits() -> list[tuple[str, float, float]]:
    """(name, soft limit, hard limit) of every task of the project's Celery app that sets its own."""
    from django.utils.module_loading import autodiscover_modules

    from config.celery import app

    autodiscover_modules("tasks")  # every app's tasks module, as a worker imports them
    limits: list[tuple[str, float, float]] = []
    for name, task in sorted(app.tasks.items()):
        if name.startswith("celery.") or (task.time_limit is None and task.soft_time_limit is None):
            continue
        hard = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        soft = task.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        limits.append((name, soft, hard))
    return limits


@register(TAG)
def exactly_once_timing(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    soft, hard = settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT
    visibility = settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    retry_max = settings.SEND_RETRY_MAX_SECONDS
    sweep_after = settings.SENDING_STUCK_AFTER_MINUTES * 60
    errors: list[CheckMessage] = []

    def error(number: int, message: str, hint: str) -> None:
        errors.append(Error(message, hint=hint, id=f"config.E{number:03d}"))

    if soft >= hard:
        error(
            1,
            f"CELERY_TASK_SOFT_TIME_LIMIT ({soft} s) is not below CELERY_TASK_TIME_LIMIT ({hard} s).",
            "Keep CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT: the soft limit lets a sender put the "
            "digests it has not tried back before the hard limit kills it.",
        )
    if hard >= visibility:
        error(
            2,
            f"CELERY_TASK_TIME_LIMIT ({hard} s) is not below CELERY_BROKER_VISIBILITY_TIMEOUT ({visibility} s).",
            "Keep CELERY_TASK_TIME_LIMIT < CELERY_BROKER_VISIBILITY_TIMEOUT: Redis hands a task that is still "
            "running after the visibility timeout to a second worker.",
        )
    if retry_max + hard >= visibility:
        error(
            3,
            f"SEND_RETRY_MAX_SECONDS ({retry_max:g} s) + CELERY_TASK_TIME_LIMIT ({hard} s) is not below "
            f"CELERY_BROKER_VISIBILITY_TIMEOUT ({visibility} s).",
            "Keep SEND_RETRY_MAX_SECONDS + CELERY_TASK_TIME_LIMIT < CELERY_BROKER_VISIBILITY_TIMEOUT: a retry "
            "waits unacknowledged in a worker for its delay and then runs; Redis would hand it to a second "
            "worker meanwhile.",
        )
    if sweep_after <= hard:
        error(
            4,
            f"SENDING_STUCK_AFTER_MINUTES ({settings.SENDING_STUCK_AFTER_MINUTES} min = {sweep_after} s) is not "
            f"longer than CELERY_TASK_TIME_LIMIT ({hard} s).",
            "Keep SENDING_STUCK_AFTER_MINUTES × 60 > SEND_RETRY_MAX_SECONDS + CELERY_TASK_TIME_LIMIT: the sweeper "
            "would return a digest to `planned` while its sender may still be sending it, and it would go out twice.",
        )
    elif sweep_after <= retry_max + hard:
        error(
            5,
            f"SENDING_STUCK_AFTER_MINUTES ({settings.SENDING_STUCK_AFTER_MINUTES} min = {sweep_after} s) is not "
            f"longer than SEND_RETRY_MAX_SECONDS ({retry_max:g} s) + CELERY_TASK_TIME_LIMIT ({hard} s).",
            "Keep SENDING_STUCK_AFTER_MINUTES × 60 > SEND_RETRY_MAX_SECONDS + CELERY_TASK_TIME_LIMIT: the sweeper "
            "would take a digest waiting for its retry for one whose task was lost, and send it early.",
        )
    for name, task_soft, task_hard in _task_limits():
        if task_soft >= task_hard:
            error(
                6,
                f"Task {name}: its soft time limit ({task_soft} s) is not below its hard time limit ({task_hard} s).",
                "Keep a task's soft time limit below its hard one, so it can stop cleanly.",
            )
        if task_hard >= visibility:
            error(
                7,
                f"Task {name}: its time limit ({task_hard} s) is not below CELERY_BROKER_VISIBILITY_TIMEOUT "
                f"({visibility} s).",
                "Keep every task's time limit < CELERY_BROKER_VISIBILITY_TIMEOUT: Redis hands a task that is "
                "still running after the visibility timeout to a second worker.",
            )
    return errors


@register(Tags.security, deploy=True)
def public_address(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """`check --deploy`: what a deployer must set besides the secrets (settings refuse those).

    Every link in every email is built on SITE_URL, and the cookies and HSTS of production
    assume https: a forgotten SITE_URL mails readers dead localhost links, a plain http one
    sends their signed manage links in the clear. ALLOWED_HOSTS left at its embedded default
    answers only localhost.
    """
    warnings: list[CheckMessage] = []
    host = urlsplit(settings.SITE_URL).hostname or ""
    if not settings.SITE_URL.startswith("https://") or host in LOCAL_HOSTS:
        warnings.append(
            Warning(
                f"SITE_URL is {settings.SITE_URL!r}: emails would link readers to it.",
                hint="Set SITE_URL to the public https address readers' browsers reach, e.g. https://digest.example.org.",
                id="config.W001",
            )
        )
    if set(settings.ALLOWED_HOSTS) <= LOCAL_HOSTS | {"testserver"}:
        warnings.append(
            Warning(
                "ALLOWED_HOSTS names only this machine, so the site answers no public host name.",
                hint="Set ALLOWED_HOSTS to the host name(s) of SITE_URL, comma-separated.",
                id="config.W002",
            )
        )
    return warnings
