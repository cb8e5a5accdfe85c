"""Measuring the ranking against judged relevance: the metrics and `manage.py evaluate_ranking`."""

import functools
import json

import pytest
from django.core.management import CommandError, call_command

from evaluation.evaluate import JUDGED_DIR, default_judged_sets, evaluate
from evaluation.metrics import ndcg_at, precision_at
from papers.models import normalise_title
from papers.parsers import parse

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


@pytest.mark.parametrize("path", default_judged_sets(), ids=lambda path: path.name)
def test_every_judged_set_grades_every_paper_of_its_source_in_every_profile(path):
    data = json.loads(path.read_text())
    page = parse((path.parents[2] / data["source"]).read_bytes())
    titles = {normalise_title(record.title) for record in page.records}

    assert {p["style"] for p in data["profiles"]} == {"literal", "paraphrased"}
    assert any(len(p["interests"]) > 1 for p in data["profiles"])
    for profile in data["profiles"]:
        assert {normalise_title(t) for t in profile["judgments"]} == titles, profile["name"]
        assert set(profile["judgments"].values()) <= {0, 1, 2}
        assert 2 in profile["judgments"].values(), profile["name"]


def test_the_judged_daily_page_has_at_least_twelve_profiles():
    assert len(json.loads(PAGE_003.read_text())["profiles"]) >= 12


@pytest.mark.django_db
def test_our_ranking_beats_bm25_on_literal_and_on_paraphrased_profiles():
    report = report_for(PAGE_003)

    rows = dict(report.groups())
    for style in ("literal", "paraphrased"):
        ours, bm25 = report.mean(rows[style], "ours"), report.mean(rows[style], "bm25")
        assert ours[0] > bm25[0], style


@pytest.mark.django_db
@pytest.mark.parametrize("path", default_judged_sets(), ids=lambda path: path.name)
def test_our_ranking_beats_bm25_overall_on_every_judged_set(path):
    report = report_for(path)

    ours, bm25 = report.mean(report.results, "ours"), report.mean(report.results, "bm25")
    assert ours[0] > bm25[0] and ours[1] >= bm25[1]


def judged_subset(tmp_path, profiles=None, suffix=".json"):
    """A small judged set written to tmp_path: page 003 judged in the named profiles only (all by default)."""
    data = json.loads(PAGE_003.read_text())
    data["source"] = str(PAGE_003.parents[2] / data["source"])
    if profiles is not None:
        data["profiles"] = [p for p in data["profiles"] if p["name"] in profiles]
    path = tmp_path / f"judged{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(data))
    else:
        import yaml

        path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.django_db
def test_the_command_prints_ndcg_and_precision_for_both_and_every_group(tmp_path, capsys):
    judged = judged_subset(
        tmp_path,
        ["Text embedding models", "Pictures from descriptions", "Segmentation + data selection (two fields)"],
    )

    call_command("evaluate_ranking", str(judged), "--per-profile")

    out = capsys.readouterr().out
    assert "ours NDCG@5" in out and "BM25 NDCG@5" in out and "ours P@5" in out
    for row in ("literal", "paraphrased", "two+ interests", "overall"):
        assert f"\n{row}" in out
    assert "Pictures from descriptions" in out


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

    assert "overall           1" in capsys.readouterr().out
