"""A subscriber opens the manage link from an email and shapes, pauses, exports or deletes it."""

import json
import threading

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings

from digest.models import DeliveryEvent, Digest
from digest.tasks import refresh_preview_task
from subscriptions import signing
from subscriptions.models import Interest, Subscriber
from subscriptions.services import embed_interests
from tests.factories import make_digest, make_paper, make_subscriber
from tests.subscription_helpers import SIGNUP, link_in, path_of, post_and_run_queued

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
def stand_in_model(fake_model):
    """The worker a sign-up or save queues embeds with the stand-in: these stories are not about ranking."""
    return fake_model


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ada():
    return make_subscriber(interests=["graph neural networks", "quantum error correction"], timezone="Europe/Berlin")


def save(client, subscriber, **changes):
    return post_and_run_queued(client, path_of("manage", subscriber), {**SETTINGS, **changes}, follow=True)


def test_manage_page_shows_everything_the_subscriber_can_change(client, ada):
    page = client.get(path_of("manage", ada)).content.decode()
    assert "ada@example.org" in page
    assert "graph neural networks\nquantum error correction</textarea>" in page
    for label in ("Your interests", "Never show papers mentioning", "Send at", "Time zone", "Papers per digest"):
        assert label in page
    for button in ("Pause my digest", "Unsubscribe", "Download my data (JSON)", "Delete me"):
        assert button in page


def test_editing_interests_keeps_unchanged_ones_and_their_embeddings(client, ada, stand_in_model):
    embed_interests(ada.interests.all())  # what the worker did after the last change
    kept = ada.interests.get(text="graph neural networks")
    stand_in_model.texts.clear()

    page = save(client, ada, interests="graph neural networks\nprotein folding\nGraph Neural Networks").content.decode()

    assert "Your changes are saved." in page
    topics = list(ada.interests.filter(kind=Interest.Kind.TOPIC))
    assert [t.text for t in topics] == ["graph neural networks", "protein folding"]
    assert topics[0].pk == kept.pk and bytes(topics[0].embedding) == bytes(kept.embedding)
    assert topics[1].embedding, "embedded by the worker the save queued"
    assert "graph neural networks" not in stand_in_model.texts, "an unchanged interest is not embedded again"


def test_saving_twenty_new_interests_runs_no_model_in_the_request(client, ada, model_calls):
    """Embedding each new interest and its words took a gunicorn worker for a minute: now a
    Celery worker does it, once the page has been answered."""
    twenty = "\n".join(f"interest number {n} about sparse attention and protein folding" for n in range(20))

    page = save(client, ada, interests=twenty).content.decode()

    assert "Your changes are saved." in page
    assert model_calls, "the new interests were embedded"
    assert {when for when, _ in model_calls} == {"after response"}
    assert ada.interests.filter(kind=Interest.Kind.TOPIC).count() == 20
    assert all(interest.embedding for interest in ada.interests.filter(kind=Interest.Kind.TOPIC))


def test_right_after_a_save_the_page_says_the_preview_updates_in_a_moment(client, ada, monkeypatch):
    queued = []
    monkeypatch.setattr("digest.tasks.refresh_preview_task.delay", lambda *args: queued.append(args))

    page = save(client, ada, interests="graph neural networks\nprotein folding").content.decode()

    assert "this list updates in a moment" in page
    assert queued == [(ada.pk,)], "one preview task queued for the worker"
    refresh_preview_task(*queued[0])  # the worker
    page = client.get(path_of("manage", ada)).content.decode()
    assert "this list updates in a moment" not in page
    assert "No paper from the last 7 days matches your interests closely yet." in page


def test_a_save_that_fails_half_way_changes_nothing(client, ada, monkeypatch):
    """A request killed after the interests were replaced but before the keywords were left
    a mix of old and new; a save is now one transaction."""
    set_text_interests = Subscriber.set_text_interests

    def dies_at_the_keywords(subscriber, kind, texts):
        if kind == Interest.Kind.EXCLUDE:
            raise TimeoutError("worker killed")
        set_text_interests(subscriber, kind, texts)

    monkeypatch.setattr(Subscriber, "set_text_interests", dies_at_the_keywords)
    with pytest.raises(TimeoutError):
        save(client, ada, interests="something new\nand more", send_hour="18", excluded_keywords="survey")

    ada.refresh_from_db()
    assert ada.text_interests(Interest.Kind.TOPIC) == ["graph neural networks", "quantum error correction"]
    assert ada.send_hour == 7


