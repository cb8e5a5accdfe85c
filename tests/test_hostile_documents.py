"""Documents built to break the parsers: JSON of the wrong types or nested without end. Each bad
entry is rejected with a reason naming its field, every good entry beside it is stored, and a
document that cannot be read at all fails its run with one line; never a traceback.

Every hostile document is generated here.
"""

import json
import unicodedata
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


# --- XML that expands, and fields without end --------------------------------------------------


def rss(items, prolog=""):
    """An RSS 2.0 feed of (title, link, description, authors) items; the text is inserted as given."""
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><description>{description}</description>"
        f"<dc:creator>{authors}</dc:creator></item>"
        for title, link, description, authors in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}<rss version="2.0" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Hostile</title>'
        f"<pubDate>Thu, 28 Nov 2024 00:00:00 GMT</pubDate>{body}</channel></rss>"
    )


GOOD_ITEM = ("A Good Paper", "https://example.org/good", "An abstract that is fine.", "Ada Lovelace")


@pytest.mark.parametrize("references", [20, 10_000])
def test_an_xml_entity_that_expands_to_a_huge_title_is_refused_before_parsing(tmp_path, references):
    entity = "a" * 100_000
    prolog = f'<!DOCTYPE rss [<!ENTITY e "{entity}">]>'
    document = rss([("&e;" * references, "https://example.org/1", "x", "A")], prolog=prolog).encode()
    assert len(document) < 140_000  # ~107 KB that would expand to 2 MB or 1 GB

    run = ingest_document(tmp_path, document, name="bomb.xml")

    assert run.status == IngestRun.Status.FAILED
    assert run.message == "The document declares its own entities (a DOCTYPE with an internal subset); refused"
    assert not Paper.objects.exists()


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>',
        '<!DOCTYPE rss [<!ENTITY a "x"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    ],
)
def test_entity_declarations_of_any_kind_are_refused(tmp_path, prolog):
    run = ingest_document(tmp_path, rss([GOOD_ITEM], prolog=prolog).encode(), name="feed.xml")

    assert run.status == IngestRun.Status.FAILED and "declares its own entities" in run.message


def test_an_external_dtd_is_not_fetched_and_the_feed_is_read(tmp_path):
    prolog = '<!DOCTYPE rss SYSTEM "file:///etc/passwd">'

    run = ingest_document(tmp_path, rss([GOOD_ITEM], prolog=prolog).encode(), name="feed.xml")

    assert (run.status, run.new) == (IngestRun.Status.OK, 1)
    assert "root:" not in Paper.objects.get().abstract


def test_fields_over_their_limits_reject_the_entry_and_say_which(tmp_path):
    many = ", ".join(f"Author {n}" for n in range(6_000))
    document = rss(
        [
            GOOD_ITEM,
            ("T" * 5_000, "https://example.org/2", "x", "A"),
            ("Long Abstract", "https://example.org/3", "word " * 20_000, "A"),
            ("Crowded", "https://example.org/4", "x", many),
            ("Long Name", "https://example.org/5", "x", "N" * 1_000),
        ]
    )

    run = ingest_document(tmp_path, document.encode(), name="feed.xml")

    assert (run.status, run.new, run.rejected) == (IngestRun.Status.PARTIAL, 1, 4)
    reasons = [rejection["reason"] for rejection in run.rejections]
    assert reasons == [
        "Too long: the title has 5,000 characters (the limit is 1,000)",
        "Too long: the abstract has 99,999 characters (the limit is 20,000)",
        "Too many authors: 6,000 (the limit is 5,000)",
        "Too long: an author's name has 1,000 characters (the limit is 300)",
    ]
    assert max(len(rejection["entry"]) for rejection in run.rejections) < 200


# --- Links: only http(s) is stored --------------------------------------------------------------

HOSTILE_LINKS = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/phish",
    "/relative/path",
    "https://example.org/\u202eevil",
]


