"""`make demo`: everything a newcomer needs to see real personalised digests in minutes.

Ingests the sample pages and feeds bundled in papers/fixtures/ (once: they are not put on the
daily schedule, see papers.ingest.ad_hoc_source), creates a few demo
subscribers with different interests, plans today's digests and sends them through the
configured email backend (by default .eml files in var/outbox/).
"""

from pathlib import Path

from django.conf import settings
from django.utils import timezone

from config.commands import BaseCommand
from digest.planning import plan_digests
from digest.sending import send_digest
from papers.embeddings import embed_pending
from papers.ingest import ingest
from subscriptions.models import Interest, Subscriber

SAMPLES = Path(settings.BASE_DIR) / "papers" / "fixtures"

DEMO_SUBSCRIBERS = {
    "ada@example.org": ["vision-language models and prompt learning", "image editing with diffusion models"],
    "grace@example.org": ["large language model reasoning", "efficient inference and quantization of transformers"],
    "alan@example.org": ["reinforcement learning for robotics", "graph neural networks"],
    "rosalind@example.org": ["genomics and single-cell sequencing", "clinical studies and epidemiology"],
    "katherine@example.org": ["generating pictures from written descriptions", "speech and audio generation"],
}


class Command(BaseCommand):
    help = "Ingest the bundled samples, create demo subscribers and send them today's digests."

    def handle(self, *args, **options):
        self.stdout.write(self.style.MIGRATE_HEADING("1/4 Ingesting the bundled sample pages and feeds"))
        for path in sorted(SAMPLES.glob("pages/*")) + sorted(SAMPLES.glob("feeds/*")):
            if path.suffix not in {".txt", ".html", ".xml", ".json"}:
                continue
            run = ingest(str(path))
            self.stdout.write(
                f"  {path.name}: {run.status}, {run.new} new, {run.duplicate} already known, {run.rejected} rejected"
                + (f" ({run.message})" if run.message else "")
            )

        self.stdout.write(self.style.MIGRATE_HEADING("2/4 Embedding papers"))
        count, seconds = embed_pending()
        self.stdout.write(f"  {count} papers embedded ({seconds:.1f} s in the model)")

        self.stdout.write(self.style.MIGRATE_HEADING("3/4 Demo subscribers"))
        subscribers = [self.demo_subscriber(email, topics) for email, topics in DEMO_SUBSCRIBERS.items()]
        for subscriber in subscribers:
            topics = "; ".join(i.text for i in subscriber.interests.all())
            self.stdout.write(f"  {subscriber.email}: {topics}")

        self.stdout.write(self.style.MIGRATE_HEADING("4/4 Planning and sending today's digests"))
        today = timezone.localdate()
        planned = plan_digests([s.pk for s in subscribers], today)
        statuses = [send_digest(digest_id) for digest_id in planned]
        self.stdout.write(
            f"  {statuses.count('sent')} digests sent, {len(subscribers) - len(planned)} already done today"
        )

        self.stdout.write(self.style.SUCCESS("\nDone. Where to look:"))
        if settings.EMAIL_BACKEND == "config.email_backends.EmlFileBackend":
            self.stdout.write(f"  the emails:   {settings.EMAIL_OUTBOX_DIR}/*.eml (open one in your mail client)")
        self.stdout.write("  a profile:    .venv/bin/python manage.py recommend --interest 'your topic' --top 5")
        self.stdout.write("  the web form: make run, then http://localhost:8000/")
        self.stdout.write(
            "  real papers:  .venv/bin/python manage.py add_source hf-daily (or arxiv cs.CL cs.LG, biorxiv genomics;"
            " add_source --list); the samples above are not on the daily schedule"
        )

    def demo_subscriber(self, email, topics):
        subscriber, created = Subscriber.objects.get_or_create(
            email=email,
            defaults={"status": Subscriber.Status.ACTIVE, "confirmed_at": timezone.now(), "skip_empty": False},
        )
        if created:
            for topic in topics:
                Interest.objects.create(subscriber=subscriber, kind=Interest.Kind.TOPIC, text=topic)
        return subscriber
