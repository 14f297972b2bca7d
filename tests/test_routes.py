"""Routing image types to renderers: a build against the stand-in model with every renderer in the real
sandbox (a routed figure in each language, a repair in DOT, a fallback to matplotlib), bench's numbers
per renderer, and the checks on --routing and --routes."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from data_builders.build_command import BuildOptions, _routes
from data_builders.generators.routes import DEFAULT_ROUTES, parse_routes, route
from scigen_rl.cli import main
from scigen_rl.imgcoder import build_messages, parse_dot, parse_for, repair_messages
from scigen_rl.llm.standin import StandInServer
from scigen_rl.loaders import load_scigenbench
from scigen_rl.records import Problem
from scigen_rl.render.renderers import unavailable

from .conftest import plain
from .test_build import _build
from .test_candidates import COLOURS, SCRIPT, Verifier, colour_of

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
        assert ("routing: drawn by graphviz 1, matplotlib 2, rdkit 1, schemdraw 1; 1 fell back to matplotlib "
                "(rdkit 1: failed to render)") in plain(err)  # fmt: skip
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


# Routing with best-of-N (`--candidates 3 --verify`): every candidate of a routed type is written for and
# drawn by the routed renderer, a candidate whose routed render still fails falls back to matplotlib on
# its own, and each candidate's renderer is in the kept figure's record.
CIRCUITS = ("webinstruct-1158582", "webinstruct-1643706", "webinstruct2_2-303964")
BROKEN_AT = {"webinstruct-1643706": 1, "webinstruct2_2-303964": 0}
"""The candidate whose schemdraw script (and its repair) fails, per problem; the first circuit has none."""
LAMP = """PLAN
1. Image content: a battery, a resistor and a lamp.
CODE
```python
import schemdraw
import schemdraw.elements as elm
with schemdraw.Drawing() as d:
    d += elm.Battery().up().label("12 V")
    d += elm.Resistor().right().label("R1 = 4 kOhm")
    d += elm.Lamp().down().fill("{colour}"){broken}
    d += elm.Line().left()
```"""


class CircuitPainter:
    """Candidate k of a circuit draws its lamp in COLOURS[k % 3] with schemdraw, except the candidate of
    BROKEN_AT, whose script and repair fail; its matplotlib fallback paints the block of
    test_candidates in the candidate's colour. A problem's candidates come one after another."""

    def __init__(self, questions: dict[str, str]) -> None:
        self.questions = questions
        self.samples: Counter[str] = Counter()  # first-round schemdraw requests per problem

    def __call__(self, body: dict[str, Any]) -> str:
        if body.get("temperature") != 0.7:
            raise ValueError("candidates are sampled at the build's temperature")
        messages = body["messages"]
        system, user = messages[0]["content"], messages[1]["content"]
        pid = next(i for i, q in self.questions.items() if q in user)
        if "with schemdraw" in system:
            self.samples[pid] += len(messages) == 2  # a repair continues the same candidate
            k = self.samples[pid] - 1
            broken = ".shine()" if BROKEN_AT.get(pid) == k else ""
            return LAMP.replace("{colour}", COLOURS[k % 3]).replace("{broken}", broken)
        k = self.samples[pid] - 1  # the fallback of the candidate that just failed
        return SCRIPT.replace("{colour}", COLOURS[k % 3]).replace("{tag}", "fallback")


@pytest.fixture(scope="module")
def routed_candidates(tmp_path_factory: pytest.TempPathFactory, shipped_data: Path) -> dict[str, Any]:
    """One routed build of three circuits, best of three each, its records and requests, and bench on it."""
    problems = {p.id: p for p in load_scigenbench(shipped_data / "scigenbench") if p.id in CIRCUITS}
    table = {q.question: (q.correct_option, i, len(p.quizzes)) for p in problems.values()
             for i, q in enumerate(p.quizzes)}  # fmt: skip
    model = StandInServer(reply=CircuitPainter({i: p.question.strip() for i, p in problems.items()}))
    vision = StandInServer(api_key=None, reply=Verifier(table))
    run, bench_out = tmp_path_factory.mktemp("routed") / "run", tmp_path_factory.mktemp("bench")
    try:
        proc = _build(model, run, 3, shipped_data / "scigenbench", "--ids", ",".join(CIRCUITS),
                      "--candidates", "3", "--llm.temperature", "0.7", "--verify", "--verifier.base-url",
                      vision.base_url, "--verifier.model", "vl", "--render.workers", "1", "--route-workers",
                      "1", "--render.preload", "json", "--repair-rounds", "1", "--concurrency", "2")  # fmt: skip
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        code = main(["bench", "--run-dir", str(run), "--out-dir", str(bench_out), "--metrics", "rinv",
                     "--judge.base-url", vision.base_url, "--judge.model", "vl"])  # fmt: skip
        assert code == 0
    finally:
        model.close()
        vision.close()
    figures = {
        f["problem_id"]: f
        for f in map(json.loads, (run / "synthesize" / "figures.jsonl").read_text().splitlines())
    }
    return {"problems": problems, "figures": figures, "requests": model.requests, "run": run, "err": err,
            "bench": json.loads((bench_out / "summary.json").read_text())}  # fmt: skip


def test_routed_candidates_are_each_drawn_by_the_routed_renderer(routed_candidates: dict[str, Any]) -> None:
    figure = routed_candidates["figures"]["webinstruct-1158582"]
    assert figure["status"] == "ok" and figure["extra"]["renderer"] == "schemdraw"
    assert figure["extra"]["fallback"] is None and figure["code"].startswith("import schemdraw")
    scores = figure["extra"]["candidates"]
    assert [(c["renderer"], c["fallback"]) for c in scores] == [("schemdraw", None)] * 3
    assert [colour_of(Path(c["png"]).read_bytes()) for c in scores] == list(COLOURS)  # the k-th sample each
    half = (len(routed_candidates["problems"]["webinstruct-1158582"].quizzes) // 2) / 6
    assert [c["r_inv"] for c in scores] == [0.0, 1.0, half] and figure["extra"]["candidate"] == 1
    assert colour_of(Path(figure["png_path"]).read_bytes()) == "green"
    # Each of the nine candidates was asked in schemdraw's prompt; only the two broken ones were repaired
    # (in schemdraw's prompt again) and asked once more as matplotlib.
    firsts = [r for r in routed_candidates["requests"] if len(r["messages"]) == 2]
    systems = Counter(
        "schemdraw" if "with schemdraw" in r["messages"][0]["content"] else "other" for r in firsts
    )
    assert systems == {"schemdraw": 9, "other": 2}
    repairs = [r for r in routed_candidates["requests"] if len(r["messages"]) > 2]
    assert len(repairs) == 2 and all("with schemdraw" in r["messages"][0]["content"] for r in repairs)
    c = json.loads((routed_candidates["run"] / "candidates.json").read_text())
    assert c["by_image_type"]["Physics - Circuit"]["problems"] == 3


def test_a_routed_candidate_that_fails_falls_back_alone(routed_candidates: dict[str, Any]) -> None:
    figures = routed_candidates["figures"]
    # The fallback was the best: kept, and recorded as drawn by matplotlib after schemdraw failed.
    kept = figures["webinstruct-1643706"]
    assert kept["extra"]["candidate"] == 1 and kept["extra"]["renderer"] == "matplotlib"
    fallback = kept["extra"]["fallback"]
    assert (
        fallback["renderer"] == "schemdraw"
        and fallback["failure"] == "runtime"
        and "shine" in fallback["error"]
    )
    assert kept["repair_rounds"] == 1 and "import matplotlib" in kept["code"]
    rows = [(c["renderer"], c["fallback"]) for c in kept["extra"]["candidates"]]
    assert rows == [("schemdraw", None), ("matplotlib", "schemdraw"), ("schemdraw", None)]
    assert colour_of(Path(kept["png_path"]).read_bytes()) == "green"
    # The fallback was the worst: a routed candidate kept, the fallback still named among the candidates.
    other = figures["webinstruct2_2-303964"]
    assert other["extra"]["candidate"] == 1 and other["extra"]["renderer"] == "schemdraw"
    assert other["extra"]["fallback"] is None and other["code"].startswith("import schemdraw")
    rows = [(c["renderer"], c["fallback"]) for c in other["extra"]["candidates"]]
    assert rows == [("matplotlib", "schemdraw"), ("schemdraw", None), ("schemdraw", None)]
    assert [c["r_inv"] for c in other["extra"]["candidates"]][0] == 0.0  # the red fallback, scored
    # the build's summary and bench count the kept figures: schemdraw drew two, and fell back for the third
    summary = json.loads((routed_candidates["run"] / "summary.json").read_text())
    assert summary["routing"] == {"drawn": {"matplotlib": 1, "schemdraw": 2}, "unavailable": {},
                                  "fell_back": {"schemdraw": {"figures": 1, "unavailable": 0}}}  # fmt: skip
    line = "routing: drawn by matplotlib 1, schemdraw 2; 1 fell back to matplotlib (schemdraw 1: failed to render)"
    assert line in plain(routed_candidates["err"])
    rows = routed_candidates["bench"]["by_renderer"]
    counts = {r: (v["attempted"], v["rendered"], v["fell_back"], v["figures"]) for r, v in rows.items()}
    assert counts == {"schemdraw": (3, 2, 1, 2), "matplotlib": (1, 1, 0, 1)}


def test_a_routed_renderer_that_cannot_start_falls_back_to_matplotlib(
    tmp_path: Path, shipped_data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """schemdraw installed but broken on this machine: its workers die importing it. The build goes on,
    drawing circuits with matplotlib (schemdraw is never asked for), and says so in its summary."""
    import scigen_rl.render.pool as pool

    (tmp_path / "broken_schemdraw.py").write_text(
        "raise ImportError('libcairo.so.2: cannot open shared object file')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    real = pool.renderer_module
    monkeypatch.setattr(
        pool, "renderer_module", lambda name: "broken_schemdraw" if name == "schemdraw" else real(name)
    )
    monkeypatch.setenv("STANDIN_KEY", "test-key")
    server = StandInServer(reply=model)
    run = tmp_path / "run"
    ids = ["webinstruct-1158582", "webinstruct-1643706", "webinstruct-994992"]
    try:
        code = main(["build", "--run-dir", str(run), "--scigenbench-dir", str(shipped_data / "scigenbench"),
                     "--ids", ",".join(ids), "--llm.base-url", server.base_url, "--llm.model", "stand-in",
                     "--llm.api-key-env", "STANDIN_KEY", "--render.workers", "1", "--route-workers", "1",
                     "--render.preload", "json", "--concurrency", "2"])  # fmt: skip
    finally:
        server.close()
    err = plain(capsys.readouterr().err)
    assert code == 0, err
    figures = {
        f["problem_id"]: f
        for f in map(json.loads, (run / "synthesize" / "figures.jsonl").read_text().splitlines())
    }
    for pid in ids[:2]:
        figure = figures[pid]
        assert figure["status"] == "ok" and figure["extra"]["renderer"] == "matplotlib"
        fallback = figure["extra"]["fallback"]
        assert fallback["renderer"] == "schemdraw" and fallback["failure"] == "unavailable"
        assert "libcairo.so.2" in fallback["error"]
    assert figures[ids[2]]["extra"] == {
        **figures[ids[2]]["extra"],
        "renderer": "matplotlib",
        "fallback": None,
    }
    assert not any("with schemdraw" in r["messages"][0]["content"] for r in server.requests)
    assert err.count("the schemdraw renderer could not start") == 1  # tried once: the next circuit knew
    summary = json.loads((run / "summary.json").read_text())
    assert summary["routing"]["fell_back"] == {"schemdraw": {"figures": 2, "unavailable": 2}}
    why = summary["routing"]["unavailable"]["schemdraw"]  # the worker's own error, not its traceback
    assert why.startswith("render worker failed to start") and "Traceback" not in why
    assert why.endswith(": ImportError: libcairo.so.2: cannot open shared object file")
    assert (
        f"routing: drawn by matplotlib 3; 2 fell back to matplotlib (schemdraw 2: could not start: {why})"
        in err
    )


TIKZ = (
    "```latex\n\\documentclass[tikz,border=4pt]{standalone}\n\\begin{document}\n\\begin{tikzpicture}\n"
    "\\draw[thick] (0,0) circle (1) node {star};\n\\draw (2.5,0) circle (0.3) node[above=6pt] {planet};\n"
    "\\end{tikzpicture}\n\\end{document}\n```"
)
TIKZ_BROKEN = TIKZ.replace("node {star}", "node {\\stellar}")


def tikz_model(body: dict[str, Any]) -> str:
    """The stand-in for TikZ: an undefined macro first, the document fixed when the repair names it."""
    messages = body["messages"]
    if messages[0]["role"] != "system":
        return "The answer is A."
    system, last = messages[0]["content"], messages[-1]["content"]
    if "with TikZ" not in system:
        return PLAN + MPL.replace("{tag}", "fallback")
    return PLAN + (TIKZ if "Undefined control sequence" in last else TIKZ_BROKEN)


@pytest.mark.skipif(unavailable("tikz") is not None, reason=f"TikZ cannot run here: {unavailable('tikz')}")
@pytest.mark.parametrize("how", ["routed", "whole build"])
def test_a_tikz_build_writes_latex_repairs_it_with_texs_error_and_draws_it(
    how: str, tmp_path: Path, shipped_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_KEY", "test-key")
    server = StandInServer(reply=tikz_model)
    run = tmp_path / "run"
    choice = (["--routes", "Physics - Astronomical=tikz"] if how == "routed"
              else ["--routing", "off", "--render.renderer", "tikz"])  # fmt: skip
    try:
        proc = _build(server, run, 1, shipped_data / "scigenbench", "--ids", "webinstruct-994992",
                      "--render.workers", "1", "--route-workers", "1", "--render.preload", "json",
                      "--repair-rounds", "1", *choice)  # fmt: skip
        out, err = proc.communicate(timeout=300)
    finally:
        server.close()
    assert proc.returncode == 0, err
    (figure,) = map(json.loads, (run / "synthesize" / "figures.jsonl").read_text().splitlines())
    assert figure["status"] == "ok" and figure["repair_rounds"] == 1
    assert figure["code"].startswith("\\documentclass") and "star" in figure["code"]
    assert figure["extra"].get("renderer", "tikz") == "tikz" and not figure["extra"].get("fallback")
    systems = [r["messages"][0]["content"] for r in server.requests if r["messages"][0]["role"] == "system"]
    assert len(systems) == 2 and all("with TikZ" in s for s in systems)
    repair = server.requests[1]["messages"][-1]["content"]
    assert "Compiling your LaTeX document failed" in repair and "\\stellar" in repair
    assert list((run / "synthesize" / "png").glob("*.png"))


def test_a_prompt_that_writes_python_is_refused_for_a_latex_or_dot_renderer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["build", "--run-dir", str(tmp_path / "r"), "--llm.base-url", "http://127.0.0.1:9/v1",
            "--llm.model", "m", "--routing", "off", "--prompt", "skeleton"]  # fmt: skip
    for renderer in ("graphviz", "tikz"):
        assert main([*base, "--render.renderer", renderer]) == 2
        assert f"which the {renderer} renderer cannot run" in capsys.readouterr().err
    plan_code = [*base[:-1], "plan-code", "--render.renderer", "tikz"]
    assert main([*plan_code, "--render.tex-engine", str(tmp_path / "no-such-engine")]) == 2
    err = capsys.readouterr().err
    assert "--render.renderer tikz: the TeX engine" in err and "texlive-pictures" in err
    assert not (tmp_path / "r" / "synthesize").exists()


def test_a_renderer_that_cannot_run_here_is_left_out_by_auto_and_stops_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scigen_rl.render import renderers

    monkeypatch.setitem(renderers.PACKAGES, "schemdraw", "no_such_package_here")
    assert "no_such_package_here" in (renderers.unavailable("schemdraw") or "")
    assert renderers.unavailable("rdkit") is None
    options = BuildOptions(run_dir=str(tmp_path / "r"))
    routes = _routes(options, "plan-code")
    assert (
        routes is not None
        and "Physics - Circuit" not in routes
        and routes["Chemistry - Reaction Scheme"] == "rdkit"
    )
    assert "cannot run here: schemdraw" in capsys.readouterr().err
    options.routing = "on"
    with pytest.raises(ValueError, match="--routing on: cannot run here: schemdraw.*no_such_package_here"):
        _routes(options, "plan-code")


def test_a_build_that_stops_on_an_error_closes_its_model_clients(
    tmp_path: Path, shipped_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from data_builders import build
    from data_builders.generators.imgcoder import ImgCoder
    from scigen_rl.llm.client import ChatClient

    async def broken(self: Any, problem: Any, tools: Any) -> Any:
        raise RuntimeError("a bug in a generator")

    made, closed = [], []
    original_make, original_close = build.make_client, ChatClient.close

    def recording_make(config: Any) -> Any:
        made.append(original_make(config))
        return made[-1]

    async def recording_close(self: ChatClient) -> None:
        closed.append(self)
        await original_close(self)

    monkeypatch.setattr(ImgCoder, "make", broken)
    monkeypatch.setattr(build, "make_client", recording_make)
    monkeypatch.setattr(ChatClient, "close", recording_close)
    monkeypatch.setenv("STANDIN_KEY", "test-key")
    server = StandInServer(reply=model)
    try:
        with pytest.raises(RuntimeError, match="a bug in a generator"):
            main(["build", "--run-dir", str(tmp_path / "r"), "--limit", "1", "--scigenbench-dir",
                  str(shipped_data / "scigenbench"), "--llm.base-url", server.base_url, "--llm.model", "m",
                  "--llm.api-key-env", "STANDIN_KEY", "--render.workers", "1", "--render.preload", "json",
                  "--routing", "off"])  # fmt: skip
    finally:
        server.close()
    assert made and all(any(c is m for c in closed) for m in made)
