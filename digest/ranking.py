"""Ranking candidate papers for many subscribers at once: numpy in, top-k with reasons out.

No ORM and no text handling in here: the planner, the `recommend` command, the preview, the
evaluation and the benchmark all call exactly the same scoring with plain arrays, and the
words of the candidates come from a text index (`digest.word_match.TextIndex`) they pass in.

How a paper is scored for one subscriber (all vectors L2-normalised, so a dot product is
the cosine similarity):

1. similarity = the BEST match over the subscriber's positive vectors (text interests, each
   moved by its feedback, see below). Never the average: someone who follows both protein folding and compilers
   must get the best papers of each field, not the papers halfway between them.
   A paper matches a vector by the better of its title+abstract vector and, with
   TITLE_MATCH, its title vector: a short interest often says what a title says, while
   the abstract adds method and results that pull its vector away. A text interest also
   gets WORD_MATCH_WEIGHT x how well its words (and words near them in meaning, at least
   RELATED_WORDS similar) match the paper, by BM25 over today's candidates
   (digest.word_match): a reader who types "speculative decoding" means those words.
   Feedback moves the interest it belongs to (Rocchio): each liked paper ("more like this",
   or one of the reader's own seeded papers) and each disliked paper ("less like this")
   belongs to the text interest nearest to it, and that interest's vector becomes
   v + ROCCHIO_BETA x mean(its liked papers) - ROCCHIO_GAMMA x mean(its disliked papers),
   normalised. A liked paper is not a vector of its own: papers are far more alike among
   themselves than a short interest is to any of them, so a liked paper's row matched
   whole neighbouring fields (measured on the judged sets, evaluation/feedback.py). Only a
   reader with no text interest at all ranks by their liked papers themselves.
2. penalty = DISLIKE_PENALTY x how far the closest "less of this" interest is above
   DISLIKE_MARGIN, scaled to 0..1. A disliked paper is not a penalty (disliked papers are
   near-misses from the reader's own field, so a penalty sank the relevant papers more
   than the others); its near twins, at least DISLIKED_TWIN similar, are not sent at all.
3. relevance = similarity - penalty; a paper must reach the subscriber's minimum
   (MIN_SCORE by default) and must not contain an excluded keyword.
4. score = relevance + UPVOTE_WEIGHT x community upvotes (log-scaled to 0..1 over the
   candidates). Upvotes only reorder relevant papers: they never lift one over the minimum.
5. With EVERY_INTEREST (default on), each text interest's best paper above the minimum
   is picked before any interest's second-best, so one interest cannot crowd out another
   whose similarities run lower; the digest still lists the picked papers by score.
6. With DIVERSITY > 0 the top-k is picked greedily (maximal marginal relevance): each next
   paper's score is reduced by DIVERSITY x its similarity to the papers already picked, so
   one digest is not ten variants of one idea.

Both were measured on the judged sets (evaluation/judged/): each raised NDCG@5 on every
set; the weights are settings (their defaults live in config/settings.py only).

Subscribers are ranked in chunks of CHUNK_SIZE: every chunk is one matrix product
(positive vectors of the chunk x candidates), so cost grows linearly with subscribers x
candidates and memory stays flat.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, Protocol, overload

import numpy as np

NO_SCORE = np.float32(-np.inf)
LAST_RESORT = np.finfo(np.float32).min
GRAM_LIMIT = 5000  # candidates x candidates float32 similarities up to 100 MB, for the diversity step
EVERY_INTEREST_LIFT = np.float32(10.0)  # above any real score (similarities are at most 1)
FEEDBACK_NOTED = 0.05  # feedback that raised a paper's similarity by this much is named as its reason


class TextMatch(Protocol):
    """What the ranking needs from the candidates' words (`digest.word_match.TextIndex`)."""

    def mask(self, keywords: Sequence[str]) -> np.ndarray:
        """Boolean mask over the candidates: True where any keyword occurs."""
        ...

    def word_scores(self, queries: Sequence[str], related: float) -> np.ndarray:
        """(queries x candidates) float32 word-match scores in 0..1."""
        ...


