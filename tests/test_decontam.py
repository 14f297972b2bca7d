"""Decontamination against the evaluation sets, on near-duplicates planted from real MathVision testmini
questions and images; every expected score is computed here, independently of the module (own word
split, n-grams as tuples, hashes straight from imagehash), and checked against the hand formula."""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import imagehash
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageDraw

from data_builders import decontam_index
from data_builders.decontam import DecontamConfig, DecontamReport, find_contamination
from data_builders.decontam_index import EvalIndex, normalise
from scigen_rl.records import Problem
from scigen_rl.shipped import DataFileError

LONG = "39"
"""MathVision 39, 39 words (Ingrid's cubes): the copies with changed words are made from it."""
PARAPHRASE = (
    "Ingrid has 4 red, 3 blue, 2 green and 1 yellow cube. From them she builds the object in the picture. "
    "Cubes with the same colour never touch each other. What colour is the cube with the question mark?"
)
"""The same problem reworded: its 3-shingle Jaccard with MathVision 39 is 10/27 = 0.37 and no 13-gram
is shared (the longest common run has 11 words), so neither near-duplicate check may flag it."""
UNRELATED = "A ball is thrown straight up at 20 m/s. How high does it rise before it falls back?"


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", re.sub(r"<image\d+>", " ", text.lower()))


def grams(text: str, n: int) -> set[tuple[str, ...]]:
    ws = words(text)
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def share(train: str, evaluation: str, n: int) -> float:
    mine = grams(train, n)
    return len(mine & grams(evaluation, n)) / len(mine)


def jaccard(a: str, b: str, k: int) -> float:
    sa, sb = grams(a, k), grams(b, k)
    return len(sa & sb) / len(sa | sb)


def changed(text: str, positions: list[int]) -> str:
    """The text's words with the words at ``positions`` replaced by words found nowhere else."""
    ws = words(text)
    for i in positions:
        ws[i] = f"zyzzyva{i}"
    return " ".join(ws)


@pytest.fixture(scope="module")
def testmini(shipped_data: Path) -> dict[str, str]:
    """The raw questions of the shipped MathVision testmini, by id."""
    lines = (shipped_data / "mathvision" / "testmini.jsonl").read_text().splitlines()
    questions = {r["id"]: r["question"] for r in map(json.loads, lines)}
    long = questions[LONG]  # the hand formulas below assume a plain text with no repeated n-gram
    assert words(long) == normalise(long).split() and len(words(long)) == 39
    assert all(len(grams(long, n)) == 40 - n for n in (3, 4, 8, 13))
    return questions


def _eval_file(tmp_path: Path, items: list[dict[str, Any]]) -> Path:
    path = tmp_path / "planted.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


def _problems(questions: dict[str, str]) -> list[Problem]:
    return [Problem(id=pid, question=q, answer="1", source="test") for pid, q in questions.items()]


