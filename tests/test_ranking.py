"""The scoring a subscriber experiences, checked with hand-made vectors (no database, no model)."""

from dataclasses import replace

import numpy as np
import pytest

from digest.ranking import Profile, Weights, rank
from digest.word_match import TextIndex

DIM = 8


def unit(*components):
    vector = np.zeros(DIM, dtype=np.float32)
    for axis, value in enumerate(components):
        vector[axis] = value
    return vector / np.linalg.norm(vector)


# Two far-apart fields (axes 0 and 1) and a paper halfway between them.
PROTEINS = unit(1, 0)
COMPILERS = unit(0, 1)
PROTEIN_PAPER = unit(1, 0.1)
COMPILER_PAPER = unit(0.1, 1)
HALFWAY_PAPER = unit(1, 1)
UNRELATED_PAPER = unit(0, 0, 1)

OPEN = Weights.from_settings(min_score=-1.0, dislike_penalty=0.5, dislike_margin=0.35, upvote_weight=0.0, diversity=0.0)


def ranked(candidates, profile, weights=OPEN, **kwargs):
    return rank(np.vstack(candidates), [profile], weights=weights, **kwargs)[0]


def test_two_far_apart_interests_each_get_their_best_papers_not_the_blurred_middle():
    profile = Profile(positives=np.vstack([PROTEINS, COMPILERS]), labels=["proteins", "compilers"], k=2)

    matches = ranked([HALFWAY_PAPER, PROTEIN_PAPER, UNRELATED_PAPER, COMPILER_PAPER], profile)

    assert sorted(m.index for m in matches) == [1, 3]
    assert {m.index: m.matched for m in matches} == {1: "proteins", 3: "compilers"}


def test_an_interest_whose_papers_score_lower_is_not_crowded_out_by_another():
    strong = [unit(1, 0.05 * n) for n in range(1, 4)]  # similarities around 0.99 to PROTEINS
    weak = unit(0.6, 0.8, 0.0, 1.2)  # the best compiler paper, but only 0.56 similar
    profile = Profile(positives=np.vstack([PROTEINS, COMPILERS]), labels=["proteins", "compilers"], k=3)

    every = ranked([*strong, weak], profile)
    plain = ranked([*strong, weak], profile, weights=Weights.from_settings(min_score=-1, every_interest=False))

    assert [m.index for m in plain] == [0, 1, 2]
    assert sorted(m.index for m in every) == [0, 1, 3]
    assert [m.matched for m in every] == ["proteins", "proteins", "compilers"]  # still listed by score


def test_every_match_says_which_interest_matched_and_how_well():
    profile = Profile(
        positives=np.vstack([PROTEINS, COMPILERS]), labels=["proteins", "compilers"], kinds=["topic", "liked"]
    )

    best = ranked([COMPILER_PAPER], profile)[0]

    assert best.matched == "compilers" and best.matched_kind == "liked"
    assert best.score == pytest.approx(float(COMPILER_PAPER @ COMPILERS), abs=1e-5)
    assert best.similarity == pytest.approx(best.score) and best.penalty == 0 and best.trending == 0


def test_papers_close_to_a_disliked_paper_sink_and_loosely_related_ones_do_not():
    close_to_disliked = unit(1, 0.3)
    profile = Profile(positives=PROTEINS[None], labels=["proteins"], negatives=close_to_disliked[None], k=3)

    matches = ranked([close_to_disliked, PROTEIN_PAPER, unit(0, 1)], profile)

    assert matches[0].index == 1
    sunk = next(m for m in matches if m.index == 0)
    assert sunk.penalty == pytest.approx(0.5)  # identical to the disliked paper: the full penalty
    untouched = next(m for m in matches if m.index == 2)
    assert untouched.penalty == 0  # similarity 0.3 to the disliked paper is below the margin


def test_an_excluded_keyword_removes_the_paper_whatever_its_score():
    profile = Profile(positives=PROTEINS[None], labels=["proteins"], excluded=["Survey"], k=5)
    texts = ["A survey of protein folding", "Protein design with diffusion", "Surveying is not a survey-free word"]

    matches = ranked([PROTEIN_PAPER, PROTEIN_PAPER, PROTEIN_PAPER], profile, text_index=TextIndex(texts))

    assert [m.index for m in matches] == [1]


def test_a_paper_whose_title_says_the_interest_is_found_even_when_its_abstract_wanders_off():
    profile = Profile(positives=PROTEINS[None], labels=["proteins"], k=1)
    wandering = unit(0.5, 0, 1)  # its abstract is mostly about something else
    middling = unit(1, 0, 0.9)
    titles = np.vstack([unit(1, 0.05), middling])

    with_titles = ranked([wandering, middling], profile, title_vectors=titles)
    without = ranked(
        [wandering, middling],
        profile,
        title_vectors=titles,
        weights=Weights.from_settings(min_score=-1, title_match=False),
    )

    assert [m.index for m in with_titles] == [0] and with_titles[0].similarity > 0.99
    assert [m.index for m in without] == [1]


