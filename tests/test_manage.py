"""A subscriber opens the manage link from an email and shapes, pauses, exports or deletes it."""

import json

import pytest
from django.test import Client

from digest.models import DeliveryEvent, Digest
from subscriptions import signing
from subscriptions.models import Interest, Subscriber
from tests.factories import make_digest, make_paper, make_subscriber
from tests.subscription_helpers import path_of

pytestmark = pytest.mark.django_db

SETTINGS = {
    "interests": "graph neural networks\nprotein folding",
    "excluded_keywords": "",
    "frequency": "daily",
    "weekday": "0",
    "send_hour": "7",
    "timezone": "Europe/Berlin",
    "papers_per_digest": "10",
    "skip_empty": "on",
}


@pytest.fixture(autouse=True)
def empty_preview(monkeypatch):
    monkeypatch.setattr("subscriptions.views.recent_matches", lambda subscriber: [])


@pytest.fixture
def ada():
    return make_subscriber(interests=["graph neural networks", "quantum error correction"], timezone="Europe/Berlin")


def save(client, subscriber, **changes):
    return client.post(path_of("manage", subscriber), {**SETTINGS, **changes}, follow=True)


def test_manage_page_shows_everything_the_subscriber_can_change(client, ada):
    page = client.get(path_of("manage", ada)).content.decode()
    assert "ada@example.org" in page
    assert "graph neural networks\nquantum error correction</textarea>" in page
    for label in ("Your interests", "Never show papers mentioning", "Send at", "Time zone", "Papers per digest"):
        assert label in page
    for button in ("Pause my digest", "Unsubscribe", "Download my data (JSON)", "Delete me"):
        assert button in page


def test_editing_interests_keeps_unchanged_ones_and_their_embeddings(client, ada):
    kept = ada.interests.get(text="graph neural networks")
    page = save(client, ada, interests="graph neural networks\nprotein folding\nGraph Neural Networks").content.decode()

    assert "Your changes are saved." in page
    topics = list(ada.interests.filter(kind=Interest.Kind.TOPIC))
    assert [t.text for t in topics] == ["graph neural networks", "protein folding"]
    assert topics[0].pk == kept.pk and bytes(topics[0].embedding) == bytes(kept.embedding)
    assert topics[1].embedding


def test_schedule_and_size_changes_are_saved(client, ada):
    save(
        client,
        ada,
        frequency="weekly",
        weekday="2",
        send_hour="18",
        timezone="America/New_York",
        papers_per_digest="5",
        skip_empty="",
    )
    ada.refresh_from_db()
    assert (ada.frequency, ada.weekday, ada.send_hour, ada.timezone, ada.papers_per_digest, ada.skip_empty) == (
        "weekly",
        2,
        18,
        "America/New_York",
        5,
        False,
    )


def test_excluded_keywords_are_edited_like_interests(client, ada):
    save(client, ada, excluded_keywords="survey\nbenchmark")
    assert ada.text_interests(Interest.Kind.EXCLUDE) == ["survey", "benchmark"]
    page = client.get(path_of("manage", ada)).content.decode()
    assert "survey\nbenchmark</textarea>" in page
    save(client, ada, excluded_keywords="benchmark")
    assert ada.text_interests(Interest.Kind.EXCLUDE) == ["benchmark"]


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"interests": ""}, "interests", "Please enter at least one interest"),
        ({"interests": "<script>alert(1)</script>"}, "interests", "looks like HTML or code"),
        ({"papers_per_digest": "500"}, "papers_per_digest", "less than or equal to 50"),
        ({"excluded_keywords": "k" * 5000}, "excluded_keywords", "That is too much text"),
    ],
)
def test_invalid_changes_are_shown_at_the_field_and_nothing_changes(client, ada, changes, field, message):
    response = save(client, ada, **changes)
    page = response.content.decode()
    assert message in page.split(f'id="id_{field}_error"', 1)[1].split("</ul>", 1)[0]
    assert "<script>alert(1)" not in page
    assert ada.text_interests(Interest.Kind.TOPIC) == ["graph neural networks", "quantum error correction"]
    ada.refresh_from_db()
    assert ada.papers_per_digest == 10


def test_feedback_from_digests_is_listed_and_removable(client, ada):
    paper = make_paper("A liked paper about <graphs>", arxiv_id="2401.00001")
    liked = Interest.objects.create(subscriber=ada, kind=Interest.Kind.LIKED, paper=paper)
    page = client.get(path_of("manage", ada)).content.decode()
    assert "Liked paper" in page and "A liked paper about &lt;graphs&gt;" in page

    remove = f"/manage/{signing.make_token('manage', ada)}/interests/{liked.pk}/remove/"
    page = client.post(remove, follow=True).content.decode()
    assert "Removed “A liked paper about &lt;graphs&gt;”." in page
    assert not Interest.objects.filter(pk=liked.pk).exists()


