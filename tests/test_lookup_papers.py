"""A worker looks papers up by arXiv id, DOI or title, against a local stand-in for the arXiv
API and Semantic Scholar (tests/lookup_stub.py): what it finds, what it says when it cannot."""

import pytest

from papers import lookup

ATTENTION = ("Attention is all you need", "The dominant sequence transduction models are based on recurrent networks.")
SIMCSE = ("SimCSE: Simple Contrastive Learning of Sentence Embeddings", "We present SimCSE, a contrastive framework.")


def test_arxiv_ids_are_read_from_one_arxiv_api_answer(lookup_stub):
    lookup_stub.add(*ATTENTION, arxiv_id="1706.03762")
    lookup_stub.add(*SIMCSE, arxiv_id="2104.08821")

    found = lookup.by_arxiv_ids(["1706.03762", "arXiv:2104.08821v3"])

    assert {key: record.title for key, record in found.items()} == {
        "1706.03762": ATTENTION[0],
        "2104.08821": SIMCSE[0],
    }
    record = found["1706.03762"]
    assert record.abstract == ATTENTION[1]
    assert record.authors == ["Ada Lovelace", "Alan Turing"]
    assert record.abs_url == "https://arxiv.org/abs/1706.03762"
    assert [path.split("?")[0] for path in lookup_stub.requests] == ["/api/query"], "one request for the batch"


def test_a_paper_arxiv_does_not_return_is_asked_of_semantic_scholar(lookup_stub):
    lookup_stub.add(*SIMCSE, arxiv_id="2104.08821", on_arxiv=False)

    record = lookup.by_arxiv_id("2104.08821")

    assert record.title == SIMCSE[0]
    assert record.arxiv_id == "2104.08821"
    assert any(path.startswith("/graph/v1/paper/arXiv:2104.08821") for path in lookup_stub.requests)


def test_an_unknown_arxiv_id_says_so(lookup_stub):
    with pytest.raises(lookup.NotFound, match="arXiv has no paper 2401.99999"):
        lookup.by_arxiv_id("2401.99999")


def test_a_doi_is_found_through_semantic_scholar_and_an_arxiv_doi_through_arxiv(lookup_stub):
    lookup_stub.add(*ATTENTION, doi="10.5555/3295222.3295349")
    lookup_stub.add(*SIMCSE, arxiv_id="2104.08821")

    assert lookup.by_doi("10.5555/3295222.3295349").title == ATTENTION[0]
    assert lookup.by_doi("10.48550/arXiv.2104.08821").title == SIMCSE[0]
    with pytest.raises(lookup.NotFound, match="Semantic Scholar knows no paper with DOI 10.1000/nothing"):
        lookup.by_doi("10.1000/nothing")


def test_a_title_search_accepts_only_the_same_title(lookup_stub):
    lookup_stub.add(*SIMCSE, arxiv_id="2104.08821")

    record = lookup.by_title("SimCSE -- simple contrastive learning of sentence embeddings")
    assert (record.title, record.arxiv_id, record.abstract) == (SIMCSE[0], "2104.08821", SIMCSE[1])
    assert lookup.by_title("Contrastive learning of protein embeddings") is None, "a near miss is not the paper"
    assert lookup.by_title("Nothing like any title at all") is None


def test_answers_are_cached_so_a_paper_is_asked_for_once(lookup_stub):
    lookup_stub.add(*ATTENTION, arxiv_id="1706.03762", doi="10.5555/3295222.3295349")

    for _ in range(3):
        assert lookup.by_arxiv_id("1706.03762").title == ATTENTION[0]
        assert lookup.by_doi("10.5555/3295222.3295349").title == ATTENTION[0]
        with pytest.raises(lookup.NotFound):
            lookup.by_doi("10.1000/nothing")
    assert len(lookup_stub.requests) == 3


def test_an_arxiv_api_that_times_out_gives_a_reason_and_the_rest_of_the_run_fails_fast(lookup_stub):
    lookup_stub.add(*ATTENTION, arxiv_id="1706.03762", on_arxiv=False)
    lookup_stub.hang = {"arxiv", "s2"}
    client = lookup.Client()

    found = client.by_arxiv_ids(["1706.03762", "2104.08821"])

    assert all(isinstance(problem, lookup.Unavailable) for problem in found.values())
    assert "arXiv could not be reached (timed out)" in str(found["1706.03762"])
    assert "Semantic Scholar could not be reached (timed out)" in str(found["1706.03762"])
    asked = len(lookup_stub.requests)
    with pytest.raises(lookup.Unavailable, match="Semantic Scholar could not be reached"):
        client.by_doi("10.5555/3295222.3295349")
    assert len(lookup_stub.requests) == asked, "a service that timed out is not asked again in the same run"


def test_a_busy_service_is_retried_and_a_failing_one_reported(lookup_stub):
    lookup_stub.add(*ATTENTION, doi="10.5555/3295222.3295349")
    lookup_stub.failures["s2"] = [429]
    assert lookup.by_doi("10.5555/3295222.3295349").title == ATTENTION[0]

    lookup_stub.failures["s2"] = [503, 503]
    with pytest.raises(lookup.Unavailable, match="Semantic Scholar answered HTTP 503"):
        lookup.by_title("Some other paper")


def test_each_service_is_asked_in_turn(lookup_stub, settings):
    """A second request to a service waits for the first one's interval to pass."""
    settings.LOOKUP_S2_INTERVAL = 0.2
    lookup_stub.add(*ATTENTION, doi="10.5555/3295222.3295349")
    lookup_stub.add(*SIMCSE, doi="10.18653/v1/2021.emnlp-main.552")

    assert lookup.by_doi("10.5555/3295222.3295349").title == ATTENTION[0]
    assert lookup.by_doi("10.18653/v1/2021.emnlp-main.552").title == SIMCSE[0]
