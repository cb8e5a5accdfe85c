"""A sent digest as a web page: the "view in your browser" link of every digest email and the
manage page's list of past digests.

The link is signed for its reader and names one digest (signing purpose "digest"); it shows
the email and changes nothing (GET and HEAD only). The page is the email's own HTML, so it
allows the inline styles every HTML email carries, and nothing else more than other pages.
"""

from collections.abc import Callable
from typing import Any, TypeVar, cast

from csp.decorators import csp_update
from django.http import HttpResponse
from django.views.decorators.http import require_safe

from digest.models import Digest
from digest.render import digest_message
from subscriptions import signing
from subscriptions.views import link_error

View = TypeVar("View", bound=Callable[..., Any])


def allows_email_styles(view: View) -> View:
    """django-csp's csp_update for a page showing an email, the admin's too (its types expect a
    plain view): the email's inline styles apply, and nothing else is allowed."""
    return cast(View, csp_update({"style-src": ["'unsafe-inline'"]})(cast(Any, view)))


@require_safe
@allows_email_styles
def view(request, token):
    try:
        payload = signing.read_token("digest", token)
    except signing.BadLink:
        return link_error(
            request,
            "This link does not work",
            "It may have been cut short or changed on the way. Open it again from the email.",
            status=400,
        )
    digest = (
        Digest.objects.select_related("subscriber")
        .filter(pk=payload.get("d"), subscriber_id=payload["s"], status__in=Digest.RESENDABLE)
        .first()
    )
    if digest is None:
        return link_error(
            request,
            "This digest is no longer here",
            "It was deleted, with the subscription it belonged to.",
            status=404,
        )
    html = digest_message(digest).alternatives[0][0]
    return HttpResponse(html, headers={"X-Robots-Tag": "noindex"})
