"""Papers from several far-apart fields, embedded with the real model, and subscribers who want them."""

from datetime import timedelta

from django.utils import timezone

from papers.embeddings import embed_papers
from papers.models import Paper, paper_key
from subscriptions.models import Interest, Subscriber

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


def make_paper(title, abstract, seen_at=None, authors=("Ada Lovelace", "Alan Turing"), **fields):
    number = Paper.objects.count() + 1
    arxiv_id = fields.pop("arxiv_id", f"2501.{number:05d}")
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


def make_papers(seen_at=None, fields=FIELDS):
    """{title: Paper} for every paper of `fields`, embedded."""
    papers = {title: make_paper(title, abstract, seen_at) for group in fields.values() for title, abstract in group}
    embed_papers(papers.values())
    return papers


def titles_of(field):
    return [title for title, _ in FIELDS[field]]


def make_reader(email, *topics, frequency="daily", status=Subscriber.Status.ACTIVE, **fields):
    subscriber = Subscriber.objects.create(email=email, status=status, frequency=frequency, **fields)
    for text in topics:
        Interest.objects.create(subscriber=subscriber, text=text)
    return subscriber
