"""Staff look after subscribers in the admin; nobody else gets in."""

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

from subscriptions.models import Subscriber
from tests.factories import make_digest, make_subscriber

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:subscriptions_subscriber_changelist")


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_superuser("staff", "staff@example.org", "pw"))
    return client


@pytest.mark.parametrize("who", ["anonymous", "a non-staff user"])
def test_only_staff_get_in(client, who):
    if who != "anonymous":
        client.force_login(User.objects.create_user("visitor", "visitor@example.org", "pw"))
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_list_shows_counts_and_searches_by_email(staff_client):
    ada = make_subscriber("ada@example.org", interests=["graphs", "proteins"])
    make_subscriber("bob@example.org", interests=["quantum"])
    make_digest(ada, issue_date="2026-03-01")
    make_digest(ada, issue_date="2026-03-02")

    response = staff_client.get(CHANGELIST)
    rows = {s.email: (s.interest_count, s.digest_count) for s in response.context["cl"].result_list}
    assert rows == {"ada@example.org": (2, 2), "bob@example.org": (1, 0)}
    page = response.content.decode()
    for column in ("Interests", "Digests", "Timezone", "Frequency"):
        assert column in page

    found = staff_client.get(CHANGELIST, {"q": "ADA@"}).context["cl"].result_list
    assert [s.email for s in found] == ["ada@example.org"]


def test_filters_by_status_frequency_and_timezone(staff_client):
    make_subscriber("ada@example.org")
    paused = make_subscriber("bob@example.org", status=Subscriber.Status.PAUSED)
    Subscriber.objects.filter(pk=paused.pk).update(frequency="weekly", timezone="Asia/Tokyo")

    for query in ({"status__exact": "paused"}, {"frequency__exact": "weekly"}, {"timezone": "Asia/Tokyo"}):
        found = staff_client.get(CHANGELIST, query).context["cl"].result_list
        assert [s.email for s in found] == ["bob@example.org"], query


def test_change_page_has_the_interests_inline(staff_client):
    ada = make_subscriber(interests=["graph neural networks"])
    page = staff_client.get(reverse("admin:subscriptions_subscriber_change", args=[ada.pk])).content.decode()
    assert "graph neural networks" in page
    assert "interests-TOTAL_FORMS" in page


def run_action(staff_client, action, *subscribers):
    return staff_client.post(
        CHANGELIST, {"action": action, "_selected_action": [s.pk for s in subscribers]}, follow=True
    )


def test_pause_and_resume_actions_touch_only_fitting_subscribers(staff_client):
    active = make_subscriber("ada@example.org")
    unsubscribed = make_subscriber("bob@example.org", status=Subscriber.Status.UNSUBSCRIBED)

    page = run_action(staff_client, "pause", active, unsubscribed).content.decode()
    assert "Paused 1 subscriber(s)." in page
    assert Subscriber.objects.get(pk=active.pk).status == "paused"

    page = run_action(staff_client, "resume", active, unsubscribed).content.decode()
    assert "Resumed 1 subscriber(s)." in page
    assert Subscriber.objects.get(pk=active.pk).status == "active"
    assert Subscriber.objects.get(pk=unsubscribed.pk).status == "unsubscribed", "staff never undo an unsubscribe"


def test_resend_confirmation_mails_only_unconfirmed_subscribers(staff_client):
    pending = make_subscriber("ada@example.org", status=Subscriber.Status.PENDING)
    active = make_subscriber("bob@example.org")

    page = run_action(staff_client, "resend_confirmation", pending, active).content.decode()
    assert "Sent 1 confirmation email(s)." in page
    assert "Skipped 1 already confirmed subscriber(s)." in page
    assert [(m.to, m.subject) for m in mail.outbox] == [(["ada@example.org"], "Confirm your Paper Digest subscription")]
