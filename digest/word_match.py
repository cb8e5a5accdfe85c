"""How well an interest's own words match each candidate paper: BM25 where a word also
counts for the words nearest to it in meaning.

Sentence vectors alone rank papers that merely sound alike next to papers that use the
reader's very words ("speculative decoding"), and a reader who writes "pictures" means
the papers that say "images". So each word of an interest stands for itself and for the
candidates' words whose vectors are at least RANKING_RELATED_WORDS similar to its own
(weighted by that similarity), and the BM25 score is taken as a share of the score of a
text that holds every interest word once at average length: a query that shares only
"and" or "models" with today's papers adds next to nothing.

No ORM here: word vectors come from the `word_vectors` callable the caller passes
(`papers.embeddings.word_vectors` in production, which keeps them in the database).
"""

import numpy as np
from scipy import sparse

from papers.embeddings import VECTOR_WORD, WORD


class WordMatcher:
    K1 = 1.5
    B = 0.75
    DENSE_LIMIT = 25_000_000  # words x texts kept as a dense float32 matrix (100 MB) at most

    def __init__(self, index, word_vectors=None, related=0.65):
        """`index` is a `digest.ranking.KeywordIndex` (the words of the candidates);
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
        self._neighbour_words = None
        self._neighbour_vectors = None
        self._expansions = {}  # word -> (columns, weights)
        self._queries = {}  # query text -> (columns, weights already divided by the query's best score)

    def _bm25(self, index):
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
            shape=(len(self.columns), n), dtype=np.float32,
        )
        return idf, terms

    def scores(self, queries):
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

    def _query(self, query):
        entry = self._queries.get(query)
        if entry is None:
            words = set(WORD.findall(query.lower()))
            self._expand(words)
            best = sum(float(self.idf[self.columns[w]]) if w in self.columns else self.unknown_idf for w in words)
            combined = {}
            for word in words:
                for column, weight in zip(*self._expansions[word]):
                    combined[column] = combined.get(column, 0.0) + weight
            columns = np.fromiter(combined, np.int64, len(combined))
            order = np.argsort(columns)
            weights = np.fromiter(combined.values(), np.float32, len(combined))[order] / max(best, 1e-6)
            entry = self._queries[query] = (columns[order], weights)
        return entry

    def _expand(self, words):
        """Each new word's columns and weights: itself (1.0) and its near neighbours (their similarity)."""
        new = [w for w in words if w not in self._expansions]
        expandable = [w for w in new if VECTOR_WORD.fullmatch(w)] if self.word_vectors else []  # "x", "2024": only themselves
        vectors = self.word_vectors(expandable, embed_missing=True) if expandable else {}
        known = [w for w in expandable if w in vectors]
        if known and self._neighbours()[0]:
            similarity = np.vstack([vectors[w] for w in known]) @ self._neighbour_vectors.T
            for word, row in zip(known, similarity):
                near = np.flatnonzero(row >= self.related)
                expansion = {self._neighbour_words[i]: float(row[i]) for i in near}
                if word in self.columns:
                    expansion[self.columns[word]] = 1.0
                self._expansions[word] = (np.fromiter(expansion, np.int64), np.fromiter(expansion.values(), np.float32))
        for word in new:
            if word not in self._expansions:
                own = [self.columns[word]] if word in self.columns else []
                self._expansions[word] = (np.array(own, np.int64), np.ones(len(own), np.float32))

    def _neighbours(self):
        """(columns, vectors) of the candidates' words that other words may stand for."""
        if self._neighbour_words is None:
            words = [w for w in self.columns if VECTOR_WORD.fullmatch(w)]
            vectors = self.word_vectors(words) if words else {}
            known = [w for w in words if w in vectors]
            self._neighbour_words = [self.columns[w] for w in known]
            self._neighbour_vectors = (
                np.vstack([vectors[w] for w in known]).astype(np.float32) if known else np.zeros((0, 1), np.float32)
            )
        return self._neighbour_words, self._neighbour_vectors
