"""Markup that slips into a page cannot run: every page sends a Content-Security-Policy that allows
scripts and styles from this site only, so an injected inline script or `javascript:` link is
refused by the browser itself, behind the escaping and the link check."""

import os

import pytest
from django.db import connections

from papers.models import Paper
from subscriptions import signing
from subscriptions.models import PreviewMatch
from tests.factories import make_subscriber

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Records every policy violation from the first moment of each page (init scripts are not subject to the policy).
RECORD_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.violations.push(e.violatedDirective));
"""

# What an attacker would add if escaping ever failed: each one sets window.ran when it runs.
INJECT = """
() => {
  const script = document.createElement("script");
  script.textContent = "window.ran = 'inline script'";
  document.body.append(script);
  const img = document.createElement("img");
  img.src = "/no-such-image";
  img.setAttribute("onerror", "window.ran = 'event handler'");
  document.body.append(img);
  const link = document.createElement("a");
  link.id = "injected-link";
  link.href = "javascript:window.ran = 'javascript link'";
  link.textContent = "Read the paper";
  document.body.append(link);
}
"""


def policy(response):
    return dict(
        directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";") if directive
    )


def hostile_reader():
    """A reader whose preview lists a paper stored before links were checked: a script as its
    title and a `javascript:` URL as its link."""
    reader = make_subscriber("mallory-target@example.org")
    paper = Paper.objects.create(
        key="title:hostile-preview",
        title="<script>window.ran = 'title'</script>Graph networks",
        abs_url="javascript:window.ran = 'stored link'",
    )
    PreviewMatch.objects.create(subscriber=reader, paper=paper, rank=1, matched="graph neural networks", similarity=0.7)
    reader.preview_version = reader.profile_version
    reader.save(update_fields=["preview_version"])
    return reader


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/manage/", "/check-your-inbox/", "/no-such-page/", "/admin/login/", "/healthz"])
def test_every_page_allows_scripts_and_styles_from_this_site_only(client, path):
    response = client.get(path)

    directives = policy(response)
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'self'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_the_manage_page_of_a_reader_with_a_hostile_paper_sends_the_policy(client):
    reader = hostile_reader()

    response = client.get(f"/manage/{signing.make_token('manage', reader)}/")

    assert response.status_code == 200
    assert "unsafe" not in response["Content-Security-Policy"]
    assert "<script>window.ran" not in response.content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_script_injected_into_the_manage_page_does_not_run_in_chromium(browser, live_server):
    reader = hostile_reader()
    page = browser.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    try:
        page.goto(f"{live_server.url}/manage/{signing.make_token('manage', reader)}/")

        # The stored title is text, and its link is not a link.
        assert page.get_by_text("<script>window.ran = 'title'</script>Graph networks").is_visible()
        assert page.locator("a[href^='javascript']").count() == 0
        # The page's own script (a file of this site) still runs: it hides the weekday of a daily digest.
        assert page.locator("[data-weekday]").is_hidden()

        page.evaluate(INJECT)
        page.click("#injected-link")
        page.wait_for_function("window.violations.length >= 3")

        assert page.evaluate("window.ran") is None
        assert set(page.evaluate("window.violations")) <= {"script-src-elem", "script-src-attr", "script-src"}
    finally:
        page.close()
        connections.close_all()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_admin_works_under_the_policy_in_chromium(browser, live_server, admin_user):
    page = browser.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    try:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "password")
        page.click("input[type=submit]")
        page.goto(f"{live_server.url}/admin/subscriptions/subscriber/")
        page.goto(f"{live_server.url}/admin/subscriptions/subscriber/add/")

        assert page.locator("#subscriber_form").is_visible()
        assert page.evaluate("window.violations") == []
    finally:
        page.close()
        connections.close_all()
