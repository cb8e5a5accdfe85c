"""Score what our digests send, and two baselines, against judged sets (graded relevance 0/1/2).

A judged set is a JSON (or YAML) file: the `source` page or feed it was judged on (path relative to
the project, read with the project's own parsers) and `profiles`, each with a `style`
("literal": in the papers' own words, "paraphrased": in words the papers do not use), its
`interests` and `judgments` {paper title: grade} for every paper of the source. A set with
`"held_out": true` is reported on its own and never tuned on.

Our side is exactly the production scoring (`digest.ranking.rank` with the settings'
weights, paper vectors of `Paper.embedding_text` and of the title) for a default digest
(DIGEST_DEFAULT_SIZE papers): what it *sends* is what passes the minimum score, and a paper
below it counts as a miss. Beside it: our order with no cut at all, BM25 (rank-bm25, Okapi,
title + abstract, all of a profile's interests as one query; it has no cut, so it always
sends a full digest) and plain cosine similarity with the single best threshold over the
tuning sets (`best_cut`). Every side is measured by `evaluation.metrics.Summary`: NDCG@5 and
P@5 of what is sent, junk share, grade-2 recall and empty digests.
"""

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from django.conf import settings

from digest.ranking import Profile, Weights, rank
from digest.word_match import TextIndex
from evaluation.metrics import Sent, Summary
from papers import embeddings
from papers.models import Paper, normalise_title
from papers.parsers import parse
from papers.parsers.tex import tex_to_text

K = 5
JUDGED_DIR = Path(__file__).resolve().parent / "judged"
# The target for what a default digest sends, over the tuning sets.
TARGET_JUNK = 0.20
TARGET_RECALL = 0.85
# The cuts tried on our score and on the plain cosine similarity (both run 0..1).
CUTS = tuple(round(float(cut), 2) for cut in np.arange(0.0, 1.0001, 0.02))

Progress = Callable[[str], object]


class JudgedSetError(ValueError):
    pass


@dataclass
class ProfileResult:
    """One judged profile: the grades of what each side ranks or sends, and every paper's grade."""

    name: str
    style: str
    interests: list
    grades: list  # every paper's grade, in the source's order
    size: int  # the digest size (DIGEST_DEFAULT_SIZE)
    sent: list  # grades of what our default digest sends, in the order shown
    ordered: list  # grades of our first `size` papers with no cut at all (order only)
    bm25: list  # grades of BM25's first `size` papers (it has no cut)
    ours_at: dict  # {cut: grades our digest sends with that minimum score}
    cosine: np.ndarray  # plain cosine similarity of every paper to the best of the interests

    def digest(self, side: str) -> Sent:
        return Sent(getattr(self, side), self.grades, self.size)

    def ours_digest(self, cut: float) -> Sent:
        return Sent(self.ours_at[cut], self.grades, self.size)

    def cosine_digest(self, cut: float | None) -> Sent:
        """The first `size` papers by plain cosine similarity, only those reaching `cut` (None: no cut)."""
        order = np.argsort(-self.cosine, kind="stable")[: self.size]
        kept = order if cut is None else order[self.cosine[order] >= cut - 1e-9]
        return Sent([self.grades[i] for i in kept], self.grades, self.size)


@dataclass
class SetReport:
    """The results of one judged set; `held_out` sets are never tuned on (see README.md here)."""

    path: Path
    held_out: bool
    min_score: float
    results: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    def groups(self):
        """(label, results) rows: literal, paraphrased, two or more interests, overall."""
        rows = [
            ("literal", [r for r in self.results if r.style == "literal"]),
            ("paraphrased", [r for r in self.results if r.style == "paraphrased"]),
            ("two+ interests", [r for r in self.results if len(r.interests) > 1]),
            ("overall", self.results),
        ]
        return [(label, results) for label, results in rows if results]


def summary(results, digest: Callable[[ProfileResult], Sent]) -> Summary:
    return Summary.of([digest(r) for r in results], K)


def frontier(results, digest_at: Callable[[ProfileResult, float], Sent]) -> list[tuple[float, Summary]]:
    """(cut, Summary) of the digests at every cut in CUTS."""
    return [(cut, Summary.of([digest_at(r, cut) for r in results], K)) for cut in CUTS]


def best_cut(results, digest_at: Callable[[ProfileResult, float], Sent]) -> tuple[float, Summary]:
    """The single cut that sends the least junk while keeping grade-2 recall at TARGET_RECALL
    (ties: the better sent NDCG@5); where no cut keeps that recall, the one with the best recall."""
    rows = frontier(results, digest_at)
    keeping = [row for row in rows if row[1].recall >= TARGET_RECALL]
    if keeping:
        return min(keeping, key=lambda row: (row[1].junk, -row[1].ndcg))
    return max(rows, key=lambda row: (row[1].recall, -row[1].junk))


def default_judged_sets():
    return sorted(p for p in JUDGED_DIR.iterdir() if p.suffix in {".json", ".yaml", ".yml"})


