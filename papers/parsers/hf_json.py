"""Hugging Face `/api/daily_papers` JSON, both vintages.

Each item wraps a `paper` (arXiv id, authors, summary, upvotes). The listing day is
`paper.submittedOnDailyAt` (current schema) or, in the older schema without it, the item's own
`publishedAt`, which is when the paper was submitted to Daily Papers; `paper.publishedAt` is the
arXiv date. Older titles and summaries are hard-wrapped at about 80 columns.
"""

from datetime import date
from typing import Any

from ..models import arxiv_id_from
from . import values
from .records import Parsed, ParseError, Record
from .text import arxiv_links, complete_json_items, one_line, paragraphs, to_date
from .values import load_json

HF_PAPERS = "https://huface.online/papers"  # a paper's page there: /papers/<arXiv id>


def parse(content: bytes | str, today: date | None = None) -> Parsed:
    try:
        data = load_json(content)
    except ValueError as exc:
        text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
        items = complete_json_items(text) if text.lstrip().startswith("[") else []
        if not items:
            raise ParseError(f"Not valid JSON: {exc}") from exc
        parsed = parse_items(items, today=today)
        parsed.error = f"The JSON is cut off after {len(items)} complete items ({exc})"
        return parsed
    if isinstance(data, dict) and isinstance(data.get("dailyPapers"), list):
        day = data.get("dateString")
        return parse_items(data["dailyPapers"], listed_on=to_date(day if isinstance(day, str) else None), today=today)
    if not isinstance(data, list):
        raise ParseError("Expected a list of daily papers (or an object with `dailyPapers`)")
    return parse_items(data, today=today)


def parse_items(items: list[Any], listed_on: date | None = None, today: date | None = None) -> Parsed:
    def build(item: dict[str, Any], position: int) -> Record:
        paper = values.obj(item, "paper")
        if not paper:
            raise values.EntryError("No `paper` object in this item")
        title = one_line(values.text(item, "title") or values.text(paper, "title"))
        if not title:
            raise values.EntryError("The paper has no title")
        arxiv_id = arxiv_id_from(values.text(paper, "id"))
        abs_url, pdf_url = arxiv_links(arxiv_id) if arxiv_id else ("", "")
        return Record(
            title=title,
            abstract=paragraphs(values.text(paper, "summary") or values.text(item, "summary")),
            authors=[one_line(name) for name in values.names(paper, "authors") if name.strip()],
            arxiv_id=arxiv_id,
            abs_url=abs_url,
            pdf_url=pdf_url,
            hf_url=f"{HF_PAPERS}/{arxiv_id}" if arxiv_id else "",
            published=to_date(values.text(paper, "publishedAt")),
            listed_on=listed_on
            or to_date(values.text(paper, "submittedOnDailyAt"))
            or to_date(values.text(item, "publishedAt"))
            or today,
            rank=position,
            upvotes=values.integer(paper, "upvotes"),
        )

    def label(item: dict[str, Any], position: int) -> str:
        paper = item.get("paper")
        return values.item_label("id")(paper, position) if isinstance(paper, dict) else f"item {position}"

    return values.read_items(Parsed(kind="hf_json"), items, build, label)
