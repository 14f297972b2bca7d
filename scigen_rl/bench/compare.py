"""Generators side by side on the same problems: R_inv and the perfect-image rate per image type over
the problems every compared generator was scored on, as a table and a grouped bar plot."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Any

from ..records import Verdict, write_atomic
from .run import latest_verdicts


def compare(out_dirs: list[str | Path], out: str | Path) -> dict[str, Any]:
    """Read each bench output's ``summary.json`` (its generator) and ``items.jsonl``; keep the problems
    scored (R_inv not None) by every one of them; write ``compare.md``, ``compare.json`` and
    ``compare_by_type.png`` into ``out``. Returns what ``compare.json`` holds."""
    runs: dict[str, dict[str, Verdict]] = {}
    for folder in out_dirs:
        name = str(json.loads((Path(folder) / "summary.json").read_text())["generator"])
        if name in runs:
            name = f"{name} ({Path(folder).name})"
        runs[name] = {
            i: v for i, v in latest_verdicts(Path(folder) / "items.jsonl").items() if v.r_inv is not None
        }
    common = set.intersection(*(set(v) for v in runs.values())) if runs else set()
    types: dict[str, list[str]] = defaultdict(list)
    for pid in sorted(common):
        first = next(iter(runs.values()))[pid]
        types[str(first.extra.get("image_type") or "(none)")].append(pid)
    table: dict[str, dict[str, Any]] = {}
    for image_type, ids in sorted(types.items()):
        table[image_type] = {"problems": len(ids)}
        for name, verdicts in runs.items():
            scored = [verdicts[i] for i in ids]
            table[image_type][name] = {"r_inv": round(mean(v.r_inv or 0.0 for v in scored), 4),
                                       "perfect": round(mean(v.perfect for v in scored), 4)}  # fmt: skip
    overall = {
        name: round(mean(v[i].r_inv or 0.0 for i in common), 4) if common else None
        for name, v in runs.items()
    }
    result = {"generators": list(runs), "problems": len(common), "overall_r_inv": overall, "by_image_type": table,
              "scored": {name: len(v) for name, v in runs.items()}}  # fmt: skip
    target = Path(out)
    write_atomic(target / "compare.json", json.dumps(result, indent=2))
    write_atomic(target / "compare.md", markdown(result))
    if table:
        plot(result, target / "compare_by_type.png")
    return result


def markdown(result: dict[str, Any]) -> str:
    names = result["generators"]
    lines = [f"## Side by side: R_inv % (perfect %) on the {result['problems']} problems all "
             f"{len(names)} generators were scored on", "",
             "| image type | problems | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]  # fmt: skip
    for image_type, row in result["by_image_type"].items():
        cells = [f"{100 * row[n]['r_inv']:.1f} ({100 * row[n]['perfect']:.1f})" for n in names]
        lines.append(f"| {image_type} | {row['problems']} | " + " | ".join(cells) + " |")
    overall = [f"{100 * v:.1f}" if v is not None else "-" for v in result["overall_r_inv"].values()]
    lines.append(f"| **all** | {result['problems']} | " + " | ".join(overall) + " |")
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names, types = result["generators"], list(result["by_image_type"])
    y = np.arange(len(types))
    height = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(8, max(3, 0.35 * len(types) * max(1, len(names) / 2))))
    for k, name in enumerate(names):
        values = [100 * result["by_image_type"][t][name]["r_inv"] for t in types]
        ax.barh(y + k * height, values, height, label=name)
    ax.set_yticks(y + height * (len(names) - 1) / 2, types)
    ax.set_xlabel("R_inv (%)")
    ax.set_xlim(0, 100)
    ax.set_title(f"R_inv by image type, {result['problems']} problems scored for every generator")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
