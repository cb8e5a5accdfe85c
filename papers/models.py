import hashlib
import os
import re
import unicodedata
from datetime import date
from urllib.parse import unquote, urlsplit, urlunsplit

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from .links import http_url


def normalise_location(location):
    """One spelling per place, so one place is one Source: URLs with a lower-case scheme and
    host, no default port and no fragment; files (paths or file:// URLs) as absolute paths."""
    location = (location or "").strip()
    parts = urlsplit(location)
    if parts.scheme.lower() == "file":
        location = unquote(parts.path)
    elif parts.scheme.lower() in ("http", "https") and parts.netloc:
        scheme = parts.scheme.lower()
        netloc = parts.netloc.rsplit("@", 1)[-1].lower()
        default_port = ":443" if scheme == "https" else ":80"
        if netloc.endswith(default_port):
            netloc = netloc[: -len(default_port)]
        return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    elif parts.scheme or not location:  # another scheme: kept as written, for clean() to refuse
        return location
    return os.path.normpath(os.path.abspath(os.path.expanduser(location)))


def _under_file_root(path):
    real = os.path.realpath(path)
    roots = [os.path.realpath(root) for root in settings.INGEST_FILE_ROOT]
    return any(os.path.commonpath([real, root]) == root for root in roots)


def location_for_day(location, day):
    """A dated location ("...?date={date}", "{date:%Y%m%d}") filled in for one day."""
    return location.format(date=day)


class Source(models.Model):
    """Where papers come from: a page, feed or API URL, or a file path.

    A location may name the day it lists with `{date}` (ISO, 2026-06-12) or `{date:%Y%m%d}`
    (any strftime format): such a dated source is fetched once per day, and a day it missed
    is fetched on the next run (papers.sources). Ad-hoc `manage.py ingest PATH` calls get a
    Source too, so every Appearance and IngestRun points at one, but it is not `enabled`:
    only sources someone added on purpose (add_source, the admin) are on the daily schedule.
    """

    class Kind(models.TextChoices):
        AUTO = "auto", "Detect from content"
        PAGE = "page", "Daily digest page (text or HTML)"
        HF_JSON = "hf_json", "Hugging Face daily papers JSON"
        FEED = "feed", "RSS / Atom feed or arXiv API"
        BIORXIV_JSON = "biorxiv_json", "bioRxiv / medRxiv details JSON"
        S2_JSON = "s2_json", "Semantic Scholar search JSON"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.AUTO)
    location = models.CharField(
        max_length=2000,
        unique=True,
        help_text="An http(s) URL or a file path. Put {date} (or {date:%Y%m%d}) where the URL names a day: "
        "each day is then fetched once, and missed days are fetched on the next run.",
    )
    enabled = models.BooleanField(default=True, help_text="Ingested by the daily schedule")
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.location = normalise_location(self.location)
        super().save(*args, **kwargs)

    def clean(self):
        """A location that can be fetched: http(s) with a host, or a file path; only {date} in braces."""
        location = normalise_location(self.location)
        parts = urlsplit(location)
        if parts.scheme and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValidationError({"location": f"Not an http(s) URL or a file path: {location[:200]}"})
        try:
            filled = location_for_day(location, date(2026, 6, 12))
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ValidationError(
                {"location": f"Only {{date}} or {{date:FORMAT}} may stand in braces in a location ({exc})"}
            ) from None
        if parts.scheme and not http_url(filled):
            raise ValidationError({"location": f"Not a valid http(s) URL: {location[:200]}"})
        if not parts.scheme and not _under_file_root(location):
            outside = "is outside the directories file sources are read from (INGEST_FILE_ROOT)"
            raise ValidationError({"location": f"{location[:200]} {outside}"})
        others = Source.objects.filter(location=location).exclude(pk=self.pk)
        if others.exists():
            raise ValidationError({"location": f"Source {others.first()} already reads this location"})
        self.location = location

    @property
    def is_dated(self):
        return "{date" in self.location


