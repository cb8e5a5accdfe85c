"""Someone guesses the admin password: after a few failures the account is refused from their
address, the right password included, until the window passes, and the page says why."""

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import override_settings

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins for this account from your address."


@pytest.fixture(autouse=True)
def staff_member():
    cache.clear()
    User.objects.create_superuser("operator", "operator@example.org", "the-right-password")
    yield
    cache.clear()


def sign_in(client, password, username="operator", address="203.0.113.7"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


@override_settings(ADMIN_LOGIN_FAILURE_RATE="10/h")
def test_thirty_wrong_passwords_lock_the_account_from_that_address_until_the_window_passes(client):
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        answers = [sign_in(client, f"guess-{n}").content.decode() for n in range(30)]
        right = sign_in(client, "the-right-password")

    assert all("Please enter the correct username and password" in page for page in answers[:10])
    assert all(LOCKED in page for page in answers[10:])
    assert right.status_code == 200 and LOCKED in right.content.decode(), "refused, though the password is right"
    assert "_auth_user_id" not in client.session

    with time_machine.travel("2026-03-02 11:00Z", tick=False):
        assert sign_in(client, "the-right-password").status_code == 302
        assert client.session["_auth_user_id"] == str(User.objects.get().pk)


@override_settings(ADMIN_LOGIN_FAILURE_RATE="3/h")
def test_the_lock_holds_one_account_name_and_address_not_everyone(client):
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        for n in range(3):
            sign_in(client, f"guess-{n}")
        assert LOCKED in sign_in(client, "the-right-password").content.decode()
        assert LOCKED in sign_in(client, "the-right-password", username="OPERATOR ").content.decode()
        assert sign_in(client, "the-right-password", address="198.51.100.20").status_code == 302