@dataclass(frozen=True)
class Weights:
    """Every knob of the scoring. The values (and their defaults) come from settings.RANKING."""

    min_score: float
    dislike_penalty: float
    dislike_margin: float
    upvote_weight: float
    diversity: float
    every_interest: bool
    title_match: bool
    word_match_weight: float
    related_words: float
    rocchio_beta: float
    rocchio_gamma: float
    disliked_twin: float
    chunk_size: int

    @classmethod
    def from_settings(cls, **overrides: Any) -> Weights:
        from django.conf import settings

        values: dict[str, Any] = {name.lower(): value for name, value in settings.RANKING.items()}
        values.update(overrides)
        return cls(**values)


@dataclass
class Profile:
    """One subscriber's taste as the ranker sees it.

    positives: (m, d) vectors of text interests (and, rarely, of papers given as rows of
        their own); labels[i] names row i in "why you got this" and kinds[i] says what it
        is ("topic" or "liked").
    liked: (a, d) vectors of papers marked "more like this" or seeded by the reader; they
        move the text interest nearest to each (Rocchio); liked_ids and liked_labels name
        them (paper id, title) for "like <title>, which you marked more like this".
    disliked: (b, d) vectors of papers marked "less like this": they move the interest
        nearest to each away, and their near twins are not sent.
    negatives: (n, d) vectors of "less of this" text interests.
    excluded: keywords; a candidate whose text contains one (whole word, any case) is removed.
    eligible: optional boolean mask over the candidates (papers inside this subscriber's
        window and never sent to them); None means every candidate.
    """

    positives: np.ndarray
    labels: Sequence[str]
    kinds: Sequence[str] = ()
    negatives: np.ndarray | None = None
    excluded: Sequence[str] = ()
    eligible: np.ndarray | None = None
    k: int = 10
    min_score: float | None = None
    liked: np.ndarray | None = None
    liked_ids: Sequence[int] = ()
    liked_labels: Sequence[str] = ()
    disliked: np.ndarray | None = None

    def kind(self, row: int) -> str:
        return self.kinds[row] if self.kinds else "topic"

    def topic_rows(self) -> list[int]:
        """Rows of text interests (their labels are the subscriber's own words)."""
        return [row for row in range(len(self.positives)) if self.kind(row) == "topic"]


class Match(NamedTuple):
    """One ranked paper for one subscriber, with everything needed to explain it."""

    index: int  # type: ignore[assignment]  # row in the candidate matrix (shadows tuple.index on purpose)
    score: float  # relevance + trending: what the digest is ordered by
    matched: str  # label of the positive vector that matched best
    matched_kind: str  # "topic" or "liked"
    similarity: float  # cosine similarity to that positive vector
    penalty: float  # subtracted for closeness to a disliked paper / negative interest
    trending: float  # added for community upvotes
    word_match: float = 0.0  # added for the words a text interest shares with the paper
    because_of_id: int | None = None  # id of the liked paper that drove the match, when feedback did
    because_of_title: str = ""  # its title


def trending_bonus(upvotes: Sequence[float | None] | np.ndarray | None, weight: float) -> np.ndarray | None:
    """weight x log1p(upvotes), scaled so the most upvoted candidate gets the full weight."""
    if upvotes is None or weight == 0:
        return None
    counts = np.array([np.nan if count is None else count for count in upvotes], dtype=np.float32)
    votes = np.log1p(np.clip(np.nan_to_num(counts), 0, None))
    top = float(votes.max()) if len(votes) else 0.0
    if top <= 0:
        return None
    return (weight * votes / top).astype(np.float32)


