"""The words of a set of candidate texts: excluded keywords and how well an interest's own
words match each paper (BM25 where a word also counts for the words nearest to it in meaning).

Sentence vectors alone rank papers that merely sound alike next to papers that use the
reader's very words ("speculative decoding"), and a reader who writes "pictures" means
the papers that say "images". So each word of an interest stands for itself and for the
candidates' words whose vectors are at least RANKING_RELATED_WORDS similar to its own
(weighted by that similarity), and the BM25 score is taken as a share of the score of a
text that holds every interest word once at average length: a query that shares only
"and" or "models" with today's papers adds next to nothing.

`TextIndex` is what `digest.ranking.rank` takes as its `text_index`. No ORM here: word
vectors come from the `word_vectors` callable the caller passes
(`papers.embeddings.word_vectors` in production, which keeps them in the database).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from scipy import sparse

from papers.embeddings import VECTOR_WORD, WORD

WordVectors = Callable[..., dict[str, np.ndarray]]


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive; a multi-word keyword matches across any spacing."""
    words = [re.escape(word) for word in keyword.lower().split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


class TextIndex:
    """The words of one set of candidate texts: excluded-keyword masks and the word match.

    The texts are split into words once: a one-word keyword is then a dictionary lookup,
    and a phrase is confirmed by its pattern only in the texts holding all of its words.
    Scanning every text with a regex per keyword per subscriber chunk cost minutes at
    100,000 subscribers; the planner keeps one index per candidate set for a whole run.
    """

    def __init__(self, texts: Iterable[str], word_vectors: WordVectors | None = None) -> None:
        """`word_vectors(words)` -> {word: vector} lets an interest's word match words near it in meaning."""
        self.word_vectors = word_vectors
        self.matchers: dict[float, WordMatcher] = {}
        self.texts = [text.lower() for text in texts]
        self.postings: dict[str, list[int]] = {}
        self.counts: dict[str, list[int]] = {}  # word -> [occurrences in each text of its postings]
        self.lengths = np.zeros(len(self.texts), dtype=np.float32)
        for position, text in enumerate(self.texts):
            words = WORD.findall(text)
            self.lengths[position] = len(words)
            for word, count in Counter(words).items():
                self.postings.setdefault(word, []).append(position)
                self.counts.setdefault(word, []).append(count)
        self.masks: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def keyword_mask(self, keyword: str) -> np.ndarray:
        if keyword not in self.masks:
            mask = np.zeros(len(self.texts), dtype=bool)
            words = WORD.findall(keyword)
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

    def mask(self, keywords: Sequence[str]) -> np.ndarray:
        """Boolean mask over the texts: True where any keyword occurs (whole word, any case)."""
        mask = np.zeros(len(self.texts), dtype=bool)
        for keyword in keywords:
            keyword = " ".join(keyword.lower().split())
            if keyword:
                mask |= self.keyword_mask(keyword)
        return mask

    def word_matcher(self, related: float) -> WordMatcher:
        """The `WordMatcher` of these texts for one related-words threshold, built once."""
        if related not in self.matchers:
            self.matchers[related] = WordMatcher(self, self.word_vectors, related)
        return self.matchers[related]

    def word_scores(self, queries: Sequence[str], related: float) -> np.ndarray:
        """(queries x texts) float32 word-match scores in 0..1 (see `WordMatcher.scores`)."""
        return self.word_matcher(related).scores(queries)


class WordMatcher:
    K1 = 1.5
    B = 0.75
    DENSE_LIMIT = 25_000_000  # words x texts kept as a dense float32 matrix (100 MB) at most

    def __init__(self, index: TextIndex, word_vectors: WordVectors | None = None, related: float = 0.65) -> None:
        """`index` is the `TextIndex` of the candidates;
        `word_vectors(words, embed_missing=False)` returns {word: normalised vector} for the
        words it knows (the candidates' words are read as they are, an interest's missing
        words may be embedded)."""
        self.word_vectors = word_vectors if related < 1 else None
        self.related = related
        self.columns = {word: column for column, word in enumerate(index.postings)}
        self.size = len(index.texts)
        self.idf, self.terms = self._bm25(index)
        fits = self.terms.shape[0] * self.terms.shape[1] <= self.DENSE_LIMIT
        self._dense_terms = self.terms.toarray() if fits else None
        self.unknown_idf = float(np.log1p((self.size + 0.5) / 0.5))
        self._neighbour_words: list[int] | None = None
        self._neighbour_vectors: np.ndarray | None = None
        self._expansions: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # word -> (columns, weights)
        # query text -> (columns, weights already divided by the query's best score)
        self._queries: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _bm25(self, index: TextIndex) -> tuple[np.ndarray, sparse.csr_matrix]:
        """(idf per word, words x texts sparse BM25 term weights): Okapi with an idf that is never negative."""
        n = self.size
        idf = np.zeros(len(self.columns), dtype=np.float32)
        lengths = index.lengths / max(float(index.lengths.mean()), 1.0) if n else index.lengths
        rows, texts, values = [], [], []
        for word, column in self.columns.items():
            positions = np.asarray(index.postings[word])
            counts = np.asarray(index.counts[word], dtype=np.float32)
            idf[column] = np.log1p((n - len(positions) + 0.5) / (len(positions) + 0.5))
            saturation = counts * (self.K1 + 1) / (counts + self.K1 * (1 - self.B + self.B * lengths[positions]))
            rows.append(np.full(len(positions), column))
            texts.append(positions)
            values.append(idf[column] * saturation)
        if not rows:
            return idf, sparse.csr_matrix((0, n), dtype=np.float32)
        terms = sparse.csr_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(texts))),
            shape=(len(self.columns), n),
            dtype=np.float32,
        )
        return idf, terms

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """(queries x texts) float32 array of word-match scores in 0..1."""
        entries = [self._query(query) for query in queries]
        indptr = np.cumsum([0] + [len(columns) for columns, _ in entries])
        columns = np.concatenate([c for c, _ in entries]) if entries else np.zeros(0, np.int64)
        weights = np.concatenate([w for _, w in entries]) if entries else np.zeros(0, np.float32)
        picks = sparse.csr_matrix((weights, columns, indptr), shape=(len(queries), len(self.columns)))
        # Most texts share some word with most interests, so the product is dense: against a
        # dense term matrix it is several times faster, where that matrix fits in DENSE_LIMIT.
        product = picks @ self._dense_terms if self._dense_terms is not None else (picks @ self.terms).toarray()
        scores = np.asarray(product, dtype=np.float32)
        return np.minimum(scores, 1, out=scores)

    def _query(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        entry = self._queries.get(query)
        if entry is None:
            words = set(WORD.findall(query.lower()))
            self._expand(words)
            best = sum(float(self.idf[self.columns[w]]) if w in self.columns else self.unknown_idf for w in words)
            combined: dict[int, float] = {}
            for word in words:
                for column, weight in zip(*self._expansions[word]):
                    combined[column] = combined.get(column, 0.0) + weight
            columns = np.fromiter(combined, np.int64, len(combined))
            order = np.argsort(columns)
            weights = np.fromiter(combined.values(), np.float32, len(combined))[order] / max(best, 1e-6)
            entry = self._queries[query] = (columns[order], weights)
        return entry

    def _expand(self, words: Iterable[str]) -> None:
        """Each new word's columns and weights: itself (1.0) and its near neighbours (their similarity)."""
        new = [w for w in words if w not in self._expansions]
        expandable = [w for w in new if VECTOR_WORD.fullmatch(w)]  # "x", "2024": only themselves
        vectors = self.word_vectors(expandable, embed_missing=True) if self.word_vectors and expandable else {}
        known = [w for w in expandable if w in vectors]
        neighbour_words, neighbour_vectors = self._neighbours() if known else ([], None)
        if neighbour_words and neighbour_vectors is not None:
            similarity = np.vstack([vectors[w] for w in known]) @ neighbour_vectors.T
            for word, row in zip(known, similarity):
                near = np.flatnonzero(row >= self.related)
                expansion = {neighbour_words[i]: float(row[i]) for i in near}
                if word in self.columns:
                    expansion[self.columns[word]] = 1.0
                self._expansions[word] = (np.fromiter(expansion, np.int64), np.fromiter(expansion.values(), np.float32))
        for word in new:
            if word not in self._expansions:
                own = [self.columns[word]] if word in self.columns else []
                self._expansions[word] = (np.array(own, np.int64), np.ones(len(own), np.float32))

    def _neighbours(self) -> tuple[list[int], np.ndarray]:
        """(columns, vectors) of the candidates' words that other words may stand for."""
        if self._neighbour_words is None or self._neighbour_vectors is None:
            words = [w for w in self.columns if VECTOR_WORD.fullmatch(w)]
            vectors = self.word_vectors(words) if self.word_vectors and words else {}
            known = [w for w in words if w in vectors]
            self._neighbour_words = [self.columns[w] for w in known]
            self._neighbour_vectors = (
                np.vstack([vectors[w] for w in known]).astype(np.float32) if known else np.zeros((0, 1), np.float32)
            )
        return self._neighbour_words, self._neighbour_vectors
