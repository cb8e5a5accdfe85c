"""The benchmark run: synthesise data, time each stage of a daily run, compare with naive.

Stages, each timed on its own with the production code:

- embed: every paper embedded and stored (papers.embeddings.embed_papers).
- rank: digest.ranking.rank for every subscriber against today's candidates, chunk by chunk
  as the planner calls it, nothing written. The profiles are loaded with planning's own
  loaders; that loading is timed apart and shown beside the stage.
- plan: digest.planning.plan_digests for everyone: ranking again, then Digest and DigestItem
  rows written in bulk; the rate counts rows written.
- render: digest.render.digest_message for a sample of the digests (the whole lot when it is
  no larger than --sample), loaded in batches as the sender loads them; one process.
- send: digest.sending.send_batch (claim, render, SMTP, record) for the same sample, by
  --send-processes forked processes as the Celery workers of a deployment would, each over
  its share of batches with its own database connection and SMTP session, into an SMTP sink
  on 127.0.0.1 in a process of its own (it shares the machine's cores with the senders).

End to end is embed + plan + send for every digest, the three steps a real day runs (plan
includes ranking, send includes rendering). When send was sampled, its share is projected
from the sample's rate and the table says so.

The naive way (bench.naive) ranks and renders a smaller sample, and the
speed-ups compare time per subscriber (rank) and per digest (render). The naive ranking
loads its data itself, so the rank ratio counts our loading too: like for like.
"""

import multiprocessing
import queue
import random
import sys
import time
from collections import Counter
from contextlib import contextmanager

from django.core.mail import get_connection
from django.db import connections
from django.db.models import Prefetch
from django.utils import timezone
from tqdm import tqdm

from bench import data, naive, report
from bench.database import throwaway_database
from bench.sink import smtp_sink
from digest import planning
from digest.models import Digest, DigestItem
from digest.ranking import Weights
from digest.render import digest_message
from digest.sending import send_batch
from papers import embeddings
from papers.models import Paper
from subscriptions.models import Subscriber

SEND_BATCH = 100
REPORT_TIMEOUT = 5  # seconds between checks that the sender processes are still alive


class Timer:
    def __init__(self):
        self.seconds = 0.0

    @contextmanager
    def __call__(self):
        started = time.perf_counter()
        try:
            yield self
        finally:
            self.seconds += time.perf_counter() - started


def bar(total, desc, unit):
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)