def rank(
    candidates: np.ndarray,
    profiles: Sequence[Profile],
    upvotes: Sequence[float | None] | np.ndarray | None = None,
    weights: Weights | None = None,
    text_index: TextMatch | None = None,
    title_vectors: np.ndarray | None = None,
) -> Ranking:
    """Rank `candidates` for every profile.

    candidates: (n, d) float32 normalised paper vectors (title + abstract).
    profiles: list of `Profile` (one per subscriber).
    upvotes: optional n community upvote counts (None / NaN for unknown).
    weights: `Weights`; defaults to settings.RANKING.
    text_index: the candidates' words (`digest.word_match.TextIndex`), for excluded keywords
        and the word match; without it the score is the vectors' similarity alone.
    title_vectors: optional (n, d) vectors of the titles alone (used with weights.title_match).

    Returns a `Ranking`: ranking[i] is profile i's list of `Match` (candidate index, score,
    matched label and kind, similarity, penalty, trending, word match), best first, at most profile.k
    long, holding only eligible papers that reach the minimum score.
    """
    weights = weights or Weights.from_settings()
    candidates = np.ascontiguousarray(candidates, dtype=np.float32)
    titles = None
    if weights.title_match and title_vectors is not None and len(title_vectors):
        titles = np.ascontiguousarray(title_vectors, dtype=np.float32)
    bonus = trending_bonus(upvotes, weights.upvote_weight)
    gram = candidates @ candidates.T if weights.diversity > 0 and len(candidates) <= GRAM_LIMIT else None
    chunk_size = max(1, weights.chunk_size)
    results = Ranking(chunk_size)
    for start in range(0, len(profiles), chunk_size):
        chunk = profiles[start : start + chunk_size]
        results.add(_rank_chunk(candidates, titles, chunk, text_index, bonus, weights, gram), len(chunk))
    return results


# --- One chunk, step by step -------------------------------------------------------------


@dataclass
class _Positives:
    """The positive vectors of a chunk's profiles stacked into one matrix, owner by owner."""

    vectors: np.ndarray  # (rows, d)
    counts: np.ndarray  # rows per owner
    owners: np.ndarray  # owner of each row
    starts: np.ndarray  # first row of each owner
    topic_rows: np.ndarray  # rows that are text interests
    queries: list[str]  # the text of each topic row, in the same order

    @classmethod
    def stack(cls, members: Sequence[Profile], dim: int) -> _Positives:
        counts = np.fromiter((len(p.positives) for p in members), np.int64, len(members))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        vectors = np.concatenate([np.asarray(p.positives, dtype=np.float32).reshape(-1, dim) for p in members])
        rows, queries = [], []
        for start, profile in zip(starts.tolist(), members, strict=True):
            for row in profile.topic_rows():
                rows.append(start + row)
                queries.append(profile.labels[row])
        owners = np.repeat(np.arange(len(members)), counts)
        return cls(vectors, counts, owners, starts, np.asarray(rows, dtype=np.int64), queries)

    def is_topic(self, members: Sequence[Profile]) -> np.ndarray | None:
        """Per row: is it a text interest? None when every row is one (no profile names kinds)."""
        if not any(p.kinds for p in members):
            return None
        flags = (p.kind(r) == "topic" for p in members for r in range(len(p.positives)))
        return np.fromiter(flags, bool, len(self.owners))


@dataclass
class _WordMatch:
    """What the word match added: for each positive row its row of `added` (-1 for liked papers)."""

    query_of_row: np.ndarray
    added: np.ndarray  # (topic rows x candidates)


def _rank_chunk(
    candidates: np.ndarray,
    titles: np.ndarray | None,
    profiles: Sequence[Profile],
    text_index: TextMatch | None,
    bonus: np.ndarray | None,
    weights: Weights,
    gram: np.ndarray | None,
) -> _ChunkResult | None:
    n_candidates, dim = candidates.shape
    fed = [with_feedback(p, weights) for p in profiles]
    active = [i for i, (p, _) in enumerate(fed) if len(p.positives) and n_candidates]
    if not active:
        return None
    members = [fed[i][0] for i in active]
    moves = [fed[i][1] for i in active]

    positives = _Positives.stack(members, dim)
    similarities = _similarities(positives.vectors, candidates, titles, positives.topic_rows)
    words = None
    if weights.word_match_weight and text_index is not None:
        words = _add_word_match(similarities, positives, text_index, weights)
    best = _segment_max(similarities, positives.counts, positives.starts)
    penalty = _dislike_penalty(members, candidates, best.shape, weights)
    relevance = best - penalty
    keep = _eligible(members, relevance, candidates, text_index, weights)
    score = relevance + bonus if bonus is not None else relevance.copy()
    score[~keep] = NO_SCORE
    picked = _pick(score, similarities, positives, keep, members, candidates, weights, gram)
    result = _explain(active, members, picked, score, similarities, positives, best, penalty, bonus, words)
    result.because = _because_of(members, moves, candidates, picked, result.columns[2])
    return result


