"""Ranking candidate papers for many subscribers at once: numpy in, top-k with reasons out.

No ORM in here, so the planner, the `recommend` command, the preview and the benchmark all
call exactly the same scoring with plain arrays.

How a paper is scored for one subscriber (all vectors L2-normalised, so a dot product is
the cosine similarity):

1. similarity = the BEST match over the subscriber's positive vectors (text interests and
   liked papers). Never the average: someone who follows both protein folding and compilers
   must get the best papers of each field, not the papers halfway between them.
   A paper matches a vector by the better of its title+abstract vector and, with
   TITLE_MATCH, its title vector: a short interest often says what a title says, while
   the abstract adds method and results that pull its vector away. A text interest also
   gets WORD_MATCH_WEIGHT x how well its words (and words near them in meaning, at least
   RELATED_WORDS similar) match the paper, by BM25 over today's candidates
   (digest.word_match): a reader who types "speculative decoding" means those words.
2. penalty = DISLIKE_PENALTY x how far the closest negative vector (disliked paper or
   "less of this" interest) is above DISLIKE_MARGIN, scaled to 0..1. Loosely related papers
   are not punished, near-duplicates of a disliked paper are.
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

Both were measured on three judged sets (digest/evaluation/): each raised NDCG@5 on
every set; the weights are settings.

Subscribers are ranked in chunks of CHUNK_SIZE: every chunk is one matrix product
(positive vectors of the chunk x candidates), so cost grows linearly with subscribers x
candidates and memory stays flat.
"""

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from papers.embeddings import WORD as _WORD

from .word_match import WordMatcher

NO_SCORE = np.float32(-np.inf)
LAST_RESORT = np.finfo(np.float32).min
GRAM_LIMIT = 5000  # candidates x candidates float32 similarities up to 100 MB, for the diversity step
EVERY_INTEREST_LIFT = np.float32(10.0)  # above any real score (similarities are at most 1)


@dataclass(frozen=True)
class Weights:
    """Every knob of the scoring; defaults come from settings.RANKING."""

    min_score: float = 0.25
    dislike_penalty: float = 0.5
    dislike_margin: float = 0.35
    upvote_weight: float = 0.0
    diversity: float = 0.0
    every_interest: bool = True
    title_match: bool = True
    word_match_weight: float = 0.4
    related_words: float = 0.65
    chunk_size: int = 2000

    @classmethod
    def from_settings(cls, **overrides):
        from django.conf import settings

        ranking = settings.RANKING
        values = {
            "min_score": ranking["MIN_SCORE"],
            "dislike_penalty": ranking["DISLIKE_PENALTY"],
            "dislike_margin": ranking["DISLIKE_MARGIN"],
            "upvote_weight": ranking["UPVOTE_WEIGHT"],
            "diversity": ranking["DIVERSITY"],
            "every_interest": ranking["EVERY_INTEREST"],
            "title_match": ranking["TITLE_MATCH"],
            "word_match_weight": ranking["WORD_MATCH_WEIGHT"],
            "related_words": ranking["RELATED_WORDS"],
            "chunk_size": ranking["CHUNK_SIZE"],
        }
        values.update(overrides)
        return cls(**values)


