"""`manage.py embed`: give every paper without a current vector one, in batches."""

from django.core.management.base import CommandError

from config.commands import BaseCommand
from papers import embeddings

from .ingest import embed_with_progress


class Command(BaseCommand):
    help = "Embed the papers that have no vector for the configured model yet (or whose text changed)."

    def handle(self, *args, **options):
        try:
            embed_with_progress(embeddings.pending_papers(), self.stdout)
        except embeddings.ModelUnavailable as exc:
            raise CommandError(str(exc)) from exc
