"""Documents built to break the parsers: JSON of the wrong types or nested without end. Each bad
entry is rejected with a reason naming its field, every good entry beside it is stored, and a
document that cannot be read at all fails its run with one line; never a traceback.

Every hostile document is generated here.
"""

import json
from datetime import date

import pytest

from papers.ingest import ingest
from papers.models import IngestRun, Paper

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)

WRONG_VALUES = {"a number": 42, "a list": ["a", "b"], "an object": {"x": 1}, "true/false": True, "text": "A, B"}
HF_FIELDS = {"title": "text", "summary": "text", "authors": "a list", "id": "text"}
S2_FIELDS = {"title": "text", "abstract": "text", "authors": "a list", "externalIds": "an object"}
BIORXIV_FIELDS = {"title": "text", "abstract": "text", "authors": "text", "doi": "text"}


def ingest_document(tmp_path, data, name="source.json"):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return ingest(str(path), today=TODAY)


def hf_item(arxiv_id, **paper):
    fields = {"id": arxiv_id, "title": f"Paper {arxiv_id}", "summary": "An abstract.", "authors": [{"name": "A. B"}]}
    return {"paper": {**fields, **paper}}


def s2_item(paper_id, **fields):
    return {"paperId": paper_id, "title": f"Paper {paper_id}", "abstract": "An abstract.", **fields}


def biorxiv_item(doi, /, **fields):
    return {**{"doi": doi, "title": f"Paper {doi}", "abstract": "An abstract.", "authors": "Last, F."}, **fields}


def hostile_entries(make, fields):
    """A good entry, then one per field and value of a type that field must not have:
    (entries, {position: field})."""
    entries, broken = [make(0)], {}
    for field, expected in fields.items():
        for kind, value in WRONG_VALUES.items():
            if kind == expected:
                if kind != "a list":
                    continue
                value = [7]  # a list, but of numbers
            entries.append(make(len(entries), **{field: value}))
            broken[len(entries)] = field
    return entries, broken


@pytest.mark.parametrize(
    "wrap, make, fields",
    [
        (lambda items: items, lambda n, **f: hf_item(f"2401.{n:05d}", **f), HF_FIELDS),
        (
            lambda items: {"total": len(items), "offset": 0, "data": items},
            lambda n, **f: s2_item(f"s2-{n}", **f),
            S2_FIELDS,
        ),
        (
            lambda items: {"messages": [{"status": "ok"}], "collection": items},
            lambda n, **f: biorxiv_item(f"10.1101/2024.01.{n:02d}", **f),
            BIORXIV_FIELDS,
        ),
    ],
    ids=["hugging face", "semantic scholar", "biorxiv"],
)
def test_fields_of_the_wrong_type_reject_their_entry_and_name_the_field(tmp_path, wrap, make, fields):
    entries, broken = hostile_entries(make, fields)

    run = ingest_document(tmp_path, wrap(entries))

    assert run.status == IngestRun.Status.PARTIAL
    assert (run.new, run.rejected) == (1, len(broken))
    for rejection in run.rejections:
        position = int(rejection["entry"].split()[1])
        assert f"`{broken[position]}`" in rejection["reason"]
    assert Paper.objects.count() == 1
    assert "\n" not in run.message


def test_a_title_that_is_null_or_missing_rejects_the_entry_as_untitled(tmp_path):
    run = ingest_document(tmp_path, [hf_item("2401.00001"), hf_item("2401.00002", title=None)])

    assert (run.status, run.new) == (IngestRun.Status.PARTIAL, 1)
    assert run.rejections == [{"entry": "item 2 (2401.00002)", "reason": "The paper has no title"}]


@pytest.mark.parametrize(
    "document",
    [
        ["not an object", 42, None, [1, 2]],
        {"total": 4, "data": ["text", 1, None, True]},
        {"messages": [{"status": "ok"}], "collection": ["text", 1, None, [1]]},
    ],
    ids=["hugging face", "semantic scholar", "biorxiv"],
)
def test_items_that_are_not_objects_are_rejected_one_by_one(tmp_path, document):
    items = document if isinstance(document, list) else document.get("data") or document["collection"]
    good = {
        list: hf_item("2401.00009"),
        "data": s2_item("s2-good"),
        "collection": biorxiv_item("10.1101/good"),
    }
    key = list if isinstance(document, list) else ("data" if "data" in document else "collection")
    items.insert(0, good[key])

    run = ingest_document(tmp_path, document)

    assert (run.status, run.new, run.rejected) == (IngestRun.Status.PARTIAL, 1, 4)
    assert {r["reason"].split(",")[0] for r in run.rejections} <= {
        "The item is text",
        "The item is a number",
        "The item is null",
        "The item is true/false",
        "The item is a list",
        "No `paper` object in this item",
    }


@pytest.mark.parametrize(
    "document",
    [
        {"messages": "ok", "collection": []},
        {"messages": [{"status": "ok"}], "collection": {"0": {}}},
        {"dailyPapers": "none today"},
        {"total": 1, "data": {"0": {}}},
    ],
)
def test_a_document_of_the_wrong_shape_fails_with_one_line(tmp_path, document):
    run = ingest_document(tmp_path, document)

    assert run.status == IngestRun.Status.FAILED
    assert run.message and "\n" not in run.message and "Traceback" not in run.message


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a":', "}")])
def test_json_nested_without_end_fails_with_one_line(tmp_path, depth, opening, closing):
    document = (opening * depth + "1" + closing * depth).encode()

    run = ingest_document(tmp_path, document)

    assert run.status == IngestRun.Status.FAILED
    assert run.message == "The JSON is nested too deeply to read"


def test_json_nested_without_end_inside_an_entry_fails_the_document_with_one_line(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    text = json.dumps([hf_item("2401.00001"), hf_item("2401.00002", summary="@")]).replace('"@"', deep)

    run = ingest_document(tmp_path, text.encode())

    assert run.status == IngestRun.Status.FAILED
    assert run.message == "The JSON is nested too deeply to read"
    assert not Paper.objects.exists()
