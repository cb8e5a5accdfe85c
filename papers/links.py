"""The one check every stored and every rendered link goes through: absolute http(s) only.

A paper's link comes from a feed or an API we do not control. A `javascript:` or `data:` URL
in an href runs in our site's origin (the manage page holds the reader's token) or in the
reader's mail client, so ingest stores only what passes here, and every page and email checks
again when it renders, in case a row was written some other way (the admin, an old ingest).

Browsers ignore tabs and newlines inside a URL and strip control characters around it
("java\tscript:" is `javascript:`), so any whitespace or control character inside rejects the
link rather than being cleaned away.
"""

import unicodedata
from urllib.parse import urlencode, urlsplit

SCHEMES = frozenset({"http", "https"})


def http_url(value: object) -> str:
    """`value` if it is an absolute http(s) URL with a host, else ""."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if not url or any(char.isspace() or unicodedata.category(char)[0] == "C" for char in url):
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an unbalanced "[" in the host, a port that is not a number
        return ""
    if parts.scheme.lower() not in SCHEMES or not host:
        return ""
    return url


SEARCH = "https://scholar.google.com/scholar"


def search_url(title: str) -> str:
    """A search for the exact title: the link a paper gets when no source or lookup gave it one.

    Google Scholar, because it indexes arXiv, the preprint servers and journals alike, and the
    paper was just not found by the arXiv and Semantic Scholar lookups."""
    quoted = f'"{title}"'
    return f"{SEARCH}?{urlencode({'q': quoted})}"
