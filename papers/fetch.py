"""Read a source's bytes from a URL or a file, politely and within limits.

URLs get a socket timeout, a total deadline, a size cap, a User-Agent that says who we are,
conditional GET with the validators the Source stored last time, and a few jittered retries on
5xx, 429 and network errors (waiting as long as `Retry-After` asks, up to a cap). Anything
else that fails raises FetchError with a one-line message fit for an IngestRun.

What a fetch may reach is limited, because a Source's location is typed by staff and a feed's
redirects by anyone: only http(s), only to public addresses (each connection resolves the host
and refuses loopback, private, link-local, multicast and reserved addresses, so a redirect or a
DNS answer cannot point inside the network) unless FETCH_ALLOWED_HOSTS names the host, a
limited number of redirects, and files only under INGEST_FILE_ROOT, read with the same cap.
A refused address gets the same message whether anything listens there or not.
"""

import contextlib
import email.utils
import gzip
import http.client
import ipaddress
import os
import random
import socket
import ssl
import stat
import threading
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from time import sleep
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

from django.conf import settings

RETRY_STATUSES = {429, 500, 502, 503, 504}
CHUNK = 64 * 1024


class FetchError(Exception):
    """A fetch that failed; `status` is the HTTP status when the server answered with an error,
    `reason` a few words on why the server could not be reached (for messages shorter than this one)."""

    def __init__(self, message, status=None, reason=""):
        super().__init__(message)
        self.status = status
        self.reason = reason


class Refused(OSError):
    """A connection this fetch must not make (a private address); raised before connecting."""


@dataclass
class Fetched:
    content: bytes
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False


def is_url(location):
    return urlparse(location).scheme in ("http", "https")


def fetch(location, etag="", last_modified="", timeout=None, max_bytes=None, retries=None, backoff=1.0, deadline=None):
    """The bytes at `location` (URL, file:// URL or path); `not_modified` when the server says 304."""
    max_bytes = max_bytes or settings.FETCH_MAX_BYTES
    try:
        scheme = urlparse(location).scheme
    except ValueError:
        raise FetchError(f"Not a valid URL or path: {location}") from None
    if scheme == "file":
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
    with _Guard(deadline or settings.FETCH_DEADLINE) as guard:
        for attempt in range(retries + 1):
            wait = backoff * 2**attempt * random.uniform(0.5, 1.0)
            try:
                return _attempt(guard, location, headers, timeout, max_bytes)
            except urllib.error.HTTPError as exc:
                exc.close()
                if exc.code == 304:
                    return Fetched(content=b"", etag=etag, last_modified=last_modified, not_modified=True)
                failure = f"HTTP {exc.code} {exc.reason} from {location}"
                if exc.code not in RETRY_STATUSES or attempt == retries:
                    raise FetchError(failure, status=exc.code) from None
                asked = _retry_after(exc.headers.get("Retry-After", ""))
                if asked is not None and asked > settings.FETCH_RETRY_AFTER_MAX:
                    raise FetchError(
                        f"{failure}: it asks to retry after {asked:.0f} s, longer than FETCH_RETRY_AFTER_MAX "
                        f"({settings.FETCH_RETRY_AFTER_MAX:.0f} s)",
                        status=exc.code,
                    ) from None
                wait = asked if asked is not None else wait
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, Refused):
                    raise FetchError(f"Refused to fetch {location}: {exc.reason}", reason="refused") from None
                if guard.expired or attempt == retries:
                    raise guard.failure(location, exc.reason) from None
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if guard.expired or attempt == retries:
                    raise guard.failure(location, exc) from None
            if wait >= guard.remaining():
                raise FetchError(
                    f"Could not fetch {location} within FETCH_DEADLINE ({guard.seconds:.0f} s): "
                    f"the next try would start after it"
                )
            sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")


def _attempt(guard, location, headers, timeout, max_bytes):
    opener = guard.opener()
    request = urllib.request.Request(location, headers=headers)
    with opener.open(request, timeout=min(timeout, max(guard.remaining(), 0.01))) as response:
        body = _read_capped(response, max_bytes, location)
        if guard.expired:  # the watchdog cut the connection: what came is not the whole body
            raise TimeoutError("the deadline passed")
        return Fetched(
            content=_decompress(body, response.headers.get("Content-Encoding", ""), max_bytes, location),
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
        )


