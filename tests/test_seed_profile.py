"""A reader seeds their profile with their own papers: pasted arXiv links and DOIs on the sign-up
form, or a BibTeX, RIS or CSL-JSON export on the manage page. A worker looks each one up (the
arXiv API and Semantic Scholar are a local stub here) and adds it as a liked paper."""

import json
import re
from html import unescape

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from papers.ingest import ingest
from papers.models import Paper, PaperEmbedding
from subscriptions.models import Interest, SeedPaper, Subscriber
from tests.factories import arxiv_rss, make_subscriber
from tests.subscription_helpers import SIGNUP, link_in, path_of, post_and_run_queued

pytestmark = pytest.mark.django_db

SIMCSE = ("SimCSE: Simple Contrastive Learning of Sentence Embeddings", "We present SimCSE, a contrastive framework.")
ATTENTION = ("Attention Is All You Need", "The dominant sequence transduction models are based on recurrent networks.")
BERT = ("BERT: Pre-training of Deep Bidirectional Transformers", "We introduce a new language representation model.")
GRAPHS = ("Graph attention networks for citation graphs", "We present graph attention networks (GATs).")


@pytest.fixture
def catalogue(lookup_stub):
    """What the stand-in arXiv and Semantic Scholar know."""
    lookup_stub.add(*SIMCSE, arxiv_id="2104.08821")
    lookup_stub.add(*ATTENTION, arxiv_id="1706.03762")
    lookup_stub.add(*BERT, arxiv_id="1810.04805")
    lookup_stub.add(*GRAPHS, doi="10.1145/3292500.3330919")
    return lookup_stub


def papers_section(response):
    """The manage page's "Your own papers" list, as the reader reads it."""
    page = response.content.decode()
    section = page.split('id="papers"', 1)[1].split("</ul>", 1)[0]
    items = [item.split(">", 1)[1] for item in section.split("<li")[1:]]
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items]


def add_papers(client, subscriber, **data):
    return client.post(path_of("manage", subscriber).rstrip("/") + "/papers/", data, follow=True)


def run_queued(callbacks, django_capture_on_commit_callbacks):
    """What a worker does with the tasks the request queued (and the tasks those queue in turn)."""
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()


def test_a_reader_pastes_three_arxiv_links_and_a_doi_at_sign_up_and_sees_them_looked_up_then_added(
    client, catalogue, fake_model, django_capture_on_commit_callbacks
):
    pasted = (
        "https://arxiv.org/abs/2104.08821v2\narxiv.org/pdf/1706.03762v5\n"
        "arXiv:1810.04805, https://doi.org/10.1145/3292500.3330919"
    )
    response = post_and_run_queued(client, "/", {**SIGNUP, "interests": "", "papers": pasted}, follow=True)
    assert "Check your inbox" in response.content.decode()
    assert catalogue.requests == [], "nothing is looked up for an address nobody has confirmed"

    with django_capture_on_commit_callbacks() as queued:
        manage = client.post(link_in(mail.outbox[0].body, "confirm"), follow=True)
    assert papers_section(manage) == [
        "Looking up… arXiv:2104.08821 line 1 Remove",
        "Looking up… arXiv:1706.03762 line 2 Remove",
        "Looking up… arXiv:1810.04805 line 3 Remove",
        "Looking up… doi:10.1145/3292500.3330919 line 3 Remove",
    ]
    assert "reload this page to see how it went" in manage.content.decode()
    assert catalogue.requests == [], "the page did not wait for the lookup"

    run_queued(queued, django_capture_on_commit_callbacks)

    manage = client.get(manage.redirect_chain[-1][0])
    assert papers_section(manage) == [
        f"Added Added as “{SIMCSE[0]}” line 1 Remove",
        f"Added Added as “{ATTENTION[0]}” line 2 Remove",
        f"Added Added as “{BERT[0]}” line 3 Remove",
        f"Added Added as “{GRAPHS[0]}” line 3 Remove",
    ]
    assert '<a href="https://arxiv.org/abs/2104.08821"' in manage.content.decode()
    reader = Subscriber.objects.get()
    liked = Interest.objects.filter(subscriber=reader, kind=Interest.Kind.LIKED).select_related("paper")
    assert sorted(interest.paper.title for interest in liked) == sorted([SIMCSE[0], ATTENTION[0], BERT[0], GRAPHS[0]])
    assert Paper.objects.get(arxiv_id="2104.08821").abstract == SIMCSE[1]
    assert PaperEmbedding.objects.count() == 4, "the liked papers are embedded, for ranking to read"
    assert [path.split("?")[0] for path in catalogue.requests] == [
        "/api/query",
        "/graph/v1/paper/DOI:10.1145/3292500.3330919",
    ], "the three arXiv ids in one arXiv request, the DOI from Semantic Scholar"


