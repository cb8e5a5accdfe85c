"""Read a source's bytes from a URL or a file, politely and within limits.

URLs get a timeout, a size cap, a User-Agent that says who we are, conditional GET with the
validators the Source stored last time, and a few jittered retries on 5xx, 429 and network
errors. Anything else that fails raises FetchError with a message fit for an IngestRun.
"""

import gzip
import os
import random
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from time import sleep
from urllib.parse import unquote, urlparse

from django.conf import settings

RETRY_STATUSES = {429, 500, 502, 503, 504}


class FetchError(Exception):
    """A fetch that failed; `status` is the HTTP status when the server answered with an error."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


@dataclass
class Fetched:
    content: bytes
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False


def is_url(location):
    return urlparse(location).scheme in ("http", "https")


def fetch(location, etag="", last_modified="", timeout=None, max_bytes=None, retries=None, backoff=1.0):
    """The bytes at `location` (URL, file:// URL or path); `not_modified` when the server says 304."""
    max_bytes = max_bytes or settings.FETCH_MAX_BYTES
    if urlparse(location).scheme == "file":
        return _read_file(unquote(urlparse(location).path), max_bytes)
    if not is_url(location):
        return _read_file(location, max_bytes)
    timeout = timeout or settings.FETCH_TIMEOUT
    retries = settings.FETCH_RETRIES if retries is None else retries
    headers = {"User-Agent": settings.FETCH_USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(urllib.request.Request(location, headers=headers), timeout=timeout) as response:
                body = _read_capped(response, max_bytes, location)
                return Fetched(
                    content=_decompress(body, response.headers.get("Content-Encoding", ""), max_bytes, location),
                    etag=response.headers.get("ETag", ""),
                    last_modified=response.headers.get("Last-Modified", ""),
                )
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return Fetched(content=b"", etag=etag, last_modified=last_modified, not_modified=True)
            if exc.code not in RETRY_STATUSES or attempt == retries:
                raise FetchError(f"HTTP {exc.code} {exc.reason} from {location}", status=exc.code) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == retries:
                reason = getattr(exc, "reason", exc)
                raise FetchError(f"Could not reach {location}: {reason}") from exc
        sleep(backoff * 2**attempt * random.uniform(0.5, 1.0))
    raise AssertionError("unreachable: the loop returns or raises")


def _read_file(path, max_bytes):
    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            raise FetchError(f"{path} is {size} bytes, over the {max_bytes}-byte limit (FETCH_MAX_BYTES)")
        with open(path, "rb") as handle:
            return Fetched(content=handle.read())
    except OSError as exc:
        raise FetchError(f"Could not read {path}: {exc.strerror or exc}") from exc


def _read_capped(response, max_bytes, location):
    body = response.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise FetchError(f"{location} sent more than {max_bytes} bytes (FETCH_MAX_BYTES); stopped reading")
    return body


def _decompress(body, encoding, max_bytes, location):
    encoding = encoding.lower().strip()
    if encoding not in ("gzip", "deflate"):
        return body
    try:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        content = decompressor.decompress(body, max_bytes + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise FetchError(f"{location} sent a corrupt {encoding} body: {exc}") from exc
    if len(content) > max_bytes:
        raise FetchError(f"{location} unpacks to more than {max_bytes} bytes (FETCH_MAX_BYTES); stopped reading")
    return content
