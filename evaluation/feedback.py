"""Replaying a reader's clicks on the judged sets: does the next digest get better?

For every judged set and seed, the set's papers are split at random into two days. Each
profile becomes a real subscriber with the profile's interests, and the real planner
(`digest.planning.plan_digests`) plans their day-1 digest. The reader then goes down that
digest (its top 10) and clicks "more like this" on every grade-2 paper and "less like this"
on every grade-0 one, up to a budget of 1, 2, 3 or all clicks, through
`subscriptions.feedback.record`, the service behind the signed link in the email. Day 2 is
planned by the same planner from the stored feedback and scored: NDCG@5 of what it sends
(a paper the digest does not send is a miss) and its junk share. Every budget is paired
with the same profile and split without feedback.

Seeded profiles: the same profile seeded with (up to) 3 of its grade-2 papers, stored as the
liked papers `subscriptions.seeds` makes of a reader's own papers, against its text-only
twin. The seeds are never sent back, so they leave both sides' day-2 lists and the ideal.

Everything is written in one transaction that is rolled back at the end: the command leaves
nothing in the database, whichever database it is pointed at.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from django.db import transaction

from digest.models import DigestItem
from digest.planning import plan_digests
from evaluation.evaluate import JudgedSetError, load, source_papers
from evaluation.metrics import Sent, ndcg_at
from papers import embeddings
from papers.models import Paper, normalise_title
from subscriptions import feedback
from subscriptions.models import Interest, Subscriber

K = 5
DIGEST_SIZE = 10  # the reader reads, and clicks in, a default digest
BUDGETS: tuple[int | None, ...] = (1, 2, 3, None)  # None: every grade-2 and grade-0 paper of the top 10
SEEDS_PER_PROFILE = 3
DAY_ONE = datetime(2001, 1, 2, 12, tzinfo=UTC)  # far from any real paper's first_seen_at
NO_FEEDBACK, SEEDED = "none", "seeded"


def budget_name(budget: int | None) -> str:
    return "all" if budget is None else str(budget)


@dataclass
class Outcome:
    """One reader's day-2 digest, scored: NDCG@5 (None when day 2 held nothing relevant) and junk."""

    ndcg: float | None
    junk: float


@dataclass
class SetResult:
    """Paired outcomes of one judged set: outcomes[variant][unit], units being (profile, seed)."""

    path: Path
    held_out: bool
    profiles: int
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    seeded_pairs: list[tuple[Outcome, Outcome]] = field(default_factory=list)  # (text only, seeded)
    clicks: dict[str, list[int]] = field(default_factory=dict)  # clicks made per unit

    @property
    def name(self) -> str:
        return self.path.stem


def score(sent: Sequence[int], candidates: Sequence[int]) -> Outcome:
    """NDCG@5 of what one digest sent, and its junk share (grade-0 papers of those sent; an empty
    digest sends no junk). Per digest, not pooled like evaluate_ranking's, so each unit pairs."""
    digest = Sent(sent, candidates, DIGEST_SIZE)
    return Outcome(ndcg_at(K, sent, candidates) if any(candidates) else None, digest.junk / len(sent) if sent else 0.0)


@dataclass
class _Reader:
    """One simulated subscriber: which profile, which variant, and the papers kept out of its score."""

    subscriber: Subscriber
    profile: int
    variant: str
    own: frozenset[int] = frozenset()


_emails = itertools.count(1)


def simulate(
    path: Path | str, seeds: int = 5, progress: Callable[[str], object] | None = None, base_seed: int = 0
) -> SetResult:
    """Replay feedback on one judged set over `seeds` random day splits; nothing is kept in the database."""
    path = Path(path)
    data = load(path)
    result = SetResult(path, bool(data.get("held_out")), len(data["profiles"]))
    with transaction.atomic():
        papers = _store_papers(path, data)
        grades = [_grades(path, profile, papers) for profile in data["profiles"]]
        for seed in range(seeds):
            if progress:
                progress(f"{path.name}: seed {seed + 1}/{seeds}")
            _one_split(data, papers, grades, np.random.default_rng(base_seed + seed), result)
        transaction.set_rollback(True)
    return result


