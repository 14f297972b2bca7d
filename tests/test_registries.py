"""Generators and renderers are registries: the README's worked examples, installed as written there
(one file and one registration line), run through the real build and the real sandbox."""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data_builders.build_config import BuildConfig
from data_builders.generators import GENERATORS, make_generator
from scigen_rl.cli import main
from scigen_rl.llm import LLMConfig
from scigen_rl.records import Figure, Problem, read_jsonl
from scigen_rl.render.renderers import RENDERERS, import_root, renderer_module

from .conftest import plain, readme_example

CARD_SCRIPT = """image = Image.new("RGB", (120, 80), "white")
draw = ImageDraw.Draw(image)
draw.rectangle((10, 10, 110, 70), outline="black", width=3)
draw.line((10, 70, 110, 10), fill=(200, 30, 30), width=2)
"""


def _config(tmp_path: Path) -> BuildConfig:
    return BuildConfig(
        run_dir=str(tmp_path / "run"), llm=LLMConfig(base_url="http://127.0.0.1:9/v1", model="m")
    )


ARGUMENTS = {"openai": "gpt-image-1", "gateway": "qwen-image-plus@http://127.0.0.1:9/v1",
             "gemini": "gemini-3-pro-image-preview", "bfl": "flux-2-flex", "diffusers": "Qwen/Qwen-Image"}  # fmt: skip
"""An argument each generator that needs one accepts (the others get none)."""


def test_every_registered_generator_and_renderer_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("OPENAI_API_KEY", "GEMINI_API_KEY", "BFL_API_KEY"):
        monkeypatch.setenv(variable, "k")
    for name in GENERATORS:
        spec = f"{name}:{ARGUMENTS[name]}" if name in ARGUMENTS else name
        generator = make_generator(spec, _config(tmp_path))
        assert generator.name and isinstance(generator.needs_llm, bool)
        assert inspect.iscoroutinefunction(generator.make)
    for name in RENDERERS:
        import importlib

        module = importlib.import_module(renderer_module(name))
        assert (
            isinstance(module.WARMUP_SCRIPT, str) and callable(module.prepare) and callable(module.run_script)
        )
        assert (
            Path(import_root(renderer_module(name)), *renderer_module(name).split("."))
            .with_suffix(".py")
            .is_file()
        )


def test_unknown_names_are_refused_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown generator 'nope' .*imgcoder"):
        make_generator("nope:x", _config(tmp_path))
    with pytest.raises(ValueError, match="no argument"):
        make_generator("imgcoder:extra", _config(tmp_path))
    with pytest.raises(ValueError, match="unknown renderer 'asymptote' .*matplotlib"):
        renderer_module("asymptote")


def test_build_refuses_an_unknown_generator_or_renderer_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    llm = ["--llm.base-url", "http://127.0.0.1:9/v1", "--llm.model", "m", "--limit", "1"]
    for extra, said in ((["--generator", "pixels"], "unknown generator 'pixels'"),
                        (["--render.renderer", "asymptote"], "unknown renderer 'asymptote'")):  # fmt: skip
        run = tmp_path / extra[1]
        assert main(["build", "--run-dir", str(run), *llm, *extra]) == 2
        assert said in plain(capsys.readouterr().err)
        assert not run.exists()


def test_the_readmes_generator_is_one_file_and_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = readme_example("data_builders/generators/textcard.py", GENERATORS, tmp_path, monkeypatch)
    run = tmp_path / "run"
    common = ["build", "--run-dir", str(run), "--limit", "2", "--render.workers", "1"]
    assert main([*common, "--generator", f"{name}:not-a-width"]) == 2  # its argument checked up front
    assert not run.exists()
    code = main([*common, "--generator", f"{name}:40"])  # and no model: it needs none
    assert code in (0, 1), capsys.readouterr().err
    problems = {p.id: p for p in read_jsonl(run / "problems.jsonl", Problem)}
    figures = list(read_jsonl(run / "synthesize" / "figures.jsonl", Figure))
    assert len(figures) == len(problems) == 2
    for figure in figures:
        card = textwrap.fill(problems[figure.problem_id].question[:800], 40)
        assert (figure.generator, figure.status) == (name, "ok")
        assert repr(card) in (figure.code or "")
        assert [t for t in figure.extra["texts"] if card.startswith(t) and len(t) >= 100]  # drawn (cut)
        assert max(len(line) for line in card.splitlines()) <= 40
        Image.open(figure.png_path or "").verify()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["rendered"] == 2 and summary["model_errors"] == {}


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_the_readmes_renderer_is_one_file_and_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = readme_example("scigen_rl/render/pillow_draw.py", RENDERERS, tmp_path, monkeypatch)
    scripts = {
        "card.py": CARD_SCRIPT,
        "raises.py": "image = Image.new('RGB', (8, 8))\nraise KeyError('no such part')\n",
        "nothing.py": "x = 1\n",
        "broken.py": "image = (\n",
        # the same sandbox as matplotlib's: no network, a read-only filesystem
        "socket.py": "import socket\nsocket.create_connection(('127.0.0.1', 9))\n",
        "writes.py": "open('/usr/lib/planted', 'w').write('x')\n",
    }
    for file, text in scripts.items():
        (tmp_path / file).write_text(text)
    out = tmp_path / "out"
    args = [
        "render",
        "--renderer",
        name,
        *(str(tmp_path / f) for f in scripts),
        "--out-dir",
        str(out),
        "--quiet",
    ]
    assert main([*args, "--workers", "1"]) == 1  # some failed
    lines = {Path(r["script"]).name: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert {f: lines[f]["failure"] for f in scripts} == {
        "card.py": None,
        "raises.py": "runtime",
        "nothing.py": "no_figure",
        "broken.py": "syntax",
        "socket.py": "runtime",
        "writes.py": "runtime",
    }
    assert "KeyError: 'no such part'" in lines["raises.py"]["error"]
    # the picture is the one the script draws, computed here outside the sandbox
    from PIL import ImageDraw

    scope = {"Image": Image, "ImageDraw": ImageDraw}
    exec(CARD_SCRIPT, scope)
    expected = io.BytesIO()
    scope["image"].save(expected, format="PNG")
    assert np.array_equal(_pixels((out / "card.png").read_bytes()), _pixels(expected.getvalue()))


def test_render_refuses_an_unknown_renderer_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "a.py"
    script.write_text("import matplotlib.pyplot as plt\nplt.plot([1, 2])\n")
    out = tmp_path / "out"
    assert main(["render", "--renderer", "asymptote", str(script), "--out-dir", str(out)]) == 2
    assert "unknown renderer 'asymptote'" in plain(capsys.readouterr().err) and not out.exists()


def test_a_generator_without_a_model_gets_no_client_and_imgcoder_says_so(tmp_path: Path) -> None:
    from data_builders.generators.base import Tools

    imgcoder = make_generator("imgcoder", _config(tmp_path))
    problem = Problem("p1", "What is 1+1?", "2", "test")
    assert asyncio.run(imgcoder.make(problem, Tools(None, None))) == "the build has no model client"  # type: ignore[arg-type]
