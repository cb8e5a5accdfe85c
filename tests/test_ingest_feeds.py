"""Feeds and APIs a reader subscribes to become papers, each stored once however often it is listed."""

import json
from datetime import date

import pytest

from papers.ingest import ingest
from papers.models import Appearance, IngestRun, Paper
from papers.parsers import detect
from tests.factories import arxiv_rss

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def feed(fixture_path, name):
    return fixture_path("feeds", name)


@pytest.mark.parametrize(
    "name, kind, stored",
    [
        ("arxiv-rss-2024-11-28-all-archives-excerpt.xml", "feed", 18),
        ("arxiv-atom-feed-2025-08-20-cs.AI-truncated.xml", "feed", 86),
        ("arxiv-api-atom-2016-10-09-search-au-del_maestro.xml", "feed", 10),
        ("arxiv-api-atom-2026-04-30-cat-cs.LG-OR-cs.AI.xml", "feed", 20),
        ("biorxiv-rss1-genomics-2023-12-16.xml", "feed", 1),
        ("hf-daily-papers-api-2024-10-25.json", "hf_json", 29),
        ("hf-daily-papers-api-2026-06-12.json", "hf_json", 30),
        ("medrxiv-api-details-2026-09-15.json", "biorxiv_json", 3),
        ("semantic-scholar-paper-search-2026-06-13.json", "s2_json", 5),
        ("arxiv-rss-2024-11-28-empty-feed.xml", "feed", 0),
    ],
)
def test_every_sample_feed_is_recognised_and_stored_with_one_appearance_per_paper(fixture_path, name, kind, stored):
    content = open(feed(fixture_path, name), "rb").read()
    assert detect(content) == kind

    run = ingest(feed(fixture_path, name), today=TODAY)

    assert (run.kind, run.new) == (kind, stored)
    assert Paper.objects.count() == stored
    assert Appearance.objects.filter(source=run.source).count() == stored


def test_arxiv_rss_keeps_math_ids_dois_and_announce_types_and_makes_tex_text_plain(fixture_path):
    run = ingest(feed(fixture_path, "arxiv-rss-2024-11-28-all-archives-excerpt.xml"), today=TODAY)

    assert run.status == IngestRun.Status.OK
    sok = Paper.objects.get(arxiv_id="2411.18380")
    assert sok.title == (
        "SoK: Privacy Personalised – Mapping Personal Attributes & Preferences of Privacy Mechanisms for Shoulder Surfing"
    )
    assert sok.authors == ["Habiba Farzand", "Karola Marky", "Mohamed Khamis"]
    schroedinger = Paper.objects.get(arxiv_id="2411.17730")
    assert "\\begin{equation*}" in schroedinger.abstract and "Announce Type" not in schroedinger.abstract
    assert (
        "where $\\frac{1}{3}<s<1$ and $V(x):\\mathbb{R}^4\\rightarrow \\mathbb{R}$ satisfies" in schroedinger.abstract
    )
    assert schroedinger.abstract.endswith("this is the first almost sure orbital stability result.")
    assert not schroedinger.abstract.startswith("arXiv:")
    pp = Paper.objects.get(arxiv_id="2411.17758")
    assert pp.doi == "10.1016/j.segan.2024.101477"
    assert (pp.abs_url, pp.pdf_url) == ("https://arxiv.org/abs/2411.17758", "https://arxiv.org/pdf/2411.17758")
    assert pp.categories == ["cs.GT", "cs.CR"]
    assert Paper.objects.exclude(doi="").count() == 4
    replaced = Paper.objects.get(arxiv_id="2408.12178")
    assert replaced.authors == ["Alain Le Yaouanc", "François Richard"]
    assert set(Appearance.objects.values_list("listed_on", flat=True)) == {date(2024, 11, 28)}


def test_arxiv_atom_feed_splits_author_lists_and_turns_tex_accents_into_letters(fixture_path):
    ingest(feed(fixture_path, "arxiv-atom-feed-2025-08-20-cs.AI-truncated.xml"), today=TODAY)

    paper = Paper.objects.get(arxiv_id="2508.13177")
    assert paper.authors[:3] == ["Nikola Pižurica", "Nikola Milović", "Igor Jovančević"]
    assert Paper.objects.get(arxiv_id="2508.13675").authors[1] == "Jörg Deigmöller"
    assert paper.appearances.get().listed_on == date(2025, 8, 20)


