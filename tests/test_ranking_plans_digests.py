"""Planning the day's digests: the right papers, explained, never repeated, in constant queries."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from digest.models import Digest, DigestItem
from digest.planning import plan_digests
from papers import embeddings
from subscriptions.models import Interest
from tests.factories import embedded_papers, make_paper, make_subscriber, titles_of

pytestmark = pytest.mark.django_db

TODAY = date(2026, 8, 7)


def items_of(digest_id):
    return list(DigestItem.objects.filter(digest_id=digest_id).select_related("paper").order_by("rank"))


def test_a_reader_of_two_far_apart_fields_gets_the_best_papers_of_each_with_the_reason():
    embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein structure prediction", "compiler optimisation"])

    (digest_id,) = plan_digests([reader.pk], TODAY)

    items = items_of(digest_id)
    titles = {item.paper.title: item.matched for item in items}
    assert {t for t in titles if titles[t] == "protein structure prediction"} == set(titles_of("proteins"))
    assert {t for t in titles if titles[t] == "compiler optimisation"} == set(titles_of("compilers"))
    assert not set(titles_of("astronomy")) & set(titles)
    assert [item.rank for item in items] == list(range(1, len(items) + 1))
    assert all(items[i].score >= items[i + 1].score for i in range(len(items) - 1))
    most = 1 + settings.RANKING["WORD_MATCH_WEIGHT"]  # similarity + word match
    assert all(item.matched_kind == "topic" and 0.25 <= item.score <= most for item in items)


def test_planning_twice_for_the_same_day_creates_nothing_new():
    embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein folding"])

    first = plan_digests([reader.pk], TODAY)
    second = plan_digests([reader.pk], TODAY)

    assert len(first) == 1 and second == []
    assert Digest.objects.count() == 1
    assert DigestItem.objects.count() == len(items_of(first[0]))


def test_a_paper_is_never_offered_twice_and_a_day_without_ingest_is_covered_next_time():
    now = timezone.now()
    embedded_papers(seen_at=now - timedelta(hours=30))  # before the first digest's one-day window
    reader = make_subscriber("ada@example.org", interests=["protein folding"])
    old = make_paper(
        "Protein folding with language models",
        "Protein language models predict folding.",
        seen_at=now - timedelta(hours=3),
    )
    from papers.embeddings import embed_papers

    embed_papers([old])
    (first,) = plan_digests([reader.pk], TODAY, now=now)
    Digest.objects.filter(pk=first).update(status=Digest.Status.SENT)

    # No ingest on the next day: nothing new, so the digest is skipped and the window moves on.
    assert plan_digests([reader.pk], TODAY + timedelta(days=1), now=now + timedelta(days=1)) == []
    assert Digest.objects.get(issue_date=TODAY + timedelta(days=1)).status == Digest.Status.SKIPPED

    # Papers that arrived the day after are in the third digest; the first digest's are not.
    later = make_paper(
        "Protein folding pathways from cryo-EM maps",
        "Folding intermediates of proteins in cryo-EM.",
        seen_at=now + timedelta(days=1, hours=2),
    )
    embed_papers([later])
    (third,) = plan_digests([reader.pk], TODAY + timedelta(days=2), now=now + timedelta(days=2))

    assert [item.paper.title for item in items_of(first)] == ["Protein folding with language models"]
    assert [item.paper.title for item in items_of(third)] == ["Protein folding pathways from cryo-EM maps"]


def test_a_first_weekly_digest_looks_back_a_week_and_a_daily_one_a_day():
    now = timezone.now()
    make_paper("Protein folding four days ago", "Proteins fold.", seen_at=now - timedelta(days=4))
    make_paper("Protein folding this morning", "Proteins fold quickly.", seen_at=now - timedelta(hours=3))
    from papers.embeddings import embed_pending

    embed_pending()
    daily = make_subscriber("daily@example.org", interests=["protein folding"])
    weekly = make_subscriber("weekly@example.org", interests=["protein folding"], frequency="weekly")

    plan_digests([daily.pk, weekly.pk], TODAY, now=now)

    def titles(subscriber):
        return {
            item.paper.title
            for item in DigestItem.objects.filter(digest__subscriber=subscriber).select_related("paper")
        }

    assert titles(daily) == {"Protein folding this morning"}
    assert titles(weekly) == {"Protein folding four days ago", "Protein folding this morning"}


def test_a_failed_digest_does_not_swallow_its_papers():
    embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein folding"])
    (first,) = plan_digests([reader.pk], TODAY)
    Digest.objects.filter(pk=first).update(status=Digest.Status.FAILED)

    (second,) = plan_digests([reader.pk], TODAY + timedelta(days=1), now=timezone.now() + timedelta(hours=1))

    assert {i.paper_id for i in items_of(second)} == {i.paper_id for i in items_of(first)}


def test_nothing_relevant_skips_the_digest_unless_the_reader_wants_an_empty_one():
    embedded_papers()
    skipper = make_subscriber("skip@example.org", interests=["medieval poetry and troubadour songs"])
    keeper = make_subscriber("keep@example.org", interests=["medieval poetry and troubadour songs"], skip_empty=False)

    planned = plan_digests([skipper.pk, keeper.pk], TODAY)

    assert Digest.objects.get(subscriber=skipper).status == Digest.Status.SKIPPED
    assert planned == [Digest.objects.get(subscriber=keeper).pk]
    assert not DigestItem.objects.exists()


def test_papers_the_reader_liked_or_disliked_are_never_sent_back_and_excluded_words_remove_papers():
    papers = embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein folding", "compilers"])
    liked = papers["Register allocation by graph colouring in a just-in-time compiler"]
    disliked = papers["Protein folding dynamics learned from molecular simulations"]
    Interest.objects.create(subscriber=reader, kind=Interest.Kind.LIKED, paper=liked)
    Interest.objects.create(subscriber=reader, kind=Interest.Kind.DISLIKED, paper=disliked)
    Interest.objects.create(subscriber=reader, kind=Interest.Kind.EXCLUDE, text="vectorisation")

    (digest_id,) = plan_digests([reader.pk], TODAY)

    titles = [item.paper.title for item in items_of(digest_id)]
    assert titles == ["Accurate protein structure prediction from amino acid sequences"]
    assert "Learning loop optimisation passes for an optimising compiler" not in titles  # mentions vectorisation


def test_subscribers_who_are_not_active_get_no_digest():
    embedded_papers()
    paused = make_subscriber("paused@example.org", interests=["protein folding"], status="paused")

    assert plan_digests([paused.pk], TODAY) == []
    assert not Digest.objects.exists()


def test_the_number_of_queries_does_not_grow_with_the_number_of_subscribers(settings):
    embedded_papers()
    few = [make_subscriber(f"few{n}@example.org", interests=["protein folding", "compilers"]).pk for n in range(2)]
    many = [make_subscriber(f"many{n}@example.org", interests=["protein folding", "compilers"]).pk for n in range(12)]
    for pk in few + many:
        Interest.objects.create(subscriber_id=pk, kind=Interest.Kind.EXCLUDE, text="telescope")

    with CaptureQueriesContext(connection) as for_few:
        plan_digests(few, TODAY)
    with CaptureQueriesContext(connection) as for_many:
        plan_digests(many, TODAY)

    assert len(for_many) == len(for_few)
    assert Digest.objects.count() == 14


def test_each_chunk_costs_the_same_fixed_number_of_queries(settings):
    embedded_papers()
    readers = [make_subscriber(f"r{n}@example.org", interests=["protein folding"]).pk for n in range(7)]
    settings.RANKING = {**settings.RANKING, "CHUNK_SIZE": 2}

    with CaptureQueriesContext(connection) as three_chunks:
        plan_digests(readers[:6], TODAY)
    with CaptureQueriesContext(connection) as one_chunk:
        plan_digests(readers[6:], TODAY)

    # Each chunk costs a fixed number of queries (the candidates are loaded once per run).
    per_later_chunk = (len(three_chunks) - len(one_chunk)) / 2
    assert 0 < per_later_chunk <= len(one_chunk)
    assert per_later_chunk == int(per_later_chunk)


def test_the_calls_of_one_run_load_the_candidates_and_their_word_index_once():
    embedded_papers()
    readers = [make_subscriber(f"r{n}@example.org", interests=["protein structure prediction"]).pk for n in range(3)]
    now, shared = timezone.now(), {}

    with CaptureQueriesContext(connection) as first:
        plan_digests(readers[:1], TODAY, now=now, candidate_sets=shared)
    with CaptureQueriesContext(connection) as later:
        plan_digests(readers[1:], TODAY, now=now, candidate_sets=shared)

    assert len(shared) == 1 and len(later) < len(first)
    assert all(DigestItem.objects.filter(digest__subscriber_id=pk).exists() for pk in readers)


def test_with_an_upvote_weight_the_community_favourite_rises_among_relevant_papers(settings):
    from papers.models import Appearance, Source

    papers = embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein folding"])
    plain = make_subscriber("bob@example.org", interests=["protein folding"])
    favourite = papers["Accurate protein structure prediction from amino acid sequences"]
    source = Source.objects.create(name="daily page", location="page.txt")
    Appearance.objects.create(paper=favourite, source=source, listed_on=TODAY, upvotes=300)
    plan_digests([plain.pk], TODAY)
    settings.RANKING = {**settings.RANKING, "UPVOTE_WEIGHT": 0.2}

    (digest_id,) = plan_digests([reader.pk], TODAY)

    plain_order = [i.paper_id for i in DigestItem.objects.filter(digest__subscriber=plain).order_by("rank")]
    assert plain_order[0] != favourite.pk
    assert items_of(digest_id)[0].paper == favourite
    assert {i.paper_id for i in items_of(digest_id)} == set(plain_order)


def test_interests_embedded_by_an_older_model_are_embedded_again_before_ranking():
    embedded_papers()
    reader = make_subscriber("ada@example.org", interests=["protein folding"])
    Interest.objects.filter(subscriber=reader).update(embedding=b"\x00" * 16, embedding_model="an-old-model")

    (digest_id,) = plan_digests([reader.pk], TODAY)

    interest = Interest.objects.get(subscriber=reader)
    assert interest.embedding_model != "an-old-model" and len(bytes(interest.embedding)) > 16
    assert items_of(digest_id)[0].matched == "protein folding"


def test_a_day_with_no_papers_at_all_skips_quietly():
    reader = make_subscriber("ada@example.org", interests=["protein folding"])
    no_interests = make_subscriber("bob@example.org", interests=[], skip_empty=False)

    planned = plan_digests([reader.pk, no_interests.pk], TODAY)

    assert Digest.objects.get(subscriber=reader).status == Digest.Status.SKIPPED
    assert planned == [Digest.objects.get(subscriber=no_interests).pk]


def test_a_paper_not_yet_embedded_at_planning_time_is_offered_in_the_next_digest():
    from papers.embeddings import embed_papers

    now = timezone.now()
    reader = make_subscriber("ada@example.org", interests=["protein folding"])
    ready = make_paper(
        "Protein folding with language models",
        "Protein language models predict folding.",
        seen_at=now - timedelta(hours=3),
    )
    late = make_paper(
        "Protein folding pathways from cryo-EM maps",
        "Folding intermediates of proteins in cryo-EM.",
        seen_at=now - timedelta(hours=2),
    )
    embed_papers([ready])
    (first,) = plan_digests([reader.pk], TODAY, now=now)
    Digest.objects.filter(pk=first).update(status=Digest.Status.SENT)

    embed_papers([late])
    (second,) = plan_digests([reader.pk], TODAY + timedelta(days=1), now=now + timedelta(days=1))

    assert [item.paper for item in items_of(first)] == [ready]
    assert [item.paper for item in items_of(second)] == [late]


def test_a_broken_interest_vector_is_left_out_and_everyone_else_is_planned(caplog):
    embedded_papers()
    broken = make_subscriber("broken@example.org", interests=["protein folding", "compiler optimisation"])
    fine = make_subscriber("fine@example.org", interests=["protein folding"])
    Interest.objects.filter(subscriber=broken, text="compiler optimisation").update(
        embedding=b"\x00" * 16,  # stored as current, but not a vector of this model
        embedding_model=embeddings.model_name(),
        embedding_hash=embeddings.text_hash("compiler optimisation"),
    )

    planned = plan_digests([broken.pk, fine.pk], TODAY)

    assert len(planned) == 2
    broken_items = DigestItem.objects.filter(digest__subscriber=broken)
    assert {item.matched for item in broken_items} == {"protein folding"}
    assert "has 4 dimensions, the papers' 384; left out" in caplog.text