def _yaml_load(text):
    import yaml  # a development dependency, like this whole evaluation

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc


def load(path):
    path = Path(path)
    try:
        text = path.read_text()
        data = _yaml_load(text) if path.suffix in {".yaml", ".yml"} else json.loads(text)
    except (OSError, ValueError) as exc:
        raise JudgedSetError(f"{path}: cannot read the judged set: {exc}") from exc
    if not isinstance(data, dict):
        raise JudgedSetError(f"{path}: expected an object with 'source' and 'profiles'")
    for n, profile in enumerate(data.get("profiles", []), start=1):
        missing = {"name", "style", "interests", "judgments"} - set(profile)
        if missing:
            raise JudgedSetError(f"{path}: profile {n} lacks {', '.join(sorted(missing))}")
    if not data.get("profiles") or not data.get("source"):
        raise JudgedSetError(f"{path}: needs a 'source' and at least one profile")
    return data


def source_papers(source):
    """The papers of a judged set's source, read as ingest reads it: a feed cut off after some
    complete entries gives those entries (ingest stores them, as a partial run); only a source
    with no paper at all is refused."""
    location = Path(source) if Path(source).is_absolute() else Path(settings.BASE_DIR) / source
    parsed = parse(location.read_bytes())
    if not parsed.records:
        raise JudgedSetError(f"{location}: {parsed.error or 'no papers in the source'}")
    return [Paper(title=r.title, abstract=r.abstract) for r in parsed.records]


def tokens(text):
    return re.findall(r"\w+", text.lower())


_encoded: dict[tuple[str, str], np.ndarray] = {}


def encode(texts):
    """Vectors of `texts` from the configured model, each text embedded once per process: the
    judged sets share most words, and one run (or test session) evaluates them many times."""
    texts = list(texts)
    name = embeddings.model_name()
    missing = list(dict.fromkeys(text for text in texts if (name, text) not in _encoded))
    _encoded.update(((name, text), vector) for text, vector in zip(missing, embeddings.encode(missing)))
    if not texts:
        return np.zeros((0, embeddings.embedding_dim()), dtype=np.float32)
    return np.vstack([_encoded[name, text] for text in texts])


def word_vectors(words, embed_missing=False):
    """{word: vector} for the word match, like papers.embeddings.word_vectors but kept in memory."""
    words = sorted(set(words))
    return dict(zip(words, encode(words)))


def evaluate(path, weights=None, progress: Progress | None = None) -> SetReport:
    """A SetReport for one judged set file; `progress(message)` hears of each step."""
    from rank_bm25 import BM25Okapi

    path = Path(path)
    say = progress or (lambda message: None)
    data = load(path)
    papers = source_papers(data["source"])
    keys = [normalise_title(p.title) for p in papers]
    judgments = []
    for profile in data["profiles"]:
        # A title judged as the source writes it (Schr\"odinger) is read as ingest stores it (Schrödinger).
        judged = {normalise_title(tex_to_text(title)): grade for title, grade in profile["judgments"].items()}
        unknown = set(judged) - set(keys)
        if unknown:
            raise JudgedSetError(
                f"{path}: profile {profile['name']!r} judges papers not in the source: {sorted(unknown)[:3]}"
            )
        judgments.append(judged)
    weights = weights or Weights.from_settings()
    size = settings.DIGEST_DEFAULT_SIZE
    say(f"{path.name}: embedding {len(papers)} papers and their words")
    vectors = encode([p.embedding_text for p in papers])
    title_vectors = encode([p.title for p in papers])
    texts = [p.embedding_text for p in papers]
    text_index = TextIndex(texts, word_vectors=word_vectors)
    bm25 = BM25Okapi([tokens(text) for text in texts])
    report = SetReport(path=path, held_out=bool(data.get("held_out")), min_score=weights.min_score)

    def ours(interests, min_score, k=size):
        profile = Profile(positives=encode(interests), labels=interests, k=k)
        cut = replace(weights, min_score=min_score)
        return rank(vectors, [profile], weights=cut, text_index=text_index, title_vectors=title_vectors)[0]

    for number, (profile, judged) in enumerate(zip(data["profiles"], judgments), start=1):
        say(f"{path.name}: profile {number}/{len(judgments)} {profile['name']!r}")
        grades = [int(judged.get(key, 0)) for key in keys]
        interests = profile["interests"]
        lexical = bm25.get_scores(tokens(" ".join(interests)))
        report.results.append(
            ProfileResult(
                name=profile["name"],
                style=profile["style"],
                interests=interests,
                grades=grades,
                size=size,
                sent=[grades[m.index] for m in ours(interests, weights.min_score)],
                ordered=[grades[m.index] for m in ours(interests, -math.inf)],
                bm25=[grades[i] for i in np.argsort(-lexical, kind="stable")[:size]],
                ours_at={cut: [grades[m.index] for m in ours(interests, cut)] for cut in CUTS},
                cosine=(encode(interests) @ vectors.T).max(axis=0),
            )
        )
    return report
