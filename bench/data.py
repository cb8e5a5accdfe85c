"""Synthetic but realistic bench data, built from the bundled sample pages and feeds.

Papers are the real ones, ingested through the real parsers; when more are asked for than
the samples hold, variants are added: the same paper with its abstract's sentences
rotated and a suffix on its title, so every text, key and vector differs. Subscribers get
1-5 interests each, phrases cut from real titles; a share also like or dislike papers,
avoid a topic or exclude a keyword. Interest phrases are embedded once each and the rows
are bulk-created with the vectors (and their words' vectors) set directly, as
Interest.refresh_embedding would set them: saving 300,000 interests one by one would embed 300,000 times.
"""

import random
import re
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from papers import embeddings
from papers.ingest import ingest
from papers.models import Appearance, Paper, Source, paper_key, title_digest
from subscriptions.models import Interest, Subscriber

SAMPLES = Path(settings.BASE_DIR) / "papers" / "fixtures"
SAMPLE_SUFFIXES = {".txt", ".html", ".xml", ".json"}
TITLE_SUFFIXES = [
    "revisited",
    "at scale",
    "a closer look",
    "with fewer labels",
    "in the wild",
    "under distribution shift",
    "for low-resource settings",
    "made efficient",
    "beyond benchmarks",
    "a unified view",
]
STOPWORDS = set(
    "a an and are as at be by for from how in into is it its of on or the to via vs what when where which with "
    "without we our your can do does using towards toward through than that this these all".split()
)
# Words that make a cut phrase read like a sentence fragment rather than a topic.
GLUE_BREAKERS = set("a an the is are be can do does how what when where which we our your than that this these".split())
WORD = re.compile(r"[a-z][a-z0-9-]+")

# Shares of subscribers with each kind of extra interest (the rest have topics only).
LIKED_SHARE = 0.3
DISLIKED_SHARE = 0.2
AVOID_SHARE = 0.1
EXCLUDE_SHARE = 0.1
CREATE_BATCH = 2000


def ingest_samples():
    """Ingest every bundled page and feed through the real parsers; returns the runs."""
    paths = sorted(SAMPLES.glob("pages/*")) + sorted(SAMPLES.glob("feeds/*"))
    return [ingest(str(path)) for path in paths if path.suffix in SAMPLE_SUFFIXES]


