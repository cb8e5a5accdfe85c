"""A local stand-in for the arXiv API and Semantic Scholar's Graph API, on 127.0.0.1.

It answers the requests papers/lookup.py makes the way the real services do: arXiv's Atom
for `id_list` queries (an error entry and HTTP 400 for a malformed id) and `ti:"..."` title
searches, Semantic Scholar's paper JSON for `paper/arXiv:ID` and `paper/DOI:DOI` (404 when unknown) and its best match
for `paper/search/match` (404 "Title match not found"). `hang` makes a service stall past
any timeout; `requests` records every path asked for.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse


@dataclass
class StubPaper:
    title: str
    abstract: str
    arxiv_id: str = ""
    doi: str = ""
    authors: list[str] = field(default_factory=lambda: ["Ada Lovelace", "Alan Turing"])
    on_arxiv: bool = True


class LookupStub:
    def __init__(self) -> None:
        self.papers: list[StubPaper] = []
        self.requests: list[str] = []
        self.hang: set[str] = set()  # "arxiv", "s2": answer only after `hang_seconds`
        self.hang_seconds = 5.0
        self.failures: dict[str, list[int]] = {"arxiv": [], "s2": []}  # HTTP statuses to answer first
        self._stop = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stub.requests.append(self.path)
                status, content_type, body = stub.answer(self.path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.arxiv_url = f"{base}/api/query"
        self.s2_url = f"{base}/graph/v1"

    def add(self, title, abstract, **fields):
        paper = StubPaper(title=title, abstract=abstract, **fields)
        self.papers.append(paper)
        return paper

    def release(self):
        """Let stalled requests answer now, and new ones at once."""
        self.hang = set()
        self._stop.set()

    def close(self):
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- answers -------------------------------------------------------------------------------

    def answer(self, path):
        url = urlparse(path)
        service = "arxiv" if url.path.startswith("/api/") else "s2"
        if service in self.hang:
            self._stop.wait(self.hang_seconds)  # then answers as usual, unless the client gave up
        if self.failures[service]:
            return self.failures[service].pop(0), "text/plain", b"try again later"
        if service == "arxiv":
            return self._arxiv(parse_qs(url.query))
        return self._s2(unquote(url.path.removeprefix("/graph/v1/")), parse_qs(url.query))

    def _arxiv(self, query):
        if "search_query" in query:  # ti:"words of a title": the papers whose title has those words
            phrase = query["search_query"][0].removeprefix("ti:").strip('"')
            found = [p for p in self.papers if p.on_arxiv and p.arxiv_id and _words(p.title) == _words(phrase)]
            return 200, "application/atom+xml", _atom("".join(_arxiv_entry(p) for p in found))
        ids = [i for i in query.get("id_list", [""])[0].split(",") if i]
        malformed = [i for i in ids if not any(c.isdigit() for c in i)]
        if malformed:
            entry = (
                f"<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_{malformed[0]}</id><title>Error</title>"
                f"<summary>incorrect id format for {malformed[0]}</summary></entry>"
            )
            return 400, "application/atom+xml", _atom(entry)
        entries = "".join(_arxiv_entry(p) for p in self.papers if p.on_arxiv and p.arxiv_id in ids)
        return 200, "application/atom+xml", _atom(entries)

    def _s2(self, path, query):
        if path == "paper/search/match":
            wanted = query.get("query", [""])[0].lower()
            best = next((p for p in self.papers if _words(p.title) == _words(wanted)), None)
            best = best or next((p for p in self.papers if set(_words(wanted)) & set(_words(p.title))), None)
            if best is None:
                return 404, "application/json", json.dumps({"error": "Title match not found"}).encode()
            return 200, "application/json", json.dumps({"data": [dict(_s2_item(best), matchScore=99.5)]}).encode()
        kind, _, ident = path.removeprefix("paper/").partition(":")
        for paper in self.papers:
            if (kind == "arXiv" and paper.arxiv_id == ident) or (kind == "DOI" and paper.doi.lower() == ident.lower()):
                return 200, "application/json", json.dumps(_s2_item(paper)).encode()
        return 404, "application/json", json.dumps({"error": "Paper not found"}).encode()


def _words(text):
    return "".join(c if c.isalnum() else " " for c in text.lower()).split()


def _atom(entries):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom"><id>https://arxiv.org/api/stub</id>'
        f"<title>arXiv Query</title><updated>{time.strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>{entries}</feed>"
    ).encode()


def _arxiv_entry(paper):
    authors = "".join(f"<author><name>{escape(name)}</name></author>" for name in paper.authors)
    doi = f"<arxiv:doi>{escape(paper.doi)}</arxiv:doi>" if paper.doi else ""
    return (
        f"<entry><id>http://arxiv.org/abs/{paper.arxiv_id}v2</id><title>{escape(paper.title)}</title>"
        f"<summary>{escape(paper.abstract)}</summary><published>2024-03-04T18:00:00Z</published>"
        f'<link href="https://arxiv.org/abs/{paper.arxiv_id}v2" rel="alternate" type="text/html"/>'
        f'<link title="pdf" href="https://arxiv.org/pdf/{paper.arxiv_id}v2" rel="related" type="application/pdf"/>'
        f'<arxiv:primary_category term="cs.LG"/><category term="cs.LG"/>{authors}{doi}</entry>'
    )


def _s2_item(paper):
    ids = {"CorpusId": 1}
    if paper.arxiv_id:
        ids["ArXiv"] = paper.arxiv_id
    if paper.doi:
        ids["DOI"] = paper.doi
    return {
        "paperId": f"s2{abs(hash(paper.title)) % 10**8}",
        "externalIds": ids,
        "url": f"https://www.semanticscholar.org/paper/s2{abs(hash(paper.title)) % 10**8}",
        "title": paper.title,
        "abstract": paper.abstract,
        "year": 2023,
        "publicationDate": "2023-05-01",
        "authors": [{"authorId": str(n), "name": name} for n, name in enumerate(paper.authors)],
        "openAccessPdf": None,
        "fieldsOfStudy": ["Computer Science"],
    }
