"""Sign-up work happens off the request: the visitor's answer then takes the same time whether
the address is new (subscriber stored, confirmation sent) or known (its link sent), so
response timing tells nothing, and a slow mail provider never holds the page. Views queue
these with config.deferred.queue_after_commit, which in embedded mode runs them only after
the response has gone."""

from celery import shared_task

from subscriptions import services


@shared_task
def sign_up_task(email, interests, preferences):
    services.sign_up(email, interests, preferences)


@shared_task
def send_link_task(email):
    services.send_link_to(email)
