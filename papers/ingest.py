"""Ingest one page or feed: fetch, parse, and store each paper once with one Appearance per listing.

A paper is matched to what is stored by its arXiv id, else its DOI, else its normalised title
(only where one side has no id, so two different papers that share a title stay apart). A
listing without ids (the daily text page) therefore finds the paper that a feed stored with
ids, and a later feed upgrades a title-keyed paper to its arXiv key. Everything is looked up
and written in bulk, so re-reading a known page costs a few queries whatever its size.
"""

import logging
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .fetch import FetchError, fetch
from .models import Appearance, IngestRun, Paper, Source, normalise_location, paper_key, title_digest
from .parsers import parse

logger = logging.getLogger(__name__)

BATCH = 500
# Longer than any run can last: the ingest task's hard time limit (papers/tasks.py) is 3,500 s.
ABANDONED_AFTER = timedelta(hours=1)
LIMITED_FIELDS = ("arxiv_id", "doi", "abs_url", "pdf_url", "hf_url")
MERGED_FIELDS = ("abstract", "authors", "abs_url", "pdf_url", "hf_url", "published", "categories")
REPLACED_FIELDS = ("title", "abstract", "authors", "categories")


def ingest(location, kind=None, source=None, progress=None, today=None):
    """Read `location` (URL or file path) into the paper store; returns the finished IngestRun.

    `source` defaults to the Source that reads this location, or a new ad-hoc one (not on the
    daily schedule). `kind` overrides detection.
    `progress(n)` is called as entries are stored. `today` anchors dates given without a year and
    listings given without a date (default: today). The returned run also carries
    `changed_paper_ids`, the papers created or updated, which are the ones that may need embedding.
    """
    if source is None:
        source = ad_hoc_source(location, kind)
    kind = kind or (source.kind if source.kind != Source.Kind.AUTO else None)
    _fail_abandoned(source)
    run = IngestRun.objects.create(source=source, kind=kind or "")
    run.changed_paper_ids = []
    try:
        return _run(run, location, kind, source, progress, today)
    except Exception as exc:  # a bug or an input no check foresaw: the run says so instead of a traceback
        logger.exception("ingest of %s stopped by an unexpected error", location)
        return _finish(run, IngestRun.Status.FAILED, f"Stopped by an unexpected error: {_one_line(exc)}")
    finally:
        if run.status == IngestRun.Status.RUNNING:  # interrupted (a time limit, a shutdown): never left running
            _finish(run, IngestRun.Status.FAILED, "Interrupted before it finished")


def _fail_abandoned(source):
    """Runs of this source still `running` long after any run could have ended: their process was
    killed (a hard time limit, out of memory, a deploy). No exception marked them, so this does."""
    IngestRun.objects.filter(
        source=source, status=IngestRun.Status.RUNNING, started_at__lt=timezone.now() - ABANDONED_AFTER
    ).update(
        status=IngestRun.Status.FAILED,
        message="Its process stopped before it finished (killed or restarted)",
        finished_at=timezone.now(),
    )


def _run(run, location, kind, source, progress, today):
    validators = ("", "") if source.is_dated else (source.etag, source.last_modified)  # one per day's URL
    try:
        fetched = fetch(location, etag=validators[0], last_modified=validators[1])
    except FetchError as exc:
        return _finish(run, IngestRun.Status.FAILED, str(exc))
    if fetched.not_modified:
        return _finish(run, IngestRun.Status.NOT_MODIFIED, "Not modified since the last fetch (HTTP 304)")

    today = today or timezone.localdate()
    parsed = parse(fetched.content, kind=kind, today=today)
    run.kind = parsed.kind or run.kind
    records = _storable(parsed)
    run.rejections = [rejection.as_dict() for rejection in parsed.rejections]
    run.seen = len(records) + len(parsed.rejections)
    run.rejected = len(parsed.rejections)
    try:
        store(run, records, today, progress)
    except DatabaseError as exc:
        logger.exception("storing papers from %s failed", location)
        return _finish(run, IngestRun.Status.FAILED, f"Could not store the papers: {_one_line(exc)}")
    if not records and (parsed.error or parsed.rejections):
        return _finish(run, IngestRun.Status.FAILED, _reasons(parsed))
    if not source.is_dated and (fetched.etag, fetched.last_modified) != (source.etag, source.last_modified):
        source.etag, source.last_modified = fetched.etag, fetched.last_modified
        source.save(update_fields=["etag", "last_modified"])
    if parsed.error or parsed.rejections:
        return _finish(run, IngestRun.Status.PARTIAL, _reasons(parsed))
    return _finish(run, IngestRun.Status.OK, "" if run.seen else "The document lists no papers")