def test_arxiv_api_reads_old_style_ids_and_unwraps_abstracts(fixture_path):
    ingest(feed(fixture_path, "arxiv-api-atom-2016-10-09-search-au-del_maestro.xml"), today=TODAY)

    old = Paper.objects.get(key="arxiv:cond-mat/0412498")
    assert old.title == "Thermal melting of density waves on the square lattice"
    assert old.doi == "10.1103/PhysRevB.71.184511"
    assert old.published == date(2004, 12, 19)
    assert old.categories[0] == "cond-mat.str-el"
    assert old.abs_url == "https://arxiv.org/abs/cond-mat/0412498"
    assert Paper.objects.filter(arxiv_id__startswith="cond-mat/").count() == 4
    helium = Paper.objects.get(arxiv_id="1201.4869")
    assert helium.abstract.startswith("As helium-4 is cooled below 2.17 K it undergoes a phase transition to a fundam")
    assert "\n" not in helium.abstract


def test_current_arxiv_api_keeps_latex_and_accents(fixture_path):
    ingest(feed(fixture_path, "arxiv-api-atom-2026-04-30-cat-cs.LG-OR-cs.AI.xml"), today=TODAY)

    note = Paper.objects.get(arxiv_id="2604.26926")
    assert note.title == "A Note on How to Remove the $\\ln\\ln T$ Term from the Squint Bound"
    assert "Orabona and Pál [2016]" in note.abstract and "$\\ln \\ln T$" in note.abstract
    assert "Adrienn Éva Borsy" in Paper.objects.get(arxiv_id="2604.26869").authors


def test_biorxiv_rss_gives_the_doi_and_a_clean_link(fixture_path):
    ingest(feed(fixture_path, "biorxiv-rss1-genomics-2023-12-16.xml"), today=TODAY)

    paper = Paper.objects.get()
    assert paper.key == "doi:10.1101/2023.12.16.571984"
    assert paper.title.startswith("Complete genome of the Medicago anthracnose fungus")
    assert paper.abs_url == "http://biorxiv.org/cgi/content/short/2023.12.16.571984v1"
    assert paper.authors[:2] == ["LAPALU, N.", "SIMON, A."] and paper.authors[-1] == "O'Connell, R. J."
    assert paper.appearances.get().listed_on == date(2023, 12, 16)


def test_older_hugging_face_json_unwraps_titles_and_lists_on_the_submission_day(fixture_path):
    ingest(feed(fixture_path, "hf-daily-papers-api-2024-10-25.json"), today=TODAY)

    paper = Paper.objects.get(arxiv_id="2410.17243")
    assert paper.title == "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
    assert paper.published == date(2024, 10, 22)
    assert not Paper.objects.filter(title__contains="\n").exists()
    assert not Paper.objects.filter(abstract__regex=r"[a-z]\n[a-z]").exists()
    appearance = paper.appearances.get()
    assert (appearance.listed_on, appearance.rank, appearance.upvotes) == (date(2024, 10, 25), 1, 64)


def test_current_hugging_face_json_lists_on_submitted_on_daily_at(fixture_path):
    ingest(feed(fixture_path, "hf-daily-papers-api-2026-06-12.json"), today=TODAY)

    paper = Paper.objects.get(arxiv_id="2606.00467")
    assert paper.authors[:2] == ["Etienne Casanova", "Rafal Kocielnik"]
    assert paper.published == date(2026, 5, 30)
    assert set(Appearance.objects.values_list("listed_on", flat=True)) == {date(2026, 6, 12)}
    assert paper.appearances.get().upvotes == 0
    items = json.load(open(feed(fixture_path, "hf-daily-papers-api-2026-06-12.json")))
    upvotes = {item["paper"]["id"]: item["paper"]["upvotes"] for item in items}
    stored = dict(Appearance.objects.values_list("paper__arxiv_id", "upvotes"))
    assert stored == upvotes


