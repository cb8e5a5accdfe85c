"""A digest is sent at most once, errors are sorted before retrying, and a refused address is never mailed again.

These run the real sender in-process against a real SMTP server (aiosmtpd) and a stub ESP
that speaks Postmark's API to anymail's real Postmark backend.
"""

import smtplib
import threading
from datetime import timedelta

import pytest
from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from digest import sending
from digest.models import Digest
from subscriptions.models import Subscriber
from tests.factories import make_digest, make_papers, make_subscribers
from tests.services import smtp_sink, stub_postmark

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reader():
    return make_subscribers(1, prefix="ada")[0]


@pytest.fixture
def papers():
    return make_papers(2)


@pytest.fixture
def sink():
    with (
        smtp_sink() as sink,
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=sink.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        ),
    ):
        yield sink


@pytest.fixture
def esp():
    with (
        stub_postmark() as esp,
        override_settings(
            EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
            ANYMAIL={"POSTMARK_SERVER_TOKEN": "test-token", "POSTMARK_API_URL": esp.url},
        ),
    ):
        yield esp


def test_a_planned_digest_is_sent_once_with_its_message_id_recorded(reader, papers):
    digest = make_digest(reader, papers)

    assert sending.send_digest(digest.pk) == sending.SENT
    assert sending.send_digest(digest.pk) == sending.NOT_CLAIMED

    assert len(mail.outbox) == 1
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENT and digest.sent_at and digest.attempts == 1
    assert digest.message_id == mail.outbox[0].extra_headers["Message-ID"]


def test_senders_racing_for_the_same_digest_send_it_once(reader, papers, sink):
    digest = make_digest(reader, papers)
    start = threading.Barrier(4)
    outcomes = []

    def race():
        start.wait()
        try:
            outcomes.append(sending.send_digest(digest.pk))
        finally:
            connection.close()  # each thread has its own connection; leave none open for teardown

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [sending.NOT_CLAIMED] * 3 + [sending.SENT]
    assert sink.received[reader.email] == 1


def test_a_temporary_smtp_failure_puts_the_digest_back_for_a_retry(reader, papers, sink):
    digest = make_digest(reader, papers)
    sink.temporary_failures = 1

    assert sending.send_digest(digest.pk) == sending.RETRY
    digest.refresh_from_db()
    assert digest.status == Digest.Status.PLANNED and "451" in digest.last_error

    assert sending.send_digest(digest.pk) == sending.SENT
    assert sink.received[reader.email] == 1
    digest.refresh_from_db()
    assert digest.attempts == 2 and digest.last_error == ""


@override_settings(SEND_MAX_ATTEMPTS=3)
def test_transient_failures_give_up_after_the_bound_without_suppressing_the_reader(reader, papers, sink):
    digest = make_digest(reader, papers)
    sink.temporary_failures = 100

    outcomes = [sending.send_digest(digest.pk) for _ in range(4)]

    assert outcomes == [sending.RETRY, sending.RETRY, sending.FAILED, sending.NOT_CLAIMED]
    digest.refresh_from_db()
    assert digest.status == Digest.Status.FAILED and digest.attempts == 3
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE


def test_a_refused_recipient_fails_at_once_and_is_never_mailed_again(reader, papers, sink):
    today = make_digest(reader, papers)
    tomorrow = make_digest(reader, papers, issue_date=timezone.now().date() + timedelta(days=1))
    sink.refused.add(reader.email)

    assert sending.send_digest(today.pk) == sending.FAILED

    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.BOUNCED and "550" in reader.suppressed_reason
    today.refresh_from_db()
    tomorrow.refresh_from_db()
    assert today.status == tomorrow.status == Digest.Status.FAILED
    sink.refused.clear()
    assert sending.send_digest(tomorrow.pk) == sending.NOT_CLAIMED
    assert sink.received[reader.email] == 0


