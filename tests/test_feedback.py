"""Clicking 'more like this' / 'less like this' in a digest, undoing it, and what the next digest does."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from digest.models import Digest
from digest.planning import plan_digests
from digest.render import digest_message
from papers import embeddings
from subscriptions import signing
from subscriptions.models import Interest
from tests.factories import make_paper, make_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader():
    return make_subscriber("ada@example.org", interests=[])


@pytest.fixture
def paper():
    return make_paper("Protein folding with language models", "Protein language models predict folding.")


def feedback_path(reader, paper, choice):
    return signing.link("feedback", reader, p=paper.pk, c=choice).removeprefix("http://testserver")


def feedback_kinds(reader):
    return list(Interest.objects.filter(subscriber=reader, paper__isnull=False).values_list("kind", flat=True))


def test_opening_a_feedback_link_asks_with_one_button_and_records_nothing(client, reader, paper):
    for method in (client.get, client.head):
        assert method(feedback_path(reader, paper, "more")).status_code == 200

    page = client.get(feedback_path(reader, paper, "more")).content.decode()
    assert "More like this?" in page and "Protein folding with language models" in page
    assert page.count('<button type="submit"') == 1
    assert feedback_kinds(reader) == [], "a link checker opening the link changes nothing"


def test_more_like_this_records_a_liked_paper_and_confirms_it(client, reader, paper):
    response = client.post(feedback_path(reader, paper, "more"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "More like this" in page and "Protein folding with language models" in page
    assert "Undo" in page
    assert not re.search(r"/manage/[^/\"]+/", page), "the page hands out no manage link"
    assert "Email me a link to my settings" in page
    assert feedback_kinds(reader) == ["liked"]


def test_clicking_the_same_link_again_changes_nothing(client, reader, paper):
    client.post(feedback_path(reader, paper, "less"))
    response = client.post(feedback_path(reader, paper, "less"))

    assert "nothing changed" in response.content.decode()
    assert feedback_kinds(reader) == ["disliked"]


def test_the_latest_choice_wins_a_paper_is_never_both_liked_and_disliked(client, reader, paper):
    client.post(feedback_path(reader, paper, "more"))
    client.post(feedback_path(reader, paper, "less"))

    assert feedback_kinds(reader) == ["disliked"]


def test_undo_forgets_the_choice_and_offers_to_redo_it(client, reader, paper):
    path = feedback_path(reader, paper, "more")
    client.post(path)

    response = client.post(path, {"action": "undo"})

    assert response.status_code == 200
    assert "Undone" in response.content.decode()
    assert feedback_kinds(reader) == []


def test_a_tampered_link_changes_nothing_and_says_so(client, reader, paper):
    response = client.post(feedback_path(reader, paper, "more")[:-3] + "xx/")

    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert feedback_kinds(reader) == []


def test_a_link_for_another_purpose_is_not_a_feedback_link(client, reader, paper):
    manage_token = signing.make_token("manage", reader, p=paper.pk, c="more")

    assert client.post(f"/feedback/{manage_token}/").status_code == 400
    assert feedback_kinds(reader) == []


def test_a_link_to_a_paper_that_is_gone_explains_itself(client, reader, paper):
    path = feedback_path(reader, paper, "more")
    paper.delete()

    response = client.get(path)

    assert response.status_code == 404
    assert "no longer in our catalogue" in response.content.decode()


def test_the_less_like_this_link_in_a_digest_email_records_a_dislike_of_that_paper(client):
    from digest.models import DigestItem
    from tests.factories import embedded_papers

    embedded_papers()
    reader = make_subscriber("grace@example.org", interests=["protein structure prediction"])
    (digest_id,) = plan_digests([reader.pk], date(2026, 8, 7))
    body = digest_message(Digest.objects.get(pk=digest_id)).body
    first = DigestItem.objects.get(digest_id=digest_id, rank=1)

    link = re.search(r"Less like this: http://testserver(\S+)", body).group(1)
    response = client.post(link)

    assert response.status_code == 200 and first.paper.title in response.content.decode()
    assert list(Interest.objects.filter(subscriber=reader, paper__isnull=False).values_list("kind", "paper_id")) == [
        ("disliked", first.paper_id)
    ]


# --- What the next digest does with a click ---------------------------------------------------

YESTERDAY = date(2026, 8, 6)
TODAY = date(2026, 8, 7)

STRUCTURE = (
    "Accurate protein structure prediction from amino acid sequences",
    "We predict the three-dimensional structure of proteins from their amino acid sequence. "
    "Our network reaches atomic accuracy on held-out protein families.",
)
STRUCTURE_TWIN = (
    "Protein structure prediction from amino acid sequences at atomic accuracy",
    "From the amino acid sequence alone, our network predicts the three-dimensional structure of a "
    "protein, reaching atomic accuracy on held-out families.",
)
DIFFUSION = (
    "Predicting protein structures with diffusion models",
    "We generate protein backbones and predict their structure with a diffusion model trained on the "
    "Protein Data Bank.",
)
MEMBRANES = (
    "Coarse-grained molecular dynamics of membrane lipids",
    "We simulate lipid bilayers with a coarse-grained force field and learn the free energy of membrane bending.",
)
MEMBRANES_TOO = (
    "Learning coarse-grained force fields for lipid membranes",
    "A neural force field reproduces all-atom molecular dynamics of lipid bilayers and their bending free energy.",
)
FOLDING = (
    "Protein folding dynamics learned from molecular simulations",
    "Molecular dynamics simulations of protein folding are expensive. We learn a coarse model of folding "
    "pathways that reproduces the simulated free energy landscape of small proteins.",
)


def papers_of(day, *papers):
    """Papers first seen in the evening before `day`'s digest, embedded with the real model."""
    seen_at = timezone.make_aware(datetime.combine(day, time(6)) - timedelta(hours=10))
    made = [make_paper(title, abstract, seen_at=seen_at) for title, abstract in papers]
    embeddings.embed_papers(made)
    return made


