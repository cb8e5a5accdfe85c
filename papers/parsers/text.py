"""Cleaning shared by the parsers: whitespace, HTML, identifiers and dates."""

import codecs
import html
import json
import re
import unicodedata
from datetime import date, datetime
from typing import Any

import nh3

from ..models import arxiv_id_from
from .records import MAX_RAW_FIELD, EntryError

_SPACE = re.compile(r"\s+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Real HTML tags only: a known element name, then attributes after a space, or the tag's end.
# "$a<b$ and $c>d$" or "$\\frac{1}{3}<s<1$" in a LaTeX abstract is text, not markup.
_TAG_NAMES = (
    "a|abbr|b|big|blockquote|br|caption|cite|code|dd|del|div|dl|dt|em|figcaption|figure|font|h[1-6]|hr|i|img|"
    "ins|kbd|li|math|mark|ol|p|pre|q|s|small|span|strike|strong|style|script|sub|sup|table|tbody|td|th|thead|"
    "tr|tt|u|ul|jats:[a-z-]+|mml:[a-z-]+"
)
_HTML_TAG = re.compile(rf"</?(?:{_TAG_NAMES})(?:\s[^<>]*)?/?>|<!--", re.IGNORECASE)
_LESS_THAN = re.compile(r"<")
_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all but tab and line feed
_KEPT_FORMAT = {"\u200c", "\u200d"}  # zero-width non-joiner and joiner: some scripts and emoji need them


def clean(text: str) -> str:
    """`text` without control characters (a space instead; tabs and line breaks stay) and without
    invisible format characters (bidi overrides, zero-width spaces, BOMs) or lone surrogates."""
    text = _CONTROL.sub(" ", text)
    if text.isascii():
        return text
    return "".join(char for char in text if char in _KEPT_FORMAT or unicodedata.category(char) not in ("Cf", "Cs"))


_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16's, which it starts with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
_DECLARED = re.compile(
    rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']|<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._-]{1,40})""",
    re.IGNORECASE,
)


def decode(content: bytes | str) -> str:
    """A document's text: in the encoding its BOM names (UTF-8, UTF-16, UTF-32), else UTF-16/32
    by the zero bytes beside its first characters, else UTF-8, else the encoding it declares
    (`<?xml encoding=...>`, `<meta charset=...>`), else Windows-1252, which is what text that
    is not UTF-8 nearly always is (curly quotes and dashes at 0x80-0x9F, unlike Latin-1)."""
    if isinstance(content, str):
        return content
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return content[len(bom) :].decode(codec, errors="replace")
    candidates: list[str] = [json.detect_encoding(content)] if b"\x00" in content[:4] else []
    candidates.append("utf-8")
    declared = _DECLARED.search(content[:2048])
    if declared:
        candidates.append((declared.group(1) or declared.group(2)).decode("ascii"))
    for codec in candidates:
        try:
            if codecs.lookup(codec)._is_text_encoding:
                return content.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes Windows-1252 leaves undefined
        return content.decode("latin-1")


def one_line(text: str | None) -> str:
    """Titles and names: line breaks and runs of spaces become one space (LaTeX is left as written)."""
    return _SPACE.sub(" ", text or "").strip()


def paragraphs(text: str | None) -> str:
    """Abstracts: hard wraps are unwrapped, blank-line paragraph breaks are kept."""
    parts = _PARAGRAPH_BREAK.split((text or "").replace("\r\n", "\n").strip())
    return "\n\n".join(one_line(part) for part in parts if part.strip())


def strip_html(text: str | None) -> str:
    """Plain text from HTML: tags removed by a real HTML sanitiser, entities decoded once.

    A "<" that does not open a real tag is escaped first, so the sanitiser keeps it as text
    instead of reading "$x<s<1$" as the start of an element and dropping the rest.
    """
    if not text:
        return ""
    if len(text) > MAX_RAW_FIELD:  # sanitising costs grow with the square of the nesting
        raise EntryError(f"Too long: a field has {len(text):,} characters of HTML (the limit is {MAX_RAW_FIELD:,})")
    source = text
    text = _LESS_THAN.sub(lambda m: "<" if _HTML_TAG.match(source, m.start()) else "&lt;", source)
    text = re.sub(r"(?i)<br\s*/?>|</p\s*>", "\n\n", text)
    return html.unescape(nh3.clean(text, tags=set(), clean_content_tags={"script", "style"}))


def plain_abstract(text: str | None, is_html: bool = False) -> str:
    """An abstract as plain text paragraphs; `is_html` says the field is HTML (feeds), else sniff."""
    if is_html or (text and _HTML_TAG.search(text)):
        text = strip_html(text)
    return paragraphs(text)


def doi_from(text: str | None) -> str:
    match = _DOI.search(text) if isinstance(text, str) else None
    return match.group(1).rstrip(".,;") if match else ""


ARXIV_DOI_PREFIX = "10.48550/arxiv."  # arXiv's own DOIs name an arXiv id


def arxiv_doi_id(doi: str) -> str:
    """The arXiv id an arXiv DOI names (10.48550/arXiv.2104.08821), or ''."""
    doi = doi.strip()
    return arxiv_id_from(doi[len(ARXIV_DOI_PREFIX) :]) if doi.lower().startswith(ARXIV_DOI_PREFIX) else ""


def to_date(value: Any) -> date | None:
    """A date from ISO strings ('2024-10-24T13:00:00.000Z', '2024-10-24'), struct_time or datetime."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if hasattr(value, "tm_year"):
        return date(value.tm_year, value.tm_mon, value.tm_mday)
    match = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", str(value))
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def arxiv_links(arxiv_id: str) -> tuple[str, str]:
    return f"https://arxiv.org/abs/{arxiv_id}", f"https://arxiv.org/pdf/{arxiv_id}"


def complete_json_items(text: str) -> list[Any]:
    """The whole items at the start of a JSON array that was cut off: `[{...}, {...}, {"ti`."""
    decoder = json.JSONDecoder()
    position = text.find("[") + 1
    items = []
    while position:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        try:
            item, position = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            break
        items.append(item)
    return items