def _one_line(exc, limit=300):
    """An exception as one short line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reasons(parsed):
    reasons = [parsed.error] if parsed.error else []
    if parsed.rejections:
        count = len(parsed.rejections)
        reasons.append(f"{count} {'entry' if count == 1 else 'entries'} rejected: {parsed.rejections[0].reason}")
    return "; ".join(reasons)


def ad_hoc_source(location, kind=None):
    """The Source that reads `location` (however it is spelt), or a new one named after it that
    is not `enabled`: reading a file or URL once never puts it on the daily schedule."""
    stored_at = normalise_location(location)  # a relative path works from any directory later
    source = Source.objects.filter(location=stored_at).first()
    if source is None:
        source, _ = Source.objects.get_or_create(
            location=stored_at,
            defaults={"name": _free_name(location), "kind": kind or Source.Kind.AUTO, "enabled": False},
        )
    return source


def _free_name(location):
    name = location[:200]
    taken = set(Source.objects.filter(name__startswith=name[:190]).values_list("name", flat=True))
    suffix = 2
    while name in taken:
        name = f"{location[:190]} ({suffix})"
        suffix += 1
    return name


def ingest_source(source, progress=None):
    """Ingest a configured Source, with its stored validators for a conditional GET."""
    kind = source.kind if source.kind != Source.Kind.AUTO else None
    return ingest(source.location, kind=kind, source=source, progress=progress)


def _finish(run, status, message):
    run.status = status
    run.message = message
    run.finished_at = timezone.now()
    run.save()
    return run


def _storable(parsed):
    """The records that fit the model; the others join the rejections, saying which field is too long."""
    fitting = []
    for position, record in enumerate(parsed.records, start=1):
        too_long = [
            name for name in LIMITED_FIELDS if len(getattr(record, name)) > Paper._meta.get_field(name).max_length
        ]
        if too_long:
            entry = f"entry {position}: {record.title[:80].rstrip()}"
            parsed.reject(entry, f"Too long to store: {', '.join(too_long)}")
        else:
            fitting.append(record)
    return fitting


def store(run, records, today, progress=None):
    """Upsert the records' papers and appearances for `run`, in batches, counting on the run.

    A batch that collides with a concurrent ingest of the same papers (a unique key taken in the
    meantime) is read again and merged once more, so neither ingest loses or duplicates a paper.
    """
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        for attempt in (1, 2):
            counts = (run.new, run.updated, run.duplicate, len(run.changed_paper_ids))
            try:
                with transaction.atomic():
                    _store_batch(run, batch, today)
                break
            except IntegrityError:
                run.new, run.updated, run.duplicate, kept = counts
                del run.changed_paper_ids[kept:]
                if attempt == 2:
                    raise
        if progress:
            progress(len(batch))


def _store_batch(run, records, today):
    known = _Known(records)
    created, changed = {}, {}
    listings = {}
    for record in records:
        paper = known.match(record)
        if paper is None:
            paper = _new_paper(record)
            created[id(paper)] = paper
            known.add(paper)
            run.new += 1
        else:
            fields = _merge(paper, record, listed=True)
            if fields:
                known.add(paper)
            if fields and id(paper) not in created:
                changed.setdefault(id(paper), (paper, set()))[1].update(fields)
                run.updated += 1
            else:
                run.duplicate += 1
        listings.setdefault((id(paper), record.listed_on or today), (paper, record))

    Paper.objects.bulk_create(list(created.values()))
    if changed:
        now = timezone.now()
        fields = set().union(*(paper_fields for _, paper_fields in changed.values())) | {"updated_at"}
        for paper, _ in changed.values():
            paper.updated_at = now
        Paper.objects.bulk_update([paper for paper, _ in changed.values()], sorted(fields))
    run.changed_paper_ids += [paper.pk for paper in created.values()] + [paper.pk for paper, _ in changed.values()]
    _store_appearances(run, listings)
    _refresh_upvotes(listings)


def _refresh_upvotes(listings):
    """The paper shows its latest listing's upvotes (they grow through the day); not an update
    of the paper's text, so nothing is counted as updated or embedded again for it."""
    moved = {}
    for paper, record in listings.values():
        if record.upvotes is not None and paper.upvotes != record.upvotes:
            paper.upvotes = record.upvotes
            moved[paper.pk] = paper
    Paper.objects.bulk_update(list(moved.values()), ["upvotes"])


def _store_appearances(run, listings):
    rows = {(paper.pk, listed_on): record for (_, listed_on), (paper, record) in listings.items()}
    existing = {
        (appearance.paper_id, appearance.listed_on): appearance
        for appearance in Appearance.objects.filter(
            source=run.source,
            listed_on__in={listed_on for _, listed_on in rows},
            paper_id__in={paper_id for paper_id, _ in rows},
        )
    }
    fresh, moved = [], []
    for (paper_id, listed_on), record in rows.items():
        appearance = existing.get((paper_id, listed_on))
        if appearance is None:
            fresh.append(
                Appearance(
                    paper_id=paper_id,
                    source=run.source,
                    listed_on=listed_on,
                    rank=record.rank,
                    upvotes=record.upvotes,
                    run=run,
                )
            )
        elif (appearance.rank, appearance.upvotes) != (record.rank, record.upvotes):
            appearance.rank, appearance.upvotes = record.rank, record.upvotes
            moved.append(appearance)
    Appearance.objects.bulk_create(fresh)
    Appearance.objects.bulk_update(moved, ["rank", "upvotes"])


