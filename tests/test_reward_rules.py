"""Reading the verifier's reply, and the rule path (math-verify, option letters), on realistic text."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from reward.compass_reward import KEYS, compute_score
from reward.config import RewardConfig
from reward.rules import NEEDS_PARSER, decide_by_rule, has_boxed, last_boxed, rule_verdict
from reward.verifier_prompt import answer_segment, parse_verdict, verifier_messages

VERIFIER_REPLIES = [
    # plain letters, as CompassVerifier answers with max_tokens small
    ("A", "A"),
    ("B", "B"),
    ("C", "C"),
    (" A\n", "A"),
    ("A.", "A"),
    ("(B)", "B"),
    ("[C]", "C"),
    ("**A**", "A"),
    ("\\boxed{B}", "B"),
    ("A: CORRECT", "A"),
    ("B - the final answer differs", "B"),
    ("Judgement: C", "C"),
    ("Final Judgment: A", "A"),
    # words: the naive last-letter regex maps both of the first two to C
    ("INCORRECT", "B"),
    ("CORRECT", "A"),
    ("Incorrect.", "B"),
    ("correct", "A"),
    ("INVALID", "C"),
    # the CoT variant ends with a boxed judgment
    ("The candidate gives 4 while the standard answer is 5.\nFinal Judgment: \\boxed{B}", "B"),
    ("Analysis: both are 1/2. Final Judgement: \\boxed{A}", "A"),
    # garbage: counted as unparsed, never a guess
    ("", None),
    ("   ", None),
    ("D", None),
    ("Analysis: the candidate ...", None),
    ("The answer is correct", None),
    ("Apple", None),
    ("a", None),
    ("<|im_end|>", None),
    ("I cannot judge this.", None),
]


@pytest.mark.parametrize(("reply", "expected"), VERIFIER_REPLIES)
def test_verifier_replies_are_read_strictly(reply: str, expected: str | None) -> None:
    assert parse_verdict(reply) == expected


MATH_CASES = [
    # (response, gold, options, expected rule verdict)
    ("\\boxed{48}", "48", None, "correct"),
    ("x = \\boxed{48.0}", "48", None, "correct"),
    ("\\boxed{\\text{}}", "5", None, None),  # nothing math-verify can parse: undecided, never correct
    ("so \\boxed{0.5}", "\\frac{1}{2}", None, "correct"),
    ("\\boxed{\\frac{2}{4}}", "0.5", None, "correct"),
    ("\\boxed{2\\sqrt{221}}", "2 \\sqrt { 221 }", None, "correct"),
    ("\\boxed{1+x^2}", "x^2+1", None, "correct"),
    ("\\boxed{30^\\circ}", "30", None, "correct"),
    ("\\boxed{3.5\\,\\text{m/s}}", "3.5 m/s", None, None),  # units: the verifier's job
    ("\\boxed{13}", "12", None, None),  # wrong-looking free form is never failed by rule
    ("\\boxed{0.3333333}", "0.333333", None, "correct"),  # math-verify's rounding to 6 decimals
    ("\\boxed{12}", "1,2", None, None),
    ("\\boxed{-2.50}", "-2.5", None, "correct"),
    ("The answer is 48.", "48", None, None),  # no box: the verifier reads prose
    ("\\boxed{4", "4", None, None),  # cut off inside the box
    (
        "<think>\\boxed{48}</think> I am not sure.",
        "48",
        None,
        None,
    ),  # a box in the thinking is not the answer
    # multiple choice: letters, decorated letters, option text
    ("\\boxed{B}", "B", ["1", "2", "3"], "correct"),
    ("\\boxed{(B)}", "B", ["1", "2", "3"], "correct"),
    ("\\boxed{\\text{B}}", "B", ["1", "2", "3"], "correct"),
    ("\\boxed{C}", "B", ["1", "2", "3"], "incorrect"),
    ("\\boxed{2}", "B", ["1", "2", "3"], "correct"),
    ("\\boxed{3}", "B", ["1", "2", "3"], "incorrect"),
    ("\\boxed{B}", "2", ["1", "2", "3"], "correct"),  # gold given as option text
    ("\\boxed{B}", "B", {"A": "north", "B": "south"}, "correct"),
    ("\\boxed{south}", "B", {"A": "north", "B": "south"}, "correct"),
    ("\\boxed{the second one}", "B", ["1", "2", "3"], None),
    ("\\boxed{D}", "D", None, "correct"),  # a letter answer without listed options
]


@pytest.mark.parametrize(("response", "gold", "options", "expected"), MATH_CASES)
def test_rule_path(response: str, gold: str, options: object, expected: str | None) -> None:
    assert rule_verdict(response, gold, options) == expected


@pytest.mark.parametrize(
    ("gold", "answer", "shortcut"),
    [("48", "48.0", True), ("0.5", ".5", True), ("-3", "3", False), ("12", "13", False), ("7", "7.01", False),
     ("-2.5", "-2.50", True), ("100", "1e2", None), ("2", "2.0000001", None)],
)  # fmt: skip
def test_plain_number_shortcut_agrees_with_math_verify(gold: str, answer: str, shortcut: bool | None) -> None:
    from math_verify import parse, verify

    from reward.rules import _plain_numbers_equal

    fast = _plain_numbers_equal(gold, answer)
    slow = verify(
        parse(f"${gold}$", parsing_timeout=None),
        parse(f"\\boxed{{{answer}}}", parsing_timeout=None),
        timeout_seconds=None,
    )
    assert fast is shortcut and (fast is None or fast == slow)  # None: math-verify decides


def test_rule_checks_run_in_threads_at_once() -> None:
    """math-verify is called without its signal timer, so it works off the main thread, in parallel."""
    results: list[str | None] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        verdict = rule_verdict(f"\\boxed{{\\frac{{{i}}}{{2}}}}", str(i / 2))
        with lock:
            results.append(verdict)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == ["correct"] * 8


def test_boxed_extraction_and_format() -> None:
    assert last_boxed("\\boxed{a} and \\boxed{\\{1, 2\\}}") == "\\{1, 2\\}"
    assert last_boxed("\\fbox{7}") == "7"
    assert has_boxed("<think>x</think>\\boxed{1}") and not has_boxed("\\boxed{1}</think> so 1")


def test_verifier_sees_the_answer_segment_with_options() -> None:
    response = "<think>" + "long reasoning " * 500 + "</think>" + "step " * 400 + "Final: \\boxed{B}"
    segment = answer_segment(response, 1000)
    assert len(segment) == 1000 and segment.endswith("\\boxed{B}") and "reasoning" not in segment
    (message,) = verifier_messages("Which way?", "B", segment, {"A": "north", "B": "south"})
    text = message["content"]
    assert message["role"] == "user" and "A. north\nB. south" in text
    assert text.index("<Question>") < text.index("<Standard Answer>") < text.index("<Candidate Response>")
    assert text.endswith("Judgement:") and "reasoning" not in text


def test_config_errors_name_the_setting() -> None:
    with pytest.raises(ValueError, match="verifier_urls"):
        RewardConfig()
    with pytest.raises(ValueError, match="mode"):
        RewardConfig(mode="verifier_first", verifier_urls=["http://x/v1"])
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['verifier_url'\]"):
        RewardConfig.from_kwargs({"verifier_url": "http://x/v1"})
    assert RewardConfig(verifier_urls="http://a/v1,http://b/v1").verifier_urls == [
        "http://a/v1",
        "http://b/v1",
    ]  # type: ignore[arg-type]


def test_compute_score_rule_only_and_format_weight() -> None:
    async def run() -> list[dict]:
        return [
            await compute_score("s", "\\boxed{7}", "7", {"question": "q"}, mode="rule_only"),
            await compute_score("s", "it is 7", "7", {"question": "q"}, mode="rule_only"),
            await compute_score("s", "\\boxed{8}", "7", {}, mode="rule_only", format_weight=0.1),
        ]

    right, unboxed, wrong = asyncio.run(run())
    assert all(tuple(r) == KEYS for r in (right, unboxed, wrong))
    assert right["score"] == 1.0 and right["path"] == "rule"
    assert unboxed["score"] == 0.0 and unboxed["verdict"] == "incorrect" and unboxed["format"] == 0.0
    assert wrong["score"] == pytest.approx(0.1) and wrong["acc"] == 0.0


def test_rule_checks_in_worker_processes() -> None:
    """rule_workers > 0: math-verify runs in spawned processes, with its own timer on their main thread."""
    from reward.judge import Item, Judge

    async def run() -> list[str]:
        judge = Judge(RewardConfig(mode="rule_only", rule_workers=1))
        try:
            items = [
                Item("q", "\\frac{1}{2}", "\\boxed{0.5}"),
                Item("q", "x^2+1", "\\boxed{1+x^2}"),
                Item("q", "3", "\\boxed{4}"),
            ]
            return [j.verdict for j in await judge.judge_many(items)]
        finally:
            await judge.close()

    assert asyncio.run(run()) == ["correct", "correct", "incorrect"]


@pytest.mark.parametrize(("timeouts", "seconds"), [(True, 5), (False, None)])
def test_math_verify_times_itself_out_only_where_it_can(
    monkeypatch: pytest.MonkeyPatch, timeouts: bool, seconds: int | None
) -> None:
    """On a rule-check process's main thread math-verify gets 5 s per parse and per comparison; in a
    thread (where its signal-based time-out cannot work) it gets none."""
    import math_verify

    seen: list[tuple[str, Any]] = []
    real_parse, real_verify = math_verify.parse, math_verify.verify

    def parse(text: str, **kwargs: Any) -> Any:
        seen.append(("parse", kwargs["parsing_timeout"]))
        return real_parse(text, **kwargs)

    def verify(gold: Any, answer: Any, **kwargs: Any) -> Any:
        seen.append(("verify", kwargs["timeout_seconds"]))
        return real_verify(gold, answer, **kwargs)

    monkeypatch.setattr(math_verify, "parse", parse)
    monkeypatch.setattr(math_verify, "verify", verify)
    if not timeouts:
        assert rule_verdict(r"so \boxed{\frac{1}{2}}", "0.5", timeouts=False) == "correct"
    else:
        # signal-based time-outs need the main thread: run it there, as a rule-check process does
        assert threading.current_thread() is threading.main_thread()
        assert rule_verdict(r"so \boxed{\frac{1}{2}}", "0.5", timeouts=True) == "correct"
    assert seen == [("parse", seconds), ("parse", seconds), ("verify", seconds)]


def test_options_are_listed_by_letter_whatever_shape_they_come_in() -> None:
    from reward.verifier_prompt import format_options

    assert format_options(["1 N", "2 N", "3 N"]) == "A. 1 N\nB. 2 N\nC. 3 N"
    assert format_options(("x", 5)) == "A. x\nB. 5"
    assert format_options({"B": "2", "A": "1"}) == "B. 2\nA. 1"
    assert [format_options(x) for x in (None, "AB", 3)] == ["", "", ""]


def _question_block(question: str, options: Any) -> str:
    content = verifier_messages(question, "2", "B", options)[0]["content"]
    return content.split("<Question>\n", 1)[1].split("\n</Question>", 1)[0]


def test_the_options_are_added_to_the_question_once() -> None:
    assert _question_block("  Pick one. ", None) == "Pick one."
    assert _question_block("Pick one.", ["1", "2"]) == "Pick one.\nA. 1\nB. 2"
    assert _question_block("Pick one.\nA. 1\nB. 2", ["1", "2"]) == "Pick one.\nA. 1\nB. 2"  # already there


def test_the_verifier_reads_the_tail_after_the_last_thinking() -> None:
    assert answer_segment("<think>a</think><think>b</think>final \\boxed{2}") == "final \\boxed{2}"
    assert answer_segment("no thinking here") == "no thinking here"
    long = "x" * 1000 + "y"
    assert answer_segment(long) == long[-1000:]  # 1000 characters by default
    assert answer_segment(long, tail_chars=5) == "xxxxy"


def test_an_option_named_by_its_text_may_end_with_a_full_stop() -> None:
    options = {"A": "1 N", "B": "Box X"}
    assert rule_verdict(r"so \boxed{Box X.}", "B", options) == "correct"
    assert rule_verdict(r"so \boxed{1 N.}", "B", options) == "incorrect"


def test_numbers_equal_to_six_decimals_are_left_to_math_verify() -> None:
    """0.1234564 and 0.123456 agree to math-verify's six decimals: it says correct, not the shortcut."""
    assert rule_verdict(r"\boxed{0.123456}", "0.1234564") == "correct"
    assert rule_verdict(r"\boxed{0.12346}", "0.1234564") is None


