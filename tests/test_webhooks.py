"""The ESP tells us what happened to a digest: bounces and complaints stop all mail, the rest is recorded."""

import base64
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from digest import sending
from digest.models import DeliveryEvent, Digest
from subscriptions.models import Subscriber
from tests.factories import make_digest, make_papers, make_subscribers

pytestmark = pytest.mark.django_db

SECRET = "postmark:s3cret-webhook-pass"
TRACKING_URL = "/anymail/postmark/tracking/"
# The site sends through Postmark: its tracking webhook is the one URL that exists.
postmark_site = override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}, ANYMAIL_ESP="postmark")


@pytest.fixture
def reader():
    return make_subscribers(1, prefix="grace")[0]


@pytest.fixture
def sent_digest(reader):
    return make_digest(
        reader,
        status=Digest.Status.SENT,
        sent_at=timezone.now(),
        message_id="883953f4-6105-42a2-a16a-77a8eac79483",
    )


def esp_event(event_type, event_id="ev-1", **fields):
    event = AnymailTrackingEvent(event_type=event_type, event_id=event_id, timestamp=timezone.now(), **fields)
    tracking.send(sender=object, event=event, esp_name="TestESP")
    return event


def test_a_hard_bounce_suppresses_the_reader_and_nothing_more_is_mailed(reader, sent_digest):
    tomorrow = make_digest(reader, issue_date=sent_digest.issue_date + timedelta(days=1))

    esp_event(
        "bounced", metadata={"digest_id": str(sent_digest.pk)}, recipient=reader.email, description="mailbox unknown"
    )

    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.BOUNCED and "mailbox unknown" in reader.suppressed_reason
    assert sending.send_digest(tomorrow.pk) == sending.NOT_CLAIMED
    assert mail.outbox == []
    assert DeliveryEvent.objects.get().digest == sent_digest


@pytest.mark.parametrize(
    "event_type, status",
    [
        ("complained", Subscriber.Status.COMPLAINED),
        ("unsubscribed", Subscriber.Status.UNSUBSCRIBED),
        ("rejected", Subscriber.Status.BOUNCED),
    ],
)
def test_complaints_and_esp_unsubscribes_stop_all_mail(reader, sent_digest, event_type, status):
    esp_event(event_type, message_id=sent_digest.message_id, recipient=reader.email)

    reader.refresh_from_db()
    assert reader.status == status
    assert not reader.can_receive_mail


def test_an_event_matched_only_by_its_recipient_still_suppresses(reader):
    esp_event("complained", recipient=reader.email.upper())

    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.COMPLAINED


def test_delivered_opened_and_clicked_are_recorded_on_the_digest(sent_digest):
    for number, event_type in enumerate(["delivered", "opened", "clicked"]):
        esp_event(
            event_type,
            event_id=f"ev-{number}",
            metadata={"digest_id": str(sent_digest.pk)},
            recipient=sent_digest.subscriber.email,
        )

    sent_digest.refresh_from_db()
    assert sent_digest.delivered_at and sent_digest.opened_at and sent_digest.clicked_at
    assert sent_digest.subscriber.status == Subscriber.Status.ACTIVE


def test_an_event_the_esp_posts_twice_counts_once(sent_digest):
    first = datetime(2026, 8, 7, 7, 5, tzinfo=UTC)
    for _ in range(2):
        event = AnymailTrackingEvent(
            event_type="opened",
            event_id="same",
            timestamp=first,
            message_id=sent_digest.message_id,
            recipient=sent_digest.subscriber.email,
        )
        tracking.send(sender=object, event=event, esp_name="TestESP")
        first += timedelta(hours=1)

    assert DeliveryEvent.objects.count() == 1
    sent_digest.refresh_from_db()
    assert sent_digest.opened_at == datetime(2026, 8, 7, 7, 5, tzinfo=UTC)


def test_a_bounce_naming_someone_elses_digest_suppresses_nobody(reader, sent_digest):
    esp_event("bounced", metadata={"digest_id": str(sent_digest.pk)}, recipient="made-up@attacker.example")
    esp_event("complained", event_id="ev-2", message_id=sent_digest.message_id, recipient="other@example.org")
    esp_event("unsubscribed", event_id="ev-3", metadata={"digest_id": str(sent_digest.pk)})

    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE
    assert DeliveryEvent.objects.count() == 3, "kept for the record"
    assert not DeliveryEvent.objects.filter(subscriber__isnull=False).exists()
    assert not DeliveryEvent.objects.filter(digest__isnull=False).exists()


def test_unknown_or_unmatched_events_are_kept_and_logged(caplog):
    with caplog.at_level(logging.INFO, logger="digest.webhooks"):
        esp_event("bounced", event_id="x1", recipient="nobody@example.org")
        esp_event("unknown", event_id="x2")

    assert DeliveryEvent.objects.count() == 2
    assert "unknown recipient" in caplog.text and "no action" in caplog.text


# --- Real HTTP posts to anymail's Postmark tracking webhook -----------------------------------


def postmark_bounce(digest, email, bounce_id=4323372036854775807):
    return {
        "RecordType": "Bounce",
        "ID": bounce_id,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "digest",
        "MessageID": digest.message_id,
        "Metadata": {"digest_id": str(digest.pk)},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "digest@example.org",
        "BouncedAt": "2026-08-07T07:01:02.9070259Z",
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Your papers",
        "MessageStream": "outbound",
    }


