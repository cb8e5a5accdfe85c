"""Signed, purpose-salted links: the only credentials a subscriber ever holds.

A token names one subscriber and one purpose. The salt differs per purpose, so a manage
token never works as an unsubscribe or confirm token, and a token for one subscriber
never opens another's page. Confirm links expire within days and manage links within
MANAGE_LINK_MAX_AGE_DAYS (every digest carries a fresh one, and /manage/ mails one on
request); unsubscribe, feedback and "view in browser" (digest) links live as long as the
emails that carry them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import zlib
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

if TYPE_CHECKING:
    from subscriptions.models import Subscriber

PURPOSES = {"confirm", "manage", "unsubscribe", "feedback", "digest"}


class BadLink(Exception):
    """The token was tampered with, is for another purpose, or names nobody."""


class ExpiredLink(BadLink):
    """The token was genuine but is older than its purpose allows."""


def _salt(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    return f"subscriptions.link.{purpose}"


@lru_cache(maxsize=32)
def _prepared_mac(salt: str, secret: str) -> hmac.HMAC:
    """The HMAC of `signing.dumps(..., salt=salt)` with its key already derived: derived once per
    process and purpose instead of once per link (a digest carries some twenty links)."""
    key = hashlib.sha256(f"{salt}signer{secret}".encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def make_token(purpose: str, subscriber: Subscriber, **extra: Any) -> str:
    """Exactly `signing.dumps({"s": pk, **extra}, salt=<purpose's salt>, compress=True)`, byte for
    byte (a test holds it to that), so `read_token` and Django's loads read it as ever."""
    data = json.dumps({"s": subscriber.pk, **extra}, separators=(",", ":")).encode("latin-1")
    compressed = zlib.compress(data)
    if len(compressed) < len(data) - 1:
        value = "." + signing.b64_encode(compressed).decode()
    else:
        value = signing.b64_encode(data).decode()
    value = f"{value}:{signing.b62_encode(int(time.time()))}"
    mac = _prepared_mac(_salt(purpose), settings.SECRET_KEY).copy()
    mac.update(value.encode())
    return f"{value}:{signing.b64_encode(mac.digest()).decode()}"


def read_token(purpose: str, token: str, max_age: int | None = None) -> dict[str, Any]:
    """The payload of a genuine token: {"s": subscriber id, ...extra}."""
    try:
        payload = signing.loads(token, salt=_salt(purpose), max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ExpiredLink(str(exc)) from exc
    except signing.BadSignature as exc:
        raise BadLink(str(exc)) from exc
    if not isinstance(payload, dict) or "s" not in payload:
        raise BadLink("token has no subscriber")
    return payload


def confirm_max_age() -> int:
    return settings.CONFIRM_LINK_MAX_AGE_DAYS * 24 * 3600


def manage_max_age() -> int:
    return settings.MANAGE_LINK_MAX_AGE_DAYS * 24 * 3600


def absolute_url(viewname: str, **kwargs: Any) -> str:
    return settings.SITE_URL + reverse(viewname, kwargs=kwargs)


def link(purpose: str, subscriber: Subscriber, **extra: Any) -> str:
    """The absolute URL of the signed link subscriptions:<purpose>."""
    return absolute_url(f"subscriptions:{purpose}", token=make_token(purpose, subscriber, **extra))


def digest_link(subscriber: Subscriber, digest_id: int) -> str:
    """The signed "view in your browser" address of one of the subscriber's digests (the page is
    digest's; the link is made here, where the manage page can make it too)."""
    return absolute_url("digest:view", token=make_token("digest", subscriber, d=digest_id))
