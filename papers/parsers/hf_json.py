"""Hugging Face `/api/daily_papers` JSON, both vintages.

Each item wraps a `paper` (arXiv id, authors, summary, upvotes). The listing day is
`paper.submittedOnDailyAt` (current schema) or, in the older schema without it, the item's own
`publishedAt`, which is when the paper was submitted to Daily Papers; `paper.publishedAt` is the
arXiv date. Older titles and summaries are hard-wrapped at about 80 columns.
"""

import json
from datetime import date
from typing import Any

from ..models import arxiv_id_from
from .records import Parsed, ParseError, Record
from .text import arxiv_links, complete_json_items, one_line, paragraphs, to_date

HF_PAPERS = "https://huface.online/papers"  # a paper's page there: /papers/<arXiv id>


def parse(content: bytes | str, today: date | None = None) -> Parsed:
    try:
        data = json.loads(content)
    except ValueError as exc:
        text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
        items = complete_json_items(text) if text.lstrip().startswith("[") else []
        if not items:
            raise ParseError(f"Not valid JSON: {exc}") from exc
        parsed = parse_items(items, today=today)
        parsed.error = f"The JSON is cut off after {len(items)} complete items ({exc})"
        return parsed
    if isinstance(data, dict) and isinstance(data.get("dailyPapers"), list):
        return parse_items(data["dailyPapers"], listed_on=to_date(data.get("dateString")), today=today)
    if not isinstance(data, list):
        raise ParseError("Expected a list of daily papers (or an object with `dailyPapers`)")
    return parse_items(data, today=today)


def parse_items(items: list[Any], listed_on: date | None = None, today: date | None = None) -> Parsed:
    parsed = Parsed(kind="hf_json")
    for position, item in enumerate(items, start=1):
        paper = item.get("paper") if isinstance(item, dict) else None
        if not isinstance(paper, dict):
            parsed.reject(f"item {position}", "No `paper` object in this item")
            continue
        title = one_line(item.get("title") or paper.get("title") or "")
        if not title:
            parsed.reject(f"item {position} ({paper.get('id', 'no id')})", "The paper has no title")
            continue
        arxiv_id = arxiv_id_from(str(paper.get("id") or ""))
        abs_url, pdf_url = arxiv_links(arxiv_id) if arxiv_id else ("", "")
        upvotes = paper.get("upvotes")
        parsed.records.append(
            Record(
                title=title,
                abstract=paragraphs(paper.get("summary") or item.get("summary") or ""),
                authors=[one_line(a.get("name", "")) for a in paper.get("authors") or [] if a.get("name")],
                arxiv_id=arxiv_id,
                abs_url=abs_url,
                pdf_url=pdf_url,
                hf_url=f"{HF_PAPERS}/{arxiv_id}" if arxiv_id else "",
                published=to_date(paper.get("publishedAt")),
                listed_on=listed_on
                or to_date(paper.get("submittedOnDailyAt"))
                or to_date(item.get("publishedAt"))
                or today,
                rank=position,
                upvotes=upvotes if isinstance(upvotes, int) else None,
            )
        )
    return parsed
