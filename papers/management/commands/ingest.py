"""`manage.py ingest SOURCE [SOURCE ...]`: read pages and feeds into the paper store, then embed.

Each SOURCE is a configured Source's name, a URL or a file path. Every source is ingested on its
own (a broken one never stops the others) and gets a one-line summary; the command fails only
when nothing could be read from any of them.
"""

import sys
import time

from django.core.management.base import CommandError
from tqdm import tqdm

from config.commands import BaseCommand
from papers import embeddings
from papers.ingest import ingest
from papers.models import IngestRun, Paper, Source
from papers.sources import ingest_scheduled


class Command(BaseCommand):
    help = "Ingest pages and feeds (file paths, URLs or configured source names), then embed new papers."

    def add_arguments(self, parser):
        parser.add_argument("sources", nargs="+", metavar="SOURCE", help="file path, URL or configured source name")
        parser.add_argument(
            "--kind",
            choices=[kind for kind in Source.Kind.values if kind != Source.Kind.AUTO],
            help="parser to use instead of detecting it from the content",
        )
        parser.add_argument("--no-embed", action="store_true", help="store papers only; embed later with `embed`")

    def handle(self, *args, sources, kind, no_embed, **options):
        runs = []
        with tqdm(total=len(sources), unit="source", file=sys.stderr, disable=None) as bar:
            for name in sources:
                bar.set_description(name[-40:])
                with tqdm(unit="paper", file=sys.stderr, leave=False, disable=None) as entries:
                    configured = Source.objects.filter(name=name).first()
                    if configured and not kind:
                        done = ingest_scheduled(configured, progress=entries.update)
                        if not done:
                            self.stdout.write(f"{name}: every day up to yesterday is already read")
                    elif configured and configured.is_dated:
                        raise CommandError(f"{name} is read one day at a time: --kind does not apply")
                    else:
                        done = [
                            ingest(
                                configured.location if configured else name,
                                kind=kind,
                                source=configured,
                                progress=entries.update,
                            )
                        ]
                for run in done:
                    self.stdout.write(summary(run))
                runs += done
                bar.update(1)
        if runs and all(run.status == IngestRun.Status.FAILED for run in runs):
            reasons = "; ".join(f"{run.source.name}: {run.message}" for run in runs)
            raise CommandError(f"Nothing could be read from any source. {reasons}")
        if not no_embed:
            self.embed({paper_id for run in runs for paper_id in run.changed_paper_ids})

    def embed(self, paper_ids):
        if not paper_ids:
            self.stdout.write("Nothing new to embed.")
            return
        try:
            embed_with_progress(embeddings.pending_papers(Paper.objects.filter(id__in=paper_ids)), self.stdout)
        except embeddings.ModelUnavailable as exc:
            self.stderr.write(f"Papers are stored but not embedded: {exc}")


def summary(run):
    counts = (
        f"{run.seen} entries: {run.new} new, {run.updated} updated, "
        f"{run.duplicate} already known, {run.rejected} rejected"
    )
    day = getattr(run, "listing_day", None)  # a dated source's runs say which day they read
    line = f"{run.source.name}{f' {day}' if day else ''}: {run.status}"
    if run.status not in (IngestRun.Status.FAILED, IngestRun.Status.NOT_MODIFIED):
        line += f" ({run.kind}) {counts}"
    return f"{line}. {run.message}" if run.message else line


def embed_with_progress(papers, stdout):
    """Embed `papers` with a progress bar; print how many, how fast, and how much was model time."""
    if not papers:
        stdout.write("Nothing to embed: every paper has a current vector.")
        return
    started = time.perf_counter()
    with tqdm(total=len(papers), unit="paper", desc="Embedding", file=sys.stderr, disable=None) as bar:
        count, model_seconds = embeddings.embed_papers(papers, progress=bar.update)
    seconds = time.perf_counter() - started
    rate = count / max(seconds, 1e-9)
    stdout.write(
        f"Embedded {count} paper{'' if count == 1 else 's'} in {seconds:.1f} s ({rate:.1f} papers/s, "
        f"{model_seconds:.1f} s in the model)."
    )
