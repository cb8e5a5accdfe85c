"""Small helpers shared by the subscription stories: a sign-up form, reading links out of mail."""

import re

from django.core import mail
from django.test import TestCase

from subscriptions import signing

SIGNUP = {
    "email": "ada@example.org",
    "interests": "contrastive sentence embeddings\nprotein structure prediction",
    "frequency": "daily",
    "weekday": "0",
    "send_hour": "7",
    "timezone": "Europe/Berlin",
}


def path_of(purpose, subscriber):
    """The site-relative signed link, as the test client wants it."""
    return signing.link(purpose, subscriber).removeprefix("http://testserver")


def html_part(message):
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def link_in(text, name):
    """The one signed `name` link (confirm, manage, unsubscribe) in an email body."""
    links = set(re.findall(rf"http://testserver(/{name}/[^\s\"<]+/)", text))
    assert len(links) == 1, f"expected one {name} link in {text!r}"
    return links.pop()


def only_email():
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    return mail.outbox[0]


def post_and_run_queued(client, path, data=None, **extra):
    """POST as a browser does, then do what a worker does with the tasks the request queued
    for after its commit (config.deferred), and with the tasks those queue in turn."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(path, data, **extra)
