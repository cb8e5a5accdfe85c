"""A visitor signs up on the front page and is asked to confirm by email."""

import json
import re

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subscriptions.models import Interest, Subscriber
from tests.factories import make_subscriber
from tests.subscription_helpers import SIGNUP, html_part, link_in, only_email, post_and_run_queued

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stand_in_model(fake_model):
    """The worker a sign-up or save queues embeds with the stand-in: these stories are not about ranking."""
    return fake_model


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def sign_up(client, **changes):
    return post_and_run_queued(client, reverse("subscriptions:signup"), {**SIGNUP, **changes}, follow=True)


def test_front_page_offers_a_labelled_sign_up_form(client):
    page = client.get("/").content.decode()
    for field, label in [
        ("email", "Email address"),
        ("interests", "Your interests"),
        ("send_hour", "Send at"),
        ("timezone", "Time zone"),
    ]:
        assert f'<label for="id_{field}">{label}' in page
    assert "<legend>How often" in page
    assert "You will get up to 10 papers per email" in page
    assert "data-fill-timezone" in page, "a fresh form lets the browser fill in its time zone"


def test_new_address_is_asked_to_confirm_by_email(client):
    response = sign_up(client, email=" Ada@Example.ORG ")

    assert response.redirect_chain == [(reverse("subscriptions:check_inbox"), 302)]
    assert "Check your inbox" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.status, subscriber.timezone) == ("ada@example.org", "pending", "Europe/Berlin")
    assert subscriber.text_interests(Interest.Kind.TOPIC) == [
        "contrastive sentence embeddings",
        "protein structure prediction",
    ]
    assert all(interest.embedding for interest in subscriber.interests.all())

    message = only_email()
    assert message.to == ["ada@example.org"]
    assert message.subject == "Confirm your Paper Digest subscription"
    assert "List-Unsubscribe" in message.extra_headers
    for body in (message.body, html_part(message)):
        assert link_in(body, "confirm")
        assert "protein structure prediction" not in body, "nothing typed into the form is mailed"
        assert "works for 3 days" in body
        assert "07:00 (Europe/Berlin)" in body


def test_weekly_choice_is_kept_with_its_weekday(client):
    sign_up(client, frequency="weekly", weekday="4", send_hour="18")
    subscriber = Subscriber.objects.get()
    assert (subscriber.frequency, subscriber.weekday, subscriber.send_hour) == ("weekly", 4, 18)
    assert "weekly digest, every Friday" in only_email().body


def test_known_address_gets_the_same_answer_and_its_manage_link(client):
    new_visitor = sign_up(client, email="someone-new@example.org")
    make_subscriber("ada@example.org", interests=["graph neural networks"])
    mail.outbox.clear()
    known_visitor = sign_up(client, email="ADA@example.org", interests="something else entirely")

    assert known_visitor.redirect_chain == new_visitor.redirect_chain
    assert known_visitor.content == new_visitor.content
    subscriber = Subscriber.objects.get(email="ada@example.org")
    assert subscriber.text_interests(Interest.Kind.TOPIC) == ["graph neural networks"], "nothing changed"
    message = only_email()
    assert message.to == ["ada@example.org"]
    assert message.subject == "Your Paper Digest subscription"
    for body in (message.body, html_part(message)):
        assert "already has a subscription" in body
        assert link_in(body, "manage")
        assert "/confirm/" not in body


def test_signing_up_again_before_confirming_changes_nothing_and_mails_a_fresh_link_next_hour(client):
    """Only the owner's link changes a pending subscription: a second sign-up by anyone else
    cannot swap in its own interests before the owner confirms. The first link still works, so
    a second mail within the hour is not sent."""
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        sign_up(client, interests="old topic")
        sign_up(client, interests="new topic", send_hour="9")
    with time_machine.travel("2026-03-02 11:00Z", tick=False):
        sign_up(client, interests="newer topic")

    subscriber = Subscriber.objects.get()
    assert subscriber.text_interests(Interest.Kind.TOPIC) == ["old topic"]
    assert subscriber.send_hour == 7
    assert [m.subject for m in mail.outbox] == ["Confirm your Paper Digest subscription"] * 2


def test_signing_up_an_unsubscribed_address_mails_only_the_fixed_link_email(client):
    make_subscriber("ada@example.org", status=Subscriber.Status.UNSUBSCRIBED)

    sign_up(client, interests="Claim your prize at http://evil.example/win")

    message = only_email()
    assert message.subject == "Your Paper Digest subscription"
    for body in (message.body, html_part(message)):
        assert "evil.example" not in body and "prize" not in body
    subscriber = Subscriber.objects.get()
    assert subscriber.status == "unsubscribed", "a sign-up never resubscribes anyone"
    assert subscriber.text_interests(Interest.Kind.TOPIC) == ["graph neural networks"]