def post(client, payload, auth=None):
    headers = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return client.post(TRACKING_URL, body, content_type="application/json", **headers)


@postmark_site
def test_a_postmark_bounce_with_the_secret_suppresses_the_address(client, reader, sent_digest):
    response = post(client, postmark_bounce(sent_digest, reader.email), auth=SECRET)

    assert response.status_code == 200
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.BOUNCED
    assert DeliveryEvent.objects.get().event_id == "4323372036854775807"


@postmark_site
def test_a_postmark_delivery_is_recorded_against_the_message_id(client, reader, sent_digest):
    delivery = {
        "RecordType": "Delivery",
        "MessageID": sent_digest.message_id,
        "Recipient": reader.email,
        "DeliveredAt": "2026-08-07T07:00:05Z",
        "Details": "Test delivery",
        "Tag": "",
        "ServerID": 23,
        "Metadata": {},
        "MessageStream": "outbound",
    }

    assert post(client, delivery, auth=SECRET).status_code == 200
    assert post(client, delivery, auth=SECRET).status_code == 200

    sent_digest.refresh_from_db()
    assert sent_digest.delivered_at == datetime(2026, 8, 7, 7, 0, 5, tzinfo=UTC)
    assert DeliveryEvent.objects.count() == 1


@postmark_site
@pytest.mark.parametrize("auth, status", [(None, 401), ("postmark:wrong", 403)])
def test_a_webhook_without_the_right_secret_is_refused_and_changes_nothing(client, reader, sent_digest, auth, status):
    response = post(client, postmark_bounce(sent_digest, reader.email), auth=auth)

    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Basic")
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE
    assert not DeliveryEvent.objects.exists()


@postmark_site
def test_an_unreadable_payload_is_a_400_and_a_malformed_event_is_logged(client, caplog):
    assert post(client, "{not json", auth=SECRET).status_code == 400
    with caplog.at_level(logging.INFO, logger="digest.webhooks"):
        assert post(client, {"something": "else"}, auth=SECRET).status_code == 200
    assert "no action" in caplog.text


@postmark_site
def test_after_a_complaint_the_next_run_mails_everyone_but_the_complainer(client, reader, sent_digest):
    make_papers(2)
    other = make_subscribers(1, prefix="other")[0]
    complaint = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Tag": "digest",
        "MessageID": sent_digest.message_id,
        "Metadata": {"digest_id": str(sent_digest.pk)},
        "Email": reader.email,
        "BouncedAt": "2026-08-07T09:00:00Z",
        "Description": "The subscriber explicitly marked this message as spam.",
    }
    assert post(client, complaint, auth=SECRET).status_code == 200

    call_command("send_digests", "--date", str(sent_digest.issue_date + timedelta(days=1)), stdout=StringIO())

    assert [message.to for message in mail.outbox] == [[other.email]]


@postmark_site
def test_a_script_posting_bounces_for_every_digest_id_suppresses_nobody(client):
    """Digest ids are sequential: even with the secret, a made-up address never reaches a reader."""
    readers = make_subscribers(5, prefix="victim")
    digests = [Digest.objects.create(subscriber=r, issue_date=timezone.now().date(), status="sent") for r in readers]

    for number, digest in enumerate(digests):
        forged = postmark_bounce(digest, "nobody@attacker.example", bounce_id=1000 + number)
        assert post(client, forged, auth=SECRET).status_code == 200

    assert set(Subscriber.objects.values_list("status", flat=True)) == {Subscriber.Status.ACTIVE}


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}, ANYMAIL_ESP="postmark")
@pytest.mark.parametrize(
    "url", ["/anymail/sendgrid/tracking/", "/anymail/mailgun/tracking/", "/anymail/postmark/inbound/"]
)
def test_a_webhook_url_of_an_esp_the_site_does_not_use_is_a_plain_404(client, reader, sent_digest, url):
    response = client.post(url, json.dumps(postmark_bounce(sent_digest, reader.email)), content_type="application/json")

    assert response.status_code == 404
    assert "Traceback" not in response.content.decode()
    assert not DeliveryEvent.objects.exists()


@override_settings(ANYMAIL={}, ANYMAIL_ESP="")
def test_a_site_that_sends_by_smtp_has_no_webhook_at_all(client, reader, sent_digest):
    response = post(client, postmark_bounce(sent_digest, reader.email))

    assert response.status_code == 404
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE


@postmark_site
def test_when_recording_a_bounce_fails_the_esp_is_told_to_retry_and_the_retry_suppresses(
    client, reader, sent_digest, monkeypatch
):
    def broken(*args):
        raise RuntimeError("database went away")

    bounce = postmark_bounce(sent_digest, reader.email)
    with monkeypatch.context() as patch:
        patch.setattr("digest.webhooks.suppress", broken)
        first = post(client, bounce, auth=SECRET)

    assert first.status_code == 500, "a non-2xx answer makes the ESP post the event again"
    assert not DeliveryEvent.objects.exists(), "the event row went with its failed effect"
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.ACTIVE

    assert post(client, bounce, auth=SECRET).status_code == 200
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.BOUNCED
    assert DeliveryEvent.objects.count() == 1


def test_the_webhook_secret_comes_from_the_environment():
    environment = {**os.environ, "ANYMAIL_WEBHOOK_SECRET": "user:from-env", "DJANGO_SETTINGS_MODULE": "config.settings"}
    output = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.ANYMAIL['WEBHOOK_SECRET'])"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.strip() == "user:from-env"
