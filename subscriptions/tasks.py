"""Sign-up work happens off the request: the visitor's answer then takes the same time whether
the address is new (subscriber stored, confirmation sent) or known (its link sent), so
response timing tells nothing, and a slow mail provider never holds the page. Views queue
these with config.deferred.queue_after_commit, which in embedded mode runs them only after
the response has gone.

Seeded papers are looked up on the `ingest` queue (network, then embedding), never in a request."""

from celery import shared_task

from config.deferred import queue_after_commit
from subscriptions import seeds, services


@shared_task
def sign_up_task(email, interests, preferences, papers=()):
    services.sign_up(email, interests, preferences, seeds.from_dicts(papers))


@shared_task
def send_link_task(email):
    services.send_link_to(email)


@shared_task(soft_time_limit=900, time_limit=960)
def resolve_seed_papers_task(subscriber_id):
    return seeds.resolve(subscriber_id)


def queue_seed_lookup(subscriber_id):
    """Look up the subscriber's waiting papers once this transaction commits (after the response, embedded)."""
    queue_after_commit(resolve_seed_papers_task, subscriber_id)