def test_the_words_of_an_interest_lift_the_papers_that_use_them_over_ones_that_only_sound_alike():
    profile = Profile(positives=PROTEINS[None], labels=["speculative decoding"], k=2)
    texts = ["Faster generation with small draft models", "Speculative decoding for fast LLM inference"]

    matches = ranked([PROTEIN_PAPER, PROTEIN_PAPER], profile, text_index=TextIndex(texts))

    assert [m.index for m in matches] == [1, 0]
    assert matches[0].word_match > 0.1 and matches[1].word_match == 0
    assert matches[0].score == pytest.approx(matches[0].similarity + matches[0].word_match)
    assert matches[0].similarity == pytest.approx(matches[1].similarity)


def test_words_shared_only_by_chance_add_next_to_nothing():
    texts = ["Proteins and ligands", "Compilers and linkers", "Troubadour songs of medieval Provence"] * 3
    exact_words = TextIndex(texts).word_matcher(related=1.0)

    scores = exact_words.scores(["medieval poetry and troubadour songs", "nothing here at all"])

    assert scores[0, :2].max() < 0.1 and scores[0, 2] > 0.4
    assert not scores[1].any()


def test_a_word_also_matches_the_papers_words_nearest_to_it_in_meaning():
    texts = ["Images from text prompts", "Protein folding at scale", "Compilers for images of memory"]
    meaning = {"pictures": unit(1, 0.4), "images": unit(1, 0.3), "from": unit(0, 0, 1), "text": unit(0, 1)}
    index = TextIndex(texts, word_vectors=lambda words, **_: {w: meaning.get(w, unit(0, 0, 0, 1)) for w in words})

    related = index.word_matcher(related=0.65).scores(["pictures"])[0]
    exact = index.word_matcher(related=1.0).scores(["pictures"])[0]

    assert related[0] > 0.1 and related[2] > 0.1 and related[1] == 0  # both papers that say "images"
    assert not exact.any()


def test_nothing_below_the_minimum_score_is_offered():
    profile = Profile(positives=PROTEINS[None], labels=["proteins"], k=5)

    matches = ranked([PROTEIN_PAPER, UNRELATED_PAPER], profile, weights=Weights.from_settings(min_score=0.5))

    assert [m.index for m in matches] == [0]


def test_a_subscribers_own_minimum_overrides_the_site_default():
    profile = Profile(positives=PROTEINS[None], labels=["proteins"], min_score=0.999, k=5)

    assert ranked([PROTEIN_PAPER], profile, weights=Weights.from_settings(min_score=0.1)) == []


def test_upvotes_reorder_relevant_papers_but_never_lift_an_irrelevant_one():
    slightly_better, slightly_worse = unit(1, 0.05), unit(1, 0.1)
    profile = Profile(positives=PROTEINS[None], labels=["proteins"], k=5)
    weights = Weights.from_settings(min_score=0.5, upvote_weight=0.1)

    matches = ranked(
        [slightly_better, slightly_worse, UNRELATED_PAPER], profile, weights=weights, upvotes=[None, 500, 10_000]
    )

    assert [m.index for m in matches] == [1, 0]
    assert matches[0].trending > 0


def test_the_diversity_step_keeps_near_duplicates_from_crowding_the_digest():
    twin_a, twin_b, other = unit(1, 0.1), unit(1, 0.11), unit(1, -0.3)
    profile = Profile(positives=PROTEINS[None], labels=["proteins"], k=2)

    plain = ranked([twin_a, twin_b, other], profile)
    diverse = ranked([twin_a, twin_b, other], profile, weights=Weights.from_settings(min_score=-1, diversity=1.0))

    assert [m.index for m in plain] == [0, 1]
    assert [m.index for m in diverse] == [0, 2]


def test_the_diversity_step_picks_the_same_with_and_without_the_precomputed_similarities(monkeypatch):
    rng = np.random.default_rng(3)
    candidates = rng.standard_normal((40, DIM)).astype(np.float32)
    candidates /= np.linalg.norm(candidates, axis=1, keepdims=True)
    profiles = [Profile(positives=candidates[i : i + 2], labels=["a", "b"], k=6) for i in range(5)]
    weights = Weights.from_settings(min_score=-1, diversity=0.4)

    with_gram = rank(candidates, profiles, weights=weights)
    monkeypatch.setattr("digest.ranking.GRAM_LIMIT", 0)
    without = rank(candidates, profiles, weights=weights)

    assert [[m.index for m in r] for r in with_gram] == [[m.index for m in r] for r in without]


