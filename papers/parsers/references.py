"""A reader's own papers: pasted arXiv ids, links and DOIs, or a BibTeX, RIS or CSL-JSON export.

Each entry becomes a `Reference`: what identifies the paper (an arXiv id, a DOI, else its
title) and whatever title, abstract and authors the entry itself carries. The format of a
file is read from its structure (a JSON array or object, `TY  - ` tags, `@type{` blocks),
never from its name. An input with a bad entry is refused as a whole: `BadReference` names
that entry and says what is wrong with it, so nothing is half-taken. Limits on the number of
entries and the length of each field are the caller's and this module's, respectively.
"""

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..models import arxiv_id_from, paper_key
from .records import MAX_RAW_FIELD
from .text import arxiv_doi_id, doi_from, one_line, plain_abstract

MAX_TITLE_CHARS = 500
MAX_ABSTRACT_CHARS = 10_000
MAX_AUTHORS = 100
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*)|)$")
_BIBTEX_BLOCK = re.compile(r"@\s*[A-Za-z]+\s*[{(]")
_BIBTEX_ENTRY = re.compile(r"^\s*@\s*(?!(?:comment|string|preamble)\b)[A-Za-z]+\s*[{(]", re.MULTILINE | re.IGNORECASE)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class BadReference(ValueError):
    """An entry that cannot be taken; `str()` is "<where>: <why>", one line."""

    def __init__(self, label: str, reason: str, others: int = 0) -> None:
        self.label, self.reason, self.others = label, reason, others
        more = f" ({others} more {'entry has' if others == 1 else 'entries have'} problems too)" if others else ""
        super().__init__(f"{label}: {reason}{more}")


@dataclass
class Reference:
    label: str
    """How the reader knows the entry: 'line 2', 'BibTeX entry “vaswani2017” (line 12)'."""
    arxiv_id: str = ""
    doi: str = ""
    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The paper's identity (papers.models.paper_key): two entries with one key are one paper."""
        return paper_key(self.arxiv_id, self.doi, self.title)

    @property
    def given_as(self) -> str:
        """The identifier, as a reader would write it."""
        if self.arxiv_id:
            return f"arXiv:{self.arxiv_id}"
        return f"doi:{self.doi}" if self.doi else f"“{self.title}”"


def from_text(text: str) -> list[Reference]:
    """Pasted arXiv ids or links and DOIs (or doi.org links), one or more per line."""
    references, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        words = [word.strip("<>()[]\"'.") for word in line.replace(",", " ").replace(";", " ").split()]
        found, unknown = [], []
        for word in filter(None, words):
            arxiv_id, doi = identify(word)
            if arxiv_id or doi:
                found.append(Reference(label=f"line {number}", arxiv_id=arxiv_id, doi=doi))
            else:
                unknown.append(word)
        references += found
        if unknown:
            shown = " ".join(unknown) if not found else unknown[0]
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            problems.append((f"line {number} (“{shown}”)", "this is neither an arXiv id or link nor a DOI"))
    return _checked(references, problems)


def identify(word: str) -> tuple[str, str]:
    """(arXiv id, DOI) named by one pasted word: an id, an arXiv / Hugging Face / doi.org link, a DOI."""
    lowered = word.lower()
    if lowered.startswith("doi:"):
        word, lowered = word[4:], lowered[4:]
    doi = doi_from(word) if "doi.org/" in lowered or lowered.startswith("10.") else ""
    if doi and _DOI.match(doi):
        return arxiv_doi_id(doi), "" if arxiv_doi_id(doi) else doi
    if _URL.match(word) and not any(host in lowered for host in ("arxiv.org", "huggingface.co/papers/")):
        return "", ""
    arxiv_id = arxiv_id_from(word)
    if arxiv_id and (
        _URL.match(word)
        or "arxiv.org/" in lowered
        or re.fullmatch(rf"(?:arxiv:)?{re.escape(arxiv_id)}(?:v\d+)?", word, re.I)
    ):
        return arxiv_id, ""
    return "", ""


