"""How curation agrees with a source's own annotations (SciGenBench's): run ``curate`` on annotated
problems and judge the model before curating at scale.

Written when the source problems carry an image type: ``agreement.json``, ``agreement.md`` and
``agreement_confusion.png`` (rows: the source's type, columns: the model's; subjects and types in the
taxonomy's order).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from statistics import mean
from typing import Any

from scigen_rl.records import Problem, write_atomic
from scigen_rl.taxonomy import IMAGE_TYPES

from .curate_checks import evidence_found


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def agreement(problems: list[Problem], records: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Type and subject accuracy, the confusions, kept share, element and quiz counts and the evidence
    verbatim rate, the model's beside the source's; None when the source has no image types."""
    annotated = [p for p in problems if p.image_type and p.id in records]
    if not annotated:
        return None
    kept = [(p, records[p.id]["problem"]) for p in annotated if records[p.id]["status"] == "kept"]
    pairs: Counter[tuple[str, str]] = Counter((str(p.image_type), str(c["image_type"])) for p, c in kept)
    ours_quizzes = [q for _, c in kept for q in c["quizzes"]]
    theirs_quizzes = [(p, q) for p, _ in kept for q in p.quizzes]
    return {
        "annotated": len(annotated),
        "kept": len(kept),
        "kept_share": _share(len(kept), len(annotated)),
        "dropped": dict(
            Counter(records[p.id]["reason"] for p in annotated if records[p.id]["status"] != "kept")
        ),
        "type_accuracy": _share(sum(n for (a, b), n in pairs.items() if a == b), len(kept)),
        "subject_accuracy": _share(
            sum(n for (a, b), n in pairs.items() if a.split(" - ")[0] == b.split(" - ")[0]), len(kept)
        ),
        "confusions": [{"source": a, "model": b, "count": n} for (a, b), n in pairs.most_common() if a != b],
        "per_type": {
            t: {"problems": sum(n for (a, _), n in pairs.items() if a == t), "right": pairs.get((t, t), 0)}
            for t in IMAGE_TYPES
            if any(a == t for a, _ in pairs)
        },  # fmt: skip
        "elements_mean": {
            "model": _mean([len(c["elements"]) for _, c in kept]),
            "source": _mean([len(p.elements) for p, _ in kept]),
        },  # fmt: skip
        "quizzes_mean": {
            "model": _mean([len(c["quizzes"]) for _, c in kept]),
            "source": _mean([len(p.quizzes) for p, _ in kept]),
        },  # fmt: skip
        "evidence_verbatim": {
            "model": _share(
                sum(
                    evidence_found(q["evidence_snippet"], p.question) for (p, c) in kept for q in c["quizzes"]
                ),
                len(ours_quizzes),
            ),
            "source": _share(
                sum(
                    bool(q.evidence_snippet) and evidence_found(q.evidence_snippet or "", p.question)
                    for p, q in theirs_quizzes
                ),
                len(theirs_quizzes),
            ),
        },  # fmt: skip
        "matrix": {f"{a} -> {b}": n for (a, b), n in sorted(pairs.items())},
    }


def _mean(values: list[int]) -> float | None:
    return round(mean(values), 2) if values else None


def write_agreement(report: dict[str, Any], run: Path) -> list[str]:
    """agreement.json, agreement.md and the confusion matrix plot; returns the file names."""
    import json

    write_atomic(run / "agreement.json", json.dumps(report, indent=2))
    lines = [
        "# Curation against the source's annotations", "",
        f"{report['kept']} of {report['annotated']} annotated problems kept ({_pct(report['kept_share'])}).", "",
        "| measure | model | source |", "|---|---|---|",
        f"| image type accuracy | {_pct(report['type_accuracy'])} | |",
        f"| subject accuracy | {_pct(report['subject_accuracy'])} | |",
        f"| elements per problem | {report['elements_mean']['model']} | {report['elements_mean']['source']} |",
        f"| quizzes per problem | {report['quizzes_mean']['model']} | {report['quizzes_mean']['source']} |",
        f"| evidence found verbatim | {_pct(report['evidence_verbatim']['model'])} | "
        f"{_pct(report['evidence_verbatim']['source'])} |",
        "", "## Types most often confused", "", "| source type | model type | problems |", "|---|---|---|",
    ]  # fmt: skip
    lines += [f"| {c['source']} | {c['model']} | {c['count']} |" for c in report["confusions"][:15]] or [
        "| none | | |"
    ]
    if report["dropped"]:
        lines += ["", "## Annotated problems the model dropped", ""]
        lines += [f"- {reason}: {n}" for reason, n in sorted(report["dropped"].items())]
    write_atomic(run / "agreement.md", "\n".join(lines) + "\n")
    return ["agreement.json", "agreement.md", *_plot(report, run)]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _plot(report: dict[str, Any], run: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    pairs = [(k.split(" -> ")[0], k.split(" -> ")[1], n) for k, n in report["matrix"].items()]
    types = [t for t in IMAGE_TYPES if any(t in (a, b) for a, b, _ in pairs)]
    if not types:
        return []
    index = {t: i for i, t in enumerate(types)}
    grid = np.zeros((len(types), len(types)))
    for a, b, n in pairs:
        grid[index[a], index[b]] += n
    fig, ax = plt.subplots(figsize=(2 + 0.38 * len(types), 1.6 + 0.34 * len(types)))
    ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(types)), types, rotation=90, fontsize=7)
    ax.set_yticks(range(len(types)), types, fontsize=7)
    for (i, j), n in np.ndenumerate(grid):
        if n:
            ax.text(j, i, str(int(n)), ha="center", va="center", fontsize=6,
                    color="white" if n > grid.max() / 2 else "black")  # fmt: skip
    ax.set_xlabel("model's type")
    ax.set_ylabel("source's type")
    ax.set_title(f"image types: {_pct(report['type_accuracy'])} agree")
    fig.tight_layout()
    fig.savefig(run / "agreement_confusion.png", dpi=110)
    plt.close(fig)
    return ["agreement_confusion.png"]
