"""Real services for the tests: a local HTTP server, an SMTP sink, a stub ESP, Redis servers and
Celery workers. (Objects in the database are built with tests/factories.py.)

Nothing here is a mock: the HTTP server and the sink listen on free ports of 127.0.0.1, the
stub ESP speaks Postmark's HTTP API to anymail's real Postmark backend, workers are
`celery -A config worker` processes reading the very test database this test process uses.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.settings import reachable

BASE_DIR = Path(settings.BASE_DIR)
PIPELINE_REDIS_URL = os.environ.get("PIPELINE_REDIS_URL", "redis://127.0.0.1:6379/14")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --- A local HTTP server (what a fetched source is in production) -------------------------------


class LocalServer:
    """An HTTP server on localhost; `routes[path]` is a list of (status, headers, body) answered in turn."""

    def __init__(self):
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


# --- SMTP sink --------------------------------------------------------------------------------


class SmtpSink:
    """Counts accepted messages per recipient; can refuse an address (550) or the next N messages (451)."""

    def __init__(self):
        self.received = Counter()
        self.messages = []
        self.refused = set()
        self.temporary_failures = 0
        self.delay = 0.0
        self.attempts = 0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        with self._lock:
            self.attempts += 1
            if self.temporary_failures > 0:
                self.temporary_failures -= 1
                return "451 4.3.0 Temporary local problem, try again later"
            for recipient in envelope.rcpt_tos:
                self.received[recipient.lower()] += 1
            self.messages.append(envelope.content)
        return "250 2.0.0 Message accepted"

    @property
    def duplicates(self):
        return {address: count for address, count in self.received.items() if count > 1}


@contextmanager
def smtp_sink():
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    sink.url = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield sink
    finally:
        controller.stop()


# --- A stub ESP speaking Postmark's API -------------------------------------------------------


class StubPostmark:
    """Answers POST /email like Postmark: scripted HTTP errors first, inactive recipients refused."""

    def __init__(self):
        self.failures = []  # HTTP statuses to answer, one per request, before succeeding
        self.inactive = set()
        self.accepted = Counter()
        self.requests = 0
        self._lock = threading.Lock()

    def answer(self, payload):
        with self._lock:
            self.requests += 1
            if self.failures:
                return self.failures.pop(0), {"ErrorCode": 100, "Message": "Service unavailable"}
            to = payload["To"]
            if to.lower() in self.inactive:
                return 422, {
                    "ErrorCode": 406,
                    "Message": f"You tried to send to a recipient that has been marked as inactive.\n"
                    f"Found inactive addresses: {to}.\nInactive recipients are ones that have generated a hard bounce "
                    "or a spam complaint. ",
                }
            self.accepted[to.lower()] += 1
            return 200, {
                "To": to,
                "SubmittedAt": "2026-08-07T07:00:00Z",
                "MessageID": str(uuid.uuid4()),
                "ErrorCode": 0,
                "Message": "OK",
            }


@contextmanager
def stub_postmark():
    esp = StubPostmark()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, body = esp.answer(payload)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    esp.url = f"http://127.0.0.1:{server.server_port}/"
    try:
        yield esp
    finally:
        server.shutdown()
        server.server_close()


# --- Redis and Celery workers -----------------------------------------------------------------


class RedisServer:
    """A redis-server of the test's own on a free port, so it can be killed and restarted."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: reachable(self.url), 10, "redis-server to start")

    def kill(self):
        self.process.kill()
        self.process.wait()


def test_database_url():
    """The URL of the database pytest-django created, for worker processes to use."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_environment(broker_url, email_url, **extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANYMAIL_", "TEST_DATABASE"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=test_database_url(),
        REDIS_URL=broker_url,
        CELERY_TASK_ALWAYS_EAGER="0",
        EMAIL_URL=email_url,
        SEND_RETRY_BASE_SECONDS="0.2",
        SEND_RETRY_MAX_SECONDS="1",
        LOG_LEVEL="WARNING",
        FETCH_ALLOWED_HOSTS=",".join(settings.FETCH_ALLOWED_HOSTS),
        INGEST_FILE_ROOT=",".join(str(root) for root in settings.INGEST_FILE_ROOT),
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


class Workers:
    """`celery -A config worker` processes, each in its own process group so it can be SIGKILLed whole."""

    def __init__(self, env, log_dir):
        self.env = env
        self.log_dir = Path(log_dir)
        self.processes = {}

    def start(self, name, pool="solo", concurrency=1):
        log = open(self.log_dir / f"{name}.log", "ab")
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            pool,
            "-c",
            str(concurrency),
            "-Q",
            "mail,ingest,celery",
            "-n",
            f"{name}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ]
        self.processes[name] = subprocess.Popen(
            command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self.processes[name]

    def kill(self, name):
        """SIGKILL the worker and its pool children: no goodbye, no ack, no cleanup."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self):
        for name in list(self.processes):
            process = self.processes[name]
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill(name)
            self.processes.pop(name, None)

    def logs(self):
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in self.log_dir.glob("*.log")
        )


def client_app(broker_url):
    """A bare Celery client: queues tasks by name into the real broker, as beat would."""
    from celery import Celery

    app = Celery("pipeline-tests", broker=broker_url, set_as_current=False)
    app.conf.task_default_queue = "mail"
    return app


@contextmanager
def running_workers(broker_url, email_url, **extra):
    log_dir = tempfile.mkdtemp(prefix="pipeline-workers-")
    workers = Workers(worker_environment(broker_url, email_url, **extra), log_dir)
    try:
        yield workers
    except BaseException:
        print(workers.logs())
        raise
    finally:
        workers.stop_all()
        shutil.rmtree(log_dir, ignore_errors=True)
