"""A source that answers with broken HTTP, drips bytes, redirects without end, asks to wait, points
inside the network or at a file it should not: every run ends failed (or ok) with a one-line reason,
none is left running, nothing inside is reached, and no message shows what a file holds.

Each hostile server is generated here and listens on 127.0.0.1.
"""

import socket

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from papers.ingest import ingest, ingest_source
from papers.models import IngestRun, Paper, Source
from tests.factories import arxiv_rss
from tests.hostile_server import HostileServer, drip
from tests.services import free_port

pytestmark = pytest.mark.django_db
FEED = arxiv_rss([("2411.00020", 1, "new", "Fetched Over HTTP", "An abstract.")])


@pytest.fixture
def hostile(settings):
    """Start a HostileServer with a scripted answer; no retries, so each test sees one attempt."""
    settings.FETCH_RETRIES = 0
    servers = []

    def start(answer):
        servers.append(HostileServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def assert_failed_in_one_line(run, *parts):
    assert run.status == IngestRun.Status.FAILED
    assert run.finished_at is not None
    assert "\n" not in run.message and "Traceback" not in run.message
    for part in parts:
        assert part in run.message
    assert not IngestRun.objects.filter(status=IngestRun.Status.RUNNING).exists()


def chunked_cut_off(send):
    send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    send(b"400\r\n" + FEED[:100])  # announces 1024 bytes, sends 100, hangs up


def bad_status_line(send):
    send(b"SSH-2.0-OpenSSH_9.2p1 internal-host\r\n\r\n")


def too_many_headers(send):
    send(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Header-%d: x\r\n" % n for n in range(150)) + b"\r\n" + FEED)


def header_line_too_long(send):
    send(b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 100_000 + b"\r\n\r\n" + FEED)


def body_shorter_than_its_length(send):
    send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + FEED)


def bad_chunk_size(send):
    send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz-not-hex\r\n" + FEED)


def nothing_at_all(send):
    pass


@pytest.mark.parametrize(
    "answer, reason",
    [
        (chunked_cut_off, "the response ended before its declared length"),
        (bad_status_line, "the answer is not an HTTP response"),
        (too_many_headers, "a malformed HTTP response"),
        (header_line_too_long, "a line of the response is too long"),
        (body_shorter_than_its_length, "the response ended before its declared length"),
        (bad_chunk_size, "the response ended before its declared length"),
        (nothing_at_all, "the server closed the connection without answering"),
    ],
)
def test_a_broken_http_answer_fails_the_run_with_a_reason_and_nothing_it_sent(hostile, answer, reason):
    server = hostile(answer)

    run = ingest(server.url())

    assert_failed_in_one_line(run, f"Could not reach {server.url()}: {reason}")
    assert "SSH-2.0" not in run.message and "internal-host" not in run.message
    assert not Paper.objects.exists()


def test_a_server_that_drips_one_byte_at_a_time_is_cut_off_at_the_deadline(hostile, settings):
    settings.FETCH_TIMEOUT = 0.5  # each byte comes well within this
    settings.FETCH_DEADLINE = 2
    server = hostile(drip(FEED, every=0.05))

    run = ingest(server.url())

    assert_failed_in_one_line(run, "did not finish within FETCH_DEADLINE (2 s); stopped")
    assert not Paper.objects.exists()


def test_redirects_are_followed_only_up_to_the_limit(local_server, settings):
    settings.FETCH_MAX_REDIRECTS = 2
    for hop in range(5):
        local_server.routes[f"/hop{hop}"] = [(302, {"Location": local_server.url(f"/hop{hop + 1}")}, b"")]
    local_server.routes["/hop5"] = [(200, {}, FEED)]
    local_server.routes["/near"] = [(301, {"Location": local_server.url("/hop5")}, b"")]
    local_server.routes["/loop"] = [(302, {"Location": local_server.url("/loop")}, b"")]

    assert ingest(local_server.url("/near")).status == IngestRun.Status.OK
    assert_failed_in_one_line(ingest(local_server.url("/hop0")), "redirects more than 2 times, or in a loop")
    assert_failed_in_one_line(ingest(local_server.url("/loop")), "FETCH_MAX_REDIRECTS")


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/feed.xml", "data:,hello", "gopher://x/"])
def test_a_redirect_to_anything_but_http_is_refused(local_server, target):
    local_server.routes["/elsewhere"] = [(302, {"Location": target}, b"")]

    run = ingest(local_server.url("/elsewhere"))

    assert_failed_in_one_line(run, "redirects to a non-http(s) address; refused")


def test_retry_after_is_waited_for_then_the_feed_is_read(local_server, monkeypatch, settings):
    from papers import fetch

    waits = []
    monkeypatch.setattr(fetch, "sleep", waits.append)
    local_server.routes["/busy"] = [(429, {"Retry-After": "7"}, b"slow down"), (503, {}, b"busy"), (200, {}, FEED)]

    run = ingest(local_server.url("/busy"))

    assert (run.status, run.new) == (IngestRun.Status.OK, 1)
    assert waits[0] == 7 and len(waits) == 2


@pytest.mark.parametrize("retry_after", ["3600", "Fri, 31 Dec 2100 23:59:59 GMT"])
def test_a_retry_after_beyond_the_cap_fails_at_once_and_says_so(local_server, settings, retry_after):
    settings.FETCH_RETRY_AFTER_MAX = 60
    local_server.routes["/later"] = [(503, {"Retry-After": retry_after}, b"come back tomorrow")]

    run = ingest(local_server.url("/later"))

    assert_failed_in_one_line(
        run, "HTTP 503 Service Unavailable", "asks to retry after", "longer than FETCH_RETRY_AFTER_MAX (60 s)"
    )
    assert len(local_server.requests) == 1


# --- Nothing inside the network is reached -------------------------------------------------------

INTERNAL = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://127.1:{port}/",
    "http://2130706433:{port}/",  # 127.0.0.1 as one number
    "http://0.0.0.0:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://10.0.0.1:{port}/",
    "http://192.168.1.1:{port}/",
    "http://172.16.5.4:{port}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1:{port}/",
    "http://224.0.0.1:{port}/",
    "https://127.0.0.1:{port}/",
]


