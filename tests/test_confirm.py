"""A new subscriber follows the link in the confirmation email and lands on their manage page."""

from types import SimpleNamespace

import pytest
import time_machine
from django.urls import reverse

from papers import embeddings
from papers.models import Paper
from subscriptions import signing
from subscriptions.models import Subscriber
from tests.factories import make_subscriber
from tests.subscription_helpers import SIGNUP, link_in, only_email, path_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def preview(monkeypatch):
    """The preview section's data, controlled by each test (ranking is tested on its own)."""
    matches = []
    monkeypatch.setattr("subscriptions.views.recent_matches", lambda subscriber: matches)
    return matches


def test_confirm_link_activates_and_opens_the_manage_page(client, preview):
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        client.post(reverse("subscriptions:signup"), SIGNUP)
        confirm_path = link_in(only_email().body, "confirm")
        response = client.get(confirm_path, follow=True)

    subscriber = Subscriber.objects.get()
    assert subscriber.status == "active"
    assert subscriber.confirmed_at.isoformat() == "2026-03-02T10:00:00+00:00"
    assert response.redirect_chain[0][0].startswith("/manage/")
    page = response.content.decode()
    assert "Your subscription is confirmed. Welcome!" in page
    assert "contrastive sentence embeddings\nprotein structure prediction</textarea>" in page


def test_confirm_link_still_works_just_before_three_days_and_not_after(client):
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        subscriber = make_subscriber(status=Subscriber.Status.PENDING)
        confirm_path = path_of("confirm", subscriber)
    with time_machine.travel("2026-03-05 10:00:01Z", tick=False):
        expired = client.get(confirm_path)
    assert expired.status_code == 400
    assert "This link has expired" in expired.content.decode()
    assert "Sign up again with the same address" in expired.content.decode()
    assert Subscriber.objects.get().status == "pending"

    with time_machine.travel("2026-03-05 09:59Z", tick=False):
        assert client.get(confirm_path).status_code == 302
    assert Subscriber.objects.get().status == "active"


def test_tampered_or_wrong_purpose_links_get_a_clear_page(client):
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    token = signing.make_token("confirm", subscriber)
    for bad in (token[:-2] + "xx", "garbage", signing.make_token("manage", subscriber)):
        response = client.get(reverse("subscriptions:confirm", kwargs={"token": bad}))
        assert response.status_code == 400
        page = response.content.decode()
        assert "This link does not work" in page
        assert "Paper Digest" in page and "Traceback" not in page
    assert Subscriber.objects.get().status == "pending"


def test_a_confirm_link_for_a_deleted_subscription_says_so(client):
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    confirm_path = path_of("confirm", subscriber)
    subscriber.delete()
    response = client.get(confirm_path)
    assert response.status_code == 404
    assert "This subscription no longer exists" in response.content.decode()


def test_a_confirm_link_only_activates_its_own_subscriber(client):
    ada = make_subscriber("ada@example.org", status=Subscriber.Status.PENDING)
    bob = make_subscriber("bob@example.org", status=Subscriber.Status.PENDING)
    client.get(path_of("confirm", ada))
    assert Subscriber.objects.get(pk=ada.pk).status == "active"
    assert Subscriber.objects.get(pk=bob.pk).status == "pending"


def test_an_old_confirm_link_does_not_undo_an_unsubscribe(client):
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    confirm_path = path_of("confirm", subscriber)
    client.get(confirm_path)
    Subscriber.objects.get().unsubscribe()

    page = client.get(confirm_path, follow=True).content.decode()
    assert Subscriber.objects.get().status == "unsubscribed"
    assert "You are unsubscribed and get no more emails." in page


def test_manage_page_previews_the_papers_that_would_have_matched(client, preview):
    paper = Paper.objects.create(
        key="arxiv:2403.01234",
        title="Sentence <b>embeddings</b> by contrast",
        abs_url="https://arxiv.org/abs/2403.01234",
    )
    preview.append(
        SimpleNamespace(paper=paper, score=1.0123, similarity=0.8123, matched="contrastive sentence embeddings")
    )
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)

    page = client.get(path_of("confirm", subscriber), follow=True).content.decode()
    assert "Papers of the last 7 days that would have matched" in page
    assert "Sentence &lt;b&gt;embeddings&lt;/b&gt; by contrast" in page
    assert "matches “contrastive sentence embeddings” (0.81)" in page
    assert 'href="https://arxiv.org/abs/2403.01234"' in page


def test_manage_page_previews_real_matches_from_the_last_week(client):
    """No stand-in here: the ranking reads the embedded papers of the last 7 days."""
    with time_machine.travel("2026-03-01 08:00Z", tick=False):
        old = Paper.objects.create(key="title:old", title="Contrastive learning of sentence embeddings, an old paper")
    with time_machine.travel("2026-03-06 08:00Z", tick=False):
        papers = [
            Paper.objects.create(
                key="title:a",
                title="Contrastive learning of sentence embeddings at scale",
                abstract="We train sentence encoders with a contrastive objective.",
            ),
            Paper.objects.create(
                key="title:b",
                title="Dust grain growth in protoplanetary disks",
                abstract="Observations of millimetre emission around young stars.",
            ),
        ]
        embeddings.embed_papers([old, *papers])
    subscriber = make_subscriber(status=Subscriber.Status.PENDING, interests=["contrastive sentence embeddings"])

    with time_machine.travel("2026-03-09 08:00Z", tick=False):
        page = client.get(path_of("confirm", subscriber), follow=True).content.decode()
    preview = page.split("Papers of the last 7 days that would have matched", 1)[1].split("</section>", 1)[0]
    assert "Contrastive learning of sentence embeddings at scale" in preview
    assert "matches “contrastive sentence embeddings”" in preview
    assert "protoplanetary" not in preview, "unrelated papers stay out"
    assert "an old paper" not in preview, "only the last 7 days"


def test_manage_page_explains_an_empty_preview(client, preview):
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    page = client.get(path_of("confirm", subscriber), follow=True).content.decode()
    assert "No paper from the last 7 days matches your interests closely yet." in page
