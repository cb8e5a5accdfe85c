"""ESP tracking events (anymail's `tracking` signal) → digest status and suppression.

Bounces, complaints and ESP-side unsubscribes stop all further mail to the address;
delivered / opened / clicked are recorded on the digest. Each event is stored once by its
event id (ESPs retry webhooks), matched to its digest by the `digest_id` metadata every
digest carries, else by the message id we recorded when it was sent.
"""

import hashlib
import json
import logging

from anymail.exceptions import AnymailWebhookValidationFailure
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone

from digest.models import DeliveryEvent, Digest
from digest.sending import suppress
from subscriptions.models import Subscriber, normalise_email

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


def subscriber_for(event, digest):
    if digest is not None:
        return digest.subscriber
    email = normalise_email(event.recipient)
    return Subscriber.objects.filter(email=email).first() if email else None


def record_tracking_event(sender, event, esp_name, **kwargs):
    digest = digest_for(event)
    subscriber = subscriber_for(event, digest)
    with transaction.atomic():
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
                "%s %s event for unknown message %r; recorded only", esp_name, event.event_type, event.message_id
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


class WebhookErrorsMiddleware:
    """Proper answers from the anymail webhook URLs.

    anymail turns a missing or wrong webhook secret into a generic 400; an ESP (and an
    operator reading logs) should see 401 (no credentials) or 403 (wrong ones). An
    unreadable body is a 400; a readable but malformed event is logged and acknowledged,
    since the ESP re-posting it would not make it readable.
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
        if isinstance(exception, (json.JSONDecodeError, UnicodeDecodeError)):
            logger.warning("webhook %s: unreadable payload: %s", request.path, exception)
            return HttpResponse("Unreadable payload.\n", status=400, content_type="text/plain")
        if isinstance(exception, (KeyError, TypeError, AttributeError, ValueError)):
            logger.error("webhook %s: malformed event ignored (%r): %.500r", request.path, exception, request.body)
            return HttpResponse("Malformed event logged.\n", content_type="text/plain")
        return None