def _run(
    problems: dict[str, str] | list[Problem],
    eval_file: Path,
    images: dict[str, Any] | None = None,
    **settings: Any,
) -> DecontamReport:
    config = DecontamConfig(eval_sets=(), extra_sets={"planted": str(eval_file)}, progress=False, **settings)
    return find_contamination(_problems(problems) if isinstance(problems, dict) else problems, config, images)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("How  MANY\n bricks are MISSING?<image1>", "how many bricks are missing"),
        (r"Find $\angle ABC$ if $\frac{x}{2}=30^{\circ}$.", "find angle abc if x 2 30 degrees"),
        ("ＡＢ＝３ cm, area 2.5 cm²; 45°", "ab 3 cm area 2.5 cm2 45 degrees"),
        (r"$\mathrm{m} = 2\,\text{kg}$, $\left(\alpha\right)$ and π", "m 2 kg alpha and pi"),
    ],
)
def test_normalise_strips_case_markup_tags_and_punctuation(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_planted_duplicates_hit_by_method_with_known_scores(tmp_path: Path, testmini: dict[str, str]) -> None:
    long, eight = testmini[LONG], testmini["8"]
    eval_file = _eval_file(
        tmp_path, [{"id": f"mv-{i}", "question": testmini[i]} for i in (LONG, "110", "8", "4")]
    )
    reformatted = (
        "<image1> THE sums of the all the $\\mathrm{three}$ numbers on each side of the triangle are "
        "equal!\n\nTwo numbers   happened to be stained with ink... How much is the sum of these ｔｗｏ numbers"
    )
    assert reformatted != eight and reformatted.lower() != eight.lower()
    problems = {
        "copy": testmini["110"],
        "reformatted": reformatted,
        "one-word": changed(long, [19]),  # 13-grams: 27, 13 through word 19 lost; 3-shingles: 37, 3 lost
        "two-words": changed(long, [12, 26]),  # 26 of the 27 13-grams lost; 6 of 37 shingles lost
        "paraphrase": PARAPHRASE,
        "unrelated": UNRELATED,
    }
    # below both thresholds by construction, so they must not hit
    assert share(PARAPHRASE, long, 13) == 0 and jaccard(PARAPHRASE, long, 3) == 10 / 27
    assert share(UNRELATED, long, 13) == 0 and jaccard(UNRELATED, long, 3) == 0
    report = _run(problems, eval_file)

    hits = sorted((h.problem_id, h.eval_id, h.method, h.score) for h in report.hits)
    assert hits == [
        ("copy", "mv-110", "exact", 1.0),
        ("one-word", "mv-39", "minhash", 34 / 40),
        ("one-word", "mv-39", "ngram", 14 / 27),
        ("reformatted", "mv-8", "exact", 1.0),
        ("two-words", "mv-39", "minhash", 31 / 43),
    ]
    assert (
        share(problems["one-word"], long, 13) == 14 / 27 and jaccard(problems["one-word"], long, 3) == 34 / 40
    )
    assert (
        share(problems["two-words"], long, 13) == 1 / 27
        and jaccard(problems["two-words"], long, 3) == 31 / 43
    )
    for hit in report.hits:
        assert hit.eval_set == "planted"
        flat = " ".join(problems[hit.problem_id].split())  # the beginning: at most 120 characters
        assert hit.problem_text == (flat if len(flat) <= 120 else flat[:119] + "…")
        assert hit.eval_text.startswith(" ".join(testmini[hit.eval_id[3:]].split())[:40])
        if hit.method == "minhash":  # the estimate: a whole number of agreeing permutations out of 128
            estimated = hit.detail["estimated_jaccard"]
            assert hit.detail["exact_jaccard"] == hit.score and abs(estimated - hit.score) < 0.2
            assert estimated * 128 == round(estimated * 128)
        if hit.method == "ngram":
            assert hit.detail == {"shared_ngrams": 14, "ngrams": 27}
    assert report.problems == 6 and report.eval_items == {"planted": 4} and report.skipped == {}


@pytest.mark.parametrize("n", [13, 8])
def test_ngram_share_threshold_both_sides(tmp_path: Path, testmini: dict[str, str], n: int) -> None:
    long = testmini[LONG]
    eval_file = _eval_file(tmp_path, [{"id": "mv-39", "question": long}])
    planted = changed(long, [19])
    expected = (39 - 2 * n + 1) / (39 - n + 1)  # the n n-grams through the changed word are lost
    assert share(planted, long, n) == expected
    for threshold, hits in (
        (expected, True),
        (math.nextafter(expected, 0), True),
        (math.nextafter(expected, 1), False),
    ):
        report = _run(
            {"p": planted}, eval_file, ngram_size=n, ngram_min_share=threshold, minhash_threshold=1.0
        )
        assert [(h.method, h.score) for h in report.hits] == ([("ngram", expected)] if hits else [])


@pytest.mark.parametrize("k", [3, 4])
def test_minhash_jaccard_threshold_both_sides(tmp_path: Path, testmini: dict[str, str], k: int) -> None:
    long = testmini[LONG]
    eval_file = _eval_file(tmp_path, [{"id": "mv-39", "question": long}])
    planted = changed(long, [19])
    shingled = 39 - k + 1
    expected = (shingled - k) / (shingled + k)  # k shingles through the changed word lost, k new ones
    assert jaccard(planted, long, k) == expected
    for threshold, hits in (
        (expected, True),
        (math.nextafter(expected, 0), True),
        (math.nextafter(expected, 1), False),
    ):
        report = _run(
            {"p": planted}, eval_file, shingle_size=k, minhash_threshold=threshold, ngram_min_share=1.0
        )
        assert [(h.method, h.score) for h in report.hits] == ([("minhash", expected)] if hits else [])


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_perceptual_hash_hits_a_copy_and_an_altered_copy_not_another_image(
    tmp_path: Path, shipped_data: Path, testmini: dict[str, str]
) -> None:
    folder = shipped_data / "mathvision" / "images"
    original = Image.open(folder / f"{LONG}.jpg").convert("RGB")
    altered = original.copy()
    ImageDraw.Draw(altered).rectangle((5, 5, 25, 25), fill="black")
    other = Image.open(folder / "110.jpg").convert("RGB")
    distance = int(imagehash.phash(altered) - imagehash.phash(original))
    assert 0 < distance <= 4 < imagehash.phash(other) - imagehash.phash(original)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "39.png").write_bytes(_png(original))
    (tmp_path / "altered.png").write_bytes(_png(altered))
    eval_file = _eval_file(
        tmp_path,
        [
            {"id": "mv-39", "question": testmini[LONG], "image": "images/39.png"},
            {"id": "mv-4", "question": testmini["4"]},
        ],
    )
    problems = {
        "same": "Draw a circuit.",
        "altered": "Draw a lens.",
        "other": "Draw a cell.",
        "none": "Draw a wave.",
    }
    images: dict[str, Any] = {
        "same": _png(original),
        "altered": str(tmp_path / "altered.png"),
        "other": _png(other),
    }

    report = _run(problems, eval_file, images)
    hits = sorted(
        (h.problem_id, h.eval_id, h.method, h.score, h.detail["hamming_distance"]) for h in report.hits
    )
    assert hits == [("altered", "mv-39", "phash", distance, distance), ("same", "mv-39", "phash", 0.0, 0)]
    assert report.figures == 3 and report.eval_images == {"planted": 1}
    top = report.write(tmp_path / "out")[1].read_text().split("## Top hits")[1].splitlines()
    assert top[4].startswith("| same | planted | mv-39 | phash | 0 |")  # the closest hash first
    assert top[5].startswith(f"| altered | planted | mv-39 | phash | {distance} |")
    for limit, altered_hits in ((distance, True), (distance - 1, False)):
        report = _run(problems, eval_file, images, phash_max_distance=limit)
        assert {h.problem_id for h in report.hits} == ({"same", "altered"} if altered_hits else {"same"})
    # a hash the build's filter already computed stands for the figure (no second decode)
    stored = {"altered": int(str(imagehash.phash(altered)), 16)}
    report = _run({"altered": "Draw a lens."}, eval_file, stored)
    assert [(h.problem_id, h.score) for h in report.hits] == [("altered", distance)]


