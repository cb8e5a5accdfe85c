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
import resource
import sys
import time
from collections import Counter
from contextlib import contextmanager

from django.core.mail import get_connection
from django.db import connection, connections
from django.db.models import Prefetch
from django.utils import timezone
from tqdm import tqdm

from bench import data, floor, naive, production, report
from bench.database import throwaway_database
from bench.sink import smtp_sink
from config.email_backends import simple_message_bytes
from digest import planning
from digest.models import Digest, DigestItem, PlanningChunk
from digest.ranking import Weights
from digest.render import digest_message
from digest.sending import send_batch
from papers import embeddings
from papers.models import Paper
from subscriptions.models import Interest, Subscriber

SEND_BATCH = 100
REPORT_TIMEOUT = 5  # seconds between checks that the sender processes are still alive


class Timer:
    """Wall seconds (and this process's CPU seconds) spent inside, summed over every use."""

    def __init__(self):
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    @contextmanager
    def __call__(self):
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            yield self
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.process_time() - cpu_started


def bar(total, desc, unit):
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)


def run(
    subscribers,
    papers,
    sample=2000,
    naive_sample=100,
    seed=1,
    keep_db=False,
    send_processes=2,
    broker_url=None,
    check_bf16=False,
    say=print,
):
    """Run the benchmark and write latest.json; returns (result dict, table text).

    With `broker_url` (a Redis database the bench may flush) the day is also run end to end
    through the production path (bench.production); without it end to end is the sum of the
    stages, and latest.json says `end_to_end_measured: false`.
    """
    rng = random.Random(seed)
    with throwaway_database(keep=keep_db) as database_name:
        say(f"Bench database: {database_name} (created for this run, {'kept' if keep_db else 'dropped'} after)")
        machine = report.machine()
        paper_ids, titles = synthesise_papers(papers, rng, say)
        stages, notes, naive_rates = {}, {}, {}

        with cpu() as used:
            embed_seconds = time_embed(paper_ids)
        texts = [f"{p.title} {p.abstract}" for p in Paper.objects.filter(id__in=paper_ids[:256])]
        stages["embed"] = report.stage(embed_seconds, len(paper_ids), used.seconds, len(texts) / floor.embed(texts))
        say(report.stage_line("embed", stages["embed"]))
        notes["embed"] = f"all {len(paper_ids):,} papers, {embeddings.model_name()} on CPU ({embeddings.dtype_name()})"
        if check_bf16 or embeddings.dtype_name() == "bfloat16":
            queries = data.interest_phrases(titles)[:100]
            overlap, fp32_rate, bf16_rate = floor.bf16_overlap(texts[:128], queries)
            notes["embed"] += (
                f"; bf16 vs fp32 on {min(128, len(texts))} papers x {len(queries)} interests: top-10 overlap "
                f"{overlap:.3f}, {bf16_rate:.1f} vs {fp32_rate:.1f} texts/s"
            )
        else:
            notes["embed"] += "; bf16 not checked: this CPU has no native bf16 (AVX512-BF16 / AMX)"

        subscriber_ids = synthesise_subscribers(subscribers, titles, paper_ids, rng, say)
        now = timezone.now()
        issue_date = timezone.localdate(now)

        rank_seconds, rank_cpu, loading_seconds, candidates = time_rank(subscriber_ids, now)
        interest_rows = Interest.objects.filter(subscriber_id__in=subscriber_ids).count()
        floor_rate = len(subscriber_ids) / floor.rank(interest_rows, candidates.vectors)
        stages["rank"] = report.stage(rank_seconds, len(subscriber_ids), rank_cpu, floor_rate)
        say(report.stage_line("rank", stages["rank"]))
        notes["rank"] = (
            f"all {len(subscriber_ids):,} subscribers, ranking.rank only; loading their profiles "
            f"from the database took {loading_seconds:.1f} s more"
        )

        naive_ids = rng.sample(subscriber_ids, min(naive_sample, len(subscriber_ids)))
        naive_rank_seconds = time_naive_rank(naive_ids, now)
        naive_rates["rank"] = len(naive_ids) / naive_rank_seconds

        with cpu() as used:
            plan_seconds, digest_ids = time_plan(subscriber_ids, issue_date, now)
        rows = Digest.objects.count() + DigestItem.objects.count()
        stages["plan"] = report.stage(plan_seconds, rows, used.seconds, rows / floor.plan(rows))
        say(report.stage_line("plan", stages["plan"]))
        notes["plan"] = f"{rows:,} Digest + DigestItem rows for {len(digest_ids):,} digests (includes ranking)"

        sampled = rng.sample(digest_ids, min(sample, len(digest_ids)))
        sampled.sort()
        share = "all" if len(sampled) == len(digest_ids) else "sample of"
        with cpu() as used:
            render_seconds = time_render(sampled)
        floor_seconds, ready = floor.render(loaded_digests(sampled))
        stages["render"] = report.stage(render_seconds, len(sampled), used.seconds, len(sampled) / floor_seconds)
        say(report.stage_line("render", stages["render"]))
        notes["render"] = f"{share} {len(sampled):,} digests of {len(digest_ids):,}, subject + text + HTML + MIME"

        naive_digests = sampled[: min(naive_sample, len(sampled))]
        naive_render_seconds = time_naive_render(naive_digests)
        naive_rates["render"] = len(naive_digests) / naive_render_seconds

        with smtp_sink() as sink:
            with cpu(children=True) as used:
                send_seconds, outcomes = time_send(sampled, send_processes, sink)
            floor_rate = len(ready) / floor.send(sink.port, ready, send_processes)
            stages["send"] = report.stage(send_seconds, len(sampled), used.seconds, floor_rate)
            say(report.stage_line("send", stages["send"]))
            notes["send"] = (
                f"{share} {len(sampled):,} digests by {send_processes} process(es): claim, render, SMTP, record "
                f"({outcome_summary(outcomes)})"
            )
            if broker_url:
                reset_digests()
                say(f"End to end through the production path: beat -> Redis -> celery worker -c {send_processes} ...")
                received_before = sink.received
                with bar(len(subscriber_ids), "production day", "digests") as progress:
                    day_seconds, day_cpu = production.run_day(
                        broker_url, sink.port, send_processes, len(subscriber_ids), progress=progress.update
                    )
                sent = Digest.objects.filter(status=Digest.Status.SENT).count()
                arrived = sink.received - received_before
                end_to_end = embed_seconds + day_seconds
                notes["end_to_end"] = (
                    f"embed + the production day ({day_seconds:.1f} s: plan_and_send_due queued into Redis, "
                    f"one celery worker with {send_processes} processes planned {PlanningChunk.objects.count():,} "
                    f"chunks and sent {sent:,} digests, {arrived:,} arrived at the SMTP sink; worker CPU "
                    f"{1000 * day_cpu / max(1, sent):.2f} ms per digest)"
                )
            else:
                end_to_end = embed_seconds + plan_seconds + send_seconds * len(digest_ids) / max(1, len(sampled))
                notes["end_to_end"] = "embed + plan + send (send projected from the sample; no --broker-url given)"
        speedups = {
            "rank": ratio(naive_rank_seconds / len(naive_ids), (rank_seconds + loading_seconds) / len(subscriber_ids)),
            "render": ratio(naive_render_seconds / max(1, len(naive_digests)), render_seconds / max(1, len(sampled))),
        }
        notes["naive"] = f"naive samples: {len(naive_ids)} subscribers ranked, {len(naive_digests)} digests rendered"
    result = report.result(len(subscriber_ids), len(paper_ids), stages, end_to_end, bool(broker_url), speedups, machine)
    path = report.write(result)
    text = report.table(result, notes, naive_rates)
    return result, text + f"\n{notes['naive']}\nWritten to {path}"


