"""The ``scigen-rl`` command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .records import json_line, write_atomic
from .render import FAILURE_CLASSES, RenderConfig, Renderer, RenderResult, SandboxUnavailable


def _render_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from tqdm import tqdm

    scripts = [Path(s) for s in args.scripts]
    missing = [str(s) for s in scripts if not s.is_file()]
    if missing:
        print(f"scigen-rl render: no such script file: {', '.join(missing)}", file=sys.stderr)
        return 2
    stems = Counter(s.stem for s in scripts)
    clashes = sorted(stem for stem, n in stems.items() if n > 1)
    if clashes:
        print(
            f"scigen-rl render: scripts would overwrite each other's PNG (same name): {', '.join(clashes)}",
            file=sys.stderr,
        )
        return 2
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        config = RenderConfig(
            workers=args.workers,
            timeout_s=args.timeout,
            memory_mb=args.memory_mb,
            dpi=args.dpi,
            isolation=args.isolation,
        )
    except ValueError as e:
        print(f"scigen-rl render: {e}", file=sys.stderr)
        return 2

    items: list[tuple[str, str]] = []
    unreadable: dict[str, str] = {}
    for s in scripts:
        try:
            items.append((s.name, s.read_bytes().decode("utf-8")))
        except UnicodeDecodeError as e:
            unreadable[s.name] = f"not UTF-8 text ({e.reason} at byte {e.start})"
            items.append((s.name, ""))
    by_name = {s.name: s for s in scripts}

    failures: Counter[str] = Counter()
    total_s = 0.0
    started = time.monotonic()
    bar = tqdm(total=len(items), desc="render", unit="script", file=sys.stderr, disable=args.quiet or None)
    try:
        with Renderer(config) as renderer:
            isolation = _describe_isolation(renderer.isolation)
            results = renderer.map(items, on_done=lambda _: bar.update(1))
            for result in results:
                if result.name in unreadable:
                    result = RenderResult(result.name, "failed", "syntax", unreadable[result.name])
                png = _write_pngs(result, by_name[result.name].stem, out_dir)
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
    except SandboxUnavailable as e:
        bar.close()
        print(f"scigen-rl render: {e}", file=sys.stderr)
        return 2
    bar.close()

    if not args.quiet:
        ok = len(items) - sum(failures.values())
        console = Console(stderr=True)
        console.print(
            f"rendered {ok}/{len(items)} scripts into {out_dir} in {time.monotonic() - started:.1f} s "
            f"({config.n_workers} workers, isolation: {isolation})",
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
    return 0 if not failures else 1


def _describe_isolation(isolation: dict[str, object]) -> str:
    if isolation.get("namespaces") == "on":
        layers = ["namespaces" + (" (user)" if isolation.get("user_namespace") else "")]
    else:
        layers = ["no namespaces"]
    if isolation.get("seccomp") == "on":
        layers.append("seccomp")
    return " + ".join(layers)


def _write_pngs(result: RenderResult, stem: str, out_dir: Path) -> str | None:
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


def _default_scigenbench_dir() -> str | None:
    """``SCIGENBENCH_DIR`` when set, else None: the copy shipped in the package."""
    return os.environ.get("SCIGENBENCH_DIR") or None


def _endpoint(args: argparse.Namespace, prefix: str, **settings: Any) -> Any:
    """The model endpoint of the ``--{prefix}base-url``, ``--{prefix}model`` and ``--{prefix}api-key-env``
    flags, at ``--concurrency``, with the command's own ``settings``."""
    from .llm import LLMConfig

    return LLMConfig(
        base_url=getattr(args, f"{prefix}base_url"),
        model=getattr(args, f"{prefix}model"),
        api_key_env=getattr(args, f"{prefix}api_key_env"),
        concurrency=args.concurrency,
        **settings,
    )


