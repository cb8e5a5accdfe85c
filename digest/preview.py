"""What a subscriber would get, without planning or sending anything.

Both functions use the planner's own candidate selection and ranking, so a preview is the
digest the subscriber would receive if it were planned right now.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from digest.planning import rank_subscribers, window_starts
from digest.ranking import Weights
from digest.render import digest_context, why_lines
from papers.models import Paper
from subscriptions import emails
from subscriptions.models import PreviewMatch, Subscriber

PREVIEW_DAYS = 7  # the manage page says "Papers of the last 7 days that would have matched"
PREVIEW_LIMIT = 10


class PreviewItem:
    """A ranked paper with the parts of its score: what the admin preview shows per item."""

    def __init__(self, paper, match):
        self.paper = paper
        self.score = match.score
        self.matched = match.matched
        self.matched_kind = match.matched_kind
        self.similarity = match.similarity
        self.penalty = match.penalty
        self.trending = match.trending
        self.word_match = match.word_match
        self.because_of_id = match.because_of_id
        self.because_of_title = match.because_of_title

    @property
    def breakdown(self):
        parts = [f"similarity {self.similarity:.3f} to '{self.matched}'"]
        if self.word_match:
            parts.append(f"+ {self.word_match:.3f} for shared words")
        if self.penalty:
            parts.append(f'- {self.penalty:.3f} near a "less of this" topic')
        if self.trending:
            parts.append(f"+ {self.trending:.3f} for upvotes")
        return " ".join(parts) + f" = {self.score:.3f}"


def _ranked(subscriber, windows, now, limit=None):
    candidates, ranking = rank_subscribers([subscriber], windows, now, Weights.from_settings(), k=limit)
    matches = ranking[0]
    papers = Paper.objects.in_bulk([int(candidates.ids[m.index]) for m in matches])
    return [PreviewItem(papers[int(candidates.ids[m.index])], m) for m in matches]


def would_get(subscriber_ids, issue_date, now=None, chunk_size=None):
    """(subscriber, items) for each subscriber without a digest on `issue_date`: what planning
    them now would put in their digest (`send_digests --dry-run`). Ranked chunk by chunk."""
    now = now or timezone.now()
    weights = Weights.from_settings()
    chunk_size = chunk_size or weights.chunk_size
    readers = list(
        Subscriber.objects.filter(pk__in=subscriber_ids).exclude(digests__issue_date=issue_date).order_by("pk")
    )
    for start in range(0, len(readers), chunk_size):
        chunk = readers[start : start + chunk_size]
        candidates, ranking = rank_subscribers(chunk, window_starts(chunk, now), now, weights)
        papers = Paper.objects.in_bulk([int(candidates.ids[m.index]) for matches in ranking for m in matches])
        for subscriber, matches in zip(chunk, ranking):
            yield subscriber, [PreviewItem(papers[int(candidates.ids[m.index])], m) for m in matches]


def recent_matches(subscriber, days=PREVIEW_DAYS, limit=PREVIEW_LIMIT):
    """The papers of the last `days` days that best match the subscriber, best first."""
    now = timezone.now()
    return _ranked(subscriber, {subscriber.pk: now - timedelta(days=days)}, now, limit)


def refresh_preview(subscriber_id):
    """Rank the last week's papers for the subscriber and store them as the manage page's preview.

    A burst of saves queues a task per save; the first to run ranks the latest interests and
    the others find the preview current and return. A slower task never overwrites the
    preview of a later version.
    """
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or subscriber.preview_is_current:
        return
    version = subscriber.profile_version
    # As many as a digest of theirs holds (the page shows that many), embedding the interests
    # no worker has embedded yet.
    matches = recent_matches(subscriber, limit=max(subscriber.papers_per_digest, PREVIEW_LIMIT))
    with transaction.atomic():
        current = Subscriber.objects.select_for_update().filter(pk=subscriber_id).values_list("preview_version").first()
        if current is None or (current[0] is not None and current[0] >= version):
            return
        PreviewMatch.objects.filter(subscriber_id=subscriber_id).delete()
        PreviewMatch.objects.bulk_create(
            PreviewMatch(
                subscriber_id=subscriber_id,
                paper=match.paper,
                rank=rank,
                matched=match.matched[:300],
                similarity=match.similarity,
                why=reason[:600],
            )
            for rank, (match, reason) in enumerate(
                zip(matches, why_lines(matches, subscriber_id), strict=True), start=1
            )
        )
        Subscriber.objects.filter(pk=subscriber_id).update(preview_version=version)


def preview_next_digest(subscriber, now=None, issue_date=None):
    """(subject, text, html, items) of the digest that would be planned for the subscriber now,
    dated `issue_date` (default: their local today)."""
    now = now or timezone.now()
    items = _ranked(subscriber, window_starts([subscriber], now), now)
    issue_date = issue_date or timezone.localtime(now, subscriber.zone).date()
    context = {**emails.subscriber_links(subscriber), "subscriber": subscriber}
    context.update(digest_context(subscriber, issue_date, items))
    subject, text, html = emails.render("digest", context)
    return subject, text, html, items
