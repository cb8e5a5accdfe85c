"""Celery tasks for the mail queue: thin, ids in, services called.

Every send is queued only after the transaction that planned it has committed, and carries
digest ids, never model objects, so a worker always reads the committed row.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.deferred import queue_after_commit
from digest import fanout, preview, sending
from digest.models import Digest

logger = logging.getLogger(__name__)


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def queue_sends(digest_ids):
    """Queue the sends, in batches sharing one connection, once the current transaction commits."""
    digest_ids = list(digest_ids)

    def enqueue():
        for batch in chunks(digest_ids, settings.SEND_BATCH_SIZE):
            send_digest_batch_task.delay(batch)

    if digest_ids:
        transaction.on_commit(enqueue)


@shared_task
def plan_and_send_due():
    """Hourly: queue one planning task per block of subscribers whose local send hour has come
    (digest.fanout); every worker plans a share. Returns the number of chunks queued."""
    chunk_ids = fanout.start_run(timezone.now())
    for chunk_id in chunk_ids:
        plan_chunk_task.delay(chunk_id)
    logger.info("queued %s planning chunk(s)", len(chunk_ids))
    return len(chunk_ids)


@shared_task(bind=True)
def plan_chunk_task(self, chunk_id):
    """Plan one chunk if this worker claims it, then queue its sends once the plan has committed."""
    chunk = fanout.claim(chunk_id, worker=self.request.hostname)
    if chunk is None:
        return 0  # another worker has it, or it is done
    digest_ids = fanout.plan(chunk)
    queue_sends(digest_ids)
    return len(digest_ids)


def _retry_later(digest_id):
    attempts = Digest.objects.filter(pk=digest_id).values_list("attempts", flat=True).first() or 1
    send_digest_task.apply_async((digest_id,), countdown=sending.retry_delay(attempts))


@shared_task
def send_digest_task(digest_id):
    outcome = sending.send_digest(digest_id)
    if outcome == sending.RETRY:
        _retry_later(digest_id)
    return outcome


@shared_task
def send_digest_batch_task(digest_ids):
    outcomes = sending.send_batch(digest_ids)
    for digest_id, outcome in outcomes.items():
        if outcome == sending.RETRY:
            _retry_later(digest_id)
    return sum(outcome == sending.SENT for outcome in outcomes.values())


@shared_task
def sweep_stuck_digests():
    """Every few minutes: re-queue planning chunks and digests whose worker died or whose task was lost."""
    chunk_ids = fanout.sweep()
    for chunk_id in chunk_ids:
        plan_chunk_task.delay(chunk_id)
    digest_ids = sending.sweep_stuck()
    queue_sends(digest_ids)
    return len(chunk_ids) + len(digest_ids)


def queue_preview(sender, subscriber_id, **kwargs):
    """The answer to subscriptions.signals.interests_changed (connected in DigestConfig.ready)."""
    queue_after_commit(refresh_preview_task, subscriber_id)


@shared_task
def refresh_preview_task(subscriber_id):
    """Embed a subscriber's new interests and rank the manage page's preview: the model runs here, in a worker."""
    preview.refresh_preview(subscriber_id)
