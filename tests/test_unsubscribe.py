"""A subscriber leaves with one click (RFC 8058), from the mail client or the page, and may come back."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from subscriptions import emails, signing
from subscriptions.models import Subscriber
from tests.factories import make_subscriber
from tests.subscription_helpers import link_in, path_of, post_and_run_queued

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    return make_subscriber()


def test_opening_the_link_only_shows_a_button(client, ada):
    response = client.get(path_of("unsubscribe", ada))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Unsubscribe from Paper Digest?" in page
    assert page.count('<button type="submit"') == 1
    assert Subscriber.objects.get().status == "active", "link scanners that open URLs unsubscribe nobody"


def test_one_click_post_from_the_mail_provider_unsubscribes_without_cookies(ada):
    message = emails.build("manage-link", ada)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message.extra_headers["List-Unsubscribe"].strip("<>")

    mail_provider = Client(enforce_csrf_checks=True)
    response = mail_provider.post(
        url.removeprefix("http://testserver"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.status == "unsubscribed"
    assert subscriber.unsubscribed_at is not None


def test_the_button_unsubscribes_and_offers_a_way_back(ada):
    browser = Client(enforce_csrf_checks=True)
    page = browser.post(path_of("unsubscribe", ada)).content.decode()
    assert "You are unsubscribed" in page
    assert "Resubscribe" in page
    assert Subscriber.objects.get().status == "unsubscribed"

    again = browser.post(path_of("unsubscribe", ada))
    assert again.status_code == 200 and Subscriber.objects.get().status == "unsubscribed", "idempotent"

    page = browser.post(path_of("unsubscribe", ada), {"action": "resubscribe"}).content.decode()
    assert "You are subscribed again" in page
    assert Subscriber.objects.get().status == "active"


def test_the_unsubscribe_pages_hand_out_no_manage_link(client, ada):
    """Whoever holds an unsubscribe link may leave, not rewrite the subscription: the way to
    the settings is a link emailed to the address."""
    pages = [client.get(path_of("unsubscribe", ada)), client.post(path_of("unsubscribe", ada))]
    for page in (response.content.decode() for response in pages):
        assert not re.search(r"/manage/[^/\"]+/", page)
    assert "Email me a link to my settings" in pages[1].content.decode()

    cache.clear()
    post_and_run_queued(client, "/manage/", {"email": ada.email}, follow=True)
    (message,) = mail.outbox
    assert message.to == [ada.email] and link_in(message.body, "manage")


def test_an_unsubscribed_link_opened_again_shows_the_result(client, ada):
    ada.unsubscribe()
    page = client.get(path_of("unsubscribe", ada)).content.decode()
    assert "You are unsubscribed" in page


def test_unsubscribing_keeps_a_bounce_on_record(client):
    bounced = make_subscriber(status=Subscriber.Status.BOUNCED)
    page = client.post(path_of("unsubscribe", bounced)).content.decode()
    assert "You are unsubscribed" in page and "Resubscribe" not in page
    assert Subscriber.objects.get().status == "bounced"


@pytest.mark.parametrize("purpose", ["manage", "confirm"])
def test_tokens_for_other_purposes_unsubscribe_nobody(client, ada, purpose):
    response = client.post(f"/unsubscribe/{signing.make_token(purpose, ada)}/")
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert Subscriber.objects.get().status == "active"


def test_unsubscribe_token_names_only_its_own_subscriber(client, ada):
    bob = make_subscriber("bob@example.org")
    client.post(path_of("unsubscribe", bob))
    assert Subscriber.objects.get(pk=ada.pk).status == "active"
    assert Subscriber.objects.get(pk=bob.pk).status == "unsubscribed"
