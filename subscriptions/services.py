"""Sign-up, the subscription emails and the data export: the steps views and admin share."""

from django.conf import settings
from django.db import transaction

from config import ratelimit
from papers import embeddings
from subscriptions import emails, seeds, signing
from subscriptions.addresses import mailbox_key, tidy
from subscriptions.models import Interest, Subscriber


def sign_up(email, interests, preferences, papers=()):
    """Start a subscription, or answer a second sign-up for a known address.

    The visitor sees the same page either way; what differs is only the email, which goes
    to the address's owner. A sign-up never changes a subscription that exists, pending or
    not (only its owner's links do), so nobody can put words into another's profile or
    mail: a known address is sent the link it needs (send_link), with fixed text only.
    """
    with transaction.atomic():
        subscriber, created = Subscriber.objects.get_or_create(
            mailbox=mailbox_key(email), defaults={"email": tidy(email), **preferences}
        )
        if created:
            subscriber.set_text_interests(Interest.Kind.TOPIC, interests)
            seeds.replace(subscriber, papers)  # looked up once the address is confirmed
            subscriber.interests_changed()
    send_link(subscriber)
    return subscriber


def send_link(subscriber):
    """The one email a subscription's address gets when someone asks for it: the confirmation
    link while it is pending (or suppressed after a bounce or complaint), else its manage link.

    Anyone may type anyone's address, an unsubscribed reader's included, so a mailbox gets at
    most one of these per window of SIGNUP_RATE_PER_EMAIL (an hour by default), however often
    it is asked for: the link mailed first still works, and the asker's page is the same.
    """
    window = ratelimit.parse_rate(settings.SIGNUP_RATE_PER_EMAIL)[1]
    if not ratelimit.allow("link-mail", subscriber.mailbox, f"1/{window}"):
        return
    if subscriber.needs_confirmation:
        send_confirmation(subscriber)
    else:
        send_manage_link(subscriber)


def send_link_to(email):
    """Answer "email me my link" for an address: nothing at all when it has no subscription."""
    subscriber = Subscriber.objects.for_address(email).first()
    if subscriber is not None:
        send_link(subscriber)


def embed_interests(interests):
    """Embed, in one batch, those of `interests` whose vector is missing or stale (new, edited,
    or from another model), and store a vector for each of their words (for the word match).

    Only workers call this (the preview task, the planner): loading the model or running it
    never happens inside a web request, whatever a visitor posts.
    """
    stale = [interest for interest in interests if interest.needs_embedding]
    if not stale:
        return
    name = embeddings.model_name()
    for interest, vector in zip(stale, embeddings.encode([interest.text for interest in stale])):
        interest.embedding = embeddings.to_bytes(vector)
        interest.embedding_model, interest.embedding_hash = name, embeddings.text_hash(interest.text)
    Interest.objects.bulk_update(stale, ["embedding", "embedding_model", "embedding_hash"])
    words = embeddings.WORD.findall(" ".join(interest.text for interest in stale).lower())
    embeddings.word_vectors(words, embed_missing=True)


def send_confirmation(subscriber):
    """The double opt-in email: a signed confirm link that expires. It carries nothing typed
    into the form (a stranger's words or links must not reach the address with our name on
    them): the schedule, chosen from fixed lists, and the link."""
    context = {"confirm_url": signing.link("confirm", subscriber), "expiry_days": settings.CONFIRM_LINK_MAX_AGE_DAYS}
    emails.build("confirm", subscriber, context).send()


def send_manage_link(subscriber):
    """Sent when a known address signs up again or asks for its link: the way back to its settings."""
    emails.build("manage-link", subscriber, {"max_age_days": settings.MANAGE_LINK_MAX_AGE_DAYS}).send()


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
