"""Every spelling of one mailbox is one subscription: a stranger cannot make a second row for
someone's address (and mail them past its limit) by changing case, adding a dot, using a fullwidth
letter or the other name of the domain."""

import importlib

import pytest
import time_machine
from django.apps import apps
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from subscriptions.addresses import mailbox_key
from subscriptions.models import Subscriber
from tests.factories import make_subscriber
from tests.subscription_helpers import SIGNUP, post_and_run_queued

pytestmark = pytest.mark.django_db

SAME_MAILBOX = [
    [
        "victim@example.com",
        "Victim@Example.COM",
        "victim@example.com.",
        "victim@ｅxample.com",
        " victim@EXAMPLE.com.. ",
    ],
    ["ada@bücher.de", "ada@BÜCHER.de", "ada@xn--bcher-kva.de", "ada@xn--bcher-kva.de."],
    ["victim@gmail.com", "vic.tim@gmail.com", "victim+digest@gmail.com", "V.ictim+x@googlemail.com"],
]


@pytest.fixture(autouse=True)
def fresh_rate_limits(fake_model):
    cache.clear()
    yield
    cache.clear()


def sign_up(client, email):
    return post_and_run_queued(client, reverse("subscriptions:signup"), {**SIGNUP, "email": email})


@pytest.mark.parametrize("spellings", SAME_MAILBOX, ids=["case-dots-fullwidth", "idn", "gmail"])
def test_every_spelling_of_a_mailbox_finds_the_one_subscription(client, spellings):
    for email in spellings:
        assert sign_up(client, email).status_code == 302

    subscriber = Subscriber.objects.get()
    assert subscriber.mailbox == mailbox_key(spellings[0])
    assert {message.to[0] for message in mail.outbox} == {subscriber.email}, "only the first spelling is mailed"


def test_the_address_is_mailed_as_typed_but_known_by_its_mailbox():
    reader = make_subscriber("Ada.Lovelace+papers@GoogleMail.com.")

    assert reader.email == "ada.lovelace+papers@googlemail.com", "the reader's own tag still reaches their filters"
    assert reader.mailbox == "adalovelace@gmail.com"
    assert Subscriber.objects.for_address("adalovelace@gmail.com").get() == reader


def test_dots_and_tags_are_folded_only_where_the_provider_says_so():
    assert mailbox_key("first.last+news@example.org") == "first.last+news@example.org"
    assert mailbox_key("First.Last+news@gmail.com") == "firstlast@gmail.com"


@override_settings(SIGNUP_RATE_PER_EMAIL="3/h", SIGNUP_RATE_PER_IP="100/h")
def test_the_per_address_limit_counts_the_mailbox_not_the_spelling(client):
    spellings = ["victim@example.com", "VICTIM@example.com", "victim@example.com.", "victim@ｅxample.com"]
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        answers = [sign_up(client, email).status_code for email in spellings]

    assert answers == [302, 302, 302, 429]
    assert len(mail.outbox) == 1, "and of the sign-ups let through, one mails the mailbox"


@pytest.mark.parametrize(
    "email, message",
    [
        ("vic\x00tim@example.com", "control or invisible characters"),
        ("victim\u202e@example.com", "control or invisible characters"),
        ("vic\u200btim@example.com", "control or invisible characters"),
        ('"victim\\"@example.com"@evil.example', "Quoted addresses"),
        ('"vic tim"@example.com', "Quoted addresses"),
        ("victim@[127.0.0.1]", "Addresses at an IP address are not accepted"),
        ("victim@[IPv6:::1]", "Addresses at an IP address are not accepted"),
        ("victim@192.168.0.10", "Addresses at an IP address are not accepted"),
        ("victim@exa..mple.com", "Enter a valid email address."),
        ("\ufb03" * 81 + "@example.com", "This address is 255 characters long"),
    ],
)
def test_addresses_that_hide_what_they_are_are_refused_with_a_clear_message(client, email, message):
    response = sign_up(client, email)

    assert response.status_code == 200
    error_list = response.content.decode().split('id="id_email_error"', 1)[1].split("</ul>", 1)[0]
    assert message in error_list
    assert not Subscriber.objects.exists() and mail.outbox == []


def test_the_admin_refuses_a_second_subscription_for_a_mailbox():
    """The admin's form runs full_clean(): a clear error at the address, not a crash on save."""
    make_subscriber("victim@example.com")

    with pytest.raises(ValidationError) as refused:
        Subscriber(email="Victim@example.com.").full_clean()

    assert refused.value.message_dict["email"] == [
        "Another subscription already uses this mailbox (however it is spelled)."
    ]


def legacy_rows(*rows):
    """Subscribers as they were stored before the mailbox key: one row per spelling."""
    made = []
    for n, (email, status) in enumerate(rows):
        subscriber = make_subscriber(f"legacy{n}@example.org", status=status)
        Subscriber.objects.filter(pk=subscriber.pk).update(email=email, mailbox=f"legacy-{n}")
        made.append(subscriber)
    return made


def fill_mailbox():
    importlib.import_module("subscriptions.migrations.0005_fill_mailbox").fill_mailbox(apps, None)


def test_the_migration_keeps_the_confirmed_subscription_and_drops_unconfirmed_duplicates(capsys):
    confirmed, stranger, other = legacy_rows(
        ("victim@example.com", "active"), ("Victim@ｅxample.com.", "pending"), ("ada@example.org", "pending")
    )

    fill_mailbox()

    assert set(Subscriber.objects.values_list("pk", "mailbox")) == {
        (confirmed.pk, "victim@example.com"),
        (other.pk, "ada@example.org"),
    }
    assert f"removed #{stranger.pk}" in capsys.readouterr().out


def test_the_migration_stops_and_names_two_confirmed_subscriptions_of_one_mailbox():
    first, second = legacy_rows(("victim@example.com", "active"), ("VICTIM@example.com", "unsubscribed"))

    with pytest.raises(RuntimeError, match=rf"victim@example.com: #{first.pk} .*#{second.pk} "):
        fill_mailbox()

    assert Subscriber.objects.count() == 2, "nothing is thrown away"