class CpuTime:
    seconds = 0.0


@contextmanager
def cpu(children=False):
    """CPU seconds used by the body: this process's, or (children=True) its finished children's."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF

    def now():
        usage = resource.getrusage(who)
        return usage.ru_utime + usage.ru_stime

    used = CpuTime()
    started = now()
    try:
        yield used
    finally:
        used.seconds = now() - started


def reset_digests():
    """Forget the stage runs' digests, so the production day finds every subscriber due."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            tables = [model._meta.db_table for model in (DigestItem, Digest, PlanningChunk)]
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    else:
        for model in (DigestItem, Digest, PlanningChunk):
            model.objects.all().delete()


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
    """(ranking seconds, ranking CPU seconds, loading seconds, last candidates): planning's own loaders feed
    Candidates.rank chunk by chunk as plan_digests does; only the ranking is the rank stage, loading is beside it."""
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
    return ranking.seconds, ranking.cpu_seconds, loading.seconds, candidates


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


def loaded_digests(digest_ids):
    """Digests with subscriber, items and papers, loaded per batch (three queries each) as the sender does."""
    items = DigestItem.objects.select_related("paper").order_by("rank")
    for start in range(0, len(digest_ids), SEND_BATCH):
        digests = Digest.objects.filter(id__in=digest_ids[start : start + SEND_BATCH]).select_related("subscriber")
        yield from digests.prefetch_related(Prefetch("items", queryset=items))


def time_render(digest_ids):
    """Subject, text, HTML and the MIME bytes the SMTP backend sends (config.email_backends), for each digest."""
    timer = Timer()
    with bar(len(digest_ids), "render", "digests") as progress, timer():
        for digest in loaded_digests(digest_ids):
            message = digest_message(digest, items=list(digest.items.all()))
            simple_message_bytes(message) or message.message().as_bytes(linesep="\r\n")
            progress.update(1)
    return timer.seconds


def time_send(digest_ids, processes, sink):
    """(seconds, outcomes) with `processes` senders working at once into the sink.

    Senders are forked after this process closes its database connection, so none of them
    inherits it: each opens its own, as separate Celery workers would.
    """
    batches = [digest_ids[start : start + SEND_BATCH] for start in range(0, len(digest_ids), SEND_BATCH)]
    shares = [batches[index::processes] for index in range(processes) if batches[index::processes]]
    context = multiprocessing.get_context("fork")
    reports = context.Queue()
    outcomes = Counter()
    timer = Timer()
    with bar(len(digest_ids), "send", "digests") as progress:
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
    return timer.seconds, outcomes


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