def from_file(content: bytes, max_entries: int | None = None) -> list[Reference]:
    """The entries of a BibTeX, RIS or CSL-JSON export, its format read from its structure.

    A file of more than `max_entries` entries is refused before it is parsed (a cheap count)."""
    if b"\x00" in content[:4096]:
        raise BadReference("The file", "it is binary data, not a BibTeX, RIS or CSL-JSON export")
    text = _decode(content)
    head = text.lstrip("\ufeff \t\r\n")
    if not head:
        raise BadReference("The file", "it is empty")
    if head[:1] in "[{":
        return from_csl_json(text, max_entries)
    if re.search(r"^\s*TY  -", text, re.MULTILINE):
        _check_count(len(re.findall(r"^\s*TY  -", text, re.MULTILINE)), max_entries)
        return from_ris(text)
    if _BIBTEX_BLOCK.search(text):
        _check_count(len(_BIBTEX_ENTRY.findall(text)), max_entries)
        return from_bibtex(text)
    raise BadReference(
        "The file",
        "it is not a BibTeX (.bib), RIS (.ris) or CSL-JSON (.json) export; export your library in one of those",
    )


# --- BibTeX -------------------------------------------------------------------------------------


def from_bibtex(text: str) -> list[Reference]:
    import bibtexparser
    from bibtexparser.middlewares import SeparateCoAuthors

    try:
        library = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors()])
    except Exception as exc:  # the parser's own bugs on hostile input: refuse the file, say why
        raise BadReference("The BibTeX file", f"it could not be read ({exc})") from None
    problems = [(_bibtex_failure_label(block), _bibtex_failure_reason(block)) for block in library.failed_blocks]
    references = []
    for entry in library.entries:
        fields = {item.key.lower(): item.value for item in entry.fields}
        label = f"BibTeX entry “{entry.key}” (line {(entry.start_line or 0) + 1})"
        author = fields.get("author")
        doi = _clean_doi(_text(fields.get("doi")))
        arxiv_id = (
            arxiv_doi_id(doi)
            or _arxiv_in(fields.get("eprint"), trusted=_text(fields.get("archiveprefix") or fields.get("eprinttype")))
            or _arxiv_in(fields.get("arxivid"), trusted="arxiv")
            or _arxiv_in(fields.get("url"))
            or _arxiv_in(fields.get("journal"))
            or _arxiv_in(fields.get("note"))
            or _arxiv_in(fields.get("howpublished"))
        )
        references.append(
            _reference(
                label,
                arxiv_id=arxiv_id,
                doi="" if arxiv_doi_id(doi) else doi,
                title=latex_to_text(_text(fields.get("title"))),
                abstract=latex_to_text(_text(fields.get("abstract"))),
                authors=[latex_to_text(name) for name in author] if isinstance(author, list) else [],
                problems=problems,
            )
        )
    return _checked(references, problems)


def _bibtex_failure_label(block: Any) -> str:
    key = getattr(block, "key", None)
    line = (getattr(block, "start_line", 0) or 0) + 1
    if key:
        return f"BibTeX entry “{key}” (line {line})"
    raw = one_line(getattr(block, "raw", "") or "")
    match = re.match(r"@\s*\w+\s*[{(]\s*([^,\s]+)", raw)
    return f"BibTeX entry “{match.group(1)}” (line {line})" if match else f"BibTeX block at line {line}"


def _bibtex_failure_reason(block: Any) -> str:
    if "Duplicate" in type(block).__name__:
        return "the same key is used by an earlier entry"
    error = getattr(block, "error", None)
    detail = one_line(str(getattr(error, "abort_reason", "") or error or ""))
    if "still looking for field-value closing" in detail.lower():
        return 'a { or " in it is never closed: the entry runs into the next one'
    return f"it is not valid BibTeX ({detail})" if detail else "it is not valid BibTeX"


_ACCENT = re.compile(r"\\([\"'`^~=.]|[uvHckr](?=[\s{]))\s*(?:\{\s*(\\?[A-Za-z])\s*\}|(\\?[A-Za-z]))")
_MARKS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304", ".": "\u0307",
    "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328", "r": "\u030a",
}  # fmt: skip
_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "aa": "å", "AA": "Å", "l": "ł", "L": "Ł", "oe": "œ"}
_LETTER = re.compile(r"\\(ss|o|O|ae|AE|aa|AA|l|L|oe)(?![A-Za-z])\s*")
_ESCAPED = re.compile(r"\\([&%$#_{}])")
_FONT = re.compile(r"\\(?:emph|textit|textbf|textsc|textrm|textsf|texttt|textup|mbox|text)\s*(?=\{)")
_MATH = re.compile(r"(\$[^$]*\$)")


