from django.contrib import admin, messages
from django.db.models import Count

from subscriptions import services
from subscriptions.models import Interest, SeedPaper, Subscriber


class InterestInline(admin.TabularInline):
    model = Interest
    extra = 0
    fields = ["kind", "text", "paper", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["paper"]


class SeedPaperInline(admin.TabularInline):
    """The papers a reader seeded their profile with, as the manage page shows them."""

    model = SeedPaper
    extra = 0
    fields = readonly_fields = ("given_as", "entry", "status", "reason", "paper")
    can_delete = True
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SeedPaper)
class SeedPaperAdmin(admin.ModelAdmin):
    list_display = ["given_as", "subscriber", "status", "reason", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["given_as", "title", "subscriber__email", "reason"]
    raw_id_fields = ["subscriber", "paper"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "status",
        "frequency",
        "send_hour",
        "timezone",
        "interest_count",
        "digest_count",
        "created_at",
    ]
    list_filter = ["status", "frequency", "timezone"]
    # "diffusion" finds the readers who wrote it in an interest (or an excluded keyword), not only addresses.
    search_fields = ["email", "interests__text"]
    readonly_fields = ["created_at", "confirmed_at", "unsubscribed_at"]
    date_hierarchy = "created_at"
    inlines = [InterestInline, SeedPaperInline]
    actions = ["pause", "resume", "resend_confirmation", "send_manage_link"]

    def save_related(self, request, form, formsets, change):
        """Interests edited here are embedded, and the preview ranked, by a worker, as for the manage form."""
        super().save_related(request, form, formsets, change)
        form.instance.interests_changed()

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(interest_count=Count("interests", distinct=True), digest_count=Count("digests", distinct=True))
        )

    @admin.display(description="Interests", ordering="interest_count")
    def interest_count(self, subscriber):
        return subscriber.interest_count

    @admin.display(description="Digests", ordering="digest_count")
    def digest_count(self, subscriber):
        return subscriber.digest_count

    @admin.action(description="Pause the selected active subscribers")
    def pause(self, request, queryset):
        subscribers = list(queryset.filter(status=Subscriber.Status.ACTIVE))
        for subscriber in subscribers:
            subscriber.pause()
        self.message_user(request, f"Paused {len(subscribers)} subscriber(s).", messages.SUCCESS)

    @admin.action(description="Resume the selected paused subscribers")
    def resume(self, request, queryset):
        subscribers = list(queryset.filter(status=Subscriber.Status.PAUSED))
        for subscriber in subscribers:
            subscriber.resume()
        self.message_user(request, f"Resumed {len(subscribers)} subscriber(s).", messages.SUCCESS)

    @admin.action(description="Resend the confirmation email to the selected unconfirmed subscribers")
    def resend_confirmation(self, request, queryset):
        sent = skipped = 0
        for subscriber in queryset:
            if subscriber.needs_confirmation:
                services.send_confirmation(subscriber)
                sent += 1
            else:
                skipped += 1
        self.message_user(request, f"Sent {sent} confirmation email(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Skipped {skipped} already confirmed subscriber(s).", messages.WARNING)

    @admin.action(description="Email the selected confirmed subscribers a link to their manage page")
    def send_manage_link(self, request, queryset):
        """For a reader who lost their link: the same email as "email me my link" on the site."""
        sent = skipped = 0
        for subscriber in queryset:
            if subscriber.needs_confirmation:
                skipped += 1
            else:
                services.send_manage_link(subscriber)
                sent += 1
        self.message_user(request, f"Sent {sent} manage link(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} unconfirmed or suppressed subscriber(s): they need a confirmation email first.",
                messages.WARNING,
            )
