"""A new subscriber follows the link in the confirmation email and lands on their manage page."""

import pytest
import time_machine
from django.urls import reverse

from digest.tasks import refresh_preview_task
from papers import embeddings
from papers.models import Paper
from subscriptions import signing
from subscriptions.models import PreviewMatch, Subscriber
from tests.factories import make_subscriber
from tests.subscription_helpers import SIGNUP, link_in, only_email, path_of, post_and_run_queued

pytestmark = pytest.mark.django_db


def confirmed(client, subscriber_or_path):
    """Open the confirm link (one button) and press the button: the manage page it leads to."""
    path = subscriber_or_path if isinstance(subscriber_or_path, str) else path_of("confirm", subscriber_or_path)
    return client.post(path, follow=True)


def test_confirm_link_shows_one_button_and_only_the_button_confirms(client, fake_model):
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        post_and_run_queued(client, reverse("subscriptions:signup"), SIGNUP)
        confirm_path = link_in(only_email().body, "confirm")

        for method in (client.get, client.head):
            opened = method(confirm_path)
            assert opened.status_code == 200
            assert Subscriber.objects.get().status == "pending", "a link checker opening the link confirms nothing"
        page = client.get(confirm_path).content.decode()
        assert page.count('<button type="submit"') == 1 and "Confirm my subscription</button>" in page

        response = client.post(confirm_path, follow=True)

    subscriber = Subscriber.objects.get()
    assert subscriber.status == "active"
    assert subscriber.confirmed_at.isoformat() == "2026-03-02T10:00:00+00:00"
    assert response.redirect_chain[0][0].startswith("/manage/")
    page = response.content.decode()
    assert "Your subscription is confirmed. Welcome!" in page
    assert "contrastive sentence embeddings\nprotein structure prediction</textarea>" in page


def test_confirm_link_still_works_just_before_three_days_and_not_after(client, fake_model):
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
        assert client.post(confirm_path).status_code == 302
    assert Subscriber.objects.get().status == "active"


def test_tampered_or_wrong_purpose_links_get_a_clear_page(client):
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    token = signing.make_token("confirm", subscriber)
    for bad in (token[:-2] + "xx", "garbage", signing.make_token("manage", subscriber)):
        response = client.post(reverse("subscriptions:confirm", kwargs={"token": bad}))
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


def test_a_confirm_link_only_activates_its_own_subscriber(client, fake_model):
    ada = make_subscriber("ada@example.org", status=Subscriber.Status.PENDING)
    bob = make_subscriber("bob@example.org", status=Subscriber.Status.PENDING)
    confirmed(client, ada)
    assert Subscriber.objects.get(pk=ada.pk).status == "active"
    assert Subscriber.objects.get(pk=bob.pk).status == "pending"


def test_an_old_confirm_link_does_not_undo_an_unsubscribe(client, fake_model):
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    confirm_path = path_of("confirm", subscriber)
    confirmed(client, confirm_path)
    Subscriber.objects.get().unsubscribe()

    page = confirmed(client, confirm_path).content.decode()
    assert Subscriber.objects.get().status == "unsubscribed"
    assert "You are unsubscribed and get no more emails." in page


def test_manage_page_previews_the_papers_that_would_have_matched(client, fake_model):
    paper = Paper.objects.create(
        key="arxiv:2403.01234",
        title="Sentence <b>embeddings</b> by contrast",
        abs_url="https://arxiv.org/abs/2403.01234",
    )
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    PreviewMatch.objects.create(
        subscriber=subscriber,
        paper=paper,
        rank=1,
        matched="contrastive sentence embeddings",
        similarity=0.8123,
        why="matches your interest 'contrastive sentence embeddings' — shares 'embeddings'",
    )
    Subscriber.objects.filter(pk=subscriber.pk).update(preview_version=0)  # what the worker wrote

    page = confirmed(client, subscriber).content.decode()
    assert "Papers of the last 7 days that would have matched" in page
    assert "Sentence &lt;b&gt;embeddings&lt;/b&gt; by contrast" in page
    assert "matches your interest &#x27;contrastive sentence embeddings&#x27; — shares &#x27;embeddings&#x27;" in page
    assert "similarity" not in page
    assert 'href="https://arxiv.org/abs/2403.01234"' in page


def test_a_preview_paper_with_a_javascript_link_is_shown_without_a_link(client, fake_model):
    paper = Paper.objects.create(key="title:x", title="A paper from a hostile feed", abs_url="javascript:alert(1)")
    subscriber = make_subscriber()
    PreviewMatch.objects.create(subscriber=subscriber, paper=paper, rank=1, matched="graphs", similarity=0.5)

    page = client.get(path_of("manage", subscriber)).content.decode()
    assert "A paper from a hostile feed" in page
    assert "javascript:" not in page


def test_manage_page_previews_real_matches_from_the_last_week(client):
    """No stand-in here: the worker ranks the embedded papers of the last 7 days."""
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
        refresh_preview_task(subscriber.pk)  # the worker, after the sign-up
        page = confirmed(client, subscriber).content.decode()
    preview = page.split("Papers of the last 7 days that would have matched", 1)[1].split("</section>", 1)[0]
    assert "Contrastive learning of sentence embeddings at scale" in preview
    assert "matches your interest &#x27;contrastive sentence embeddings&#x27; — shares &#x27;" in preview
    assert "protoplanetary" not in preview, "unrelated papers stay out"
    assert "an old paper" not in preview, "only the last 7 days"


def test_manage_page_explains_an_empty_preview(client, fake_model):
    subscriber = make_subscriber(status=Subscriber.Status.PENDING)
    Subscriber.objects.filter(pk=subscriber.pk).update(preview_version=0)
    page = confirmed(client, subscriber).content.decode()
    assert "No paper from the last 7 days matches your interests closely yet." in page


def test_the_manage_preview_shows_as_many_papers_as_a_digest_holds_each_with_why_and_no_number(client):
    subscriber = make_subscriber(papers_per_digest=3)
    for rank in range(1, 8):
        paper = Paper.objects.create(key=f"title:p{rank}", title=f"Paper number {rank}")
        PreviewMatch.objects.create(subscriber=subscriber, paper=paper, rank=rank, matched="graphs", similarity=0.5)
    Subscriber.objects.filter(pk=subscriber.pk).update(preview_version=0)

    page = client.get(path_of("manage", subscriber)).content.decode()

    assert [f"Paper number {n}" in page for n in range(1, 8)] == [True] * 3 + [False] * 4
    assert "Your digest holds up to 3 papers: these are the best 3, each with why it would be there." in page
    assert "matches “graphs”" in page and "similarity" not in page