@override_settings(SIGNUP_RATE_PER_IP="100/h")
def test_an_unsubscribed_reader_gets_at_most_one_mail_an_hour_however_often_a_stranger_signs_them_up(client):
    make_subscriber("ada@example.org", status=Subscriber.Status.UNSUBSCRIBED)

    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        answers = [
            sign_up(client, email=email) for email in ["ada@example.org", "ADA@example.org.", "ada@ｅxample.org"]
        ]
        answers += [sign_up(client, email="ada@example.org") for _ in range(2)]

    assert {response.status_code for response in answers} == {200}
    assert len({response.content for response in answers}) == 1, "the page never tells"
    assert [message.subject for message in mail.outbox] == ["Your Paper Digest subscription"]
    assert Subscriber.objects.get().status == "unsubscribed"


def test_a_bounced_address_must_confirm_again(client):
    make_subscriber(status=Subscriber.Status.BOUNCED)
    sign_up(client)
    assert only_email().subject == "Confirm your Paper Digest subscription"
    assert Subscriber.objects.get().status == "bounced"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("email", "not-an-address", "Enter a valid email address."),
        ("email", "", "This field is required."),
        ("interests", "  \n \n", "Please enter at least one interest, one per line, or some of your own papers below."),
        ("interests", "\n".join(f"topic number {n}" for n in range(200)), "You listed 200 interests; at most 20 fit."),
        ("interests", "x" * 10240, "That is too much text (10240 characters)"),
        ("interests", "fine topic\n" + "y" * 250, "Line 2 is 250 characters long"),
        ("interests", "graphs\n<script>alert('owned')</script>", "Line 2 looks like HTML or code."),
        ("interests", '<img src=x onerror="alert(1)">', "Line 1 looks like HTML or code."),
        ("timezone", "Mars/Olympus_Mons", "Select a valid choice."),
        ("send_hour", "24", "Select a valid choice."),
        ("frequency", "hourly", "Select a valid choice."),
    ],
)
def test_invalid_input_is_shown_at_its_field_and_nothing_is_stored(client, field, value, message):
    response = sign_up(client, **{field: value})

    assert response.status_code == 200
    page = response.content.decode()
    error_list = page.split(f'id="id_{field}_error"', 1)[1].split("</ul>", 1)[0]
    assert message in error_list.replace("&#x27;", "'")
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error"', page), "screen readers read the error with the field"
    assert "Please check the field marked below." in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert not Subscriber.objects.exists()
    assert not Interest.objects.exists()
    assert mail.outbox == []


def test_text_and_links_typed_into_the_form_never_reach_the_confirmation_email(client):
    """Anyone may type anyone's address: the email must not carry their words under our name."""
    sign_up(client, interests="Your account is locked, log in at https://evil.example/login\np < 0.05 & robust")

    message = only_email()
    for body in (message.body, html_part(message)):
        assert "evil.example" not in body and "locked" not in body and "robust" not in body
    assert Subscriber.objects.get().text_interests(Interest.Kind.TOPIC)[1] == "p < 0.05 & robust", "kept for the owner"


def test_sign_up_answers_alike_for_known_and_new_addresses_and_runs_no_model_in_the_request(client, model_calls):
    """In embedded mode the model used to load inside a new address's request (a second),
    never for a known one (70 ms): one request told them apart. Now neither request runs it."""
    make_subscriber("known@example.org")
    known = sign_up(client, email="known@example.org")
    new = sign_up(client, email="new@example.org")

    assert known.redirect_chain == new.redirect_chain and known.content == new.content
    assert {when for when, _ in model_calls} == {"after response"}, "the new address's interests, embedded later"
    assert sorted(message.to[0] for message in mail.outbox) == ["known@example.org", "new@example.org"]


@override_settings(SIGNUP_RATE_PER_EMAIL="2/h", SIGNUP_RATE_PER_IP="100/h")
def test_too_many_sign_ups_for_one_address_get_the_friendly_429_whether_or_not_it_exists(client):
    make_subscriber("known@example.org")
    for email in ("known@example.org", "unknown@example.org"):
        with time_machine.travel("2026-03-02 10:00Z", tick=False):
            assert sign_up(client, email=email).status_code == 200
            assert sign_up(client, email=email.upper()).status_code == 200
            refused = sign_up(client, email=f"  {email} ")
        assert refused.status_code == 429
        page = refused.content.decode()
        assert "That was a lot of attempts" in page
        assert "Paper Digest" in page, "the 429 page has the site layout"
    with time_machine.travel("2026-03-02 11:00Z", tick=False):
        assert sign_up(client, email="known@example.org").status_code == 200, "a new hour, a new allowance"


