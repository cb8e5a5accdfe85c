"""RSS 1.0 / 2.0 and Atom through feedparser: arXiv's feeds and API, bioRxiv's subject feeds.

arXiv-specific structure is read where present: the `oai:arXiv.org:ID` or `/abs/ID` identifier,
the announce type (`arxiv:announce_type`, or the legacy RSS title suffix `UPDATED` /
`CROSS LISTED`), the "arXiv:ID Announce Type: new Abstract:" preamble, and the two kinds of error
document arXiv answers with (a channel titled "Feed error for query", an API entry under
`/api/errors`). A document cut off mid-entry keeps its complete entries; the cut one is rejected.
"""

import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser

from ..models import arxiv_id_from
from .records import MAX_RAW_FIELD, EntryError, Parsed, ParseError, Record, check_entries
from .text import arxiv_links, doi_from, one_line, plain_abstract, strip_html, to_date

_ARXIV_PREAMBLE = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*(\S+)\s*Abstract:\s*", re.IGNORECASE)
_LEGACY_SUFFIX = re.compile(r"\s*\(arXiv:[^)\s]+(?:\s+\[[^\]]*\])?\s*([A-Z ]*)\)\s*$")
_ROOT_END = re.compile(rb"</(?:\w+:)?(?:rss|feed|RDF)>\s*$")
_DECLARED_ENCODING = re.compile(r"""^(\s*<\?xml\b[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")
_FIRST_ELEMENT = re.compile(rb"<(?![?!])[A-Za-z]")
_ENTRY_START = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>/]")
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_INITIALS = re.compile(r"^(?:(?:[A-Z][a-z]?\.|[A-Z](?![a-z]))[\s-]*){1,4}$")


def parse(content: bytes | str, today: date | None = None) -> Parsed:
    if isinstance(content, str):  # decoded already (parsers.decode): say so to feedparser
        content = _DECLARED_ENCODING.sub(r"\1\2utf-8\2", content, count=1).encode("utf-8")
    root = _FIRST_ELEMENT.search(content)
    if _INTERNAL_SUBSET.search(content[: root.start() if root else len(content)]):
        # Entity declarations are how a small document expands to gigabytes; no feed needs them.
        raise ParseError("The document declares its own entities (a DOCTYPE with an internal subset); refused")
    check_entries(len(_ENTRY_START.findall(content)))
    document = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    feed_title = one_line(document.feed.get("title", ""))
    if not document.entries and not document.get("version"):
        reason = document.get("bozo_exception") or "no RSS or Atom structure"
        raise ParseError(f"Not a readable RSS or Atom feed: {reason}")
    if feed_title.lower().startswith("feed error"):
        detail = document.feed.get("subtitle", "") or document.feed.get("description", "")
        detail = one_line(strip_html(detail[:MAX_RAW_FIELD]))
        raise ParseError(f"{feed_title}: {detail}" if detail else feed_title)
    for entry in document.entries:
        if "/api/errors" in (entry.get("id") or ""):
            raise ParseError(f"arXiv API error: {one_line(entry.get('summary', '')) or entry.get('id')}")

    parsed = Parsed(kind="feed")
    listed_on = _feed_date(document.feed)
    entries = list(document.entries)
    if document.bozo:
        opened, closed = _entry_tags(content, document)
        if opened > closed and len(entries) > closed:  # the cut entry came through half-read
            cut = entries.pop()
            parsed.reject(_label(cut, len(entries) + 1), "The document ends inside this entry (cut off)")
        if opened > closed or not _ROOT_END.search(content[-200:]):
            where = _where(document.bozo_exception)
            parsed.error = f"The feed is cut off after {len(entries)} complete entries ({where})"
        elif not entries:
            parsed.error = f"The feed is not well-formed XML ({_where(document.bozo_exception)})"
    for position, entry in enumerate(entries, start=1):
        try:
            record = _record(entry, position, listed_on or _entry_date(entry) or today)
        except EntryError as exc:
            parsed.reject(_label(entry, position), str(exc))
            continue
        except (TypeError, AttributeError, ValueError) as exc:  # feedparser's loose mode: any value, any type
            parsed.reject(_label(entry, position), f"The entry could not be read ({type(exc).__name__})")
            continue
        if record.title:
            parsed.records.append(record)
        else:
            parsed.reject(_label(entry, position), "The entry has no title")
    return parsed


def _record(entry: Any, position: int, listed_on: date | None) -> Record:
    title = _title(entry)
    announce_type = (entry.get("arxiv_announce_type") or "").strip().lower()
    legacy = _LEGACY_SUFFIX.search(title)
    if legacy:
        title = title[: legacy.start()].rstrip()
        if title.endswith(".") and not title.endswith(".."):  # arXiv wrote "Title. (arXiv:ID [cat])"
            title = title[:-1]
        suffix = legacy.group(1).strip()
        announce_type = announce_type or {"UPDATED": "replace", "CROSS LISTED": "cross"}.get(suffix, "new")
    summary = entry.get("summary_detail") or (entry.get("content") or [{}])[0]
    abstract = summary.get("value", "") or ""
    preamble = _ARXIV_PREAMBLE.match(abstract)
    if preamble:
        announce_type = announce_type or preamble.group(1).lower()
        abstract = abstract[preamble.end() :]
    arxiv_id = _arxiv_id(entry)
    abs_url, pdf_url = arxiv_links(arxiv_id) if arxiv_id else (_clean_link(entry.get("link", "")), "")
    return Record(
        title=title,
        abstract=plain_abstract(abstract, is_html="html" in summary.get("type", "")),
        authors=_authors(entry),
        arxiv_id=arxiv_id,
        doi=_doi(entry),
        abs_url=abs_url,
        pdf_url=pdf_url or _pdf_link(entry),
        published=_entry_date(entry),
        categories=_categories(entry),
        listed_on=listed_on,
        rank=position,
        announce_type=announce_type,
    )


def _title(entry: Any) -> str:
    detail = entry.get("title_detail") or {}
    title = entry.get("title", "") or ""
    if "html" in detail.get("type", "") and "<" in title:
        title = strip_html(title)
    return one_line(title)


def _arxiv_id(entry: Any) -> str:
    """The version-less id, only from identifiers that are arXiv's (a bioRxiv DOI is not one)."""
    for value in (entry.get("id", ""), entry.get("link", "")):
        if "arxiv" in (value or "").lower():
            found = arxiv_id_from(value)
            if found:
                return found
    return ""


def _doi(entry: Any) -> str:
    for key in ("arxiv_doi", "prism_doi", "dc_identifier"):
        found = doi_from(entry.get(key, ""))
        if found:
            return found
    for link in entry.get("links", []):
        if link.get("title") == "doi":
            return doi_from(link.get("href", ""))
    return ""


def _pdf_link(entry: Any) -> str:
    for link in entry.get("links", []):
        if link.get("type") == "application/pdf" or link.get("title") == "pdf":
            return link.get("href", "")
    return ""


def _clean_link(link: str | None) -> str:
    return re.sub(r"\?rss=\d+$", "", (link or "").strip())


def _categories(entry: Any) -> list[str]:
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    terms = [tag.get("term") for tag in entry.get("tags", []) if tag.get("term")]
    if primary:
        terms = [primary] + [term for term in terms if term != primary]
    return list(dict.fromkeys(terms))


def _authors(entry: Any) -> list[str]:
    """Authors as a list, whether the feed gives one element each or one comma-joined string."""
    names = []
    for author in entry.get("authors", []) or []:
        name = author.get("name", "") or ""
        if "<" in name:
            name = strip_html(name)
        names.extend(split_authors(name))
    return names


def split_authors(text: str | None) -> list[str]:
    """'A, B and C' or 'Last, F.; Last, F.' or bioRxiv's 'LAST, F., Last, F. M.' into names."""
    text = one_line(re.sub(r"\(\d+ additional authors? not shown\)", "", text or ""))
    text = re.sub(r",?\s+et al\.?$", "", text)
    if not text:
        return []
    if ";" in text:
        return [one_line(part) for part in text.split(";") if part.strip()]
    parts = [one_line(part) for part in re.split(r",\s*|\s+and\s+", text) if part.strip()]
    names: list[str] = []
    for part in parts:
        if names and _INITIALS.match(part) and "," not in names[-1]:
            names[-1] = f"{names[-1]}, {part}"
        else:
            names.append(part)
    return names


def _feed_date(feed: Any) -> date | None:
    """The listing day: the channel's own date (announcement day), read in its own time zone."""
    for key in ("published", "updated", "dc_date"):
        found = _date_from(feed.get(key))
        if found:
            return found
    return None


def _entry_date(entry: Any) -> date | None:
    for key in ("published", "prism_publicationdate", "updated"):
        found = _date_from(entry.get(key))
        if found:
            return found
    return None


def _date_from(value: Any) -> date | None:
    if not value:
        return None
    found = to_date(value)
    if found:
        return found
    try:
        stamp = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return stamp.date() if isinstance(stamp, datetime) else None


def _where(exception: Any) -> str:
    """'line 1233, column 84: no element found' from an XML parser's exception."""
    if hasattr(exception, "getLineNumber"):
        return f"line {exception.getLineNumber()}, column {exception.getColumnNumber()}: {exception.getMessage()}"
    return str(exception)


def _label(entry: Any, position: int) -> str:
    named = next((value for value in (entry.get("id"), entry.get("title")) if isinstance(value, str) and value), "")
    return f"entry {position}: {one_line(named)[:80] or 'no id or title'}"


def _entry_tags(content: bytes, document: Any) -> tuple[int, int]:
    """How many entries the raw document opens and closes: more opened means it was cut off."""
    tag = b"entry" if document.get("version", "").startswith("atom") else b"item"
    opened = len(re.findall(rb"<(?:\w+:)?" + tag + rb"[\s>]", content))
    closed = len(re.findall(rb"</(?:\w+:)?" + tag + rb"\s*>", content))
    return opened, closed