# --- Feedback ------------------------------------------------------------------------------


@dataclass
class _Moves:
    """What a profile's feedback did: its rows before the move, and the row each liked paper moved."""

    unmoved: np.ndarray  # (m, d)
    liked_row: np.ndarray  # (a,) row of each liked paper, or -1


def with_feedback(profile: Profile, weights: Weights) -> tuple[Profile, _Moves | None]:
    """The profile with each text interest moved by its feedback (Rocchio), and what moved.

    Each liked or disliked paper belongs to the text interest nearest to it: a reader who
    follows two fields and likes a paper of one must not drag the other towards it. A
    reader with no text interest (say, one who only seeded their own papers) ranks by
    their liked papers as rows of their own.
    """
    liked = _matrix(profile.liked)
    disliked = _matrix(profile.disliked)
    if not len(liked) and not len(disliked):
        return profile, None
    vectors = np.asarray(profile.positives, dtype=np.float32).reshape(-1, liked.shape[1] or disliked.shape[1])
    topics = np.asarray(profile.topic_rows(), dtype=np.int64)
    if not len(topics):
        if not len(liked):
            return profile, None
        rows = np.vstack([vectors, liked])
        kinds = [profile.kind(row) for row in range(len(vectors))] + ["liked"] * len(liked)
        moved = replace(profile, positives=rows, labels=[*profile.labels, *profile.liked_labels], kinds=kinds)
        return moved, _Moves(rows, np.arange(len(vectors), len(rows)))
    topic_vectors = vectors[topics]
    shift = np.zeros_like(topic_vectors)
    liked_row = np.full(len(liked), -1, dtype=np.int64)
    for papers, weight in ((liked, weights.rocchio_beta), (disliked, -weights.rocchio_gamma)):
        if not len(papers):
            continue
        nearest = np.argmax(papers @ topic_vectors.T, axis=1)
        belongs = (nearest[None, :] == np.arange(len(topics))[:, None]).astype(np.float32)  # (topics, papers)
        shift += np.float32(weight) * (belongs @ papers) / np.maximum(belongs.sum(axis=1), 1)[:, None]
        if papers is liked:
            liked_row = topics[nearest]
    rows = vectors.copy()
    rows[topics] = topic_vectors + shift
    rows[topics] /= np.maximum(np.linalg.norm(rows[topics], axis=1, keepdims=True), 1e-6)
    return replace(profile, positives=rows), _Moves(vectors, liked_row)


def _matrix(vectors: np.ndarray | None) -> np.ndarray:
    if vectors is None or not len(vectors):
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(vectors, dtype=np.float32)


def _because_of(
    members: Sequence[Profile],
    moves: Sequence[_Moves | None],
    candidates: np.ndarray,
    picked: np.ndarray,
    matched_row: np.ndarray,
) -> np.ndarray:
    """For each picked paper, the liked paper (its position in profile.liked) that drove the
    match, or -1: the one most like the paper among those that moved the interest it
    matched, when that move raised its similarity by FEEDBACK_NOTED or more (or the row it
    matched is the liked paper itself)."""
    because = np.full(picked.shape, -1, dtype=np.int64)
    for j, (profile, moved) in enumerate(zip(members, moves, strict=True)):
        if moved is None or profile.liked is None or not len(profile.liked):
            continue
        rows, papers = matched_row[j], candidates[picked[j]]
        likeness = np.asarray(profile.liked, dtype=np.float32) @ papers.T  # (liked, picked)
        likeness[moved.liked_row[:, None] != rows[None, :]] = -np.inf
        closest = np.argmax(likeness, axis=0)
        found = np.isfinite(likeness[closest, np.arange(len(rows))])
        gain = np.einsum("pd,pd->p", profile.positives[rows] - moved.unmoved[rows], papers)
        itself = np.array([profile.kind(row) == "liked" for row in rows.tolist()], dtype=bool)
        because[j] = np.where(found & (itself | (gain >= FEEDBACK_NOTED)), closest, -1)
    return because


