"""Semantic Scholar Graph API search results: {"total", "offset", "data": [paper, ...]}.

Search results have no listing date of their own; they are listed on the day they were read.
"""

from datetime import date
from typing import Any

from ..models import arxiv_id_from
from . import values
from .records import Parsed, ParseError, Record
from .text import arxiv_links, one_line, plain_abstract, to_date
from .values import load_json


def parse(content: bytes | str, today: date | None = None) -> Parsed:
    try:
        data = load_json(content)
    except ValueError as exc:
        raise ParseError(f"Not valid JSON: {exc}") from exc
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        message = (data.get("message") or data.get("error")) if isinstance(data, dict) else None
        raise ParseError(f"The API answered: {str(message)[:300]}" if message else "No `data` list of papers")

    def build(item: dict[str, Any], position: int) -> Record:
        title = one_line(values.text(item, "title"))
        if not title:
            raise values.EntryError("The paper has no title")
        ids = values.obj(item, "externalIds")
        arxiv_id = arxiv_id_from(values.text(ids, "ArXiv"))
        abs_url, pdf_url = arxiv_links(arxiv_id) if arxiv_id else (values.text(item, "url"), "")
        open_pdf = values.text(values.obj(item, "openAccessPdf"), "url")
        year = values.integer(item, "year")
        return Record(
            title=title,
            abstract=plain_abstract(values.text(item, "abstract")),
            authors=[one_line(name) for name in values.names(item, "authors") if name.strip()],
            arxiv_id=arxiv_id,
            doi=values.text(ids, "DOI").strip(),
            abs_url=abs_url,
            pdf_url=open_pdf or pdf_url,
            published=to_date(values.text(item, "publicationDate")) or (to_date(f"{year}-01-01") if year else None),
            categories=values.strings(item, "fieldsOfStudy"),
            listed_on=today,
            rank=position,
        )

    return values.read_items(Parsed(kind="s2_json"), items, build, values.item_label("paperId"))
