"""Cheap figure filters and the answer-leakage check, on real renders."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image

from scigen_rl.filters import DuplicateIndex, FilterConfig, answer_leak, check_pixels
from scigen_rl.render import Renderer

SCRIPTS = Path(__file__).resolve().parents[1] / "benchmarks" / "scripts"


def _render(renderer: Renderer, code: str) -> bytes:
    result = renderer.render(code, "f.py")
    assert result.ok, result.error
    return result.pngs[0]


def test_pixel_filters(renderer: Renderer) -> None:
    good = _render(renderer, (SCRIPTS / "01_geometry_triangle.py").read_text())
    assert check_pixels(good).issues == []
    strip = _render(
        renderer, "import matplotlib.pyplot as plt\nplt.figure(figsize=(12, 1.2))\nplt.plot([0, 1], [0, 1])\n"
    )
    assert "aspect_ratio" in check_pixels(strip).issues
    tiny = _render(
        renderer,
        "import matplotlib.pyplot as plt\nplt.figure(figsize=(1, 1))\nplt.plot([0, 1])\nplt.axis('off')\n",
    )
    assert "too_small" in check_pixels(tiny).issues
    speck = _render(
        renderer,
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.axis('off')\nax.plot([0.5], [0.5], ',')\n",
    )
    assert "near_blank" in check_pixels(speck).issues


def test_near_duplicates(renderer: Renderer) -> None:
    a = _render(renderer, (SCRIPTS / "13_force_incline_fbd.py").read_text())
    a2 = _render(renderer, (SCRIPTS / "13_force_incline_fbd.py").read_text().replace("30", "31", 1))
    b = _render(renderer, (SCRIPTS / "24_bio_cell_diagram.py").read_text())
    index = DuplicateIndex()
    assert index.check_and_add("p1", check_pixels(a).phash) is None
    assert index.check_and_add("p2", check_pixels(b).phash) is None
    assert index.check_and_add("p3", check_pixels(a2).phash) == "p1"


@pytest.mark.parametrize(
    ("answer", "texts", "question", "leak"),
    [
        ("290.588 cm", ["d = 290.59 cm"], "", True),
        ("290.588 cm", ["d = ?", "26 cm", "1.9E+6 ly"], "", False),
        ("1.9E+6 ly", ["$1.9 \\times 10^{6}$ ly"], "", True),
        ("1.9E+6 ly", ["$1.9 \\times 10^{6}$ ly"], "The distance is about 1.9E+6 ly.", False),
        ("4.9 m/s^2", ["$a = 4.9\\ \\mathrm{m/s^2}$"], "", True),
        ("4.9 m/s^2", ["$\\theta = 30^\\circ$", "$m = 2$ kg"], "", False),
        ("6", ["6"], "How many bricks are missing?", True),
        ("3.14", ["3", "1"], "", False),
        ("mitochondrion", ["Mitochondrion"], "Which organelle makes ATP?", True),
        ("B", ["B", "A"], "", False),
    ],
)
def test_answer_leak(answer: str, texts: list[str], question: str, leak: bool) -> None:
    assert (answer_leak(answer, texts, question) is not None) is leak


def test_leak_found_in_what_a_script_really_draws(renderer: Renderer) -> None:
    src = "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.title('Distance')\nplt.annotate('d = 290.59 cm', (0.5, 0.5))\nplt.xticks([290.588])\n"
    result = renderer.render(src, "leaky.py")
    assert "d = 290.59 cm" in result.texts and "290.588" not in result.texts  # tick labels are not read
    assert answer_leak("290.588 cm", result.texts) == "d = 290.59 cm"


def test_duplicate_index_matches_a_scan_of_every_pair() -> None:
    """The banded lookup finds exactly what comparing with every earlier figure finds."""
    rng = random.Random(7)
    base = [rng.getrandbits(64) for _ in range(40)]
    # Near copies of the bases with 0-7 flipped bits, so distances fall on both sides of the limit.
    hashes = [
        b ^ sum(1 << rng.randrange(64) for _ in range(rng.randrange(8))) for b in base for _ in range(5)
    ]
    rng.shuffle(hashes)
    for max_distance in (0, 4, 10):
        index, seen, found = DuplicateIndex(max_distance), [], 0
        for i, h in enumerate(hashes):
            expected = next((j for j, o in seen if (h ^ o).bit_count() <= max_distance), None)
            twin = index.check_and_add(f"p{i}", f"{h:016x}")
            assert twin == (None if expected is None else f"p{expected}")
            if expected is None:
                seen.append((i, h))
            found += expected is not None
        assert found > 0


def test_a_contact_sheet_tile_says_when_a_figure_cannot_be_read(tmp_path: Path) -> None:
    from PIL import Image

    from scigen_rl.contact_sheet import SheetItem, contact_sheet

    good = tmp_path / "good.png"
    Image.new("RGB", (400, 100), "navy").save(good)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    items = [SheetItem(str(good), f"p-{i}", "exported") for i in range(5)]
    items.insert(1, SheetItem(str(tmp_path / "bad.png"), "p-bad", "near_duplicate:p-0"))
    path, shown = contact_sheet(items, tmp_path / "sheet.png", columns=3, max_items=4)
    assert shown == 4
    with Image.open(path) as sheet:
        assert sheet.size == (3 * 320, 2 * (320 + 44))
        pixels = sheet.convert("RGB")
        assert pixels.getpixel((160, 160)) == (0, 0, 128)  # the first figure, scaled into its tile
        unreadable = pixels.crop((320, 0, 640, 320))
        assert (0, 0, 128) not in {c for _, c in unreadable.getcolors(1 << 16) or []}
        assert any(r > 150 and g < 80 for _, (r, g, b) in unreadable.getcolors(1 << 16) or [])  # red text


@pytest.mark.parametrize(
    ("answer", "texts", "question", "leak"),
    [
        ("2.5 m", ["d = 2,5 m"], "", True),  # a decimal comma
        ("-5 °C", ["T = −5 °C"], "", True),  # a typographic minus
        ("1940000 Pa", ["p = 1.9E+6 Pa"], "", True),  # two digits shown: 1.94e6 rounds to it
        ("1940000 Pa", ["p = 1.9e6 Pa"], "", True),
        ("1940000 Pa", ["p = 1.9 x 10^6 Pa"], "", True),
        ("1940000 Pa", ["p = $1.9 \\times 10^{6}$ Pa"], "", True),
        ("0.0019 m", ["$1.9 \\times 10^{-3}$ m"], "", True),
        ("0.0019 m", ["$1.9 \\times 10^{3}$ m"], "", False),
        ("1.04", ["x = 1.0"], "", True),  # two digits shown, rounded
        ("1.04", ["x = 1"], "", False),  # one digit is too coarse to call a leak
        ("0", ["x = 0"], "", True),
        ("0", ["x = 0.001"], "", False),
        ("0.001", ["x = 0"], "", False),
        ("3 North East", ["3 m"], "", False),  # words make it a phrase, not a number
        ("3 NE SW", ["3 m"], "", False),
        ("north east", ["go $north\\,east$"], "", True),
        ("north east", ["go ${north}$ east"], "", True),
        ("north  east", ["go north east"], "", True),
        ("north east", ["go north \n  east"], "", True),
        ("W = F · d", ["$W = F \\cdot d$"], "", True),
        ("abc", ["abc"], "", True),  # three characters: long enough to look for
        ("sintheta", ["$\\sin\\theta$"], "", True),  # LaTeX commands read as their names
        ("5 m", ["1e999 and 5 m"], "", True),  # a number too large for a float is skipped, not the end
        ("ab", ["ab"], "", False),
        ("xxxx", ["label xxxx"], "", True),
        ("north east", ["north east"], "Which way, north east or west?", False),  # the question says it
    ],
)
def test_answer_leak_reads_numbers_and_markup_as_drawn(
    answer: str, texts: list[str], question: str, leak: bool
) -> None:
    found = answer_leak(answer, texts, question) if question else answer_leak(answer, texts)
    assert found == (texts[0] if leak else None)


@pytest.mark.parametrize("max_distance", [1, 2, 3, 4, 7])
def test_duplicates_differing_only_at_band_edges_are_found(max_distance: int) -> None:
    """The flipped bits sit on the first bit of each band but one: only one band is left intact."""
    step = -(-64 // (max_distance + 1))
    base = 0x0123456789ABCDEF
    for intact in range(max_distance + 1):
        flips = [b * step for b in range(max_distance + 1) if b != intact][:max_distance]
        near = base ^ sum(1 << f for f in flips if f < 64)
        index = DuplicateIndex(max_distance)
        assert index.check_and_add("a", f"{base:016x}") is None
        assert index.check_and_add("b", f"{near:016x}") == "a", (intact, flips)
        far = near ^ (1 << (63 if 63 not in flips else 62))
        if (far ^ base).bit_count() > max_distance:
            assert index.check_and_add("c", f"{far:016x}") is None


def test_duplicate_lookups_compare_with_few_figures() -> None:
    rng = random.Random(3)
    hashes = [rng.getrandbits(64) for _ in range(600)]
    index = DuplicateIndex()  # 4 bits apart at most: 5 bands of 13 bits
    assert index.max_distance == 4
    for i, h in enumerate(hashes):
        index.check_and_add(f"p{i}", f"{h:016x}")
    pairs = len(hashes) * (len(hashes) - 1) / 2
    expected = pairs * 5 / 2**13  # random hashes share a band by chance only
    assert 0.5 * expected < index.comparisons < 1.5 * expected
    default_twin, fifth_bit = hashes[0] ^ 0b1111, hashes[0] ^ 0b11111
    assert index.check_and_add("four", f"{default_twin:016x}") == "p0"
    assert index.check_and_add("five", f"{fifth_bit:016x}") is None


def _grey_png(
    size: tuple[int, int], background: int, ink_level: int, ink_pixels: int, mode: str = "L"
) -> bytes:
    img = Image.new("L", size, background)
    for i in range(ink_pixels):
        img.putpixel((i % size[0], i // size[0]), ink_level)
    buf = io.BytesIO()
    img.convert(mode).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("background", "ink_level", "is_ink"),
    [(255, 231, False), (255, 230, True), (0, 24, False), (0, 25, True), (128, 104, False), (128, 152, False),
     (128, 103, True), (128, 153, True)],
)  # fmt: skip
def test_ink_is_more_than_24_grey_levels_from_the_background(
    background: int, ink_level: int, is_ink: bool
) -> None:
    png = _grey_png((100, 100), background, ink_level, 500)  # 5% of the pixels
    issues = check_pixels(png, FilterConfig(min_ink=0.01, min_side_px=10)).issues
    assert ("near_blank" not in issues) is is_ink


def test_ink_exactly_at_the_minimum_passes() -> None:
    png = _grey_png((100, 100), 255, 0, 100)
    at = 1.0 - 9900 / 10000  # the fraction as the filter computes it
    assert "near_blank" not in check_pixels(png, FilterConfig(min_ink=at, min_side_px=10)).issues
    assert "near_blank" in check_pixels(png, FilterConfig(min_ink=at + 1e-9, min_side_px=10)).issues


def test_ink_is_read_from_the_luminance_of_a_colour_image() -> None:
    img = Image.new("RGB", (100, 100), "white")
    for i in range(1500):
        img.putpixel((i % 100, i // 100), (255, 0, 0))  # red on white: luminance 76, ink
    buf = io.BytesIO()
    img.save(buf, "PNG")
    assert check_pixels(buf.getvalue(), FilterConfig(min_ink=0.1, min_side_px=10)).issues == []


def test_a_one_pixel_wide_strip_has_its_true_aspect_ratio() -> None:
    png = _grey_png((3, 1), 255, 0, 1)
    cfg = FilterConfig(max_aspect=2.0, min_side_px=1, min_ink=0.0)
    assert check_pixels(png, cfg).issues == ["aspect_ratio"]
    one = _grey_png((1, 1), 255, 0, 0)
    assert check_pixels(one, FilterConfig(min_side_px=1, min_ink=0.3)).issues == ["near_blank"]


def test_a_fresh_index_has_made_no_comparison() -> None:
    index = DuplicateIndex(max_distance=2)
    assert index.comparisons == 0
    assert index.check_and_add("a", "ff00ff00ff00ff00") is None and index.comparisons == 0
    assert index.check_and_add("b", "ff00ff00ff00ff00") == "a" and index.comparisons == 1
