"""`manage.py evaluate_ranking`: what a default digest sends, ours beside BM25 and plain cosine, on the judged sets."""

from django.core.management.base import CommandError

from config.commands import BaseCommand
from evaluation.evaluate import (
    TARGET_JUNK,
    TARGET_RECALL,
    JudgedSetError,
    K,
    best_cut,
    default_judged_sets,
    evaluate,
    frontier,
    summary,
)

HEADER = f"{'':<28}{f'order NDCG@{K}':>13}{f'sent NDCG@{K}':>13}{f'P@{K}':>7}{'junk':>7}{'recall':>8}{'empty':>8}"
FRONTIER_EVERY = 5  # print every 5th cut of CUTS (0.1 apart) in the frontier


def row(label, order, sent):
    """One table row: `order` is the Summary of the ranking with no cut, `sent` of what is sent."""
    return (
        f"{label[:27]:<28}{order.ndcg:>13.3f}{sent.ndcg:>13.3f}{sent.precision:>7.2f}"
        f"{sent.junk:>7.0%}{sent.recall:>8.0%}{f'{sent.empty}/{sent.profiles}':>8}"
    )


class Command(BaseCommand):
    help = (
        "What a default digest sends, judged (evaluation/judged/*.json): NDCG@5 of the order and of what is sent, "
        "P@5, junk share, grade-2 recall and empty digests, for our ranking, BM25 and plain cosine."
    )

    def add_arguments(self, parser):
        parser.add_argument("judged", nargs="*", help="judged set JSON files (default: evaluation/judged/*.json)")
        parser.add_argument("--per-profile", action="store_true", help="also print every profile's scores")

    def handle(self, *args, judged, per_profile, **options):
        paths = judged or default_judged_sets()
        if not paths:
            raise CommandError("No judged sets found in evaluation/judged/")
        try:
            reports = [evaluate(path, progress=self.progress) for path in paths]
        except (JudgedSetError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        tuning = [r for report in reports if not report.held_out for r in report.results]
        held_out = [r for report in reports if report.held_out for r in report.results]
        # The cosine baseline's threshold is chosen on the tuning sets (all sets when every one is held out).
        cosine_cut, _ = best_cut(tuning or held_out, lambda r, cut: r.cosine_digest(cut))
        for report in reports:
            kind = "HELD OUT, never tuned on" if report.held_out else "tuning"
            self.stdout.write(
                f"\nJudged set {report.name} ({len(report.results)} profiles, {kind}); "
                f"digests of up to {report.results[0].size}, our cut {report.min_score:g}"
            )
            self.sides(report.results, cosine_cut)
            for label, results in report.groups()[:-1]:
                self.stdout.write(
                    row(
                        f"  ours, {label} ({len(results)})",
                        summary(results, lambda r: r.digest("ordered")),
                        summary(results, lambda r: r.digest("sent")),
                    )
                )
            if per_profile:
                self.profiles(report.results)
        if tuning:
            self.stdout.write(f"\nAll tuning sets ({len(tuning)} profiles)")
            self.sides(tuning, cosine_cut)
        if held_out:
            self.stdout.write(f"\nHeld-out sets ({len(held_out)} profiles): the honest check, never tuned on")
            self.sides(held_out, cosine_cut)
        self.frontier(tuning or held_out)

    def progress(self, message):
        self.stderr.write(message)

    def sides(self, results, cosine_cut):
        self.stdout.write(HEADER)
        self.stdout.write("-" * len(HEADER))
        order = summary(results, lambda r: r.digest("ordered"))
        self.stdout.write(row("ours", order, summary(results, lambda r: r.digest("sent"))))
        bm25 = summary(results, lambda r: r.digest("bm25"))
        self.stdout.write(row("BM25 (no cut)", bm25, bm25))
        self.stdout.write(
            row(
                f"cosine >= {cosine_cut:.2f}",
                summary(results, lambda r: r.cosine_digest(None)),
                summary(results, lambda r: r.cosine_digest(cosine_cut)),
            )
        )

    def frontier(self, results):
        """Junk against grade-2 recall at several cuts, and the best single cut of each score."""
        self.stdout.write(
            f"\nJunk vs grade-2 recall at each cut ({len(results)} profiles; target: junk <= {TARGET_JUNK:.0%} "
            f"with recall >= {TARGET_RECALL:.0%})"
        )
        self.stdout.write(f"{'cut':>5}  {'ours: junk recall empty sent-NDCG':>36}  {'cosine: junk recall empty':>27}")
        ours = frontier(results, lambda r, cut: r.ours_digest(cut))
        cosine = frontier(results, lambda r, cut: r.cosine_digest(cut))
        for n, ((cut, mine), (_, plain)) in enumerate(zip(ours, cosine)):
            if n % FRONTIER_EVERY or (not mine.sent and not plain.sent):
                continue
            self.stdout.write(
                f"{cut:>5.2f}  {mine.junk:>16.0%}{mine.recall:>7.0%}{mine.empty:>6}{mine.ndcg:>11.3f}"
                f"  {plain.junk:>14.0%}{plain.recall:>7.0%}{plain.empty:>6}"
            )
        for label, digest_at in (
            ("ours", lambda r, cut: r.ours_digest(cut)),
            ("cosine", lambda r, cut: r.cosine_digest(cut)),
        ):
            cut, best = best_cut(results, digest_at)
            verdict = "meets" if best.meets(TARGET_JUNK, TARGET_RECALL) else "misses"
            self.stdout.write(
                f"best single cut for {label}: {cut:.2f} -> junk {best.junk:.0%}, recall {best.recall:.0%}, "
                f"empty {best.empty}/{best.profiles}, sent NDCG@{K} {best.ndcg:.3f} ({verdict} the target)"
            )

    def profiles(self, results):
        self.stdout.write("")
        for result in results:
            order = summary([result], lambda r: r.digest("ordered"))
            sent = summary([result], lambda r: r.digest("sent"))
            bm25 = summary([result], lambda r: r.digest("bm25"))
            self.stdout.write(
                f"  {result.style:<12}{result.name[:44]:<46}ours {order.ndcg:.2f} / sent {sent.ndcg:.2f}, "
                f"{len(result.sent)} sent, {sent.junk:.0%} junk   BM25 {bm25.ndcg:.2f}"
            )