def run(subscribers, papers, sample=2000, naive_sample=100, seed=1, keep_db=False, send_processes=2, say=print):
    """Run the benchmark and write latest.json; returns (result dict, table text)."""
    rng = random.Random(seed)
    with throwaway_database(keep=keep_db) as database_name:
        say(f"Bench database: {database_name} (created for this run, {'kept' if keep_db else 'dropped'} after)")
        machine = report.machine()
        paper_ids, titles = synthesise_papers(papers, rng, say)
        stages, notes, naive_rates = {}, {}, {}

        embed_seconds = time_embed(paper_ids)
        stages["embed"] = report.stage(embed_seconds, len(paper_ids))
        say(report.stage_line("embed", stages["embed"]))
        notes["embed"] = f"all {len(paper_ids):,} papers, {embeddings.model_name()} on CPU"

        subscriber_ids = synthesise_subscribers(subscribers, titles, paper_ids, rng, say)
        now = timezone.now()
        issue_date = timezone.localdate(now)

        rank_seconds, loading_seconds = time_rank(subscriber_ids, now)
        stages["rank"] = report.stage(rank_seconds, len(subscriber_ids))
        say(report.stage_line("rank", stages["rank"]))
        notes["rank"] = (
            f"all {len(subscriber_ids):,} subscribers, ranking.rank only; loading their profiles "
            f"from the database took {loading_seconds:.1f} s more"
        )

        naive_ids = rng.sample(subscriber_ids, min(naive_sample, len(subscriber_ids)))
        naive_rank_seconds = time_naive_rank(naive_ids, now)
        naive_rates["rank"] = len(naive_ids) / naive_rank_seconds

        plan_seconds, digest_ids = time_plan(subscriber_ids, issue_date, now)
        rows = Digest.objects.count() + DigestItem.objects.count()
        stages["plan"] = report.stage(plan_seconds, rows)
        say(report.stage_line("plan", stages["plan"]))
        notes["plan"] = f"{rows:,} Digest + DigestItem rows for {len(digest_ids):,} digests (includes ranking)"

        sampled = rng.sample(digest_ids, min(sample, len(digest_ids)))
        sampled.sort()
        share = "all" if len(sampled) == len(digest_ids) else "sample of"
        render_seconds = time_render(sampled)
        stages["render"] = report.stage(render_seconds, len(sampled))
        say(report.stage_line("render", stages["render"]))
        notes["render"] = f"{share} {len(sampled):,} digests of {len(digest_ids):,}"

        naive_digests = sampled[: min(naive_sample, len(sampled))]
        naive_render_seconds = time_naive_render(naive_digests)
        naive_rates["render"] = len(naive_digests) / naive_render_seconds

        send_seconds, received, outcomes = time_send(sampled, send_processes)
        stages["send"] = report.stage(send_seconds, len(sampled))
        say(report.stage_line("send", stages["send"]))
        notes["send"] = (
            f"{share} {len(sampled):,} digests by {send_processes} process(es), "
            f"{received:,} arrived at the SMTP sink ({outcome_summary(outcomes)})"
        )

        send_all_seconds = send_seconds * len(digest_ids) / len(sampled) if sampled else 0.0
        end_to_end = embed_seconds + plan_seconds + send_all_seconds
        notes["end_to_end"] = "embed + plan + send" + (
            f" (send projected to all {len(digest_ids):,} digests from the sample's rate)"
            if share != "all"
            else " (all measured)"
        )
        speedups = {
            "rank": ratio(naive_rank_seconds / len(naive_ids), (rank_seconds + loading_seconds) / len(subscriber_ids)),
            "render": ratio(naive_render_seconds / max(1, len(naive_digests)), render_seconds / max(1, len(sampled))),
        }
        notes["naive"] = f"naive samples: {len(naive_ids)} subscribers ranked, {len(naive_digests)} digests rendered"
    result = report.result(len(subscriber_ids), len(paper_ids), stages, end_to_end, speedups, machine)
    path = report.write(result)
    text = report.table(result, notes, naive_rates)
    return result, text + f"\n{notes['naive']}\nWritten to {path}"


def ratio(slow, fast):
    return round(slow / fast, 1) if fast > 0 else None


def synthesise_papers(count, rng, say):
    say("Ingesting the bundled samples through the real parsers ...")
    runs = data.ingest_samples()
    real = Paper.objects.count()
    say(f"  {len(runs)} samples ingested, {real:,} distinct papers")
    with bar(max(0, count - real), "paper variants", "papers") as progress:
        paper_ids, titles = data.make_papers(count, rng, progress=progress.update)
    return paper_ids, titles


def synthesise_subscribers(count, titles, paper_ids, rng, say):
    say(f"Creating {count:,} subscribers with their interests ...")
    with bar(count, "subscribers", "subscribers") as progress:
        return data.make_subscribers(count, titles, paper_ids, rng, progress=progress.update)


def time_embed(paper_ids):
    """Papers/s of the embedding job; loading the model (once per process) is not counted."""
    embeddings.encode_one("warm up")
    timer = Timer()
    with bar(len(paper_ids), "embed", "papers") as progress, timer():
        papers = list(Paper.objects.filter(id__in=paper_ids).only("id", "title", "abstract").order_by("id"))
        embeddings.embed_papers(papers, progress=progress.update)
    return timer.seconds


def time_rank(subscriber_ids, now):
    """(ranking seconds, loading seconds): planning's own loaders feed Candidates.rank chunk by
    chunk, as plan_digests does, but only the ranking is the rank stage; loading is reported beside it."""
    weights = Weights.from_settings()
    ranking, loading = Timer(), Timer()
    candidate_sets = {}  # as in plan_digests: chunks whose windows start alike share their candidates
    with bar(len(subscriber_ids), "rank", "subscribers") as progress:
        for start in range(0, len(subscriber_ids), weights.chunk_size):
            with loading():
                subscribers = list(
                    Subscriber.objects.filter(pk__in=subscriber_ids[start : start + weights.chunk_size]).only(
                        "pk", "frequency", "papers_per_digest", "min_relevance"
                    )
                )
                windows = planning.window_starts(subscribers, now)
                since = min(windows.values())
                if since not in candidate_sets:
                    candidate_sets[since] = planning.load_candidates(since, now, weights)
                candidates = candidate_sets[since]
                profiles = planning.load_profiles(subscribers, windows, candidates)
            with ranking():
                candidates.rank(profiles, weights)
            progress.update(len(subscribers))
    return ranking.seconds, loading.seconds


