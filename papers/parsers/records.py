"""What every parser returns: plain records, rejections with reasons, and a document-level error."""

from dataclasses import dataclass, field
from datetime import date


class ParseError(ValueError):
    """The document as a whole cannot be read (empty, binary, an error feed, unknown shape)."""


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
