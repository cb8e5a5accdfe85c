"""An operator runs `manage.py embed` and every paper gets one current vector, never two."""

from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from papers import embeddings
from papers.ingest import ingest
from papers.models import Paper, PaperEmbedding, WordVector

pytestmark = pytest.mark.django_db


def embed():
    out = StringIO()
    call_command("embed", stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_embed_gives_every_pending_paper_a_normalised_vector_and_reports_the_rate(fixture_path, fake_model):
    ingest(fixture_path("feeds", "hf-daily-papers-api-2024-10-25.json"))

    output = embed()

    assert output.startswith("Embedded 29 papers in ") and "papers/s" in output and "in the model" in output
    assert PaperEmbedding.objects.count() == 29
    vector = PaperEmbedding.objects.first().array
    assert vector.dtype == np.float32 and abs(np.linalg.norm(vector) - 1) < 1e-5


def test_papers_embedded_before_title_vectors_get_one_with_only_their_title_read(fixture_path, fake_model):
    ingest(fixture_path("feeds", "hf-daily-papers-api-2024-10-25.json"))
    embed()
    before = dict(PaperEmbedding.objects.values_list("paper_id", "vector"))
    PaperEmbedding.objects.update(title_vector=None)  # as the rows were before the migration
    fake_model.texts.clear()

    assert embed().startswith("Embedded 29 papers in ")
    assert sorted(fake_model.texts) == sorted(Paper.objects.values_list("title", flat=True))
    assert not PaperEmbedding.objects.filter(title_vector=None).exists()
    assert dict(PaperEmbedding.objects.values_list("paper_id", "vector")) == before


def test_embedding_papers_keeps_one_vector_per_new_word_for_the_word_match(fixture_path, fake_model):
    ingest(fixture_path("feeds", "hf-daily-papers-api-2024-10-25.json"))
    embed()

    words = list(WordVector.objects.values_list("word", flat=True))
    assert {"contrastive", "memory", "barrier"} <= set(words) and len(words) == len(set(words))
    assert not [w for w in words if not w.isalpha() or len(w) < 3]  # "x", "2024" match only themselves


def test_ranking_reads_stored_word_vectors_and_embeds_only_an_interests_new_words(fake_model):
    assert embeddings.word_vectors(["troubadour"]) == {}
    assert not WordVector.objects.exists() and not fake_model.texts

    found = embeddings.word_vectors(["troubadour", "of"], embed_missing=True)

    assert list(found) == ["troubadour"] and fake_model.texts == ["troubadour"]
    assert list(embeddings.word_vectors(["troubadour"])) == ["troubadour"]


def test_embedding_again_embeds_nothing(fixture_path, fake_model):
    ingest(fixture_path("feeds", "hf-daily-papers-api-2024-10-25.json"))
    embed()
    asked = len(fake_model.texts)

    assert embed() == "Nothing to embed: every paper has a current vector."
    assert len(fake_model.texts) == asked


def test_a_paper_whose_text_changed_is_embedded_again_and_only_it(fixture_path, fake_model):
    ingest(fixture_path("feeds", "hf-daily-papers-api-2024-10-25.json"))
    embed()
    paper = Paper.objects.get(arxiv_id="2410.17243")
    paper.abstract = "A revised abstract."
    paper.save()
    fake_model.texts.clear()

    assert embed().startswith("Embedded 1 paper in ")
    assert fake_model.texts == [paper.embedding_text, paper.title, "abstract", "revised"]  # and its new words
    assert PaperEmbedding.objects.count() == 29