def test_the_refusal_of_one_address_leaves_the_rest_of_the_batch_alone(papers, sink):
    readers = make_subscribers(3, prefix="batch")
    digests = [make_digest(reader, papers) for reader in readers]
    sink.refused.add(readers[1].email)

    outcomes = sending.send_batch([digest.pk for digest in digests])

    assert list(outcomes.values()) == [sending.SENT, sending.FAILED, sending.SENT]
    assert sink.received == {readers[0].email: 1, readers[2].email: 1}


def test_esp_outages_and_rate_limits_are_retried_and_the_esp_message_id_kept(reader, papers, esp):
    digest = make_digest(reader, papers)
    esp.failures = [503, 429]

    outcomes = [sending.send_digest(digest.pk) for _ in range(3)]

    assert outcomes == [sending.RETRY, sending.RETRY, sending.SENT]
    assert esp.accepted[reader.email] == 1
    digest.refresh_from_db()
    assert len(digest.message_id) == 36  # Postmark's MessageID, the id its webhooks will quote


def test_an_inactive_recipient_at_the_esp_is_suppressed(reader, papers, esp):
    digest = make_digest(reader, papers)
    esp.inactive.add(reader.email)

    assert sending.send_digest(digest.pk) == sending.FAILED
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.BOUNCED


def test_a_digest_for_someone_who_left_meanwhile_is_not_sent(reader, papers):
    digest = make_digest(reader, papers)
    Subscriber.objects.filter(pk=reader.pk).update(status=Subscriber.Status.PAUSED)

    assert sending.send_digest(digest.pk) == sending.FAILED
    assert mail.outbox == []


class _Response:
    def __init__(self, status):
        self.status_code = status


@pytest.mark.parametrize(
    "error, kind",
    [
        (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"no such user")}), sending.REFUSED),
        (smtplib.SMTPRecipientsRefused({"a@example.org": (452, b"mailbox full")}), sending.TRANSIENT),
        (smtplib.SMTPDataError(451, b"try later"), sending.TRANSIENT),
        (smtplib.SMTPDataError(554, b"transaction failed"), sending.PERMANENT),
        (smtplib.SMTPServerDisconnected("gone"), sending.TRANSIENT),
        (TimeoutError("timed out"), sending.TRANSIENT),
        (ConnectionRefusedError(111, "refused"), sending.TRANSIENT),
        (AnymailRecipientsRefused(), sending.REFUSED),
        (AnymailInvalidAddress("not an address"), sending.REFUSED),
        (AnymailAPIError("outage", status_code=503), sending.TRANSIENT),
        (AnymailAPIError("slow down", status_code=429), sending.TRANSIENT),
        (AnymailAPIError("network", status_code=None), sending.TRANSIENT),
        (AnymailAPIError("bad request", status_code=400), sending.PERMANENT),
        (ValueError("a bug"), sending.PERMANENT),
    ],
)
def test_errors_are_sorted_before_any_retry(error, kind):
    assert sending.classify(error) == kind


def test_retry_delays_grow_with_jitter_up_to_the_configured_maximum():
    # that this maximum stays below the broker's visibility timeout is a system check (test_configuration.py)
    delays = [sending.retry_delay(attempt) for attempt in range(1, 30)]
    assert max(delays) <= settings.SEND_RETRY_MAX_SECONDS
    assert delays[0] < delays[3]
    assert len({round(sending.retry_delay(2), 6) for _ in range(10)}) > 1