def test_feedback_empty_state(client, ada):
    page = client.get(path_of("manage", ada)).content.decode()
    assert "Papers you mark as “more like this” or “less like this” in a digest appear here" in page


def test_one_subscriber_cannot_remove_another_ones_interest(client, ada):
    bob = make_subscriber("bob@example.org")
    bobs = bob.interests.get()
    response = client.post(f"/manage/{signing.make_token('manage', ada)}/interests/{bobs.pk}/remove/")
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()
    assert Interest.objects.filter(pk=bobs.pk).exists()


def test_pause_and_resume(client, ada):
    token = signing.make_token("manage", ada)
    page = client.post(f"/manage/{token}/pause/", follow=True).content.decode()
    assert "Paused. No digests until you resume." in page
    assert "Your digest is paused" in page
    assert Subscriber.objects.get().status == "paused"

    page = client.post(f"/manage/{token}/resume/", follow=True).content.decode()
    assert "You are subscribed again." in page
    assert Subscriber.objects.get().status == "active"


def test_pause_is_a_post_only_action(client, ada):
    response = client.get(f"/manage/{signing.make_token('manage', ada)}/pause/")
    assert response.status_code == 405
    assert Subscriber.objects.get().status == "active"


def test_download_my_data_is_a_json_file_of_everything_stored(client, ada):
    paper = make_paper("Sent paper", arxiv_id="2401.00002")
    digest = make_digest(
        ada, [paper], issue_date="2026-03-01", status="sent", score=0.7, matched="graph neural networks"
    )
    DeliveryEvent.objects.create(
        event_id="e1", event_type="delivered", recipient="ada@example.org", digest=digest, subscriber=ada
    )

    response = client.get(f"/manage/{signing.make_token('manage', ada)}/my-data.json")
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="paper-digest-my-data.json"'
    data = json.loads(response.content)
    assert data["email"] == "ada@example.org"
    assert data["settings"]["timezone"] == "Europe/Berlin"
    assert [i["text"] for i in data["interests"]] == ["graph neural networks", "quantum error correction"]
    assert data["digests"][0]["papers"] == [
        {"title": "Sent paper", "key": "arxiv:2401.00002", "score": 0.7, "matched": "graph neural networks"}
    ]
    assert [e["type"] for e in data["delivery_events"]] == ["delivered"]
    assert "embedding" not in json.dumps(data)


def test_delete_me_asks_first_then_removes_everything(client, ada):
    token = signing.make_token("manage", ada)
    digest = make_digest(ada, issue_date="2026-03-01")
    DeliveryEvent.objects.create(
        event_id="e1", event_type="delivered", recipient="ada@example.org", digest=digest, subscriber=ada
    )
    DeliveryEvent.objects.create(event_id="e2", event_type="bounced", recipient="Ada@Example.org", subscriber=ada)
    DeliveryEvent.objects.create(event_id="e3", event_type="delivered", recipient="bob@example.org")
    page = client.get(f"/manage/{token}/delete/").content.decode()
    assert "Delete everything about you?" in page
    assert Subscriber.objects.exists()

    page = client.post(f"/manage/{token}/delete/", follow=True).content.decode()
    assert "Your data is deleted" in page
    assert not Subscriber.objects.exists()
    assert not Interest.objects.exists()
    assert not Digest.objects.exists()
    assert list(DeliveryEvent.objects.values_list("event_id", flat=True)) == ["e3"]

    gone = client.get(f"/manage/{token}/")
    assert gone.status_code == 404
    assert "This subscription no longer exists" in gone.content.decode()


@pytest.mark.parametrize("purpose", ["confirm", "unsubscribe"])
def test_other_purposes_tokens_do_not_open_the_manage_page(client, ada, purpose):
    response = client.get(f"/manage/{signing.make_token(purpose, ada)}/")
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()


def test_a_forged_token_does_not_open_the_manage_page(client, ada):
    token = signing.make_token("manage", ada)
    response = client.get(f"/manage/{token[:-3]}abc/")
    assert response.status_code == 400


def test_changes_without_the_csrf_cookie_get_the_403_page(ada):
    response = Client(enforce_csrf_checks=True).post(path_of("manage", ada), SETTINGS)
    assert response.status_code == 403
    assert "Please send the form again" in response.content.decode()
