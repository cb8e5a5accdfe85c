"""Seeded papers are looked up by a real `celery worker` on the ingest queue (PostgreSQL, Redis as
broker), against the local arXiv / Semantic Scholar stub, and embedded there with the real model."""

import pytest

from papers.models import PaperEmbedding
from papers.parsers import references
from subscriptions import seeds
from subscriptions.models import Interest, SeedPaper
from tests.factories import make_subscriber
from tests.services import client_app, running_workers, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_worker_on_the_ingest_queue_adds_a_readers_papers_and_embeds_them(broker, lookup_stub):
    lookup_stub.add(
        "SimCSE: Simple Contrastive Learning of Sentence Embeddings",
        "We present SimCSE, a contrastive learning framework for sentence embeddings.",
        arxiv_id="2104.08821",
    )
    lookup_stub.add("Graph attention networks", "We present graph attention networks.", doi="10.1145/3292500.3330919")
    reader = make_subscriber()
    seeds.add(reader, references.from_text("https://arxiv.org/abs/2104.08821\n10.1145/3292500.3330919\n2401.99999"))

    stub = {"LOOKUP_ARXIV_URL": lookup_stub.arxiv_url, "LOOKUP_S2_URL": lookup_stub.s2_url}
    with running_workers(
        broker,
        "",
        LOOKUP_ARXIV_INTERVAL=0,
        LOOKUP_S2_INTERVAL=0,
        LOOKUP_TIMEOUT=5,
        FETCH_ALLOWED_HOSTS="127.0.0.1",
        **stub,
    ) as workers:
        workers.start("ingest")
        client_app(broker).send_task("subscriptions.tasks.resolve_seed_papers_task", args=[reader.pk], queue="ingest")
        wait_for(lambda: not SeedPaper.objects.filter(status="looking_up").exists(), 120, "the lookups")
        wait_for(lambda: PaperEmbedding.objects.count() == 2, 240, "the seeded papers' embeddings")

    assert {(seed.given_as, seed.status, seed.reason) for seed in reader.seed_papers.all()} == {
        ("arXiv:2104.08821", "added", ""),
        ("doi:10.1145/3292500.3330919", "added", ""),
        ("arXiv:2401.99999", "failed", "arXiv has no paper 2401.99999"),
    }
    assert sorted(reader.interests.filter(kind=Interest.Kind.LIKED).values_list("paper__title", flat=True)) == [
        "Graph attention networks",
        "SimCSE: Simple Contrastive Learning of Sentence Embeddings",
    ]
