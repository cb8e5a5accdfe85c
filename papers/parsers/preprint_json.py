"""bioRxiv / medRxiv `details` API JSON: {"messages": [...], "collection": [...]}.

Authors come as one "Last, F.; Last, F." string; abstracts carry the markers left by the
JATS conversion (O_ST_ABS heading C_ST_ABS, O_LI item C_LI, O_SCPLOW small caps C_SCPLOW,
{rho}) and headings run into the text ("BackgroundThe"), which are turned back into prose.
"""

import re
import unicodedata
from datetime import date
from typing import Any

from . import values
from .records import Parsed, ParseError, Record
from .text import one_line, paragraphs, plain_abstract, to_date
from .values import load_json

_JATS_SPAN = re.compile(r"O_([A-Z]+(?:_[A-Z]+)*)(.*?)C_\1", re.DOTALL)
_JATS_MARK = re.compile(r"[OC]_[A-Z]{2,}(?:_[A-Z]+)*")
_GREEK = re.compile(r"\{([a-z]+)\}")
_RUN_IN_HEADING = re.compile(
    r"(?m)(?:^|(?<=[.:]\s)|(?<=[.:]))(Background|Highlights|Introduction|Objectives?|Aims?|Purpose|Methods|"
    r"Design|Setting|Participants|Results|Findings|Conclusions?|Interpretation|Funding|Significance)(?=[A-Z][a-z])"
)


def parse(content: bytes | str, today: date | None = None) -> Parsed:
    try:
        data = load_json(content)
    except ValueError as exc:
        raise ParseError(f"Not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError("Expected an object with `messages` and `collection`")
    try:
        messages = values.array(data, "messages")
        collection = values.array(data, "collection")
    except values.EntryError as exc:
        raise ParseError(str(exc)) from None
    first = messages[0] if messages and isinstance(messages[0], dict) else {}
    status = str(first.get("status", "ok"))[:200]
    if status.lower() != "ok" and not collection:
        raise ParseError(f"The API answered: {status}")

    def build(item: dict[str, Any], position: int) -> Record:
        title = one_line(values.text(item, "title"))
        doi = values.text(item, "doi").strip()
        if not title:
            raise values.EntryError("The paper has no title")
        server = values.text(item, "server") or "biorxiv"
        version = values.text(item, "version") or "1"
        page = f"https://www.{server}.org/content/{doi}v{version}" if doi else ""
        category = values.text(item, "category").strip()
        return Record(
            title=title,
            abstract=clean_jats(values.text(item, "abstract")),
            authors=[one_line(name) for name in values.text(item, "authors").split(";") if name.strip()],
            doi=doi,
            abs_url=page,
            pdf_url=f"{page}.full.pdf" if page else "",
            published=to_date(values.text(item, "date")),
            categories=[category] if category else [],
            listed_on=to_date(values.text(item, "date")) or today,
            rank=position,
        )

    return values.read_items(Parsed(kind="biorxiv_json"), collection, build, values.item_label("doi"))


def clean_jats(text: str) -> str:
    def span(match: re.Match[str]) -> str:
        kind, inner = match.groups()
        if kind == "ST_ABS":
            return f"\n\n{inner.strip()}: "
        if kind == "LI":
            return f" {inner.strip()} "
        return inner.lower() if kind == "SCPLOW" else inner

    text = plain_abstract(text)
    text = _JATS_SPAN.sub(span, text)
    text = _JATS_MARK.sub(" ", text)
    text = _GREEK.sub(_greek_letter, text)
    text = _RUN_IN_HEADING.sub(r"\1: ", text)
    return paragraphs(text)


def _greek_letter(match: re.Match[str]) -> str:
    try:
        return unicodedata.lookup(f"GREEK SMALL LETTER {match.group(1).upper()}")
    except KeyError:
        return match.group(0)