def test_seeded_papers_are_nobody_elses_news_until_a_source_lists_them(
    client, catalogue, fake_model, django_capture_on_commit_callbacks, tmp_path
):
    ada = make_subscriber()
    with django_capture_on_commit_callbacks(execute=True):
        add_papers(client, ada, papers="2104.08821")
    paper = Paper.objects.get(arxiv_id="2104.08821")
    assert paper.first_seen_at is None, "a reader's own paper is not a new listing"

    feed = tmp_path / "cs.LG.xml"
    feed.write_bytes(arxiv_rss([("2104.08821", 3, "new", "SimCSE, as arXiv lists it", "The listed abstract.")]))
    ingest(str(feed))

    paper.refresh_from_db()
    assert paper.first_seen_at is not None, "listed now: a candidate for everyone's next digest"
    assert (paper.title, paper.abstract) == ("SimCSE, as arXiv lists it", "The listed abstract.")


def test_a_bibtex_with_one_broken_entry_is_rejected_naming_that_entry_and_nothing_is_saved(client, catalogue):
    ada = make_subscriber()
    bibtex = b"""@article{gao2021simcse,
  title = {{SimCSE}: Simple Contrastive Learning of Sentence Embeddings},
  author = {Gao, Tianyu and Yao, Xingcheng and Chen, Danqi},
  eprint = {2104.08821}, archivePrefix = {arXiv},
}
@inproceedings{vaswani2017,
  title = {Attention is All you {Need,
  booktitle = {NeurIPS},
}
@misc{devlin2019, title = {{BERT}}, eprint = {1810.04805}, archivePrefix = {arXiv}}
"""
    response = add_papers(client, ada, papers_file=SimpleUploadedFile("mine.bib", bibtex))

    assert response.status_code == 400
    page = unescape(response.content.decode())
    assert (
        "Nothing was added from mine.bib. BibTeX entry “vaswani2017” (line 6): "
        'a { or " in it is never closed: the entry runs into the next one.'
    ) in page
    assert not SeedPaper.objects.exists()
    assert not Interest.objects.filter(kind=Interest.Kind.LIKED).exists()
    assert catalogue.requests == []


def test_an_arxiv_api_that_times_out_leaves_a_reason_at_each_entry_and_they_can_be_tried_again(
    client, catalogue, fake_model, django_capture_on_commit_callbacks
):
    ada = make_subscriber()
    catalogue.hang = {"arxiv", "s2"}
    with django_capture_on_commit_callbacks(execute=True):
        response = add_papers(client, ada, papers="2104.08821\n1706.03762")
    assert "2 papers are on your list. We are looking them up" in response.content.decode()

    reason = "arXiv could not be reached (timed out); Semantic Scholar could not be reached (timed out)"
    assert papers_section(client.get(path_of("manage", ada))) == [
        f"Failed arXiv:2104.08821: {reason} line 1 Remove",
        f"Failed arXiv:1706.03762: {reason} line 2 Remove",
    ]
    assert not Interest.objects.filter(kind=Interest.Kind.LIKED).exists()

    catalogue.hang = set()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path_of("manage", ada).rstrip("/") + "/papers/retry/", follow=True)
    assert "Looking up 2 papers again." in response.content.decode()
    assert papers_section(client.get(path_of("manage", ada))) == [
        f"Added Added as “{SIMCSE[0]}” line 1 Remove",
        f"Added Added as “{ATTENTION[0]}” line 2 Remove",
    ]


def test_a_zotero_export_with_abstracts_is_added_as_it_is_and_the_rest_looked_up(
    client, catalogue, fake_model, django_capture_on_commit_callbacks
):
    ada = make_subscriber()
    items = [
        {
            "id": "http://zotero.org/users/7/items/AB12",
            "type": "article-journal",
            "title": "Folding proteins with language models",
            "abstract": "<jats:p>We fold proteins with a protein language model.</jats:p>",
            "DOI": "10.1101/2022.07.20.500902",
            "author": [{"family": "Lin", "given": "Zeming"}],
        },
        {"id": "AB13", "type": "article", "title": "SimCSE", "number": "arXiv:2104.08821"},
        {"id": "AB14", "type": "paper-conference", "title": "A workshop paper nobody indexed"},
    ]
    upload = SimpleUploadedFile("My Library.json", json.dumps(items).encode(), content_type="application/json")
    with django_capture_on_commit_callbacks(execute=True):
        add_papers(client, ada, papers_file=upload)

    assert papers_section(client.get(path_of("manage", ada))) == [
        "Added Added as “Folding proteins with language models” CSL-JSON item 1 (“http://zotero.org/users/7/items/AB12”) Remove",
        f"Added Added as “{SIMCSE[0]}” CSL-JSON item 2 (“AB13”) Remove",
        "Added Added as “A workshop paper nobody indexed” (added from its title alone: no paper with this title "
        "was found) CSL-JSON item 3 (“AB14”) Remove",
    ]
    folded = Paper.objects.get(doi="10.1101/2022.07.20.500902")
    assert (folded.abstract, folded.authors, folded.abs_url) == (
        "We fold proteins with a protein language model.",
        ["Zeming Lin"],
        "https://doi.org/10.1101/2022.07.20.500902",
    )
    assert not any("DOI:10.1101" in path for path in catalogue.requests), "an entry with its abstract is not looked up"
    assert any(text.startswith("Folding proteins") for text in fake_model.texts), "it is embedded"