def upsert_paper(record, listed=False):
    """The stored paper for one record, created or brought up to date, with no Appearance:
    how a paper a reader gave (seeding their profile) is stored. Not `listed`, a new paper gets
    no `first_seen_at`, so it is no digest candidate until a source lists it."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                paper = _Known([record]).match(record)
                if paper is None:
                    paper = _new_paper(record)
                    if not listed:
                        paper.first_seen_at = None
                    paper.save()
                else:
                    fields = _merge(paper, record, listed=listed)
                    if fields:
                        paper.save(update_fields=[*fields, "updated_at"])
                return paper
        except IntegrityError:  # stored by a concurrent ingest in the meantime: match it again
            if attempt == 2:
                raise
    raise AssertionError("unreachable: the loop returns or raises")


def _new_paper(record):
    return Paper(
        key=paper_key(record.arxiv_id, record.doi, record.title),
        arxiv_id=record.arxiv_id,
        doi=record.doi,
        title=record.title,
        title_key=title_digest(record.title),
        abstract=record.abstract,
        authors=record.authors,
        abs_url=record.abs_url,
        pdf_url=record.pdf_url,
        hf_url=record.hf_url,
        upvotes=record.upvotes,
        published=record.published,
        categories=record.categories,
    )


def _merge(paper, record, listed):
    """Bring a stored paper up to date with a new listing of it; returns the changed fields.

    Blanks are filled from any listing and ids upgrade the key; written text is replaced only by
    an arXiv replacement announcement, so a terser listing never overwrites a fuller one. A paper
    known so far only from a reader's own list (no `first_seen_at`) is first listed now: from
    here on it is a candidate like any new paper, and the source's text replaces the reader's.
    """
    changed = []
    first_listing = listed and paper.first_seen_at is None
    if first_listing:
        paper.first_seen_at = timezone.now()
        changed.append("first_seen_at")

    def put(field, value):
        if value not in ("", None, []) and getattr(paper, field) != value:
            setattr(paper, field, value)
            changed.append(field)

    if record.arxiv_id and not paper.arxiv_id:
        put("arxiv_id", record.arxiv_id)
    if record.doi and not paper.doi:
        put("doi", record.doi)
    if record.is_replacement or first_listing:
        for field in REPLACED_FIELDS:
            put(field, getattr(record, field))
        if "title" in changed:
            put("title_key", title_digest(paper.title))
    for field in MERGED_FIELDS:
        if getattr(paper, field) in ("", None, []):
            put(field, getattr(record, field))
    put("key", paper_key(paper.arxiv_id, paper.doi, paper.title))
    return changed


class _Known:
    """The stored papers a batch of records could match, fetched in one query, indexed three ways."""

    def __init__(self, records):
        keys = {paper_key(r.arxiv_id, r.doi, r.title) for r in records}
        dois = {r.doi for r in records if r.doi}
        titles = {title_digest(r.title) for r in records}
        query = Q(key__in=keys) | Q(title_key__in=titles)
        if dois:
            query |= Q(doi__in=dois)
        self.by_key, self.by_doi, self.by_title = {}, {}, {}
        for paper in Paper.objects.filter(query):
            self.add(paper)

    def add(self, paper):
        self.by_key[paper.key] = paper
        if paper.doi:
            self.by_doi[paper.doi.lower()] = paper
        self.by_title.setdefault(paper.title_key or title_digest(paper.title), []).append(paper)

    def match(self, record):
        if record.arxiv_id and f"arxiv:{record.arxiv_id}" in self.by_key:
            return self.by_key[f"arxiv:{record.arxiv_id}"]
        if record.doi:
            paper = self.by_doi.get(record.doi.lower()) or self.by_key.get(paper_key(doi=record.doi))
            if paper is not None and (not record.arxiv_id or not paper.arxiv_id):
                return paper
        for paper in self.by_title.get(title_digest(record.title), []):
            if _compatible(paper, record):
                return paper
        return None


def _compatible(paper, record):
    """Same title and no contradicting id: one side has no arXiv id (and no DOI), or they agree."""
    if paper.arxiv_id and record.arxiv_id:
        return paper.arxiv_id == record.arxiv_id
    if paper.doi and record.doi:
        return paper.doi.lower() == record.doi.lower()
    return True