def test_only_eligible_candidates_are_ranked_for_a_subscriber():
    profile = Profile(positives=PROTEINS[None], labels=["proteins"], eligible=np.array([False, True]), k=5)

    assert [m.index for m in ranked([PROTEIN_PAPER, COMPILER_PAPER], profile)] == [1]


def test_a_subscriber_without_interests_gets_nothing_and_the_others_are_unaffected():
    empty = Profile(positives=np.zeros((0, DIM), np.float32), labels=[])
    profile = Profile(positives=PROTEINS[None], labels=["proteins"], k=1)

    results = rank(np.vstack([PROTEIN_PAPER]), [empty, profile], weights=OPEN)

    assert results[0] == [] and [m.index for m in results[1]] == [0]


def test_ranking_in_small_chunks_gives_the_same_answer_as_one_big_chunk():
    rng = np.random.default_rng(7)
    candidates = rng.standard_normal((60, DIM)).astype(np.float32)
    candidates /= np.linalg.norm(candidates, axis=1, keepdims=True)
    profiles = []
    for n in range(25):
        positives = rng.standard_normal((1 + n % 4, DIM)).astype(np.float32)
        positives /= np.linalg.norm(positives, axis=1, keepdims=True)
        negatives = positives[:1] * -1 if n % 3 == 0 else None
        profiles.append(
            Profile(
                positives=positives, labels=[f"interest {i}" for i in range(len(positives))], negatives=negatives, k=5
            )
        )

    big = rank(candidates, profiles, weights=Weights.from_settings(min_score=0.0, chunk_size=1000))
    small = rank(candidates, profiles, weights=Weights.from_settings(min_score=0.0, chunk_size=4))

    assert [[(m.index, m.matched) for m in r] for r in big] == [[(m.index, m.matched) for m in r] for r in small]
    assert all(r[i].score >= r[i + 1].score for r in big for i in range(len(r) - 1))


def test_the_weights_are_the_settings_with_a_caller_s_overrides_on_top(settings):
    settings.RANKING = {**settings.RANKING, "MIN_SCORE": 0.4, "DIVERSITY": 0.2}

    assert (Weights.from_settings().min_score, Weights.from_settings().diversity) == (0.4, 0.2)
    assert Weights.from_settings(min_score=0.1).min_score == 0.1


def test_excluded_keywords_match_whole_words_and_phrases_in_any_case():
    texts = [
        "A Survey of Diffusion Models",
        "Surveying the sky with radio telescopes",
        "Large  language\nmodels reason",
        "Compilers for C++ templates",
        "Language models, briefly",
    ]
    index = TextIndex(texts)

    assert index.mask(["survey"]).tolist() == [True, False, False, False, False]
    assert index.mask(["large language models"]).tolist() == [False, False, True, False, False]
    assert index.mask(["C++"]).tolist() == [False, False, False, True, False]
    assert index.mask(["  DIFFUSION ", "briefly"]).tolist() == [True, False, False, False, True]
    assert index.mask(["", "absent"]).tolist() == [False] * 5


def test_a_liked_paper_moves_the_interest_nearest_to_it_and_leaves_the_other_alone():
    liked = unit(1, 0, 1)  # a protein paper with a twist (axis 2)
    profile = Profile(
        positives=np.vstack([PROTEINS, COMPILERS]),
        labels=["proteins", "compilers"],
        liked=liked[None],
        liked_ids=[7],
        liked_labels=["A twisted protein paper"],
        k=4,
    )
    twisted, plain_protein = unit(0.6, 0, 1), PROTEIN_PAPER

    before = {m.index: m for m in ranked([twisted, plain_protein, COMPILER_PAPER], replace(profile, liked=None))}
    after = {m.index: m for m in ranked([twisted, plain_protein, COMPILER_PAPER], profile)}

    assert after[0].similarity > before[0].similarity + 0.1, "papers like the liked one come closer"
    assert after[0].matched == "proteins" and after[0].because_of_id == 7
    assert after[0].because_of_title == "A twisted protein paper"
    assert after[2].similarity == pytest.approx(before[2].similarity), "the other interest did not move"
    assert after[1].because_of_id is None, "a paper the feedback did not bring closer is not put down to it"


def test_a_near_twin_of_a_disliked_paper_is_not_sent_and_the_rest_of_the_field_is():
    disliked = unit(1, 0.2)
    profile = Profile(positives=PROTEINS[None], labels=["proteins"], disliked=disliked[None], k=3)

    matches = ranked([unit(1, 0.21), unit(1, -0.6), COMPILER_PAPER], profile)

    assert [m.index for m in matches][:1] == [1] and 0 not in {m.index for m in matches}
