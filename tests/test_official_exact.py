"""`--scorer official-exact`: MathVision's official scorer, verdict for verdict.

The reference is the official scorer itself (mathllm/MATH-V's evaluation/evaluate.py run with
latex2sympy2; tests/data/mathvision_official/SOURCE.md): its verdicts on a sample of the published
model outputs chosen to hold every hard case, and on the hand-written cases below (each verdict
checked against it)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scigen_rl.evaluate import official_exact
from scigen_rl.evaluate.official_exact import official_answer, official_exact_correct
from scigen_rl.evaluate.official_latex import latex_number

SAMPLE = Path(__file__).parent / "data" / "mathvision_official" / "outputs_sample.jsonl"
LETTERS = ["A", "B", "C", "D", "E"]


def sample() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def disagreements(items: list[dict[str, Any]]) -> list[str]:
    out = []
    for item in items:
        answer = official_answer(item["response"])
        verdict = official_exact_correct(item["response"], item["answer"], item["options"])
        if (answer, verdict) != (item["official_answer"], item["official_correct"]):
            out.append(f"{item['model']} #{item['id']}: official {item['official_answer']!r} "
                       f"{item['official_correct']}, here {answer!r} {verdict}")  # fmt: skip
    return out


def test_published_outputs_get_the_official_verdicts_item_for_item() -> None:
    items = sample()
    assert disagreements(items) == []
    # the sample holds the hard cases, both ways (so that the agreement above means something)
    right = [i for i in items if i["official_correct"]]
    assert 100 < len(right) < len(items) - 100
    by_text = [i for i in right if i["options"] and i["official_answer"] != i["answer"].lower()]
    assert len(by_text) >= 20  # right by the gold option's raw text (a number or LaTeX), not its letter
    assert any("frac" in i["options"][ord(i["answer"]) - 65] for i in by_text)
    assert any(i["official_answer"].startswith("bf") for i in items)  # \textbf{A} -> "bfa", wrong
    assert any("{cm}" in i["official_answer"] or "~cm" in i["official_answer"] for i in items)  # units stay
    assert any("oxed{" not in i["response"] and "answer is" in i["response"] for i in right)  # no box
    assert any(i["response"].count("oxed{") > 1 for i in right)
    assert any("sqrt" in i["official_answer"] for i in right)
    rounded = [i for i in right if i["official_answer"] != i["answer"].lower() and not i["options"]]
    assert len(rounded) >= 5  # equal only as 2-decimal numbers


UNITS = re.compile(r"\\mathrm\{~?[a-z]+\}(\^\{?2\}?)?|\{(cm|m|mm|dm)\}(\^\{?2\}?)?")
PLANTED: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "no 2-decimal rounding": lambda mp: mp.setattr(official_exact, "_rounded", latex_number),
    "numbers never read": lambda mp: mp.setattr(official_exact, "_rounded", lambda t: float("nan")),
    "units cut before reading": lambda mp: mp.setattr(
        official_exact, "_rounded", lambda t: round(latex_number(UNITS.sub("", t)), 2)
    ),
    "letters only, no option text": lambda mp: mp.setattr(official_exact, "gold_option", lambda g, o: ""),
    "no answer phrases": lambda mp: mp.setattr(official_exact, "_after_flags", lambda a: a),
    "text equality only": lambda mp: mp.setattr(
        official_exact, "answers_equal", lambda g, a: bool(g.strip()) and g.lower().strip() == a.strip()
    ),
}


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_a_planted_bug_breaks_the_agreement(bug: str, monkeypatch: pytest.MonkeyPatch) -> None:
    PLANTED[bug](monkeypatch)
    assert disagreements(sample())


# Each verdict and extracted answer as the official scorer gives them (run on these very cases).
@pytest.mark.parametrize(
    ("response", "gold", "options", "answer", "expected"),
    [
        ("\\boxed{A}", "A", LETTERS, "a", True),
        ("\\boxed{\\textbf{A}}", "A", LETTERS, "bfa", False),  # \text deleted, then bf{a}
        ("The answer is \\textbf{(A)}.", "A", LETTERS, "bfa", False),
        ("\\boxed{(B)}", "B", LETTERS, "b", True),
        ("\\boxed{\\text{D}}", "D", LETTERS, "d", True),
        ("<think>B?</think> \\boxed{E}", "B", LETTERS, "e", False),
        ("The answer is (C).", "C", LETTERS, "c", True),
        ("(C)\nbecause the figure shows it", "C", LETTERS, "c", True),
        ("It must be C.", "C", LETTERS, "c", True),
        ("\\boxed{4}", "B", ["3", "4", "5"], "4", True),  # the option's text
        ("\\boxed{C}", "B", ["3", "4", "5"], "c", False),
        (
            "\\boxed{0.422}",
            "C",
            ["$\\frac{1}{3}$", "$\\frac{1}{2}$", "$\\frac{3 - \\sqrt{3}}{3}$"],
            "0.422",
            True,
        ),
        (
            "\\boxed{0.43}",
            "C",
            ["$\\frac{1}{3}$", "$\\frac{1}{2}$", "$\\frac{3 - \\sqrt{3}}{3}$"],
            "0.43",
            False,
        ),
        (
            "\\boxed{28 \\mathrm{~cm}}",
            "B",
            ["$27 \\mathrm{~cm}$", "$28 \\mathrm{~cm}$"],
            "28\\mathrm{~cm}",
            False,
        ),
        ("\\boxed{\\text{Green}}", "D", ["Red", "White", "Blue", "Green"], "{green}", False),
        ("\\boxed{12\\text{ cm}}", "12", [], "12{cm}", False),  # units stay, and fail
        ("\\boxed{12 \\text{units}}", "12", [], "12", True),  # but "units" and km are cut
        ("\\boxed{5 km}", "5", [], "5", True),
        ("\\boxed{60^\\circ}", "60", [], "60", True),
        ("60°", "60", [], "60°", False),
        ("\\boxed{50\\%}", "50", [], "50", True),
        ("\\boxed{50%}", "50", [], "50%", False),
        ("\\boxed{0.333}", "\\frac{1}{3}", [], "0.333", True),  # equal at 2 decimals
        ("\\boxed{0.34}", "\\frac{1}{3}", [], "0.34", False),
        ("\\boxed{2.675}", "2.67", [], "2.675", True),  # Python's round(2.675, 2) is 2.67
        ("\\boxed{4/3}", "\\frac{4}{3}", [], "\\frac{4}{3}", True),
        ("\\boxed{1.34}", "\\frac{4}{3}", [], "1.34", False),
        ("\\boxed{2\\sqrt3}", "2\\sqrt{3}", [], "2\\sqrt{3}", True),
        ("\\boxed{\\sqrt{12}}", "2\\sqrt{3}", [], "\\sqrt{12}", True),
        ("\\boxed{\\frac12}", "\\frac{1}{2}", [], "\\frac12", False),  # braces fixed only next to a sqrt
        ("\\boxed{\\frac12\\sqrt{2}}", "\\frac{\\sqrt{2}}{2}", [], "\\frac{1}{2}\\sqrt{2}", True),
        ("\\boxed{0.5}", "\\frac{1}{2}", [], "\\frac{1}{2}", True),
        ("\\boxed{(1.0,2)}", "(1,2)", [], "(1.0,2)", True),  # tuples of 2-decimal numbers
        ("\\boxed{(\\frac{2}{2},2)}", "(1,2)", [], "(\\frac{2}{2},2)", False),  # (1.0,2) is not (1,2)
        ("\\boxed{1, 2}", "1,2", [], "1,2", True),
        ("\\boxed{2,1}", "1,2", [], "2,1", False),
        ("I think it is 6", "6", [], "6", True),
        ("The final answer is 7. Wait, 6.", "6", [], "7", False),
        ("\\boxed{5} or rather \\boxed{6}", "6", [], "6", True),
        ("\\boxed{5} or rather \\boxed{6}", "5", [], "6", False),
        ("The answer is 2 triangles.", "2", [], "2triangles", True),  # "tr" ends the number
        ("The answer is 2 squares.", "2", [], "2squares", False),
        ("\\boxed{e^2}", "7.39", [], "e^2", True),
        ("\\boxed{e}", "2.72", [], "e", False),
        ("\\boxed{\\ln 2}", "0.69", [], "\\ln2", False),
        ("\\boxed{\\log_2 8}", "3", [], "\\log_28", False),
        ("\\boxed{1:3}", "\\frac{1}{3}", [], "1:3", True),
        ("\\boxed{1,000}", "1000", [], "1,000", True),
        ("\\boxed{x=5}", "5", [], "5", True),
        ("\\boxed{\\approx 3.14}", "\\pi", [], "3.14", True),
        ("\\boxed{}", "0", [], "\\boxed", False),
        ("\\boxed{Sunday}", "Sunday", [], "sunday", True),
        ("The answer is 24. It follows from the figure.", "24", [], "24", True),
        ("\\boxed{3}", "3 cm", [], "3", False),
        ("\\boxed{2^{10}}", "1024", [], "2^{10}", True),
        ("\\boxed{5!}", "120", [], "5!", True),
        ("\\boxed{-\\frac{1}{2}}", "-0.5", [], "-\\frac{1}{2}", True),
    ],
)
def test_official_quirks(response: str, gold: str, options: list[str], answer: str, expected: bool) -> None:
    assert official_answer(response) == answer
    assert official_exact_correct(response, gold, options) is expected


def test_a_gold_that_is_no_letter_has_no_option_text() -> None:
    assert official_exact.gold_option("B", ["3", "4"]) == "4"
    assert official_exact.gold_option("F", ["3", "4"]) == official_exact.gold_option("12", ["3"]) == ""
    assert official_exact.gold_option("A", []) == ""
    assert official_exact_correct("\\boxed{3}", "12", ["3"]) is False
