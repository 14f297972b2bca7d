"""Routing image types to renderers: a build against the stand-in model with every renderer in the real
sandbox (a routed figure in each language, a repair in DOT, a fallback to matplotlib), bench's numbers
per renderer, and the checks on --routing and --routes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from data_builders.build_command import BuildOptions, _routes
from data_builders.generators.routes import DEFAULT_ROUTES, parse_routes, route
from scigen_rl.cli import main
from scigen_rl.imgcoder import build_messages, parse_dot, parse_for, repair_messages
from scigen_rl.llm.standin import StandInServer
from scigen_rl.records import Problem

from .conftest import plain
from .test_build import _build

IDS = {
    "webinstruct-258389": "Chemistry - Molecular Structure",
    "webinstruct-863007": "Chemistry - Reaction Scheme",
    "webinstruct-1158582": "Physics - Circuit",
    "webinstruct-33299": "Universal - Graph & Flow",
    "webinstruct-994992": "Physics - Astronomical",
}
PLAN = "PLAN\n1. Image content: the parts.\n2. Layout: centred.\n3. Labels: given values.\n4. Drawing constraints: no answer.\n\nCODE\n"
RDKIT = """```python
from rdkit import Chem
from rdkit.Chem import Draw
mol = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
show(Draw.MolToImage(mol, size=(320, 320), legend="acetylsalicylic acid"))
```"""
RDKIT_BROKEN = """```python
from rdkit import Chem
mol = Chem.MolFromSmiles("CCO")
show(Draw.ReactionToImage(mol))
```"""
SCHEMDRAW = """```python
import schemdraw
import schemdraw.elements as elm
with schemdraw.Drawing() as d:
    d += elm.Battery().up().label("12 V")
    d += elm.Resistor().right().label("R1 = 4 kOhm")
    d += elm.Resistor().down().label("R2 = 2 kOhm", loc="bottom")
    d += elm.Line().left()
```"""
DOT = '```dot\ndigraph flow {\n  rankdir=LR;\n  start [shape=ellipse, label="start"];\n  check [shape=diamond, label="x > 0?"];\n  start -> check;\n  check -> done [label="yes"];\n}\n```'
DOT_BROKEN = "```dot\ndigraph flow {\n  start -> -> check\n}\n```"
MPL = """```python
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(5, 4))
ax.add_patch(plt.Circle((0, 0), 1, color="orange"))
ax.add_patch(plt.Circle((2.5, 0), 0.3, color="steelblue"))
ax.annotate("{tag}", (2.5, 0.4), ha="center")
ax.set_xlim(-1.5, 3.5); ax.set_ylim(-1.5, 1.5); ax.set_aspect("equal"); ax.axis("off")
```"""


def model(body: dict[str, Any]) -> str:
    """The stand-in: writes in the language its system prompt asks for; the quizzes get 'A'."""
    messages = body["messages"]
    if messages[0]["role"] != "system":  # bench's quiz (or judge) call
        return "The answer is A."
    system, user, last = messages[0]["content"], messages[1]["content"], messages[-1]["content"]
    if "with RDKit" in system:
        return PLAN + (RDKIT_BROKEN if "Reaction Scheme" in user else RDKIT)
    if "with schemdraw" in system:
        return PLAN + SCHEMDRAW
    if "DOT language" in system:
        return PLAN + (DOT if "Drawing your graph failed" in last else DOT_BROKEN)
    tag = re.sub(r"[^A-Za-z ]", "", user.split("\n")[1])[:20]
    return PLAN + MPL.replace("{tag}", tag)


def test_a_routed_build_draws_each_type_with_its_renderer_and_falls_back_to_matplotlib(
    tmp_path: Path, shipped_data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_KEY", "test-key")
    server = StandInServer(reply=model)
    run = tmp_path / "run"
    try:
        proc = _build(server, run, 5, shipped_data / "scigenbench", "--ids", ",".join(IDS),
                      "--render.workers", "1", "--route-workers", "1", "--render.preload", "json",
                      "--repair-rounds", "1", "--concurrency", "2")  # fmt: skip
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "build: routing " in err and "Physics - Circuit -> schemdraw" in err
        figures = {
            f["problem_id"]: f
            for f in map(json.loads, (run / "synthesize" / "figures.jsonl").read_text().splitlines())
        }
        drawn = {IDS[i]: (f["status"], f["extra"]["renderer"]) for i, f in figures.items()}
        assert drawn == {
            "Chemistry - Molecular Structure": ("ok", "rdkit"),
            "Chemistry - Reaction Scheme": ("ok", "matplotlib"),
            "Physics - Circuit": ("ok", "schemdraw"),
            "Universal - Graph & Flow": ("ok", "graphviz"),
            "Physics - Astronomical": ("ok", "matplotlib"),
        }
        fell = figures["webinstruct-863007"]
        assert fell["extra"]["fallback"]["renderer"] == "rdkit"
        assert (
            fell["extra"]["fallback"]["failure"] == "runtime" and "Draw" in fell["extra"]["fallback"]["error"]
        )
        assert fell["repair_rounds"] == 1 and "import matplotlib" in fell["code"]
        graph = figures["webinstruct-33299"]
        assert graph["repair_rounds"] == 1 and graph["code"].startswith("digraph flow")
        assert all(figures[i]["extra"]["fallback"] is None for i in IDS if i != "webinstruct-863007")
        # rdkit's repair round saw rdkit's prompt again; the fallback was one plain matplotlib call
        systems = [r["messages"][0]["content"] for r in server.requests]
        assert sum("with RDKit" in s for s in systems) == 3 and sum("DOT language" in s for s in systems) == 2

        # bench on the build: R_inv and render success per renderer and image type
        bench_out = tmp_path / "bench"
        code = main(["bench", "--run-dir", str(run), "--out-dir", str(bench_out), "--metrics", "rinv",
                     "--judge.base-url", server.base_url, "--judge.model", "vl", "--judge.api-key-env",
                     "STANDIN_KEY"])  # fmt: skip
    finally:
        server.close()
    assert code == 0, capsys.readouterr().err
    summary = json.loads((bench_out / "summary.json").read_text())
    rows = summary["by_renderer"]
    assert set(rows) == {"rdkit", "schemdraw", "graphviz", "matplotlib"}
    counts = {
        r: (v["attempted"], v["rendered"], v["fell_back"], v["render_success"]) for r, v in rows.items()
    }
    assert counts == {"rdkit": (2, 1, 1, 0.5), "schemdraw": (1, 1, 0, 1.0), "graphviz": (1, 1, 0, 1.0),
                      "matplotlib": (2, 2, 0, 1.0)}  # fmt: skip
    assert rows["rdkit"]["by_image_type"]["Chemistry - Reaction Scheme"]["render_success"] == 0.0
    assert rows["rdkit"]["figures"] == 1 and rows["matplotlib"]["figures"] == 2
    assert all(v["r_inv"] is not None for v in rows.values())
    board = (bench_out / "leaderboard.md").read_text()
    assert "## By renderer:" in board and "| rdkit | Chemistry - Reaction Scheme | 1 | 0 | 0.0 | 1 |" in board


def test_routes_are_checked_before_any_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = str(tmp_path / "run")
    base = ["build", "--run-dir", run, "--llm.base-url", "http://127.0.0.1:9/v1", "--llm.model", "m"]
    assert main([*base, "--routes", "Physics - Circut=schemdraw"]) == 2
    err = plain(capsys.readouterr().err)
    assert "unknown image type 'Physics - Circut'; did you mean 'Physics - Circuit'?" in err
    assert main([*base, "--routes", "Physics - Circuit=schemdrw"]) == 2
    err = plain(capsys.readouterr().err)
    assert "unknown renderer 'schemdrw'; did you mean 'schemdraw'?" in err and "Traceback" not in err
    assert main([*base, "--routing", "on", "--prompt", "skeleton"]) == 2
    assert "--routing on and --routes need" in capsys.readouterr().err
    assert not Path(run, "llm-cache").exists()


def test_route_options_resolve_to_a_table(tmp_path: Path) -> None:
    options = BuildOptions(run_dir=str(tmp_path))
    assert _routes(options, "plan-code") == DEFAULT_ROUTES  # every renderer's package is installed here
    options.routes = ("Physics - Circuit=matplotlib", "Biology - Ecological=graphviz")
    routes = _routes(options, "plan-code")
    assert routes is not None and "Physics - Circuit" not in routes
    assert route(routes, "Biology - Ecological") == "graphviz" and route(routes, None) == "matplotlib"
    yaml_file = tmp_path / "routes.yaml"
    yaml_file.write_text("Biology - Genetics: graphviz\n")
    assert parse_routes([str(yaml_file)]) == {"Biology - Genetics": "graphviz"}
    options.routes, options.routing = (), "off"
    assert _routes(options, "plan-code") is None
    options.routing = "auto"
    assert _routes(options, "skeleton") is None  # the other prompts write matplotlib only
    with pytest.raises(ValueError, match="neither TYPE=RENDERER nor a YAML file"):
        parse_routes(["Physics - Circuit"])


def test_each_renderer_has_its_prompt_and_parser() -> None:
    problem = Problem(id="p", question="Draw ethanol.", answer="", source="t",
                      image_type="Chemistry - Molecular Structure")  # fmt: skip
    prompts = {
        r: build_messages(problem, r)[0]["content"] for r in ("matplotlib", "rdkit", "schemdraw", "graphviz")
    }
    assert all("1. Image content" in p and "4. Drawing constraints" in p for p in prompts.values())
    assert "show(" in prompts["rdkit"] and "schemdraw.Drawing()" in prompts["schemdraw"]
    assert "```dot" in prompts["graphviz"] and "```python" not in prompts["graphviz"]
    assert parse_for(PLAN + RDKIT, "rdkit").code.startswith("from rdkit")  # type: ignore[union-attr]
    assert parse_for(PLAN + RDKIT, "matplotlib").code is None  # no matplotlib in it
    assert parse_for(PLAN + SCHEMDRAW, "schemdraw").code.startswith("import schemdraw")  # type: ignore[union-attr]
    parsed = parse_dot("<think>x</think>" + PLAN + "Here:\n" + DOT + "\nDone.")
    assert parsed.code is not None and parsed.code.startswith("digraph flow {") and parsed.code.endswith("}")
    assert parsed.plan is not None and parsed.plan.startswith("1. Image content")
    assert parse_dot("graph { a -- b } trailing").code == "graph { a -- b }"
    assert parse_dot("no graph here").code is None
    repair = repair_messages([], "x", "runtime: syntax error", renderer="graphviz")[-1]["content"]
    assert "```dot" in repair
