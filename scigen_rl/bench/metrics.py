"""The per-figure metrics of ``scigen-rl bench``: a registry, each imported only when it is used.

A metric scores one figure into its :class:`~scigen_rl.records.Verdict`, says how its values aggregate
over a set of verdicts (overall, by subject, by image type: the keys it adds to ``summary.json``) and
which leaderboard columns show them. A new metric is one module with a :class:`FigureMetric` and one
line in :data:`FIGURE_METRICS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from statistics import mean
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..llm import CachedChat
    from ..records import Problem, Verdict

FIGURE_METRICS = {
    "rinv": "scigen_rl.bench.inverse:METRIC",
    "judge": "scigen_rl.bench.judge:METRIC",
    "paper_rinv": "scigen_rl.bench.paper_rinv:METRIC",
    "paper_judge": "scigen_rl.bench.paper_judge:METRIC",
}  # fmt: skip
"""Metric name: ``module:attribute`` of its FigureMetric. Chosen metrics score a figure in this order.
Every registered metric's summary keys are in every summary (None where a run did not score it); a
leaderboard shows the columns of the metrics one of its runs scored, in this order."""

IMAGE_METRICS = ("pixel", "spectral")
"""Set-level image metrics against the real figures (``scigen_rl.bench.pixel``), not per figure."""


def known_metrics() -> tuple[str, ...]:
    """Every name ``--metrics`` takes: the registered per-figure metrics, then the image metrics."""
    return (*FIGURE_METRICS, *IMAGE_METRICS)


@dataclass(frozen=True)
class FigureInput:
    """What a metric gets to score one figure."""

    problem: Problem
    png: bytes | None
    """The image's bytes; None when it is missing or cannot be read."""
    path: str | None
    """Where the image is (None when the generator made none)."""
    client: CachedChat | None
    """The vision model; None only when no chosen metric needs it (``needs_model``)."""
    grader: CachedChat | None = None
    """A text model that grades answers (``--grader-model``); None: the vision model grades."""
    paper_repo: str | None = None
    """A checkout of the paper's repository to read its prompts from (``--paper-repo``)."""


@dataclass(frozen=True)
class Column:
    """One leaderboard column: the summary key it shows and its header."""

    key: str
    header: str
    percent: bool = False
    """A share in [0, 1], shown as a percentage."""


class FigureMetric:
    """A per-figure metric. Subclasses set ``name`` and write ``score``; the defaults of the rest suit a
    metric with one number per figure, kept in ``verdict.extra["metrics"][name]`` by :meth:`record`."""

    name: str
    """Its key in FIGURE_METRICS and in ``--metrics``."""
    needs_model = True
    """Whether ``score`` calls the vision model; when no chosen metric does, none is contacted."""

    async def score(self, figure: FigureInput, verdict: Verdict) -> None:
        """Score one figure into ``verdict`` (the metrics chosen before this one have filled it already)."""
        raise NotImplementedError

    def failed_calls(self, verdict: Verdict) -> int:
        """Model calls of this metric that failed on this figure (after the client's retries). A figure
        with any is not a result: it is counted, left unscored, and scored again by the next run."""
        return 0

    def record(self, verdict: Verdict, value: float) -> None:
        """Keep this figure's value in its verdict (``items.jsonl``: ``extra.metrics.<name>``)."""
        verdict.extra.setdefault("metrics", {})[self.name] = value

    def value(self, verdict: Verdict) -> float | None:
        """The value :meth:`record` kept, or None."""
        value: float | None = (verdict.extra.get("metrics") or {}).get(self.name)
        return value

    def aggregate(self, verdicts: list[Verdict]) -> dict[str, Any]:
        """The summary keys this metric adds for a set of verdicts (None where nothing was scored)."""
        values = [v for v in map(self.value, verdicts) if v is not None]
        return {self.name: round(mean(values), 4) if values else None}

    def columns(self) -> tuple[Column, ...]:
        """Its columns in every leaderboard table (overall, by subject, by image type)."""
        return (Column(self.name, self.name),)

    def totals(self) -> tuple[Column, ...]:
        """Its columns in the overall table only, after every metric's columns."""
        return ()

    def model(self, figure: FigureInput) -> CachedChat:
        """The vision model, for a metric that calls it."""
        if figure.client is None:
            raise ValueError(f"bench metric {self.name!r} calls the model: set needs_model = True")
        return figure.client


def figure_metric(name: str) -> FigureMetric:
    """The registered metric of this name (its module is imported only now)."""
    if name not in FIGURE_METRICS:
        raise ValueError(f"unknown bench metric {name!r} (known: {', '.join(FIGURE_METRICS)})")
    module, attribute = FIGURE_METRICS[name].split(":")
    found: FigureMetric = getattr(importlib.import_module(module), attribute)
    return found


def figure_metrics(names: tuple[str, ...] | None = None) -> list[FigureMetric]:
    """The metrics named (default: all registered), in registry order; image metric names are skipped."""
    unknown = [n for n in names or () if n not in FIGURE_METRICS and n not in IMAGE_METRICS]
    if unknown:
        raise ValueError(f"unknown bench metrics {unknown} (known: {', '.join(known_metrics())})")
    return [figure_metric(n) for n in FIGURE_METRICS if names is None or n in names]
