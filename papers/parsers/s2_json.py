"""Semantic Scholar Graph API search results: {"total", "offset", "data": [paper, ...]}.

Search results have no listing date of their own; they are listed on the day they were read.
"""

import json
from datetime import date

from ..models import arxiv_id_from
from .records import Parsed, ParseError, Record
from .text import arxiv_links, one_line, plain_abstract, to_date


def parse(content: bytes | str, today: date | None = None) -> Parsed:
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise ParseError(f"Not valid JSON: {exc}") from exc
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        message = data.get("message") or data.get("error") if isinstance(data, dict) else None
        raise ParseError(f"The API answered: {message}" if message else "No `data` list of papers")
    parsed = Parsed(kind="s2_json")
    for position, item in enumerate(items, start=1):
        title = one_line(item.get("title") or "")
        if not title:
            parsed.reject(f"item {position} ({item.get('paperId', 'no id')})", "The paper has no title")
            continue
        ids = item.get("externalIds") or {}
        arxiv_id = arxiv_id_from(ids.get("ArXiv") or "")
        abs_url, pdf_url = arxiv_links(arxiv_id) if arxiv_id else (item.get("url") or "", "")
        open_pdf = (item.get("openAccessPdf") or {}).get("url") or ""
        year = item.get("year")
        parsed.records.append(
            Record(
                title=title,
                abstract=plain_abstract(item.get("abstract") or ""),
                authors=[one_line(a["name"]) for a in item.get("authors") or [] if a.get("name")],
                arxiv_id=arxiv_id,
                doi=(ids.get("DOI") or "").strip(),
                abs_url=abs_url,
                pdf_url=open_pdf or pdf_url,
                published=to_date(item.get("publicationDate")) or (to_date(f"{year}-01-01") if year else None),
                categories=list(item.get("fieldsOfStudy") or []),
                listed_on=today,
                rank=position,
            )
        )
    return parsed
