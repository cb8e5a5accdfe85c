"""bioRxiv / medRxiv `details` API JSON: {"messages": [...], "collection": [...]}.

Authors come as one "Last, F.; Last, F." string; abstracts carry the markers left by the
JATS conversion (O_ST_ABS heading C_ST_ABS, O_LI item C_LI, O_SCPLOW small caps C_SCPLOW,
{rho}) and headings run into the text ("BackgroundThe"), which are turned back into prose.
"""

import json
import re
import unicodedata
from datetime import date

from .records import Parsed, ParseError, Record
from .text import one_line, paragraphs, plain_abstract, to_date

_JATS_SPAN = re.compile(r"O_([A-Z]+(?:_[A-Z]+)*)(.*?)C_\1", re.DOTALL)
_JATS_MARK = re.compile(r"[OC]_[A-Z]{2,}(?:_[A-Z]+)*")
_GREEK = re.compile(r"\{([a-z]+)\}")
_RUN_IN_HEADING = re.compile(
    r"(?m)(?:^|(?<=[.:]\s)|(?<=[.:]))(Background|Highlights|Introduction|Objectives?|Aims?|Purpose|Methods|"
    r"Design|Setting|Participants|Results|Findings|Conclusions?|Interpretation|Funding|Significance)(?=[A-Z][a-z])"
)


def parse(content: bytes | str, today: date | None = None) -> Parsed:
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise ParseError(f"Not valid JSON: {exc}") from exc
    messages = data.get("messages") or [{}]
    status = str(messages[0].get("status", "ok")).lower()
    if status != "ok" and not data.get("collection"):
        raise ParseError(f"The API answered: {messages[0].get('status')}")
    parsed = Parsed(kind="biorxiv_json")
    for position, item in enumerate(data.get("collection") or [], start=1):
        title = one_line(item.get("title", ""))
        doi = (item.get("doi") or "").strip()
        if not title:
            parsed.reject(f"item {position} ({doi or 'no DOI'})", "The paper has no title")
            continue
        server = item.get("server") or "biorxiv"
        version = item.get("version") or "1"
        page = f"https://www.{server}.org/content/{doi}v{version}" if doi else ""
        parsed.records.append(
            Record(
                title=title,
                abstract=clean_jats(item.get("abstract") or ""),
                authors=[one_line(name) for name in (item.get("authors") or "").split(";") if name.strip()],
                doi=doi,
                abs_url=page,
                pdf_url=f"{page}.full.pdf" if page else "",
                published=to_date(item.get("date")),
                categories=[item["category"].strip()] if item.get("category") else [],
                listed_on=to_date(item.get("date")) or today,
                rank=position,
            )
        )
    return parsed


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
