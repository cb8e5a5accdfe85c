from django.contrib import admin, messages
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from config.admin import ReadOnlyInline

from . import embeddings
from .ingest import ingest_source
from .models import Appearance, IngestRun, Paper, PaperEmbedding, Source


class EmbeddingStateFilter(admin.SimpleListFilter):
    title = "embedding"
    parameter_name = "embedded"

    def lookups(self, request, model_admin):
        return [("yes", "Embedded"), ("no", "Waiting to be embedded")]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        vector = PaperEmbedding.objects.filter(paper=OuterRef("pk"), model_name=embeddings.model_name())
        return queryset.filter(Exists(vector)) if self.value() == "yes" else queryset.exclude(Exists(vector))


class AppearanceInline(ReadOnlyInline):
    model = Appearance
    fields = ["listed_on", "source", "rank", "upvotes", "run"]


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["title", "arxiv_id", "doi", "published", "first_seen_at"]
    search_fields = ["title", "abstract", "authors", "arxiv_id", "doi"]
    list_filter = [
        ("appearances__source", admin.RelatedOnlyFieldListFilter),
        "appearances__listed_on",
        "published",
        "first_seen_at",
        EmbeddingStateFilter,
    ]
    date_hierarchy = "first_seen_at"
    readonly_fields = ["key", "title_key", "first_seen_at", "updated_at"]
    inlines = [AppearanceInline]
    # A link typed without a scheme is an https one (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "location", "enabled", "last_run"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "location"]
    readonly_fields = ["etag", "last_modified", "created_at"]
    actions = ["ingest_now"]

    def get_queryset(self, request):
        latest = IngestRun.objects.filter(source=OuterRef("pk")).order_by("-started_at")
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_status=Subquery(latest.values("status")[:1]),
                last_started=Subquery(latest.values("started_at")[:1]),
            )
        )

    @admin.display(description="Last run", ordering="last_started")
    def last_run(self, source):
        if not source.last_started:
            return "never"
        return f"{source.last_status} · {timezone.localtime(source.last_started):%Y-%m-%d %H:%M}"

    @admin.action(description="Ingest now")
    def ingest_now(self, request, queryset):
        changed = []
        for source in queryset:
            run = ingest_source(source)
            changed += run.changed_paper_ids
            level = messages.ERROR if run.status == IngestRun.Status.FAILED else messages.INFO
            self.message_user(
                request,
                f"Ingested {source.name}: {run.status}, {run.new} new, {run.updated} updated, "
                f"{run.duplicate} already known, {run.rejected} rejected. {run.message}".strip(),
                level,
            )
        if changed:
            from .tasks import embed_pending

            transaction.on_commit(embed_pending.delay)


@admin.register(IngestRun)
class IngestRunAdmin(admin.ModelAdmin):
    """Read-only: a run is a record of what happened."""

    list_display = ["source", "started_at", "status", "kind", "seen", "new", "updated", "duplicate", "rejected"]
    list_filter = ["status", "kind", ("source", admin.RelatedOnlyFieldListFilter), "started_at"]
    search_fields = ["source__name", "message"]
    date_hierarchy = "started_at"
    fields = [
        "source",
        "kind",
        "status",
        "message",
        "started_at",
        "finished_at",
        "seen",
        "new",
        "updated",
        "duplicate",
        "rejected",
        "rejected_entries",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # the fields' names, each read-only

    @admin.display(description="Rejected entries")
    def rejected_entries(self, run):
        if not run.rejections:
            return "None"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td></tr>", ((r.get("entry", ""), r.get("reason", "")) for r in run.rejections)
        )
        return format_html(
            "<table><thead><tr><th>Entry</th><th>Reason</th></tr></thead><tbody>{}</tbody></table>", rows
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