@dataclass
class Profile:
    """One subscriber's taste as the ranker sees it.

    positives: (m, d) vectors of text interests and liked papers; labels[i] names row i in
        "why you got this" and kinds[i] says what it is ("topic" or "liked").
    negatives: (n, d) vectors of disliked papers and "less of this" interests.
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

    def kind(self, row):
        return self.kinds[row] if self.kinds else "topic"

    def topic_rows(self):
        """Rows of text interests (their labels are the subscriber's own words)."""
        return [row for row in range(len(self.positives)) if self.kind(row) == "topic"]


class Match(NamedTuple):
    """One ranked paper for one subscriber, with everything needed to explain it."""

    index: int  # row in the candidate matrix
    score: float  # relevance + trending: what the digest is ordered by
    matched: str  # label of the positive vector that matched best
    matched_kind: str  # "topic" or "liked"
    similarity: float  # cosine similarity to that positive vector
    penalty: float  # subtracted for closeness to a disliked paper / negative interest
    trending: float  # added for community upvotes
    word_match: float = 0.0  # added for the words a text interest shares with the paper




def keyword_pattern(keyword):
    """Whole-word, case-insensitive; a multi-word keyword matches across any spacing."""
    words = [re.escape(word) for word in keyword.lower().split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


class KeywordIndex:
    """The words of one set of candidate texts: excluded-keyword masks and the word match.

    The texts are split into words once: a one-word keyword is then a dictionary lookup,
    and a phrase is confirmed by its pattern only in the texts holding all of its words.
    Scanning every text with a regex per keyword per subscriber chunk cost minutes at
    100,000 subscribers; the planner keeps one index per candidate set for a whole run.
    """

    def __init__(self, texts, word_vectors=None):
        """`word_vectors(words)` -> {word: vector} lets an interest's word match words near it in meaning."""
        self.word_vectors = word_vectors
        self.matchers = {}
        self.texts = [text.lower() for text in texts]
        self.postings = {}
        self.counts = {}  # word -> [occurrences in each text of its postings]
        self.lengths = np.zeros(len(self.texts), dtype=np.float32)
        for position, text in enumerate(self.texts):
            words = _WORD.findall(text)
            self.lengths[position] = len(words)
            for word, count in Counter(words).items():
                self.postings.setdefault(word, []).append(position)
                self.counts.setdefault(word, []).append(count)
        self.masks = {}

    def __len__(self):
        return len(self.texts)

    def keyword_mask(self, keyword):
        if keyword not in self.masks:
            mask = np.zeros(len(self.texts), dtype=bool)
            words = _WORD.findall(keyword)
            if len(words) == 1 and words[0] == keyword:
                mask[self.postings.get(keyword, [])] = True
            else:
                holding = set(range(len(self.texts)))
                for word in words:
                    holding &= set(self.postings.get(word, ()))
                pattern = keyword_pattern(keyword)
                mask[[i for i in sorted(holding) if pattern.search(self.texts[i])]] = True
            self.masks[keyword] = mask
        return self.masks[keyword]

    def word_matcher(self, related):
        """The `WordMatcher` of these texts for one related-words threshold, built once."""
        if related not in self.matchers:
            self.matchers[related] = WordMatcher(self, self.word_vectors, related)
        return self.matchers[related]

    def mask(self, keywords):
        """Boolean mask over the texts: True where any keyword occurs (whole word, any case)."""
        mask = np.zeros(len(self.texts), dtype=bool)
        for keyword in keywords:
            keyword = " ".join(keyword.lower().split())
            if keyword:
                mask |= self.keyword_mask(keyword)
        return mask


def trending_bonus(upvotes, weight):
    """weight x log1p(upvotes), scaled so the most upvoted candidate gets the full weight."""
    if upvotes is None or weight == 0:
        return None
    counts = np.array([np.nan if count is None else count for count in upvotes], dtype=np.float32)
    votes = np.log1p(np.clip(np.nan_to_num(counts), 0, None))
    top = float(votes.max()) if len(votes) else 0.0
    if top <= 0:
        return None
    return (weight * votes / top).astype(np.float32)


def rank(candidates, profiles, candidate_texts=None, upvotes=None, weights=None, keyword_index=None,
         title_vectors=None):
    """Rank `candidates` for every profile.

    candidates: (n, d) float32 normalised paper vectors (title + abstract).
    profiles: list of `Profile` (one per subscriber).
    candidate_texts: n strings (title + abstract), for excluded keywords and the word match
        (without them the score is the vectors' similarity alone).
    keyword_index: a `KeywordIndex` over those texts, to reuse across calls (built on demand).
    upvotes: optional n community upvote counts (None / NaN for unknown).
    weights: `Weights`; defaults to settings.RANKING.
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
    needs_words = weights.word_match_weight > 0 or any(p.excluded for p in profiles)
    if keyword_index is None and candidate_texts is not None and needs_words:
        keyword_index = KeywordIndex(candidate_texts)
    bonus = trending_bonus(upvotes, weights.upvote_weight)
    gram = candidates @ candidates.T if weights.diversity > 0 and len(candidates) <= GRAM_LIMIT else None
    chunk_size = max(1, weights.chunk_size)
    results = Ranking(chunk_size)
    for start in range(0, len(profiles), chunk_size):
        chunk = profiles[start : start + chunk_size]
        results.add(_rank_chunk(candidates, titles, chunk, keyword_index, bonus, weights, gram), len(chunk))
    return results


def _similarities(vectors, candidates, titles, topic_rows):
    """Cosine similarity of every vector to every candidate; for the rows of text interests,
    the better of the candidate's two vectors when titles are given (a liked paper is
    compared with whole papers)."""
    similarities = vectors @ candidates.T
    if titles is not None and len(topic_rows):
        topics = None
        if len(topic_rows) < len(vectors):
            topics = np.zeros((len(vectors), 1), dtype=bool)
            topics[topic_rows] = True
        np.maximum(similarities, vectors @ titles.T, out=similarities, where=True if topics is None else topics)
    return similarities


def _segment_max(similarities, counts):
    """Per owner (rows grouped by owner, `counts` each) the best of the rows' similarities.

    A loop over the position within each group (a handful of interests) is several times
    faster than np.maximum.reduceat over the whole matrix.
    """
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    best = similarities[starts]
    for j in range(1, int(counts.max(initial=1))):
        more = np.flatnonzero(counts > j)
        best[more] = np.maximum(best[more], similarities[starts[more] + j])
    return best, starts


def _matched_rows(similarities, counts, starts, picked):
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


def _rank_chunk(candidates, titles, profiles, keyword_index, bonus, weights, gram):
    n_candidates, dim = candidates.shape
    active = [i for i, p in enumerate(profiles) if len(p.positives) and n_candidates]
    if not active:
        return None
    members = [profiles[i] for i in active]
    count = len(members)

    counts = np.fromiter((len(p.positives) for p in members), np.int64, count)
    owners = np.repeat(np.arange(count), counts)
    positives = np.concatenate([np.asarray(p.positives, dtype=np.float32).reshape(-1, dim) for p in members])
    topic_rows, queries = _text_interests(members, counts)
    similarities = _similarities(positives, candidates, titles, topic_rows)
    words = None
    if weights.word_match_weight and keyword_index is not None:
        words = _add_word_match(similarities, topic_rows, queries, keyword_index, weights)
    best, starts = _segment_max(similarities, counts)

    penalty = np.zeros_like(best)
    with_negatives = [j for j, p in enumerate(members) if p.negatives is not None and len(p.negatives)]
    if with_negatives and weights.dislike_penalty:
        neg_counts = np.fromiter((len(members[j].negatives) for j in with_negatives), np.int64, len(with_negatives))
        negatives = np.concatenate(
            [np.asarray(members[j].negatives, dtype=np.float32).reshape(-1, dim) for j in with_negatives]
        )
        closest, _ = _segment_max(negatives @ candidates.T, neg_counts)
        scale = weights.dislike_penalty / max(1e-6, 1.0 - weights.dislike_margin)
        penalty[with_negatives] = np.clip(closest - weights.dislike_margin, 0, None) * scale

    relevance = best - penalty
    minimums = np.fromiter(
        (weights.min_score if p.min_score is None else p.min_score for p in members), np.float32, count
    )
    keep = relevance >= minimums[:, None]
    for j, profile in enumerate(members):
        if profile.eligible is not None:
            keep[j] &= profile.eligible
        if profile.excluded:
            if keyword_index is None:
                raise ValueError("excluded keywords need candidate_texts")
            keep[j] &= ~keyword_index.mask(profile.excluded)
    score = relevance + bonus if bonus is not None else relevance.copy()
    score[~keep] = NO_SCORE

    k_max = int(max(p.k for p in members))
    if weights.every_interest:
        topics = None
        if any(p.kinds for p in members):
            topics = np.fromiter((p.kind(r) == "topic" for p in members for r in range(len(p.positives))), bool, len(owners))
        ranking_score = _with_every_interest_first(score, similarities, owners, keep, topics)
    else:
        ranking_score = score
    if weights.diversity > 0:
        picked = _diverse_top(ranking_score, candidates, k_max, weights.diversity, gram)
    else:
        picked = _top(ranking_score, k_max)
    if weights.every_interest:  # shown best first by the real score
        order = np.argsort(-np.take_along_axis(score, picked, axis=1), axis=1, kind="stable")
        picked = np.take_along_axis(picked, order, axis=1)
    picked_score = np.take_along_axis(score, picked, axis=1)

    picked_best = np.take_along_axis(best, picked, axis=1)
    matched_row = _matched_rows(similarities, counts, starts, picked)
    picked_words = np.zeros_like(picked_score)
    if words is not None:
        query_of_row, added = words
        query = query_of_row[starts[:, None] + matched_row]
        picked_words = np.where(query >= 0, added[query.clip(0), picked], 0).astype(np.float32)
        picked_best = picked_best - picked_words
    picked_penalty = np.take_along_axis(penalty, picked, axis=1)
    picked_bonus = bonus[picked] if bonus is not None else np.zeros_like(picked_score)

    return _ChunkResult(
        active, members, picked, picked_score, matched_row, picked_best, picked_penalty, picked_bonus, picked_words
    )


def _text_interests(members, counts):
    """(rows, texts) of the chunk's text interests among its positive vectors."""
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rows, texts = [], []
    for offset, profile in zip(offsets.tolist(), members):
        for row in profile.topic_rows():
            rows.append(offset + row)
            texts.append(profile.labels[row])
    return np.asarray(rows, dtype=np.int64), texts


def _add_word_match(similarities, rows, queries, keyword_index, weights):
    """Adds WORD_MATCH_WEIGHT x each text interest's word match to its row, in place.

    Returns (query_of_row, added): for each row of `similarities` the row of `added`
    (-1 for liked papers), and the added amounts, for the score breakdown.
    """
    added = keyword_index.word_matcher(weights.related_words).scores(queries)
    added *= np.float32(weights.word_match_weight)
    if len(rows) == len(similarities):
        similarities += added
    else:
        similarities[rows] += added
    query_of_row = np.full(len(similarities), -1, dtype=np.int64)
    query_of_row[rows] = np.arange(len(rows))
    return query_of_row, added


class _ChunkResult:
    """The picked arrays of one chunk; `Match` objects are built only when a subscriber's list is read."""

    def __init__(self, active, members, *columns):
        self.slot = {position: j for j, position in enumerate(active)}
        self.members = members
        self.columns = columns

    def matches(self, position):
        j = self.slot.get(position)
        if j is None:
            return []
        profile = self.members[j]
        index, score, row, similarity, penalty, trending, words = (column[j].tolist() for column in self.columns)
        return [
            Match(
                index[i], score[i], profile.labels[row[i]], profile.kind(row[i]), similarity[i], penalty[i],
                trending[i], words[i],
            )
            for i in range(min(profile.k, len(index)))
            if score[i] != -math.inf
        ]


class Ranking(Sequence):
    """One list of `Match` per profile, best first, built on access (a million Match objects
    for 100,000 subscribers would cost more than the ranking itself)."""

    def __init__(self, chunk_size):
        self.chunk_size = chunk_size
        self.chunks = []
        self.length = 0

    def add(self, chunk, size):
        self.chunks.append(chunk)
        self.length += size

    def __len__(self):
        return self.length

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        chunk = self.chunks[i // self.chunk_size]
        return chunk.matches(i % self.chunk_size) if chunk else []


def _with_every_interest_first(score, similarities, owners, keep, topics):
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


def _top(score, k):
    """Column indices of the k highest scores per row, best first."""
    k = min(k, score.shape[1])
    if k < score.shape[1]:
        part = np.argpartition(-score, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(score.shape[1]), (score.shape[0], 1))
    order = np.argsort(-np.take_along_axis(score, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def _diverse_top(score, candidates, k, diversity, gram=None):
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
        if gram is None:
            similarity = np.einsum("rpd,rd->rp", pool_vectors, pool_vectors[rows, choice])
        else:
            similarity = gram[pool, picked[:, step, None]]
        np.maximum(closest, similarity, out=closest)
    return picked