def test_internal_addresses_are_refused_alike_whether_or_not_anything_listens(local_server, settings):
    settings.FETCH_ALLOWED_HOSTS = []
    listening, closed = local_server.httpd.server_address[1], free_port()
    messages = set()
    for template in INTERNAL:
        for port in (listening, closed):
            url = template.format(port=port)
            run = ingest(url)
            assert_failed_in_one_line(run, f"Refused to fetch {url}: its address is not a public one")
            messages.add(run.message.replace(url, "URL"))

    assert len(messages) == 1  # an open port and a closed one look the same
    assert local_server.requests == []


def test_a_redirect_into_the_network_is_refused(local_server, settings):
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    inside = f"http://127.0.0.2:{local_server.httpd.server_address[1]}/admin"
    local_server.routes["/feed"] = [(302, {"Location": inside}, b"")]

    run = ingest(local_server.url("/feed"))

    assert_failed_in_one_line(run, "its address is not a public one")
    assert [path for path, _ in local_server.requests] == ["/feed"]


def test_an_allowed_network_may_be_fetched(local_server, settings):
    settings.FETCH_ALLOWED_HOSTS = ["127.0.0.0/8"]
    local_server.routes["/feed"] = [(200, {}, FEED)]

    assert ingest(local_server.url("/feed")).status == IngestRun.Status.OK


def test_a_host_that_does_not_resolve_fails_with_a_reason(settings):
    settings.FETCH_RETRIES = 0

    run = ingest("http://no-such-host.invalid/feed.xml")

    assert_failed_in_one_line(
        run, "Could not reach http://no-such-host.invalid/feed.xml: the host name does not resolve"
    )


# --- Files: only under INGEST_FILE_ROOT, within the cap, never echoed -----------------------------

SECRET_LINE = 'SECRET_KEY = "do-not-show-this-anywhere-0123456789"'


@pytest.fixture
def secrets_file(tmp_path_factory):
    """A settings-like file outside every allowed directory (the project's own config/ is one)."""
    folder = tmp_path_factory.mktemp("private")
    path = folder / "settings.py"
    path.write_text(f"# Settings\n{SECRET_LINE}\nDEBUG = False\n" * 20)
    return path


@pytest.fixture
def narrow_root(settings, tmp_path):
    """File sources only from one folder of this test's own (and the bundled samples)."""
    root = tmp_path / "sources"
    root.mkdir()
    settings.INGEST_FILE_ROOT = [django_settings.BASE_DIR / "papers" / "fixtures", root]
    return root


def test_files_outside_the_file_root_are_refused_without_being_read(narrow_root, secrets_file):
    project_settings = str(django_settings.BASE_DIR / "config" / "settings.py")
    link = narrow_root / "innocent.xml"
    link.symlink_to(secrets_file)
    for location in [
        project_settings,
        str(secrets_file),
        secrets_file.as_uri(),
        str(narrow_root / ".." / "private" / "settings.py"),
        str(link),
        "/dev/zero",
        "/proc/self/environ",
        "/etc/passwd",
    ]:
        run = ingest(location)

        assert_failed_in_one_line(run, "is outside the directories file sources are read from (INGEST_FILE_ROOT)")
        assert SECRET_LINE not in str(run.rejections) and "SECRET_KEY" not in run.message
    assert not Paper.objects.exists()


def test_a_device_or_fifo_under_the_root_is_refused_without_blocking(narrow_root, settings):
    import os

    fifo = narrow_root / "feed.xml"
    os.mkfifo(fifo)
    settings.INGEST_FILE_ROOT = [narrow_root, "/dev"]

    for location in (str(fifo), "/dev/zero", "/dev/urandom"):
        assert_failed_in_one_line(ingest(location), f"{location} is not a regular file")


