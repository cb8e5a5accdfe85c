"""Sentence embeddings: one model per process, batched, normalised, never computed twice.

Vectors are L2-normalised float32, so a dot product is the cosine similarity. Each paper
gets two per model, one of its title and abstract and one of its title alone (see
PaperEmbedding), stored with the model name and a hash of the text: a paper is embedded
again only when its text or the model changes.
"""

import hashlib
import logging
import re
import threading
import time

import numpy as np
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

_model = None
_model_lock = threading.Lock()

WORD = re.compile(r"\w+")
VECTOR_WORD = re.compile(r"[^\W\d_]{3,64}")  # words that get a vector of their own: letters only, 3 to 64 long


class ModelUnavailable(RuntimeError):
    pass


def model_name():
    return settings.EMBEDDING_MODEL_NAME


BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}


def cpu_has_bf16():
    """Whether this CPU multiplies bfloat16 natively; without it bf16 is emulated and slower than fp32."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = {flag for line in cpuinfo if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    except OSError:
        return False
    return bool(flags & BF16_CPU_FLAGS)


def dtype_name():
    """The weights' dtype for this process: EMBEDDING_DTYPE, with "auto" decided by the CPU (on CPU only)."""
    if settings.EMBEDDING_DTYPE != "auto":
        return settings.EMBEDDING_DTYPE
    return "bfloat16" if settings.EMBEDDING_DEVICE == "cpu" and cpu_has_bf16() else "float32"


def get_model():
    """Load the sentence-transformers model once per process (a few seconds, ~100 MB)."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                from sentence_transformers import SentenceTransformer

                try:
                    model = SentenceTransformer(settings.EMBEDDING_MODEL, device=settings.EMBEDDING_DEVICE)
                except Exception as exc:  # an OSError from the hub, a missing path, ...
                    raise ModelUnavailable(
                        f"Could not load the embedding model {settings.EMBEDDING_MODEL!r}: {exc}. "
                        "Set EMBEDDING_MODEL to a local sentence-transformers model directory; "
                        "no model is downloaded at run time (HF_HUB_OFFLINE=1)."
                    ) from exc
                if dtype_name() == "bfloat16":
                    import torch

                    model.to(torch.bfloat16)
                _model = model
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
    """Papers without current vectors for the configured model (missing, stale text, or no title vector yet)."""
    from .models import Paper, PaperEmbedding

    queryset = queryset if queryset is not None else Paper.objects.all()
    current = dict(
        PaperEmbedding.objects.filter(
            model_name=model_name(), paper__in=queryset, title_vector__isnull=False
        ).values_list("paper_id", "text_hash")
    )
    return [
        paper
        for paper in queryset.only("id", "title", "abstract").order_by("id")
        if current.get(paper.id) != text_hash(paper.embedding_text)
    ]


def embed_papers(papers, batch_size=None, progress=None):
    """Embed and store the given papers in batches; returns (count, seconds in the model).

    A paper whose title+abstract vector is still current (it only lacks a title vector,
    as every paper embedded before title vectors did) has only its title read.
    """
    from . import corpus
    from .models import PaperEmbedding

    papers = list(papers)
    name = model_name()
    batch_size = batch_size or settings.EMBEDDING_BATCH_SIZE
    model_seconds = 0.0
    for start in range(0, len(papers), batch_size):
        batch = papers[start : start + batch_size]
        existing = {
            row.paper_id: row for row in PaperEmbedding.objects.filter(model_name=name, paper__in=[p.id for p in batch])
        }
        rows = [existing.get(paper.id) or PaperEmbedding(paper_id=paper.id, model_name=name) for paper in batch]
        hashes = [text_hash(paper.embedding_text) for paper in batch]
        stale = [i for i, (row, digest) in enumerate(zip(rows, hashes)) if not row.vector or row.text_hash != digest]
        started = time.perf_counter()
        vectors = encode([batch[i].embedding_text for i in stale], batch_size=batch_size)
        title_vectors = encode([paper.title for paper in batch], batch_size=batch_size)
        model_seconds += time.perf_counter() - started
        for i, vector in zip(stale, vectors):
            rows[i].text_hash, rows[i].vector = hashes[i], to_bytes(vector)
        for row, title_vector in zip(rows, title_vectors):
            row.title_vector = to_bytes(title_vector)
        with transaction.atomic():
            PaperEmbedding.objects.bulk_create([row for row in rows if not row.pk])
            PaperEmbedding.objects.bulk_update([row for row in rows if row.pk], ["text_hash", "vector", "title_vector"])
        corpus.count_words(paper.id for paper in batch)
        started = time.perf_counter()
        word_vectors(set(WORD.findall(" ".join(paper.embedding_text for paper in batch).lower())), embed_missing=True)
        model_seconds += time.perf_counter() - started
        if progress:
            progress(len(batch))
    return len(papers), model_seconds


def word_vectors(words, embed_missing=False):
    """{word: vector} for those of the words that match VECTOR_WORD and are stored; with
    embed_missing, the others are embedded once and stored too.

    The embed stage stores every new paper's words and saving an interest stores its words,
    so ranking only reads: a planner never loads the model for them. An interest older than
    word vectors has its new words embedded the first time it is ranked.
    """
    from .models import WordVector

    name = model_name()
    words = sorted({w for w in words if VECTOR_WORD.fullmatch(w)})
    found = {}
    for start in range(0, len(words), 5000):
        chunk = words[start : start + 5000]
        found.update(
            (word, from_bytes(blob))
            for word, blob in WordVector.objects.filter(model_name=name, word__in=chunk).values_list("word", "vector")
        )
    missing = [w for w in words if w not in found] if embed_missing else []
    if missing:
        vectors = encode(missing, batch_size=256)
        WordVector.objects.bulk_create(
            [WordVector(model_name=name, word=w, vector=to_bytes(v)) for w, v in zip(missing, vectors)],
            batch_size=1000,
            ignore_conflicts=True,  # two workers may embed the same new word
        )
        found.update(zip(missing, vectors))
    return found


def embed_pending(progress=None):
    """Embed every paper without current vectors; papers stored before word counts existed are counted too."""
    from . import corpus

    result = embed_papers(pending_papers(), progress=progress)
    corpus.count_uncounted()
    return result


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
