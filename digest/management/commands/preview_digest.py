"""`manage.py preview_digest EMAIL [--html FILE]`: the next digest of a subscriber, nothing sent."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from digest.preview import preview_next_digest
from subscriptions.models import Subscriber


class Command(BaseCommand):
    help = "Show the digest a subscriber would get now, with each paper's score breakdown. Sends nothing."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--html", metavar="FILE", help="also write the HTML email to FILE")

    def handle(self, *args, email, html, **options):
        subscriber = Subscriber.objects.for_address(email).first()
        if subscriber is None:
            raise CommandError(f"No subscriber with the address {email!r}")
        subject, text, html_body, items = preview_next_digest(subscriber)
        self.stdout.write(f"Subject: {subject}\n")
        self.stdout.write(text)
        self.stdout.write("Score breakdown:")
        if not items:
            self.stdout.write("  (no paper passes the minimum score in the current window)")
        for n, item in enumerate(items, start=1):
            self.stdout.write(f"  {n:>2}. {item.paper.title[:70]}: {item.breakdown}")
        if html:
            Path(html).write_text(html_body, encoding="utf-8")
            self.stdout.write(f"HTML written to {html}")
