"""`make bench`: time a daily run stage by stage in a throwaway database; see bench/."""

from bench import runner
from config.commands import BaseCommand, at_least


class Command(BaseCommand):
    help = (
        "Benchmark a daily run (embed, rank, plan, render, send) on synthetic data in a database of its "
        "own, against the naive way; prints a table and writes var/bench/latest.json."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--subscribers", type=at_least(1), default=10000, help="Subscribers to create (default 10000)"
        )
        parser.add_argument("--papers", type=at_least(1), default=1000, help="Candidate papers (default 1000)")
        parser.add_argument(
            "--sample",
            type=at_least(1),
            default=2000,
            help="Digests rendered and sent when there are more (default 2000)",
        )
        parser.add_argument(
            "--naive-sample",
            type=at_least(1),
            default=100,
            help="Subscribers and digests done the naive way (default 100)",
        )
        parser.add_argument(
            "--send-processes",
            type=at_least(1),
            default=2,
            help="Sender processes working at once in the send stage, like Celery workers (default 2)",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed for the synthetic data")
        parser.add_argument("--keep-db", action="store_true", help="Keep the bench database for inspection")

    def handle(self, *args, **options):
        _, table = runner.run(
            subscribers=options["subscribers"],
            papers=options["papers"],
            sample=options["sample"],
            naive_sample=options["naive_sample"],
            seed=options["seed"],
            keep_db=options["keep_db"],
            send_processes=options["send_processes"],
            say=self.stdout.write,
        )
        self.stdout.write(table)