# --- The duplicate window --------------------------------------------------------------------


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, no except-clause catches it."""


class DiesAfterAccepting(SmtpBackend):
    """Delivers to the SMTP server, then the process dies before the sender hears back."""

    deliveries_before_death = 0

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        DiesAfterAccepting.deliveries_before_death -= 1
        if DiesAfterAccepting.deliveries_before_death < 0:
            raise WorkerKilled
        return sent


class DiesBeforeSending(SmtpBackend):
    def send_messages(self, messages):
        raise WorkerKilled


def test_a_crash_between_acceptance_and_recording_duplicates_at_most_that_one_digest(papers, sink):
    readers = make_subscribers(5, prefix="window")
    digests = [make_digest(reader, papers) for reader in readers]
    DiesAfterAccepting.deliveries_before_death = 2

    with override_settings(EMAIL_BACKEND="tests.test_pipeline_sending.DiesAfterAccepting"):
        with pytest.raises(WorkerKilled):
            sending.send_batch([digest.pk for digest in digests])

    statuses = list(Digest.objects.order_by("pk").values_list("status", "message_id"))
    # Everything accepted before the crash was recorded at once, one message at a time.
    assert [status for status, _ in statuses] == ["sent", "sent", "sending", "planned", "planned"]
    assert all(message_id for _, message_id in statuses[:2])
    # A live sender is never swept: right after the crash nothing comes back.
    assert sending.sweep_stuck() == []

    later = timezone.now() + timedelta(minutes=settings.SENDING_STUCK_AFTER_MINUTES + 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        returned = sending.sweep_stuck()
    assert returned == [digest.pk for digest in digests[2:]]
    sending.send_batch(returned)

    assert all(sink.received[reader.email] >= 1 for reader in readers)
    assert sink.duplicates == {readers[2].email: 2}  # the documented window: one digest, once


def test_a_crash_before_the_server_accepted_duplicates_nothing(papers, sink):
    readers = make_subscribers(2, prefix="early")
    digests = [make_digest(reader, papers) for reader in readers]

    with override_settings(EMAIL_BACKEND="tests.test_pipeline_sending.DiesBeforeSending"):
        with pytest.raises(WorkerKilled):
            sending.send_batch([digest.pk for digest in digests])

    sending.send_batch(sending.sweep_stuck(older_than=timedelta(0)))

    assert sink.received == {reader.email: 1 for reader in readers}


def test_a_digest_with_a_message_id_is_never_swept_back(reader, papers):
    digest = make_digest(reader, papers)
    Digest.objects.filter(pk=digest.pk).update(
        status=Digest.Status.SENDING, message_id="<accepted@example.org>", claimed_at=timezone.now() - timedelta(days=1)
    )

    assert sending.sweep_stuck(older_than=timedelta(0)) == []
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENDING


class RunsOutOfTime(SmtpBackend):
    """The task's soft time limit strikes while the second message is being sent."""

    sent = 0

    def send_messages(self, messages):
        RunsOutOfTime.sent += 1
        if RunsOutOfTime.sent == 2:
            raise SoftTimeLimitExceeded()
        return super().send_messages(messages)


def test_a_batch_out_of_time_stops_and_hands_back_what_it_did_not_send(papers, sink):
    readers = make_subscribers(4, prefix="late")
    digests = [make_digest(reader, papers) for reader in readers]
    RunsOutOfTime.sent = 0

    with override_settings(EMAIL_BACKEND="tests.test_pipeline_sending.RunsOutOfTime"):
        with pytest.raises(SoftTimeLimitExceeded):
            sending.send_batch([digest.pk for digest in digests])

    rows = list(Digest.objects.order_by("pk").values_list("status", "attempts"))
    assert rows == [("sent", 1), ("planned", 1), ("planned", 0), ("planned", 0)]
    assert sink.received == {readers[0].email: 1}


def test_a_batch_costs_a_fixed_number_of_queries_plus_one_per_digest(papers, sink, django_assert_num_queries):
    readers = make_subscribers(10, prefix="queries")
    digests = [make_digest(reader, papers) for reader in readers]

    # claim (lock + update, in a transaction), load digests + subscribers, items + papers; then one record each
    with django_assert_num_queries(4 + 2 + 10):
        outcomes = sending.send_batch([digest.pk for digest in digests])

    assert set(outcomes.values()) == {sending.SENT}
