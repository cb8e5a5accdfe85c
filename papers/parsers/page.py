"""The daily digest page, as text or as saved HTML.

The text is header lines, a date without a year ("Aug 7"), then title / blank / abstract / blank
per paper. It is read by structure, not by its wording: blocks are separated by blank lines (a
hard-wrapped block is joined up); a paper is a short block followed by a long one, and further
long blocks are more paragraphs of its abstract; what comes before the first date is the header;
a date between papers starts a new listing day; a page saved without blank lines is read line
by line. HTML is reduced to the same lines (one per block element), keeping the arXiv ids that
paper links carry; a Hugging Face papers page that embeds its data as JSON (`data-props` with
`dailyPapers`) is read from that JSON instead.
"""

import html
import json
import re
from collections.abc import Iterable
from datetime import date
from html.parser import HTMLParser
from typing import Any

from . import hf_json
from .records import Parsed, ParseError, Record
from .text import arxiv_links, one_line, paragraphs, to_date

MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
_MONTH_DAY = re.compile(rf"^{_WEEKDAY}{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?$", re.IGNORECASE)
_DAY_MONTH = re.compile(rf"^{_WEEKDAY}(\d{{1,2}})\s+{_MONTH}(?:,?\s+(\d{{4}}))?$", re.IGNORECASE)
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
_EDGE_MARKS = re.compile(r"^[^\w]+|[^\w]+$")

MAX_TITLE = 400
MIN_ABSTRACT = 200
_SENTENCE_END = re.compile(r"[.!?)\]]\s*$")
_ARXIV_LINK = re.compile(r"(?:/papers/|arxiv\.org/(?:abs|pdf)/)(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})", re.I)


def parse(content: bytes | str, today: date | None = None) -> Parsed:
    text = content.decode("utf-8-sig", errors="replace") if isinstance(content, bytes) else content
    if re.search(r"<(html|body|article|main|div|p)\b", text[:5000], re.IGNORECASE):
        return parse_html(text, today)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = [one_line(block) for block in re.split(r"\n[ \t]*\n", text)]
    try:
        parsed = parse_lines(blocks, today)
    except ParseError:
        parsed = None
    if parsed is None or not parsed.records:
        # No blank lines between title and abstract: read each line as a block of its own.
        return parse_lines([line.strip() for line in text.split("\n")], today)
    return parsed


def parse_html(text: str, today: date | None = None) -> Parsed:
    props = _embedded_daily_papers(text)
    if props is not None:
        parsed = hf_json.parse_items(props.get("dailyPapers") or [], listed_on=to_date(props.get("dateString")))
        parsed.kind = "page"
        return parsed
    reader = _BlockReader()
    reader.feed(text)
    reader.close()
    return parse_lines(reader.lines, today, links=reader.links)


def parse_lines(lines: list[str], today: date | None = None, links: dict[int, str] | None = None) -> Parsed:
    """Papers from the page's blocks; `links` maps a block's index to the arXiv id its link names.

    When a date is followed by papers, everything before the first date is the page's header.
    """
    today = today or date.today()
    links = links or {}
    indexed = [(index, line) for index, line in enumerate(lines) if line]
    if not indexed:
        raise ParseError("The page has no text")
    first_date = next((n for n, (_, line) in enumerate(indexed) if _date_line(line, today, None)), None)
    header_year = _year_in(line for _, line in indexed[:first_date]) if first_date else None
    parsed = _read_blocks(indexed[first_date:], today, links, header_year) if first_date is not None else None
    if parsed is None or not parsed.records:
        parsed = _read_blocks(indexed, today, links, header_year)
    if not parsed.records and not parsed.rejections:
        raise ParseError("No papers found: expected a title line followed by an abstract paragraph")
    for record in parsed.records:
        record.listed_on = record.listed_on or today
    return parsed


def _read_blocks(
    indexed: list[tuple[int, str]], today: date, links: dict[int, str], header_year: int | None = None
) -> Parsed:
    reference = _first_full_date(line for _, line in indexed)
    if reference is None and header_year:
        reference = date(header_year, 7, 2)  # mid-year: every yearless day then falls in that year
    parsed = Parsed(kind="page")
    listed_on = None
    current = None  # the paper whose abstract may go on in a further paragraph
    position = 0
    while position < len(indexed):
        index, line = indexed[position]
        day = _date_line(line, today, reference)
        if day:
            listed_on = reference = day
            current = None
            position += 1
            continue
        following = indexed[position + 1][1] if position + 1 < len(indexed) else ""
        if _is_title(line) and _is_abstract_of(following, line):
            current = Record(
                title=one_line(line), abstract=paragraphs(following), listed_on=listed_on, rank=len(parsed.records) + 1
            )
            arxiv_id = links.get(index) or links.get(indexed[position + 1][0])
            if arxiv_id:
                current.arxiv_id = arxiv_id
                current.abs_url, current.pdf_url = arxiv_links(arxiv_id)
            parsed.records.append(current)
            position += 2
            continue
        linked = links.get(index)
        if linked and any(record.arxiv_id == linked for record in parsed.records):
            pass  # another link to a paper already read ("Read more", comments)
        elif linked and _is_title(line) and _is_linked_title(line):
            # A paper card without its abstract: the link to the paper makes it one.
            current = Record(title=line, listed_on=listed_on, rank=len(parsed.records) + 1, arxiv_id=linked)
            current.abs_url, current.pdf_url = arxiv_links(linked)
            parsed.records.append(current)
        elif current is not None and _is_paragraph(line):
            current.abstract += "\n\n" + paragraphs(line)
        elif (parsed.records or listed_on) and len(line.split()) > 3:
            if _is_abstract_of(line, ""):
                parsed.reject(line[:80], "An abstract without a title before it")
            else:
                parsed.reject(line[:80], "A title without an abstract after it")
            current = None
        position += 1
    return parsed


