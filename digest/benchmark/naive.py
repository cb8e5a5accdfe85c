"""The straightforward way, as a first version would do it: the yardstick for the speed-ups.

Per subscriber: load their interests and the candidate papers through the ORM, score every
paper in plain Python loops, and for rendering: load the digest's items one query at a time
and build the email. Same formulas, same templates and same results as the real path
(digest.ranking, digest.render), only without batching and without numpy, so the ratios
measure exactly what batching and matrices buy.
"""

from django.conf import settings

from digest.ranking import Weights, keyword_pattern
from papers import embeddings
from papers.models import Paper, PaperEmbedding
from subscriptions.models import Interest, Subscriber


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def paper_vector(paper_id):
    row = PaperEmbedding.objects.get(paper_id=paper_id, model_name=embeddings.model_name())
    return embeddings.from_bytes(row.vector).tolist()


def rank(subscriber_id, candidate_filter, k=None, weights=None):
    """[(score, paper_id, matched label)] best first, for one subscriber."""
    weights = weights or Weights.from_settings()
    subscriber = Subscriber.objects.get(pk=subscriber_id)
    positives, negatives, excluded = [], [], []
    for interest in Interest.objects.filter(subscriber=subscriber).select_related("paper"):
        if interest.kind == Interest.Kind.EXCLUDE:
            excluded.append(keyword_pattern(interest.text))
            continue
        if interest.paper_id:
            vector = paper_vector(interest.paper_id)
        elif interest.embedding:
            vector = embeddings.from_bytes(interest.embedding).tolist()
        else:
            continue
        if interest.kind in Interest.POSITIVE:
            positives.append((interest.label, vector))
        else:
            negatives.append(vector)
    minimum = weights.min_score if subscriber.min_relevance is None else subscriber.min_relevance
    scale = weights.dislike_penalty / max(1e-6, 1.0 - weights.dislike_margin)
    vectors = {
        row.paper_id: embeddings.from_bytes(row.vector).tolist()
        for row in PaperEmbedding.objects.filter(model_name=embeddings.model_name())
    }
    scored = []
    for paper in Paper.objects.filter(candidate_filter(subscriber)):
        vector = vectors.get(paper.id)
        if vector is None:
            continue
        text = paper.embedding_text.lower()
        if any(pattern.search(text) for pattern in excluded):
            continue
        best, label = max(((dot(p, vector), name) for name, p in positives), default=(None, ""))
        if best is None:
            continue
        penalty = 0.0
        if negatives:
            closest = max(dot(n, vector) for n in negatives)
            penalty = max(0.0, closest - weights.dislike_margin) * scale
        relevance = best - penalty
        if relevance >= minimum:
            scored.append((relevance, paper.id, label))
    scored.sort(key=lambda item: -item[0])
    return scored[: k or subscriber.papers_per_digest or settings.DIGEST_DEFAULT_SIZE]
