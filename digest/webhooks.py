"""ESP tracking events (anymail's `tracking` signal) → digest status and suppression.

Bounces, complaints and ESP-side unsubscribes stop all further mail to the address;
delivered / opened / clicked are recorded on the digest. Each event is stored once by its
event id (ESPs retry webhooks), matched to its digest by the `digest_id` metadata every
digest carries, else by the message id we recorded when it was sent, and acts on a reader
only when its recipient is that reader's address. The event row and its effect commit
together. Only the configured ESP's webhook URL exists (`tracking_urls`), and production
requires a strong ANYMAIL_WEBHOOK_SECRET for it (config/settings.py).
"""

import hashlib
import json
import logging
from functools import wraps

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailWebhookValidationFailure
from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpResponse
from django.urls import URLPattern
from django.utils import timezone

from digest.models import DeliveryEvent, Digest
from digest.sending import suppress
from subscriptions.addresses import mailbox_key
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)

SUPPRESSING = {
    "bounced": Subscriber.Status.BOUNCED,
    "rejected": Subscriber.Status.BOUNCED,
    "complained": Subscriber.Status.COMPLAINED,
    "unsubscribed": Subscriber.Status.UNSUBSCRIBED,
}
RECORDED_ON_DIGEST = {"delivered": "delivered_at", "opened": "opened_at", "clicked": "clicked_at"}


def event_key(event, esp_name):
    """The ESP's event id, or (for ESPs that send none) a hash of what identifies the event."""
    if event.event_id:
        return str(event.event_id)[:300]
    parts = [
        esp_name,
        event.event_type,
        event.message_id,
        event.recipient,
        event.timestamp and event.timestamp.isoformat(),
    ]
    return f"{esp_name}:" + hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()


def digest_for(event):
    digest_id = str((event.metadata or {}).get("digest_id") or "")
    if digest_id.isdigit():
        digest = Digest.objects.select_related("subscriber").filter(pk=int(digest_id)).first()
        if digest:
            return digest
    message_id = (event.message_id or "").strip()
    if message_id:
        candidates = {message_id, message_id.strip("<>"), f"<{message_id.strip('<>')}>"}
        return Digest.objects.select_related("subscriber").filter(message_id__in=candidates).first()
    return None


def whom(event, esp_name):
    """(digest, subscriber) the event may act on: both only when its recipient is that reader.

    Digest ids are sequential and metadata is whatever the poster wrote, so a digest named by
    an event proves nothing about whom it concerns: only the recipient address does. An event
    for digest 4 with another address changes nobody (it is recorded, unattached).
    """
    recipient = mailbox_key(event.recipient or "")
    digest = digest_for(event)
    if digest is not None:
        if recipient and recipient == digest.subscriber.mailbox:
            return digest, digest.subscriber
        logger.warning(
            "%s %s event names digest %s but its recipient %r is not that digest's reader; recorded only",
            esp_name,
            event.event_type,
            digest.pk,
            event.recipient,
        )
        return None, None
    subscriber = Subscriber.objects.filter(mailbox=recipient).first() if recipient else None
    return None, subscriber


class ReceiverFailed(Exception):
    """Recording a genuine event failed on our side: the ESP is answered 500 and posts it again."""


def record_tracking_event(sender, event, esp_name, **kwargs):
    """Store the event and apply its effect in one transaction, so an ESP's retry after a
    failure here finds nothing half-recorded, and is applied then."""
    try:
        with transaction.atomic():
            _record(event, esp_name)
    except Exception as error:
        raise ReceiverFailed(f"{esp_name} {event.event_type} event {event.event_id!r}: {error!r}") from error