def time_plan(subscriber_ids, issue_date, now):
    """plan_digests in chunks, as send_digests calls it; returns (seconds, planned digest ids)."""
    chunk_size = Weights.from_settings().chunk_size
    timer = Timer()
    digest_ids = []
    candidate_sets = {}
    with bar(len(subscriber_ids), "plan", "subscribers") as progress, timer():
        for start in range(0, len(subscriber_ids), chunk_size):
            chunk = subscriber_ids[start : start + chunk_size]
            digest_ids.extend(planning.plan_digests(chunk, issue_date, now=now, candidate_sets=candidate_sets))
            progress.update(len(chunk))
    return timer.seconds, digest_ids


def time_render(digest_ids):
    """Digests with subscriber, items and papers loaded per batch (three queries), as the sender does."""
    items = DigestItem.objects.select_related("paper").order_by("rank")
    timer = Timer()
    with bar(len(digest_ids), "render", "digests") as progress, timer():
        for start in range(0, len(digest_ids), SEND_BATCH):
            chunk = digest_ids[start : start + SEND_BATCH]
            digests = Digest.objects.filter(id__in=chunk).select_related("subscriber")
            for digest in digests.prefetch_related(Prefetch("items", queryset=items)):
                digest_message(digest, items=list(digest.items.all()))
            progress.update(len(chunk))
    return timer.seconds


def time_send(digest_ids, processes):
    """(seconds, messages the sink received, outcomes) with `processes` senders working at once.

    Senders are forked after this process closes its database connection, so none of them
    inherits it: each opens its own, as separate Celery workers would.
    """
    batches = [digest_ids[start : start + SEND_BATCH] for start in range(0, len(digest_ids), SEND_BATCH)]
    shares = [batches[index::processes] for index in range(processes) if batches[index::processes]]
    context = multiprocessing.get_context("fork")
    reports = context.Queue()
    outcomes = Counter()
    timer = Timer()
    with smtp_sink() as sink, bar(len(digest_ids), "send", "digests") as progress:
        connections.close_all()
        with timer():
            senders = [context.Process(target=send_share, args=(share, reports)) for share in shares]
            for sender in senders:
                sender.start()
            finished = 0
            while finished < len(senders):
                try:
                    sent, share_outcomes = reports.get(timeout=REPORT_TIMEOUT)
                except queue.Empty:
                    if any(sender.is_alive() for sender in senders):
                        continue
                    break  # a sender died without reporting; its exit code says so below
                progress.update(sent)
                if share_outcomes is not None:
                    outcomes.update(share_outcomes)
                    finished += 1
            for sender in senders:
                sender.join()
    failed = [sender.exitcode for sender in senders if sender.exitcode]
    if failed:
        raise RuntimeError(f"{len(failed)} send process(es) exited with an error (exit codes {failed})")
    return timer.seconds, sink.received, outcomes


def send_share(batches, reports):
    """One sender process: its batches over one SMTP session; reports progress, then its outcomes."""
    outcomes = Counter()
    smtp = get_connection()
    try:
        smtp.open()
        for batch in batches:
            outcomes.update(send_batch(batch, connection=smtp).values())
            reports.put((len(batch), None))
    finally:
        smtp.close()
        connections.close_all()
        reports.put((0, dict(outcomes)))


def outcome_summary(outcomes):
    return ", ".join(f"{count:,} {outcome}" for outcome, count in sorted(outcomes.items())) or "nothing sent"


def time_naive_rank(subscriber_ids, now):
    timer = Timer()
    with bar(len(subscriber_ids), "naive rank", "subscribers") as progress, timer():
        for subscriber_id in subscriber_ids:
            naive.rank(subscriber_id, now)
            progress.update(1)
    return timer.seconds


def time_naive_render(digest_ids):
    timer = Timer()
    with bar(len(digest_ids), "naive render", "digests") as progress, timer():
        for digest_id in digest_ids:
            naive.render(digest_id)
            progress.update(1)
    return timer.seconds