def make_papers(count, rng, progress=None):
    """Exactly `count` papers, all first listed within the last day: (ids, titles of the real ones)."""
    real = list(Paper.objects.order_by("id"))
    if not real:
        raise RuntimeError(f"No papers could be ingested from {SAMPLES}: the bench needs the bundled samples.")
    if len(real) > count:
        Paper.objects.filter(id__in=[paper.id for paper in real[count:]]).delete()
        real = real[:count]
    source, _ = Source.objects.get_or_create(name="bench variants", defaults={"location": "synthetic"})
    listed_on = timezone.localdate()
    missing = count - len(real)
    for start in range(0, missing, CREATE_BATCH):
        batch = [
            variant(real[i % len(real)], i // len(real) + 1) for i in range(start, min(missing, start + CREATE_BATCH))
        ]
        with transaction.atomic():
            Paper.objects.bulk_create(batch)
            Appearance.objects.bulk_create(
                [
                    Appearance(paper=paper, source=source, listed_on=listed_on, rank=n + 1)
                    for n, paper in enumerate(batch)
                ]
            )
        if progress:
            progress(len(batch))
    # Every paper is new for today's digests, whatever date its sample was published.
    Paper.objects.update(first_seen_at=timezone.now() - timedelta(hours=rng.randint(1, 20)))
    return list(Paper.objects.order_by("id").values_list("id", flat=True)), [paper.title for paper in real]


def variant(paper, number):
    """The paper again with a different title and its abstract's sentences rotated."""
    suffix = TITLE_SUFFIXES[(number - 1) % len(TITLE_SUFFIXES)]
    rounds = (number - 1) // len(TITLE_SUFFIXES)
    title = f"{paper.title}: {suffix}" + (f" ({rounds + 1})" if rounds else "")
    sentences = re.split(r"(?<=[.!?])\s+", paper.abstract.strip()) if paper.abstract else []
    shift = number % len(sentences) if sentences else 0
    abstract = " ".join(sentences[shift:] + sentences[:shift])
    return Paper(
        key=f"{paper_key(title=title)}-{paper.id}",
        title=title,
        title_key=title_digest(title),
        abstract=abstract,
        authors=paper.authors,
        abs_url=paper.abs_url,
        pdf_url=paper.pdf_url,
        published=paper.published,
        categories=paper.categories,
    )


def interest_phrases(titles, limit=3000):
    """Two- to four-word phrases cut from real titles, as a reader would type them."""
    phrases = []
    seen = set()
    for title in titles:
        words = WORD.findall(title.lower())
        for size in (2, 3, 4):
            for start in range(len(words) - size + 1):
                chunk = words[start : start + size]
                if chunk[0] in STOPWORDS or chunk[-1] in STOPWORDS or any(w in GLUE_BREAKERS for w in chunk):
                    continue
                phrase = " ".join(chunk)
                if phrase not in seen:
                    seen.add(phrase)
                    phrases.append(phrase)
    random.Random(7).shuffle(phrases)
    return phrases[:limit]


def keywords(titles):
    """Single distinctive title words, for excluded-keyword interests."""
    words = {word for title in titles for word in WORD.findall(title.lower()) if len(word) > 6}
    return sorted(words)


def make_subscribers(count, titles, paper_ids, rng, progress=None):
    """`count` active daily subscribers with their interests, drawn from `titles`; returns their ids."""
    phrases = interest_phrases(titles)
    vectors = embeddings.encode(phrases)
    embeddings.word_vectors(embeddings.WORD.findall(" ".join(phrases).lower()), embed_missing=True)
    phrase_vectors = [
        (phrase, embeddings.to_bytes(vector), embeddings.text_hash(phrase)) for phrase, vector in zip(phrases, vectors)
    ]
    excluded_words = keywords(titles)
    model = embeddings.model_name()
    now = timezone.now()
    ids = []
    for start in range(0, count, CREATE_BATCH):
        size = min(CREATE_BATCH, count - start)
        subscribers = [
            Subscriber(
                email=f"bench-{start + n:07d}@example.org",
                status=Subscriber.Status.ACTIVE,
                confirmed_at=now - timedelta(days=30),
                created_at=now - timedelta(days=30),
                send_hour=0,  # due at any hour of the day: the production run plans them whenever it runs
                skip_empty=False,
            )
            for n in range(size)
        ]
        with transaction.atomic():
            Subscriber.objects.bulk_create(subscribers)
            interests = []
            for subscriber in subscribers:
                interests.extend(interests_for(subscriber, phrase_vectors, excluded_words, paper_ids, model, rng))
            Interest.objects.bulk_create(interests)
        ids.extend(subscriber.pk for subscriber in subscribers)
        if progress:
            progress(size)
    return ids


def interests_for(subscriber, phrase_vectors, excluded_words, paper_ids, model, rng):
    rows = []
    for phrase, blob, digest in rng.sample(phrase_vectors, rng.randint(1, 5)):
        rows.append(text_interest(subscriber, Interest.Kind.TOPIC, phrase, blob, digest, model))
    if rng.random() < AVOID_SHARE:
        phrase, blob, digest = rng.choice(phrase_vectors)
        rows.append(text_interest(subscriber, Interest.Kind.AVOID, phrase, blob, digest, model))
    feedback = rng.sample(paper_ids, min(len(paper_ids), 4))
    if rng.random() < LIKED_SHARE:
        rows.extend(
            Interest(subscriber=subscriber, kind=Interest.Kind.LIKED, paper_id=paper_id)
            for paper_id in feedback[: rng.randint(1, 2)]
        )
    if rng.random() < DISLIKED_SHARE:
        rows.extend(
            Interest(subscriber=subscriber, kind=Interest.Kind.DISLIKED, paper_id=paper_id)
            for paper_id in feedback[2 : 2 + rng.randint(1, 2)]
        )
    if rng.random() < EXCLUDE_SHARE and excluded_words:
        rows.append(Interest(subscriber=subscriber, kind=Interest.Kind.EXCLUDE, text=rng.choice(excluded_words)))
    return rows


def text_interest(subscriber, kind, phrase, blob, digest, model):
    """An interest with its precomputed vector, as Interest.refresh_embedding would store it."""
    return Interest(
        subscriber=subscriber, kind=kind, text=phrase, embedding=blob, embedding_model=model, embedding_hash=digest
    )