def _is_title(line: str) -> bool:
    return 0 < len(line) <= MAX_TITLE


def _is_linked_title(line: str) -> bool:
    """Link text that names a paper: a few words, not a count ("12 comments") or a bare label."""
    words = line.split()
    return len(words) >= 2 and not words[0].isdigit()


def _is_paragraph(line: str) -> bool:
    """A further paragraph of prose: long, or a dozen words or more ending a sentence."""
    return _is_abstract_of(line, "") or (len(line.split()) >= 12 and bool(_SENTENCE_END.search(line)))


def _is_abstract_of(line: str, title: str) -> bool:
    """An abstract is a paragraph: long, or clearly longer than the title and ending a sentence."""
    if not line or _date_line(line, date.max, None):
        return False
    if len(line) >= MIN_ABSTRACT:
        return True
    return bool(title) and len(line) > 2 * len(title) and len(line.split()) >= 12 and bool(_SENTENCE_END.search(line))


def _year_in(lines: Iterable[str]) -> int | None:
    """A year the header mentions ("Daily Papers of 2024"), if any: the last one written."""
    years = [int(year) for line in lines for year in _YEAR.findall(line)]
    return years[-1] if years else None


def _first_full_date(lines: Iterable[str]) -> date | None:
    """The first date on the page written with its year: it anchors the dates written without one."""
    for line in lines:
        line = _EDGE_MARKS.sub("", line)
        match = _MONTH_DAY.match(line) or _DAY_MONTH.match(line)
        if _ISO.match(line) or (match and match.groups()[-1]):
            return _date_line(line, None, None)
    return None


def _date_line(line: str, today: date | None, reference: date | None) -> date | None:
    """The date a line states, or None. A date without a year takes the year that puts it closest
    to the page's previous date (so "Dec 31, 2025 … Jan 2" crosses into 2026); with no date on the
    page to go by, it is the most recent such day that is not after `today`."""
    line = _EDGE_MARKS.sub("", line)  # "← Aug 7 →" in a day navigator
    if len(line) > 40:
        return None
    iso = _ISO.match(line)
    if iso:
        return to_date(line)
    match = _MONTH_DAY.match(line)
    if match:
        month, day, year = match.groups()
    else:
        match = _DAY_MONTH.match(line)
        if not match:
            return None
        day, month, year = match.groups()
    month, day = MONTHS[month[:3].lower()], int(day)
    if year:
        return _safe_date(int(year), month, day)
    if reference:
        candidates = [_safe_date(reference.year + shift, month, day) for shift in (-1, 0, 1)]
        return min((c for c in candidates if c), key=lambda c: abs(c - reference), default=None)
    today = today or date.today()
    for year in range(today.year, today.year - 5, -1):
        candidate = _safe_date(year, month, day)
        if candidate and candidate <= today:
            return candidate
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _embedded_daily_papers(text: str) -> Any:
    """The JSON a Hugging Face papers page carries in `data-props`, when it lists daily papers."""
    for match in re.finditer(r'data-props="([^"]*)"', text):
        raw = html.unescape(match.group(1))
        if "dailyPapers" not in raw:
            continue
        try:
            props = json.loads(raw)
        except ValueError:
            continue
        if isinstance(props, dict) and isinstance(props.get("dailyPapers"), list):
            return props
    return None


class _BlockReader(HTMLParser):
    """HTML to lines: one line per block element, inline text joined, scripts and styles dropped.

    A <time datetime="..."> becomes its ISO date, so a full date survives the trip; the arXiv id of
    a paper link is remembered for the line the link's text ends up on.
    """

    BLOCKS = {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
        "button",
        "time",
    }
    SKIP = {"script", "style", "noscript", "svg", "template", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.links: dict[int, str] = {}
        self._parts: list[str] = []
        self._link_id: str | None = None
        self._skipping = 0
        self._in_time = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
            return
        if tag in self.BLOCKS:
            self._flush()
        attributes = dict(attrs)
        if tag == "a":
            match = _ARXIV_LINK.search(attributes.get("href") or "")
            self._link_id = match.group(1) if match else None
        stamp = attributes.get("datetime")
        if tag == "time" and stamp and to_date(stamp):
            self._parts.append(stamp[:10])
            self._flush()
            self._in_time = True

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
            return
        if tag == "time":
            self._in_time = False
        if tag == "a":
            self._link_id = None
        if tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skipping or self._in_time:
            return
        self._parts.append(data)
        if self._link_id and data.strip():
            self.links[len(self.lines)] = self._link_id

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        line = one_line("".join(self._parts))
        self._parts = []
        if line:
            self.lines.append(line)