def test_a_link_that_is_not_http_rejects_its_entry_with_a_reason(tmp_path):
    items = [s2_item("good", url="https://www.semanticscholar.org/paper/good")]
    items += [s2_item(f"bad-{n}", url=link) for n, link in enumerate(HOSTILE_LINKS)]
    items += [s2_item("pdf", openAccessPdf={"url": "javascript:alert(1)"})]

    run = ingest_document(tmp_path, {"total": len(items), "offset": 0, "data": items})

    assert (run.status, run.new, run.rejected) == (IngestRun.Status.PARTIAL, 1, len(HOSTILE_LINKS) + 1)
    assert {rejection["reason"] for rejection in run.rejections} == {
        "The abstract link is not an absolute http(s) URL",
        "The PDF link is not an absolute http(s) URL",
    }
    assert list(Paper.objects.values_list("abs_url", flat=True)) == ["https://www.semanticscholar.org/paper/good"]


def test_a_feed_items_javascript_link_is_never_stored(tmp_path):
    document = rss([GOOD_ITEM, ("Script", "javascript:alert(document.domain)", "x", "A")])

    run = ingest_document(tmp_path, document.encode(), name="feed.xml")

    assert (run.new, run.rejected) == (1, 1)
    assert not Paper.objects.filter(abs_url__icontains="javascript").exists()


# --- Encodings and invisible characters ----------------------------------------------------------

TITLE = "Ünïcödé “Quotes” – and ½ of a Paper"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_documents_in_utf16_or_utf32_are_decoded(tmp_path, codec):
    feed_text = rss([(TITLE, "https://example.org/1", "An abstract.", "Zoë Å")]).replace(
        'encoding="utf-8"', f'encoding="{codec.split("-")[0]}-{codec.split("-")[1]}"'
    )
    json_text = json.dumps([hf_item("2401.00001", title=TITLE)], ensure_ascii=False)
    bom_less = codec in ("utf-16-le", "utf-16-be")  # the zero bytes tell these apart

    for name, text in (("feed.xml", feed_text), ("papers.json", json_text)):
        run = ingest_document(tmp_path, text.encode(codec), name=name)

        assert (run.status, run.new) == (IngestRun.Status.OK, 1), (name, run.message, bom_less)
        assert Paper.objects.get().title == TITLE
        Paper.objects.all().delete()


def test_windows_1252_text_is_decoded_without_replacement_characters(tmp_path):
    abstract = "We show that “smart quotes” — and dashes – survive; naïve café résumé costs 5 €. " * 4
    page = f"Daily Papers\n\nNov 28, 2024\n\n{TITLE}\n\n{abstract}\n"
    xml = rss([(TITLE, "https://example.org/1", abstract, "Zoë")]).replace(
        'encoding="utf-8"', 'encoding="windows-1252"'
    )

    for name, content in (("page.txt", page.encode("cp1252")), ("feed.xml", xml.encode("cp1252"))):
        run = ingest_document(tmp_path, content, name=name)

        assert (run.status, run.new) == (IngestRun.Status.OK, 1), (name, run.message)
        paper = Paper.objects.get()
        assert paper.title == TITLE and "“smart quotes” —" in paper.abstract and "€" in paper.abstract
        assert "\ufffd" not in paper.title + paper.abstract
        Paper.objects.all().delete()


def test_a_valid_atom_feed_with_markup_in_a_comment_is_read_as_a_feed(tmp_path):
    atom = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!-- generated by <div class="x">a CMS</div> -->\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title><updated>2024-11-28T00:00:00Z</updated>'
        "<entry><title>Commented Feed Paper</title><id>tag:x,2024:1</id>"
        '<link href="https://example.org/1"/><summary>An abstract.</summary>'
        "<updated>2024-11-28T00:00:00Z</updated></entry></feed>"
    )

    run = ingest_document(tmp_path, atom.encode(), name="atom.xml")

    assert (run.status, run.kind, run.new) == (IngestRun.Status.OK, "feed", 1)


INVISIBLE = "\x00\x07\x1b[31m\u202e\u202d\u2066\u2069\u200b\u200e\ufeff\x7f\x85"


