"""`manage.py send_digests [--date YYYY-MM-DD] [--dry-run]`: one day's digests, by hand."""

import datetime
from collections import Counter

from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from config.commands import BaseCommand, parsed
from digest import schedule, sending
from digest.models import Digest
from digest.planning import plan_digests
from digest.preview import would_get
from digest.tasks import chunks

SEND_BATCH = 50


class Command(BaseCommand):
    help = (
        "Plan and send the digests for a date (default: today, UTC) to every active subscriber whose "
        "frequency makes that date a digest day, whatever their send hour. Digests already sent that day "
        "are never sent again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=parsed(datetime.date.fromisoformat, "a date like 2026-08-07"),
            help="Issue date, YYYY-MM-DD (default: today, UTC)",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only say who is due; plan and send nothing")

    def handle(self, *args, date=None, dry_run=False, **options):
        day = date or timezone.now().date()
        subscriber_ids = schedule.due_on(day)
        existing = Counter(
            Digest.objects.filter(issue_date=day, subscriber_id__in=subscriber_ids).values_list("status", flat=True)
        )
        if dry_run:
            self.stdout.write(
                f"{day}: {len(subscriber_ids)} subscriber(s) due; already there: {self.counts(existing) or 'none'}. "
                "Dry run: nothing planned or sent. Who would get what, if planned now:"
            )
            self.list_what_each_would_get(subscriber_ids, day)
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

    def list_what_each_would_get(self, subscriber_ids, day):
        for subscriber, items in would_get(subscriber_ids, day):
            if not items:
                outcome = "nothing (skips empty days)" if subscriber.skip_empty else "an empty digest"
                self.stdout.write(f"  {subscriber.email}: no paper passes the minimum score; would get {outcome}")
                continue
            self.stdout.write(f"  {subscriber.email}: {len(items)} paper{'s' if len(items) > 1 else ''}")
            for n, item in enumerate(items, start=1):
                self.stdout.write(f"    {n:>2}. {item.score:.2f}  {item.paper.title[:90]}")

    @staticmethod
    def counts(counter):
        return ", ".join(f"{status} {count}" for status, count in sorted(counter.items()))