def _build_command(args: argparse.Namespace) -> int:
    from data_builders.build import BuildConfig, run_build

    from .loaders import load_problems, load_scigenbench

    if args.llm != "embedded" and not (args.llm_base_url and args.llm_model):
        print("scigen-rl build: give --llm embedded, or --llm-base-url and --llm-model", file=sys.stderr)
        return 2
    try:
        if args.source == "scigenbench":
            problems = load_scigenbench(args.scigenbench_dir)
        else:
            problems = load_problems(args.source, args.mapping)
        if args.ids:
            wanted_ids = [i.strip() for i in args.ids.split(",") if i.strip()]
            unknown = sorted(set(wanted_ids) - {p.id for p in problems})
            if unknown:
                raise ValueError(f"--ids: no problem with id {', '.join(unknown[:5])} in {args.source}")
            by_id = {p.id: p for p in problems}
            problems = [by_id[i] for i in dict.fromkeys(wanted_ids)]
        if args.image_types:
            wanted = {t.strip() for t in args.image_types.split(",")}
            problems = [p for p in problems if p.image_type in wanted]
        if args.limit is not None:
            problems = problems[: args.limit]
        if args.llm == "embedded":
            from .llm.embedded import embedded_config

            llm = embedded_config(max_tokens=args.max_tokens)
        else:
            llm = _endpoint(
                args,
                "llm_",
                max_tokens=args.max_tokens,
                max_retries=args.llm_max_retries,
                timeout_s=args.llm_timeout,
            )
        cfg = BuildConfig(
            run_dir=args.run_dir,
            llm=llm,
            concurrency=args.concurrency,
            repair_rounds=args.repair_rounds,
            prompt=args.prompt or ("skeleton" if args.llm == "embedded" else "plan-code"),
            render=RenderConfig(workers=args.workers),
            val_fraction=args.val_fraction,
            scaling_fractions=args.scaling_fractions,
            seed=args.seed,
            verify=_endpoint(args, "verify_", max_tokens=256, max_retries=args.llm_max_retries)
            if args.verify
            else None,
            verify_threshold=args.verify_threshold,
        )
    except (ValueError, OSError, RuntimeError) as e:
        print(f"scigen-rl build: {e}", file=sys.stderr)
        return 2
    summary = run_build(problems, cfg)
    _print_summary(summary, args.run_dir)
    if summary["attempted"] and not summary["exported"]:
        print(
            f"scigen-rl build: none of the {summary['attempted']} problems gave a training row",
            file=sys.stderr,
        )
        return 1
    return 0 if not summary["pending"] else 1


def _export_command(args: argparse.Namespace) -> int:
    from data_builders.build import export_run

    try:
        summary = export_run(
            args.run_dir,
            None,
            args.val_fraction,
            args.scaling_fractions,
            args.seed,
            None,
            args.verify_threshold,
        )
    except (ValueError, OSError) as e:
        print(f"scigen-rl export: {e}", file=sys.stderr)
        return 2
    _print_summary(summary, args.run_dir)
    return 0