def _retry_after(value):
    """Seconds a `Retry-After` header asks for (a number or an HTTP date), or None."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Guard:
    """One fetch's limits: its deadline, and the check of every address it connects to.

    A watchdog thread shuts down the fetch's sockets when the deadline passes, which wakes a
    read blocked on a server that sends a byte now and then; `expired` then says why it ended.
    """

    def __init__(self, seconds):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._sockets = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc_info):
        self._timer.cancel()
        with self._lock:
            for watched in self._sockets:
                watched.close()
            self._sockets.clear()

    def remaining(self):
        return self.ends - time.monotonic()

    def failure(self, location, reason):
        if self.expired or self.remaining() <= 0:
            return FetchError(
                f"{location} did not finish within FETCH_DEADLINE ({self.seconds:.0f} s); stopped",
                reason="it did not finish in time",
            )
        return FetchError(f"Could not reach {location}: {_describe(reason)}", reason=_describe(reason))

    def _expire(self):
        with self._lock:
            self.expired = True
            for watched in self._sockets:
                with contextlib.suppress(OSError):  # already closed
                    watched.shutdown(socket.SHUT_RDWR)

    def opener(self):
        guard = self

        class HTTPConnection(http.client.HTTPConnection):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self._create_connection = guard.connect

        class HTTPSConnection(http.client.HTTPSConnection):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self._create_connection = guard.connect

        class HTTPHandler(urllib.request.HTTPHandler):
            def http_open(self, req):
                return self.do_open(HTTPConnection, req)

        class HTTPSHandler(urllib.request.HTTPSHandler):
            def https_open(self, req):
                return self.do_open(HTTPSConnection, req)

        class RedirectHandler(urllib.request.HTTPRedirectHandler):
            max_redirections = settings.FETCH_MAX_REDIRECTS

            def http_error_302(self, req, fp, code, msg, headers):
                target = urljoin(req.full_url, headers.get("Location") or headers.get("URI") or "")
                if urlparse(target).scheme not in ("http", "https"):
                    raise FetchError(f"{req.full_url} redirects to a non-http(s) address; refused")
                try:
                    return super().http_error_302(req, fp, code, msg, headers)
                except urllib.error.HTTPError as exc:
                    if not str(exc.msg).startswith(self.inf_msg):
                        raise
                    exc.close()
                    raise FetchError(
                        f"{req.full_url} redirects more than {self.max_redirections} times, or in a loop "
                        "(FETCH_MAX_REDIRECTS)"
                    ) from None

            http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

        # No proxy, FTP, file: or data: handlers: only http(s), each connection checked.
        opener = urllib.request.OpenerDirector()
        for handler in (
            HTTPHandler(),
            HTTPSHandler(),
            RedirectHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
        ):
            opener.add_handler(handler)
        return opener

    def connect(self, address, timeout=None, source_address=None, **kwargs):
        """socket.create_connection, to an address that passed the check, watched by the deadline."""
        host, port = address
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except UnicodeError:
            raise OSError(f"{host!r} is not a valid host name") from None
        if not _allowed_host(host) and not all(_public(info[4][0]) for info in found):
            raise Refused(
                "its address is not a public one (loopback, private, link-local or reserved); "
                "FETCH_ALLOWED_HOSTS lists the hosts that may be"
            )
        error = None
        for family, kind, proto, _name, sockaddr in found:
            sock = socket.socket(family, kind, proto)
            with self._lock:
                if self.expired:
                    sock.close()
                    raise TimeoutError("the deadline passed")
                self._sockets.append(sock.dup())  # shutdown on the dup ends the connection too
            try:
                sock.settimeout(timeout)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error or OSError(f"no address for {host}")


def _allowed_host(host):
    allowed = settings.FETCH_ALLOWED_HOSTS
    if host.lower().rstrip(".") in allowed:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in allowed if _is_network(entry))


def _is_network(entry):
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True


def _public(ip):
    address: Any = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _describe(reason):
    """A network failure in a few words, without echoing what a server sent."""
    if isinstance(reason, ssl.SSLCertVerificationError):  # before ValueError: it is one
        return f"its TLS certificate is not valid ({reason.verify_message})"
    if isinstance(reason, ssl.SSLError):
        return f"the TLS handshake failed ({reason.reason or 'no reason given'})"
    if isinstance(reason, http.client.IncompleteRead):
        return "the response ended before its declared length"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(reason, http.client.LineTooLong):
        return "a line of the response is too long"
    if isinstance(reason, http.client.BadStatusLine):
        return "the answer is not an HTTP response"
    if isinstance(reason, (http.client.HTTPException, ValueError)):
        return "a malformed HTTP response"
    if isinstance(reason, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ConnectionResetError):
        return "the connection was reset"
    return str(getattr(reason, "strerror", None) or reason)[:200]


def _read_file(path, max_bytes):
    """A file under INGEST_FILE_ROOT, a regular one, within the size cap; errors never show its content."""
    real = os.path.realpath(path)
    roots = [os.path.realpath(root) for root in settings.INGEST_FILE_ROOT]
    if not any(os.path.commonpath([real, root]) == root for root in roots):
        raise FetchError(f"{path} is outside the directories file sources are read from (INGEST_FILE_ROOT)")
    try:
        descriptor = os.open(real, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise FetchError(f"{path} is not a regular file")
            if info.st_size > max_bytes:
                raise FetchError(f"{path} is {info.st_size} bytes, over the {max_bytes}-byte limit (FETCH_MAX_BYTES)")
            content = handle.read(max_bytes + 1)
    except OSError as exc:
        raise FetchError(f"Could not read {path}: {exc.strerror or 'unreadable'}") from None
    if len(content) > max_bytes:
        raise FetchError(f"{path} grew over the {max_bytes}-byte limit (FETCH_MAX_BYTES) while being read")
    return Fetched(content=content)


def _read_capped(response, max_bytes, location):
    parts, size = [], 0
    while size <= max_bytes:
        part = response.read(min(CHUNK, max_bytes + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > max_bytes:
        raise FetchError(f"{location} sent more than {max_bytes} bytes (FETCH_MAX_BYTES); stopped reading")
    if response.length:  # http.client ends a short body quietly when read in parts: it is cut off
        raise http.client.IncompleteRead(b"", response.length)
    return b"".join(parts)


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
