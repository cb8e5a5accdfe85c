from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from config.admin import ReadOnlyInline
from subscriptions.admin import SubscriberAdmin
from subscriptions.models import Subscriber

from . import overview
from .models import DeliveryEvent, Digest, DigestItem, PlanningChunk
from .planning import plan_digests
from .preview import preview_next_digest as preview
from .render import digest_message
from .sending import SENT, send_digest
from .tasks import queue_sends
from .views import allows_email_styles

PREVIEW_LIMIT = 10


def email_link(digest):
    if digest.status not in Digest.RESENDABLE:
        return "not sent yet"
    return format_html('<a href="{}">View the email</a>', reverse("admin:digest_digest_email", args=[digest.pk]))


class DigestItemInline(ReadOnlyInline):
    model = DigestItem
    fields = ["rank", "paper", "score", "similarity", "word_match", "matched", "matched_kind"]
    ordering = ["rank"]


class DigestHistoryInline(ReadOnlyInline):
    """A subscriber's digests, newest first, each linked to its page and its email."""

    model = Digest
    fk_name = "subscriber"
    fields = ["issue_date", "status", "papers", "sent_at", "resend_of", "email"]
    ordering = ["-issue_date", "-created_at"]
    show_change_link = True
    verbose_name_plural = "Digest history"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description="papers")
    def papers(self, digest):
        return digest.item_count

    @admin.display(description="email")
    def email(self, digest):
        return email_link(digest)


class DeliveryEventInline(ReadOnlyInline):
    model = DeliveryEvent
    fields = ["event_type", "recipient", "occurred_at", "esp", "detail"]


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    """Digests are written by the planner and the sender: the admin shows them, it does not edit them."""

    list_display = ["subscriber", "issue_date", "status", "papers", "sent_at", "attempts", "last_error_short"]
    list_filter = ["status", "issue_date"]
    search_fields = ["subscriber__email", "message_id"]
    date_hierarchy = "issue_date"
    list_select_related = ["subscriber"]
    inlines = [DigestItemInline, DeliveryEventInline]
    actions = ["resend"]
    readonly_fields = [
        "subscriber",
        "issue_date",
        "status",
        "the_email",
        "resend_of",
        "window_start",
        "window_end",
        "created_at",
        "claimed_at",
        "sent_at",
        "attempts",
        "message_id",
        "last_error",
        "delivered_at",
        "opened_at",
        "clicked_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description="papers", ordering="item_count")
    def papers(self, digest):
        return digest.item_count

    @admin.display(description="last error")
    def last_error_short(self, digest):
        return digest.last_error[:80]

    @admin.display(description="email")
    def the_email(self, digest):
        return email_link(digest)

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        email = self.admin_site.admin_view(self.email_view)
        today = self.admin_site.admin_view(self.today_view)
        return [
            path("<int:digest_id>/email/", email, name="digest_digest_email"),
            path("today/", today, name="digest_today"),
            *super().get_urls(),
        ]

    def today_view(self, request):
        """Today at a glance, each figure linked to the list of what it counts."""
        context = {
            **self.admin_site.each_context(request),
            "title": "Today",
            "opts": self.model._meta,
            **overview.today(),
        }
        return TemplateResponse(request, "digest/admin_today.html", context)

    @allows_email_styles
    def email_view(self, request, digest_id):
        """The digest's email as its reader got it: rendered again from its stored items (the
        signed links in it are fresh ones). Shown sandboxed, like the preview."""
        digest = get_object_or_404(Digest.objects.select_related("subscriber"), pk=digest_id)
        message = digest_message(digest)
        context = {
            **self.admin_site.each_context(request),
            "title": f"The email of {digest}",
            "opts": self.model._meta,
            "digest": digest,
            "subject": message.subject,
            "text": message.body,
            "html": message.alternatives[0][0],
        }
        return TemplateResponse(request, "digest/admin_email.html", context)

    @admin.action(description="Resend the selected digests (a new copy of each, sent like any other)")
    def resend(self, request, queryset):
        """Each selected sent or failed digest gets a new row (resend_of the original) with the same
        papers, which the sender claims and sends exactly once; the original stays as it was."""
        resent, busy, skipped = [], 0, 0
        with transaction.atomic():
            for digest in queryset.select_related("subscriber"):
                if digest.status not in Digest.RESENDABLE or not digest.subscriber.can_receive_mail:
                    skipped += 1
                    continue
                copy = digest.resend()
                if copy is None:
                    busy += 1
                else:
                    resent.append(copy.pk)
            queue_sends(resent)
        self.message_user(request, f"Resending {len(resent)} digest(s).", messages.SUCCESS)
        if busy:
            self.message_user(request, f"{busy} already have a resend on its way: not sent twice.", messages.WARNING)
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped}: only sent or failed digests of active subscribers are resent.",
                messages.WARNING,
            )