@override_settings(SIGNUP_RATE_PER_IP="3/h", SIGNUP_RATE_PER_EMAIL="100/h")
def test_too_many_sign_ups_from_one_ip_are_refused_even_when_invalid(client):
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        sign_up(client, email="a@example.org")
        sign_up(client, email="not valid")
        sign_up(client, email="b@example.org")
        assert sign_up(client, email="c@example.org").status_code == 429
        other_ip = client.post(
            reverse("subscriptions:signup"), {**SIGNUP, "email": "c@example.org"}, REMOTE_ADDR="10.1.2.3"
        )
    assert other_ip.status_code == 302
    assert not Subscriber.objects.filter(email="not valid").exists()


@override_settings(SIGNUP_RATE_PER_EMAIL="1/h")
def test_rate_limits_hold_on_the_production_redis_cache(client, redis_url):
    caches = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}}
    with override_settings(CACHES=caches):
        assert sign_up(client).status_code == 200
        assert sign_up(client).status_code == 429
        import redis

        keys = redis.Redis.from_url(redis_url).keys("*ratelimit:signup-email:*")
        assert keys and b"ada" not in keys[0], "addresses are hashed before they become keys"


def test_sign_up_is_queued_with_plain_json_arguments(client, monkeypatch):
    """A worker, not the request, does the sign-up: so the answer takes as long for a known address."""
    queued = []
    monkeypatch.setattr("subscriptions.tasks.sign_up_task.delay", lambda *args: queued.append(args))
    assert sign_up(client).status_code == 200
    assert json.loads(json.dumps(queued)) == [
        [
            "ada@example.org",
            ["contrastive sentence embeddings", "protein structure prediction"],
            {"frequency": "daily", "weekday": 0, "send_hour": 7, "timezone": "Europe/Berlin"},
            [],
        ]
    ]
    assert not Subscriber.objects.exists(), "nothing is stored before the worker runs"


@override_settings(SIGNUP_RATE_PER_IP="1/h", SIGNUP_RATE_PER_EMAIL="100/h", TRUSTED_PROXY_HOPS=1)
def test_behind_a_proxy_the_limit_follows_the_visitor_not_what_they_claim(client):
    def from_visitor(visitor, claimed, email):
        forwarded = f"{claimed}, {visitor}" if claimed else visitor
        return client.post(
            reverse("subscriptions:signup"),
            {**SIGNUP, "email": email},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=forwarded,
        ).status_code

    assert from_visitor("203.0.113.5", "", "a@example.org") == 302
    assert from_visitor("203.0.113.5", "198.51.100.77", "b@example.org") == 429, "a forged entry changes nothing"
    assert from_visitor("203.0.113.6", "", "c@example.org") == 302, "another visitor behind the same proxy"


@override_settings(SIGNUP_RATE_PER_IP="3/h", SIGNUP_RATE_PER_EMAIL="100/h", TRUSTED_PROXY_HOPS=1)
def test_a_client_reaching_the_app_directly_cannot_rotate_x_forwarded_for_past_the_limit(client):
    """The proxy setting is trusted only for requests that came through the proxy (TRUSTED_PROXY_ADDRESSES)."""
    answers = [
        client.post(
            reverse("subscriptions:signup"),
            {**SIGNUP, "email": f"reader{n}@example.org"},
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(30)
    ]

    assert answers == [302] * 3 + [429] * 27


@pytest.mark.parametrize(
    "path, task, fields",
    [("/", "subscriptions.tasks.sign_up_task", SIGNUP), ("/manage/", "subscriptions.tasks.send_link_task", {})],
)
def test_a_known_and_an_unknown_address_make_the_request_do_exactly_the_same_work(
    client, monkeypatch, path, task, fields
):
    """Same timing in every mode, embedded included: the request only validates and queues one
    task; looking the address up, and any mail, happen in the worker. So the two requests run
    the same queries and queue the same task, and neither sends anything itself."""
    make_subscriber("known@example.org")
    queued = []
    monkeypatch.setattr(f"{task}.delay", lambda *args: queued.append(args))
    work = {}
    for email in ("known@example.org", "unknown@example.org"):
        with CaptureQueriesContext(connection) as queries:
            response = post_and_run_queued(client, path, {**fields, "email": email})
        work[email] = (response.status_code, response["Location"], [query["sql"] for query in queries])

    assert work["known@example.org"] == work["unknown@example.org"]
    assert [args[0] for args in queued] == ["known@example.org", "unknown@example.org"]
    assert mail.outbox == [], "nothing is sent inside a request"
