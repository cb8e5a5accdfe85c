"""One render helper for every email the service sends.

Each email `NAME` is three templates under templates/emails/: `NAME-subject.txt`,
`NAME.txt` and `NAME.html`. HTML templates extend `emails/base.html`, which holds the
footer (manage, unsubscribe, why you get this); the CSS is inlined so Gmail and Outlook
show it as designed. Every email carries List-Unsubscribe headers (RFC 8058).
"""

import css_inline
from anymail.message import AnymailMessage
from django.conf import settings
from django.template.loader import render_to_string

from subscriptions import signing

_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def subscriber_links(subscriber):
    """The signed links every email footer needs."""
    return {
        "manage_url": signing.link("manage", subscriber),
        "unsubscribe_url": signing.link("unsubscribe", subscriber),
        "site_url": settings.SITE_URL,
    }


def render(name, context):
    """(subject, text, html) for the email `name`, HTML with its CSS inlined."""
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}.txt", context)
    html = _inliner.inline(render_to_string(f"emails/{name}.html", context))
    return subject, text, html


def build(name, subscriber, context=None, metadata=None, tags=None, links=None):
    """A ready-to-send message to `subscriber` (not sent: the caller decides when)."""
    links = links or subscriber_links(subscriber)
    context = {**links, "subscriber": subscriber, **(context or {})}
    subject, text, html = render(name, context)
    message = AnymailMessage(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
        headers={
            "List-Unsubscribe": f"<{links['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        metadata={"subscriber_id": str(subscriber.pk), **(metadata or {})},
        tags=tags or [name],
    )
    message.attach_alternative(html, "text/html")
    return message
