"""Claim, send, record: every digest leaves at most once, and a bad address is never mailed again.

The life of a Digest row while it is being delivered::

    planned ──claim (conditional UPDATE)──▶ sending ──ESP/SMTP accepted──▶ sent (+ message id)
       ▲                                       │
       └──── transient error (bounded, ────────┤
             jittered backoff), or the         └── permanent error ──▶ failed (+ address suppressed
             sweeper for rows stuck in sending                          when the recipient was refused)

Only the caller that moved a row from planned to sending sends it (rows are claimed per
batch: locked, skipping rows another claimer holds, then updated, in one transaction), so two
workers, a redelivered Celery message, or a second beat can never send the same digest twice.

The one window that cannot be closed: the ESP (or SMTP server) has accepted the message but
the process dies before `sent` is recorded. The row then stays in `sending` without a message
id, and after SENDING_STUCK_AFTER_MINUTES the sweeper returns it to `planned`, so that one
digest is sent a second time. The window is kept to the few milliseconds between the
server's "accepted" and one autocommitted UPDATE: the result is written immediately after
each message, in its own statement, before anything else happens (no rendering, no other
message, no network). A crash anywhere else either leaves the row `planned` (never sent) or
`sent` (recorded). The sweeper never touches a row that has a message id, and only rows
claimed longer ago than any send can take (the sweep timeout is checked to exceed the task's
hard time limit), so a slow but alive sender is never swept from under itself. At most one
digest per worker process killed at that exact moment can be duplicated. The rest of a killed
worker's batch (claimed, never attempted, no message id) is swept back and sent late, never twice.
"""

import logging
import random
import smtplib
import socket
from collections.abc import Iterable
from datetime import timedelta
from email.utils import make_msgid
from typing import Any

from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused
from anymail.message import AnymailMessage
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from digest.models import Digest, DigestItem
from digest.render import digest_message
from subscriptions.models import Subscriber

logger = logging.getLogger(__name__)

TRANSIENT = "transient"
PERMANENT = "permanent"
REFUSED = "refused"  # permanent, and the address itself is bad: suppress it

# What send_digest reports back to its caller (a task, a command).
SENT = "sent"
RETRY = "retry"
FAILED = "failed"
NOT_CLAIMED = "not-claimed"


def classify(error: BaseException) -> str:
    """Sort a delivery error into TRANSIENT (retry later), PERMANENT (give up) or REFUSED.

    REFUSED means the recipient address itself was rejected (SMTP 5xx at RCPT, anymail's
    recipients-refused or invalid-address errors); it is permanent and suppresses the address.
    """
    if isinstance(error, (AnymailRecipientsRefused, AnymailInvalidAddress)):
        return REFUSED
    if isinstance(error, AnymailAPIError):
        status = error.status_code
        if status is None or status == 429 or status >= 500 or status in (408, 409):
            return TRANSIENT  # network error, rate limit or ESP outage
        return PERMANENT
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return REFUSED if codes and all(code >= 500 for code in codes) else TRANSIENT
    if isinstance(error, smtplib.SMTPResponseException):
        return TRANSIENT if 400 <= error.smtp_code < 500 else PERMANENT
    if isinstance(error, SoftTimeLimitExceeded):
        return TRANSIENT
    if isinstance(error, (smtplib.SMTPServerDisconnected, socket.timeout, TimeoutError, ConnectionError, OSError)):
        return TRANSIENT
    return PERMANENT