def _print_summary(summary: dict[str, Any], run_dir: str) -> None:
    """The per-image-type table and totals on stderr; the CLI contract's JSON line on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"build summary ({run_dir})")
    # Failure classes that never occurred would only widen the table past one screen.
    seen = {c for counts in summary["by_image_type"].values() for c, n in counts.items() if n}
    columns = ["attempted", "rendered", "repaired", "filtered"]
    columns += [c for c in (*FAILURE_CLASSES, "no_code") if c in seen]
    table.add_column("image type")
    for c in columns:
        table.add_column(c, justify="right")
    for image_type, counts in summary["by_image_type"].items():
        table.add_row(image_type, *(str(counts.get(c, 0)) for c in columns))
    console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
    console.print(table)
    run = Path(run_dir)
    dropped = summary.get("dropped", [])
    reasons = Counter(d["reason"] for d in dropped)
    console.print(
        f"tried {summary['attempted']}, rendered {summary['rendered']}, dropped {len(dropped)}"
        + (f" ({', '.join(f'{r} {n}' for r, n in reasons.most_common())})" if dropped else "")
        + f", exported {summary['exported']}"
        + (
            f"; re-rendered {summary['rerendered']} whose PNG was gone or broken"
            if summary.get("rerendered")
            else ""
        ),
        soft_wrap=True,
    )
    for d in dropped[:10]:
        console.print(
            f"  dropped {d['id']}: {d['reason']}" + (f" ({d['detail']})" if d["detail"] else ""),
            soft_wrap=True,
        )
    if len(dropped) > 10:
        console.print(f"  ... and {len(dropped) - 10} more in {run / 'summary.json'}", soft_wrap=True)
    subsets = ", ".join(f"{s['fraction']:g}: {s['rows']}" for s in summary["export"]["scaling_subsets"])
    console.print(
        f"parquet: {run / 'export'} (train {summary['export']['train']['rows']}, "
        f"val {summary['export']['val']['rows']}; scaling subsets {subsets})",
        soft_wrap=True,
    )
    console.print(f"figures: {run / 'synthesize' / 'png'}", soft_wrap=True)
    if "contact_sheet" in summary:
        sheet = summary["contact_sheet"]
        shown = f"{sheet['figures']} figures" + (
            f" of {sheet['of']}" if sheet["of"] > sheet["figures"] else ""
        )
        console.print(f"contact sheet: {sheet['path']} ({shown})", soft_wrap=True)
    if "verification" in summary:
        v = summary["verification"]
        console.print(
            f"verified {v['verified']} (mean R_inv {v['mean_r_inv']}), {v['unverifiable']} without a verdict; "
            f"filtered set (R_inv >= {v['threshold']:g}): {v['filtered_exported']} rows in export/filtered",
            soft_wrap=True,
        )
    if summary["pending"]:
        console.print(
            f"{summary['pending']} problems could not reach the model ({summary['model_errors']}); "
            "run the same command again to finish them",
            soft_wrap=True,
        )
    print(json.dumps({k: summary[k] for k in ("attempted", "rendered", "filtered", "exported", "failures")}))


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not values or not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"fractions must lie in (0, 1]: {text!r}")
    return values


def _add_export_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--val-fraction", type=float, default=0.05, help="share of problems (by id hash) in val.parquet"
    )
    parser.add_argument(
        "--scaling-fractions",
        type=_fractions,
        default=(0.125, 0.25, 0.5, 1.0),
        help="nested training subsets for data-scaling sweeps, e.g. 0.125,0.25,0.5,1",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and the subset order")
    parser.add_argument(
        "--verify-threshold",
        type=float,
        default=1.0,
        help="R_inv a verified figure needs for export/filtered (1.0: all quizzes right)",
    )


def _eval_sets_command(args: argparse.Namespace) -> int:
    from data_builders.eval_sets import write_eval_sets

    def source(value: str) -> str | None:
        return None if value.lower() == "none" else value

    try:
        written = write_eval_sets(
            args.out_dir, source(args.mathvision), args.mathvision_split, source(args.geometry3k)
        )
    except (ValueError, OSError) as e:  # RecordError is a ValueError: it names the record and field
        print(f"scigen-rl eval-sets: {e}", file=sys.stderr)
        return 2
    print(json.dumps(written))
    return 0


def _train_config(args: argparse.Namespace) -> Any:
    from launch.train import TrainConfig

    settings = _given(args, TrainConfig)
    settings["overrides"] = list(args.hydra_overrides or [])
    return TrainConfig(**settings)


def _train_command(args: argparse.Namespace) -> int:
    from launch.services import ServiceError
    from launch.train import dry_run, train

    try:
        cfg = _train_config(args)
        if args.dry_run:
            print(dry_run(cfg))
            return 0
        return train(cfg)
    except (ValueError, OSError, ServiceError) as e:
        print(f"scigen-rl train: {e}", file=sys.stderr)
        return 2


def _sweep_command(args: argparse.Namespace) -> int:
    from launch.services import ServiceError
    from launch.sweep import SweepConfig, collect, dry_run, report, run_and_report

    try:
        if args.collect_only:
            rows = collect([args.wandb_dir], group=args.name)
            result = report(rows, args.out_dir)
            print(json.dumps(result["fits"]))
            return 0 if rows else 1
        if not args.manifest:
            raise ValueError("give --manifest (a build's export/manifest.json), or --collect-only")
        cfg = SweepConfig(
            manifest=args.manifest,
            name=args.name,
            source=args.source,
            gpus_per_run=args.gpus_per_run,
            cluster_gpus=args.cluster_gpus,
            train=_train_config(args),
        )
        if args.dry_run:
            print(dry_run(cfg))
            return 0
        return run_and_report(cfg, args.wandb_dir, args.out_dir)
    except (ValueError, OSError, ServiceError) as e:
        print(f"scigen-rl sweep: {e}", file=sys.stderr)
        return 2


def _bench_command(args: argparse.Namespace) -> int:
    from .bench.run import BenchConfig, images_from_build, images_from_dir, leaderboard, run_bench
    from .loaders import load_scigenbench

    if args.combine:
        summaries = [json.loads((Path(d) / "summary.json").read_text()) for d in args.combine]
        board = leaderboard(summaries)
        Path(args.out_dir).mkdir(parents=True, exist_ok=True)
        write_atomic(Path(args.out_dir) / "leaderboard.md", board)
        print(board)
        return 0
    if bool(args.images) == bool(args.run_dir):
        print(
            "scigen-rl bench: give --images DIR or --run-dir DIR (or --combine OUT_DIR...)", file=sys.stderr
        )
        return 2
    metrics = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    unknown = sorted(set(metrics) - {"rinv", "judge", "pixel", "spectral"})
    if unknown:
        print(
            f"scigen-rl bench: unknown metrics {unknown} (known: rinv, judge, pixel, spectral)",
            file=sys.stderr,
        )
        return 2
    try:
        if args.run_dir:
            problems, images, generator = images_from_build(args.run_dir)
        else:
            problems = load_scigenbench(args.scigenbench_dir)
            generator = Path(args.images).name
        problems = [p for p in problems if not args.ids or p.id in set(args.ids.split(","))]
        problems = problems[: args.limit] if args.limit else problems
        if args.images:
            images = images_from_dir(args.images, problems)
        judge = _endpoint(
            args, "judge_", max_tokens=args.judge_max_tokens, max_retries=args.judge_max_retries
        )
        cfg = BenchConfig(
            out_dir=args.out_dir, judge=judge, generator=args.generator or generator, metrics=metrics
        )
    except (ValueError, OSError) as e:
        print(f"scigen-rl bench: {e}", file=sys.stderr)
        return 2
    summary = run_bench(cfg, problems, images)
    print((Path(args.out_dir) / "leaderboard.md").read_text(), file=sys.stderr)
    print(json.dumps(summary["overall"]))
    return 0


def _bench_reference_command(args: argparse.Namespace) -> int:
    from .bench.pixel import InceptionFeatures, reference_rows, spectrum_plot
    from .shipped import SCIGENBENCH, shipped_dir

    try:
        folder = Path(args.scigenbench_dir or shipped_dir(SCIGENBENCH)) / "seephys_images"
    except ValueError as e:
        print(f"scigen-rl bench-reference: {e}", file=sys.stderr)
        return 2
    real = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[: args.limit]
    if len(real) < 2:
        print(f"scigen-rl bench-reference: fewer than two real figures in {folder}", file=sys.stderr)
        return 2
    rows = reference_rows(real, InceptionFeatures())
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spectrum_plot(rows, out / "reference_spectrum.png")
    table = {k: {m: v for m, v in row.items() if not m.startswith("spectrum")} for k, row in rows.items()}
    lines = [
        "| real SeePhys figures vs | PSNR | SSIM | FID (TF-Inception) | KID | HF ratio |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in table.items():
        lines.append(f"| {name} | {row['psnr']:.2f} | {row['ssim']:.4f} | {row['fid_tf_inception']:.3f} | "
                     f"{row['kid']:.4f} | {row['hf_ratio']:.5f} |")  # fmt: skip
    write_atomic(out / "reference.md", "\n".join(lines) + "\n")
    write_atomic(out / "reference.json", json.dumps(table, indent=2))
    print("\n".join(lines))
    return 0


def _eval_command(args: argparse.Namespace) -> int:
    from .evaluate.generate import SamplingConfig, VllmEngineConfig, backend_dict, sampling_params
    from .evaluate.run import EvalConfig, compare, run_eval

    if args.compare:
        print(compare([json.loads(Path(p).read_text()) for p in args.compare]))
        return 0
    if args.ray_address:
        from launch.evaluate import eval_job
        from launch.ray_jobs import JobError, run_job

        raw = list(sys.argv[2:]) if args.argv is None else list(args.argv)
        forwarded = [
            a for i, a in enumerate(raw) if a != "--ray-address" and (i == 0 or raw[i - 1] != "--ray-address")
        ]
        job = eval_job(
            [a for a in forwarded if a != "--dry-run"], args.out_dir, args.eval_files, args.vllm_model
        )
        if args.dry_run:
            print(f"# a Ray job on {args.ray_address}, runtime env {json.dumps(job.runtime_env())}")
            print(job.entrypoint)
            return 0
        try:
            return run_job(args.ray_address, job)
        except JobError as e:
            print(f"scigen-rl eval: {e}", file=sys.stderr)
            return 2
    sampling = SamplingConfig(
        k=args.k, temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed
    )
    if args.vllm_model:
        engine = VllmEngineConfig(args.vllm_model, tensor_parallel_size=args.tensor_parallel_size,
                                  max_model_len=args.max_model_len)  # fmt: skip
        backend = backend_dict("vllm", engine)
        if args.dry_run:
            print(json.dumps({"engine_args": engine.engine_args(), "sampling_params": sampling_params(sampling, 0),
                              "shards": args.shards, "gpus_per_shard": args.tensor_parallel_size}, indent=2))  # fmt: skip
            return 0
    elif args.base_url and args.model:
        backend = backend_dict(
            "http",
            _endpoint(args, "", timeout_s=args.timeout, max_retries=args.max_retries,
                      cache_dir=str(Path(args.out_dir) / "llm-cache")),
        )  # fmt: skip
    else:
        print(
            "scigen-rl eval: give --base-url and --model, or --vllm-model (or --compare REPORT...)",
            file=sys.stderr,
        )
        return 2
    reward: dict[str, Any] = (
        {"mode": "rule_then_verifier", "verifier_urls": args.verifier_url}
        if args.verifier_url
        else {"mode": "rule_only"}
    )
    cfg = EvalConfig(
        out_dir=args.out_dir, eval_files=args.eval_files, backend=backend, sampling=sampling, reward=reward,
        shards=args.shards, use_ray=args.ray, gpus_per_shard=args.tensor_parallel_size if args.vllm_model else 0.0,
        limit=args.limit, name=args.name,
    )  # fmt: skip
    try:
        result = run_eval(cfg)
    except (ValueError, OSError, RuntimeError) as e:
        print(f"scigen-rl eval: {e}", file=sys.stderr)
        return 1
    if args.wandb_project:
        from .evaluate.run import load_rows, log_to_wandb

        log_to_wandb(cfg, result, load_rows(cfg.eval_files, cfg.limit), args.wandb_project)
    print((Path(args.out_dir) / "report.md").read_text(), file=sys.stderr)
    print(json.dumps(result["benchmarks"]))
    return 0


def _serve_reward_command(args: argparse.Namespace) -> int:
    from omegaconf import OmegaConf

    from reward.config import RewardConfig
    from reward.server import serve

    settings: dict[str, Any] = {}
    if args.config:
        settings.update(OmegaConf.to_container(OmegaConf.load(args.config), resolve=True))  # type: ignore[arg-type]
    settings.update(
        {k: v for k, v in vars(args).items() if k in RewardConfig.__dataclass_fields__ and v is not None}
    )
    try:
        config = RewardConfig.from_kwargs(settings)
    except (ValueError, TypeError) as e:
        print(f"scigen-rl serve-reward: {e}", file=sys.stderr)
        return 2
    print(
        f"reward server on http://{args.host}:{args.port} (mode {config.mode}, verifier {config.verifier_model} "
        f"at {', '.join(config.verifier_urls) or 'none'})"
        + (f"; /score needs the bearer token in ${args.token_env}" if os.environ.get(args.token_env) else ""),
        file=sys.stderr,
    )
    serve(config, args.host, args.port, args.log_level, os.environ.get(args.token_env) or None)
    return 0


def _add_config_options(parser: argparse.ArgumentParser, cls: type, repeated: dict[str, str]) -> None:
    """One flag per field of a config dataclass, its docstring as the help. A list field named in
    ``repeated`` is a flag given once per value (``{"verifier_urls": "verifier-url"}``), any other
    list takes several values; a bool is a switch; None leaves the dataclass default."""
    import dataclasses

    docs = _field_docs(cls)
    for f in dataclasses.fields(cls):
        help_text = docs.get(f.name, "")
        flag = f"--{f.name.replace('_', '-')}"
        if f.name in repeated:
            parser.add_argument(f"--{repeated[f.name]}", dest=f.name, action="append", help=help_text)
        elif f.default_factory is not dataclasses.MISSING:  # lists
            parser.add_argument(flag, dest=f.name, nargs="+", help=help_text)
        elif isinstance(f.default, bool):
            parser.add_argument(flag, dest=f.name, action="store_true", default=None, help=help_text)
        else:
            kind = type(f.default) if f.default is not None else str
            parser.add_argument(flag, dest=f.name, type=kind, help=help_text)


def _given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The config fields set on the command line."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def _field_docs(cls: type) -> dict[str, str]:
    """The docstring under each dataclass field (the attribute-docstring convention), for --help."""
    import ast
    import inspect

    docs: dict[str, str] = {}
    body = ast.parse(inspect.getsource(cls)).body[0].body  # type: ignore[attr-defined]
    for node, after in zip(body, body[1:], strict=False):
        documented = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and documented:
            docs[node.target.id] = " ".join(str(after.value.value).split()).replace("%", "%%")
    return docs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scigen-rl", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    render = sub.add_parser(
        "render",
        help="render matplotlib scripts in the sandbox",
        description="Render each script in a sandboxed child and write OUT_DIR/<script-stem>.png. "
        "Prints one JSON line per script; exits 0 if every script rendered, 1 otherwise.",
    )
    render.add_argument("scripts", nargs="+", metavar="SCRIPT.py")
    render.add_argument("--out-dir", required=True)
    defaults = RenderConfig()
    render.add_argument(
        "--timeout", type=float, default=defaults.timeout_s, help="wall-clock seconds per script"
    )
    render.add_argument(
        "--memory-mb", type=int, default=defaults.memory_mb, help="memory a script may allocate"
    )
    render.add_argument("--workers", type=int, default=0, help="parallel workers (default: one per core)")
    render.add_argument("--dpi", type=int, default=defaults.dpi, help="resolution of the captured PNGs")
    render.add_argument(
        "--isolation",
        choices=["strict", "relaxed"],
        default="strict",
        help="relaxed: allow running without namespaces",
    )
    render.add_argument("--quiet", action="store_true", help="no progress bar or summary table")
    render.set_defaults(func=_render_command)

    build = sub.add_parser(
        "build",
        help="text problems -> ImgCoder figures -> verl parquet (resumable)",
        description="Plan and code a figure for every problem with a model, render it in the sandbox, "
        "filter, and export verl parquet to RUN_DIR/export. Re-running with the same --run-dir resumes.",
    )
    build.add_argument(
        "--source", default="scigenbench", help="'scigenbench', a datasets name or a local file"
    )
    build.add_argument(
        "--scigenbench-dir",
        default=_default_scigenbench_dir(),
        help="a SciGenBench folder (default: the copy shipped with scigen-rl, or $SCIGENBENCH_DIR)",
    )
    build.add_argument("--mapping", default="webinstruct-verified", help="field mapping for other sources")
    build.add_argument("--run-dir", required=True)
    build.add_argument("--ids", help="comma-separated problem ids to build, in this order")
    build.add_argument("--limit", type=int)
    build.add_argument("--image-types", help="comma-separated 'Subject - Type' names")
    build.add_argument(
        "--prompt",
        choices=["plan-code", "skeleton"],
        help="ImgCoder's prompt: plan-code (plan, then a free-form script) or skeleton (a fixed script "
        "shape filled in under a grammar, for small models); default: skeleton for --llm embedded, "
        "else plan-code",
    )
    build.add_argument(
        "--llm", choices=["embedded", "remote"], default="remote", help="embedded: SmolLM2-135M on CPU"
    )
    build.add_argument("--llm-base-url")
    build.add_argument("--llm-model")
    build.add_argument("--llm-api-key-env", help="name of the environment variable that holds the key")
    build.add_argument("--max-tokens", type=int, default=4096)
    build.add_argument("--llm-max-retries", type=int, default=5, help="retries of a failed model call")
    build.add_argument("--llm-timeout", type=float, default=300.0, help="seconds per model call")
    build.add_argument("--concurrency", type=int, default=32)
    build.add_argument("--workers", type=int, default=0, help="render workers (default: one per core)")
    build.add_argument("--repair-rounds", type=int, default=2)
    build.add_argument(
        "--verify",
        action="store_true",
        help="inverse quiz validation of every figure; exports export/filtered too",
    )
    build.add_argument(
        "--verify-base-url", default="http://127.0.0.1:8000/v1", help="the vision model's endpoint"
    )
    build.add_argument("--verify-model", default="Qwen/Qwen3-VL-235B-A22B-Instruct")
    build.add_argument("--verify-api-key-env")
    _add_export_options(build)
    build.set_defaults(func=_build_command)

    export = sub.add_parser(
        "export",
        help="re-export a build's run directory (no model, no render)",
        description="Write RUN_DIR/export again from the build's records, e.g. with other scaling "
        "fractions or another validation share. Prints the same summary as build.",
    )
    export.add_argument("--run-dir", required=True)
    _add_export_options(export)
    export.set_defaults(func=_export_command)

    eval_sets = sub.add_parser(
        "eval-sets",
        help="MathVision and Geometry3K test as verl parquet (the recipe's validation sets)",
        description="Write OUT_DIR/mathvision_mini.parquet (or mathvision.parquet for --mathvision-split "
        "test) and OUT_DIR/geometry3k_test.parquet. A source is a local folder/file in the Hub layout, "
        "the Hub name, or 'none' to skip it.",
    )
    eval_sets.add_argument("--out-dir", required=True)
    eval_sets.add_argument(
        "--mathvision",
        default="shipped",
        help="'shipped' (testmini ships with scigen-rl; other splits come from the Hub), a local folder "
        "or JSONL file in MATH-V's layout, a Hub name, or 'none'",
    )
    eval_sets.add_argument("--mathvision-split", default="testmini", choices=["testmini", "test"])
    eval_sets.add_argument("--geometry3k", default="hiyouga/geometry3k")
    eval_sets.set_defaults(func=_eval_sets_command)

    serve_reward = sub.add_parser(
        "serve-reward",
        help="the Compass-Verifier reward server (POST /score, GET /health, GET /metrics)",
        description="Judge answers rule first (math-verify, option letters) and with a served verifier "
        "second. Settings: --config FILE (YAML of reward.config.RewardConfig), then the flags below.",
    )
    serve_reward.add_argument("--host", default="127.0.0.1")
    serve_reward.add_argument("--port", type=int, default=8765)
    serve_reward.add_argument("--config", help="YAML or JSON with RewardConfig settings")
    serve_reward.add_argument("--log-level", default="warning")
    serve_reward.add_argument(
        "--token-env",
        default="SCIGEN_REWARD_TOKEN",
        help="environment variable with a bearer token; when it is set, /score and /metrics require it",
    )
    from reward.config import RewardConfig

    _add_config_options(serve_reward, RewardConfig, {"verifier_urls": "verifier-url"})
    serve_reward.set_defaults(func=_serve_reward_command)
    bench = sub.add_parser(
        "bench",
        help="SciGenBench: R_inv and the LMM judge for a generator's figures, with a leaderboard",
        description="Judge figures named by problem id (--images DIR) or a build's figures (--run-dir DIR) "
        "with a vision model: inverse quiz validation (R_inv) and the five-dimension judge. Writes "
        "OUT_DIR/items.jsonl (resumable), summary.json, leaderboard.md and plots. --combine merges several "
        "OUT_DIRs into one leaderboard.",
    )
    bench.add_argument("--images", help="folder of <problem id>.png/.jpg")
    bench.add_argument("--run-dir", help="a build's run directory")
    bench.add_argument("--out-dir", required=True)
    bench.add_argument("--generator", help="name on the leaderboard (default: the folder's or the build's)")
    bench.add_argument("--metrics", default="rinv,judge")
    bench.add_argument("--judge-base-url", default="http://127.0.0.1:8000/v1")
    bench.add_argument("--judge-model", default="Qwen/Qwen3-VL-235B-A22B-Instruct")
    bench.add_argument("--judge-api-key-env")
    bench.add_argument("--judge-max-tokens", type=int, default=512)
    bench.add_argument("--judge-max-retries", type=int, default=5)
    bench.add_argument("--concurrency", type=int, default=32)
    bench.add_argument("--scigenbench-dir", default=_default_scigenbench_dir())
    bench.add_argument("--ids", help="comma-separated problem ids to judge")
    bench.add_argument("--limit", type=int)
    bench.add_argument("--combine", nargs="+", metavar="OUT_DIR", help="merge these bench outputs")
    bench.set_defaults(func=_bench_command)

    reference = sub.add_parser(
        "bench-reference",
        help="the image metrics of the real SeePhys figures against themselves and degraded copies",
        description="PSNR, SSIM, FID (TF-Inception), KID and the high-frequency ratio of the real SeePhys "
        "figures against themselves, a blurred and a JPEG copy: the scale to read generators' numbers on.",
    )
    reference.add_argument("--scigenbench-dir", default=_default_scigenbench_dir())
    reference.add_argument("--out-dir", default="runs/bench/reference")
    reference.add_argument("--limit", type=int, default=330)
    reference.set_defaults(func=_bench_reference_command)

    evaluate = sub.add_parser(
        "eval",
        help="AVG@k of a model on the evaluation parquets (MathVision_mini, Geometry3K), with a report",
        description="Sample k answers per problem (an OpenAI-compatible --base-url, or vLLM engines with "
        "--vllm-model, sharded over Ray tasks with --ray), judge them rule first and by Compass-Verifier "
        "(--verifier-url) and by MathVision's own rules, and write OUT_DIR/report.json and report.md. Resumable.",
    )
    evaluate.add_argument(
        "--eval-files",
        nargs="+",
        default=["runs/eval/mathvision_mini.parquet", "runs/eval/geometry3k_test.parquet"],
    )
    evaluate.add_argument("--out-dir", default="runs/eval-results/model")
    evaluate.add_argument("--name", default="model", help="the checkpoint's name in reports")
    evaluate.add_argument("--base-url")
    evaluate.add_argument("--model")
    evaluate.add_argument("--api-key-env")
    evaluate.add_argument("--vllm-model", help="a checkpoint to load in vLLM engines (GPU machines)")
    evaluate.add_argument("--tensor-parallel-size", type=int, default=1)
    evaluate.add_argument("--max-model-len", type=int, default=16384)
    evaluate.add_argument("--k", type=int, default=4)
    evaluate.add_argument("--temperature", type=float, default=0.6)
    evaluate.add_argument("--max-tokens", type=int, default=8192)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument(
        "--verifier-url", action="append", help="Compass-Verifier endpoint(s); default: rules only"
    )
    evaluate.add_argument("--shards", type=int, default=1)
    evaluate.add_argument("--ray", action="store_true", help="run the shards as Ray tasks")
    evaluate.add_argument("--concurrency", type=int, default=64)
    evaluate.add_argument("--timeout", type=float, default=600.0)
    evaluate.add_argument("--max-retries", type=int, default=5)
    evaluate.add_argument("--limit", type=int, help="first N problems of each file")
    evaluate.add_argument(
        "--dry-run", action="store_true", help="with --vllm-model: print engine and sampling args"
    )
    evaluate.add_argument(
        "--compare", nargs="+", metavar="REPORT.json", help="the paper's table from several reports"
    )
    evaluate.add_argument(
        "--wandb-project", help="also log the numbers and a table of generations with images to W&B"
    )
    evaluate.add_argument(
        "--ray-address", help="submit the evaluation as a Ray job to this cluster (http://head:8265)"
    )
    evaluate.set_defaults(func=_eval_command)

    from launch.train import TrainConfig

    train = sub.add_parser(
        "train",
        help="GRPO training on verl: verifier + reward server as managed services, then the trainer",
        description="Start (or use) the verifier and the reward server, wait until healthy, run verl's "
        "trainer on the recipe (locally, or as a Ray job on --ray-address), stop the services. "
        "Trailing KEY=VALUE arguments are Hydra overrides for verl. Re-running resumes.",
    )
    _add_config_options(train, TrainConfig, {"verifier_urls": "verifier-url", "wandb_tags": "wandb-tag"})
    train.add_argument(
        "--dry-run", action="store_true", help="print the services, command and resolved config"
    )
    train.add_argument("hydra_overrides", nargs="*", metavar="KEY=VALUE")
    train.set_defaults(func=_train_command)

    sweep = sub.add_parser(
        "sweep",
        help="one training run per scaling subset of a build, then the data-scaling fit",
        description="Train on each nested subset of MANIFEST (a build's export/manifest.json), grouped in W&B, "
        "then read each run's final AVG@4 per benchmark and fit accuracy = a + b ln(n): OUT_DIR/scaling.png, "
        "scaling.md, scaling.json.",
    )
    sweep.add_argument("--manifest", help="export/manifest.json of a build")
    sweep.add_argument("--name", help="W&B group (default sweep-<build folder>)")
    sweep.add_argument("--source", default="imgcoder", help="tag naming the training data")
    sweep.add_argument("--gpus-per-run", type=int, default=8)
    sweep.add_argument(
        "--cluster-gpus", type=int, default=8, help="runs go cluster-gpus // gpus-per-run at a time"
    )
    sweep.add_argument("--wandb-dir", default="wandb", help="where the runs' W&B folders are")
    sweep.add_argument("--out-dir", default="runs/sweep")
    sweep.add_argument("--collect-only", action="store_true", help="only read the runs and fit")
    sweep.add_argument("--dry-run", action="store_true", help="print the runs' commands")
    _add_config_options(
        sweep,
        TrainConfig,
        {"verifier_urls": "verifier-url", "wandb_tags": "wandb-tag", "train_files": "train-file"},
    )
    sweep.add_argument("hydra_overrides", nargs="*", metavar="KEY=VALUE")
    sweep.set_defaults(func=_sweep_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(argv)[1:] if argv is not None else None  # a command's own arguments, to forward
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
