"""Staff looking at a subscriber's next digest, and sending it now, from the Subscriber admin."""

import pytest
from django.contrib.auth.models import User
from django.core import mail

from digest.models import Digest
from tests.factories import embedded_papers, make_subscriber, titles_of

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/subscriptions/subscriber/"


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_superuser("staff", "staff@example.org", "pw"))
    return client


def run_action(client, action, *subscribers):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [s.pk for s in subscribers]}, follow=True)


def test_preview_shows_the_email_and_each_items_score_breakdown_and_sends_nothing(staff):
    embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein structure prediction"])

    response = run_action(staff, "preview_next_digest", reader)

    page = response.content.decode()
    assert response.status_code == 200
    assert "ada@example.org — Your papers for" in page
    assert titles_of("proteins")[0] in page
    assert "similarity 0." in page and "&#x27;protein structure prediction&#x27; + 0.400 for shared words = 1." in page
    assert "<iframe" in page and "Plain-text part" in page
    assert not Digest.objects.exists() and not mail.outbox
    # The email's own inline styles may apply in its sandboxed frame; scripts still may not run.
    policy = [directive.strip() for directive in response["Content-Security-Policy"].split(";")]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self'" in policy


def test_send_now_plans_todays_digest_and_sends_it_once(staff):
    embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein structure prediction"])

    first = run_action(staff, "send_now", reader)
    second = run_action(staff, "send_now", reader)

    assert "Send now: 1 sent." in first.content.decode()
    assert "Send now: 1 already had one today." in second.content.decode()
    (digest,) = Digest.objects.all()
    assert digest.status == Digest.Status.SENT
    (message,) = mail.outbox
    assert message.to == ["ada@example.org"] and titles_of("proteins")[0] in message.body


def test_send_now_skips_subscribers_who_are_not_active(staff):
    embedded_papers()
    paused = make_subscriber("paused@example.org", interests=["protein folding"], status="paused")

    response = run_action(staff, "send_now", paused)

    assert "1 selected subscriber(s) are not active" in response.content.decode()
    assert not mail.outbox
