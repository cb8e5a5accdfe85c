"""Planning digests: pick each subscriber's candidates, rank them in chunks, store the result.

`plan_digests` is the one entry point (the daily pipeline, `send_now` in the admin and the
demo all call it). It is idempotent per (subscriber, issue date): a Digest that already
exists is never touched, so running the planner twice creates nothing new.

Candidates for a subscriber are the embedded papers first seen after their window start,
which is the end of their previous digest's window (so a day without ingest is simply
covered by the next digest) or, for a first digest, FIRST_LOOKBACK before now. A paper
already in one of their planned / sending / sent digests is never a candidate again. A
failed digest does not move the window, so its papers are offered again, and a window
ends before any paper that is not embedded yet, so that paper is offered next time.

The database work is a constant number of queries per chunk of subscribers (never one per
subscriber): the ranking itself is one matrix product per chunk in `digest.ranking`.
"""

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from papers import embeddings
from papers.models import Appearance, Paper
from subscriptions.models import Interest, Subscriber
from subscriptions.services import embed_interests

from .models import Digest, DigestItem
from .ranking import Profile, Ranking, Weights, rank
from .word_match import TextIndex

logger = logging.getLogger(__name__)

CandidateSets = dict[tuple[datetime, datetime], "Candidates"]  # one load per window, shared by a run's chunks

FIRST_LOOKBACK: dict[str, timedelta] = {
    Subscriber.Frequency.DAILY: timedelta(days=1),
    Subscriber.Frequency.WEEKLY: timedelta(days=7),
}
# A subscriber back from a long pause gets recent papers, not a year of them.
MAX_LOOKBACK = timedelta(days=31)
# Statuses whose papers count as delivered (or about to be) and whose window is covered.
HOLDS_PAPERS = [Digest.Status.PLANNED, Digest.Status.SENDING, Digest.Status.SENT]
COVERS_WINDOW = HOLDS_PAPERS + [Digest.Status.SKIPPED]


@dataclass
class Candidates:
    """The papers a chunk of subscribers is ranked against, as arrays the ranker takes."""

    ids: np.ndarray
    vectors: np.ndarray
    title_vectors: np.ndarray
    seen_at: list
    texts: list
    upvotes: np.ndarray | None

    @cached_property
    def text_index(self) -> TextIndex:
        return TextIndex(self.texts, word_vectors=embeddings.word_vectors)

    def rank(self, profiles: list[Profile], weights: Weights) -> Ranking:
        """`digest.ranking.rank` of these candidates for the profiles; the text index is built once per set."""
        return rank(
            self.vectors,
            profiles,
            self.upvotes,
            weights,
            text_index=self.text_index,
            title_vectors=self.title_vectors,
        )


def plan_digests(
    subscriber_ids: Iterable[int],
    issue_date: date,
    now: datetime | None = None,
    progress: Callable[[int], object] | None = None,
    candidate_sets: CandidateSets | None = None,
) -> list[int]:
    """Create and fill today's digests; returns the ids of digests left `planned` (ready to send).

    `progress(n)` is called after each chunk of n subscribers. `candidate_sets` (a dict the
    caller keeps) lets several calls of one run share their candidate loads and word indexes.
    """
    now = now or timezone.now()
    weights = Weights.from_settings()
    subscriber_ids = list(subscriber_ids)
    planned = []
    candidate_sets = {} if candidate_sets is None else candidate_sets  # chunks with the same window share one load
    for start in range(0, len(subscriber_ids), weights.chunk_size):
        chunk = subscriber_ids[start : start + weights.chunk_size]
        planned.extend(_plan_chunk(chunk, issue_date, now, weights, candidate_sets))
        if progress:
            progress(len(chunk))
    return planned


def _plan_chunk(
    subscriber_ids: list[int], issue_date: date, now: datetime, weights: Weights, candidate_sets: CandidateSets
) -> list[int]:
    subscribers = {
        s.pk: s
        for s in Subscriber.objects.active()
        .filter(pk__in=subscriber_ids)
        .exclude(digests__issue_date=issue_date)
        .only("pk", "frequency", "papers_per_digest", "min_relevance", "skip_empty")
    }
    if not subscribers:
        return []
    windows = window_starts(subscribers.values(), now)
    window_end = covered_until(min(windows.values()), now)
    with transaction.atomic():
        Digest.objects.bulk_create(
            [
                Digest(
                    subscriber_id=pk,
                    issue_date=issue_date,
                    window_start=windows[pk],
                    window_end=max(window_end, windows[pk]),
                    created_at=now,
                )
                for pk in subscribers
            ],
            ignore_conflicts=True,  # another planner got there first: its row stands
        )
        digests = list(
            Digest.objects.filter(subscriber_id__in=subscribers, issue_date=issue_date, created_at=now).only(
                "pk", "subscriber_id"
            )
        )
        if not digests:
            return []
        members = [subscribers[d.subscriber_id] for d in digests]
        candidates, ranking = rank_subscribers(members, windows, window_end, weights, candidate_sets=candidate_sets)
        items: list[tuple] = []
        skipped: list[int] = []
        planned: list[int] = []
        for digest, subscriber, matches in zip(digests, members, ranking):
            items.extend(
                (
                    digest.pk,
                    int(candidates.ids[match.index]),
                    position,
                    round(match.score, 4),
                    match.matched[:300],
                    match.matched_kind,
                    round(match.similarity, 4),
                    round(match.word_match, 4),
                    match.because_of_id,
                )
                for position, match in enumerate(matches, start=1)
            )
            if not matches and subscriber.skip_empty:
                skipped.append(digest.pk)
            else:
                planned.append(digest.pk)
        write_items(items)
        if skipped:
            Digest.objects.filter(pk__in=skipped).update(status=Digest.Status.SKIPPED)
    return planned