class FetchedDay(models.Model):
    """A day a dated source has been read for: never fetched again, and the days since the
    last one are the ones a run catches up on."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="fetched_days")
    day = models.DateField()
    run = models.ForeignKey("IngestRun", on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "day"], name="one_fetch_per_source_and_day")]
        ordering = ["-day"]

    def __str__(self):
        return f"{self.source} · {self.day}"


class SourcePreview(models.Model):
    """A test fetch: what a location would give, read by a worker before anyone saves it as a
    Source (no network in a web request). Nothing is stored but this summary."""

    class Status(models.TextChoices):
        PENDING = "pending", "Fetching…"
        OK = "ok", "Read"
        FAILED = "failed"

    name = models.CharField(max_length=200, blank=True, help_text="The name the source would get")
    kind = models.CharField(max_length=20, choices=Source.Kind.choices, default=Source.Kind.AUTO)
    location = models.CharField(max_length=2000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    parser = models.CharField(max_length=20, blank=True, help_text="The parser the content called for")
    message = models.TextField(blank=True)
    seen = models.PositiveIntegerField(default=0)
    titles = models.JSONField(default=list, blank=True, help_text="The first entries' titles")
    rejections = models.JSONField(default=list, blank=True, help_text='[{"entry": ..., "reason": ...}]')
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "test fetch"
        verbose_name_plural = "test fetches"

    def __str__(self):
        return f"Test fetch of {self.name or self.location[:100]}"


class IngestRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        OK = "ok"
        PARTIAL = "partial", "Partial (some entries rejected)"
        NOT_MODIFIED = "not_modified", "Not modified"
        FAILED = "failed"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=20, blank=True, help_text="The parser that was used")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING, db_index=True)
    message = models.TextField(blank=True, help_text="Why the run failed or was partial")
    seen = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    duplicate = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejections = models.JSONField(default=list, blank=True, help_text='[{"entry": ..., "reason": ...}]')

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.source} @ {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(v\d+)?(?![\d])")
_ARXIV_OLD = re.compile(r"(?<![\w.-])([a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?", re.IGNORECASE)


def arxiv_id_from(text):
    """The version-less arXiv id inside an id, URL or OAI identifier, or ''."""
    if not text:
        return ""
    match = _ARXIV_NEW.search(text) or _ARXIV_OLD.search(text)
    return match.group(1) if match else ""


def normalise_title(title):
    """Title folded for identity: case, accents, punctuation and spacing do not matter."""
    text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def title_digest(title):
    """A short hash of the normalised title: how a listing without ids finds a paper stored with them."""
    return hashlib.sha1(normalise_title(title).encode()).hexdigest()[:20]


def paper_key(arxiv_id="", doi="", title=""):
    """The stable identity of a paper: arXiv id, else DOI, else a normalised-title hash."""
    if arxiv_id:
        return f"arxiv:{arxiv_id}"
    if doi:
        return f"doi:{doi.strip().lower()}"
    return f"title:{title_digest(title)}"


class Paper(models.Model):
    key = models.CharField(max_length=300, unique=True)
    arxiv_id = models.CharField(max_length=50, blank=True, db_index=True)
    doi = models.CharField(max_length=200, blank=True, db_index=True)
    title = models.TextField()
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)
    abs_url = models.URLField(max_length=1000, blank=True)
    pdf_url = models.URLField(max_length=1000, blank=True)
    hf_url = models.URLField(
        max_length=1000, blank=True, help_text="The paper's Hugging Face page, where a source has one"
    )
    upvotes = models.IntegerField(null=True, blank=True, help_text="Community upvotes, as last listed by a source")
    published = models.DateField(null=True, blank=True)
    categories = models.JSONField(default=list, blank=True)
    title_key = models.CharField(
        max_length=20, blank=True, db_index=True, help_text="title_digest(title): matches listings that carry no ids"
    )
    first_seen_at = models.DateTimeField(
        default=timezone.now,
        null=True,
        blank=True,
        db_index=True,
        help_text="When a source first listed it. Empty for a paper known only from a reader's own list "
        "(a seeded profile): such a paper is never a digest candidate until a source lists it.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Its words are counted in CorpusWord (once, when it is first embedded; see papers.corpus).
    words_counted = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = [models.F("first_seen_at").desc(nulls_last=True), "-id"]

    def __str__(self):
        return self.title[:120]

    def save(self, *args, **kwargs):
        self.title_key = title_digest(self.title)
        super().save(*args, **kwargs)

    @property
    def embedding_text(self):
        """What the model reads: the title, then the abstract."""
        return f"{self.title}. {self.abstract}".strip()

    @property
    def short_authors(self):
        if len(self.authors) <= 3:
            return ", ".join(self.authors)
        return f"{', '.join(self.authors[:3])} et al."


class Appearance(models.Model):
    """A paper listed by a source on a date, with its rank and upvotes there."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="appearances")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="appearances")
    listed_on = models.DateField(db_index=True)
    rank = models.PositiveIntegerField(null=True, blank=True)
    upvotes = models.IntegerField(null=True, blank=True)
    run = models.ForeignKey(IngestRun, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["paper", "source", "listed_on"], name="one_appearance_per_listing")
        ]
        ordering = ["-listed_on", "rank"]

    def __str__(self):
        return f"{self.paper} · {self.source} · {self.listed_on}"


class WordVector(models.Model):
    """One word's vector for one model, so an interest's word can match papers that say it in
    other words ("pictures" / "images"; see digest.word_match). Kept rather than recomputed:
    a day's candidates hold some 15,000 distinct words, most of them seen the day before."""

    model_name = models.CharField(max_length=300)
    word = models.CharField(max_length=64)
    vector = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model_name", "word"], name="one_vector_per_word_and_model")]

    def __str__(self):
        return f"{self.word} ({self.model_name})"


class PaperEmbedding(models.Model):
    """Normalised float32 vectors of one paper for one model, with a hash of the text they read.

    `vector` reads the title and the abstract; `title_vector` the title alone. A short
    interest ("text-to-image diffusion") often matches a title far better than a
    250-word abstract that also covers method and results, so the ranker takes the better
    of the two (RANKING_TITLE_MATCH). Rows from before title vectors have none until the
    next `embed` run fills them in.
    """

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="embeddings")
    model_name = models.CharField(max_length=300)
    text_hash = models.CharField(max_length=40)
    vector = models.BinaryField()
    title_vector = models.BinaryField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["paper", "model_name"], name="one_embedding_per_model")]

    def __str__(self):
        return f"{self.paper} ({self.model_name})"

    @property
    def array(self):
        return np.frombuffer(bytes(self.vector), dtype=np.float32)


class CorpusWord(models.Model):
    """In how many stored papers a word occurs: the corpus statistics that tell a topical word
    ("speculative", "protein") from a generic one ("models", "studies"); see papers.corpus."""

    word = models.CharField(max_length=64, unique=True)
    papers = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.word} ({self.papers} papers)"
