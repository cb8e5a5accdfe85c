from django.contrib import admin
from django.db.models import Count

from .models import DeliveryEvent, Digest, DigestItem


class DigestItemInline(admin.TabularInline):
    model = DigestItem
    fields = ["rank", "paper", "score", "matched", "matched_kind"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["rank"]

    def has_add_permission(self, request, obj=None):
        return False


class DeliveryEventInline(admin.TabularInline):
    model = DeliveryEvent
    fields = ["event_type", "recipient", "occurred_at", "esp", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    """Digests are written by the planner and the sender: the admin shows them, it does not edit them."""

    list_display = ["subscriber", "issue_date", "status", "papers", "sent_at", "attempts", "last_error_short"]
    list_filter = ["status", "issue_date"]
    search_fields = ["subscriber__email", "message_id"]
    date_hierarchy = "issue_date"
    list_select_related = ["subscriber"]
    inlines = [DigestItemInline, DeliveryEventInline]
    readonly_fields = [
        "subscriber", "issue_date", "status", "window_start", "window_end", "created_at", "claimed_at",
        "sent_at", "attempts", "message_id", "last_error", "delivered_at", "opened_at", "clicked_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_count=Count("items"))

    @admin.display(description="papers", ordering="item_count")
    def papers(self, digest):
        return digest.item_count

    @admin.display(description="last error")
    def last_error_short(self, digest):
        return digest.last_error[:80]

    def has_add_permission(self, request):
        return False


@admin.register(DigestItem)
class DigestItemAdmin(admin.ModelAdmin):
    list_display = ["digest", "rank", "paper", "score", "matched", "matched_kind"]
    list_filter = ["matched_kind", "digest__issue_date"]
    search_fields = ["paper__title", "matched", "digest__subscriber__email"]
    list_select_related = ["digest__subscriber", "paper"]
    readonly_fields = ["digest", "paper", "rank", "score", "matched", "matched_kind"]

    def has_add_permission(self, request):
        return False
