"""Sign-up, confirm, manage, unsubscribe and feedback pages. Each signed-link view receives the
subscriber its token names; a bad, expired or orphaned token gets an error page instead.

Nothing changes on GET: a link scanner that opens every link of an email (Safe Links,
Proofpoint) sees pages with one button each, and only the button's POST acts. Nothing slow
happens in a request either: sign-up mail and the manage page's preview are worked out by a
worker (config.deferred.queue_after_commit), so no visitor waits for the model, and a
known address answers exactly as fast as an unknown one.
"""

import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from config.clients import client_ip
from config.deferred import queue_after_commit
from papers.models import Paper
from subscriptions import feedback, seeds, services, signing, tasks
from subscriptions.forms import AddPapersForm, LinkRequestForm, ManageForm, SignupForm
from subscriptions.models import Interest, SeedPaper, Subscriber


def link_error(request, title, message, status):
    return render(request, f"{status}.html", {"title": title, "message": message}, status=status)


def signed_link(purpose, max_age=None):
    """Resolve the `token` URL argument to the subscriber it was made for."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, token, *args, **kwargs):
            try:
                payload = signing.read_token(purpose, token, max_age=max_age() if max_age else None)
            except signing.ExpiredLink:
                return expired_link(request, purpose, token)
            except signing.BadLink:
                return link_error(
                    request,
                    "This link does not work",
                    "It may have been cut short or changed on the way. Open it again from the "
                    "email, or copy the whole address into the browser.",
                    status=400,
                )
            subscriber = Subscriber.objects.filter(pk=payload["s"]).first()
            if subscriber is None:
                return link_error(
                    request,
                    "This subscription no longer exists",
                    "Its data was deleted. You can sign up again at any time.",
                    status=404,
                )
            return view(request, subscriber, *args, **kwargs)

        return wrapper

    return decorator


def expired_link(request, purpose, token):
    """A genuine link that is too old. An expired manage link offers to email a fresh one to
    the address it was made for (the link is genuine, so its page may name that address)."""
    if purpose == "manage":
        subscriber = Subscriber.objects.filter(pk=signing.read_token(purpose, token)["s"]).first()
        context = {"link_form": link_form_for(subscriber), "max_age_days": settings.MANAGE_LINK_MAX_AGE_DAYS}
        return render(request, "subscriptions/manage_link_expired.html", context, status=400)
    return link_error(
        request,
        "This link has expired",
        "Confirmation links work for a few days only. Sign up again with the same "
        "address and we will send you a fresh one.",
        status=400,
    )


def link_form_for(subscriber):
    """The "email me a link to my settings" button: the address goes to the address, never a token to the page."""
    return LinkRequestForm(initial={"email": subscriber.email if subscriber else ""}, client_ip="")


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    form = SignupForm(request.POST or None, request.FILES or None, client_ip=client_ip(request))
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            queue_after_commit(
                tasks.sign_up_task,
                data["email"],
                data["interests"],
                form.preferences(),
                seeds.as_dicts(form.references()),
            )
            return redirect("subscriptions:check_inbox")
        if form.rate_limited:
            return render(request, "429.html", status=429)
    return render(request, "subscriptions/signup.html", {"form": form, "default_size": settings.DIGEST_DEFAULT_SIZE})


@require_safe
def check_inbox(request):
    return render(request, "subscriptions/check_inbox.html", {"expiry_days": settings.CONFIRM_LINK_MAX_AGE_DAYS})


@require_http_methods(["GET", "HEAD", "POST"])
@signed_link("confirm", max_age=signing.confirm_max_age)
def confirm(request, subscriber):
    """GET shows one button; its POST confirms and opens the manage page."""
    if request.method != "POST":
        return render(request, "subscriptions/confirm.html", {"subscriber": subscriber})
    if subscriber.confirm():
        messages.success(request, "Your subscription is confirmed. Welcome!")
        if subscriber.seed_papers.filter(status=SeedPaper.Status.LOOKING_UP).exists():
            tasks.queue_seed_lookup(subscriber.pk)
    return redirect("subscriptions:manage", token=signing.make_token("manage", subscriber))


@require_http_methods(["GET", "HEAD", "POST"])
@signed_link("manage", max_age=signing.manage_max_age)
def manage(request, subscriber):
    form = ManageForm.for_subscriber(subscriber, request.POST or None, client_ip=client_ip(request))
    if request.method == "POST":
        if form.is_valid():
            form.save(subscriber)
            messages.success(request, "Your changes are saved.")
            return redirect(request.path)
        if form.rate_limited:
            return render(request, "429.html", status=429)
    return manage_page(request, subscriber, form=form)


PAST_DIGESTS = 12  # the manage page lists this many of the reader's latest digests


def manage_page(request, subscriber, form=None, papers_form=None, status=200):
    feedback = subscriber.interests.exclude(kind__in=[Interest.Kind.TOPIC, Interest.Kind.EXCLUDE]).exclude(
        seed_papers__isnull=False
    )
    seed_papers = list(subscriber.seed_papers.select_related("paper"))
    context = {
        "subscriber": subscriber,
        "form": form or ManageForm.for_subscriber(subscriber),
        "papers_form": papers_form or AddPapersForm(subscriber=subscriber, client_ip=client_ip(request)),
        "seed_papers": seed_papers,
        "seeds_waiting": any(seed.status == SeedPaper.Status.LOOKING_UP for seed in seed_papers),
        "seeds_to_retry": any(seeds.can_retry(seed) for seed in seed_papers),
        "token": signing.make_token("manage", subscriber),
        "unsubscribe_token": signing.make_token("unsubscribe", subscriber),
        "feedback": feedback.select_related("paper"),
        "matches": subscriber.preview_matches.select_related("paper")[: subscriber.papers_per_digest],
        "past_digests": [
            (digest, signing.digest_link(subscriber, digest.pk))
            for digest in subscriber.digests.filter(status="sent")
            .annotate(papers=Count("items"))
            .order_by("-issue_date", "-sent_at")[:PAST_DIGESTS]
        ],
        "preview_pending": not subscriber.preview_is_current,
    }
    return render(request, "subscriptions/manage.html", context, status=status)


def redirect_to_papers(subscriber):
    token = signing.make_token("manage", subscriber)
    return redirect(reverse("subscriptions:manage", kwargs={"token": token}) + "#papers")


@require_POST
@signed_link("manage", max_age=signing.manage_max_age)
def add_papers(request, subscriber):
    """Your own papers, pasted or uploaded: stored at once (all or none), looked up by a worker."""
    form = AddPapersForm(request.POST, request.FILES, subscriber=subscriber, client_ip=client_ip(request))
    if not form.is_valid():
        if form.rate_limited:
            return render(request, "429.html", status=429)
        return manage_page(request, subscriber, papers_form=form, status=400)
    with transaction.atomic():
        count = seeds.add(subscriber, form.references())
        if subscriber.status != Subscriber.Status.PENDING:
            tasks.queue_seed_lookup(subscriber.pk)
    noun = "paper is" if count == 1 else "papers are"
    messages.success(request, f"{count} {noun} on your list. We are looking them up: this page shows how it went.")
    return redirect_to_papers(subscriber)


@require_POST
@signed_link("manage", max_age=signing.manage_max_age)
def remove_seed_paper(request, subscriber, pk):
    seed = get_object_or_404(subscriber.seed_papers, pk=pk)
    seeds.remove(seed)
    subscriber.interests_changed()
    messages.success(request, f"Removed “{seed.title or seed.given_as}” from your papers.")
    return redirect_to_papers(subscriber)


@require_POST
@signed_link("manage", max_age=signing.manage_max_age)
def retry_seed_papers(request, subscriber):
    with transaction.atomic():
        count = seeds.retry(subscriber)
        if count:
            tasks.queue_seed_lookup(subscriber.pk)
    messages.success(request, f"Looking up {count} {'paper' if count == 1 else 'papers'} again.")
    return redirect_to_papers(subscriber)


@require_http_methods(["GET", "HEAD", "POST"])
def request_link(request):
    """ "Email me my link": the same answer for any address; mail goes only to a subscription's own."""
    form = LinkRequestForm(request.POST or None, client_ip=client_ip(request))
    if request.method == "POST":
        if form.is_valid():
            queue_after_commit(tasks.send_link_task, form.cleaned_data["email"])
            return redirect("subscriptions:link_sent")
        if form.rate_limited:
            return render(request, "429.html", status=429)
    return render(request, "subscriptions/request_link.html", {"form": form})