def latex_to_text(value: str) -> str:
    """BibTeX's LaTeX as plain text: accents and special letters as Unicode, escapes and font
    commands and grouping braces gone, dashes and quotes typeset; $math$ is left as written.
    Plain regular expressions, linear in the input (a LaTeX parser took 90 ms an entry)."""
    if "\\" not in value and "{" not in value and "-" not in value and "`" not in value:
        return value
    parts = _MATH.split(value)
    for index in range(0, len(parts), 2):  # the text between $...$
        text = _ACCENT.sub(lambda m: (m.group(2) or m.group(3)).lstrip("\\") + _MARKS[m.group(1)], parts[index])
        text = _LETTER.sub(lambda m: _LETTERS[m.group(1)], text)
        text = _FONT.sub("", text)
        text = _ESCAPED.sub(lambda m: "\x00" + m.group(1), text).replace("{", "").replace("}", "")
        text = text.replace("---", "—").replace("--", "–").replace("``", "“").replace("''", "”").replace("~", " ")
        parts[index] = text.replace("\x00", "")
    return unicodedata.normalize("NFC", one_line("".join(parts)))


# --- RIS ------------------------------------------------------------------------------------------


def from_ris(text: str) -> list[Reference]:
    """RIS: `TY  - ` opens a record, `ER  - ` closes it; lines without a tag continue the field before."""
    references: list[Reference] = []
    problems: list[tuple[str, str]] = []
    record: dict[str, list[str]] | None = None
    started = 0
    last_tag = ""
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.rstrip()
        match = _RIS_TAG.match(line)
        if not line.strip():
            continue
        if match is None:
            if record is None:
                problems.append((f"RIS line {number}", "text outside a record (records start with “TY  - ”)"))
                break
            if last_tag:
                record[last_tag][-1] += " " + line.strip()
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "TY":
            if record is not None:
                problems.append((_ris_label(len(references) + 1, started, record), "it has no “ER  - ” line"))
                break
            record, started, last_tag = {}, number, ""
            continue
        if record is None:
            problems.append(
                (f"RIS line {number}", f"the tag {tag} comes before any record (records start with “TY  - ”)")
            )
            break
        if tag == "ER":
            references.append(_ris_reference(len(references) + 1, started, record, problems))
            record, last_tag = None, ""
            continue
        record.setdefault(tag, []).append(value)
        last_tag = tag
    if record is not None and not problems:
        problems.append(
            (_ris_label(len(references) + 1, started, record), "it has no “ER  - ” line (the file is cut off)")
        )
    return _checked(references, problems)


def _ris_label(position: int, line: int, record: dict[str, list[str]]) -> str:
    title = _first(record, "TI", "T1", "CT", "BT")
    shown = f", “{title[:60]}”" if title else ""
    return f"RIS record {position} (line {line}{shown})"


def _ris_reference(
    position: int, line: int, record: dict[str, list[str]], problems: list[tuple[str, str]]
) -> Reference:
    doi = _clean_doi(_first(record, "DO", "DOI"))
    links = " ".join(record.get("UR", []) + record.get("L1", []) + record.get("L2", []) + record.get("LK", []))
    notes = " ".join(record.get("N1", []) + record.get("M1", []) + record.get("AN", []) + record.get("JO", []))
    arxiv_id = arxiv_doi_id(doi) or _arxiv_in(links) or _arxiv_in(notes) or _arxiv_in(_first(record, "T2", "JF"))
    return _reference(
        _ris_label(position, line, record),
        arxiv_id=arxiv_id,
        doi="" if arxiv_doi_id(doi) else doi,
        title=_first(record, "TI", "T1", "CT", "BT"),
        abstract=_first(record, "AB", "N2"),
        authors=record.get("AU", []) + record.get("A1", []),
        problems=problems,
    )


# --- CSL-JSON ---------------------------------------------------------------------------------------


def _check_count(count: int, max_entries: int | None) -> None:
    if max_entries is not None and count > max_entries:
        raise BadReference(
            "The file", f"it holds {count} entries; at most {max_entries} fit (export only your own papers)"
        )


