"""`manage.py recommend --interest TEXT ...`: rank the stored papers for an ad-hoc profile.

The scoring is the production one (`digest.planning.load_candidates` and `Candidates.rank`
with the settings' weights). With --json, stdout carries only the JSON list: model loading
progress and log lines go to stderr.
"""

import contextlib
import json
import sys
from datetime import date, datetime, time

from django.core.management.base import CommandError
from django.utils import timezone
from tqdm import tqdm

from config.commands import BaseCommand, at_least, parsed
from digest.planning import load_candidates
from digest.ranking import Profile, Weights
from papers import embeddings
from papers.models import Paper


def since_date(value):
    """The instant just before the day began, so papers first seen on the day count."""
    day = date.fromisoformat(value)
    return timezone.make_aware(datetime.combine(day, time.min)) - timezone.timedelta(microseconds=1)


class Command(BaseCommand):
    help = "Rank the stored papers for the given interests, exactly as a digest would."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interest",
            action="append",
            required=True,
            metavar="TEXT",
            help="an interest, in your own words (repeat for several)",
        )
        parser.add_argument("--top", type=at_least(1), default=10, help="how many papers (default 10)")
        parser.add_argument(
            "--since",
            type=parsed(since_date, "a date like 2026-08-07"),
            metavar="YYYY-MM-DD",
            help="only papers first seen on or after this day (default: all)",
        )
        parser.add_argument("--json", action="store_true", help="print only a JSON list, best first")

    def handle(self, *args, interest, top, since, **options):
        interests = [text.strip() for text in interest if text.strip()]
        if not interests:
            raise CommandError("--interest needs some text")
        with contextlib.redirect_stdout(sys.stderr):  # libraries that print while loading the model
            matches, papers = self.rank(interests, top, since)
        rows = [
            {
                "title": paper.title,
                "score": round(match.score, 4),
                "matched": match.matched,
                "url": paper.abs_url or paper.pdf_url,
                "pdf_url": paper.pdf_url,
                "authors": paper.authors,
                "arxiv_id": paper.arxiv_id,
                "first_seen_at": paper.first_seen_at.isoformat(),
            }
            for match, paper in zip(matches, papers)
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            self.stdout.write(
                "No stored paper matches these interests well enough. Ingest more papers or "
                "phrase the interest differently."
            )
        for n, row in enumerate(rows, start=1):
            self.stdout.write(f"{n:>2}. {row['score']:.2f}  {row['title']}")
            self.stdout.write(f"      matches '{row['matched']}'  {row['url']}")

    def rank(self, interests, top, since):
        self.embed_missing(since)
        weights = Weights.from_settings()
        candidates = load_candidates(since, timezone.now(), weights)
        profile = Profile(positives=embeddings.encode(interests), labels=interests, k=top)
        matches = candidates.rank([profile], weights)[0]
        by_id = Paper.objects.in_bulk([int(candidates.ids[m.index]) for m in matches])
        return matches, [by_id[int(candidates.ids[m.index])] for m in matches]

    def embed_missing(self, since):
        papers = Paper.objects.all() if since is None else Paper.objects.filter(first_seen_at__gt=since)
        pending = embeddings.pending_papers(papers)
        if pending:
            with tqdm(total=len(pending), desc="Embedding papers", unit="paper", file=sys.stderr) as bar:
                embeddings.embed_papers(pending, progress=bar.update)
