"""Score our ranking and a BM25 baseline against a judged set (graded relevance 0/1/2).

A judged set is a JSON (or YAML) file: the `source` page or feed it was judged on (path relative to
the project, read with the project's own parsers) and `profiles`, each with a `style`
("literal": in the papers' own words, "paraphrased": in words the papers do not use), its
`interests` and `judgments` {paper title: grade} for every paper of the source.

Our side is exactly the production scoring (`digest.ranking.rank` with the settings'
weights, paper vectors of `Paper.embedding_text` and of the title), so a paper below the minimum score is a
paper the subscriber would not get, and counts as a miss. BM25 (rank-bm25, Okapi) reads
title + abstract and gets all of a profile's interests as one query.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings

from digest.ranking import Profile, Weights, rank
from digest.word_match import TextIndex
from evaluation.metrics import ndcg_at, precision_at
from papers import embeddings
from papers.models import Paper, normalise_title
from papers.parsers import parse

K = 5
JUDGED_DIR = Path(__file__).resolve().parent / "judged"


class JudgedSetError(ValueError):
    pass


@dataclass
class ProfileResult:
    name: str
    style: str
    interests: list
    ours: list  # grades of our top K, in order
    bm25: list
    grades: list  # every paper's grade

    def scores(self, side):
        ranked = getattr(self, side)
        return ndcg_at(K, ranked, self.grades), precision_at(K, ranked)


@dataclass
class Report:
    results: list = field(default_factory=list)

    def groups(self):
        """(label, results) rows: literal, paraphrased, two or more interests, overall."""
        rows = [
            ("literal", [r for r in self.results if r.style == "literal"]),
            ("paraphrased", [r for r in self.results if r.style == "paraphrased"]),
            ("two+ interests", [r for r in self.results if len(r.interests) > 1]),
            ("overall", self.results),
        ]
        return [(label, results) for label, results in rows if results]

    @staticmethod
    def mean(results, side):
        values = np.array([r.scores(side) for r in results])
        return tuple(values.mean(axis=0))


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
    location = Path(source) if Path(source).is_absolute() else Path(settings.BASE_DIR) / source
    parsed = parse(location.read_bytes())
    if parsed.error:
        raise JudgedSetError(f"{location}: {parsed.error}")
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


def evaluate(path, weights=None):
    """A Report for one judged set file."""
    from rank_bm25 import BM25Okapi

    data = load(path)
    papers = source_papers(data["source"])
    keys = [normalise_title(p.title) for p in papers]
    judgments = []
    for profile in data["profiles"]:
        judged = {normalise_title(title): grade for title, grade in profile["judgments"].items()}
        unknown = set(judged) - set(keys)
        if unknown:
            raise JudgedSetError(
                f"{path}: profile {profile['name']!r} judges papers not in the source: {sorted(unknown)[:3]}"
            )
        judgments.append(judged)
    weights = weights or Weights.from_settings()
    vectors = encode([p.embedding_text for p in papers])
    title_vectors = encode([p.title for p in papers])
    texts = [p.embedding_text for p in papers]
    text_index = TextIndex(texts, word_vectors=word_vectors)
    bm25 = BM25Okapi([tokens(text) for text in texts])
    report = Report()
    for profile, judged in zip(data["profiles"], judgments):
        grades = [int(judged.get(key, 0)) for key in keys]
        interests = profile["interests"]
        matches = rank(
            vectors,
            [Profile(positives=encode(interests), labels=interests, k=K)],
            weights=weights,
            text_index=text_index,
            title_vectors=title_vectors,
        )[0]
        lexical = bm25.get_scores(tokens(" ".join(interests)))
        report.results.append(
            ProfileResult(
                name=profile["name"],
                style=profile["style"],
                interests=interests,
                ours=[grades[m.index] for m in matches],
                bm25=[grades[i] for i in np.argsort(-lexical, kind="stable")[:K]],
                grades=grades,
            )
        )
    return report
