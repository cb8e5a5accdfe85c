"""Graded-relevance metrics for the judged sets (grades 0, 1, 2): order, and what a digest sends."""

import math
from collections.abc import Sequence
from dataclasses import dataclass


def dcg(grades):
    return sum((2**grade - 1) / math.log2(position + 2) for position, grade in enumerate(grades))


def ndcg_at(k, ranked_grades, all_grades):
    """DCG of the first k ranked papers over the DCG of the best possible order of all judged papers."""
    ideal = dcg(sorted(all_grades, reverse=True)[:k])
    return dcg(list(ranked_grades)[:k]) / ideal if ideal else 0.0


def precision_at(k, ranked_grades):
    """Share of the first k ranked papers judged relevant at all (grade 1 or 2); missing places count as misses."""
    return sum(1 for grade in list(ranked_grades)[:k] if grade > 0) / k


@dataclass(frozen=True)
class Sent:
    """What one digest sent (the grades of its papers, in the order shown) for one judged profile.

    `all_grades` grades every paper the digest could have sent; `size` is the digest size
    (papers_per_digest), so a profile with 14 grade-2 papers can find at most `size` of them.
    """

    grades: Sequence[int]
    all_grades: Sequence[int]
    size: int

    @property
    def junk(self) -> int:
        return sum(1 for grade in self.grades if grade == 0)

    @property
    def found(self) -> int:
        return sum(1 for grade in self.grades if grade == 2)

    @property
    def wanted(self) -> int:
        return min(sum(1 for grade in self.all_grades if grade == 2), self.size)


@dataclass(frozen=True)
class Summary:
    """Digests of many profiles in one row.

    ndcg/precision: the mean over profiles of NDCG@k and P@k of what was sent (a paper below
    the cut is a miss); junk: grade-0 papers over all papers sent (pooled, so an empty
    digest neither helps nor hurts it); recall: grade-2 papers sent over the grade-2 papers
    the digests could have held (pooled); empty: digests that sent nothing.
    """

    profiles: int
    ndcg: float
    precision: float
    junk: float
    recall: float
    empty: int
    sent: int

    @classmethod
    def of(cls, digests: Sequence[Sent], k: int = 5) -> "Summary":
        count = max(len(digests), 1)
        sent = sum(len(d.grades) for d in digests)
        wanted = sum(d.wanted for d in digests)
        return cls(
            profiles=len(digests),
            ndcg=sum(ndcg_at(k, d.grades, d.all_grades) for d in digests) / count,
            precision=sum(precision_at(k, d.grades) for d in digests) / count,
            junk=sum(d.junk for d in digests) / sent if sent else 0.0,
            recall=sum(d.found for d in digests) / wanted if wanted else 1.0,
            empty=sum(1 for d in digests if not d.grades),
            sent=sent,
        )

    def meets(self, max_junk: float, min_recall: float) -> bool:
        return self.junk <= max_junk and self.recall >= min_recall
