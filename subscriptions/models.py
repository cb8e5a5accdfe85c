from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from subscriptions import signals
from subscriptions.addresses import mailbox_key, tidy, validate_mailbox


def validate_timezone(name):
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{name!r} is not a known time zone (use a name like Europe/Berlin).") from None


class SubscriberQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Subscriber.Status.ACTIVE)

    def for_address(self, email):
        """The subscription of the mailbox `email` reaches, however it is spelled (addresses.mailbox_key)."""
        return self.filter(mailbox=mailbox_key(email))

    def bulk_create(self, objs, *args, **kwargs):
        """Rows made in bulk (bench, seeded data) get their mailbox key as save() gives it."""
        objs = list(objs)
        for subscriber in objs:
            subscriber.tidy_address()
        return super().bulk_create(objs, *args, **kwargs)


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        ACTIVE = "active"
        PAUSED = "paused"
        UNSUBSCRIBED = "unsubscribed"
        BOUNCED = "bounced"
        COMPLAINED = "complained"

    # Statuses in which no mail but a new confirmation may ever reach the address again.
    SUPPRESSED = {Status.BOUNCED, Status.COMPLAINED}
    # Statuses from which the subscriber may still get mail and so can unsubscribe.
    OPEN = {Status.PENDING, Status.ACTIVE, Status.PAUSED}

    class Frequency(models.TextChoices):
        DAILY = "daily"
        WEEKLY = "weekly"

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    # A CharField: validate_mailbox runs Django's email check itself, after its own clearer ones.
    email = models.CharField(max_length=254, validators=[validate_mailbox], help_text="The address we mail")
    # One subscription per mailbox: the key every spelling of the address shares (addresses.mailbox_key).
    mailbox = models.CharField(max_length=254, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    suppressed_reason = models.CharField(max_length=500, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    send_hour = models.PositiveSmallIntegerField(
        default=7, validators=[MaxValueValidator(23)], help_text="Local hour (0-23) the digest is sent"
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, default=Weekday.MONDAY, help_text="For weekly digests"
    )
    papers_per_digest = models.PositiveSmallIntegerField(
        default=settings.DIGEST_DEFAULT_SIZE, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    min_relevance = models.FloatField(
        null=True, blank=True, help_text="Minimum score for a paper; empty uses the site default"
    )
    skip_empty = models.BooleanField(default=True, help_text="Send nothing on days with no good match")
    # The manage page's preview ("papers you would have got") is computed by a worker after each
    # change of interests; it is current while preview_version == profile_version.
    profile_version = models.PositiveIntegerField(default=0, editable=False)
    preview_version = models.PositiveIntegerField(null=True, blank=True, editable=False)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.tidy_address()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "mailbox"}
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        self.tidy_address()
        super().clean_fields(exclude)

    def clean(self):
        """The admin's check: another row for the same mailbox is a clear error, not a crash on save."""
        self.tidy_address()
        if Subscriber.objects.filter(mailbox=self.mailbox).exclude(pk=self.pk).exists():
            raise ValidationError({"email": "Another subscription already uses this mailbox (however it is spelled)."})

    def tidy_address(self):
        self.email = tidy(self.email)
        self.mailbox = mailbox_key(self.email)

    @property
    def zone(self):
        return ZoneInfo(self.timezone)

    @property
    def can_receive_mail(self):
        return self.status == self.Status.ACTIVE

    @property
    def needs_confirmation(self):
        """Pending, or suppressed after a bounce or complaint: only a confirmed link may
        start mail to the address again."""
        return self.status == self.Status.PENDING or self.status in self.SUPPRESSED

    def confirm(self):
        """Double opt-in completed; True when this call activated the subscription. An old
        confirm link never undoes a later unsubscribe or pause."""
        if not self.needs_confirmation:
            return False
        self.status = self.Status.ACTIVE
        self.confirmed_at = timezone.now()
        self.suppressed_reason = ""
        self.save(update_fields=["status", "confirmed_at", "suppressed_reason"])
        return True

    def pause(self):
        if self.status == self.Status.ACTIVE:
            self.status = self.Status.PAUSED
            self.save(update_fields=["status"])

    def resume(self):
        """Active again, from paused or from the subscriber's own unsubscribe. Never from a
        bounce or complaint: those need a new confirmation, since the address itself failed."""
        if self.status in {self.Status.PAUSED, self.Status.UNSUBSCRIBED}:
            self.status = self.Status.ACTIVE
            self.unsubscribed_at = None
            self.save(update_fields=["status", "unsubscribed_at"])

    def unsubscribe(self):
        """Stops everything. A bounce or complaint already stops mail, and stays on record."""
        if self.status in self.OPEN:
            self.status = self.Status.UNSUBSCRIBED
            self.unsubscribed_at = timezone.now()
            self.save(update_fields=["status", "unsubscribed_at"])

    def interests_changed(self):
        """Record that what the subscriber wants has changed, and tell the apps above once the
        transaction commits (`signals.interests_changed`): digest then embeds the new interests
        and ranks the preview in a worker, never in the request that changed them."""
        Subscriber.objects.filter(pk=self.pk).update(profile_version=F("profile_version") + 1)
        self.refresh_from_db(fields=["profile_version"])
        pk = self.pk
        transaction.on_commit(lambda: signals.interests_changed.send(sender=Subscriber, subscriber_id=pk))

    @property
    def preview_is_current(self):
        return self.preview_version == self.profile_version

    def text_interests(self, kind):
        return [interest.text for interest in self.interests.all() if interest.kind == kind]

    def set_text_interests(self, kind, texts):
        """Make the subscriber's `kind` interests exactly `texts`. Unchanged ones are kept
        as they are, so their embeddings are not computed again; new ones have none until a
        worker embeds them (services.embed_interests)."""
        existing = {i.text: i for i in self.interests.filter(kind=kind)}
        self.interests.filter(kind=kind).exclude(text__in=texts).delete()
        for text in texts:
            if text not in existing:
                Interest.objects.create(subscriber=self, kind=kind, text=text)


class Interest(models.Model):
    """One thing a subscriber cares about (or wants kept away)."""

    class Kind(models.TextChoices):
        TOPIC = "topic", "Interest"
        AVOID = "avoid", "Less of this topic"
        LIKED = "liked", "Liked paper"
        DISLIKED = "disliked", "Disliked paper"
        EXCLUDE = "exclude", "Excluded keyword"

    POSITIVE = {Kind.TOPIC, Kind.LIKED}
    NEGATIVE = {Kind.AVOID, Kind.DISLIKED}
    EMBEDDED_TEXT = {Kind.TOPIC, Kind.AVOID}

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="interests")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TOPIC)
    text = models.CharField(max_length=300, blank=True)
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    embedding_model = models.CharField(max_length=300, blank=True, editable=False)
    embedding_hash = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "kind", "paper"],
                condition=models.Q(paper__isnull=False),
                name="one_feedback_per_paper",
            )
        ]

    def __str__(self):
        return self.label

    @property
    def label(self):
        """How the interest is named to the subscriber, e.g. in 'why you got this'."""
        if self.paper_id:
            return self.paper.title
        return self.text

    @property
    def needs_embedding(self):
        """A text interest without a vector of the current model for its current text."""
        from papers import embeddings

        if self.kind not in self.EMBEDDED_TEXT or not self.text:
            return False
        current = (embeddings.model_name(), embeddings.text_hash(self.text))
        return not self.embedding or (self.embedding_model, self.embedding_hash) != current


