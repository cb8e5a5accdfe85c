"""Measuring the ranking against judged relevance: the metrics and `manage.py evaluate_ranking`."""

import functools
import json

import pytest
from django.core.management import CommandError, call_command

from evaluation.evaluate import JUDGED_DIR, default_judged_sets, evaluate, summary
from evaluation.metrics import Sent, Summary, ndcg_at, precision_at
from papers.models import normalise_title
from papers.parsers import parse
from papers.parsers.tex import tex_to_text

PAGE_003 = JUDGED_DIR / "judged_003.json"


@functools.cache
def report_for(path):
    """One evaluation per judged set for the whole module (evaluate() embeds each text once per process)."""
    return evaluate(path)


def test_ndcg_is_one_for_the_ideal_order_and_lower_for_a_worse_one():
    grades = [2, 1, 0, 0, 2, 0]

    assert ndcg_at(5, [2, 2, 1, 0, 0], grades) == pytest.approx(1.0)
    assert 0 < ndcg_at(5, [0, 1, 2, 0, 2], grades) < ndcg_at(5, [2, 0, 1, 0, 2], grades) < 1
    assert ndcg_at(5, [0, 0], [0, 0, 0]) == 0.0


def test_precision_counts_missing_places_as_misses():
    assert precision_at(5, [2, 1, 0, 0, 1]) == pytest.approx(0.6)
    assert precision_at(5, [2]) == pytest.approx(0.2)


def test_what_digests_send_is_measured_as_junk_grade_two_recall_and_empty_digests():
    judged = [2, 2, 2, 1, 0, 0, 0]
    digests = [
        Sent([2, 0, 1, 0], judged, size=10),  # 2 of 4 sent are junk, 1 of the 3 grade-2 papers found
        Sent([2, 2], judged, size=2),  # a digest of 2 can hold only 2 of the 3 grade-2 papers: it found both
        Sent([], judged, size=10),  # a thin day that sent nothing
    ]

    row = Summary.of(digests)

    assert row.junk == pytest.approx(2 / 6)
    assert row.recall == pytest.approx(3 / (3 + 2 + 3))
    assert row.empty == 1 and row.sent == 6 and row.profiles == 3
    assert row.ndcg == pytest.approx(sum(ndcg_at(5, d.grades, judged) for d in digests) / 3)


@pytest.mark.parametrize("path", default_judged_sets(), ids=lambda path: path.name)
def test_every_judged_set_grades_every_paper_of_its_source_in_every_profile(path):
    data = json.loads(path.read_text())
    page = parse((path.parents[2] / data["source"]).read_bytes())
    titles = {normalise_title(record.title) for record in page.records}

    assert {p["style"] for p in data["profiles"]} == {"literal", "paraphrased"}
    assert any(len(p["interests"]) > 1 for p in data["profiles"])
    for profile in data["profiles"]:
        assert {normalise_title(tex_to_text(t)) for t in profile["judgments"]} == titles, profile["name"]
        assert set(profile["judgments"].values()) <= {0, 1, 2}
        assert 2 in profile["judgments"].values(), profile["name"]


def test_the_judged_daily_page_has_at_least_twelve_profiles():
    assert len(json.loads(PAGE_003.read_text())["profiles"]) >= 12


@pytest.mark.django_db
def test_our_ranking_beats_bm25_on_literal_and_on_paraphrased_profiles():
    report = report_for(PAGE_003)

    rows = dict(report.groups())
    for style in ("literal", "paraphrased"):
        ours = summary(rows[style], lambda r: r.digest("sent"))
        bm25 = summary(rows[style], lambda r: r.digest("bm25"))
        assert ours.ndcg > bm25.ndcg, style


@pytest.mark.django_db
@pytest.mark.parametrize("path", default_judged_sets(), ids=lambda path: path.name)
def test_our_ranking_beats_bm25_overall_on_every_judged_set(path):
    report = report_for(path)

    ours = summary(report.results, lambda r: r.digest("sent"))
    bm25 = summary(report.results, lambda r: r.digest("bm25"))
    assert ours.ndcg > bm25.ndcg and ours.precision >= bm25.precision


def judged_subset(tmp_path, profiles=None, suffix=".json", name="judged", held_out=False):
    """A small judged set written to tmp_path: page 003 judged in the named profiles only (all by default)."""
    data = json.loads(PAGE_003.read_text())
    data["source"] = str(PAGE_003.parents[2] / data["source"])
    if profiles is not None:
        data["profiles"] = [p for p in data["profiles"] if p["name"] in profiles]
    if held_out:
        data["held_out"] = True
    path = tmp_path / f"{name}{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(data))
    else:
        import yaml

        path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.django_db
def test_the_command_reports_what_each_side_sends_with_progress_on_stderr(tmp_path, capsys):
    judged = judged_subset(
        tmp_path,
        ["Text embedding models", "Pictures from descriptions", "Segmentation + data selection (two fields)"],
    )

    call_command("evaluate_ranking", str(judged), "--per-profile")

    captured = capsys.readouterr()
    out = captured.out
    for column in ("order NDCG@5", "sent NDCG@5", "P@5", "junk", "recall", "empty"):
        assert column in out
    for side in ("\nours ", "\nBM25 (no cut)", "\ncosine >= "):
        assert side in out
    for group in ("literal (2)", "paraphrased (1)", "two+ interests (1)"):
        assert f"ours, {group}" in out
    assert "Junk vs grade-2 recall at each cut (3 profiles" in out
    assert "best single cut for ours:" in out and "best single cut for cosine:" in out
    assert "Pictures from descriptions" in out
    assert "judged.json: profile 3/3 'Pictures from descriptions'" in captured.err


@pytest.mark.django_db
def test_a_held_out_set_is_reported_on_its_own_and_the_cosine_threshold_is_not_chosen_on_it(tmp_path, capsys):
    tuning = judged_subset(tmp_path, ["Text embedding models"], name="tuning")
    held_out = judged_subset(tmp_path, ["Pictures from descriptions"], name="held", held_out=True)

    call_command("evaluate_ranking", str(tuning), str(held_out))

    out = capsys.readouterr().out
    assert "Judged set held.json (1 profiles, HELD OUT, never tuned on)" in out
    assert "All tuning sets (1 profiles)" in out
    assert "Held-out sets (1 profiles): the honest check, never tuned on" in out
    assert "Junk vs grade-2 recall at each cut (1 profiles" in out


def test_a_judged_set_naming_a_paper_that_is_not_on_its_page_is_refused(tmp_path):
    broken = judged_subset(tmp_path)
    data = json.loads(broken.read_text())
    data["profiles"][0]["judgments"]["A paper nobody wrote"] = 2
    broken.write_text(json.dumps(data))

    with pytest.raises(CommandError, match="judges papers not in the source"):
        call_command("evaluate_ranking", str(broken))


@pytest.mark.django_db
def test_a_judged_set_may_be_yaml(tmp_path, capsys):
    judged = judged_subset(tmp_path, ["Text embedding models"], suffix=".yaml")

    call_command("evaluate_ranking", str(judged))

    assert "Judged set judged.yaml (1 profiles, tuning)" in capsys.readouterr().out
