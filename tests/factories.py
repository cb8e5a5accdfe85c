"""Builders for what the tests need in the database: papers, subscribers, digests, and feeds.

One small, explicit builder per kind of object; every argument a test cares about is a
keyword it passes, everything else is a plain default. Two ways to give papers vectors:

- `embedded_papers()`: papers from far-apart fields (FIELDS) embedded with the real model,
  for stories about what the ranking picks;
- `make_papers()` + `make_subscribers()`: papers listed today with a stored stand-in vector
  and subscribers whose interest has the same vector, for stories about delivery (no model
  is loaded; every such subscriber matches every such paper).
"""

import itertools
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from html import escape

import numpy as np
from django.utils import timezone

from digest.models import Digest, DigestItem
from papers import embeddings
from papers.models import Appearance, Paper, PaperEmbedding, Source, paper_key
from subscriptions.models import Interest, Subscriber

VECTOR_DIM = 384

FIELDS = {
    "proteins": [
        (
            "Accurate protein structure prediction from amino acid sequences",
            "We predict the three-dimensional structure of proteins from their amino acid sequence. "
            "Our network reaches atomic accuracy on held-out protein families. Folding is modelled end to end.",
        ),
        (
            "Protein folding dynamics learned from molecular simulations",
            "Molecular dynamics simulations of protein folding are expensive. We learn a coarse model of "
            "folding pathways that reproduces the simulated free energy landscape of small proteins.",
        ),
    ],
    "compilers": [
        (
            "Learning loop optimisation passes for an optimising compiler",
            "Compilers apply loop unrolling, tiling and vectorisation in a fixed order. We learn which "
            "optimisation passes to apply to each loop nest and speed up generated code by 12 percent.",
        ),
        (
            "Register allocation by graph colouring in a just-in-time compiler",
            "A just-in-time compiler must allocate registers quickly. We present a fast graph colouring "
            "register allocator for the code generator of a JIT compiler.",
        ),
    ],
    "astronomy": [
        (
            "Detecting exoplanet transits in noisy telescope light curves",
            "Exoplanets passing in front of their star dim its light. We detect such transits in the "
            "light curves of a space telescope with a convolutional classifier.",
        ),
    ],
}

STAND_IN_INTEREST = "contrastive sentence embeddings"

_paper_numbers = itertools.count(1)


def titles_of(field: str) -> list[str]:
    return [title for title, _ in FIELDS[field]]


