"""What every parsed record passes before it can be stored: clean text, sizes within limits,
http(s) links only. One place for all formats, so a new parser cannot forget a defence.

- Control characters and invisible format characters (bidi overrides such as U+202E, which
  make "txt.exe" read "exe.txt", zero-width spaces, a BOM) are removed from titles, abstracts,
  authors and categories; a NUL would also make PostgreSQL refuse the whole batch.
  ZWJ and ZWNJ stay: some scripts and emoji need them.
- A field longer than its limit rejects the entry, saying which field and how long: a title of
  a megabyte is no title, and no entry may grow the store or an email without bound.
- A link that is not an absolute http(s) URL (`javascript:`, `data:`, relative) rejects the
  entry (papers.links.http_url is the one check, also applied again when a link is rendered).
"""

from ..links import http_url
from .records import Parsed, Record
from .text import clean, one_line, paragraphs

MAX_TITLE = 1_000
MAX_ABSTRACT = 20_000
MAX_AUTHORS = 5_000  # the largest collaborations sign some 3,000 names
MAX_AUTHOR = 300
MAX_CATEGORIES = 100
MAX_CATEGORY = 100


def screen(parsed: Parsed) -> Parsed:
    """`parsed` with every record cleaned, and those over a limit or with a bad link rejected."""
    kept = []
    for position, record in enumerate(parsed.records, start=1):
        problem = _clean_record(record)
        if problem:
            parsed.reject(f"entry {position}: {record.title[:80] or 'no title'}", problem)
        else:
            kept.append(record)
    parsed.records = kept
    for rejection in parsed.rejections:  # an entry's label is text from the document too
        rejection.entry = one_line(clean(rejection.entry))
    return parsed


def _clean_record(record: Record) -> str:
    """Clean `record` in place; the reason it cannot be stored, or ""."""
    too_long = _too_long("title", record.title, MAX_TITLE) or _too_long("abstract", record.abstract, MAX_ABSTRACT)
    if too_long:
        return too_long
    if len(record.authors) > MAX_AUTHORS:
        return f"Too many authors: {len(record.authors):,} (the limit is {MAX_AUTHORS:,})"
    if len(record.categories) > MAX_CATEGORIES:
        return f"Too many categories: {len(record.categories):,} (the limit is {MAX_CATEGORIES:,})"
    record.title = one_line(clean(record.title))
    record.abstract = paragraphs(clean(record.abstract))
    record.authors = [name for name in (one_line(clean(author)) for author in record.authors) if name]
    record.categories = [term for term in (one_line(clean(category)) for category in record.categories) if term]
    for name in record.authors:
        if len(name) > MAX_AUTHOR:
            return f"Too long: an author's name has {len(name):,} characters (the limit is {MAX_AUTHOR:,})"
    for term in record.categories:
        if len(term) > MAX_CATEGORY:
            return f"Too long: a category has {len(term):,} characters (the limit is {MAX_CATEGORY:,})"
    if not record.title:
        return "The entry has no title"
    for field in ("abs_url", "pdf_url"):
        link = getattr(record, field)
        if link and not http_url(link):
            return f"The {'abstract' if field == 'abs_url' else 'PDF'} link is not an absolute http(s) URL"
    return ""


def _too_long(field: str, text: str, limit: int) -> str:
    if len(text) <= limit:
        return ""
    return f"Too long: the {field} has {len(text):,} characters (the limit is {limit:,})"
