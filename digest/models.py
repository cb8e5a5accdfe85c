from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone


class Digest(models.Model):
    """One email to one subscriber for one issue date: the unit of exactly-once delivery."""

    class Status(models.TextChoices):
        PLANNED = "planned"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped", "Skipped (nothing relevant)"

    subscriber = models.ForeignKey("subscriptions.Subscriber", on_delete=models.CASCADE, related_name="digests")
    issue_date = models.DateField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED, db_index=True)
    window_start = models.DateTimeField(null=True, blank=True, help_text="Papers first seen after this")
    window_end = models.DateTimeField(null=True, blank=True, help_text="... and up to this")
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    message_id = models.CharField(max_length=300, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    resend_of = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="resends",
        help_text="Staff sent this digest again: the original, whose items this row repeats",
    )

    class Meta:
        constraints = [
            # Exactly once per day, planned by the hourly run; a staff resend is a row of its own.
            models.UniqueConstraint(
                fields=["subscriber", "issue_date"],
                condition=Q(resend_of__isnull=True),
                name="one_digest_per_subscriber_per_day",
            ),
            # A double click on "resend" sends one copy: one resend of a digest in flight at a time.
            models.UniqueConstraint(
                fields=["resend_of"],
                condition=Q(status__in=["planned", "sending"]),
                name="one_resend_in_flight",
            ),
        ]
        ordering = ["-issue_date", "subscriber_id"]

    def __str__(self):
        return f"{self.subscriber} · {self.issue_date}" + (" (resent)" if self.resend_of_id else "")

    RESENDABLE = ("sent", "failed")  # planned or sending ones go out anyway

    def resend(self) -> "Digest | None":
        """A new planned row repeating this digest's papers, for the sender to claim and send like
        any other; None when a resend of it is already on its way (one_resend_in_flight). A resend
        of a resend repeats the original."""
        original = self.resend_of or self
        with transaction.atomic():  # the row and its items appear together
            try:
                with transaction.atomic():
                    copy = Digest.objects.create(
                        subscriber_id=original.subscriber_id,
                        issue_date=original.issue_date,
                        window_start=original.window_start,
                        window_end=original.window_end,
                        resend_of=original,
                    )
            except IntegrityError:
                return None
            # Every field of the item but its id and digest, so a field added later is copied too.
            copied = [field.attname for field in DigestItem._meta.concrete_fields if field.name not in ("id", "digest")]
            DigestItem.objects.bulk_create(
                DigestItem(digest=copy, **{name: getattr(item, name) for name in copied})
                for item in original.items.all()
            )
        return copy


class DigestItem(models.Model):
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="items")
    paper = models.ForeignKey("papers.Paper", on_delete=models.CASCADE, related_name="digest_items")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    matched = models.CharField(max_length=300, help_text="The interest or liked paper that matched")
    matched_kind = models.CharField(max_length=10, blank=True)
    similarity = models.FloatField(null=True, blank=True, help_text="Cosine similarity to what matched")
    word_match = models.FloatField(default=0.0, help_text="Added to the score for the interest's own words")
    because_of = models.ForeignKey(
        "papers.Paper",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The paper the reader marked 'more like this' (or seeded) that brought this one",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["digest", "paper"], name="one_item_per_paper_per_digest")]
        ordering = ["digest_id", "rank"]

    def __str__(self):
        return f"#{self.rank} {self.paper} (in {self.digest})"

    @property
    def because_of_title(self):
        return self.because_of.title if self.because_of_id else ""


class DeliveryEvent(models.Model):
    """An ESP tracking event (delivered, bounced, complained, ...), kept once per event id."""

    event_id = models.CharField(max_length=300, unique=True)
    esp = models.CharField(max_length=50, blank=True)
    event_type = models.CharField(max_length=30, db_index=True)
    recipient = models.EmailField(blank=True)
    message_id = models.CharField(max_length=300, blank=True)
    subscriber = models.ForeignKey(
        "subscriptions.Subscriber",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="delivery_events",
        help_text="Whom the event is about; empty for an address we do not know. Deleting them deletes it.",
    )
    digest = models.ForeignKey(Digest, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    occurred_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.event_type} · {self.recipient or 'unknown recipient'}"


class PlanningChunk(models.Model):
    """One share of an hourly run's planning: the due subscribers whose ids fall in one block.

    The beat only writes these rows and queues one task per row; workers plan them. A row is
    keyed by (issue date, run hour, first id), so a second beat in the same hour finds its
    rows already there, and a worker plans a row only after moving it from pending to running
    with a conditional UPDATE, so each block is planned once however many tasks race for it.
    The planning and `done` commit together; a worker killed mid-chunk leaves it `running`
    with nothing planned, and the sweeper hands it back.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"

    issue_date = models.DateField()
    run_hour = models.DateTimeField(help_text="The hour (UTC) of the run that queued it")
    run_at = models.DateTimeField(help_text="The run's clock: every chunk of the run plans as of this moment")
    first_id = models.BigIntegerField(help_text="Subscribers with ids from this ...")
    size = models.PositiveIntegerField(help_text="... to this many past it")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, help_text="The worker that planned it (or holds it)")
    planned = models.PositiveIntegerField(default=0, help_text="Digests it left ready to send")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue_date", "run_hour", "first_id"], name="one_chunk_per_block_per_run")
        ]
        ordering = ["-run_hour", "first_id"]

    def __str__(self):
        return f"{self.issue_date} · run {self.run_hour:%H}:00 · ids {self.first_id}–{self.first_id + self.size - 1}"
