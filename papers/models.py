import hashlib
import re
import unicodedata

import numpy as np
from django.db import models
from django.utils import timezone


class Source(models.Model):
    """Where papers come from: a page, feed or API URL, or a file path.

    Ad-hoc `manage.py ingest PATH` calls get a Source too (named after the path), so every
    Appearance and IngestRun points at one.
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
    location = models.CharField(max_length=2000, help_text="URL or file path")
    enabled = models.BooleanField(default=True, help_text="Ingested by the daily schedule")
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


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
