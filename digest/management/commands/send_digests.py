"""`manage.py send_digests [--date YYYY-MM-DD] [--dry-run]`: one day's digests, by hand."""

import datetime
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from digest import schedule, sending
from digest.models import Digest
from digest.planning import plan_digests
from digest.tasks import chunks

SEND_BATCH = 50


class Command(BaseCommand):
    help = (
        "Plan and send the digests for a date (default: today, UTC) to every active subscriber whose "
        "frequency makes that date a digest day, whatever their send hour. Digests already sent that day "
        "are never sent again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Issue date, YYYY-MM-DD (default: today, UTC)")
        parser.add_argument("--dry-run", action="store_true", help="Only say who is due; plan and send nothing")

    def handle(self, *args, date=None, dry_run=False, **options):
        day = self.parse_date(date) if date else timezone.now().date()
        subscriber_ids = schedule.due_on(day)
        existing = Counter(
            Digest.objects.filter(issue_date=day, subscriber_id__in=subscriber_ids).values_list("status", flat=True)
        )
        if dry_run:
            self.stdout.write(
                f"{day}: {len(subscriber_ids)} subscriber(s) due; already there: {self.counts(existing) or 'none'}. "
                "Dry run: nothing planned or sent."
            )
            return
        digest_ids = []
        now, candidate_sets = timezone.now(), {}  # one window for the whole run, candidates loaded once
        with tqdm(total=len(subscriber_ids), desc="planning", unit="subscriber", disable=None) as bar:
            for chunk in chunks(subscriber_ids, 1000):
                with transaction.atomic():
                    digest_ids.extend(plan_digests(chunk, day, now=now, candidate_sets=candidate_sets))
                bar.update(len(chunk))
        outcomes = Counter()
        with tqdm(total=len(digest_ids), desc="sending", unit="digest", disable=None) as bar:
            for batch in chunks(digest_ids, SEND_BATCH):
                outcomes.update(sending.send_batch(batch).values())
                bar.update(len(batch))
        final = Counter(
            Digest.objects.filter(issue_date=day, subscriber_id__in=subscriber_ids).values_list("status", flat=True)
        )
        self.stdout.write(
            f"{day}: {len(subscriber_ids)} due, {len(digest_ids)} planned to send; "
            f"this run sent {outcomes[sending.SENT]}, failed {outcomes[sending.FAILED]}, "
            f"left for retry {outcomes[sending.RETRY]}. "
            f"Digests of the day by status: {self.counts(final) or 'none'}."
        )
        if outcomes[sending.RETRY]:
            self.stdout.write("Digests left for retry are sent by the workers' sweeper, or by running this again.")

    @staticmethod
    def parse_date(text):
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--date {text!r} is not a date like 2026-08-07") from None

    @staticmethod
    def counts(counter):
        return ", ".join(f"{status} {count}" for status, count in sorted(counter.items()))