def _similarities(
    vectors: np.ndarray, candidates: np.ndarray, titles: np.ndarray | None, topic_rows: np.ndarray
) -> np.ndarray:
    """Cosine similarity of every vector to every candidate; for the rows of text interests,
    the better of the candidate's two vectors when titles are given (a liked paper is
    compared with whole papers)."""
    similarities = vectors @ candidates.T
    if titles is not None and len(topic_rows):
        topics: Any = True
        if len(topic_rows) < len(vectors):
            topics = np.zeros((len(vectors), 1), dtype=bool)
            topics[topic_rows] = True
        np.maximum(similarities, vectors @ titles.T, out=similarities, where=topics)
    return similarities


def _add_word_match(
    similarities: np.ndarray, positives: _Positives, text_index: TextMatch, weights: Weights
) -> _WordMatch:
    """Adds WORD_MATCH_WEIGHT x each text interest's word match to its row, in place."""
    rows = positives.topic_rows
    added = text_index.word_scores(positives.queries, weights.related_words)
    added *= np.float32(weights.word_match_weight)
    if len(rows) == len(similarities):
        similarities += added
    else:
        similarities[rows] += added
    query_of_row = np.full(len(similarities), -1, dtype=np.int64)
    query_of_row[rows] = np.arange(len(rows))
    return _WordMatch(query_of_row, added)


