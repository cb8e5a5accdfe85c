"""Trying out interests from the command line before subscribing: `manage.py recommend`."""

import json
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import embedded_papers, make_paper, titles_of

pytestmark = pytest.mark.django_db


def test_json_output_is_only_a_list_of_papers_best_first(capfd):
    embedded_papers()

    call_command("recommend", "--interest", "protein folding", "--interest", "compilers", "--top", "3", "--json")

    out, err = capfd.readouterr()
    rows = json.loads(out)
    assert len(rows) == 3
    assert all({"title", "score", "matched", "url"} <= set(row) for row in rows)
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)
    assert {row["matched"] for row in rows} == {"protein folding", "compilers"}
    assert all(row["url"].startswith("https://arxiv.org/abs/") for row in rows)


def test_papers_not_yet_embedded_are_embedded_first_with_progress_on_stderr(capfd):
    make_paper("Protein folding with language models", "Protein language models predict how proteins fold.")

    call_command("recommend", "--interest", "protein folding", "--json")

    out, err = capfd.readouterr()
    assert [row["title"] for row in json.loads(out)] == ["Protein folding with language models"]
    assert "Embedding papers" in err


def test_since_keeps_only_papers_first_seen_from_that_day(capfd):
    embedded_papers(seen_at=timezone.now() - timedelta(days=10))
    recent = make_paper("Protein folding this week", "Proteins fold.", seen_at=timezone.now() - timedelta(days=1))
    since = (timezone.now() - timedelta(days=3)).date().isoformat()

    call_command("recommend", "--interest", "protein folding", "--since", since, "--json")

    assert [row["title"] for row in json.loads(capfd.readouterr().out)] == [recent.title]


def test_the_plain_output_lists_score_title_and_why(capsys):
    embedded_papers()

    call_command("recommend", "--interest", "protein structure prediction", "--top", "2")

    out = capsys.readouterr().out
    assert re.search(r" 1\. \d\.\d\d  ", out) and titles_of("proteins")[0] in out
    assert "matches 'protein structure prediction'" in out


def test_an_unreadable_date_is_a_clear_error():
    with pytest.raises(CommandError, match="not a date like"):
        call_command("recommend", "--interest", "x", "--since", "last tuesday")
