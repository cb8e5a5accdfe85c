"""Sign-up, confirm, manage and unsubscribe pages. Each signed-link view receives the
subscriber its token names; a bad, expired or orphaned token gets an error page instead."""

import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from papers.models import Paper
from subscriptions import feedback, seeds, services, signals, signing, tasks
from subscriptions.forms import AddPapersForm, ManageForm, SignupForm
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
                return link_error(
                    request,
                    "This link has expired",
                    "Confirmation links work for a few days only. Sign up again with the same "
                    "address and we will send you a fresh one.",
                    status=400,
                )
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


def client_ip(request):
    """The visitor's address. Each of the TRUSTED_PROXY_HOPS proxies appends the address it saw
    to X-Forwarded-For, so the visitor is that many entries from the right; anything further
    left was written by the client and proves nothing."""
    hops = settings.TRUSTED_PROXY_HOPS
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or "unknown"


@require_http_methods(["GET", "POST"])
def signup(request):
    form = SignupForm(request.POST or None, request.FILES or None, client_ip=client_ip(request))
    if request.method == "POST":
        if form.is_valid():
            tasks.sign_up_task.delay(
                form.cleaned_data["email"],
                form.cleaned_data["interests"],
                form.preferences(),
                seeds.as_dicts(form.references()),
            )
            return redirect("subscriptions:check_inbox")
        if form.rate_limited:
            return render(request, "429.html", status=429)
    return render(request, "subscriptions/signup.html", {"form": form, "default_size": settings.DIGEST_DEFAULT_SIZE})


@require_GET
def check_inbox(request):
    return render(request, "subscriptions/check_inbox.html", {"expiry_days": settings.CONFIRM_LINK_MAX_AGE_DAYS})


@require_GET
@signed_link("confirm", max_age=signing.confirm_max_age)
def confirm(request, subscriber):
    if subscriber.confirm():
        messages.success(request, "Your subscription is confirmed. Welcome!")
        if subscriber.seed_papers.filter(status=SeedPaper.Status.LOOKING_UP).exists():
            tasks.queue_seed_lookup(subscriber.pk)
    return redirect("subscriptions:manage", token=signing.make_token("manage", subscriber))


def recent_matches(subscriber):
    """Papers of the last week that would have been picked: a taste of the first digest."""
    responses = signals.matches_wanted.send(sender=Subscriber, subscriber=subscriber, days=7, limit=10)
    return [match for _, matches in responses for match in matches]


@require_http_methods(["GET", "POST"])
@signed_link("manage")
def manage(request, subscriber):
    form = ManageForm.for_subscriber(subscriber, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save(subscriber)
        messages.success(request, "Your changes are saved.")
        return redirect(request.path)
    return manage_page(request, subscriber, form=form)


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
        "matches": recent_matches(subscriber),
    }
    return render(request, "subscriptions/manage.html", context, status=status)


def redirect_to_papers(subscriber):
    token = signing.make_token("manage", subscriber)
    return redirect(reverse("subscriptions:manage", kwargs={"token": token}) + "#papers")


@require_POST
@signed_link("manage")
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
@signed_link("manage")
def remove_seed_paper(request, subscriber, pk):
    seed = get_object_or_404(subscriber.seed_papers, pk=pk)
    seeds.remove(seed)
    messages.success(request, f"Removed “{seed.title or seed.given_as}” from your papers.")
    return redirect_to_papers(subscriber)


@require_POST
@signed_link("manage")
def retry_seed_papers(request, subscriber):
    with transaction.atomic():
        count = seeds.retry(subscriber)
        if count:
            tasks.queue_seed_lookup(subscriber.pk)
    messages.success(request, f"Looking up {count} {'paper' if count == 1 else 'papers'} again.")
    return redirect_to_papers(subscriber)


@require_POST
@signed_link("manage")
def pause(request, subscriber):
    subscriber.pause()
    messages.success(request, "Paused. No digests until you resume.")
    return redirect("subscriptions:manage", token=signing.make_token("manage", subscriber))


@require_POST
@signed_link("manage")
def resume(request, subscriber):
    subscriber.resume()
    if subscriber.can_receive_mail:
        messages.success(request, "You are subscribed again. Your next digest comes at the usual time.")
    return redirect("subscriptions:manage", token=signing.make_token("manage", subscriber))


@require_POST
@signed_link("manage")
def remove_interest(request, subscriber, pk):
    interest = get_object_or_404(subscriber.interests, pk=pk)
    interest.delete()
    messages.success(request, f"Removed “{interest.label}”.")
    return redirect("subscriptions:manage", token=signing.make_token("manage", subscriber))


@require_GET
@signed_link("manage")
def export(request, subscriber):
    response = HttpResponse(
        json.dumps(services.export_data(subscriber), indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="paper-digest-my-data.json"'
    return response


@require_http_methods(["GET", "POST"])
@signed_link("manage")
def delete(request, subscriber):
    if request.method == "POST":
        services.delete_subscriber(subscriber)
        return redirect("subscriptions:deleted")
    context = {"subscriber": subscriber, "token": signing.make_token("manage", subscriber)}
    return render(request, "subscriptions/delete.html", context)


@require_GET
def deleted(request):
    return render(request, "subscriptions/deleted.html")


@csrf_exempt
@require_http_methods(["GET", "POST"])
@signed_link("unsubscribe")
def unsubscribe(request, subscriber):
    """RFC 8058: a POST unsubscribes (mail providers post without cookies, hence no CSRF);
    a GET only shows the button, so link scanners that open every URL unsubscribe nobody."""
    context = {"subscriber": subscriber, "manage_token": signing.make_token("manage", subscriber)}
    if request.method == "GET" and subscriber.status in Subscriber.OPEN:
        return render(request, "subscriptions/unsubscribe.html", context)
    if request.method == "POST":
        subscriber.unsubscribe()
    return render(request, "subscriptions/unsubscribed.html", context)


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
    return render(request, "subscriptions/feedback.html", context)
