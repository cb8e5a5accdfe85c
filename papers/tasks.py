"""Celery tasks for the ingest queue: fetch every enabled source, then embed what is new."""

import logging

from celery import shared_task
from django.utils import timezone

from papers.models import IngestRun, Source
from papers.resolve import resolve_links
from papers.sources import ingest_scheduled

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=3300, time_limit=3500)
def ingest_all_sources():
    """Daily: ingest each enabled source on its own, so a broken one never stops the others (a
    dated one for each day it is due), then queue the title lookups of papers that came without
    a link, and the embedding of whatever arrived.
    Returns {source name: the last run's status}."""
    statuses = {}
    changed: list[int] = []
    for source in Source.objects.filter(enabled=True).order_by("pk"):
        try:
            runs = ingest_scheduled(source)
            statuses[source.name] = runs[-1].status if runs else "nothing due"
            changed += [paper_id for run in runs for paper_id in run.changed_paper_ids]
        except Exception as error:  # a bug, not bad input (that is recorded by ingest itself)
            logger.exception("ingest of source %s crashed", source.name)
            IngestRun.objects.filter(source=source, status=IngestRun.Status.RUNNING).update(
                status=IngestRun.Status.FAILED, message=f"Crashed: {error!r}"[:2000], finished_at=timezone.now()
            )
            statuses[source.name] = IngestRun.Status.FAILED
    if changed:
        resolve_paper_links.delay(changed)
    embed_pending.delay()
    return statuses


@shared_task(soft_time_limit=3300, time_limit=3500)
def resolve_paper_links(paper_ids):
    """Papers listed without any id or link get theirs by title (papers.resolve)."""
    return resolve_links(paper_ids)


@shared_task(soft_time_limit=3300, time_limit=3500)
def embed_pending():
    from papers import embeddings  # loads the model in the ingest worker only

    count, _model_seconds = embeddings.embed_pending()
    return count