def unit_vector(seed: int) -> np.ndarray:
    """A random unit vector, the same for the same seed."""
    vector = np.random.default_rng(seed).standard_normal(VECTOR_DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


# --- Papers -------------------------------------------------------------------------------------


def make_paper(
    title: str = "Contrastive sentence embeddings",
    abstract: str = "We study contrastive objectives for sentence embeddings. They work.",
    *,
    seen_at: datetime | None = None,
    authors: Sequence[str] = ("Ada Lovelace", "Alan Turing"),
    arxiv_id: str | None = None,
    **fields,
) -> Paper:
    """An arXiv paper first seen two hours ago (or at `seen_at`), without vectors."""
    arxiv_id = arxiv_id or f"2501.{next(_paper_numbers):05d}"
    return Paper.objects.create(
        key=paper_key(arxiv_id=arxiv_id),
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=list(authors),
        abs_url=f"https://arxiv.org/abs/{arxiv_id}",
        pdf_url=f"https://arxiv.org/pdf/{arxiv_id}",
        first_seen_at=seen_at or timezone.now() - timedelta(hours=2),
        **fields,
    )


def embedded_papers(fields: dict = FIELDS, *, seen_at: datetime | None = None) -> dict[str, Paper]:
    """{title: Paper} for every paper of `fields`, embedded with the real model."""
    papers = {
        title: make_paper(title, abstract, seen_at=seen_at) for group in fields.values() for title, abstract in group
    }
    embeddings.embed_papers(papers.values())
    return papers


def make_papers(count: int = 3, *, seed: int = 1) -> list[Paper]:
    """Papers listed today on a source, each with a stored stand-in vector (what ingest + embed
    leave behind), matching the interests of `make_subscribers(seed=seed)`."""
    source, _ = Source.objects.get_or_create(name="test source", defaults={"location": "tests"})
    vector = embeddings.to_bytes(unit_vector(seed))
    papers = [make_paper(f"Contrastive sentence embeddings, part {number}") for number in range(1, count + 1)]
    Appearance.objects.bulk_create(
        [Appearance(paper=paper, source=source, listed_on=timezone.now().date()) for paper in papers]
    )
    PaperEmbedding.objects.bulk_create(
        [
            PaperEmbedding(paper=paper, model_name=embeddings.model_name(), text_hash="x", vector=vector)
            for paper in papers
        ]
    )
    return papers


# --- Subscribers --------------------------------------------------------------------------------


def make_subscriber(
    email: str = "ada@example.org",
    *,
    interests: Iterable[str] = ("graph neural networks",),
    status: str = Subscriber.Status.ACTIVE,
    **fields,
) -> Subscriber:
    """One subscriber with a text interest per entry of `interests` (saved one by one, as the
    manage form does; their vectors are computed when they are first ranked)."""
    subscriber = Subscriber.objects.create(email=email, status=status, **fields)
    for text in interests:
        Interest.objects.create(subscriber=subscriber, text=text)
    return subscriber


def make_subscribers(count: int, *, prefix: str = "reader", seed: int = 1, **fields) -> list[Subscriber]:
    """Active, confirmed subscribers (`{prefix}{n}@example.org`, send hour 0), made in bulk, each
    with one interest whose stored vector matches `make_papers(seed=seed)`."""
    fields = {"status": Subscriber.Status.ACTIVE, "confirmed_at": timezone.now(), "send_hour": 0, **fields}
    subscribers = Subscriber.objects.bulk_create(
        [Subscriber(email=f"{prefix}{number}@example.org", **fields) for number in range(count)]
    )
    vector = embeddings.to_bytes(unit_vector(seed))
    embeddings.word_vectors(STAND_IN_INTEREST.split(), embed_missing=True)  # as a saved interest does
    Interest.objects.bulk_create(
        [
            Interest(
                subscriber=subscriber,
                text=STAND_IN_INTEREST,
                embedding=vector,
                embedding_model=embeddings.model_name(),
                embedding_hash=embeddings.text_hash(STAND_IN_INTEREST),
            )
            for subscriber in subscribers
        ]
    )
    return subscribers


# --- Digests ------------------------------------------------------------------------------------


def make_digest(
    subscriber: Subscriber,
    papers: Iterable[Paper] = (),
    *,
    issue_date: date | str | None = None,
    score: float = 0.8,
    matched: str = STAND_IN_INTEREST,
    **fields,
) -> Digest:
    """A digest for today (or `issue_date`), `planned` unless `status` says otherwise, listing
    `papers` in order."""
    digest = Digest.objects.create(subscriber=subscriber, issue_date=issue_date or timezone.now().date(), **fields)
    DigestItem.objects.bulk_create(
        [
            DigestItem(digest=digest, paper=paper, rank=rank, score=score, matched=matched)
            for rank, paper in enumerate(papers, 1)
        ]
    )
    return digest


# --- Feeds --------------------------------------------------------------------------------------


def arxiv_rss(items: Iterable[tuple[str, int, str, str, str]], day: str = "Thu, 28 Nov 2024 00:00:00 -0500") -> bytes:
    """A new-format arXiv RSS 2.0 feed (rss.arxiv.org) with items (arxiv_id, version, type, title, abstract)."""
    body = "".join(
        f"""
    <item>
      <title>{escape(title)}</title>
      <link>https://arxiv.org/abs/{arxiv_id}</link>
      <description>arXiv:{arxiv_id}v{version} Announce Type: {kind}{" "}
Abstract: {escape(abstract)}</description>
      <guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v{version}</guid>
      <category>cs.LG</category>
      <pubDate>{day}</pubDate>
      <arxiv:announce_type>{kind}</arxiv:announce_type>
      <dc:rights>http://arxiv.org/licenses/nonexclusive-distrib/1.0/</dc:rights>
      <dc:creator>Ada Lovelace, Alan Turing</dc:creator>
    </item>"""
        for arxiv_id, version, kind, title, abstract in items
    )
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>cs.LG updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/cs.LG</link>
    <description>cs.LG updates on the arXiv.org e-print archive.</description>
    <atom:link href="http://rss.arxiv.org/rss/cs.LG" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>{day}</lastBuildDate>
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <pubDate>{day}</pubDate>
    <skipDays><day>Saturday</day><day>Sunday</day></skipDays>{body}
  </channel>
</rss>
""".encode()
