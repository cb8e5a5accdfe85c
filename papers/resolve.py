"""Give a listed paper that came without any identifier or link (a daily page whose cards link
to "#") its arXiv id, DOI and links, found by its title.

Runs in the ingest worker after an ingest, never in a web request: each title is one
Semantic Scholar "match" request, then an arXiv title search where that found nothing
(papers.lookup: timeouts, a turn per service, answers cached). Only a match with the same
title counts. The ids are taken only when no other stored paper has them already (that one
is the same paper, listed elsewhere with ids; the two are not merged here), and the links
are taken in any case. A paper that is still
without a link is shown with a title search link (papers.links.search_url).
"""

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from .links import http_url
from .lookup import Client, LookupProblem
from .models import Paper, paper_key
from .parsers.records import Record

logger = logging.getLogger(__name__)
MAX_URL = 1000  # Paper.abs_url / pdf_url
MAX_DOI = 200  # Paper.doi


def unlinked(paper_ids: Iterable[int]):
    """The papers among these that a reader could not open: no id, no DOI and no link."""
    return Paper.objects.filter(pk__in=list(paper_ids), arxiv_id="", doi="", abs_url="", pdf_url="").order_by("pk")


def _found(client: Client, title: str) -> Record | None:
    """Semantic Scholar's paper with this title, else arXiv's; a service that is down is skipped
    (the Client fails fast after its first failure, so a batch does not wait out each timeout)."""
    for ask in (client.by_title, client.by_arxiv_title):
        try:
            record = ask(title)
        except LookupProblem as problem:
            logger.info("title lookup of %r: %s", title[:80], problem)
            continue
        if record is not None:
            return record
    return None


def resolve_links(paper_ids: Iterable[int]) -> int:
    """Look the unlinked papers among `paper_ids` up by title; returns how many got a link."""
    client = Client()
    resolved = 0
    for paper in unlinked(paper_ids):
        record = _found(client, paper.title)
        if record is None:
            continue
        arxiv_id, doi = record.arxiv_id, record.doi
        if Paper.objects.filter(key=paper_key(arxiv_id, doi, paper.title)).exclude(pk=paper.pk).exists():
            arxiv_id = doi = ""  # that paper is stored already under its ids; this one keeps its title key
        abs_url = http_url(record.abs_url) or (f"https://doi.org/{doi}" if doi else "")
        pdf_url = http_url(record.pdf_url)
        if not (abs_url or pdf_url) or max(len(abs_url), len(pdf_url)) > MAX_URL or len(doi) > MAX_DOI:
            continue
        fields = {"abs_url": abs_url, "pdf_url": pdf_url}
        still_unlinked = Paper.objects.filter(pk=paper.pk, arxiv_id="", doi="")
        try:
            with transaction.atomic():
                key = paper_key(arxiv_id, doi, paper.title)
                resolved += still_unlinked.update(arxiv_id=arxiv_id, doi=doi, key=key, **fields)
        except IntegrityError:  # an ingest stored it under these ids in the meantime
            resolved += still_unlinked.update(**fields)
    return resolved