def test_registered_sets_shipped_local_and_skipped_are_counted(
    tmp_path: Path, shipped_data: Path, testmini: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    jpgs = sorted((shipped_data / "mathvision" / "images").glob("*.jpg"))[:2]
    geometry = tmp_path / "test.parquet"  # Geometry3K's Hub layout: images, problem, answer
    pq.write_table(
        pa.table({
            "images": [[{"bytes": p.read_bytes(), "path": None}] for p in jpgs],
            "problem": ["<image>Find x so that m \\angle ABC = 3x + 12.", "<image>Find the area of the kite."],
            "answer": ["26", "120"],
        }),
        geometry,
    )  # fmt: skip
    listing = "A. red\nB. blue\nC. green\nD. Yellow\nE. This cannot be worked out for certain."
    with_options = (
        f"{testmini[LONG]}\n\nOptions:\n{listing}"  # as the eval row lists them; the stem alone hits too
    )
    problems = {
        "stem": testmini[LONG],
        "listed": with_options,
        "kite": "Find the AREA of the kite!",
        "other": UNRELATED,
    }
    batch = [Problem(id=pid, question=q, answer="1", source="test") for pid, q in problems.items()]
    config = DecontamConfig(sources={"geometry3k_test": str(geometry)}, progress=False)
    report = find_contamination(batch, config)

    assert report.eval_items == {"mathvision_mini": 304, "geometry3k_test": 2}
    assert report.skipped == {
        "mathvision": "not checked: no source given, and its default is the Hub's MathLLMs/MathVision "
        "(use_hub is off); give a local copy in DecontamConfig.sources['mathvision']"
    }
    assert any("mathvision" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)
    assert sorted((h.problem_id, h.eval_set, h.eval_id, h.method) for h in report.hits) == [
        ("kite", "geometry3k_test", "geometry3k-test-1", "exact"),
        ("listed", "mathvision_mini", "mathvision-39", "exact"),
        ("stem", "mathvision_mini", "mathvision-39", "exact"),
    ]
    report.write(tmp_path / "out")
    markdown = (tmp_path / "out" / "decontamination.md").read_text()
    assert "## Skipped evaluation sets: 1\n" in markdown and "- `mathvision`: not checked" in markdown

    defaults = find_contamination([], DecontamConfig(progress=False))  # only mathvision_mini ships
    assert sorted(defaults.skipped) == ["geometry3k_test", "mathvision"]
    assert defaults.eval_items == {"mathvision_mini": 304}


def test_an_unreachable_hub_skips_the_set_but_a_given_source_must_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = decontam_index.eval_set

    def offline(name: str) -> Any:
        def rows(source: str) -> Any:
            if re.fullmatch(r"[\w.-]+/[\w.-]+", source):  # a Hub name, as local_or_hub tells them
                raise RuntimeError(f"could not load {source!r} from the Hugging Face Hub: offline")
            return real(name).rows(source)

        return replace(real(name), rows=rows)

    monkeypatch.setattr(decontam_index, "eval_set", offline)
    report = find_contamination([], DecontamConfig(eval_sets=("mathvision",), use_hub=True, progress=False))
    assert report.skipped == {
        "mathvision": "not checked: could not load 'MathLLMs/MathVision' from the Hugging Face Hub: offline"
    }
    with pytest.raises(RuntimeError, match="offline"):  # a source the user named is never skipped
        find_contamination([], DecontamConfig(eval_sets=("mathvision",), sources={"mathvision": "me/copy"}))
    with pytest.raises(DataFileError, match="no such file or folder"):
        find_contamination(
            [], DecontamConfig(eval_sets=("mathvision",), sources={"mathvision": str(tmp_path / "x")})
        )


def test_bad_extra_set_names_the_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text(
        json.dumps({"id": "a", "question": "q"}) + "\n\n" + json.dumps({"id": "b", "text": "q"}) + "\n"
    )
    with pytest.raises(DataFileError, match=rf"^{re.escape(str(path))}: line 3: field 'question' is missing"):
        _run({}, path)
    path.write_text(json.dumps({"id": "a", "question": "  "}) + "\n")
    with pytest.raises(DataFileError, match=r": line 1: field 'question' is empty"):
        _run({}, path)
    table = tmp_path / "mine.parquet"
    pq.write_table(pa.table({"id": ["a", None], "question": ["q", "r"]}), table)
    with pytest.raises(DataFileError, match=rf"^{re.escape(str(table))}: row 2: field 'id' is missing"):
        _run({}, table)
    with pytest.raises(ValueError, match="unknown"):
        DecontamConfig(eval_sets=("mathvision_full",))


def test_report_files_and_the_split_of_problems(tmp_path: Path, testmini: dict[str, str]) -> None:
    eval_file = _eval_file(tmp_path, [{"id": f"mv-{i}", "question": testmini[i]} for i in (LONG, "110")])
    questions = {
        "two-words": changed(testmini[LONG], [12, 26]),
        "copy": testmini["110"],
        "one-word": changed(testmini[LONG], [19]),
        "clean": UNRELATED,
    }
    batch = _problems(questions)
    # the text the policy sees is checked too: here the figure-referring question is the copy
    batch.append(
        Problem(
            id="rewritten",
            question=PARAPHRASE,
            answer="1",
            source="test",
            multimodal_question=testmini["110"],
        )
    )
    report = _run(batch, eval_file)
    jsonl, markdown = report.write(tmp_path / "out")

    assert [json.loads(line) for line in jsonl.read_text().splitlines()] == [asdict(h) for h in report.hits]
    assert len(report.hits) == 5
    text = markdown.read_text()
    assert "| set | items (with image) | exact | ngram | minhash | phash | problems |" in text
    assert "| planted | 2 (0) | 2 | 1 | 2 | 0 | 4 |" in text
    assert "## Skipped evaluation sets: 0\n" in text and "5 hits on 4 problems, dropped from exports" in text
    top = text.split("## Top hits")[1].splitlines()
    assert top[0] == " (5 of 5)"
    rows = [line.split(" | ")[:5] for line in top[4:9]]  # strongest method first, then the highest score
    assert rows == [
        ["| copy", "planted", "mv-110", "exact", "1"],
        ["| rewritten", "planted", "mv-110", "exact", "1"],
        ["| one-word", "planted", "mv-39", "ngram", "0.519"],
        ["| one-word", "planted", "mv-39", "minhash", "0.85"],
        ["| two-words", "planted", "mv-39", "minhash", "0.721"],
    ]
    rewritten = next(h for h in report.hits if h.problem_id == "rewritten")
    assert rewritten.problem_text == " ".join(testmini["110"].split())[:119] + "…"

    kept, dropped = report.split(batch)
    assert [p.id for p in kept] == ["clean"]
    assert [(p.id, why) for p, why in dropped] == [
        ("two-words", "contaminated: minhash (Jaccard 0.721) with planted item mv-39"),
        ("copy", "contaminated: exact (same normalised text) with planted item mv-110"),
        ("one-word", "contaminated: ngram (52% of its word n-grams) with planted item mv-39; 1 more hit(s)"),
        ("rewritten", "contaminated: exact (same normalised text) with planted item mv-110"),
    ]
    kept, dropped = replace(report, config=replace(report.config, drop=False)).split(batch)
    assert kept == batch and dropped == []


def test_image_index_finds_exactly_the_hashes_within_the_distance() -> None:
    """The banded lookup against comparing every pair: the same matches, at every distance."""
    import random

    rng = random.Random(7)
    stored = [rng.getrandbits(64) for _ in range(200)]
    for limit in (0, 2, 4, 9):
        index = EvalIndex(13, 0.5, 3, 0.7, 128, limit)
        for item, h in enumerate(stored):
            index.add(item, [], h)
        for _ in range(300):
            base = rng.choice(stored)
            query = base
            for bit in rng.sample(range(64), rng.randint(0, limit + 2)):
                query ^= 1 << bit
            expected = [
                (i, float((query ^ h).bit_count()))
                for i, h in enumerate(stored)
                if (query ^ h).bit_count() <= limit
            ]
            assert [(m.item, m.score) for m in index.match_image(query)] == expected
        if limit == 4:  # 5 bands of 13 bits: a random pair shares one about once in 1,600 pairs
            assert index.comparisons < 2 * 300  # not 300 x 200: about the one near hash per query
