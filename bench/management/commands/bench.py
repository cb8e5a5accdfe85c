"""`make bench`: time a daily run stage by stage in a throwaway database; see bench/."""

import os

import dj_database_url
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from bench import runner
from config.commands import BaseCommand, at_least

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/paperdigest"
DEFAULT_BROKER = "redis://127.0.0.1:6379/13"


def use_database(kind):
    """Point the default connection at the chosen server; the runner makes its own database there."""
    current = connections[DEFAULT_DB_ALIAS].settings_dict
    if kind == "sqlite":
        if current["ENGINE"].endswith("sqlite3"):
            return
        chosen = dj_database_url.parse(f"sqlite:///{settings.VAR_DIR / 'db.sqlite3'}")
    else:
        if current["ENGINE"].endswith("postgresql"):
            return
        chosen = dj_database_url.parse(os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_POSTGRES)
    chosen.setdefault("OPTIONS", {})  # the other engine's options (SQLite's timeout) do not carry over
    connections[DEFAULT_DB_ALIAS].close()
    current.update(chosen)
    settings.DATABASES[DEFAULT_DB_ALIAS].update(chosen)


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
        parser.add_argument(
            "--database",
            choices=["postgres", "sqlite"],
            default="postgres",
            help="postgres (default): the PostgreSQL server of DATABASE_URL, else BENCH_POSTGRES_URL "
            f"(default {DEFAULT_POSTGRES}); sqlite: a file under VAR_DIR/bench/",
        )
        parser.add_argument(
            "--broker-url",
            default=os.environ.get("BENCH_REDIS_URL", DEFAULT_BROKER),
            help="A Redis database the bench may flush, for the production run's Celery workers "
            f"(default BENCH_REDIS_URL or {DEFAULT_BROKER}); 'none' skips the production run",
        )
        parser.add_argument(
            "--check-bf16",
            action="store_true",
            help="Compare bf16 with fp32 embeddings (top-10 overlap, speed) even where the CPU has no native bf16",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed for the synthetic data")
        parser.add_argument("--keep-db", action="store_true", help="Keep the bench database for inspection")

    def handle(self, *args, **options):
        use_database(options["database"])
        broker_url = None if options["broker_url"].lower() == "none" else options["broker_url"]
        _, table = runner.run(
            subscribers=options["subscribers"],
            papers=options["papers"],
            sample=options["sample"],
            naive_sample=options["naive_sample"],
            seed=options["seed"],
            keep_db=options["keep_db"],
            send_processes=options["send_processes"],
            broker_url=broker_url,
            check_bf16=options["check_bf16"],
            say=self.stdout.write,
        )
        self.stdout.write(table)