def _record(event, esp_name):
    digest, subscriber = whom(event, esp_name)
    stored, created = DeliveryEvent.objects.get_or_create(
        event_id=event_key(event, esp_name),
        defaults={
            "esp": esp_name or "",
            "event_type": event.event_type or "unknown",
            "recipient": (event.recipient or "")[:254],
            "message_id": (event.message_id or "")[:300],
            "digest": digest,
            "subscriber": subscriber,
            "occurred_at": event.timestamp or timezone.now(),
            "detail": (event.description or event.mta_response or event.reject_reason or "")[:5000],
        },
    )
    if not created:
        logger.info("%s event %s already recorded; ignored", esp_name, stored.event_id)
        return
    if event.event_type in RECORDED_ON_DIGEST:
        if digest is None:
            logger.warning(
                "%s %s event for no digest of its recipient (message %r); recorded only",
                esp_name,
                event.event_type,
                event.message_id,
            )
            return
        field = RECORDED_ON_DIGEST[event.event_type]
        Digest.objects.filter(pk=digest.pk, **{f"{field}__isnull": True}).update(
            **{field: event.timestamp or timezone.now()}
        )
    elif event.event_type in SUPPRESSING:
        if subscriber is None:
            logger.warning(
                "%s %s event for unknown recipient %r; recorded only", esp_name, event.event_type, event.recipient
            )
            return
        reason = f"{esp_name} {event.event_type}: {event.description or event.reject_reason or ''}".strip()
        suppress(subscriber.pk, SUPPRESSING[event.event_type], reason)
        logger.warning("subscriber %s suppressed: %s", subscriber.pk, reason)
    else:
        logger.info("%s event %s (%s) recorded, no action", esp_name, stored.event_id, event.event_type)


def _esp_of(pattern):
    return str(pattern.pattern).lstrip("^").split("/", 1)[0]


def _only_when_configured(esp, view):
    @wraps(view)
    def configured_only(request, *args, **kwargs):
        if esp != settings.ANYMAIL_ESP:
            raise Http404(f"No {esp} webhook here: this site sends through {settings.ANYMAIL_ESP or 'SMTP'}.")
        return view(request, *args, **kwargs)

    return configured_only


def tracking_urls():
    """anymail's tracking webhook URLs, each answering only for the ESP in ANYMAIL_ESP.

    Every other ESP's URL (and every inbound-mail URL: we read no inbound mail) is a plain
    404, never anymail's complaint about a webhook it has no secret for.
    """
    return [
        URLPattern(pattern.pattern, _only_when_configured(_esp_of(pattern), pattern.callback), name=pattern.name)
        for pattern in anymail_urls.urlpatterns
        if pattern.name and (pattern.name.endswith("_tracking_webhook") or pattern.name == "mandrill_webhook")
    ]


class WebhookErrorsMiddleware:
    """Proper answers from the anymail webhook URLs.

    anymail turns a missing or wrong webhook secret into a generic 400; an ESP (and an
    operator reading logs) should see 401 (no credentials) or 403 (wrong ones). An
    unreadable body is a 400. A readable event anymail cannot parse is logged and
    acknowledged, since the ESP posting it again would not make it readable; but when our
    own receiver fails (ReceiverFailed), the answer is a 500, so the ESP delivers it again.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith("/anymail/"):
            return None
        if isinstance(exception, AnymailWebhookValidationFailure):
            logger.warning("webhook %s refused: %s", request.path, exception)
            if "HTTP_AUTHORIZATION" not in request.META:
                response = HttpResponse("Authentication required.\n", status=401, content_type="text/plain")
                response["WWW-Authenticate"] = 'Basic realm="anymail webhooks"'
                return response
            return HttpResponse("Wrong webhook credentials.\n", status=403, content_type="text/plain")
        if isinstance(exception, ReceiverFailed):
            logger.error("webhook %s not recorded, the ESP will retry: %s", request.path, exception, exc_info=exception)
            return HttpResponse("Not recorded; please retry.\n", status=500, content_type="text/plain")
        if isinstance(exception, (json.JSONDecodeError, UnicodeDecodeError)):
            logger.warning("webhook %s: unreadable payload: %s", request.path, exception)
            return HttpResponse("Unreadable payload.\n", status=400, content_type="text/plain")
        if isinstance(exception, (KeyError, TypeError, AttributeError, ValueError)):
            logger.error("webhook %s: malformed event ignored (%r): %.500r", request.path, exception, request.body)
            return HttpResponse("Malformed event logged.\n", content_type="text/plain")
        return None