@pytest.mark.django_db(transaction=True)
def test_two_saves_at_once_never_leave_more_interests_than_the_form_allows(postgres, ada):
    """Two concurrent saves of 20 interests each used to interleave their deletes and inserts."""
    start = threading.Barrier(2)
    statuses = []

    def save_twenty(prefix):
        start.wait()
        interests = "\n".join(f"{prefix} interest {n}" for n in range(20))
        response = Client().post(path_of("manage", ada), {**SETTINGS, "interests": interests}, follow=True)
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=save_twenty, args=(prefix,)) for prefix in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200, 200]
    texts = ada.text_interests(Interest.Kind.TOPIC)
    assert len(texts) == 20 and len({text.split()[0] for text in texts}) == 1, "one save's interests, whole"


@override_settings(MANAGE_RATE_PER_SUBSCRIBER="3/h", MANAGE_RATE_PER_IP="100/h")
def test_saving_over_and_over_from_one_link_is_slowed_down(client, ada):
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        assert [save(client, ada).status_code for _ in range(3)] == [200, 200, 200]
        refused = save(client, ada)
        assert refused.status_code == 429
        assert "That was a lot of attempts" in refused.content.decode()
        other = make_subscriber("bob@example.org")
        assert save(client, other).status_code == 200, "another reader's link is not affected"
    with time_machine.travel("2026-03-02 11:00Z", tick=False):
        assert save(client, ada).status_code == 200, "a new hour, a new allowance"


@override_settings(MANAGE_RATE_PER_SUBSCRIBER="100/h", MANAGE_RATE_PER_IP="3/h")
def test_saving_many_readers_settings_from_one_address_is_slowed_down(client):
    readers = [make_subscriber(f"reader{n}@example.org") for n in range(4)]
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        statuses = [save(client, reader).status_code for reader in readers]
        other_ip = client.post(path_of("manage", readers[3]), SETTINGS, REMOTE_ADDR="10.9.8.7")
    assert statuses == [200, 200, 200, 429]
    assert other_ip.status_code == 302


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


def test_an_old_manage_link_expires_and_its_page_mails_a_fresh_one(client, ada):
    with time_machine.travel("2026-01-01 08:00Z", tick=False):
        old_path = path_of("manage", ada)
    with time_machine.travel("2026-03-31 08:00Z", tick=False):
        assert client.get(old_path).status_code == 200, "89 days: still good"
    with time_machine.travel("2026-04-02 08:00Z", tick=False):
        expired = client.get(old_path)
        page = expired.content.decode()
        assert expired.status_code == 400
        assert "This link has expired" in page and "every digest brings a fresh one" in page
        assert client.post(old_path, SETTINGS).status_code == 400, "and it changes nothing"

        sent = post_and_run_queued(client, "/manage/", {"email": ada.email}, follow=True)
        assert "If that address has a subscription" in sent.content.decode()
        (message,) = mail.outbox
        assert message.to == ["ada@example.org"]
        assert client.get(link_in(message.body, "manage")).status_code == 200


def test_asking_for_a_link_answers_alike_for_any_address_and_mails_only_the_subscription(client, ada):
    page = client.get("/manage/").content.decode()
    assert '<label for="id_email">Email address' in page

    unknown = post_and_run_queued(client, "/manage/", {"email": "nobody@example.org"}, follow=True)
    known = post_and_run_queued(client, "/manage/", {"email": "ADA@example.org"}, follow=True)

    assert unknown.redirect_chain == known.redirect_chain and unknown.content == known.content
    assert [message.to for message in mail.outbox] == [["ada@example.org"]]


@override_settings(SIGNUP_RATE_PER_EMAIL="2/h", SIGNUP_RATE_PER_IP="100/h")
def test_asking_for_links_counts_against_the_same_allowance_as_signing_up(client, ada):
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        post_and_run_queued(client, "/", {**SIGNUP, "email": ada.email})
        post_and_run_queued(client, "/manage/", {"email": ada.email})
        refused = post_and_run_queued(client, "/manage/", {"email": ada.email})
    assert refused.status_code == 429
    assert len(mail.outbox) == 1, "one mail per mailbox an hour: the first link still works"
