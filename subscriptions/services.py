"""Sign-up, the subscription emails and the data export: the steps views and admin share."""

from django.conf import settings
from django.db import transaction

from subscriptions import emails, seeds, signing
from subscriptions.models import Interest, Subscriber, normalise_email


def sign_up(email, interests, preferences, papers=()):
    """Start a subscription, or answer a second sign-up for a known address.

    The visitor sees the same page either way; what differs is only the email, which goes
    to the address's owner. Nobody has confirmed a pending subscription yet, so the latest
    sign-up replaces its choices. A confirmed one is never changed from the public form: its
    owner is sent their manage link, or a new confirmation if mail to it bounced.
    """
    email = normalise_email(email)
    with transaction.atomic():
        subscriber, created = Subscriber.objects.get_or_create(email=email, defaults=preferences)
        if subscriber.status == Subscriber.Status.PENDING:
            if not created:
                for name, value in preferences.items():
                    setattr(subscriber, name, value)
                subscriber.save(update_fields=list(preferences))
            subscriber.set_text_interests(Interest.Kind.TOPIC, interests)
            seeds.replace(subscriber, papers)  # looked up once the address is confirmed
    if subscriber.needs_confirmation:
        send_confirmation(subscriber)
    else:
        send_manage_link(subscriber)
    return subscriber


def send_confirmation(subscriber):
    """The double opt-in email: a signed confirm link that expires."""
    context = {
        "confirm_url": signing.link("confirm", subscriber),
        "expiry_days": settings.CONFIRM_LINK_MAX_AGE_DAYS,
        "interests": subscriber.text_interests(Interest.Kind.TOPIC),
    }
    emails.build("confirm", subscriber, context).send()


def send_manage_link(subscriber):
    """Sent when a known address signs up again: the way back to their settings."""
    emails.build("manage-link", subscriber).send()


def export_data(subscriber):
    """Everything stored about a subscriber, as plain JSON-ready data ("download my data")."""
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "created_at": subscriber.created_at.isoformat(),
        "confirmed_at": subscriber.confirmed_at and subscriber.confirmed_at.isoformat(),
        "unsubscribed_at": subscriber.unsubscribed_at and subscriber.unsubscribed_at.isoformat(),
        "settings": {
            "frequency": subscriber.frequency,
            "weekday": subscriber.get_weekday_display() if subscriber.frequency == "weekly" else None,
            "send_hour": subscriber.send_hour,
            "timezone": subscriber.timezone,
            "papers_per_digest": subscriber.papers_per_digest,
            "min_relevance": subscriber.min_relevance,
            "skip_empty": subscriber.skip_empty,
        },
        "interests": [
            {
                "kind": interest.kind,
                "text": interest.text,
                "paper": interest.paper and {"key": interest.paper.key, "title": interest.paper.title},
                "created_at": interest.created_at.isoformat(),
            }
            for interest in subscriber.interests.select_related("paper")
        ],
        "seed_papers": [
            {
                "given_as": seed.given_as,
                "entry": seed.entry,
                "status": seed.status,
                "reason": seed.reason,
                "title": seed.title,
                "created_at": seed.created_at.isoformat(),
            }
            for seed in subscriber.seed_papers.all()
        ],
        "digests": [
            {
                "issue_date": digest.issue_date.isoformat(),
                "status": digest.status,
                "sent_at": digest.sent_at and digest.sent_at.isoformat(),
                "papers": [
                    {"title": item.paper.title, "key": item.paper.key, "score": item.score, "matched": item.matched}
                    for item in digest.items.all()
                ],
            }
            for digest in subscriber.digests.prefetch_related("items__paper")
        ],
        "delivery_events": [
            {"type": event.event_type, "occurred_at": event.occurred_at.isoformat(), "detail": event.detail}
            for event in subscriber.delivery_events.all()
        ],
    }


def delete_subscriber(subscriber):
    """What "delete me" removes: the subscriber, their interests, digests and every delivery
    report about them (all of them point at the subscriber and go with it)."""
    subscriber.delete()
