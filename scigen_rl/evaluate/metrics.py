"""Scores over k samples per problem: AVG@k, pass@k, maj@k, and a bootstrap confidence interval."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence


def avg_at_k(correct: Sequence[Sequence[bool]]) -> float:
    """Mean over problems of the mean correctness of their samples (= mean of all judgments when
    every problem has k samples).

    >>> avg_at_k([[True, False, True, True], [False, False, False, False]])
    0.375
    """
    if not correct:
        raise ValueError("no problems to average")
    return sum(sum(c) / len(c) for c in correct) / len(correct)


def pass_at_k(correct: Sequence[Sequence[bool]]) -> float:
    """Share of problems with at least one correct sample among their k.

    >>> pass_at_k([[True, False], [False, False]])
    0.5
    """
    return sum(any(c) for c in correct) / len(correct)


def maj_at_k(answers: Sequence[Sequence[str | None]], correct: Sequence[Sequence[bool]]) -> float:
    """Share of problems whose most frequent extracted answer is a correct one (ties: the answer
    seen first; samples with no answer do not vote).

    >>> maj_at_k([["4", "4", "5", None]], [[True, True, False, False]])
    1.0
    >>> maj_at_k([["5", "4", "5", "4"]], [[False, True, False, True]])
    0.0
    """
    hits = 0
    for a, c in zip(answers, correct, strict=True):
        votes = Counter(x for x in a if x is not None)
        if not votes:
            continue
        top = max(votes.values())
        winner = next(x for x in a if x is not None and votes[x] == top)
        hits += any(ok for x, ok in zip(a, c, strict=True) if x == winner)
    return hits / len(answers)


def bootstrap_ci(
    correct: Sequence[Sequence[bool]], samples: int = 2000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of AVG@k, resampling problems (their k samples stay together).

    >>> lo, hi = bootstrap_ci([[True] * 4] * 50 + [[False] * 4] * 50)
    >>> 0.38 < lo < 0.5 < hi < 0.62
    True
    """
    rng = random.Random(seed)
    means = [sum(c) / len(c) for c in correct]
    n = len(means)
    stats = sorted(sum(means[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    lo = stats[int((1 - level) / 2 * samples)]
    hi = stats[min(samples - 1, int((1 + level) / 2 * samples))]
    return lo, hi
