"""Which words name a topic: every embedded paper's words are counted once over the whole corpus."""

import pytest

from papers import corpus, embeddings
from papers.models import CorpusWord, Paper
from tests.factories import embedded_papers

pytestmark = pytest.mark.django_db


def test_embedding_counts_each_papers_words_once_and_common_words_weigh_nothing():
    papers = embedded_papers()
    compiler_papers = sum("compiler" in corpus.distinct_words(p.embedding_text) for p in papers.values())

    assert CorpusWord.objects.get(word="compiler").papers == compiler_papers == 2
    embeddings.embed_papers(papers.values())  # embedding again counts nothing twice
    assert CorpusWord.objects.get(word="compiler").papers == 2

    weights = corpus.word_weights(["the", "of", "compiler", "exoplanet"])
    assert weights["the"] == weights["of"] == 0
    assert weights["exoplanet"] > weights["compiler"] > 0


def test_papers_stored_before_word_counts_are_counted_by_the_next_embed_run():
    embedded_papers()
    Paper.objects.update(words_counted=False)  # an install upgraded from before word counts
    CorpusWord.objects.all().delete()

    embeddings.embed_pending()  # nothing to embed, every paper to count

    assert not Paper.objects.filter(words_counted=False).exists()
    assert CorpusWord.objects.get(word="compiler").papers == 2


def test_no_word_is_topical_before_any_paper_is_counted():
    assert corpus.word_weights(["protein", "the"]) == {"protein": 0.0, "the": 0.0}
