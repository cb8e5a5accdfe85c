from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from digest import feedback
from papers.models import Paper
from subscriptions import signing
from subscriptions.views import link_error, signed_link


@require_http_methods(["GET", "POST"])
@signed_link("feedback")
def feedback_view(request, subscriber):
    """Record a 'more / less like this' click (GET, straight from the email) or undo it (POST).

    Recording on GET keeps it one click from any mail client. A link scanner that opens the
    link can at worst record a preference about that one paper, which the page lets the
    subscriber undo; nothing else about the subscription can change here.
    """
    payload = signing.read_token("feedback", request.resolver_match.kwargs["token"])
    paper = Paper.objects.filter(pk=payload.get("p")).first()
    choice = payload.get("c")
    if paper is None or choice not in feedback.CHOICES:
        return link_error(
            request, "This link does not work", "The paper it points to is no longer in our catalogue.", status=404
        )
    undone = request.method == "POST" and request.POST.get("action") == "undo"
    if undone:
        changed = feedback.undo(subscriber, paper, choice)
    else:
        changed = feedback.record(subscriber, paper, choice)
    context = {
        "subscriber": subscriber,
        "paper": paper,
        "choice": choice,
        "undone": undone,
        "changed": changed,
        "manage_url": signing.link("manage", subscriber),
    }
    return render(request, "digest/feedback.html", context)