def _grades(path: Path, profile: dict, papers: list[Paper]) -> list[int]:
    """The profile's grade of each paper; a judgment of a paper the source does not hold is refused."""
    judged = {normalise_title(title): int(grade) for title, grade in profile["judgments"].items()}
    unknown = set(judged) - {normalise_title(paper.title) for paper in papers}
    if unknown:
        raise JudgedSetError(
            f"{path}: profile {profile['name']!r} judges papers not in the source: {sorted(unknown)[:3]}"
        )
    return [judged.get(normalise_title(paper.title), 0) for paper in papers]


def _store_papers(path: Path, data: dict) -> list[Paper]:
    """The judged papers as stored, embedded papers (keys of their own: never merged with real ones)."""
    stem = normalise_title(path.stem).replace(" ", "-")
    papers = Paper.objects.bulk_create(
        Paper(
            key=f"evaluation:{stem}:{number}",
            title=paper.title,
            abstract=paper.abstract,
            first_seen_at=DAY_ONE,
        )
        for number, paper in enumerate(source_papers(data["source"]))
    )
    embeddings.embed_papers(papers)
    return papers


def _one_split(data: dict, papers: list[Paper], grades: list[list[int]], rng: np.random.Generator, result: SetResult):
    order = rng.permutation(len(papers))
    day_one = set(order[: len(papers) // 2].tolist())
    for position, paper in enumerate(papers):
        paper.first_seen_at = DAY_ONE - timedelta(hours=1) if position in day_one else DAY_ONE + timedelta(hours=1)
    Paper.objects.bulk_update(papers, ["first_seen_at"])
    index = {paper.pk: position for position, paper in enumerate(papers)}
    variants = [NO_FEEDBACK, *map(budget_name, BUDGETS)]

    readers = []
    for number, profile in enumerate(data["profiles"]):
        for variant in variants:
            readers.append(_Reader(_subscriber(profile["interests"]), number, variant))
        top = [papers[i] for i in np.flatnonzero(np.array(grades[number]) == 2)]
        if len(top) > 1:
            mine = [top[i] for i in rng.permutation(len(top))[: min(SEEDS_PER_PROFILE, len(top) - 1)]]
            seeded = _Reader(_subscriber(profile["interests"]), number, SEEDED, frozenset(p.pk for p in mine))
            Interest.objects.bulk_create(
                Interest(subscriber=seeded.subscriber, kind=Interest.Kind.LIKED, paper=paper) for paper in mine
            )
            readers.append(seeded)

    subscribers = [reader.subscriber.pk for reader in readers]
    plan_digests(subscribers, DAY_ONE.date(), now=DAY_ONE)
    first = _sent(subscribers, DAY_ONE)
    for reader in readers:
        if reader.variant in (NO_FEEDBACK, SEEDED):
            continue
        budget = None if reader.variant == "all" else int(reader.variant)
        shown = [papers[index[pk]] for pk in first.get(reader.subscriber.pk, [])]
        clicks = _click(reader.subscriber, shown, [grades[reader.profile][index[p.pk]] for p in shown], budget)
        result.clicks.setdefault(reader.variant, []).append(clicks)

    day_two = DAY_ONE + timedelta(days=1)
    plan_digests(subscribers, day_two.date(), now=day_two)
    second = _sent(subscribers, day_two)
    candidates = [i for i in range(len(papers)) if i not in day_one]
    baseline: dict[int, list[int]] = {}
    for reader in readers:
        sent = [index[pk] for pk in second.get(reader.subscriber.pk, [])]
        profile_grades = grades[reader.profile]
        if reader.variant == NO_FEEDBACK:
            baseline[reader.profile] = sent
        if reader.variant != SEEDED:
            outcome = score([profile_grades[i] for i in sent], [profile_grades[i] for i in candidates])
            result.outcomes.setdefault(reader.variant, []).append(outcome)
            continue
        own = {index[pk] for pk in reader.own}
        kept = [i for i in candidates if i not in own]
        text_only = [profile_grades[i] for i in baseline[reader.profile] if i not in own]
        ideal = [profile_grades[i] for i in kept]
        result.seeded_pairs.append(
            (score(text_only, ideal), score([profile_grades[i] for i in sent if i not in own], ideal))
        )


def _subscriber(interests: Sequence[str]) -> Subscriber:
    subscriber = Subscriber.objects.create(
        email=f"feedback-eval-{next(_emails)}@example.invalid",
        status=Subscriber.Status.ACTIVE,
        papers_per_digest=DIGEST_SIZE,
        skip_empty=False,
    )
    Interest.objects.bulk_create(Interest(subscriber=subscriber, text=text) for text in interests)
    return subscriber


def _sent(subscriber_ids: list[int], now: datetime) -> dict[int, list[int]]:
    """{subscriber id: paper ids of their digest of that day, in the order sent}."""
    sent: dict[int, list[int]] = {}
    rows = DigestItem.objects.filter(digest__subscriber_id__in=subscriber_ids, digest__issue_date=now.date())
    for subscriber_id, paper_id in rows.order_by("digest__subscriber_id", "rank").values_list(
        "digest__subscriber_id", "paper_id"
    ):
        sent.setdefault(subscriber_id, []).append(paper_id)
    return sent


def _click(subscriber: Subscriber, sent: list[Paper], grades: list[int], budget: int | None) -> int:
    """The reader's clicks on their day-1 digest, top down: "more" on grade 2, "less" on grade 0."""
    clicks = 0
    for paper, grade in zip(sent[:DIGEST_SIZE], grades, strict=False):
        if budget is not None and clicks >= budget:
            break
        choice = "more" if grade == 2 else "less" if grade == 0 else None
        if choice:
            feedback.record(subscriber, paper, choice)
            clicks += 1
    return clicks


# --- Paired bootstrap ---------------------------------------------------------------------------


@dataclass
class Gain:
    """Mean of a variant, its mean difference from the pair it is compared with, and a 95 % CI."""

    value: float
    baseline: float
    difference: float
    low: float
    high: float
    units: int


def paired(pairs_per_set: Sequence[Sequence[tuple[float, float]]], rounds: int = 2000, seed: int = 0) -> Gain | None:
    """(baseline, variant) pairs of one or more sets: the mean over sets of each set's mean,
    with a paired bootstrap CI that resamples units within each set."""
    sets = [np.asarray(pairs, dtype=np.float64) for pairs in pairs_per_set if len(pairs)]
    if not sets:
        return None
    rng = np.random.default_rng(seed)
    boot = np.zeros(rounds)
    for pairs in sets:
        picks = rng.integers(0, len(pairs), size=(rounds, len(pairs)))
        boot += (pairs[:, 1] - pairs[:, 0])[picks].mean(axis=1)
    boot /= len(sets)
    low, high = np.percentile(boot, [2.5, 97.5])
    return Gain(
        value=float(np.mean([pairs[:, 1].mean() for pairs in sets])),
        baseline=float(np.mean([pairs[:, 0].mean() for pairs in sets])),
        difference=float(np.mean([(pairs[:, 1] - pairs[:, 0]).mean() for pairs in sets])),
        low=float(low),
        high=float(high),
        units=sum(len(pairs) for pairs in sets),
    )


def metric_pairs(results: Sequence[SetResult], variant: str, metric: str) -> list[list[tuple[float, float]]]:
    """Per set, the (no feedback, variant) values of `metric` ("ndcg" or "junk") for each unit
    where both are defined; "seeded" pairs the seeded profiles with their text-only twins."""
    per_set = []
    for result in results:
        if variant == SEEDED:
            pairs = result.seeded_pairs
        else:
            pairs = list(zip(result.outcomes[NO_FEEDBACK], result.outcomes[variant], strict=True))
        values = [(getattr(a, metric), getattr(b, metric)) for a, b in pairs]
        per_set.append([(a, b) for a, b in values if a is not None and b is not None])
    return per_set
