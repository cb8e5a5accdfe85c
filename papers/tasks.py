"""Celery tasks for the ingest queue: fetch sources (daily, or now from the admin), look up and embed
what is new, and the admin's test fetches."""

import logging

from celery import shared_task
from django.utils import timezone

from papers.models import IngestRun, Source, SourcePreview
from papers.resolve import resolve_links
from papers.sources import ingest_scheduled, preview_source

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=3300, time_limit=3500)
def ingest_all_sources():
    """Daily: ingest every enabled source (see `ingest_each`). Returns {source name: the last run's status}."""
    return ingest_each(Source.objects.filter(enabled=True).order_by("pk"))


@shared_task(soft_time_limit=3300, time_limit=3500)
def ingest_sources_now(source_ids):
    """The admin's "Ingest now": the chosen sources, as the daily run would read them."""
    return ingest_each(Source.objects.filter(pk__in=source_ids).order_by("pk"))


def ingest_each(sources):
    """Ingest each source on its own, so a broken one never stops the others (a dated one for
    each day it is due), then queue the title lookups of papers that came without a link, and
    the embedding of whatever arrived."""
    statuses = {}
    changed: list[int] = []
    for source in sources:
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


@shared_task(soft_time_limit=300, time_limit=330)
def preview_source_task(preview_id):
    """Read a test fetch's location for the admin (papers.sources.preview_source); never leaves it pending."""
    preview = SourcePreview.objects.filter(pk=preview_id, status=SourcePreview.Status.PENDING).first()
    if preview is None:
        return None
    try:
        return preview_source(preview).status
    except Exception as error:  # a bug or an input no check foresaw: the page says so
        logger.exception("test fetch of %s crashed", preview.location)
        SourcePreview.objects.filter(pk=preview_id).update(
            status=SourcePreview.Status.FAILED,
            message=f"Stopped by an unexpected error: {type(error).__name__}",
            finished_at=timezone.now(),
        )
        return SourcePreview.Status.FAILED


@shared_task(soft_time_limit=3300, time_limit=3500)
def resolve_paper_links(paper_ids):
    """Papers listed without any id or link get theirs by title (papers.resolve)."""
    return resolve_links(paper_ids)


@shared_task(soft_time_limit=3300, time_limit=3500)
def embed_pending():
    from papers import embeddings  # loads the model in the ingest worker only

    count, _model_seconds = embeddings.embed_pending()
    return count
