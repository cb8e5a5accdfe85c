"""`manage.py status`: the /healthz checks plus today's digests and ingest runs; exit 1 if unhealthy."""

from collections import Counter

from django.utils import timezone

from config.commands import BaseCommand
from config.health import report
from digest.models import Digest
from papers.models import IngestRun


class Command(BaseCommand):
    help = "Health (database, Redis, last successful ingest) and today's counts; exits 1 when unhealthy."

    def handle(self, *args, **options):
        result = report()
        for name, check in result["checks"].items():
            details = ", ".join(f"{key} {value}" for key, value in check.items() if key != "ok")
            self.stdout.write(
                f"{name:<9} {'ok' if check['ok'] else 'FAILING'}{'  (' + details + ')' if details else ''}"
            )
        today = timezone.now().date()
        midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        digests = Counter(Digest.objects.filter(issue_date=today).values_list("status", flat=True))
        runs = Counter(IngestRun.objects.filter(started_at__gte=midnight).values_list("status", flat=True))
        self.stdout.write(f"digests for {today}: {self.counts(digests)}")
        self.stdout.write(f"ingest runs today: {self.counts(runs)}")
        stuck = Digest.objects.filter(status=Digest.Status.SENDING).count()
        if stuck:
            self.stdout.write(f"in sending right now: {stuck}")
        self.stdout.write("healthy" if result["ok"] else "UNHEALTHY")
        if not result["ok"]:
            raise SystemExit(1)

    @staticmethod
    def counts(counter):
        return ", ".join(f"{status} {count}" for status, count in sorted(counter.items())) or "none"
