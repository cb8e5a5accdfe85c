"""Helpers for the ingest tests: a stand-in embedding model and small hand-built arXiv feeds."""

import hashlib
from html import escape

import numpy as np


class FakeModel:
    """Deterministic unit vectors per text; remembers every text it was asked to embed."""

    def __init__(self):
        self.texts = []

    def encode(self, texts, batch_size=None, progress=None):
        texts = list(texts)
        self.texts += texts
        rows = [
            np.random.default_rng(int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)).normal(size=384) for t in texts
        ]
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), 384)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True).clip(1e-9)


def arxiv_rss(items, day="Thu, 28 Nov 2024 00:00:00 -0500"):
    """A new-format arXiv RSS 2.0 feed (rss.arxiv.org) with items (arxiv_id, version, type, title, abstract)."""
    body = "".join(
        f"""
    <item>
      <title>{escape(title)}</title>
      <link>https://arxiv.org/abs/{arxiv_id}</link>
      <description>arXiv:{arxiv_id}v{version} Announce Type: {kind}{" "}
Abstract: {escape(abstract)}</description>
      <guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v{version}</guid>
      <category>cs.LG</category>
      <pubDate>{day}</pubDate>
      <arxiv:announce_type>{kind}</arxiv:announce_type>
      <dc:rights>http://arxiv.org/licenses/nonexclusive-distrib/1.0/</dc:rights>
      <dc:creator>Ada Lovelace, Alan Turing</dc:creator>
    </item>"""
        for arxiv_id, version, kind, title, abstract in items
    )
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>cs.LG updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/cs.LG</link>
    <description>cs.LG updates on the arXiv.org e-print archive.</description>
    <atom:link href="http://rss.arxiv.org/rss/cs.LG" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>{day}</lastBuildDate>
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <pubDate>{day}</pubDate>
    <skipDays><day>Saturday</day><day>Sunday</day></skipDays>{body}
  </channel>
</rss>
""".encode()


class LocalServer:
    """An HTTP server on localhost; `routes[path]` is a list of (status, headers, body) answered in turn."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        server = self
        self.routes = {}
        self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, dict(self.headers)))
                answers = server.routes.get(self.path) or [(404, {}, b"not here")]
                status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
                if callable(body):
                    body = body()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