def test_control_and_bidi_override_characters_are_stripped_from_what_is_stored(tmp_path):
    sneaky = f"Safe{INVISIBLE}Title exe.txt\u202e"
    items = [
        hf_item(
            "2401.00001",
            title=sneaky,
            summary=f"First{INVISIBLE} paragraph.\n\nSecond\u202e paragraph.",
            authors=[{"name": f"Ada{INVISIBLE} Lovelace"}, {"name": "\u202e\u200b"}],
        )
    ]

    run = ingest_document(tmp_path, items)

    assert (run.status, run.new) == (IngestRun.Status.OK, 1)
    paper = Paper.objects.get()
    assert paper.title == "Safe [31m Title exe.txt"
    assert paper.abstract == "First [31m paragraph.\n\nSecond paragraph."
    assert paper.authors == ["Ada [31m Lovelace"]
    stored = paper.title + paper.abstract + "".join(paper.authors)
    assert not any(unicodedata.category(char) in ("Cc", "Cf") for char in stored.replace("\n", ""))


def test_zero_width_joiners_that_scripts_need_are_kept(tmp_path):
    title = "क्‍ष and 👩‍💻 in a Title"  # ZWJ inside Devanagari and an emoji sequence

    ingest_document(tmp_path, [hf_item("2401.00001", title=title)])

    assert Paper.objects.get().title == title


def test_a_feed_of_more_entries_than_one_document_may_hold_is_refused_before_parsing(tmp_path):
    items = "<item><title>a</title></item>" * 200_000

    run = ingest_document(tmp_path, rss([]).replace("</channel>", items + "</channel>").encode(), name="feed.xml")

    assert run.status == IngestRun.Status.FAILED
    assert run.message == "The document lists 200,000 entries; at most 10,000 are read from one document"


def test_json_of_more_entries_than_one_document_may_hold_is_refused(tmp_path):
    run = ingest_document(tmp_path, [hf_item("2401.00001")] * 10_001)

    assert (run.status, run.message) == (
        IngestRun.Status.FAILED,
        "The document lists 10,001 entries; at most 10,000 are read from one document",
    )


def test_html_nested_without_end_in_one_abstract_rejects_that_entry_only(tmp_path):
    nested = "&lt;div&gt;" * 50_000 + "x" + "&lt;/div&gt;" * 50_000

    run = ingest_document(tmp_path, rss([GOOD_ITEM, ("Nested", "https://e.org/n", nested, "A")]).encode(), name="f.xml")

    assert (run.status, run.new) == (IngestRun.Status.PARTIAL, 1)
    assert run.rejections == [
        {
            "entry": "entry 2: Nested",
            "reason": "Too long: a field has 550,001 characters of HTML (the limit is 100,000)",
        }
    ]


def test_a_malformed_feed_read_loosely_keeps_its_entries_whatever_types_come_back(tmp_path):
    """Not well-formed XML is read by feedparser's loose parser, whose values may be objects
    where text was expected (here the namespaced DOI element comes back as its attributes)."""
    atom = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>'
        "<entry><title>Loose &amp Broken</title><id>http://arxiv.org/abs/2401.00001v1</id>"
        '<arxiv:doi xmlns:arxiv="http://arxiv.org/schemas/atom">10.1/x</arxiv:doi><summary>s</summary></entry></feed>'
    )

    run = ingest_document(tmp_path, atom.encode(), name="loose.xml")

    assert run.new == 1 and run.status in (IngestRun.Status.OK, IngestRun.Status.PARTIAL)
    assert Paper.objects.get().title == "Loose & Broken"


def test_a_count_too_large_for_the_database_is_dropped_not_the_batch(tmp_path):
    run = ingest_document(tmp_path, [hf_item("2401.00001", upvotes=10**30), hf_item("2401.00002", upvotes=12)])

    assert (run.status, run.new) == (IngestRun.Status.OK, 2)
    assert sorted(Paper.objects.values_list("arxiv_id", flat=True)) == ["2401.00001", "2401.00002"]
