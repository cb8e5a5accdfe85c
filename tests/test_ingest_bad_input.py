"""Broken pages and feeds are reported with what and where; every good entry is still stored."""

import json
from datetime import date

import pytest

from papers.ingest import ingest
from papers.models import IngestRun, Paper
from tests.factories import arxiv_rss

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def ingest_bytes(tmp_path, content, name="input"):
    path = tmp_path / name
    path.write_bytes(content)
    return ingest(str(path), today=TODAY)


def test_an_empty_file_fails_and_says_it_is_empty(tmp_path):
    run = ingest_bytes(tmp_path, b"  \n\n")

    assert (run.status, run.message) == (IngestRun.Status.FAILED, "The document is empty")
    assert run.finished_at is not None


def test_binary_junk_fails_without_storing_anything(tmp_path):
    junk = bytes(range(256)) * 20

    run = ingest_bytes(tmp_path, junk, name="papers.xml")

    assert run.status == IngestRun.Status.FAILED
    assert "binary" in run.message
    assert not Paper.objects.exists()


def test_a_feed_cut_off_mid_entry_keeps_the_complete_entries(fixture_path):
    run = ingest(fixture_path("feeds", "arxiv-atom-feed-2025-08-20-cs.AI-truncated.xml"), today=TODAY)

    assert run.status == IngestRun.Status.PARTIAL
    assert (run.seen, run.new, run.rejected) == (87, 86, 1)
    assert run.rejections == [
        {"entry": "entry 87: oai:arXiv.org:2508.13435v1", "reason": "The document ends inside this entry (cut off)"}
    ]
    assert "cut off after 86 complete entries (line 1233, column 84: no element found)" in run.message
    assert not Paper.objects.filter(arxiv_id="2508.13435").exists()
    assert Paper.objects.filter(arxiv_id="2508.13434").exists()


def test_an_arxiv_feed_error_document_fails_with_arxivs_explanation(fixture_path):
    run = ingest(fixture_path("feeds", "arxiv-rss-2024-11-28-error-bad-archive.xml"), today=TODAY)

    assert run.status == IngestRun.Status.FAILED
    assert run.message.startswith("Feed error for query: http://rss.arxiv.org/rss/astroph: Bad archive 'astroph'.")


def test_the_recorded_arxiv_api_error_fails_with_status_and_reason(fixture_path):
    run = ingest(fixture_path("feeds", "arxiv-api-2026-04-12-error-400-recorded.json"), today=TODAY)

    assert run.status == IngestRun.Status.FAILED
    assert run.message.startswith("HTTP 400 from https://export.arxiv.org/api/query?")
    assert run.message.endswith("arXiv API error: incorrect id format for abc")
    assert not Paper.objects.exists()


def test_an_arxiv_api_error_feed_served_directly_fails(fixture_path, tmp_path):
    body = json.load(open(fixture_path("feeds", "arxiv-api-2026-04-12-error-400-recorded.json")))["body"]

    run = ingest_bytes(tmp_path, body.encode(), name="query")

    assert (run.status, run.message) == ("failed", "arXiv API error: incorrect id format for abc")


def test_an_http_error_fails_with_the_status(local_server):
    run = ingest(local_server.url("/missing.xml"), today=TODAY)

    assert run.status == IngestRun.Status.FAILED
    assert run.message == f"HTTP 404 Not Found from {local_server.url('/missing.xml')}"


def test_a_missing_file_fails_and_names_it(tmp_path):
    run = ingest(str(tmp_path / "nowhere.xml"), today=TODAY)

    assert run.status == IngestRun.Status.FAILED
    assert run.message == f"Could not read {tmp_path / 'nowhere.xml'}: No such file or directory"


def test_an_entry_without_a_title_is_rejected_and_the_others_are_stored(tmp_path):
    feed = arxiv_rss(
        [
            ("2411.00010", 1, "new", "A Good Paper", "Fine."),
            ("2411.00011", 1, "new", "", "This one lost its title."),
            ("2411.00012", 1, "new", "Another Good Paper", "Also fine."),
        ]
    )

    run = ingest_bytes(tmp_path, feed, name="feed.xml")

    assert (run.status, run.seen, run.new, run.rejected) == (IngestRun.Status.PARTIAL, 3, 2, 1)
    assert run.rejections == [{"entry": "entry 2: oai:arXiv.org:2411.00011v1", "reason": "The entry has no title"}]
    assert run.message == "1 entry rejected: The entry has no title"
    assert sorted(Paper.objects.values_list("arxiv_id", flat=True)) == ["2411.00010", "2411.00012"]


def test_hugging_face_items_without_a_title_are_rejected_by_position(fixture_path, tmp_path):
    items = json.load(open(fixture_path("feeds", "hf-daily-papers-api-2026-06-12.json")))[:3]
    items[1]["title"] = items[1]["paper"]["title"] = "  "

    run = ingest_bytes(tmp_path, json.dumps(items).encode(), name="daily.json")

    assert (run.status, run.new, run.rejected) == (IngestRun.Status.PARTIAL, 2, 1)
    assert run.rejections[0] == {"entry": f"item 2 ({items[1]['paper']['id']})", "reason": "The paper has no title"}