class PreviewMatch(models.Model):
    """A paper of the last week the subscriber's interests would have picked: the manage page's
    preview, ranked by a worker after every change (digest.preview.refresh_preview)."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="preview_matches")
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    matched = models.CharField(max_length=300, help_text="The interest or liked paper that matched")
    similarity = models.FloatField(help_text="Cosine similarity to what matched")
    why = models.CharField(max_length=600, blank=True, help_text="The why-line the digest email would show")

    class Meta:
        ordering = ["subscriber_id", "rank"]

    def __str__(self):
        return f"#{self.rank} {self.paper}"


class SeedPaper(models.Model):
    """One of a reader's own papers, given to seed their profile: what they gave, and what became of it.

    Given as an arXiv id or link, a DOI, or an entry of a BibTeX / RIS / CSL-JSON export, it is
    looked up by a worker (subscriptions.seeds) unless the entry carried its title and abstract.
    Added, it is a liked paper: an Interest of kind liked pointing at the Paper, which ranking
    treats like a paper marked "more like this". Removing the seed removes that interest, and
    removing the interest (say, a "less like this" click) removes the seed.
    """

    class Status(models.TextChoices):
        LOOKING_UP = "looking_up", "Looking up"
        ADDED = "added", "Added"
        FAILED = "failed", "Failed"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="seed_papers")
    key = models.CharField(max_length=300, help_text="The paper's identity (papers.models.paper_key) as given")
    given_as = models.CharField(max_length=600, help_text="The arXiv id, DOI or title the reader gave")
    entry = models.CharField(max_length=300, blank=True, help_text="Where it came from: 'line 2', a BibTeX key, ...")
    arxiv_id = models.CharField(max_length=50, blank=True)
    doi = models.CharField(max_length=200, blank=True)
    title = models.TextField(blank=True, help_text="From the entry, or the paper's once added")
    abstract = models.TextField(blank=True, help_text="From the entry, when it had one")
    authors = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.LOOKING_UP, db_index=True)
    reason = models.CharField(max_length=500, blank=True, help_text="Why it failed, or what was missing")
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, null=True, blank=True)
    interest = models.ForeignKey(
        Interest, on_delete=models.CASCADE, null=True, blank=True, related_name="seed_papers", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["subscriber", "key"], name="one_seed_per_paper_and_reader")]

    def __str__(self):
        return f"{self.given_as} ({self.get_status_display()})"