def test_a_number_gold_with_options_is_compared_as_a_number() -> None:
    """Options given, but the gold is neither a letter nor an option's text: not a multiple choice."""
    assert rule_verdict(r"\boxed{12}", "12", options=["1", "2"]) == "correct"
    assert (
        rule_verdict(r"\boxed{12}", "12", options=["1", "12"]) == "correct"
    )  # the text of B, and B is named


def test_plain_decimals_need_no_parser_both_ways() -> None:
    assert rule_verdict(r"\boxed{2}", "2.0", parser=False) == "correct"
    assert rule_verdict(r"\boxed{3}", "2", parser=False) is None  # a wrong number: the verifier decides
    assert rule_verdict(r"\boxed{\frac{4}{2}}", "2", parser=False) == NEEDS_PARSER


def test_only_the_text_after_the_last_thinking_counts() -> None:
    response = r"<think>a</think> \boxed{48} </think> so it is 48"
    assert rule_verdict(response, "48") is None and not has_boxed(response)
    assert rule_verdict(r"<think>\boxed{1}</think> \boxed{48}", "48") == "correct"


def test_the_parser_runs_in_the_executor_with_its_own_time_outs() -> None:
    """A process pool's worker lets math-verify time itself out (timeouts=True); the loop's threads
    cannot (signals work on a main thread only), so they run it without."""
    from concurrent.futures import ThreadPoolExecutor

    class Recording(ThreadPoolExecutor):
        def __init__(self) -> None:
            super().__init__(1)
            self.calls: list[tuple[Any, ...]] = []

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            self.calls.append(args)
            return super().submit(fn, *args[:-1], False)  # a thread: without them, as asked

    response, gold, options = (
        r"so \boxed{\frac{1}{2}}",
        "0.5",
        ["2", "3"],
    )  # not among them: no multiple choice
    pool = Recording()
    try:
        assert asyncio.run(decide_by_rule(response, gold, None, executor=pool)) == "correct"
        assert asyncio.run(decide_by_rule(r"so \boxed{\frac{1}{3}}", gold, options, executor=pool)) is None
    finally:
        pool.shutdown()
    assert pool.calls == [(response, gold, None, True), (r"so \boxed{\frac{1}{3}}", gold, options, True)]
    assert asyncio.run(decide_by_rule(response, gold)) == "correct"  # the loop's threads