def test_a_page_title_without_an_abstract_is_rejected_and_the_rest_kept(tmp_path):
    page = (
        "Daily Papers\n\nAug 7\n\n"
        "Good Title One\n\n" + "An abstract sentence that goes on. " * 10 + "\n\n"
        "A Title Whose Abstract Went Missing\n\n"
        "Good Title Two\n\n" + "Another abstract sentence goes here. " * 10 + "\n"
    )

    run = ingest_bytes(tmp_path, page.encode(), name="page.txt")

    assert (run.status, run.new, run.rejected) == (IngestRun.Status.PARTIAL, 2, 1)
    assert run.rejections == [
        {"entry": "A Title Whose Abstract Went Missing", "reason": "A title without an abstract after it"}
    ]


def test_json_of_an_unknown_shape_fails_and_says_what_was_expected(tmp_path):
    run = ingest_bytes(tmp_path, b'{"hello": "world"}', name="data.json")

    assert run.status == IngestRun.Status.FAILED
    assert run.message.startswith("JSON of an unknown shape")


def test_broken_json_fails_with_the_parse_position(tmp_path):
    run = ingest_bytes(tmp_path, b'[{"paper": {"id": "2411.00001", "title": "Cut', name="daily.json")

    assert run.status == IngestRun.Status.FAILED
    assert "not valid JSON" in run.message and "line 1" in run.message


def test_an_entry_with_a_field_too_long_to_store_is_rejected_by_name(fixture_path, tmp_path):
    details = json.load(open(fixture_path("feeds", "medrxiv-api-details-2026-09-15.json")))
    details["collection"][0]["doi"] = "10.64898/" + "9" * 300

    run = ingest_bytes(tmp_path, json.dumps(details).encode(), name="details.json")

    assert (run.status, run.new, run.rejected) == (IngestRun.Status.PARTIAL, 2, 1)
    assert run.rejections == [
        {
            "entry": "entry 1: Interpretable biomarker programs predict treatment response in lupus nephritis:",
            "reason": "Too long to store: doi",
        }
    ]


def test_a_document_whose_every_entry_is_rejected_fails(tmp_path):
    run = ingest_bytes(tmp_path, arxiv_rss([("2411.00050", 1, "new", "", "No title here.")]), name="feed.xml")

    assert (run.status, run.rejected) == (IngestRun.Status.FAILED, 1)
    assert run.message == "1 entry rejected: The entry has no title"


def test_a_feed_cut_off_inside_its_first_entry_fails_and_says_so(tmp_path):
    whole = arxiv_rss([("2411.00070", 1, "new", "Never Finished", "This abstract is cut")])
    cut = whole[: whole.index(b"This abstract is cut") + 10]

    run = ingest_bytes(tmp_path, cut, name="feed.xml")

    assert run.status == IngestRun.Status.FAILED
    assert run.message.startswith("The feed is cut off after 0 complete entries (line ")
    assert not Paper.objects.exists()


def test_a_feed_cut_off_between_entries_keeps_them_all_and_is_partial(tmp_path):
    whole = arxiv_rss([("2411.00071", 1, "new", "First", "One."), ("2411.00072", 1, "new", "Second", "Two.")])
    cut = whole[: whole.index(b"</channel>")]

    run = ingest_bytes(tmp_path, cut, name="feed.xml")

    assert (run.status, run.new, run.rejected) == (IngestRun.Status.PARTIAL, 2, 0)
    assert run.message.startswith("The feed is cut off after 2 complete entries (line ")


def test_a_hugging_face_list_cut_off_mid_item_keeps_the_whole_items(fixture_path, tmp_path):
    items = json.load(open(fixture_path("feeds", "hf-daily-papers-api-2024-10-25.json")))
    text = json.dumps(items)
    cut = text[: text.index(items[3]["paper"]["id"]) + 5]  # inside the fourth item

    run = ingest_bytes(tmp_path, cut.encode(), name="daily.json")

    assert (run.status, run.new) == (IngestRun.Status.PARTIAL, 3)
    assert run.message.startswith("The JSON is cut off after 3 complete items (Unterminated string")
    assert sorted(Paper.objects.values_list("arxiv_id", flat=True)) == sorted(i["paper"]["id"] for i in items[:3])


def test_an_api_error_object_fails_with_its_message(tmp_path):
    run = ingest_bytes(tmp_path, b'{"message": "Too Many Requests. Please wait and try again."}', name="s2.json")

    assert (run.status, run.message) == (
        IngestRun.Status.FAILED,
        "The API answered with an error: Too Many Requests. Please wait and try again.",
    )
