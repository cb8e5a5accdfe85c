"""`manage.py preview_digest EMAIL [--html FILE]`: the next digest of a subscriber, nothing sent.

It first says what will actually happen: nothing at all for a reader who is not active, else
the date the next digest carries, whether today's is already out, and whether a day without
a good match sends nothing.
"""

from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from config.commands import BaseCommand
from digest import schedule
from digest.models import Digest
from digest.preview import preview_next_digest
from subscriptions.models import Subscriber

WHY_NOTHING = {
    Subscriber.Status.PENDING: "has not confirmed the address yet (nothing goes out before the confirmation link "
    "is clicked)",
    Subscriber.Status.PAUSED: "paused their digest (it resumes from the manage page or the admin)",
    Subscriber.Status.UNSUBSCRIBED: "unsubscribed",
    Subscriber.Status.BOUNCED: "is suppressed: mail to the address bounced",
    Subscriber.Status.COMPLAINED: "is suppressed: they marked a digest as spam",
}


class Command(BaseCommand):
    help = "Show the digest a subscriber would get now, with each paper's score breakdown. Sends nothing."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--html", metavar="FILE", help="also write the HTML email to FILE")

    def handle(self, *args, email, html, **options):
        subscriber = Subscriber.objects.for_address(email).first()
        if subscriber is None:
            raise CommandError(f"No subscriber with the address {email!r}")
        issue_date = schedule.next_issue_date(subscriber)
        subject, text, html_body, items = preview_next_digest(subscriber, issue_date=issue_date)
        if html:  # before any output: piped into `head`, the command stops when the reader does
            try:
                Path(html).write_text(html_body, encoding="utf-8")
            except OSError as error:
                raise CommandError(f"--html {html}: cannot write the file ({error.strerror})") from None
        for line in self.what_will_happen(subscriber, issue_date, items):
            self.stdout.write(line)
        self.stdout.write(f"\nSubject: {subject}\n")
        self.stdout.write(text)
        self.stdout.write("Score breakdown:")
        if not items:
            self.stdout.write("  (no paper passes the minimum score in the current window)")
        for n, item in enumerate(items, start=1):
            self.stdout.write(f"  {n:>2}. {item.paper.title[:70]}: {item.breakdown}")
        if html:
            self.stdout.write(f"HTML written to {html}")

    @staticmethod
    def what_will_happen(subscriber, issue_date, items):
        if subscriber.status != Subscriber.Status.ACTIVE:
            return [
                f"Nothing will be sent: {subscriber.email} {WHY_NOTHING[subscriber.status]}. "
                "Below is what they would get if they were active."
            ]
        zone = subscriber.timezone
        today = timezone.localtime(timezone.now(), subscriber.zone).date()
        lines = []
        todays = Digest.objects.filter(subscriber=subscriber, issue_date=today, resend_of__isnull=True).first()
        if todays:
            lines.append(f"Today's digest ({today:%a %Y-%m-%d} in {zone}) is already {todays.status}.")
        when = f"from {subscriber.send_hour:02d}:00 {zone}"
        if issue_date == today and timezone.localtime(timezone.now(), subscriber.zone).hour >= subscriber.send_hour:
            when = f"at the next hourly run ({subscriber.send_hour:02d}:00 {zone} has passed)"
        lines.append(f"Next digest: {issue_date:%a %Y-%m-%d} ({subscriber.frequency}), sent {when}.")
        if not items and subscriber.skip_empty:
            lines.append("If no new paper matches by then, nothing is sent that day (they skip empty days).")
        return lines