@admin.register(DigestItem)
class DigestItemAdmin(admin.ModelAdmin):
    list_display = ["digest", "rank", "paper", "score", "matched", "matched_kind"]
    list_filter = ["matched_kind", "digest__issue_date"]
    search_fields = ["paper__title", "matched", "digest__subscriber__email"]
    list_select_related = ["digest__subscriber", "paper"]
    readonly_fields = ["digest", "paper", "rank", "score", "matched", "matched_kind"]

    def has_add_permission(self, request):
        return False


@admin.register(PlanningChunk)
class PlanningChunkAdmin(admin.ModelAdmin):
    """What the hourly runs queued and which worker planned what: read-only, the sweeper fixes stuck rows."""

    list_display = ["__str__", "status", "worker", "planned", "attempts", "claimed_at", "finished_at"]
    list_filter = ["status", "issue_date"]
    date_hierarchy = "run_hour"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# The Subscriber admin gains the actions that make digests: they live here, beside the
# digests they make, so subscriptions never imports digest.


@admin.action(description="Preview the next digest as this subscriber")
@allows_email_styles
def preview_next_digest(modeladmin, request, queryset):
    """The email each selected subscriber would get now, with every item's score breakdown. Sends nothing.

    The email is shown as mail clients show it, in a sandboxed frame (no script runs in it); the
    frame inherits the page's Content-Security-Policy, so this page alone allows the inline
    styles every HTML email carries.
    """
    previews = []
    for subscriber in queryset.order_by("email")[:PREVIEW_LIMIT]:
        subject, text, html, items = preview(subscriber)
        previews.append({"subscriber": subscriber, "subject": subject, "text": text, "html": html, "items": items})
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Preview of the next digest",
        "opts": modeladmin.model._meta,
        "previews": previews,
        "more": max(0, queryset.count() - PREVIEW_LIMIT),
    }
    return TemplateResponse(request, "digest/admin_preview.html", context)


@admin.action(description="Send now: plan today's digest for them and send it")
def send_now(modeladmin, request, queryset):
    """Plan today's digest (in each subscriber's time zone) and send it at once, through the normal sender."""
    now = timezone.now()
    outcomes = {"sent": 0, "not sent": 0, "skipped": 0, "already had one today": 0}
    for subscriber in queryset.filter(status=queryset.model.Status.ACTIVE):
        issue_date = timezone.localtime(now, subscriber.zone).date()
        planned = plan_digests([subscriber.pk], issue_date, now=now)
        if planned:
            outcomes["sent" if send_digest(planned[0]) == SENT else "not sent"] += 1
        elif Digest.objects.filter(subscriber=subscriber, issue_date=issue_date, created_at=now).exists():
            outcomes["skipped"] += 1  # nothing relevant and they asked to skip empty digests
        else:
            outcomes["already had one today"] += 1
    inactive = queryset.exclude(status=queryset.model.Status.ACTIVE).count()
    summary = ", ".join(f"{count} {label}" for label, count in outcomes.items() if count)
    modeladmin.message_user(request, f"Send now: {summary or 'nothing to do'}.", messages.SUCCESS)
    if outcomes["not sent"]:
        modeladmin.message_user(request, "See the digests' last error for why some were not sent.", messages.WARNING)
    if inactive:
        modeladmin.message_user(
            request, f"{inactive} selected subscriber(s) are not active: nothing sent to them.", messages.WARNING
        )


class SubscriberWithDigestsAdmin(SubscriberAdmin):
    actions = [*SubscriberAdmin.actions, preview_next_digest, send_now]
    inlines = [*SubscriberAdmin.inlines, DigestHistoryInline]


admin.site.unregister(Subscriber)
admin.site.register(Subscriber, SubscriberWithDigestsAdmin)
