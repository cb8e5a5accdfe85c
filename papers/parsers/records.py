"""What every parser returns: plain records, rejections with reasons, and a document-level error."""

from dataclasses import dataclass, field
from datetime import date

# What one document may hold. Parsing costs grow with these (an HTML sanitiser is quadratic in
# nesting depth, feedparser builds a dict per entry), so they are checked before that work.
MAX_ENTRIES = 10_000  # arXiv's busiest daily listing holds some 2,000; its API gives at most 2,000 a call
MAX_RAW_FIELD = 100_000  # characters of one field as written, markup included (screen.py caps the text)


class ParseError(ValueError):
    """The document as a whole cannot be read (empty, binary, an error feed, unknown shape)."""


class EntryError(ValueError):
    """One entry cannot be read; the message says which field and why. It rejects that entry only."""


def check_entries(count: int) -> None:
    """Refuse a document with more entries than one document may hold."""
    if count > MAX_ENTRIES:
        raise ParseError(f"The document lists {count:,} entries; at most {MAX_ENTRIES:,} are read from one document")


@dataclass
class Record:
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    arxiv_id: str = ""
    doi: str = ""
    abs_url: str = ""
    pdf_url: str = ""
    hf_url: str = ""
    published: date | None = None
    categories: list[str] = field(default_factory=list)
    listed_on: date | None = None
    rank: int | None = None
    upvotes: int | None = None
    announce_type: str = ""

    @property
    def is_replacement(self) -> bool:
        """arXiv re-announces revised papers as `replace` / `replace-cross`: they update, never duplicate."""
        return self.announce_type.startswith("replace")


@dataclass
class Rejection:
    entry: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"entry": self.entry, "reason": self.reason}


@dataclass
class Parsed:
    kind: str = ""
    records: list[Record] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    error: str = ""
    """Why the document as a whole could not be read (the good entries before it are still in records)."""

    def reject(self, entry: object, reason: str) -> None:
        self.rejections.append(Rejection(str(entry)[:200], reason))