def test_medrxiv_details_undo_the_jats_markers(fixture_path):
    ingest(feed(fixture_path, "medrxiv-api-details-2026-09-15.json"), today=TODAY)

    paper = Paper.objects.get(doi="10.64898/2026.09.11.26362753")
    assert paper.abstract.startswith("Background: The modified Blalock-Taussig-Thomas shunt")
    assert "ρ = 0.94" in paper.abstract
    assert "O_" not in paper.abstract and "C_ST_ABS" not in paper.abstract
    assert paper.authors[:2] == ["Qiao, Y.", "Penn, E."]
    assert paper.abs_url == "https://www.medrxiv.org/content/10.64898/2026.09.11.26362753v1"
    assert paper.categories == ["cardiovascular medicine"]


def test_semantic_scholar_results_are_listed_on_the_day_they_were_read(fixture_path):
    ingest(feed(fixture_path, "semantic-scholar-paper-search-2026-06-13.json"), today=TODAY)

    swin = Paper.objects.get(arxiv_id="2103.14030")
    assert swin.doi == "10.1109/ICCV48922.2021.00986"
    assert swin.published == date(2021, 1, 1)
    assert swin.appearances.get().listed_on == TODAY
    assert Paper.objects.get(arxiv_id="2004.05150").doi == ""


def test_the_same_paper_from_an_arxiv_feed_and_hugging_face_is_stored_once(fixture_path, tmp_path):
    items = json.load(open(feed(fixture_path, "hf-daily-papers-api-2026-06-12.json")))
    minimax = next(item for item in items if item["paper"]["id"] == "2606.13392")
    rss = tmp_path / "cs.LG.xml"
    rss.write_bytes(
        arxiv_rss(
            [("2606.13392", 1, "new", minimax["title"], minimax["paper"]["summary"])],
            day="Fri, 12 Jun 2026 00:00:00 -0400",
        )
    )

    from_feed = ingest(str(rss), today=TODAY)
    from_hf = ingest(feed(fixture_path, "hf-daily-papers-api-2026-06-12.json"), today=TODAY)

    assert (from_feed.new, from_hf.new, from_hf.updated) == (1, 29, 1)  # Hugging Face adds its page and upvotes
    paper = Paper.objects.get(arxiv_id="2606.13392")
    assert (paper.hf_url, paper.upvotes) == ("https://huface.online/papers/2606.13392", minimax["paper"]["upvotes"])
    assert sorted(paper.appearances.values_list("source__name", flat=True)) == sorted([str(rss), from_hf.source.name])
    assert paper.appearances.get(source=from_hf.source).upvotes == minimax["paper"]["upvotes"]


def test_a_paper_first_seen_on_the_text_page_gains_its_arxiv_id_from_a_feed(fixture_path, tmp_path):
    ingest(fixture_path("pages", "003_e1989dbc951720dc.txt"), today=TODAY)
    lofit = Paper.objects.get(title="LoFiT: Localized Fine-tuning on LLM Representations")
    rss = tmp_path / "cs.CL.xml"
    rss.write_bytes(arxiv_rss([("2406.01563", 1, "new", lofit.title, lofit.abstract)]))

    run = ingest(str(rss), today=TODAY)

    assert (run.new, run.updated) == (0, 1)
    lofit.refresh_from_db()
    assert (lofit.key, lofit.arxiv_id) == ("arxiv:2406.01563", "2406.01563")
    assert lofit.authors == ["Ada Lovelace", "Alan Turing"]
    assert lofit.appearances.count() == 2


def test_a_replacement_announcement_updates_the_paper_instead_of_duplicating_it(tmp_path):
    first, second = tmp_path / "monday.xml", tmp_path / "tuesday.xml"
    first.write_bytes(arxiv_rss([("2411.00001", 1, "new", "Sparse  Mixtures\n of Experts", "First version.")]))
    second.write_bytes(
        arxiv_rss(
            [
                (
                    "2411.00001",
                    2,
                    "replace",
                    "Sparse Mixtures of Experts, Revisited",
                    "Second version with more results.",
                )
            ],
            day="Fri, 29 Nov 2024 00:00:00 -0500",
        )
    )

    ingest(str(first), today=TODAY)
    replaced = ingest(str(second), today=TODAY)

    assert (replaced.new, replaced.updated) == (0, 1)
    paper = Paper.objects.get()
    assert (paper.title, paper.abstract) == (
        "Sparse Mixtures of Experts, Revisited",
        "Second version with more results.",
    )
    assert sorted(paper.appearances.values_list("listed_on", flat=True)) == [date(2024, 11, 28), date(2024, 11, 29)]


