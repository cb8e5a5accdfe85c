"""Profiles seeded from one's own papers: keep the entries a reader gives, then, in a worker,
turn each into a liked paper.

The web request only stores the entries (`add`, all of them or none) and queues the lookup
(subscriptions.tasks.queue_seed_lookup); it never waits for the network or the model.
`resolve` runs in a worker on the `ingest` queue: an entry that carried its title and abstract
is stored as it is; the others are looked up (papers.lookup: arXiv for arXiv ids, Semantic
Scholar for DOIs and titles). Each entry is finished in its own transaction, so the manage
page shows progress and a worker that dies loses only the entry it was on, which stays
"looking up" and is taken again by the next run. An entry that cannot be found fails with
the reason, unless it had a title of its own: then it is added under that title alone.
"""

import logging
from dataclasses import asdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from papers import embeddings, lookup
from papers.ingest import upsert_paper
from papers.models import Paper
from papers.parsers.records import Parsed, Record
from papers.parsers.references import Reference
from papers.parsers.screen import screen
from papers.parsers.text import arxiv_links
from subscriptions.models import Interest, SeedPaper, Subscriber

logger = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=15)  # a lookup run takes seconds to a few minutes (LOOKUP_* turns and timeouts)


def add(subscriber, references):
    """Keep the references the subscriber has not given before; returns how many were new."""
    with transaction.atomic():
        known = set(subscriber.seed_papers.values_list("key", flat=True))
        fresh = [reference for reference in references if reference.key not in known]
        SeedPaper.objects.bulk_create([_seed(subscriber, reference) for reference in fresh])
    return len(fresh)


def replace(subscriber, references):
    """Make the subscriber's seeds exactly these (a pending sign-up's latest choice)."""
    with transaction.atomic():
        keys = [reference.key for reference in references]
        subscriber.seed_papers.exclude(key__in=keys).delete()
        return add(subscriber, references)


def remove(seed):
    """Forget a seed and the liked paper it added."""
    with transaction.atomic():
        if seed.interest_id:
            Interest.objects.filter(pk=seed.interest_id).delete()  # takes the seed with it
        SeedPaper.objects.filter(pk=seed.pk).delete()


def can_retry(seed):
    """Failed, or waiting so long that the worker that had it must have gone."""
    if seed.status == SeedPaper.Status.FAILED:
        return True
    return seed.status == SeedPaper.Status.LOOKING_UP and seed.updated_at < timezone.now() - STUCK_AFTER


def retry(subscriber):
    """Put the failed entries back to "looking up"; returns how many entries are now waiting."""
    waiting = subscriber.seed_papers.filter(status__in=[SeedPaper.Status.FAILED, SeedPaper.Status.LOOKING_UP])
    waiting.filter(status=SeedPaper.Status.FAILED).update(status=SeedPaper.Status.LOOKING_UP, reason="")
    return waiting.count()


def as_dicts(references):
    """References as plain data, for a task's arguments."""
    return [asdict(reference) for reference in references]


def from_dicts(items):
    return [Reference(**item) for item in items]


def resolve(subscriber_id):
    """Look up and add every entry of this subscriber still waiting; returns how many were added."""
    waiting = list(SeedPaper.objects.filter(subscriber_id=subscriber_id, status=SeedPaper.Status.LOOKING_UP))
    if not waiting:
        return 0
    client = lookup.Client()
    asked = [seed.arxiv_id for seed in waiting if seed.arxiv_id and not _complete(seed)]
    by_arxiv = client.by_arxiv_ids(asked) if asked else {}
    added = []
    for seed in waiting:
        try:
            outcome = _found(seed, client, by_arxiv)
            if isinstance(outcome, lookup.LookupProblem):
                if seed.title:  # the entry's own title is enough to go on
                    added += _add(seed, _record_of(seed), reason=f"added from its title alone: {outcome}")
                else:
                    _fail(seed, str(outcome))
            else:
                added += _add(seed, _with_entry_text(outcome, seed))
        except Exception:  # a bug, not a lookup problem: the entry says so instead of waiting forever
            logger.exception("adding seed paper %s of subscriber %s failed", seed.pk, subscriber_id)
            _fail(seed, "it could not be added because of an error on our side; remove it and try again later")
    if added:
        # Embedded here, on the ingest queue that has the model: the liked papers' vectors are
        # what ranking reads, so the preview is re-ranked only once they exist.
        embeddings.embed_papers(embeddings.pending_papers(Paper.objects.filter(pk__in=added)))
        Subscriber.objects.get(pk=subscriber_id).interests_changed()
    return len(added)


def _found(seed, client, by_arxiv):
    if _complete(seed):
        return _record_of(seed)
    if seed.arxiv_id:
        return by_arxiv.get(seed.arxiv_id) or lookup.NotFound(f"arXiv has no paper {seed.arxiv_id}")
    try:
        if seed.doi:
            return client.by_doi(seed.doi)
        return client.by_title(seed.title) or lookup.NotFound("no paper with this title was found")
    except lookup.LookupProblem as problem:
        return problem


def _complete(seed):
    return bool(seed.title and seed.abstract)


def _add(seed, record, reason=""):
    """Store the paper and like it; returns [its id], or [] when the seed was removed meanwhile.

    The record passes the same screen as every ingested one: a reader's own file is as
    untrusted as a feed (control and bidi characters, sizes, links)."""
    screened = screen(Parsed(records=[record]))
    if not screened.records:
        _fail(seed, screened.rejections[0].reason)
        return []
    with transaction.atomic():
        paper = upsert_paper(record)
        interest, _ = Interest.objects.get_or_create(
            subscriber_id=seed.subscriber_id, kind=Interest.Kind.LIKED, paper=paper
        )
        Interest.objects.filter(subscriber_id=seed.subscriber_id, kind=Interest.Kind.DISLIKED, paper=paper).delete()
        changed = SeedPaper.objects.filter(pk=seed.pk, status=SeedPaper.Status.LOOKING_UP).update(
            status=SeedPaper.Status.ADDED, paper=paper, interest=interest, title=paper.title, reason=reason[:500]
        )
        if not changed:  # removed while it was looked up: keep nothing of it
            transaction.set_rollback(True)
            return []
    return [paper.pk]


def _fail(seed, reason):
    SeedPaper.objects.filter(pk=seed.pk, status=SeedPaper.Status.LOOKING_UP).update(
        status=SeedPaper.Status.FAILED, reason=reason[:500]
    )


def _record_of(seed):
    """The paper as the entry itself describes it."""
    if seed.arxiv_id:
        abs_url, pdf_url = arxiv_links(seed.arxiv_id)
    else:
        abs_url, pdf_url = (f"https://doi.org/{seed.doi}" if seed.doi else ""), ""
    return Record(
        title=seed.title,
        abstract=seed.abstract,
        authors=list(seed.authors),
        arxiv_id=seed.arxiv_id,
        doi=seed.doi,
        abs_url=abs_url,
        pdf_url=pdf_url,
    )


def _with_entry_text(record, seed):
    """A looked-up record, with the entry's own abstract where the service had none."""
    if not record.abstract and seed.abstract:
        record.abstract = seed.abstract
    if not record.abs_url and seed.doi:
        record.abs_url = f"https://doi.org/{seed.doi}"
    return record


def _seed(subscriber, reference):
    return SeedPaper(
        subscriber=subscriber,
        key=reference.key,
        given_as=reference.given_as[:600],
        entry=reference.label[:300],
        arxiv_id=reference.arxiv_id,
        doi=reference.doi,
        title=reference.title,
        abstract=reference.abstract,
        authors=reference.authors,
    )