def digest_of(reader, day):
    (digest_id,) = plan_digests([reader.pk], day, now=timezone.make_aware(datetime.combine(day, time(6))))
    return Digest.objects.get(pk=digest_id)


def click(client, digest, title, choice):
    """POST the 'More like this' / 'Less like this' link the digest email gives `title`."""
    body = digest_message(digest).body
    block = body[body.index(title) :]
    label = "More like this" if choice == "more" else "Less like this"
    link = re.search(rf"{label}: http://testserver(\S+)", block).group(1)
    assert client.post(link).status_code == 200


def titles_in(digest):
    return [item.paper.title for item in digest.items.select_related("paper").order_by("rank")]


def test_after_less_like_this_the_next_digest_no_longer_holds_that_papers_near_twin(client):
    reader = make_subscriber("grace@example.org", interests=["protein structure prediction"])
    papers_of(YESTERDAY, STRUCTURE)
    click(client, digest_of(reader, YESTERDAY), STRUCTURE[0], "less")

    papers_of(TODAY, STRUCTURE_TWIN, DIFFUSION)
    today = titles_in(digest_of(reader, TODAY))

    assert DIFFUSION[0] in today, "the rest of the field still comes"
    assert STRUCTURE_TWIN[0] not in today


def test_after_more_like_this_the_next_digest_holds_a_paper_like_it(client):
    clicker = make_subscriber("ada@example.org", interests=["computational biophysics"], papers_per_digest=1)
    other = make_subscriber("alan@example.org", interests=["computational biophysics"], papers_per_digest=1)
    papers_of(YESTERDAY, MEMBRANES)
    assert titles_in(digest_of(other, YESTERDAY)) == [MEMBRANES[0]]
    click(client, digest_of(clicker, YESTERDAY), MEMBRANES[0], "more")

    papers_of(TODAY, FOLDING, MEMBRANES_TOO)

    today = digest_of(clicker, TODAY)
    assert titles_in(today) == [MEMBRANES_TOO[0]]
    assert f"Why: like '{MEMBRANES[0]}', which you marked more like this" in digest_message(today).body
    assert titles_in(digest_of(other, TODAY)) == [FOLDING[0]], (
        "without the click, the paper closest to the interest comes"
    )
