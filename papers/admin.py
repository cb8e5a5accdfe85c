from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Subquery
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from config.admin import ReadOnlyInline
from config.deferred import queue_after_commit

from . import embeddings
from .models import Appearance, FetchedDay, IngestRun, Paper, PaperEmbedding, Source, SourcePreview
from .sources import PRESETS, PresetError, preset_sources
from .tasks import ingest_sources_now, preview_source_task


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


class PresetForm(forms.ModelForm):
    """Name, kind and location from a preset ("arxiv" + "cs.CL cs.LG"), as `add_source` makes them;
    without a preset they are typed in. The location is then checked by Source.clean()."""

    needed: tuple[str, ...] = ("name", "location")
    preset = forms.ChoiceField(
        required=False,
        choices=[("", "None: type the name and location below")]
        + [(preset.name, f"{preset.name}: {preset.title}") for preset in PRESETS.values()],
        help_text="A real source by name; its name, parser and URL are filled in.",
    )
    preset_arguments = forms.CharField(
        required=False,
        label="Categories or query",
        help_text="For arxiv: categories (cs.CL cs.LG); biorxiv/medrxiv: one subject (genomics); "
        "arxiv-query and semantic-scholar: the search.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("name", "location"):
            if name in self.fields:
                self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        preset = cleaned.get("preset")
        if preset:
            try:
                made = preset_sources(preset, cleaned.get("preset_arguments", "").split())
            except PresetError as error:
                self.add_error("preset_arguments", str(error))
                return cleaned
            if len(made) > 1:
                self.add_error("preset_arguments", "One subject per source here (add_source adds several at once)")
                return cleaned
            cleaned["name"] = cleaned.get("name") or made[0].name
            cleaned["kind"], cleaned["location"] = made[0].kind, made[0].location
        for name in self.needed:
            if not cleaned.get(name):
                self.add_error(name, "Give one, or choose a preset.")
        return cleaned


def test_fetch_link():
    return format_html(
        '<a href="{}">Test fetch</a> a location first to see the entries it would give, before saving it.',
        reverse("admin:papers_sourcepreview_add"),
    )


class FetchedDayInline(ReadOnlyInline):
    """A dated source's days already read: the ones the next run skips."""

    model = FetchedDay
    fields = ["day", "run"]
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-day")


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = PresetForm
    list_display = ["name", "kind", "location", "enabled", "last_run"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "location"]
    readonly_fields = ["etag", "last_modified", "created_at"]
    actions = ["ingest_now"]

    def get_inlines(self, request, obj):
        return [FetchedDayInline] if obj is not None and obj.is_dated else []

    def get_fieldsets(self, request, obj=None):
        fields = ["name", "kind", "location", "enabled"]
        if obj is None:
            return [(None, {"fields": ["preset", "preset_arguments", *fields], "description": test_fetch_link()})]
        return [(None, {"fields": fields}), ("Conditional GET", {"fields": self.readonly_fields})]

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
        """Queued for the ingest worker: no fetch in a web request. The runs show up under Ingest runs."""
        ids = list(queryset.values_list("pk", flat=True))
        queue_after_commit(ingest_sources_now, ids)
        names = ", ".join(queryset.values_list("name", flat=True)[:5]) + (", …" if len(ids) > 5 else "")
        self.message_user(
            request,
            format_html(
                'Ingest queued for {}. <a href="{}">Ingest runs</a> shows each run when the worker is done.',
                names,
                reverse("admin:papers_ingestrun_changelist"),
            ),
        )


class PreviewForm(PresetForm):
    needed = ("location",)

    class Meta:
        model = SourcePreview
        fields = ["name", "kind", "location"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("location"):  # checked as a Source would check it, before anything is fetched
            source = Source(
                name=cleaned.get("name") or "preview", kind=cleaned.get("kind"), location=cleaned["location"]
            )
            try:
                source.clean()
            except ValidationError as error:
                self.add_error("location", error.message_dict["location"])
            cleaned["location"] = source.location
        return cleaned


@admin.register(SourcePreview)
class SourcePreviewAdmin(admin.ModelAdmin):
    """A test fetch: saving it queues the fetch for the ingest worker; its page shows what came
    back (refreshing itself while the worker reads), and one button adds it as a Source."""

    form = PreviewForm
    change_form_template = "admin/papers/sourcepreview/change_form.html"
    list_display = ["__str__", "status", "parser", "seen", "created_at"]
    list_filter = ["status"]
    fieldsets = [(None, {"fields": ["preset", "preset_arguments", "name", "kind", "location"]})]
    shown = ["name", "kind", "location", "status", "parser", "seen", "message", "entries", "rejected_entries"]

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj is None else [(None, {"fields": self.shown})]

    def get_readonly_fields(self, request, obj=None):
        return self.shown if obj else []

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        queue_after_commit(preview_source_task, obj.pk)

    def response_add(self, request, obj, post_url_continue=None):
        return redirect("admin:papers_sourcepreview_change", obj.pk)

    @admin.display(description="Entries")
    def entries(self, preview):
        if not preview.titles:
            return "None"
        more = f" (first {len(preview.titles)} of {preview.seen})" if preview.seen > len(preview.titles) else ""
        items = format_html_join("", "<li>{}</li>", ((title,) for title in preview.titles))
        return format_html("<ol>{}</ol>{}", items, more)

    @admin.display(description="Rejected entries")
    def rejected_entries(self, preview):
        return rejections_table(preview.rejections)

    def get_urls(self):
        return [
            path(
                "<int:pk>/add-source/", self.admin_site.admin_view(self.add_source), name="papers_sourcepreview_source"
            ),
            *super().get_urls(),
        ]

    def add_source(self, request, pk):
        """POST only: the previewed location becomes a Source on the daily schedule."""
        preview = get_object_or_404(SourcePreview, pk=pk)
        if request.method != "POST" or not self.has_view_permission(request, preview):
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("papers.add_source"):
            raise PermissionDenied
        source = Source(name=preview.name or preview.location[:200], kind=preview.kind, location=preview.location)
        try:
            source.full_clean()
        except ValidationError as error:
            problems = "; ".join(message for messages in error.message_dict.values() for message in messages)
            self.message_user(request, f"Not added: {problems}", messages.ERROR)
            return redirect("admin:papers_sourcepreview_change", preview.pk)
        source.save()
        self.message_user(request, f"Added {source.name} to the daily schedule.")
        return redirect("admin:papers_source_change", source.pk)


def rejections_table(rejections):
    if not rejections:
        return "None"
    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td></tr>", ((r.get("entry", ""), r.get("reason", "")) for r in rejections)
    )
    return format_html("<table><thead><tr><th>Entry</th><th>Reason</th></tr></thead><tbody>{}</tbody></table>", rows)


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
        return rejections_table(run.rejections)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