@require_safe
def link_sent(request):
    return render(request, "subscriptions/link_sent.html")


@require_POST
@signed_link("manage", max_age=signing.manage_max_age)
def pause(request, subscriber):
    subscriber.pause()
    messages.success(request, "Paused. No digests until you resume.")
    return redirect("subscriptions:manage", token=signing.make_token("manage", subscriber))


@require_POST
@signed_link("manage", max_age=signing.manage_max_age)
def resume(request, subscriber):
    subscriber.resume()
    if subscriber.can_receive_mail:
        messages.success(request, "You are subscribed again. Your next digest comes at the usual time.")
    return redirect("subscriptions:manage", token=signing.make_token("manage", subscriber))


@require_POST
@signed_link("manage", max_age=signing.manage_max_age)
def remove_interest(request, subscriber, pk):
    interest = get_object_or_404(subscriber.interests, pk=pk)
    interest.delete()
    subscriber.interests_changed()
    messages.success(request, f"Removed “{interest.label}”.")
    return redirect("subscriptions:manage", token=signing.make_token("manage", subscriber))


@require_safe
@signed_link("manage", max_age=signing.manage_max_age)
def export(request, subscriber):
    response = HttpResponse(
        json.dumps(services.export_data(subscriber), indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="paper-digest-my-data.json"'
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@signed_link("manage", max_age=signing.manage_max_age)
def delete(request, subscriber):
    if request.method == "POST":
        services.delete_subscriber(subscriber)
        return redirect("subscriptions:deleted")
    context = {"subscriber": subscriber, "token": signing.make_token("manage", subscriber)}
    return render(request, "subscriptions/delete.html", context)


@require_safe
def deleted(request):
    return render(request, "subscriptions/deleted.html")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@signed_link("unsubscribe")
def unsubscribe(request, subscriber):
    """RFC 8058: a POST unsubscribes (mail providers post without cookies, hence no CSRF);
    a GET only shows the button, so link scanners that open every URL unsubscribe nobody.

    The same link undoes its own unsubscribe ("Resubscribe"). Its pages hand out no manage
    link: whoever holds an unsubscribe link may leave, not change the settings, so the way
    to the settings is an email to the address itself.
    """
    context = {"subscriber": subscriber, "link_form": link_form_for(subscriber)}
    if request.method != "POST" and subscriber.status in Subscriber.OPEN:
        return render(request, "subscriptions/unsubscribe.html", context)
    if request.method == "POST":
        if request.POST.get("action") == "resubscribe":
            subscriber.resume()
        else:
            subscriber.unsubscribe()
    return render(request, "subscriptions/unsubscribed.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@signed_link("feedback")
def feedback_view(request, subscriber):
    """'More / less like this' from a digest: the GET page asks with one button, its POST
    records the choice (or undoes it), so a scanner opening every link of a digest changes
    nothing. What a recorded choice does to the ranking is subscriptions.feedback's business.
    """
    payload = signing.read_token("feedback", request.resolver_match.kwargs["token"])
    paper = Paper.objects.filter(pk=payload.get("p")).first()
    choice = payload.get("c")
    if paper is None or choice not in feedback.CHOICES:
        return link_error(
            request, "This link does not work", "The paper it points to is no longer in our catalogue.", status=404
        )
    context = {"subscriber": subscriber, "paper": paper, "choice": choice, "state": "ask"}
    if request.method == "POST":
        undo = request.POST.get("action") == "undo"
        changed = feedback.undo(subscriber, paper, choice) if undo else feedback.record(subscriber, paper, choice)
        if changed:
            subscriber.interests_changed()
        context.update(state="undone" if undo else "recorded", changed=changed, link_form=link_form_for(subscriber))
    return render(request, "subscriptions/feedback.html", context)