def test_a_reader_s_own_file_is_cleaned_like_a_feed_before_its_papers_are_stored(
    client, catalogue, fake_model, django_capture_on_commit_callbacks
):
    ada = make_subscriber()
    items = [{"id": "A1", "type": "article", "title": "Reversed\u202etxt.exe titles\u0007", "abstract": "Text\u200b."}]
    upload = SimpleUploadedFile("My Library.json", json.dumps(items).encode(), content_type="application/json")
    with django_capture_on_commit_callbacks(execute=True):
        add_papers(client, ada, papers_file=upload)

    paper = Paper.objects.get()
    assert (paper.title, paper.abstract) == ("Reversedtxt.exe titles", "Text.")


def test_a_ris_export_is_read_and_a_paper_already_on_the_list_is_not_added_twice(
    client, catalogue, fake_model, django_capture_on_commit_callbacks
):
    ada = make_subscriber()
    ris = (
        "TY  - CONF\nTI  - Graph attention networks for citation graphs\nAU  - Velickovic, Petar\n"
        "DO  - 10.1145/3292500.3330919\nER  - \n\nTY  - JOUR\nT1  - SimCSE\nUR  - https://arxiv.org/abs/2104.08821\nER  - \n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        add_papers(client, ada, papers="2104.08821")
        response = add_papers(client, ada, papers_file=SimpleUploadedFile("export.ris", ris.encode()))

    assert "1 paper is on your list." in response.content.decode()
    assert [seed.title for seed in ada.seed_papers.all()] == [SIMCSE[0], GRAPHS[0]]
    assert Interest.objects.filter(subscriber=ada, kind=Interest.Kind.LIKED).count() == 2


def test_removing_a_seeded_paper_removes_the_liked_paper_and_it_leaves_the_feedback_list_alone(
    client, catalogue, fake_model, django_capture_on_commit_callbacks
):
    ada = make_subscriber()
    with django_capture_on_commit_callbacks(execute=True):
        add_papers(client, ada, papers="2104.08821 1706.03762")
    page = client.get(path_of("manage", ada)).content.decode()
    assert "Papers you mark as “more like this”" in page, "seeded papers are listed under your papers, not feedback"

    seed = ada.seed_papers.get(arxiv_id="2104.08821")
    response = client.post(path_of("manage", ada).rstrip("/") + f"/papers/{seed.pk}/remove/", follow=True)

    assert f"Removed “{SIMCSE[0]}” from your papers." in unescape(response.content.decode())
    assert papers_section(response) == [f"Added Added as “{ATTENTION[0]}” line 1 Remove"]
    assert [i.paper.title for i in Interest.objects.filter(subscriber=ada, kind=Interest.Kind.LIKED)] == [ATTENTION[0]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"papers": "2104.08821\nmy favourite paper"}, "Please check line 2 (“my favourite paper”): this is neither"),
        ({"papers": "https://example.org/paper.pdf"}, "Please check line 1 (“https://example.org/paper.pdf”)"),
        ({"papers_file": ("notes.txt", b"Some notes about papers")}, "it is not a BibTeX (.bib), RIS (.ris) or CSL"),
        (
            {"papers_file": ("lib.json", b'[{"id": "a", "title": "Fine"}, {"id": "b"}]')},
            "CSL-JSON item 2 (“b”): it has no title",
        ),
        (
            {"papers_file": ("cut.ris", b"TY  - JOUR\nTI  - Cut off\n")},
            "RIS record 1 (line 1, “Cut off”): it has no “ER  - ” line",
        ),
        (
            {"papers_file": ("big.bib", b"@misc{a, title={x}}\n" + b"%" * 3000)},
            "That file is 2.9 KB; at most 2.0 KB fit.",
        ),
        (
            {"papers_file": ("all.bib", b"".join(b"@misc{k%d, title={T%d}}\n" % (n, n) for n in range(6)))},
            "Nothing was added from all.bib. The file: it holds 6 entries; at most 5 fit",
        ),
        (
            {"papers": " ".join(f"2401.{n:05d}" for n in range(6))},
            "That is too many papers: these are 6; at most 5 fit.",
        ),
        ({}, "Paste an arXiv id, link or DOI, or choose a file to upload."),
    ],
)
def test_bad_input_is_refused_with_what_and_where_and_nothing_is_saved(client, settings, catalogue, data, message):
    settings.SEED_MAX_PAPERS, settings.SEED_MAX_FILE_BYTES = 5, 2000
    ada = make_subscriber()
    if "papers_file" in data:
        name, content = data["papers_file"]
        data = {"papers_file": SimpleUploadedFile(name, content)}

    response = add_papers(client, ada, **data)

    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert not SeedPaper.objects.exists()
    assert catalogue.requests == []


def test_adding_papers_is_rate_limited_per_reader(client, settings, catalogue, fake_model):
    settings.SEED_RATE_PER_SUBSCRIBER = "2/h"
    ada = make_subscriber()
    for number in range(2):
        assert add_papers(client, ada, papers=f"2401.0000{number}").status_code == 200
    response = add_papers(client, ada, papers="2401.00009")
    assert response.status_code == 429
    assert ada.seed_papers.count() == 2
