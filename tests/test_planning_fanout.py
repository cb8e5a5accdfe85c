"""The hourly run is planned by every worker: one task per block of subscribers, each block
planned exactly once, even when beats race or a worker dies halfway through a block.

Everything is real: PostgreSQL, Redis as broker, three `celery worker` processes and an SMTP
server counting what arrives.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from digest import fanout
from digest.models import Digest, PlanningChunk
from tests.factories import make_papers, make_subscribers
from tests.services import client_app, running_workers, smtp_sink, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CHUNK = 10  # subscriber ids per planning task, small so that a few hundred readers make many tasks


@pytest.fixture
def sink():
    with smtp_sink() as sink:
        yield sink


def all_sent(expected):
    return lambda: (
        Digest.objects.filter(status=Digest.Status.SENT).count() == expected
        and not PlanningChunk.objects.exclude(status=PlanningChunk.Status.DONE).exists()
    )


def blocks_of(readers):
    return {reader.pk // CHUNK * CHUNK for reader in readers}


def ready(broker, workers):
    """Every worker answers a ping, so each can take a share from the first task on."""
    replies = client_app(broker).control.ping(timeout=1)
    return len(replies) >= workers


def test_three_workers_share_the_planning_and_each_block_is_planned_once(broker, sink):
    make_papers(2)
    readers = make_subscribers(300)

    with running_workers(broker, sink.url, PLANNING_CHUNK_SIZE=CHUNK) as workers:
        for name in ("one", "two", "three"):
            workers.start(name)
        wait_for(lambda: ready(broker, 3), timeout=60, what="three workers to answer")
        client_app(broker).send_task("digest.tasks.plan_and_send_due")
        wait_for(all_sent(300), timeout=300, what="300 digests to be planned and sent", interval=1)

    chunks = PlanningChunk.objects.all()
    assert {chunk.first_id for chunk in chunks} == blocks_of(readers)
    assert {chunk.attempts for chunk in chunks} == {1}
    assert sum(chunk.planned for chunk in chunks) == 300
    planners = {chunk.worker.split("-")[0] for chunk in chunks}
    assert planners == {"one", "two", "three"}, "every worker should have planned a share"
    assert sink.received == {reader.email: 1 for reader in readers}


def test_beats_racing_in_the_same_hour_plan_each_block_once(broker, sink):
    make_papers(2)
    readers = make_subscribers(200)

    with running_workers(broker, sink.url, PLANNING_CHUNK_SIZE=CHUNK) as workers:
        for name in ("one", "two", "three"):
            workers.start(name)
        client = client_app(broker)
        for _ in range(3):
            client.send_task("digest.tasks.plan_and_send_due")
        wait_for(all_sent(200), timeout=300, what="the racing runs to finish", interval=1)

    chunks = PlanningChunk.objects.all()
    assert chunks.count() == len(blocks_of(readers))
    assert {chunk.attempts for chunk in chunks} == {1}, "no block was planned twice"
    assert sum(chunk.planned for chunk in chunks) == 200
    assert sink.received == {reader.email: 1 for reader in readers}


def test_a_worker_killed_while_planning_loses_its_block_to_the_sweeper_and_nobody_is_missed(broker, sink):
    make_papers(2)
    readers = make_subscribers(40)
    held = readers[0]  # the test holds this reader's digest row, so the planner blocks halfway through

    with running_workers(broker, sink.url, PLANNING_CHUNK_SIZE=1000) as workers:
        workers.start("victim")
        with transaction.atomic():
            Digest.objects.create(subscriber=held, issue_date=timezone.localdate(), window_end=timezone.now())
            client_app(broker).send_task("digest.tasks.plan_and_send_due")
            wait_for(
                lambda: PlanningChunk.objects.filter(status=PlanningChunk.Status.RUNNING).exists(),
                timeout=60,
                what="the victim to be planning",
            )
            workers.kill("victim")  # dies inside its planning transaction: nothing of it is committed
            transaction.set_rollback(True)

        chunk = PlanningChunk.objects.get()
        assert chunk.status == PlanningChunk.Status.RUNNING and chunk.worker.startswith("victim")
        wait_for(lambda: not Digest.objects.exists(), timeout=30, what="the dead planner's rows to vanish")
        assert fanout.sweep() == [], "a chunk is only swept once it is older than any task may run"

        workers.start("rescuer")
        for chunk_id in fanout.sweep(older_than=timedelta(0)):  # what beat's sweeper does, test-sized
            client_app(broker).send_task("digest.tasks.plan_chunk_task", args=[chunk_id])
        wait_for(all_sent(40), timeout=120, what="the swept block to be planned and sent", interval=1)

    chunk.refresh_from_db()
    assert chunk.attempts == 2 and chunk.worker.startswith("rescuer") and chunk.planned == 40
    assert sink.received == {reader.email: 1 for reader in readers}
