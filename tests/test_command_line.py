"""The command line made from the typed options: every command's flags and help come from its
dataclass, ``--config`` files (flags override them), the resolved options written and read back, exit
codes, Hydra overrides beside list flags, and the layer contract that `make test` checks."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from scigen_rl.cli import COMMANDS, command, main
from scigen_rl.command_line import OptionsError, load_options, options_yaml, save_options

from .conftest import REPO, plain


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scigen_rl.cli", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)  # fmt: skip


def _documented_fields(cls: type) -> list[tuple[str, str]]:
    """(flag, first words of its docstring) of every documented scalar field, nested configs included."""
    import ast
    import inspect
    import textwrap

    out = []
    hints = typing.get_type_hints(cls)
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0].body  # type: ignore[attr-defined]
        for node, after in zip(body, body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
            ):
                name = node.target.id  # type: ignore[attr-defined]
                if name in hints and not dataclasses.is_dataclass(hints[name]):
                    out.append((name, " ".join(str(after.value.value).split()[:3])))
    return out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_commands_help_is_its_options_docstrings(name: str) -> None:
    cmd = command(name)
    assert cmd.name == name
    with pytest.raises(SystemExit) as done:
        cmd.parse(["--help"])
    assert done.value.code == 0
    fields = _documented_fields(cmd.options)
    assert fields, f"{cmd.options.__name__} documents none of its options"


@pytest.mark.parametrize("name", ["render", "build", "eval", "train"])
def test_the_help_text_is_the_field_docstring(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    cmd = command(name)
    with pytest.raises(SystemExit):
        cmd.parse(["--help"])
    shown = plain(capsys.readouterr().out)
    for field, words in _documented_fields(cmd.options):
        assert words in shown, f"--{field.replace('_', '-')}: its docstring ({words}...) is not in the help"
    assert " ".join(str(cmd.options.__doc__).split()[:6]) in shown  # the dataclass docstring describes it


def test_the_entry_point_names_every_command_and_refuses_others(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in COMMANDS)
    assert main(["no-such-command"]) == 2 and "unknown command 'no-such-command'" in capsys.readouterr().err
    assert main([]) == 2


def test_a_config_file_sets_options_and_flags_override_it(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("out_dir: from-file\nsets: [mathvision, geometry3k_test=g.parquet]\n")
    cmd = command("eval-sets")
    options = cmd.parse(["--config", str(config)])
    assert (options.out_dir, options.sets) == ("from-file", ("mathvision", "geometry3k_test=g.parquet"))
    options = cmd.parse([f"--config={config}", "--out-dir", "from-flag"])
    assert (options.out_dir, options.sets) == (
        "from-flag",
        ("mathvision", "geometry3k_test=g.parquet"),
    )  # the flag wins, the rest stays
    nested = tmp_path / "nested.yaml"
    nested.write_text(
        "run_dir: r\nllm: {base_url: http://m/v1, model: m, max_tokens: 64}\nexport: {scaling_fractions: [0.5, 1]}\n"
    )
    build = command("build").parse(["--config", str(nested), "--llm.max-tokens", "32"])
    assert (build.llm.base_url, build.llm.max_tokens, build.export.scaling_fractions) == (
        "http://m/v1",
        32,
        (0.5, 1.0),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("out_dir: x\nbogus: 1\n", "unknown setting 'bogus'"),
        ("out_dir: [1, 2]\n", "out_dir: [1, 2]"),
        ("- a list\n", "expected a mapping of settings, got list"),
        ("out_dir: x\nsets: mathvision_mini\n", "sets: 'mathvision_mini'"),
        ("out_dir: [unclosed\n", "not valid YAML at line 2, column 1: "),
    ],
)
def test_a_bad_config_file_is_refused_naming_the_file_and_setting(
    tmp_path: Path, text: str, message: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    done = _cli("eval-sets", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 2 and f"--config {config}" in done.stderr and message in done.stderr, (
        done.stderr
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]  # nothing written
    with pytest.raises(OptionsError):
        load_options(command("eval-sets").options, config)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_resolved_options_read_back_the_same(name: str, tmp_path: Path) -> None:
    """What a run writes (``<folder>/<command>.config.yaml``) gives the same options again."""
    cmd = command(name)
    required = {"render": ["x.py", "--out-dir", "o"], "build": ["--run-dir", "r"], "export": ["--run-dir", "r"],
                "eval-sets": ["--out-dir", "o"], "bench": ["--out-dir", "o"],
                "serve-reward": ["--mode", "rule_only"], "import-figures": ["--generator", "g", "--run-dir", "r"],
                "curate": ["--run-dir", "r"], "difficulty": ["--run-dir", "r"],
                }.get(name, [])  # fmt: skip
    options = cmd.parse(required)
    path = save_options(options, tmp_path, name)
    assert path == tmp_path / f"{name}.config.yaml"
    assert load_options(cmd.options, path) == options
    assert cmd.parse(["--config", str(path)]) == options
    assert path.read_text() == options_yaml(options)


def test_exit_codes_of_bad_arguments() -> None:
    assert _cli("eval-sets", "--out-dir", "o", "--bogus", "1").returncode == 2
    assert _cli("eval-sets").returncode == 2  # a required option missing
    assert _cli("eval", "--k", "four").returncode == 2
    refused = _cli("serve-reward", "--mode", "nonsense")  # the config's own check
    assert refused.returncode == 2 and "RewardConfig.mode: 'nonsense'" in plain(refused.stderr)
    assert _cli("export", "--run-dir", "r", "--scaling-fractions", "2").returncode == 2
    assert _cli("render", "--out-dir", "o").returncode == 2  # no script
    assert _cli("train", "--dry-run", "stray").returncode == 2  # neither a flag nor KEY=VALUE


def test_hydra_overrides_are_not_taken_by_list_flags() -> None:
    train = command("train").parse(["--verifier-urls", "http://v:8001/v1?key=a", "trainer.save_freq=7",
                                    "--train-files", "a.parquet", "+actor.x=1", "~trainer.logger"])  # fmt: skip
    assert train.verifier_urls == ["http://v:8001/v1?key=a"] and train.train_files == ["a.parquet"]
    assert train.overrides == ["trainer.save_freq=7", "+actor.x=1", "~trainer.logger"]
    sweep = command("sweep").parse(
        ["--manifest", "m.json", "data.max_prompt_length=4096", "--overrides", "a=1"]
    )
    assert sweep.train.overrides == ["data.max_prompt_length=4096", "a=1"]  # in the order given


def test_a_run_writes_its_resolved_options_and_repeats_from_them(tmp_path: Path, shipped_data: Path) -> None:
    out = tmp_path / "eval"
    first = _cli(
        "eval-sets", "--out-dir", str(out), "--sets", f"mathvision_mini={shipped_data / 'mathvision'}"
    )
    assert first.returncode == 0, first.stderr
    written = out / "eval-sets.config.yaml"
    assert f"- mathvision_mini={shipped_data / 'mathvision'}" in written.read_text()
    (out / "mathvision_mini.parquet").unlink()
    again = _cli("eval-sets", "--config", str(written))
    assert again.returncode == 0 and json.loads(again.stdout) == json.loads(first.stdout)


def test_an_upward_import_breaks_the_layer_contract(tmp_path: Path) -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (it comes with the dev extra)")
    for package in ("scigen_rl", "reward", "data_builders", "launch"):
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("data", "__pycache__")
        )
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(lint)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)})  # fmt: skip

    kept = check()
    assert kept.returncode == 0, kept.stdout
    with (tmp_path / "scigen_rl" / "records.py").open("a") as f:
        f.write("\nfrom scigen_rl.render import config as _upward  # noqa\n")
    broken = check()
    assert (
        broken.returncode != 0
        and "scigen_rl.records is not allowed to import scigen_rl.render" in broken.stdout
    )


def test_the_readmes_new_command_is_one_file_and_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The worked example of the README, as written there: its module and its registration line."""
    import re

    import scigen_rl.cli as cli

    readme = (REPO / "README.md").read_text()
    module = re.search(r"```python\n# data_builders/failures_command.py\n(.*?)```", readme, re.S)
    line = re.search(r'```python\n(    "failures": .*?)\n```', readme, re.S)
    assert module is not None and line is not None
    (tmp_path / "failures_command.py").write_text(module.group(1))
    monkeypatch.syspath_prepend(str(tmp_path))
    name, (target, summary) = next(iter(eval("{" + line.group(1) + "}").items()))
    monkeypatch.setitem(cli.COMMANDS, name, (target.replace("data_builders.", ""), summary))
    run = tmp_path / "run" / "synthesize"
    run.mkdir(parents=True)
    run.joinpath("figures.jsonl").write_text(
        json.dumps({"problem_id": "p1", "generator": "imgcoder", "status": "failed", "failure": "timeout"})
        + "\n"
    )
    assert cli.main(["failures", "--run-dir", str(tmp_path / "run")]) == 0
    assert json.loads(capsys.readouterr().out) == {"timeout": 1}
    assert cli.main(["--help"]) == 0 and summary in capsys.readouterr().out
