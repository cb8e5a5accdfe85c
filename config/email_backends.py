"""The embedded-mode email backend: one RFC 5322 .eml file per message.

Django's own file backend appends every message of a connection to one .log file; a
newcomer wants to double-click a single digest, so each message gets its own file.
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *args, outbox_dir=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.outbox_dir = Path(outbox_dir or settings.EMAIL_OUTBOX_DIR)

    def send_messages(self, email_messages):
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            recipient = (message.to or ["unknown"])[0].replace("@", "_at_").replace("/", "_")
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            path = self.outbox_dir / f"{stamp}-{recipient}-{uuid.uuid4().hex[:8]}.eml"
            path.write_bytes(message.message().as_bytes())
        return len(email_messages)
