"""Contracts a small bug could flip, each tested in both directions: the pixel filters (wide and tall,
light and dark, at their edges), the verifier-reply parser (several judgments, none, malformed), the
question export writes, and the consistency rules of the records."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from data_builders.export import make_sample
from reward.verifier_prompt import parse_verdict
from scigen_rl.filters import FilterConfig, check_pixels
from scigen_rl.records import Problem, RecordError, Verdict


def _png(size: tuple[int, int], background: int = 255, ink_px: int = 0, ink: int = 0) -> bytes:
    """A grey image of ``size`` with ``ink_px`` pixels of value ``ink`` in its first rows."""
    img = Image.new("L", size, background)
    draw = ImageDraw.Draw(img)
    w = size[0]
    for i in range(ink_px):
        draw.point((i % w, i // w), fill=ink)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


INKED = 2000  # enough ink for every size below not to be near-blank


@pytest.mark.parametrize(
    ("size", "flagged"),
    [((800, 200), False), ((801, 200), True), ((200, 800), False), ((200, 801), True), ((200, 200), False)],
    ids=["wide-at-4", "wide-over-4", "tall-at-4", "tall-over-4", "square"],
)
def test_aspect_ratio_flags_wide_and_tall_strips_only_past_the_limit(
    size: tuple[int, int], flagged: bool
) -> None:
    assert ("aspect_ratio" in check_pixels(_png(size, ink_px=INKED)).issues) == flagged


def test_aspect_ratio_limit_follows_the_setting() -> None:
    strip = _png((600, 200), ink_px=INKED)  # 3:1
    assert "aspect_ratio" not in check_pixels(strip).issues
    assert "aspect_ratio" in check_pixels(strip, FilterConfig(max_aspect=2.9)).issues
    assert "aspect_ratio" not in check_pixels(strip, FilterConfig(max_aspect=3.0)).issues


@pytest.mark.parametrize(("side", "flagged"), [(128, False), (127, True)])
def test_too_small_at_the_edge_of_the_shorter_side(side: int, flagged: bool) -> None:
    for size in ((side, 300), (300, side)):
        assert ("too_small" in check_pixels(_png(size, ink_px=INKED)).issues) == flagged
    assert "too_small" in check_pixels(_png((300, 200), ink_px=INKED), FilterConfig(min_side_px=201)).issues


@pytest.mark.parametrize(
    ("background", "ink"), [(255, 0), (0, 255), (30, 200)], ids=["light", "dark", "grey"]
)
def test_ink_is_measured_against_any_background(background: int, ink: int) -> None:
    pixels = 200 * 200
    need = int(FilterConfig().min_ink * pixels)  # 80 px of 40,000
    assert "near_blank" in check_pixels(_png((200, 200), background, need - 1, ink)).issues
    assert "near_blank" not in check_pixels(_png((200, 200), background, need + 1, ink)).issues
    # Pixels within 24 grey levels of the background are not ink.
    faint = min(255, background + 20) if background < 128 else background - 20
    assert "near_blank" in check_pixels(_png((200, 200), background, 4000, faint)).issues
    assert (
        "near_blank"
        not in check_pixels(_png((200, 200), background, need + 1, ink), FilterConfig(min_ink=0.0)).issues
    )
    assert (
        "near_blank"
        in check_pixels(_png((200, 200), background, need + 1, ink), FilterConfig(min_ink=0.01)).issues
    )


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        (
            "Final Judgment: \\boxed{A} ... on reflection, Final Judgment: \\boxed{B}",
            "B",
        ),  # the last one counts
        ("Final Judgment: \\boxed{C}\nFinal Judgement: \\boxed{A}", "A"),
        ("\\boxed{C} then \\boxed{A}", "C"),  # without the label: the first token decides
        ("\\boxed{B}\\boxed{B}", "B"),
        ("B, no wait: A", "B"),  # no boxed judgment: the first token
        ("\\boxed{D}", None),  # not a verdict
        ("\\boxed{", None),  # malformed
        ("Judgement:", None),
        ("**", None),
    ],
)
def test_the_verifier_reply_parser_reads_the_last_boxed_judgment(reply: str, verdict: str | None) -> None:
    assert parse_verdict(reply) == verdict


def test_export_asks_the_figure_referring_question_and_keeps_the_plain_one() -> None:
    png = _png((64, 48), ink_px=10)
    plain = Problem(id="p1", question="A 2 kg block slides down a 30 degree incline. Find a.", answer="4.9",
                    source="t")  # fmt: skip
    referring = Problem(id="p2", question=plain.question, answer="4.9", source="t",
                        multimodal_question="The block in the figure slides down. Find a.")  # fmt: skip
    content = make_sample(referring, png, "g", 0).prompt[0]["content"]
    assert (
        content.startswith("<image>The block in the figure slides down. Find a.")
        and plain.question not in content
    )
    assert (
        make_sample(referring, png, "g", 0).extra_info["question"] == plain.question
    )  # the reward reads this one
    assert make_sample(plain, png, "g", 1).prompt[0]["content"].startswith(f"<image>{plain.question}")


@pytest.mark.parametrize(
    ("perfect", "r_inv", "ok"),
    [(True, 1.0, True), (True, 0.99, False), (True, None, True), (False, 0.5, True), (False, 1.0, True)],
)
def test_a_perfect_verdict_needs_every_quiz_answer_right(
    perfect: bool, r_inv: float | None, ok: bool
) -> None:
    record = {"problem_id": "p", "generator": "g", "perfect": perfect, "r_inv": r_inv}
    if ok:
        assert Verdict.from_dict(record).perfect is perfect
    else:
        with pytest.raises(RecordError, match=r"field 'perfect': true but r_inv is 0.99"):
            Verdict.from_dict(record)
