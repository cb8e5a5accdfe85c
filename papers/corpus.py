"""Word statistics of the whole stored corpus: in how many papers each word occurs.

A digest says which of the reader's words a paper shares with their interest ("shares
'speculative decoding'"), and must never name a word that says nothing about a topic
("studies", "models", "structure"). Which words those are is a question about the whole
corpus, not about one day's fifty papers, so the counts live here, in CorpusWord: a paper's
words are counted once, when it is first embedded (`count_words`, called by
papers.embeddings for every batch it embeds), so rendering only reads them. A later change
of a paper's abstract is not counted again: one paper moves a word's share by 1/N.

(The ranking's word match still weighs words over the day's candidates: weighing them by
these counts was measured, and lowered NDCG@5 on every judged set; see README, Relevance.)
"""

import math
from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction

from .embeddings import WORD

MAX_WORD = 64  # longer "words" (hashes, run-together formulas) are not counted
GENERIC_SHARE = 0.05  # a word in this share of the papers, or more, names no topic


def idf(document_frequency: float, papers: int) -> float:
    """Okapi BM25's inverse document frequency, never negative: log(1 + (N - df + 0.5) / (df + 0.5))."""
    return math.log1p((papers - document_frequency + 0.5) / (document_frequency + 0.5))


def topical_weight(document_frequency: int, papers: int) -> float:
    """How much a word says about a paper's topic: its idf where it occurs in at most
    GENERIC_SHARE of the papers (or in two, in a corpus too small to tell), else 0.

    Over the 251 papers of the bundled samples (12.5 papers make 5 %) "structure" (in 17),
    "prediction" (24), "studies" (17) and "models" (147) are generic by this rule, while
    "protein" (1), "speculative" (2), "decoding" (8) and "clinical" (11) are not.
    """
    if document_frequency > max(GENERIC_SHARE * papers, 2):
        return 0.0
    return idf(document_frequency, papers)


def distinct_words(text: str) -> set[str]:
    return {word for word in WORD.findall(text.lower()) if len(word) <= MAX_WORD}


def count_words(paper_ids: Iterable[int]) -> int:
    """Count the words of those of the papers not counted yet; returns how many were counted.

    The papers are locked while they are counted, so two embed workers never count one twice.
    """
    from .models import CorpusWord, Paper

    with transaction.atomic():
        rows = list(
            Paper.objects.select_for_update()
            .filter(pk__in=list(paper_ids), words_counted=False)
            .values_list("pk", "title", "abstract")
        )
        if not rows:
            return 0
        counts: Counter[str] = Counter()
        for _, title, abstract in rows:
            counts.update(distinct_words(f"{title} {abstract}"))
        table = connection.ops.quote_name(CorpusWord._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (word, papers) VALUES (%s, %s) "
                f"ON CONFLICT (word) DO UPDATE SET papers = {table}.papers + excluded.papers",
                sorted(counts.items()),
            )
        Paper.objects.filter(pk__in=[row[0] for row in rows]).update(words_counted=True)
    return len(rows)


def count_uncounted(batch_size: int = 1000) -> int:
    """Count every paper not counted yet (papers stored before word counts existed)."""
    from .models import Paper

    total = 0
    while ids := list(Paper.objects.filter(words_counted=False).values_list("pk", flat=True)[:batch_size]):
        total += count_words(ids)
    return total


def word_weights(words: Iterable[str]) -> dict[str, float]:
    """{word: topical weight over every counted paper} for the given words (a word no paper holds
    gets the highest)."""
    from .models import CorpusWord, Paper

    words = sorted({word for word in words if len(word) <= MAX_WORD})
    papers = Paper.objects.filter(words_counted=True).count()
    if not papers:  # nothing counted yet: no word is known to be topical
        return dict.fromkeys(words, 0.0)
    found: dict[str, int] = {}
    for start in range(0, len(words), 5000):
        found.update(CorpusWord.objects.filter(word__in=words[start : start + 5000]).values_list("word", "papers"))
    return {word: topical_weight(found.get(word, 0), papers) for word in words}
