"""Measuring what feedback does: `manage.py evaluate_feedback` replays clicks on a judged set."""

import json

import pytest
from django.core.management import CommandError, call_command

from evaluation.evaluate import JUDGED_DIR
from evaluation.feedback import paired
from papers.models import Paper
from subscriptions.models import Interest, Subscriber

pytestmark = pytest.mark.django_db

PAGE_003 = JUDGED_DIR / "judged_003.json"


def small_judged_set(tmp_path, names):
    data = json.loads(PAGE_003.read_text())
    data["source"] = str(PAGE_003.parents[2] / data["source"])
    data["profiles"] = [p for p in data["profiles"] if p["name"] in names]
    path = tmp_path / "judged.json"
    path.write_text(json.dumps(data))
    return path, data


def test_the_command_prints_day_two_ndcg_and_junk_for_every_click_budget_and_keeps_nothing(tmp_path, capsys):
    judged, _ = small_judged_set(tmp_path, ["Text embedding models", "Pictures from descriptions"])

    call_command("evaluate_feedback", str(judged), "--seeds", "1")

    captured = capsys.readouterr()
    assert "day-2 NDCG@5" in captured.out and "junk" in captured.out and "95% CI" in captured.out
    for row in ("no feedback", "1 click", "2 clicks", "3 clicks", "all clicks", "seeded (3 grade-2) vs text"):
        assert f"\n{row}" in captured.out
    assert "judged.json: seed 1/1" in captured.err, "progress goes to stderr"
    assert not Paper.objects.exists() and not Subscriber.objects.exists() and not Interest.objects.exists()


def test_a_judged_set_naming_a_paper_that_is_not_on_its_page_is_refused(tmp_path):
    judged, data = small_judged_set(tmp_path, ["Text embedding models"])
    data["profiles"][0]["judgments"]["A paper nobody wrote"] = 2
    judged.write_text(json.dumps(data))

    with pytest.raises(CommandError, match="judges papers not in the source"):
        call_command("evaluate_feedback", str(judged), "--seeds", "1")


def test_the_paired_bootstrap_gives_the_mean_difference_inside_its_interval():
    gain = paired([[(0.5, 0.6), (0.4, 0.6), (0.7, 0.7)], [(0.2, 0.3)]])

    assert gain.difference == pytest.approx((0.1 + 0.2 + 0.0) / 3 / 2 + 0.1 / 2)
    assert gain.low <= gain.difference <= gain.high
    assert gain.units == 4