def test_a_cross_listing_of_a_known_paper_does_not_overwrite_it(tmp_path):
    first, cross = tmp_path / "a.xml", tmp_path / "b.xml"
    first.write_bytes(arxiv_rss([("2411.00002", 1, "new", "Graph Transformers", "The full abstract.")]))
    cross.write_bytes(arxiv_rss([("2411.00002", 1, "cross", "Graph transformers", "Shorter.")]))

    ingest(str(first), today=TODAY)
    again = ingest(str(cross), today=TODAY)

    assert (again.new, again.updated, again.duplicate) == (0, 0, 1)
    assert Paper.objects.get().abstract == "The full abstract."


def test_reingesting_every_feed_creates_nothing_new(fixture_path):
    names = [
        "arxiv-rss-2024-11-28-all-archives-excerpt.xml",
        "arxiv-api-atom-2016-10-09-search-au-del_maestro.xml",
        "hf-daily-papers-api-2024-10-25.json",
        "medrxiv-api-details-2026-09-15.json",
    ]
    for name in names:
        ingest(feed(fixture_path, name), today=TODAY)
    papers, appearances = Paper.objects.count(), Appearance.objects.count()

    again = [ingest(feed(fixture_path, name), today=TODAY) for name in names]

    assert [(run.new, run.updated, run.changed_paper_ids) for run in again] == [(0, 0, [])] * len(names)
    assert (Paper.objects.count(), Appearance.objects.count()) == (papers, appearances)


@pytest.mark.django_db(transaction=True)
def test_a_paper_stored_by_a_concurrent_ingest_meanwhile_is_merged_not_duplicated(tmp_path, monkeypatch, postgres):
    import threading

    from django.db import connection

    from papers import ingest as service

    rss = tmp_path / "feed.xml"
    rss.write_bytes(
        arxiv_rss(
            [
                ("2411.00030", 1, "new", "Raced Paper", "Stored twice at once."),
                ("2411.00031", 1, "new", "Calm Paper", "Only here."),
            ]
        )
    )
    original = service._Known.__init__
    calls = []

    def other_ingest():
        Paper.objects.create(key="arxiv:2411.00030", arxiv_id="2411.00030", title="Raced Paper")
        connection.close()

    def known_then_raced(self, records):
        original(self, records)
        if not calls:  # another process commits the same paper between our lookup and our insert
            racer = threading.Thread(target=other_ingest)
            racer.start()
            racer.join()
        calls.append(1)

    monkeypatch.setattr(service._Known, "__init__", known_then_raced)

    run = ingest(str(rss), today=TODAY)

    assert (run.status, run.new, run.updated) == ("ok", 1, 1)
    assert len(calls) == 2
    assert Paper.objects.filter(arxiv_id="2411.00030").count() == 1
    assert Paper.objects.get(arxiv_id="2411.00030").abstract == "Stored twice at once."


