"""`manage.py evaluate_ranking`: NDCG@5 and P@5 of our ranking and of BM25 on the judged sets."""

from django.core.management.base import CommandError

from config.commands import BaseCommand
from evaluation.evaluate import JudgedSetError, K, default_judged_sets, evaluate


class Command(BaseCommand):
    help = "Compare our ranking with a BM25 baseline on judged relevance (evaluation/judged/*.json)."

    def add_arguments(self, parser):
        parser.add_argument("judged", nargs="*", help="judged set JSON files (default: evaluation/judged/*.json)")
        parser.add_argument("--per-profile", action="store_true", help="also print every profile's scores")

    def handle(self, *args, judged, per_profile, **options):
        paths = judged or default_judged_sets()
        if not paths:
            raise CommandError("No judged sets found in evaluation/judged/")
        try:
            reports = [(path, evaluate(path)) for path in paths]
        except (JudgedSetError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        for path, report in reports:
            self.stdout.write(f"\nJudged set {path} ({len(report.results)} profiles)")
            header = (
                f"{'profiles':<16}{'n':>3}  {f'ours NDCG@{K}':>12}{f'ours P@{K}':>10}"
                f"  {f'BM25 NDCG@{K}':>12}{f'BM25 P@{K}':>10}"
            )
            self.stdout.write(header)
            self.stdout.write("-" * len(header))
            for label, results in report.groups():
                ours, bm25 = report.mean(results, "ours"), report.mean(results, "bm25")
                self.stdout.write(
                    f"{label:<16}{len(results):>3}  {ours[0]:>12.3f}{ours[1]:>10.3f}  {bm25[0]:>12.3f}{bm25[1]:>10.3f}"
                )
            if per_profile:
                self.stdout.write("")
                for result in report.results:
                    ours, bm25 = result.scores("ours"), result.scores("bm25")
                    self.stdout.write(
                        f"  {result.style:<12}{result.name[:44]:<46}"
                        f"ours {ours[0]:.2f} / {ours[1]:.1f}   BM25 {bm25[0]:.2f} / {bm25[1]:.1f}"
                    )
