"""Look up every seeded paper still waiting, for every confirmed reader: what the `ingest`
worker does after each "add papers", run by hand (say, after an embedded-mode server was
stopped in the middle of a lookup)."""

from config.commands import BaseCommand
from subscriptions import seeds
from subscriptions.models import SeedPaper, Subscriber


class Command(BaseCommand):
    help = "Look up the papers readers seeded their profiles with that are still waiting."

    def handle(self, *args, **options):
        waiting = SeedPaper.objects.filter(status=SeedPaper.Status.LOOKING_UP).exclude(
            subscriber__status=Subscriber.Status.PENDING
        )
        count = waiting.count()
        readers = sorted(set(waiting.values_list("subscriber_id", flat=True)))
        added = sum(seeds.resolve(subscriber_id) for subscriber_id in readers)
        failed = SeedPaper.objects.filter(subscriber_id__in=readers, status=SeedPaper.Status.FAILED).count()
        self.stdout.write(
            f"{count} waiting papers of {len(readers)} readers: {added} added, "
            f"{failed} failed (their reasons are on the readers' manage pages and in the admin)"
        )
