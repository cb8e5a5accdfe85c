"""Tasks are queued on the right queue, only after the plan is committed, and carry ids only."""

import pytest
from django.db import transaction

from config.celery import app
from digest import tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "task, queue",
    [
        ("papers.tasks.ingest_all_sources", "ingest"),
        ("papers.tasks.embed_pending", "ingest"),
        ("subscriptions.tasks.resolve_seed_papers_task", "ingest"),
        ("subscriptions.tasks.sign_up_task", "mail"),
        ("digest.tasks.plan_and_send_due", "mail"),
        ("digest.tasks.plan_chunk_task", "mail"),
        ("digest.tasks.send_digest_batch_task", "mail"),
        ("digest.tasks.send_digest_task", "mail"),
        ("digest.tasks.sweep_stuck_digests", "mail"),
    ],
)
def test_ingest_and_mail_have_queues_of_their_own(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_workers_take_one_message_at_a_time_and_acknowledge_it_when_done():
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit


def test_sends_are_queued_only_once_the_plan_commits_and_never_after_a_rollback(monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.send_digest_batch_task, "delay", lambda ids: queued.append(ids))
    monkeypatch.setattr(tasks.settings, "SEND_BATCH_SIZE", 2)

    with transaction.atomic():
        tasks.queue_sends([1, 2, 3])
        assert queued == []
    assert queued == [[1, 2], [3]]

    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.queue_sends([4])
        raise RuntimeError("planning failed")
    assert queued == [[1, 2], [3]]
