"""The hourly run, fanned out: the beat writes one PlanningChunk per block of due subscribers,
every worker plans chunks, and each chunk is planned exactly once.

Why blocks of ids rather than slices of a list: a second beat in the same hour (or a beat
re-run after a crash) computes the very same (issue date, run hour, first id) keys, so it
adds no rows, and nothing is planned twice; a block already planned simply has nobody left
due in it. The beat's own work is one grouped query per time zone and one row per block, so
it does not grow with the number of subscribers, and no planning task handles more than one
block (PLANNING_CHUNK_SIZE ids).

A chunk's life: pending ──claim (conditional UPDATE)──▶ running ──planned, in the same
transaction──▶ done. A worker killed while planning rolls its plan back and leaves the row
`running`; after SENDING_STUCK_AFTER_MINUTES (longer than any task may run) the sweeper
returns it to pending and queues it again. A pending row whose task was lost (Redis
restarted) is queued again by the same sweep.
"""

import logging
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from digest import schedule
from digest.models import PlanningChunk
from digest.planning import CandidateSets, plan_digests

logger = logging.getLogger(__name__)

# Candidates and word indexes shared by the chunks one process plans in one run (keyed by the
# run's clock): every chunk of a run ranks against the same day's papers.
_run_candidates: dict[datetime, CandidateSets] = {}


def start_run(now: datetime | None = None) -> list[int]:
    """Write the run's chunks (those a racing beat wrote already are kept); returns the ids of
    the run's chunks still pending, for the caller to queue."""
    now = now or timezone.now()
    run_hour = now.replace(minute=0, second=0, microsecond=0)
    size = settings.PLANNING_CHUNK_SIZE
    keys = [(day, first_id) for day, starts in schedule.due_blocks(now, size).items() for first_id in starts]
    PlanningChunk.objects.bulk_create(
        [
            PlanningChunk(issue_date=day, run_hour=run_hour, run_at=now, first_id=first_id, size=size)
            for day, first_id in keys
        ],
        ignore_conflicts=True,
    )
    if not keys:
        return []
    days = {day for day, _ in keys}
    return list(
        PlanningChunk.objects.filter(run_hour=run_hour, issue_date__in=days, status=PlanningChunk.Status.PENDING)
        .order_by("first_id")
        .values_list("pk", flat=True)
    )


def claim(chunk_id: int, worker: str | None = None) -> PlanningChunk | None:
    """pending → running for this caller only; None if another caller has it or it is done."""
    claimed = PlanningChunk.objects.filter(pk=chunk_id, status=PlanningChunk.Status.PENDING).update(
        status=PlanningChunk.Status.RUNNING,
        claimed_at=timezone.now(),
        attempts=F("attempts") + 1,
        worker=(worker or socket.gethostname())[:200],
    )
    return PlanningChunk.objects.get(pk=chunk_id) if claimed else None


def plan(chunk: PlanningChunk) -> list[int]:
    """Plan a claimed chunk's due subscribers and mark it done, all in one transaction; returns
    the ids of the digests left ready to send (the caller queues them after the commit)."""
    candidate_sets = _run_candidates.get(chunk.run_at)
    if candidate_sets is None:
        _run_candidates.clear()  # a new run: yesterday's papers are of no use
        candidate_sets = _run_candidates[chunk.run_at] = {}
    with transaction.atomic():
        due = schedule.due_now(chunk.run_at, first_id=chunk.first_id, size=chunk.size).get(chunk.issue_date, [])
        digest_ids = plan_digests(due, chunk.issue_date, now=chunk.run_at, candidate_sets=candidate_sets)
        done = PlanningChunk.objects.filter(
            pk=chunk.pk, status=PlanningChunk.Status.RUNNING, attempts=chunk.attempts
        ).update(status=PlanningChunk.Status.DONE, finished_at=timezone.now(), planned=len(digest_ids))
        if not done:  # swept from under us and claimed again: the new claimer plans it, not us
            transaction.set_rollback(True)
            return []
    return digest_ids


def sweep(older_than: timedelta | None = None) -> list[int]:
    """Chunks no live worker will finish, returned to pending; ids to queue again.

    A `running` chunk claimed longer ago than any task may run lost its worker (its plan was
    rolled back with it); a `pending` one as old lost its task. Only the last two days count:
    an older run's subscribers are due again in the next run anyway.
    """
    older_than = timedelta(minutes=settings.SENDING_STUCK_AFTER_MINUTES) if older_than is None else older_than
    cutoff = timezone.now() - older_than
    recent = PlanningChunk.objects.filter(issue_date__gte=timezone.now().date() - timedelta(days=2))
    returned = recent.filter(status=PlanningChunk.Status.RUNNING, claimed_at__lte=cutoff).update(
        status=PlanningChunk.Status.PENDING
    )
    if returned:
        logger.warning("sweeper returned %s planning chunk(s) whose worker vanished", returned)
    waiting = recent.filter(status=PlanningChunk.Status.PENDING).filter(
        Q(claimed_at__lte=cutoff) | Q(claimed_at__isnull=True, created_at__lte=cutoff)
    )
    return list(waiting.order_by("pk").values_list("pk", flat=True))
