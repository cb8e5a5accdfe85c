"""A reader opens a digest in the browser: from the email's "view in your browser" link, or
later from the list of past digests on their manage page. The page shows the email and
changes nothing; a link works for its own reader's digest only."""

import re
from datetime import date
from html import unescape

import pytest
from django.core import mail
from django.utils import timezone

from digest.models import Digest
from digest.render import digest_message
from subscriptions import signing
from tests.factories import make_digest, make_papers, make_subscriber
from tests.subscription_helpers import html_part, path_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    ada = make_subscriber("ada@example.org")
    papers = make_papers(3)
    digest = make_digest(ada, papers, issue_date=date(2026, 8, 4), status=Digest.Status.SENT, sent_at=timezone.now())
    return digest, papers


def view_link(message):
    return re.search(r"View in your browser: (\S+)", message.body).group(1)


def test_the_email_links_to_itself_in_the_browser_and_the_page_shows_it(client, sent):
    digest, papers = sent
    message = digest_message(digest)
    url = view_link(message)
    assert url.startswith("http://testserver/digest/") and url in html_part(message)

    response = client.get(url.removeprefix("http://testserver"))

    page = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Your papers for Tue 4 Aug" in page and all(paper.title in page for paper in papers)
    assert "'unsafe-inline'" in response["Content-Security-Policy"]
    assert Digest.objects.get(pk=digest.pk).status == Digest.Status.SENT and not mail.outbox


def test_the_page_only_shows_and_a_post_changes_nothing(client, sent):
    digest, _ = sent
    path = view_link(digest_message(digest)).removeprefix("http://testserver")

    assert client.post(path).status_code == 405
    assert client.head(path).status_code == 200


def test_a_link_opens_only_its_own_readers_digest(client, sent):
    digest, _ = sent
    bob = make_subscriber("bob@example.org")
    bobs = make_digest(bob, status=Digest.Status.SENT)
    planned = make_digest(digest.subscriber, issue_date=date(2026, 8, 5))

    forged = client.get(f"/digest/{signing.make_token('digest', bob)[:-2]}xx/")
    someone_elses = client.get(f"/digest/{signing.make_token('digest', bob, d=digest.pk)}/")
    not_sent = client.get(f"/digest/{signing.make_token('digest', digest.subscriber, d=planned.pk)}/")
    manage_token = client.get(f"/digest/{signing.make_token('manage', bob)}/")

    assert forged.status_code == manage_token.status_code == 400
    assert someone_elses.status_code == not_sent.status_code == 404
    assert client.get(f"/digest/{signing.make_token('digest', bob, d=bobs.pk)}/").status_code == 200


def test_the_manage_page_lists_the_readers_past_digests_each_opening_in_the_browser(client, sent):
    digest, _ = sent
    make_digest(digest.subscriber, issue_date=date(2026, 8, 5))  # planned: not listed yet

    page = client.get(path_of("manage", digest.subscriber)).content.decode()

    listed = re.findall(
        r'<li><a href="(http://testserver/digest/[^"]+)">([^<]+)</a> <span class="paper-meta">([^<]+)', page
    )
    assert [(date, meta) for _, date, meta in listed] == [("Tue 4 Aug 2026", "3 papers")]
    assert client.get(listed[0][0].removeprefix("http://testserver")).status_code == 200
