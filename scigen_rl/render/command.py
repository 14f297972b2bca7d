"""``scigen-rl render``: scripts (matplotlib, or another renderer's) rendered in the sandbox, one PNG and
one JSON line each."""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import tyro

from ..command_line import BAD_ARGUMENTS, Command, save_options
from ..records import FAILURE_CLASSES, json_line, write_atomic
from .config import RenderConfig

if TYPE_CHECKING:
    from .pool import RenderResult


@dataclass
class RenderOptions:
    """Render each script in a sandboxed child and write OUT_DIR/<script-stem>.png. Prints one JSON
    line per script; exits 0 if every script rendered, 1 otherwise."""

    scripts: tyro.conf.Positional[list[str]]
    """The scripts to render (SCRIPT.py ...)."""
    out_dir: str
    """Where the PNGs go: STEM.png, and STEM.figures/2.png ... for a script's further figures."""
    render: Annotated[RenderConfig, tyro.conf.OmitArgPrefixes] = field(default_factory=RenderConfig)
    quiet: bool = False
    """No progress bar or summary table."""


def render(options: RenderOptions) -> int:
    from .pool import Renderer, RenderResult, SandboxUnavailable
    from .renderers import RENDERERS, RendererUnavailable

    scripts = [Path(s) for s in options.scripts]
    problem = _script_problem(scripts)
    if options.render.renderer not in RENDERERS:
        problem = f"unknown renderer {options.render.renderer!r} (known: {', '.join(sorted(RENDERERS))})"
    if problem:
        print(f"scigen-rl render: {problem}", file=sys.stderr)
        return BAD_ARGUMENTS
    out_dir = Path(options.out_dir)
    save_options(options, out_dir, "render")
    items: list[tuple[str, str]] = []
    unreadable: dict[str, str] = {}
    for s in scripts:
        try:
            items.append((s.name, s.read_bytes().decode("utf-8")))
        except UnicodeDecodeError as e:
            unreadable[s.name] = f"not UTF-8 text ({e.reason} at byte {e.start})"
            items.append((s.name, ""))
    by_name = {s.name: s for s in scripts}

    from tqdm import tqdm

    failures: Counter[str] = Counter()
    total_s = 0.0
    started = time.monotonic()
    bar = tqdm(total=len(items), desc="render", unit="script", file=sys.stderr, disable=options.quiet or None)
    try:
        with Renderer(options.render) as renderer:
            isolation = describe_isolation(renderer.isolation)
            for result in renderer.map(items, on_done=lambda _: bar.update(1)):
                if result.name in unreadable:
                    result = RenderResult(result.name, "failed", "syntax", unreadable[result.name])
                png = write_pngs(result, by_name[result.name].stem, out_dir)
                total_s += result.seconds
                if not result.ok:
                    failures[result.failure or "runtime"] += 1
                line = {
                    "script": str(by_name[result.name]),
                    "status": result.status,
                    "failure": result.failure,
                    "png": png,
                    "seconds": result.seconds,
                    "warnings": result.warnings,
                    "error": result.error,
                }
                bar.clear()
                print(json_line(line), flush=True)
    except (SandboxUnavailable, RendererUnavailable) as e:
        bar.close()
        print(f"scigen-rl render: {e}", file=sys.stderr)
        return BAD_ARGUMENTS
    bar.close()
    if not options.quiet:
        _print_summary(len(items), failures, total_s, time.monotonic() - started, out_dir,
                       options.render.n_workers, isolation)  # fmt: skip
    return 0 if not failures else 1


def _script_problem(scripts: list[Path]) -> str | None:
    """Why these scripts cannot be rendered together (none, missing, two of the same name), if they can't."""
    if not scripts:
        return "give at least one script"
    missing = [str(s) for s in scripts if not s.is_file()]
    if missing:
        return f"no such script file: {', '.join(missing)}"
    stems = Counter(s.stem for s in scripts)
    clashes = sorted(stem for stem, n in stems.items() if n > 1)
    if clashes:
        return f"scripts would overwrite each other's PNG (same name): {', '.join(clashes)}"
    return None


def _print_summary(
    n: int, failures: Counter[str], total_s: float, wall_s: float, out_dir: Path, workers: int, isolation: str
) -> None:
    from rich.console import Console
    from rich.table import Table

    ok = n - sum(failures.values())
    console = Console(stderr=True)
    console.print(
        f"rendered {ok}/{n} scripts into {out_dir} in {wall_s:.1f} s ({workers} workers, isolation: {isolation})",
        soft_wrap=True,
    )
    table = Table()
    table.add_column("outcome")
    table.add_column("scripts", justify="right")
    table.add_row("ok", str(ok))
    for failure in FAILURE_CLASSES:
        if failures[failure]:
            table.add_row(failure, str(failures[failure]))
    table.add_row("render seconds (sum)", f"{total_s:.2f}")
    console.print(table)


def describe_isolation(isolation: dict[str, object]) -> str:
    """The sandbox's layers in a few words: ``namespaces (user) + seccomp``."""
    if isolation.get("namespaces") == "on":
        layers = ["namespaces" + (" (user)" if isolation.get("user_namespace") else "")]
    else:
        layers = ["no namespaces"]
    if isolation.get("seccomp") == "on":
        layers.append("seccomp")
    return " + ".join(layers)


def write_pngs(result: RenderResult, stem: str, out_dir: Path) -> str | None:
    """``stem.png`` for the first figure, ``stem.figures/2.png``... for more; stale outputs go.

    Every name a script's outputs take ends in ``.png`` or ``.figures``, so no script's extra figures
    can land on another script's ``.png``, whatever the two are called."""
    main, extras = out_dir / f"{stem}.png", out_dir / f"{stem}.figures"
    if extras.is_dir():
        for old in extras.glob("*.png"):
            if old.stem.isdigit():
                old.unlink()
        with contextlib.suppress(OSError):
            extras.rmdir()
    if not result.ok:
        main.unlink(missing_ok=True)
        return None
    write_atomic(main, result.pngs[0])
    for i, png in enumerate(result.pngs[1:], start=2):
        write_atomic(extras / f"{i}.png", png)
    if len(result.pngs) > 1:
        result.warnings.append(
            f"{len(result.pngs)} figures: the first is {main.name}, the others in {extras.name}/"
        )
    return str(main)


COMMAND = Command("render", RenderOptions, render)
