"""Sentence embeddings: one model per process, batched, normalised, never computed twice.

Vectors are L2-normalised float32, so a dot product is the cosine similarity. Each stored
vector carries the model name and a hash of the text it read: a paper is embedded again
only when its text or the model changes.
"""

import hashlib
import logging
import threading
import time

import numpy as np
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

_model = None
_model_lock = threading.Lock()


class ModelUnavailable(RuntimeError):
    pass


def model_name():
    return settings.EMBEDDING_MODEL_NAME


def get_model():
    """Load the sentence-transformers model once per process (a few seconds, ~100 MB)."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                from sentence_transformers import SentenceTransformer

                try:
                    _model = SentenceTransformer(settings.EMBEDDING_MODEL, device=settings.EMBEDDING_DEVICE)
                except Exception as exc:  # an OSError from the hub, a missing path, ...
                    raise ModelUnavailable(
                        f"Could not load the embedding model {settings.EMBEDDING_MODEL!r}: {exc}. "
                        "Set EMBEDDING_MODEL to a local sentence-transformers model directory; "
                        "no model is downloaded at run time (HF_HUB_OFFLINE=1)."
                    ) from exc
    return _model


def text_hash(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def encode(texts, batch_size=None, progress=None):
    """Normalised float32 vectors, one row per text. `progress(n)` is called per batch."""
    texts = list(texts)
    dim = embedding_dim()
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    model = get_model()
    batch_size = batch_size or settings.EMBEDDING_BATCH_SIZE
    chunks = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        chunks.append(
            model.encode(batch, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True).astype(
                np.float32, copy=False
            )
        )
        if progress:
            progress(len(batch))
    return np.vstack(chunks)


def encode_one(text):
    return encode([text])[0]


def embedding_dim():
    model = get_model()
    return (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)()


def to_bytes(vector):
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(blob):
    return np.frombuffer(bytes(blob), dtype=np.float32)


def pending_papers(queryset=None):
    """Papers without a current vector for the configured model (missing or stale text)."""
    from .models import Paper, PaperEmbedding

    queryset = queryset if queryset is not None else Paper.objects.all()
    current = dict(
        PaperEmbedding.objects.filter(model_name=model_name(), paper__in=queryset).values_list("paper_id", "text_hash")
    )
    return [
        paper
        for paper in queryset.only("id", "title", "abstract").order_by("id")
        if current.get(paper.id) != text_hash(paper.embedding_text)
    ]


def embed_papers(papers, batch_size=None, progress=None):
    """Embed and store the given papers in batches; returns (count, seconds in the model)."""
    from .models import PaperEmbedding

    papers = list(papers)
    name = model_name()
    batch_size = batch_size or settings.EMBEDDING_BATCH_SIZE
    model_seconds = 0.0
    for start in range(0, len(papers), batch_size):
        batch = papers[start : start + batch_size]
        texts = [paper.embedding_text for paper in batch]
        started = time.perf_counter()
        vectors = encode(texts, batch_size=batch_size)
        model_seconds += time.perf_counter() - started
        with transaction.atomic():
            existing = {
                row.paper_id: row
                for row in PaperEmbedding.objects.filter(model_name=name, paper__in=[p.id for p in batch])
            }
            fresh, stale = [], []
            for paper, text, vector in zip(batch, texts, vectors):
                row = existing.get(paper.id) or PaperEmbedding(paper_id=paper.id, model_name=name)
                row.text_hash = text_hash(text)
                row.vector = to_bytes(vector)
                (stale if row.pk else fresh).append(row)
            PaperEmbedding.objects.bulk_create(fresh)
            PaperEmbedding.objects.bulk_update(stale, ["text_hash", "vector"])
        if progress:
            progress(len(batch))
    return len(papers), model_seconds


def embed_pending(progress=None):
    return embed_papers(pending_papers(), progress=progress)


def paper_matrix(paper_ids):
    """(ids, matrix) of stored vectors for the configured model, in a stable order.

    Papers without a vector are left out; the ids returned say which rows are which.
    """
    from .models import PaperEmbedding

    rows = PaperEmbedding.objects.filter(model_name=model_name(), paper_id__in=paper_ids).values_list(
        "paper_id", "vector"
    )
    ids, vectors = [], []
    for paper_id, blob in rows:
        ids.append(paper_id)
        vectors.append(from_bytes(blob))
    if not vectors:
        return np.zeros(0, dtype=np.int64), np.zeros((0, embedding_dim()), dtype=np.float32)
    order = np.argsort(ids)
    return np.asarray(ids, dtype=np.int64)[order], np.vstack(vectors)[order]
