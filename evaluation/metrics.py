"""Graded-relevance metrics for the judged set (grades 0, 1, 2)."""

import math


def dcg(grades):
    return sum((2**grade - 1) / math.log2(position + 2) for position, grade in enumerate(grades))


def ndcg_at(k, ranked_grades, all_grades):
    """DCG of the first k ranked papers over the DCG of the best possible order of all judged papers."""
    ideal = dcg(sorted(all_grades, reverse=True)[:k])
    return dcg(list(ranked_grades)[:k]) / ideal if ideal else 0.0


def precision_at(k, ranked_grades):
    """Share of the first k ranked papers judged relevant at all (grade 1 or 2); missing places count as misses."""
    return sum(1 for grade in list(ranked_grades)[:k] if grade > 0) / k
