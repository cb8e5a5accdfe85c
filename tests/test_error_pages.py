"""Whatever goes wrong, a visitor sees a page in the site's layout that says what happened."""

import pytest
from django.template.loader import render_to_string
from django.test import Client


def test_unknown_page_gets_the_404_page(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is nothing here" in page and "Skip to the content" in page


def test_a_bad_host_gets_the_400_page(client, db):
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "That request did not make sense to us" in response.content.decode()


def test_a_form_without_its_csrf_cookie_gets_the_403_page(db):
    response = Client(enforce_csrf_checks=True).post("/", {"email": "ada@example.org"})
    assert response.status_code == 403
    assert "Please send the form again" in response.content.decode()


@pytest.mark.parametrize(
    "name, text",
    [
        ("400.html", "Error 400"),
        ("403.html", "Error 403"),
        ("404.html", "Error 404"),
        ("429.html", "That was a lot of attempts"),
        ("500.html", "Something went wrong on our side"),
    ],
)
def test_error_pages_render_without_a_request(name, text):
    """Django renders 500.html with no context at all: it must not need one."""
    page = render_to_string(name)
    assert text in page and "/static/css/site.css" in page
