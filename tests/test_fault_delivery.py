"""Faults in the daily run, with everything real: PostgreSQL, Redis as broker, `celery worker`
processes, and an SMTP server (or an ESP speaking Postmark's API) that counts what arrives.

Every subscriber gets exactly one digest whatever happens: two workers, a worker SIGKILLed in
the middle of sending, a flaky or refusing mail server, Redis restarted mid-run, beat firing
twice. The one window that cannot be closed (the server accepted, the worker died before
recording it; see digest/sending.py) may duplicate at most the digest in flight in the killed
process.
"""

import shutil
from datetime import timedelta

import pytest

from digest import sending
from digest.models import Digest
from digest.tasks import plan_and_send_due
from subscriptions.models import Subscriber
from tests.conftest import require
from tests.factories import make_papers, make_subscribers
from tests.services import RedisServer, client_app, running_workers, smtp_sink, stub_postmark, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sink():
    with smtp_sink() as sink:
        yield sink


def count(status):
    return Digest.objects.filter(status=status).count()


def settled(expected):
    """All `expected` digests are done: none planned or in sending."""
    return lambda: (
        Digest.objects.count() == expected
        and not Digest.objects.filter(status__in=[Digest.Status.PLANNED, Digest.Status.SENDING]).exists()
    )


def requeue_swept(broker_url, older_than):
    """What beat's sweeper does every few minutes, with a test-sized timeout."""
    digest_ids = sending.sweep_stuck(older_than=older_than)
    for start in range(0, len(digest_ids), 20):
        client_app(broker_url).send_task("digest.tasks.send_digest_batch_task", args=[digest_ids[start : start + 20]])
    return digest_ids


def test_two_workers_send_exactly_one_digest_to_each_of_2000_readers(broker, sink):
    make_papers(2)
    readers = make_subscribers(2000)

    with running_workers(broker, sink.url) as workers:
        workers.start("one")
        workers.start("two")
        client_app(broker).send_task("digest.tasks.plan_and_send_due")
        wait_for(settled(2000), timeout=300, what="2,000 digests to be sent", interval=1)

    assert count(Digest.Status.SENT) == 2000
    assert len(sink.received) == 2000 and sink.duplicates == {}
    assert set(sink.received) == {reader.email for reader in readers}


def test_a_worker_killed_mid_sending_loses_nothing_and_duplicates_at_most_its_digest_in_flight(broker, sink):
    make_papers(2)
    readers = make_subscribers(80)
    sink.delay = 0.03  # slow enough to kill the worker while it is sending

    with running_workers(broker, sink.url, SEND_BATCH_SIZE=10) as workers:
        workers.start("victim")  # alone, so it is surely holding a batch when it dies
        client_app(broker).send_task("digest.tasks.plan_and_send_due")
        wait_for(lambda: count(Digest.Status.SENT) >= 15, timeout=120, what="sending to be under way")

        workers.kill("victim")
        in_flight_at_kill = 1  # a solo worker sends one message at a time: at most one row in its hands
        # The rest of its claimed batch (none if the kill fell between two batches).
        held_at_kill = set(Digest.objects.filter(status=Digest.Status.SENDING).values_list("pk", flat=True))
        assert count(Digest.Status.SENT) < 80
        workers.start("restarted")
        workers.start("another")
        # Anything the dead worker held (its claimed row and the rest of its batch) comes back
        # with the sweeper; a 5 s timeout stands for the production 15 minutes.
        swept = []

        def sweep_until_done():
            swept.extend(requeue_swept(broker, timedelta(seconds=5)))
            return settled(80)()

        wait_for(sweep_until_done, timeout=120, what="swept digests to be sent", interval=2)

    assert held_at_kill <= set(swept), "the killed worker's unfinished batch should come back through the sweeper"
    assert count(Digest.Status.SENT) == 80
    assert {reader.email for reader in readers} == set(sink.received)
    assert sum(copies - 1 for copies in sink.duplicates.values()) <= in_flight_at_kill


