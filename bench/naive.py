"""The straightforward way, as a first version would do it: the yardstick for the speed-ups.

Per subscriber: load their interests and the candidate papers through the ORM, score every
paper in plain Python loops, and for rendering: load the digest's items one query at a time
and build the email. Same formulas, same templates and same results as the real path
(digest.ranking, digest.render), only without batching and, for the vectors, without
numpy, so the ratios measure what batching and matrices buy. (The word match is the
real WordMatcher, built per subscriber: in plain Python it would take seconds each.)
"""

from digest.models import Digest, DigestItem
from digest.planning import FIRST_LOOKBACK
from digest.ranking import Weights
from digest.render import digest_message
from digest.word_match import TextIndex, keyword_pattern
from papers import embeddings
from papers.models import Paper, PaperEmbedding
from subscriptions.models import Interest, Subscriber


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def paper_vector(paper_id):
    row = PaperEmbedding.objects.get(paper_id=paper_id, model_name=embeddings.model_name())
    return embeddings.from_bytes(row.vector).tolist()


def rank(subscriber_id, now, weights=None):
    """[(score, paper_id, matched label)] best first, for one subscriber's first digest."""
    weights = weights or Weights.from_settings()
    subscriber = Subscriber.objects.get(pk=subscriber_id)
    window_start = now - FIRST_LOOKBACK[subscriber.frequency]
    already_sent = DigestItem.objects.filter(digest__subscriber=subscriber).values_list("paper_id", flat=True)
    positives, negatives, excluded = [], [], []
    for interest in Interest.objects.filter(subscriber=subscriber).select_related("paper"):
        if interest.kind == Interest.Kind.EXCLUDE:
            excluded.append(keyword_pattern(interest.text))
            continue
        if interest.paper_id:
            vector = paper_vector(interest.paper_id)
            text = None
        elif interest.embedding:
            vector = embeddings.from_bytes(interest.embedding).tolist()
            text = interest.text
        else:
            continue
        if interest.kind in Interest.POSITIVE:
            positives.append((interest.label, vector, text))
        else:
            negatives.append(vector)
    minimum = weights.min_score if subscriber.min_relevance is None else subscriber.min_relevance
    scale = weights.dislike_penalty / max(1e-6, 1.0 - weights.dislike_margin)
    vectors = {
        row.paper_id: (
            embeddings.from_bytes(row.vector).tolist(),
            embeddings.from_bytes(row.title_vector if row.title_vector is not None else row.vector).tolist(),
        )
        for row in PaperEmbedding.objects.filter(model_name=embeddings.model_name())
    }

    def similarity(interest_vector, paper_vectors):
        full, title = paper_vectors
        return (
            max(dot(interest_vector, full), dot(interest_vector, title))
            if weights.title_match
            else dot(interest_vector, full)
        )

    papers = [
        paper
        for paper in Paper.objects.filter(first_seen_at__gt=window_start, first_seen_at__lte=now).exclude(
            id__in=list(already_sent)
        )
        if paper.id in vectors
    ]
    texts = [f"{paper.title} {paper.abstract}" for paper in papers]
    queries = [text for _, _, text in positives if text]
    words = {}
    if queries and weights.word_match_weight:  # the same word match as the real path, one subscriber at a time
        matcher = TextIndex(texts, word_vectors=embeddings.word_vectors).word_matcher(weights.related_words)
        words = dict(zip(queries, matcher.scores(queries).tolist()))
    scored = []
    for position, (paper, text) in enumerate(zip(papers, texts)):
        vector = vectors[paper.id]
        if any(pattern.search(text.lower()) for pattern in excluded):
            continue
        best, label = max(
            (
                (similarity(p, vector) + (weights.word_match_weight * words[t][position] if t in words else 0.0), name)
                for name, p, t in positives
            ),
            default=(None, ""),
        )
        if best is None:
            continue
        penalty = 0.0
        if negatives:
            closest = max(similarity(n, vector) for n in negatives)
            penalty = max(0.0, closest - weights.dislike_margin) * scale
        relevance = best - penalty
        if relevance >= minimum:
            scored.append((relevance, paper.id, label))
    scored.sort(key=lambda item: -item[0])
    return scored[: subscriber.papers_per_digest]


def render(digest_id):
    """The digest email's MIME bytes, loading the digest, its subscriber and then each item's paper
    one by one (the items come without their papers, so rendering each one queries for it)."""
    digest = Digest.objects.get(pk=digest_id)
    items = list(DigestItem.objects.filter(digest_id=digest.pk).order_by("rank"))
    return digest_message(digest, items=items).message().as_bytes(linesep="\r\n")