def retry_delay(attempts: int) -> float:
    """Seconds before the next try: exponential, full jitter, capped below the broker's
    visibility timeout (a longer countdown would make Redis redeliver the waiting task)."""
    ceiling = min(settings.SEND_RETRY_MAX_SECONDS, settings.SEND_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def claim(digest_ids: Iterable[int]) -> list[int]:
    """planned → sending; returns the ids this caller claimed, which no other caller can claim.

    The rows are locked (rows another claimer holds are skipped) and then updated in one
    transaction, so each digest changes hands exactly once however many callers race.
    """
    with transaction.atomic():
        ids = list(
            Digest.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(digest_ids), status=Digest.Status.PLANNED)
            .values_list("pk", flat=True)
        )
        Digest.objects.filter(pk__in=ids, status=Digest.Status.PLANNED).update(
            status=Digest.Status.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
    return ids


def _finish(digest_id: int, status: str, **fields: Any) -> int:
    """Move a claimed row on, only if it is still ours (still `sending`)."""
    return Digest.objects.filter(pk=digest_id, status=Digest.Status.SENDING).update(status=status, **fields)


def suppress(subscriber_id: int, status: str, reason: str) -> int:
    """Stop all mail to a subscriber: bounced, complained or unsubscribed at the ESP."""
    changes: dict[str, Any] = {"status": status, "suppressed_reason": reason[:500]}
    if status == Subscriber.Status.UNSUBSCRIBED:
        changes["unsubscribed_at"] = timezone.now()
    updated = Subscriber.objects.filter(pk=subscriber_id).exclude(status__in=Subscriber.SUPPRESSED).update(**changes)
    # Anything already planned for them is dropped, so no queued task can still mail them.
    Digest.objects.filter(subscriber_id=subscriber_id, status=Digest.Status.PLANNED).update(
        status=Digest.Status.FAILED, last_error=f"Not sent: subscriber {status} ({reason})"[:2000]
    )
    return updated


def _message_for(digest: Digest, items: list[DigestItem]) -> AnymailMessage:
    message = digest_message(digest, items=items)
    if not any(name.lower() == "message-id" for name in message.extra_headers):
        domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
        message.extra_headers["Message-ID"] = make_msgid("digest", domain=domain)
    return message


def _message_id(message: AnymailMessage) -> str:
    status = getattr(message, "anymail_status", None)
    return (status and status.message_id) or message.extra_headers["Message-ID"]


def _claimed_digests(digest_ids: list[int]) -> QuerySet[Digest]:
    """The claimed digests with subscriber, items and papers, in three queries for the lot."""
    items = DigestItem.objects.select_related("paper").order_by("rank")
    return (
        Digest.objects.filter(pk__in=digest_ids)
        .select_related("subscriber")
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("pk")
    )


def send_digest(digest_id: int, connection: BaseEmailBackend | None = None) -> str:
    """Send one digest if this caller can claim it; returns SENT, RETRY, FAILED or NOT_CLAIMED."""
    return send_batch([digest_id], connection=connection)[digest_id]


def send_batch(digest_ids: Iterable[int], connection: BaseEmailBackend | None = None) -> dict[int, str]:
    """Claim and send several digests over one SMTP/ESP connection; {digest_id: outcome}.

    Outcomes are SENT, FAILED, NOT_CLAIMED (someone else has it, or it is no longer planned)
    and RETRY: the row is `planned` again and the caller should queue it after
    `retry_delay(attempts)`; the attempt bound is enforced here, not by the caller.
    """
    claimed = claim(digest_ids)
    outcomes = dict.fromkeys(digest_ids, NOT_CLAIMED)
    if not claimed:
        return outcomes
    own_connection = connection is None
    connection = connection or get_connection()
    unattempted = set(claimed)
    try:
        connection.open()  # one SMTP session for the batch; send_messages alone reconnects per message
        for digest in _claimed_digests(claimed):
            unattempted.discard(digest.pk)
            outcomes[digest.pk] = _deliver(digest, connection)
    finally:
        if own_connection:
            connection.close()
        if unattempted:  # cut short (time limit, shutdown): never tried, so back to the queue's care
            Digest.objects.filter(pk__in=unattempted, status=Digest.Status.SENDING).update(
                status=Digest.Status.PLANNED, attempts=F("attempts") - 1
            )
    return outcomes


def _deliver(digest: Digest, connection: BaseEmailBackend) -> str:
    subscriber = digest.subscriber
    if not subscriber.can_receive_mail:
        _finish(digest.pk, Digest.Status.FAILED, last_error=f"Not sent: subscriber is {subscriber.status}")
        return FAILED
    try:
        message = _message_for(digest, list(digest.items.all()))
    except Exception as error:  # a rendering bug fails this digest only, loudly
        logger.exception("digest %s: could not render", digest.pk)
        _finish(digest.pk, Digest.Status.FAILED, last_error=f"render: {error!r}"[:2000])
        return FAILED
    message.connection = connection
    try:
        message.send()
    except Exception as error:
        connection.close()  # a broken session must not poison the next message of the batch
        outcome = _record_error(digest, error)
        if isinstance(error, SoftTimeLimitExceeded):
            raise  # out of time: stop here; the rest of the batch goes back to planned
        return outcome
    # The duplicate window closes here: record the acceptance at once, in its own statement.
    _finish(digest.pk, Digest.Status.SENT, sent_at=timezone.now(), message_id=_message_id(message)[:300], last_error="")
    return SENT


def _record_error(digest: Digest, error: BaseException) -> str:
    kind = classify(error)
    text = f"{kind}: {type(error).__name__}: {error}"[:2000]
    if kind == TRANSIENT and digest.attempts < settings.SEND_MAX_ATTEMPTS:
        logger.warning("digest %s: transient error, attempt %s: %s", digest.pk, digest.attempts, text)
        _finish(digest.pk, Digest.Status.PLANNED, last_error=text)
        return RETRY
    logger.error("digest %s failed after %s attempt(s): %s", digest.pk, digest.attempts, text)
    _finish(digest.pk, Digest.Status.FAILED, last_error=text)
    if kind == REFUSED:
        suppress(digest.subscriber_id, Subscriber.Status.BOUNCED, f"recipient refused: {error}")
    return FAILED


def sweep_stuck(older_than: timedelta | None = None) -> list[int]:
    """Digests that no live sender will finish, to be queued again; returns their ids.

    Rows stuck in `sending` without a message id (their sender died) go back to `planned`;
    `planned` rows untouched for as long (their queued task was lost, e.g. with a Redis
    restart) are returned as well. A row with a message id was accepted and is never resent.
    """
    older_than = timedelta(minutes=settings.SENDING_STUCK_AFTER_MINUTES) if older_than is None else older_than
    cutoff = timezone.now() - older_than
    recent = timezone.now().date() - timedelta(days=2)
    stuck = Digest.objects.filter(status=Digest.Status.SENDING, message_id="", claimed_at__lte=cutoff)
    returned = stuck.update(status=Digest.Status.PLANNED, last_error="Returned by the sweeper: sender vanished")
    if returned:
        logger.warning("sweeper returned %s digest(s) stuck in sending to planned", returned)
    waiting = Digest.objects.filter(status=Digest.Status.PLANNED, issue_date__gte=recent).filter(
        Q(claimed_at__lte=cutoff) | Q(claimed_at__isnull=True, created_at__lte=cutoff)
    )
    return list(waiting.order_by("pk").values_list("pk", flat=True))