def test_a_flaky_mail_server_is_retried_and_a_refused_address_fails_alone(broker, sink):
    make_papers(2)
    readers = make_subscribers(30)
    refused = readers[7]
    sink.temporary_failures = 6  # 451 for the first six messages, whoever they are for
    sink.refused.add(refused.email)

    with running_workers(broker, sink.url) as workers:
        workers.start("one")
        workers.start("two")
        client_app(broker).send_task("digest.tasks.plan_and_send_due")
        wait_for(settled(30), timeout=120, what="every digest to be sent or failed")

    assert sink.received == {reader.email: 1 for reader in readers if reader != refused}
    failed = Digest.objects.get(status=Digest.Status.FAILED)
    assert failed.subscriber == refused and "550" in failed.last_error
    refused.refresh_from_db()
    assert refused.status == Subscriber.Status.BOUNCED
    assert Digest.objects.filter(attempts__gt=1).count() >= 1


def test_an_esp_outage_and_rate_limit_are_retried_and_an_inactive_recipient_is_suppressed(broker):
    make_papers(2)
    readers = make_subscribers(20)
    with stub_postmark() as esp:
        esp.failures = [500, 503, 429, 502]
        esp.inactive.add(readers[3].email)
        esp_settings = {
            "ANYMAIL_ESP": "postmark",
            "ANYMAIL_POSTMARK_SERVER_TOKEN": "test",
            "ANYMAIL_POSTMARK_API_URL": esp.url,
        }
        with running_workers(broker, "", **esp_settings) as workers:
            workers.start("one")
            workers.start("two")
            client_app(broker).send_task("digest.tasks.plan_and_send_due")
            wait_for(settled(20), timeout=120, what="every digest to be sent or failed")

    assert esp.accepted == {reader.email: 1 for reader in readers if reader != readers[3]}
    assert Subscriber.objects.get(pk=readers[3].pk).status == Subscriber.Status.BOUNCED
    assert Digest.objects.filter(status=Digest.Status.SENT).exclude(message_id="").count() == 19


def test_a_redis_restart_mid_run_still_completes_the_run(postgres, sink):
    require(shutil.which("redis-server"), "the redis-server program")
    make_papers(2)
    readers = make_subscribers(60)
    sink.delay = 0.03
    own_redis = RedisServer()
    own_redis.start()
    try:
        with running_workers(own_redis.url, sink.url, SEND_BATCH_SIZE=5) as workers:
            workers.start("one")
            client_app(own_redis.url).send_task("digest.tasks.plan_and_send_due")
            wait_for(lambda: count(Digest.Status.SENT) >= 5, timeout=120, what="sending to be under way")

            own_redis.kill()  # the queue is lost with it: no persistence on this one
            own_redis.start()
            # The worker reconnects by itself; the sweeper re-queues what the lost queue held.
            wait_for(
                lambda: requeue_swept(own_redis.url, timedelta(seconds=3)) == [] and settled(60)(),
                timeout=180,
                what="the run to complete after Redis came back",
                interval=2,
            )
    finally:
        own_redis.kill()

    assert count(Digest.Status.SENT) == 60
    assert sink.received == {reader.email: 1 for reader in readers}


def test_beat_firing_twice_in_the_same_hour_still_sends_one_digest_each(broker, sink):
    make_papers(2)
    readers = make_subscribers(200)

    with running_workers(broker, sink.url) as workers:
        workers.start("one")
        workers.start("two")
        client = client_app(broker)
        client.send_task("digest.tasks.plan_and_send_due")
        client.send_task("digest.tasks.plan_and_send_due")
        wait_for(settled(200), timeout=180, what="both runs to finish")

    assert plan_and_send_due() == 0  # and the next hour's run finds nobody left to plan
    assert Digest.objects.count() == 200
    assert sink.received == {reader.email: 1 for reader in readers}
