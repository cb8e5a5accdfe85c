"""A local SMTP sink in a process of its own: the send stage measures our side of SMTP, not an ESP.

The sink runs apart from the senders, as a mail server would, so its parsing of every
message does not take the senders' interpreter lock or count as their time.
"""

import multiprocessing
import socket
from contextlib import contextmanager

from aiosmtpd.controller import Controller
from django.test.utils import override_settings

START_TIMEOUT = 30


class CountingHandler:
    """Accepts every message and counts it in memory shared with the bench; nothing is stored."""

    def __init__(self, received):
        self.received = received

    async def handle_DATA(self, server, session, envelope):
        with self.received.get_lock():
            self.received.value += 1
        return "250 Message accepted for delivery"


class SinkCount:
    def __init__(self, received, port):
        self._received = received
        self.port = port

    @property
    def received(self):
        return self._received.value


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(port, received, ready, stop):
    controller = Controller(CountingHandler(received), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@contextmanager
def smtp_sink():
    """Point Django's email at an aiosmtpd server on 127.0.0.1 in its own process; yields its count."""
    context = multiprocessing.get_context("spawn")
    received, ready, stop = context.Value("q", 0), context.Event(), context.Event()
    port = free_port()
    process = context.Process(target=_serve, args=(port, received, ready, stop), name="bench-smtp-sink", daemon=True)
    process.start()
    try:
        if not ready.wait(START_TIMEOUT):
            raise RuntimeError(f"The bench's SMTP sink did not start on 127.0.0.1:{port} within {START_TIMEOUT} s")
        with override_settings(
            EMAIL_BACKEND="config.email_backends.SmtpBackend",  # what EMAIL_URL=smtp://... selects
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
        ):
            yield SinkCount(received, port)
    finally:
        stop.set()
        process.join(START_TIMEOUT)
        if process.is_alive():
            process.terminate()
