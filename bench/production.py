"""The day as the deployed service runs it: beat's hourly task into Redis, real `celery worker`
processes planning the chunks and sending every digest to the SMTP sink, every result recorded.

Nothing is projected: the clock runs from queueing `digest.tasks.plan_and_send_due` until no
planning chunk is left undone and no digest is left planned or sending. The workers use the
bench's own database and a Redis database of the bench's own (flushed before and after), and
their CPU time is read from the operating system once they have exited.
"""

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from celery import Celery
from django.conf import settings
from django.db import connection

from digest.models import Digest, PlanningChunk

POLL_SECONDS = 0.5
READY_TIMEOUT = 60


def database_url():
    """The URL of the database the bench runs in, for the worker processes."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Workers:
    """One `celery worker` with `processes` pool processes (prefork), as a deployment's container runs."""

    def __init__(self, broker_url, email_port, processes):
        self.log_dir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
        env = {key: value for key, value in os.environ.items() if not key.startswith("ANYMAIL_")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=database_url(),
            REDIS_URL=broker_url,
            CELERY_BROKER_URL=broker_url,
            CELERY_TASK_ALWAYS_EAGER="0",
            EMAIL_URL=f"smtp://127.0.0.1:{email_port}",
            LOG_LEVEL="WARNING",
        )
        self.env = env
        self.processes = processes
        self.process = None

    def start(self):
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork"]
        command += ["-c", str(self.processes), "-Q", "mail,celery", "-n", f"bench-{os.getpid()}@%h"]
        command += ["--without-gossip", "--without-mingle", "-l", "warning"]
        with open(self.log_dir / "worker.log", "ab") as log:  # the child keeps its own copy of the file
            self.process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def log_tail(self):
        path = self.log_dir / "worker.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def cleanup(self):
        shutil.rmtree(self.log_dir, ignore_errors=True)


def flush(broker_url):
    import redis

    redis.Redis.from_url(broker_url).flushdb()


def client(broker_url):
    app = Celery("bench-beat", broker=broker_url, set_as_current=False)
    app.conf.task_default_queue = "mail"
    return app


def wait_ready(app, timeout=READY_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1):
            return
    raise RuntimeError(f"the bench's Celery worker did not answer within {timeout} s")


def settled():
    return (
        Digest.objects.exists()
        and not PlanningChunk.objects.exclude(status=PlanningChunk.Status.DONE).exists()
        and not Digest.objects.filter(status__in=[Digest.Status.PLANNED, Digest.Status.SENDING]).exists()
    )


def run_day(broker_url, email_port, processes, expected, progress=None, timeout=3600):
    """(wall seconds, worker CPU seconds) of one hourly run for `expected` due subscribers."""
    flush(broker_url)
    workers = Workers(broker_url, email_port, processes)
    app = client(broker_url)
    cpu_before = children_cpu_seconds()
    workers.start()
    try:
        wait_ready(app)
        started = time.perf_counter()
        app.send_task("digest.tasks.plan_and_send_due")
        deadline = time.monotonic() + timeout
        done = 0
        while not settled():
            if workers.process.poll() is not None:
                raise RuntimeError(f"the bench's Celery worker exited:\n{workers.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the production run did not finish within {timeout} s:\n{workers.log_tail()}")
            time.sleep(POLL_SECONDS)
            if progress:
                now_done = Digest.objects.exclude(status__in=[Digest.Status.PLANNED, Digest.Status.SENDING]).count()
                progress(now_done - done)
                done = now_done
        seconds = time.perf_counter() - started
    finally:
        workers.stop()
        workers.cleanup()
        flush(broker_url)
    return seconds, children_cpu_seconds() - cpu_before