LEGACY_RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:syn="http://purl.org/rss/1.0/modules/syndication/">
<channel rdf:about="http://arxiv.org/">
<title>hep-ex updates on arXiv.org</title>
<link>http://arxiv.org/</link>
<description rdf:parseType="Literal">The hep-ex abstracts from arXiv.org</description>
<dc:language>en-us</dc:language>
<dc:date>2021-07-08T20:30:00-05:00</dc:date>
<dc:subject>High Energy Physics - Experiment</dc:subject>
<syn:updateBase>1901-01-01T00:00+00:00</syn:updateBase>
<items><rdf:Seq>
<rdf:li rdf:resource="http://arxiv.org/abs/2107.03419"/>
<rdf:li rdf:resource="http://arxiv.org/abs/2106.00001"/>
<rdf:li rdf:resource="http://arxiv.org/abs/2107.01111"/>
</rdf:Seq></items>
</channel>
<item rdf:about="http://arxiv.org/abs/2107.03419">
<title>Search for heavy resonances in dilepton final states. (arXiv:2107.03419v1 [hep-ex])</title>
<link>http://arxiv.org/abs/2107.03419</link>
<description rdf:parseType="Literal">&lt;p&gt;A search for heavy resonances decaying into
electron or muon pairs is presented, with $m_{\\ell\\ell} &amp;lt; 6$ TeV.
&lt;/p&gt;</description>
<dc:creator> &lt;a href="http://arxiv.org/find/hep-ex/1/au:+Aad_G/0/1/0/all/0/1"&gt;G. Aad&lt;/a&gt;, &lt;a href="http://arxiv.org/find/hep-ex/1/au:+Abbott_B/0/1/0/all/0/1"&gt;B. Abbott&lt;/a&gt;, et al. (909 additional authors not shown)</dc:creator>
</item>
<item rdf:about="http://arxiv.org/abs/2106.00001">
<title>An updated measurement. (arXiv:2106.00001v2 [hep-ex] UPDATED)</title>
<link>http://arxiv.org/abs/2106.00001</link>
<description rdf:parseType="Literal">&lt;p&gt;Revised.&lt;/p&gt;</description>
<dc:creator> &lt;a href="http://arxiv.org/find/hep-ex/1/au:+Doe_J/0/1/0/all/0/1"&gt;J. Doe&lt;/a&gt;</dc:creator>
</item>
<item rdf:about="http://arxiv.org/abs/2107.01111">
<title>A cross-listed detector paper. (arXiv:2107.01111v1 [physics.ins-det] CROSS LISTED)</title>
<link>http://arxiv.org/abs/2107.01111</link>
<description rdf:parseType="Literal">&lt;p&gt;Detectors.&lt;/p&gt;</description>
<dc:creator> &lt;a href="http://arxiv.org/find/physics/1/au:+Roe_R/0/1/0/all/0/1"&gt;R. Roe&lt;/a&gt;</dc:creator>
</item>
</rdf:RDF>
"""


def test_the_legacy_arxiv_rss_1_0_feed_is_read_from_its_title_suffixes(tmp_path):
    path = tmp_path / "hep-ex"
    path.write_bytes(LEGACY_RSS)
    from papers.parsers import parse

    records = parse(LEGACY_RSS, today=TODAY).records
    run = ingest(str(path), today=TODAY)

    assert [(r.arxiv_id, r.announce_type) for r in records] == [
        ("2107.03419", "new"),
        ("2106.00001", "replace"),
        ("2107.01111", "cross"),
    ]
    assert run.new == 3
    paper = Paper.objects.get(arxiv_id="2107.03419")
    assert paper.title == "Search for heavy resonances in dilepton final states"
    assert paper.abstract == (
        "A search for heavy resonances decaying into electron or muon pairs is presented, with $m_{\\ell\\ell} < 6$ TeV."
    )
    assert paper.authors == ["G. Aad", "B. Abbott"]
    assert paper.appearances.get().listed_on == date(2021, 7, 8)


def test_html_in_a_feed_abstract_is_stripped_and_scripts_dropped_but_latex_kept(tmp_path):
    rss = tmp_path / "feed.xml"
    abstract = "<p>A <b>bold</b> claim &amp; <script>alert('x')</script>a bound $a<b$ for $c>d$.</p><p>Second.</p>"
    rss.write_bytes(arxiv_rss([("2411.00060", 1, "new", "Marked Up", abstract)]))

    ingest(str(rss), today=TODAY)

    assert Paper.objects.get().abstract == "A bold claim & a bound $a<b$ for $c>d$.\n\nSecond."


def test_reading_hugging_face_again_later_in_the_day_refreshes_upvotes_only(fixture_path, tmp_path):
    items = json.load(open(feed(fixture_path, "hf-daily-papers-api-2026-06-12.json")))
    ingest(feed(fixture_path, "hf-daily-papers-api-2026-06-12.json"), today=TODAY)
    items[0]["paper"]["upvotes"] = 99
    later = tmp_path / "later.json"
    later.write_text(json.dumps(items))

    run = ingest(str(later), source=IngestRun.objects.get().source, today=TODAY)

    assert (run.new, run.updated, run.duplicate) == (0, 0, 30)
    assert Appearance.objects.count() == 30
    assert Appearance.objects.get(paper__arxiv_id=items[0]["paper"]["id"]).upvotes == 99
