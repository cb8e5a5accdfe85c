"""A broken source among good ones: its run records the failure, the others are ingested and
embedded, and the day's digests still go out (real worker, real Redis, real SMTP sink)."""

import pytest

from digest.models import Digest
from papers.models import IngestRun, Paper, PaperEmbedding, Source
from subscriptions.models import Interest
from tests.factories import make_subscribers
from tests.services import client_app, running_workers, smtp_sink, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_broken_source_fails_alone_and_the_digests_still_go_out(broker, fixture_path, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40)
    good = [
        Source.objects.create(name="daily page", location=fixture_path("pages", "003_e1989dbc951720dc.txt")),
        Source.objects.create(name="hf daily", location=fixture_path("feeds", "hf-daily-papers-api-2026-06-12.json")),
    ]
    broken = [
        Source.objects.create(name="gone", location=str(tmp_path / "no-such-feed.xml")),
        Source.objects.create(name="junk", location=str(junk)),
    ]
    Source.objects.create(name="switched off", location=str(tmp_path / "never-read.xml"), enabled=False)

    with smtp_sink() as sink, running_workers(broker, sink.url) as workers:
        workers.start("one")
        client_app(broker).send_task("papers.tasks.ingest_all_sources", queue="ingest")
        wait_for(
            lambda: (
                IngestRun.objects.exclude(status=IngestRun.Status.RUNNING).count() == 4
                and Paper.objects.exists()
                and PaperEmbedding.objects.count() == Paper.objects.count()
            ),
            timeout=240,
            what="ingest and embedding",
            interval=1,
        )
        for source in good:
            assert source.runs.get().status in (IngestRun.Status.OK, IngestRun.Status.PARTIAL)
        for source in broken:
            run = source.runs.get()
            assert run.status == IngestRun.Status.FAILED and run.message
        assert not Source.objects.get(name="switched off").runs.exists()

        readers = make_subscribers(5, prefix="after-ingest")
        a_paper = PaperEmbedding.objects.order_by("pk").first()
        Interest.objects.filter(subscriber__in=readers).update(embedding=a_paper.vector)  # they want that paper
        client_app(broker).send_task("digest.tasks.plan_and_send_due")
        wait_for(lambda: Digest.objects.filter(status=Digest.Status.SENT).count() == 5, timeout=120, what="digests")

    assert sink.received == {reader.email: 1 for reader in readers}
