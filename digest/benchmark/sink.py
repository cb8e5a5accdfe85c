"""A local SMTP sink in this process: the send stage measures our side of SMTP, not an ESP."""

import socket
from contextlib import contextmanager

from aiosmtpd.controller import Controller
from django.test.utils import override_settings


class CountingHandler:
    """Accepts every message and counts it; nothing is stored."""

    def __init__(self):
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_sink():
    """Point Django's email at an aiosmtpd server on 127.0.0.1; yields its counting handler."""
    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=controller.hostname,
            EMAIL_PORT=controller.port,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
        ):
            yield handler
    finally:
        controller.stop()