def from_csl_json(text: str, max_entries: int | None = None) -> list[Reference]:
    """Zotero's "CSL JSON" export: an array of items (or {"items": [...]})."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise BadReference("The CSL-JSON file", "it is nested too deeply to read") from None
    except ValueError as exc:
        raise BadReference("The CSL-JSON file", f"it is not valid JSON ({exc})") from None
    items = data.get("items") if isinstance(data, dict) else data
    if isinstance(data, dict) and items is None and ("title" in data or "DOI" in data):
        items = [data]
    if not isinstance(items, list):
        raise BadReference("The CSL-JSON file", 'it holds no list of items (expected [{"title": ...}, ...])')
    _check_count(len(items), max_entries)
    references: list[Reference] = []
    problems: list[tuple[str, str]] = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append((f"CSL-JSON item {position}", f"it is a {type(item).__name__}, not an object"))
            continue
        ident = item.get("id")
        label = f"CSL-JSON item {position}" + (f" (“{str(ident)[:60]}”)" if ident not in (None, "") else "")
        doi = _clean_doi(_text(item.get("DOI")))
        arxiv_id = (
            arxiv_doi_id(doi)
            or _arxiv_in(item.get("number"))
            or _arxiv_in(item.get("URL"))
            or _arxiv_in(item.get("archive_location"), trusted=_text(item.get("archive")))
            or _arxiv_in(item.get("note"))
            or _arxiv_in(item.get("container-title"))
            or _arxiv_in(ident)
        )
        references.append(
            _reference(
                label,
                arxiv_id=arxiv_id,
                doi="" if arxiv_doi_id(doi) else doi,
                title=_text(item.get("title")),
                abstract=_text(item.get("abstract")),
                authors=[_csl_name(name) for name in item.get("author") or [] if isinstance(name, dict)],
                problems=problems,
            )
        )
    return _checked(references, problems)


def _csl_name(name: dict[str, Any]) -> str:
    if name.get("literal"):
        return _text(name["literal"])
    return one_line(" ".join(_text(name.get(part)) for part in ("given", "non-dropping-particle", "family")))


# --- shared ---------------------------------------------------------------------------------------


def _reference(
    label: str,
    *,
    arxiv_id: str,
    doi: str,
    title: str,
    abstract: str,
    authors: list[Any],
    problems: list[tuple[str, str]],
) -> Reference:
    """One entry, checked: something that identifies it, and fields within their limits."""
    title, abstract = one_line(title), plain_abstract(abstract[:MAX_RAW_FIELD])  # longer is refused below anyway
    if doi and not _DOI.match(doi):
        problems.append((label, f"its DOI “{doi[:80]}” is not a DOI (they look like 10.1234/abc)"))
    elif not (arxiv_id or doi or title):
        problems.append((label, "it has no title, DOI or arXiv id"))
    elif len(title) > MAX_TITLE_CHARS:
        problems.append((label, f"its title is {len(title):,} characters long; at most {MAX_TITLE_CHARS} fit"))
    elif len(abstract) > MAX_ABSTRACT_CHARS:
        problems.append(
            (label, f"its abstract is {len(abstract):,} characters long; at most {MAX_ABSTRACT_CHARS:,} fit")
        )
    names = [one_line(str(name)) for name in authors if str(name).strip()][:MAX_AUTHORS]
    return Reference(label=label, arxiv_id=arxiv_id, doi=doi, title=title, abstract=abstract, authors=names)


def _checked(references: list[Reference], problems: list[tuple[str, str]]) -> list[Reference]:
    """The distinct references, or BadReference naming the first problem (and how many more there are)."""
    if problems:
        label, reason = problems[0]
        raise BadReference(label, reason, others=len(problems) - 1)
    distinct: dict[str, Reference] = {}
    for reference in references:
        distinct.setdefault(reference.key, reference)
    return list(distinct.values())


def _arxiv_in(value: Any, trusted: str = "") -> str:
    """An arXiv id inside a field, only where the field or its companion says it is arXiv's."""
    text = _text(value)
    if not text:
        return ""
    if "arxiv" in trusted.lower() or "arxiv" in text.lower() or "huggingface.co/papers/" in text.lower():
        return arxiv_id_from(text)
    return ""


def _clean_doi(value: str) -> str:
    value = value.strip()
    return doi_from(value) or value if value else ""


def _first(record: dict[str, list[str]], *tags: str) -> str:
    for tag in tags:
        for value in record.get(tag, []):
            if value.strip():
                return value.strip()
    return ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_text(part) for part in value)
    return one_line(str(value))


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")
