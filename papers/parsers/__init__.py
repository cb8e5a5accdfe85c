"""Parsers: bytes in, plain records out. No ORM here, so every format is testable on its own.

`detect()` picks the parser from the content itself (never from a file name or URL), and
`parse()` runs it. Each parser returns a `Parsed`: the good entries as `Record`s, the bad ones
as rejections with a reason, and `error` when the document as a whole could not be read.
"""

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from . import feed, hf_json, page, preprint_json, s2_json, tex
from .records import Parsed, ParseError, Record, Rejection  # noqa: F401  (the package's public names)
from .screen import screen
from .text import complete_json_items, decode
from .values import load_json

# The first element after any XML prolog, doctype or comment: rss / feed / rdf:RDF, or html.
_ROOT_TAG = re.compile(r"<(?![?!])([A-Za-z][\w:.-]*)")
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)

PARSERS: dict[str, Callable[..., Parsed]] = {
    "page": page.parse,
    "hf_json": hf_json.parse,
    "feed": feed.parse,
    "biorxiv_json": preprint_json.parse,
    "s2_json": s2_json.parse,
}


def detect(content: bytes | str) -> str:
    """The parser kind for this content, or raise ParseError saying what it looks like."""
    text = decode(content)
    if not text or not text.strip():
        raise ParseError("The document is empty")
    if "\x00" in text[:4096]:
        raise ParseError("The document is binary data, not text, JSON, HTML or XML")
    head = text.lstrip("\ufeff \t\r\n")[:2000]
    if head[:1] in "[{":
        try:
            data = load_json(text)
        except ParseError:
            raise
        except ValueError as exc:
            items = complete_json_items(text) if head.startswith("[") else []
            if items and isinstance(items[0], dict) and isinstance(items[0].get("paper"), dict):
                return "hf_json"  # a daily papers list cut off mid-item: its whole items can be kept
            raise ParseError(f"The document looks like JSON but is not valid JSON: {exc}") from exc
        return _json_kind(data)
    if head.startswith("<"):
        # The first element, comments aside: an Atom feed may say "<div>" in a comment before its root.
        root = _ROOT_TAG.search(_COMMENT.sub("", text[:100_000]))
        return "page" if root and root.group(1).lower() in ("html", "body", "main", "div") else "feed"
    if sum(1 for char in text[:4096] if not char.isprintable() and char not in "\r\n\t") > 40:
        raise ParseError("The document is binary data, not text, JSON, HTML or XML")
    return "page"


def _json_kind(data: Any) -> str:
    if isinstance(data, dict):
        if "dailyPapers" in data:
            return "hf_json"
        if "collection" in data and "messages" in data:
            return "biorxiv_json"
        if isinstance(data.get("data"), list) and ("total" in data or "offset" in data):
            return "s2_json"
        if "status_code" in data and "body" in data:
            return "recorded_http"
        message = data.get("error") or data.get("message")
        if isinstance(message, str):
            raise ParseError(f"The API answered with an error: {message}")
        items = None
    else:
        items = data
    if isinstance(items, list):
        if not items:
            return "hf_json"
        first = items[0]
        if isinstance(first, dict) and isinstance(first.get("paper"), dict):
            return "hf_json"
        if isinstance(first, dict) and "paperId" in first:
            return "s2_json"
    raise ParseError(
        "JSON of an unknown shape: expected Hugging Face daily papers, bioRxiv/medRxiv details "
        "or Semantic Scholar search results"
    )


def parse(content: bytes | str, kind: str | None = None, today: date | None = None) -> Parsed:
    """Parse `content` (bytes) with the parser for `kind`, or the detected one.

    `today` anchors dates that the document gives without a year (and listings without a date).
    Returns a `Parsed`, its records screened (clean text, sizes within limits, http(s) links);
    a document that cannot be read at all comes back with `error` set.
    """
    try:
        text = decode(content)
        if not kind or kind == "auto":
            kind = detect(text)
        if kind == "recorded_http":
            return _parse_recorded_http(text, today)
        if kind not in PARSERS:
            raise ParseError(f"Unknown kind {kind!r}; expected one of {', '.join(sorted(PARSERS))}")
        parsed = PARSERS[kind](text, today=today)
    except ParseError as exc:
        return Parsed(kind=kind or "", error=str(exc))
    parsed.kind = parsed.kind or kind
    screen(parsed)  # limits first, so that nothing oversized is worked on further
    tex.clean_records(parsed.records)
    return parsed


def _parse_recorded_http(text: str, today: date | None) -> Parsed:
    """A recorded HTTP exchange {url, status_code, body}: parse the body, honouring the status."""
    exchange = load_json(text)
    if not isinstance(exchange, dict):
        raise ParseError("A recorded HTTP exchange is an object {url, status_code, body}")
    body = exchange.get("body") or ""
    status = int(exchange["status_code"]) if str(exchange.get("status_code")).isdigit() else 0
    parsed = parse(body if isinstance(body, str) else json.dumps(body), today=today)
    if status >= 400:
        reason = parsed.error or "no entries"
        parsed.error = f"HTTP {status} from {str(exchange.get('url', 'the server'))[:300]}: {reason}"
        parsed.records = []
    return parsed
