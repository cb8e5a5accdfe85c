"""`manage.py evaluate_feedback`: day-2 NDCG@5 and junk after a reader's clicks, and of seeded profiles."""

import sys

from django.core.management.base import CommandError

from config.commands import BaseCommand, at_least
from evaluation import feedback
from evaluation.evaluate import JudgedSetError, default_judged_sets


class Command(BaseCommand):
    help = (
        "Replay 'more / less like this' clicks on the judged sets (day 1 / day 2 halves, through the real "
        "feedback service and planner) and compare day 2 with no feedback; also seeded vs text-only profiles."
    )

    def add_arguments(self, parser):
        parser.add_argument("judged", nargs="*", help="judged set files (default: evaluation/judged/*)")
        parser.add_argument("--seeds", type=at_least(1), default=5, help="random day splits per set (default 5)")

    def handle(self, *args, judged, seeds, **options):
        paths = judged or default_judged_sets()
        if not paths:
            raise CommandError("No judged sets found in evaluation/judged/")
        results = []
        for path in paths:
            try:
                results.append(feedback.simulate(path, seeds=seeds, progress=self.progress))
            except (JudgedSetError, OSError) as exc:
                raise CommandError(str(exc)) from exc
        for result in results:
            held = " (held out)" if result.held_out else ""
            self.section(f"Judged set {result.path}{held}: {result.profiles} profiles x {seeds} seeds", [result])
        tuning = [r for r in results if not r.held_out]
        held_out = [r for r in results if r.held_out]
        if len(tuning) > 1:
            self.section(f"Mean over the {len(tuning)} tuning sets (each set weighs the same)", tuning)
        if held_out:
            self.section(f"Held-out sets ({len(held_out)}), never tuned on", held_out)

    def progress(self, message):
        print(message, file=sys.stderr, flush=True)

    def section(self, title, results):
        self.stdout.write(f"\n{title}")
        header = f"{'':<24}{'day-2 NDCG@5':>13}{'vs none':>9}{'95% CI':>18}   {'junk':>6}{'vs none':>9}{'95% CI':>18}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        rows = [(feedback.NO_FEEDBACK, "no feedback")]
        rows += [(feedback.budget_name(b), self.clicks_label(results, b)) for b in feedback.BUDGETS]
        rows.append((feedback.SEEDED, f"seeded ({feedback.SEEDS_PER_PROFILE} grade-2) vs text"))
        for variant, label in rows:
            ndcg = feedback.paired(feedback.metric_pairs(results, variant, "ndcg"))
            junk = feedback.paired(feedback.metric_pairs(results, variant, "junk"))
            if ndcg is None or junk is None:
                continue
            if variant == feedback.NO_FEEDBACK:
                self.stdout.write(f"{label:<24}{ndcg.baseline:>13.3f}{'':>27}   {junk.baseline:>6.3f}")
                continue
            self.stdout.write(
                f"{label:<24}{ndcg.value:>13.3f}{ndcg.difference:>+9.3f}{self.ci(ndcg):>18}"
                f"   {junk.value:>6.3f}{junk.difference:>+9.3f}{self.ci(junk):>18}"
            )

    @staticmethod
    def ci(gain):
        return f"[{gain.low:+.3f}, {gain.high:+.3f}]"

    @staticmethod
    def clicks_label(results, budget):
        made = [n for r in results for n in r.clicks.get(feedback.budget_name(budget), [])]
        mean = sum(made) / len(made) if made else 0.0
        name = "all clicks" if budget is None else f"{budget} click{'s' if budget > 1 else ''}"
        return f"{name} (mean {mean:.1f})"