def test_a_file_that_is_no_feed_fails_and_shows_none_of_its_lines(narrow_root):
    prose = narrow_root / "notes.txt"
    prose.write_text(f"{SECRET_LINE}\n" * 3)

    run = ingest(str(prose))

    assert run.status == IngestRun.Status.FAILED
    assert "SECRET_KEY" not in run.message and "SECRET_KEY" not in str(run.rejections)


def test_staff_ingesting_hostile_sources_from_the_admin_see_failed_runs_not_an_error_page(
    client, hostile, django_capture_on_commit_callbacks
):
    staff = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(staff)
    server = hostile(bad_status_line)
    sources = [
        Source.objects.create(name="broken http", location=server.url()),
        Source.objects.create(name="settings", location=str(django_settings.BASE_DIR / "config" / "settings.py")),
        Source.objects.create(name="zero", location="/dev/zero"),
        Source.objects.create(name="inside", location="http://10.1.2.3:6379/"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:papers_source_changelist"),
            {"action": "ingest_now", "_selected_action": [source.pk for source in sources]},
            follow=True,
        )

    assert response.status_code == 200
    for source in sources:
        run = source.runs.get()
        assert_failed_in_one_line(run)
        assert "SECRET_KEY" not in run.message and "6379" not in run.message.replace(source.location, "")
    runs_page = client.get(reverse("admin:papers_ingestrun_changelist"))
    assert runs_page.status_code == 200 and "SECRET_KEY" not in runs_page.content.decode()


def test_an_unexpected_error_inside_a_run_fails_it_instead_of_leaving_it_running(monkeypatch, fixture_path):
    from papers import ingest as ingest_module

    def broken_parser(*args, **kwargs):
        raise RuntimeError("a parser bug\nwith a second line")

    monkeypatch.setattr(ingest_module, "parse", broken_parser)
    source = Source.objects.create(name="hf", location=fixture_path("feeds", "hf-daily-papers-api-2026-06-12.json"))

    run = ingest_source(source)

    assert_failed_in_one_line(run, "Stopped by an unexpected error: RuntimeError: a parser bug")


def test_an_interrupted_run_is_not_left_running(monkeypatch, fixture_path):
    from papers import ingest as ingest_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest_module, "parse", interrupted)

    with pytest.raises(KeyboardInterrupt):
        ingest(fixture_path("feeds", "hf-daily-papers-api-2026-06-12.json"))

    run = IngestRun.objects.get()
    assert (run.status, run.message) == (IngestRun.Status.FAILED, "Interrupted before it finished")


def test_the_hostile_server_really_answers_what_it_is_told():
    """The harness itself: a raw answer arrives byte for byte (so the tests above test the fetcher)."""
    server = HostileServer(bad_status_line)
    try:
        with socket.create_connection(("127.0.0.1", int(server.url().split(":")[2].split("/")[0]))) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(100).startswith(b"SSH-2.0")
    finally:
        server.close()


def test_a_run_whose_worker_was_killed_is_failed_by_the_next_run_of_its_source(fixture_path):
    from datetime import timedelta

    from django.utils import timezone

    location = fixture_path("feeds", "hf-daily-papers-api-2026-06-12.json")
    source = Source.objects.create(name="hf", location=location)
    killed = IngestRun.objects.create(source=source, started_at=timezone.now() - timedelta(hours=2))
    concurrent = IngestRun.objects.create(source=source, started_at=timezone.now() - timedelta(minutes=1))

    run = ingest_source(source)

    killed.refresh_from_db()
    concurrent.refresh_from_db()
    assert run.status == IngestRun.Status.OK
    assert (killed.status, killed.message) == (
        IngestRun.Status.FAILED,
        "Its process stopped before it finished (killed or restarted)",
    )
    assert concurrent.status == IngestRun.Status.RUNNING  # may still be at work


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on 127.0.0.1 serving FEED, with a fresh self-signed certificate for that address."""
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from tests.conftest import require

    require(shutil.which("openssl"), "the openssl command")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/feed", cert
    server.shutdown()
    server.server_close()


def test_https_sources_are_read_through_the_same_checks_and_a_bad_certificate_is_named(
    tls_server, settings, monkeypatch
):
    settings.FETCH_RETRIES = 0
    url, cert = tls_server

    untrusted = ingest(url)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now this machine trusts it
    trusted = ingest(url)
    settings.FETCH_ALLOWED_HOSTS = []
    inside = ingest(url)

    assert_failed_in_one_line(untrusted, f"Could not reach {url}: its TLS certificate is not valid (self-signed")
    assert (trusted.status, trusted.new) == (IngestRun.Status.OK, 1)
    assert_failed_in_one_line(inside, "its address is not a public one")
