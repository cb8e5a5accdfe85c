"""Sign-up work happens off the request: the visitor's answer then takes the same time whether
the address is new (interests embedded, confirmation sent) or known (manage link sent), so
response timing tells nothing, and a slow mail provider never holds the page."""

from celery import shared_task

from subscriptions import services


@shared_task
def sign_up_task(email, interests, preferences):
    services.sign_up(email, interests, preferences)