ITEM_COLUMNS = (
    "digest_id",
    "paper_id",
    "rank",
    "score",
    "matched",
    "matched_kind",
    "similarity",
    "word_match",
    "because_of_id",
)


def write_items(rows: list[tuple]) -> None:
    """Store DigestItem rows given as tuples in ITEM_COLUMNS order: by COPY on PostgreSQL (twice
    the rows per second of bulk_create, a fraction of its CPU, no model objects), bulk_create
    elsewhere. The rows belong to digests this planner created in this very transaction, so
    none can exist already."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        table = DigestItem._meta.db_table
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(ITEM_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        DigestItem.objects.bulk_create([DigestItem(**dict(zip(ITEM_COLUMNS, row))) for row in rows])


def covered_until(since: datetime, now: datetime) -> datetime:
    """Where this digest's window may end: now, or just before the first paper still waiting
    to be embedded, so that paper is offered next time (the next window overlaps this one;
    papers already delivered are never offered twice)."""
    waiting = (
        Paper.objects.filter(first_seen_at__gt=since, first_seen_at__lte=now)
        .exclude(embeddings__model_name=embeddings.model_name())
        .aggregate(first=Min("first_seen_at"))["first"]
    )
    return min(now, waiting - timedelta(microseconds=1)) if waiting else now


def rank_subscribers(
    subscribers: Sequence[Subscriber],
    windows: dict[int, datetime],
    now: datetime,
    weights: Weights,
    k: int | None = None,
    candidate_sets: CandidateSets | None = None,
) -> tuple[Candidates, Ranking]:
    """(candidates, ranking) for subscribers whose windows start at `windows[pk]` and end at `now`.

    `k` overrides each subscriber's papers_per_digest (the manage page shows a longer list).
    `candidate_sets` ({(window start, end): Candidates}) lets the chunks of one run share their loads.
    """
    since = min(windows[s.pk] for s in subscribers)
    candidates = candidate_sets.get((since, now)) if candidate_sets is not None else None
    if candidates is None:
        candidates = load_candidates(since, now, weights)
        if candidate_sets is not None:
            candidate_sets[since, now] = candidates
    profiles = load_profiles(subscribers, windows, candidates, k)
    return candidates, candidates.rank(profiles, weights)


def window_starts(subscribers: Iterable[Subscriber], now: datetime) -> dict[int, datetime]:
    """Each subscriber's window start: their last covered window's end, else the first lookback."""
    previous = dict(
        Digest.objects.filter(subscriber__in=[s.pk for s in subscribers], status__in=COVERS_WINDOW)
        .values("subscriber_id")
        .annotate(end=Max("window_end"))
        .values_list("subscriber_id", "end")
    )
    earliest = now - MAX_LOOKBACK
    return {s.pk: max(previous.get(s.pk) or now - FIRST_LOOKBACK[s.frequency], earliest) for s in subscribers}


def load_candidates(since: datetime | None, until: datetime, weights: Weights) -> Candidates:
    """Embedded papers first seen in (since, until] (since None: all), with text and (when weighted) upvotes.

    A paper embedded before title vectors existed stands in with its title+abstract vector
    until `embed` fills its title vector in.
    """
    papers = Paper.objects.filter(first_seen_at__lte=until, embeddings__model_name=embeddings.model_name())
    if since is not None:
        papers = papers.filter(first_seen_at__gt=since)
    rows = list(
        papers.order_by("pk").values_list(
            "pk", "title", "abstract", "first_seen_at", "embeddings__vector", "embeddings__title_vector"
        )
    )
    ids = np.fromiter((row[0] for row in rows), np.int64, len(rows))
    vectors = np.vstack([embeddings.from_bytes(row[4]) for row in rows]) if rows else np.zeros((0, 0), np.float32)
    title_vectors = (
        np.vstack([embeddings.from_bytes(row[5] if row[5] is not None else row[4]) for row in rows])
        if rows
        else vectors
    )
    upvotes = None
    if weights.upvote_weight and rows:
        best = dict(
            Appearance.objects.filter(paper_id__in=ids.tolist())
            .values("paper_id")
            .annotate(best=Max("upvotes"))
            .values_list("paper_id", "best")
        )
        upvotes = np.array([best.get(pk) or 0 for pk in ids.tolist()], dtype=np.float32)
    return Candidates(
        ids=ids,
        vectors=vectors,
        title_vectors=title_vectors,
        seen_at=[row[3] for row in rows],
        texts=[f"{row[1]} {row[2]}" for row in rows],
        upvotes=upvotes,
    )


def load_profiles(
    subscribers: Sequence[Subscriber], windows: dict[int, datetime], candidates: Candidates, k: int | None = None
) -> list[Profile]:
    """One ranking Profile per subscriber, from their interests, in a fixed number of queries.

    Liked and disliked papers (feedback, and seeded papers, which are liked) are handed to the
    ranking as such, to move the interests they belong to; the papers themselves are never
    candidates: a reader is not sent back what they told us about.
    """
    by_subscriber: dict[int, dict[str, list[Any]]] = {
        s.pk: {
            "pos": [],
            "labels": [],
            "kinds": [],
            "neg": [],
            "excluded": [],
            "liked": [],
            "liked_ids": [],
            "liked_labels": [],
            "disliked": [],
            "own": [],
        }
        for s in subscribers
    }
    interests = list(
        Interest.objects.filter(subscriber_id__in=by_subscriber)
        .select_related("paper")
        .only(
            "subscriber_id",
            "kind",
            "text",
            "paper_id",
            "paper__title",
            "embedding",
            "embedding_model",
            "embedding_hash",
        )
    )
    paper_vectors = _feedback_paper_vectors(interests)
    embed_interests(interests)  # those no worker has embedded yet, or embedded by another model
    dim = candidates.vectors.shape[1] if len(candidates.ids) else 0
    for interest in interests:
        entry = by_subscriber[interest.subscriber_id]
        if interest.kind == Interest.Kind.EXCLUDE:
            entry["excluded"].append(interest.text)
            continue
        if interest.paper_id:
            entry["own"].append(interest.paper_id)
        vector = (
            paper_vectors.get(interest.paper_id)
            if interest.paper_id
            else embeddings.from_bytes(interest.embedding)
            if interest.embedding
            else None
        )
        if vector is None or not dim:
            continue  # a liked paper that was never embedded, or no candidates to compare with
        if len(vector) != dim:
            logger.warning(
                "interest %s of subscriber %s: its vector has %s dimensions, the papers' %s; left out",
                interest.pk,
                interest.subscriber_id,
                len(vector),
                dim,
            )
            continue
        if interest.kind == Interest.Kind.LIKED:
            entry["liked"].append(vector)
            entry["liked_ids"].append(interest.paper_id)
            entry["liked_labels"].append(interest.label)
        elif interest.kind == Interest.Kind.DISLIKED:
            entry["disliked"].append(vector)
        elif interest.kind in Interest.POSITIVE:
            entry["pos"].append(vector)
            entry["labels"].append(interest.label)
            entry["kinds"].append(interest.kind)
        else:
            entry["neg"].append(vector)

    seen_at = np.array([stamp.timestamp() for stamp in candidates.seen_at], dtype=np.float64)
    held = _papers_already_held(by_subscriber, candidates.ids)
    profiles = []
    for subscriber in subscribers:
        entry = by_subscriber[subscriber.pk]
        eligible = seen_at > windows[subscriber.pk].timestamp()
        not_again = held.get(subscriber.pk, set()) | set(entry["own"])
        if not_again:
            eligible &= ~np.isin(candidates.ids, list(not_again))
        profiles.append(
            Profile(
                positives=np.vstack(entry["pos"]) if entry["pos"] else np.zeros((0, dim), np.float32),
                labels=entry["labels"],
                kinds=entry["kinds"],
                negatives=np.vstack(entry["neg"]) if entry["neg"] else None,
                excluded=entry["excluded"],
                eligible=eligible,
                k=k or subscriber.papers_per_digest,
                min_score=subscriber.min_relevance,
                liked=np.vstack(entry["liked"]) if entry["liked"] else None,
                liked_ids=entry["liked_ids"],
                liked_labels=entry["liked_labels"],
                disliked=np.vstack(entry["disliked"]) if entry["disliked"] else None,
            )
        )
    return profiles


def _feedback_paper_vectors(interests: list[Interest]) -> dict[int, np.ndarray]:
    paper_ids = sorted({i.paper_id for i in interests if i.paper_id})
    ids, matrix = embeddings.paper_matrix(paper_ids) if paper_ids else ([], None)
    return {int(pk): matrix[row] for row, pk in enumerate(ids)}


def _papers_already_held(by_subscriber: dict[int, Any], candidate_ids: np.ndarray) -> dict[int, set[int]]:
    """{subscriber id: paper ids already in their planned, sending or sent digests}, among the candidates."""
    held: dict[int, set[int]] = {}
    if not len(candidate_ids):
        return held
    rows = DigestItem.objects.filter(
        digest__subscriber_id__in=list(by_subscriber),
        digest__status__in=HOLDS_PAPERS,
        paper_id__in=candidate_ids.tolist(),
    ).values_list("digest__subscriber_id", "paper_id")
    for subscriber_id, paper_id in rows:
        held.setdefault(subscriber_id, set()).add(paper_id)
    return held
