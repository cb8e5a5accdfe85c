"""`manage.py setup_schedule`: the beat schedule as django-celery-beat rows, editable in the admin.

Idempotent: a task that exists keeps whatever staff changed on it (`--reset` restores the
defaults). Run once per deployment before starting beat (docker-compose does).
"""

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from config.commands import BaseCommand


def default_schedule():
    ingest_at, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour=str(settings.INGEST_HOUR_UTC),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    hourly, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    every_5_min, _ = IntervalSchedule.objects.get_or_create(every=5, period=IntervalSchedule.MINUTES)
    return {
        "Ingest all sources, then embed (daily)": {"task": "papers.tasks.ingest_all_sources", "crontab": ingest_at},
        "Plan and send due digests (hourly)": {"task": "digest.tasks.plan_and_send_due", "crontab": hourly},
        "Re-queue stuck digests (every 5 minutes)": {
            "task": "digest.tasks.sweep_stuck_digests",
            "interval": every_5_min,
        },
    }


class Command(BaseCommand):
    help = "Create the periodic tasks (daily ingest, hourly plan-and-send, sweeper) for celery beat."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Restore the default timing of existing tasks")

    def handle(self, *args, reset=False, **options):
        for name, fields in default_schedule().items():
            fields = {"crontab": None, "interval": None, **fields}
            task, created = PeriodicTask.objects.get_or_create(name=name, defaults=fields)
            if not created and reset:
                for key, value in fields.items():
                    setattr(task, key, value)
                task.enabled = True
                task.save()
            state = "created" if created else ("reset" if reset else "kept as is")
            self.stdout.write(f"{name}: {task.task} ({state})")
