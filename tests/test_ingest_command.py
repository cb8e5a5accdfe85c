"""An operator runs `manage.py ingest` on files, URLs and configured sources and reads one line per source."""

import pytest
from django.core.management import CommandError, call_command

from papers.models import IngestRun, Paper, PaperEmbedding, Source

pytestmark = pytest.mark.django_db

HF = ("feeds", "hf-daily-papers-api-2026-06-12.json")
PAGE = ("pages", "003_e1989dbc951720dc.txt")


def run_ingest(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("ingest", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_each_source_gets_a_one_line_summary_and_new_papers_are_embedded(fixture_path, fake_model):
    output = run_ingest(fixture_path(*PAGE), fixture_path(*HF))

    lines = output.splitlines()
    assert lines[0] == f"{fixture_path(*PAGE)}: ok (page) 49 entries: 49 new, 0 updated, 0 already known, 0 rejected"
    assert lines[1] == f"{fixture_path(*HF)}: ok (hf_json) 30 entries: 30 new, 0 updated, 0 already known, 0 rejected"
    assert lines[2].startswith("Embedded 79 papers in ") and "papers/s" in lines[2]
    assert PaperEmbedding.objects.count() == Paper.objects.count() == 79


def test_ingesting_the_same_sources_again_creates_and_embeds_nothing(fixture_path, fake_model):
    run_ingest(fixture_path(*PAGE), fixture_path(*HF))
    embedded = len(fake_model.texts)

    output = run_ingest(fixture_path(*PAGE), fixture_path(*HF))

    assert "0 new, 0 updated, 49 already known" in output and "0 new, 0 updated, 30 already known" in output
    assert output.splitlines()[-1] == "Nothing new to embed."
    assert len(fake_model.texts) == embedded
    assert Paper.objects.count() == 79


def test_a_configured_source_is_found_by_name(fixture_path, fake_model):
    Source.objects.create(name="hf-daily", location=fixture_path(*HF))

    output = run_ingest("hf-daily", "--no-embed")

    assert output.startswith("hf-daily: ok (hf_json) 30 entries: 30 new")
    assert IngestRun.objects.get().source.name == "hf-daily"
    assert fake_model.texts == [] and not PaperEmbedding.objects.exists()


def test_kind_overrides_detection(fixture_path, fake_model):
    with pytest.raises(CommandError, match="No papers found: expected a title line followed by an abstract"):
        run_ingest(fixture_path(*HF), "--kind", "page")

    assert IngestRun.objects.get().kind == "page"


def test_one_broken_source_does_not_stop_the_others(fixture_path, tmp_path, fake_model):
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")

    output = run_ingest(str(empty), fixture_path(*HF), "--no-embed")

    assert output.splitlines()[0] == f"{empty}: failed. The document is empty"
    assert Paper.objects.count() == 30


def test_the_command_fails_only_when_nothing_could_be_read(fixture_path, tmp_path, fake_model):
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")

    with pytest.raises(CommandError) as failure:
        run_ingest(str(empty), str(tmp_path / "missing.json"))

    assert str(failure.value) == (
        f"Nothing could be read from any source. {empty}: The document is empty; "
        f"{tmp_path / 'missing.json'}: Could not read {tmp_path / 'missing.json'}: No such file or directory"
    )