def _segment_max(similarities: np.ndarray, counts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per owner (rows grouped by owner, `counts` each) the best of the rows' similarities.

    A loop over the position within each group (a handful of interests) is several times
    faster than np.maximum.reduceat over the whole matrix.
    """
    best = similarities[starts]
    for j in range(1, int(counts.max(initial=1))):
        more = np.flatnonzero(counts > j)
        best[more] = np.maximum(best[more], similarities[starts[more] + j])
    return best


def _dislike_penalty(
    members: Sequence[Profile], candidates: np.ndarray, shape: tuple[int, ...], weights: Weights
) -> np.ndarray:
    """DISLIKE_PENALTY x how far the closest negative vector is above DISLIKE_MARGIN, scaled to 0..1."""
    penalty = np.zeros(shape, dtype=np.float32)
    found = _closest(members, "negatives", candidates) if weights.dislike_penalty else None
    if found is None:
        return penalty
    with_negatives, closest = found
    scale = weights.dislike_penalty / max(1e-6, 1.0 - weights.dislike_margin)
    penalty[with_negatives] = np.clip(closest - weights.dislike_margin, 0, None) * scale
    return penalty


def _eligible(
    members: Sequence[Profile],
    relevance: np.ndarray,
    candidates: np.ndarray,
    text_index: TextMatch | None,
    weights: Weights,
) -> np.ndarray:
    """Which papers each profile may get: above its minimum, inside its window, free of
    excluded words, and no near twin of a paper the reader marked "less like this"."""
    minimums = np.fromiter(
        (weights.min_score if p.min_score is None else p.min_score for p in members), np.float32, len(members)
    )
    keep = relevance >= minimums[:, None]
    for j, profile in enumerate(members):
        if profile.eligible is not None:
            keep[j] &= profile.eligible
        if profile.excluded:
            if text_index is None:
                raise ValueError("excluded keywords need the candidates' text_index")
            keep[j] &= ~text_index.mask(profile.excluded)
    twins = _closest(members, "disliked", candidates)
    if twins is not None:
        rows, closest = twins
        keep[rows] &= closest < weights.disliked_twin
    return keep


def _closest(members: Sequence[Profile], field: str, candidates: np.ndarray) -> tuple[list[int], np.ndarray] | None:
    """(profiles that have any `field` vectors, each one's best similarity to every candidate),
    as one matrix product for the whole chunk (thousands of small ones cost far more)."""
    owners = [j for j, p in enumerate(members) if getattr(p, field) is not None and len(getattr(p, field))]
    if not owners:
        return None
    dim = candidates.shape[1]
    groups = [np.asarray(getattr(members[j], field), dtype=np.float32).reshape(-1, dim) for j in owners]
    counts = np.fromiter((len(g) for g in groups), np.int64, len(groups))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    return owners, _segment_max(np.concatenate(groups) @ candidates.T, counts, starts)


def _pick(
    score: np.ndarray,
    similarities: np.ndarray,
    positives: _Positives,
    keep: np.ndarray,
    members: Sequence[Profile],
    candidates: np.ndarray,
    weights: Weights,
    gram: np.ndarray | None,
) -> np.ndarray:
    """Column indices of each profile's papers, best first by `score`."""
    k_max = int(max(p.k for p in members))
    ranking_score = score
    if weights.every_interest:
        topics = positives.is_topic(members)
        ranking_score = _with_every_interest_first(score, similarities, positives.owners, keep, topics)
    if weights.diversity > 0:
        picked = _diverse_top(ranking_score, candidates, k_max, weights.diversity, gram)
    else:
        picked = _top(ranking_score, k_max)
    if weights.every_interest:  # shown best first by the real score
        order = np.argsort(-np.take_along_axis(score, picked, axis=1), axis=1, kind="stable")
        picked = np.take_along_axis(picked, order, axis=1)
    return picked


def _explain(
    active: list[int],
    members: Sequence[Profile],
    picked: np.ndarray,
    score: np.ndarray,
    similarities: np.ndarray,
    positives: _Positives,
    best: np.ndarray,
    penalty: np.ndarray,
    bonus: np.ndarray | None,
    words: _WordMatch | None,
) -> _ChunkResult:
    """The parts of each picked paper's score: what matched, its similarity, penalty, bonus, words."""
    picked_score = np.take_along_axis(score, picked, axis=1)
    picked_best = np.take_along_axis(best, picked, axis=1)
    matched_row = _matched_rows(similarities, positives.counts, positives.starts, picked)
    picked_words = np.zeros_like(picked_score)
    if words is not None:
        query = words.query_of_row[positives.starts[:, None] + matched_row]
        picked_words = np.where(query >= 0, words.added[query.clip(0), picked], 0).astype(np.float32)
        picked_best = picked_best - picked_words
    picked_penalty = np.take_along_axis(penalty, picked, axis=1)
    picked_bonus = bonus[picked] if bonus is not None else np.zeros_like(picked_score)
    return _ChunkResult(
        active, members, picked, picked_score, matched_row, picked_best, picked_penalty, picked_bonus, picked_words
    )


def _matched_rows(similarities: np.ndarray, counts: np.ndarray, starts: np.ndarray, picked: np.ndarray) -> np.ndarray:
    """For each picked paper, the position (within its owner's group) of the vector that matched best."""
    rows = np.zeros(picked.shape, dtype=np.int64)
    best = np.take_along_axis(similarities[starts], picked, axis=1)
    for j in range(1, int(counts.max(initial=1))):
        more = np.flatnonzero(counts > j)
        values = np.take_along_axis(similarities[starts[more] + j], picked[more], axis=1)
        better = values > best[more]
        rows[more] = np.where(better, j, rows[more])
        best[more] = np.where(better, values, best[more])
    return rows


def _with_every_interest_first(
    score: np.ndarray, similarities: np.ndarray, owners: np.ndarray, keep: np.ndarray, topics: np.ndarray | None
) -> np.ndarray:
    """Scores lifted for each text interest's own best paper, so every interest that has a
    paper above the minimum is represented before any interest gets its second paper: an
    interest whose field happens to score higher overall must not crowd out the others.
    (Liked papers are not lifted: there can be many, and they are examples, not fields.)

    `topics` marks the rows of text interests; None means every row is one.
    """
    if topics is not None:
        similarities, owners = similarities[topics], owners[topics]
    per_row = np.where(keep[owners], similarities, NO_SCORE)
    best = np.argmax(per_row, axis=1)
    found = np.isfinite(per_row[np.arange(len(owners)), best])
    lifted = score.copy()
    lifted[owners[found], best[found]] += EVERY_INTEREST_LIFT
    return lifted


def _top(score: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k highest scores per row, best first."""
    k = min(k, score.shape[1])
    if k < score.shape[1]:
        part = np.argpartition(-score, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(score.shape[1]), (score.shape[0], 1))
    order = np.argsort(-np.take_along_axis(score, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def _diverse_top(
    score: np.ndarray, candidates: np.ndarray, k: int, diversity: float, gram: np.ndarray | None = None
) -> np.ndarray:
    """Greedy maximal-marginal-relevance pick of k from each row's best 3k, vectorised over rows.

    `gram` (candidates x candidates similarities, computed once per rank() call when small
    enough) turns each step into a gather instead of a product over the pool's vectors.
    """
    pool = _top(score, min(score.shape[1], 3 * k))
    pool_score = np.take_along_axis(score, pool, axis=1)
    pool_vectors = candidates[pool] if gram is None else None  # (rows, pool, d)
    rows = np.arange(score.shape[0])
    closest = np.zeros_like(pool_score)
    taken = np.zeros(pool.shape, dtype=bool)
    picked = np.empty((score.shape[0], min(k, pool.shape[1])), dtype=pool.dtype)
    for step in range(picked.shape[1]):
        # Papers that failed the minimum come after every other untaken one (and are dropped later).
        adjusted = np.where(np.isneginf(pool_score), LAST_RESORT, pool_score - diversity * closest)
        adjusted[taken] = NO_SCORE
        choice = np.argmax(adjusted, axis=1)
        picked[:, step] = pool[rows, choice]
        taken[rows, choice] = True
        if pool_vectors is not None:
            similarity = np.einsum("rpd,rd->rp", pool_vectors, pool_vectors[rows, choice])
        else:
            assert gram is not None
            similarity = gram[pool, picked[:, step, None]]
        np.maximum(closest, similarity, out=closest)
    return picked


# --- The result ------------------------------------------------------------------------------


class _ChunkResult:
    """The picked arrays of one chunk; `Match` objects are built only when a subscriber's list is read."""

    def __init__(self, active: list[int], members: Sequence[Profile], *columns: np.ndarray) -> None:
        self.slot = {position: j for j, position in enumerate(active)}
        self.members = members
        self.columns = columns
        self.because: np.ndarray | None = None  # (profiles, picked) position in profile.liked, or -1

    def matches(self, position: int) -> list[Match]:
        j = self.slot.get(position)
        if j is None:
            return []
        profile = self.members[j]
        index, score, row, similarity, penalty, trending, words = (column[j].tolist() for column in self.columns)
        because = self.because[j].tolist() if self.because is not None else [-1] * len(index)
        return [
            Match(
                index[i],
                score[i],
                profile.labels[row[i]],
                profile.kind(row[i]),
                similarity[i],
                penalty[i],
                trending[i],
                words[i],
                profile.liked_ids[because[i]] if because[i] >= 0 and profile.liked_ids else None,
                profile.liked_labels[because[i]] if because[i] >= 0 and profile.liked_labels else "",
            )
            for i in range(min(profile.k, len(index)))
            if score[i] != -math.inf
        ]


class Ranking(Sequence[list[Match]]):
    """One list of `Match` per profile, best first, built on access (a million Match objects
    for 100,000 subscribers would cost more than the ranking itself)."""

    def __init__(self, chunk_size: int) -> None:
        self.chunk_size = chunk_size
        self.chunks: list[_ChunkResult | None] = []
        self.length = 0

    def add(self, chunk: _ChunkResult | None, size: int) -> None:
        self.chunks.append(chunk)
        self.length += size

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, i: int) -> list[Match]: ...

    @overload
    def __getitem__(self, i: slice) -> list[list[Match]]: ...

    def __getitem__(self, i: int | slice) -> list[Match] | list[list[Match]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        chunk = self.chunks[i // self.chunk_size]
        return chunk.matches(i % self.chunk_size) if chunk else []

    def __iter__(self) -> Iterator[list[Match]]:
        return (self[i] for i in range(len(self)))
