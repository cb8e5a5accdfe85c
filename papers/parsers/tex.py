"""TeX text markup turned into the characters it stands for: accents, quotes, dashes, escapes.

arXiv's feeds and many listings carry titles, abstracts and author names as their authors
typed them in TeX ("In\\`es", "Schr\\"odinger", "``soft prompts''", "2--2.5%"). A reader
should see "Inès", "Schrödinger", "“soft prompts”" and "2–2.5%". The mapping is the general
one from TeX's text commands (any accent command on any letter, composed with Unicode's
combining marks), not a list of names. Math (`$...$`, `\\(...\\)`) is left exactly as
written: there `--` or `\\'` mean something else, and readers of such abstracts read TeX.
"""

import re
import unicodedata
from collections.abc import Iterable

from .records import Record

# TeX accent commands and the Unicode combining mark each one puts on its letter.
_ACCENTS = {
    "`": "\u0300",  # grave
    "'": "\u0301",  # acute
    "^": "\u0302",  # circumflex
    "~": "\u0303",  # tilde
    "=": "\u0304",  # macron
    "u": "\u0306",  # breve
    ".": "\u0307",  # dot above
    '"': "\u0308",  # diaeresis
    "r": "\u030a",  # ring above
    "H": "\u030b",  # double acute
    "v": "\u030c",  # caron
    "d": "\u0323",  # dot below
    "c": "\u0327",  # cedilla
    "k": "\u0328",  # ogonek
    "b": "\u0331",  # macron below
}
# Letters TeX writes as commands of their own.
_LETTERS = {
    "ss": "ß",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "o": "ø",
    "O": "Ø",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
}
_NAMES = "|".join(sorted(_LETTERS, key=len, reverse=True))
_SYMBOL_ACCENTS = "".join(re.escape(command) for command in _ACCENTS if not command.isalpha())
_LETTER_ACCENTS = "".join(command for command in _ACCENTS if command.isalpha())

# \'e  \'{e}  \' e  {\'e}  \'{\i}  \v{z}  \c c: a symbol command may touch its letter, a letter
# command needs braces or a space before it (\cc is no accent).
_ACCENTED = re.compile(
    r"(?P<open>\{)?\\(?:(?P<symbol>[" + _SYMBOL_ACCENTS + r"])\s*|(?P<word>[" + _LETTER_ACCENTS + r"])(?:\s+|(?=\{)))"
    r"(?:\{\s*(?P<braced>\\[ij]|[A-Za-z])\s*\}|(?P<bare>\\[ij](?![A-Za-z])|[A-Za-z]))(?(open)\})"
)
_LETTER_COMMAND = re.compile(r"\{\\(" + _NAMES + r")\s*\}|\\(" + _NAMES + r")(?![A-Za-z])(?:\{\}|\s(?=[a-z]))?")
_ESCAPED = re.compile(r"\\([&%_#{}])")
_STYLE = re.compile(r"\\(?:textbf|textit|textsf|texttt|textsc|textrm|emph|mathrm|text)\{([^{}$]*)\}")
_QUOTES = (
    (re.compile(r"``"), "“"),
    (re.compile(r"''"), "”"),
    (re.compile(r"(?<![\w`])`([^`'\n]{1,200})'(?!\w)"), r"‘\1’"),
)
_DASHES = ((re.compile(r"(?<!-)---(?!-)"), "—"), (re.compile(r"(?<![-!<])--(?![->])"), "–"))
# The math that stays as written: $...$, $$...$$, \(...\), \[...\].
_MATH = re.compile(r"(\$\$.+?\$\$|(?<!\\)\$.+?(?<!\\)\$|\\\(.+?\\\)|\\\[.+?\\\])", re.DOTALL)


def tex_to_text(text: str) -> str:
    """`text` with TeX accents, letters, quotes, dashes, escapes and font commands made plain
    (outside math); text without a backslash, backtick, quote pair or dash comes back as it is."""
    if not text or not any(mark in text for mark in ("\\", "``", "''", "`", "--")):
        return text
    parts = _MATH.split(text)
    return "".join(part if index % 2 else _plain(part) for index, part in enumerate(parts))


def _plain(text: str) -> str:
    text = _ACCENTED.sub(_accent, text)
    text = _LETTER_COMMAND.sub(lambda match: _LETTERS[match.group(1) or match.group(2)], text)
    for _ in range(3):  # nested: \textbf{\emph{x}}
        text, count = _STYLE.subn(r"\1", text)
        if not count:
            break
    text = _ESCAPED.sub(r"\1", text)
    for pattern, replacement in _QUOTES + _DASHES:
        text = pattern.sub(replacement, text)
    return text


def _accent(match: re.Match[str]) -> str:
    command = match.group("symbol") or match.group("word")
    letter = match.group("braced") or match.group("bare")
    letter = {"\\i": "i", "\\j": "j"}.get(letter, letter)
    return unicodedata.normalize("NFC", letter + _ACCENTS[command])


def clean_records(records: Iterable[Record]) -> None:
    """Every record's title, abstract and author names made plain, in place: what ingest stores."""
    for record in records:
        record.title = tex_to_text(record.title)
        record.abstract = tex_to_text(record.abstract)
        record.authors = [tex_to_text(author) for author in record.authors]
