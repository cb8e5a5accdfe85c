"""A mail security scanner (Safe Links, Proofpoint) opens every link of every email it sees,
with GET and HEAD, before the reader does: it must change nothing."""

import re
from datetime import date
from html import unescape

import pytest

from digest.models import Digest
from digest.planning import plan_digests
from digest.render import digest_message
from subscriptions import services
from subscriptions.models import Interest, Subscriber
from tests.factories import embedded_papers, make_subscriber
from tests.subscription_helpers import html_part, only_email

pytestmark = pytest.mark.django_db


def our_links(message):
    """Every link to this site in both parts of the email and its List-Unsubscribe header."""
    text = message.body + unescape(html_part(message)) + message.extra_headers["List-Unsubscribe"]
    return sorted(set(re.findall(r"http://testserver(/[^\s\"<>]*)", text)))


def profile(subscriber):
    subscriber.refresh_from_db()
    interests = sorted(subscriber.interests.values_list("kind", "text", "paper_id"))
    return subscriber.status, subscriber.frequency, subscriber.send_hour, interests


def test_opening_every_link_of_a_real_digest_changes_nothing(client):
    embedded_papers()
    reader = make_subscriber("grace@example.org", interests=["protein structure prediction", "compiler optimisation"])
    (digest_id,) = plan_digests([reader.pk], date(2026, 8, 7))
    message = digest_message(Digest.objects.get(pk=digest_id))
    links = our_links(message)
    assert sum("/feedback/" in link for link in links) >= 4, "more and less like this for each paper"
    assert any("/unsubscribe/" in link for link in links) and any("/manage/" in link for link in links)
    before = profile(reader)

    for link in links:
        for method in (client.get, client.head):
            assert method(link).status_code < 500, link

    assert profile(reader) == before
    assert not Interest.objects.filter(subscriber=reader, paper__isnull=False).exists(), "no paper liked or disliked"


def test_opening_the_link_of_a_confirmation_email_subscribes_nobody(client, fake_model):
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    services.send_confirmation(subscriber)
    message = only_email()
    before = profile(subscriber)

    for link in our_links(message):
        for method in (client.get, client.head):
            assert method(link).status_code < 500, link

    assert profile(subscriber) == before
    assert profile(subscriber)[0] == "pending"
