"""The renderer's policy in this process: the resource limits a script gets (applied for real to a
forked child and probed on both sides of each edge), how a script's end is classified (from real
wait statuses), the settings' validation, and the framing of results over pipes. The sandboxed
runs in ``test_render_limits.py`` check the same limits through the whole renderer."""

from __future__ import annotations

import os
import re
import resource
import signal
import threading
import time
from typing import Any

import pytest

from scigen_rl.render._wire import (
    FrameError,
    encode_frame,
    frame_length,
    parse_frame,
    read_frame,
    write_frame,
)
from scigen_rl.render.config import MAX_OPEN_FILES, RenderConfig
from scigen_rl.render.outcome import (
    MAX_ECHO_CHARS,
    MAX_TEXT_CHARS,
    MAX_TEXTS,
    MAX_WARNING_CHARS,
    MAX_WARNINGS,
    classify,
    png_problem,
)
from scigen_rl.render.pool import _checked_result

MB = 1 << 20


def _vm_bytes() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmSize:")) << 10


def _in_child_with_limits(cfg: RenderConfig, action: str, arg: int) -> tuple[int, Any]:
    """Fork, apply ``cfg``'s limits as the sandbox does, run ``action``; the wait status and rusage."""
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            for which, limits in cfg.rlimits(_vm_bytes()).items():
                resource.setrlimit(which, limits)
            if action == "allocate":
                block = bytearray(arg)
                block[::4096] = b"x" * len(block[::4096])
            elif action == "write":
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                with open(f"/tmp/scigen-fsize-{os.getpid()}", "wb") as f:
                    try:
                        f.write(b"x" * arg)
                    finally:
                        os.unlink(f.name)
            elif action == "spin":
                end = time.monotonic() + arg
                while time.monotonic() < end:
                    pass
            elif action == "files":
                fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(arg)]
                assert fds
            code = 0
        except (MemoryError, OSError):
            code = 1
        finally:
            os._exit(code)
    _, status, rusage = os.wait4(pid, 0)
    return status, rusage


def _exit_code(ended: tuple[int, Any]) -> int | None:
    return os.WEXITSTATUS(ended[0]) if os.WIFEXITED(ended[0]) else None


@pytest.mark.parametrize(("extra_mb", "fits"), [(-48, True), (48, False)])
def test_memory_limit_is_headroom_at_its_edge(extra_mb: int, fits: bool) -> None:
    cfg = RenderConfig(memory_mb=256)
    # The child's own start-up costs a few MB of address space: 48 MB on either side is clear of it.
    assert _exit_code(_in_child_with_limits(cfg, "allocate", (256 + extra_mb) * MB)) == (0 if fits else 1)


@pytest.mark.parametrize(("size_mb", "fits"), [(1, True), (2, True), (3, False)])
def test_file_size_limit_at_its_edge(size_mb: int, fits: bool) -> None:
    cfg = RenderConfig(file_size_mb=2)
    assert _exit_code(_in_child_with_limits(cfg, "write", size_mb * MB)) == (0 if fits else 1)


@pytest.mark.parametrize(("files", "fits"), [(MAX_OPEN_FILES - 60, True), (MAX_OPEN_FILES + 4, False)])
def test_open_file_limit(files: int, fits: bool) -> None:
    assert _exit_code(_in_child_with_limits(RenderConfig(), "files", files)) == (0 if fits else 1)


def test_cpu_limit_sends_sigxcpu_and_is_a_timeout() -> None:
    cfg = RenderConfig(timeout_s=30, cpu_s=0.5)  # 1 CPU second (whole seconds, rounded up past the setting)
    assert cfg.cpu_limit_s == 1
    started = time.monotonic()
    ended = _in_child_with_limits(cfg, "spin", 20)
    assert os.WIFSIGNALED(ended[0]) and os.WTERMSIG(ended[0]) == signal.SIGXCPU
    assert time.monotonic() - started < 10
    header, pngs = classify(cfg, b"", ended, None)
    assert (header["failure"], pngs) == ("timeout", [])
    assert "1 s CPU-time limit" in header["error"]


def test_no_core_dumps_and_limits_follow_the_settings() -> None:
    cfg = RenderConfig(memory_mb=300, file_size_mb=5, timeout_s=7)
    limits = cfg.rlimits(1000)
    assert limits[resource.RLIMIT_CORE] == (0, 0)
    assert limits[resource.RLIMIT_NOFILE] == (MAX_OPEN_FILES, MAX_OPEN_FILES)
    assert limits[resource.RLIMIT_AS] == (1000 + 300 * MB,) * 2
    assert limits[resource.RLIMIT_FSIZE] == (5 * MB,) * 2
    assert limits[resource.RLIMIT_CPU] == (cfg.cpu_limit_s, cfg.cpu_limit_s + 1)


@pytest.mark.parametrize(
    ("timeout_s", "cpu_s", "limit"), [(7, None, 9), (7.5, None, 9), (20, 2, 3), (20, 2.5, 3), (20, 0.1, 1)]
)
def test_cpu_limit_seconds(timeout_s: float, cpu_s: float | None, limit: int) -> None:
    assert RenderConfig(timeout_s=timeout_s, cpu_s=cpu_s).cpu_limit_s == limit


# -- classification of how a script ended -------------------------------------------------------


def _ended_by(sig: int) -> tuple[int, Any]:
    pid = os.fork()
    if pid == 0:
        os.kill(os.getpid(), sig)
        os._exit(9)
    _, status, rusage = os.wait4(pid, 0)
    return status, rusage


def _ended_with(code: int) -> tuple[int, Any]:
    pid = os.fork()
    if pid == 0:
        os._exit(code)
    _, status, rusage = os.wait4(pid, 0)
    return status, rusage


def _rusage(cpu_s: float) -> resource.struct_rusage:
    return resource.struct_rusage((cpu_s / 2, cpu_s / 2, *([0] * 14)))


CFG = RenderConfig(timeout_s=5, cpu_s=4, max_output_mb=1)  # CPU limit 5 s


def test_wall_clock_and_oversize_kills_are_named() -> None:
    header, _ = classify(CFG, b"", None, "deadline")
    assert header["failure"] == "timeout" and "5 s wall-clock limit" in header["error"]
    header, _ = classify(CFG, encode_frame({"status": "ok"}, [b"png"]), None, "oversize")
    assert header["failure"] == "killed" and "exceeded 1 MB" in header["error"]


@pytest.mark.parametrize(("cpu_s", "failure"), [(4.4, "killed"), (4.5, "timeout"), (6.0, "timeout")])
def test_sigkill_at_the_hard_cpu_limit_is_a_timeout(cpu_s: float, failure: str) -> None:
    status, _ = _ended_by(signal.SIGKILL)
    header, _ = classify(CFG, b"", (status, _rusage(cpu_s)), None)
    assert header["failure"] == failure
    if failure == "killed":
        assert header["error"] == "the script's process was killed by SIGKILL"


@pytest.mark.parametrize(("sig", "failure"), [(signal.SIGXCPU, "timeout"), (signal.SIGTERM, "killed")])
def test_signals(sig: int, failure: str) -> None:
    header, pngs = classify(CFG, encode_frame({"status": "ok"}, [b"png"]), _ended_by(sig), None)
    assert (header["status"], header["failure"], pngs) == ("failed", failure, [])


def test_a_process_that_exits_without_a_result_was_killed() -> None:
    header, _ = classify(CFG, b"", _ended_with(70), None)
    assert header["failure"] == "killed" and "exit status 70" in header["error"]


def test_a_result_written_before_a_clean_exit_counts() -> None:
    header, pngs = classify(CFG, encode_frame({"status": "ok"}, [b"p1", b"p2"]), _ended_with(0), None)
    assert header["status"] == "ok" and header["failure"] is None and pngs == [b"p1", b"p2"]


def test_ok_without_figures_is_no_figure() -> None:
    header, pngs = classify(CFG, encode_frame({"status": "ok", "warnings": ["w"]}), None, None)
    assert header == {
        "status": "failed", "failure": "no_figure", "error": "the script drew no figure", "warnings": [], "texts": [],
    }  # fmt: skip
    assert pngs == []


@pytest.mark.parametrize(
    ("failure", "kept"),
    [("memory", "memory"), ("syntax", "syntax"), (None, "runtime")],
)
def test_a_failure_class_is_kept_only_when_known(failure: str | None, kept: str) -> None:
    header, pngs = classify(
        CFG, encode_frame({"status": "failed", "failure": failure, "error": "E"}, [b"p"]), None, None
    )
    assert (header["status"], header["failure"], header["error"], pngs) == ("failed", kept, "E", [])


@pytest.mark.parametrize("data", [b"garbage", encode_frame({"status": "ok"})[:-1] + b"[", b"SGR1"])
def test_malformed_results_are_a_protocol_failure_not_a_crash(data: bytes) -> None:
    header, pngs = classify(CFG, data, None, None)
    assert (header["failure"], pngs) == ("protocol", []) and "malformed result" in header["error"]


def test_a_child_stopped_for_what_it_sent_is_a_protocol_failure() -> None:
    header, pngs = classify(CFG, encode_frame({"status": "ok"}, [b"png"]), None, "protocol")
    assert (header["failure"], pngs) == ("protocol", []) and "not a result" in header["error"]


def test_a_result_over_the_output_cap_is_refused() -> None:
    big = encode_frame({"status": "ok", "texts": ["x" * (3 * MB // 2)]}, [b"png"])  # 1.5 MB against 1 MB
    header, _ = classify(CFG, big, None, None)
    assert header["failure"] == "protocol" and "malformed" in header["error"]


@pytest.mark.parametrize("n", [0, 1])
def test_untrusted_lists_are_bounded_at_their_edges(n: int) -> None:
    header = {
        "status": "ok",
        "error": None,
        "warnings": ["w" * (MAX_WARNING_CHARS + n)] * (MAX_WARNINGS + n),
        "texts": ["t" * (MAX_TEXT_CHARS + n)] * (MAX_TEXTS + n),
    }
    clean, pngs = classify(CFG, encode_frame(header, [b"png"]), None, None)
    assert clean["status"] == "ok" and pngs == [b"png"] and clean["error"] is None
    assert len(clean["warnings"]) == MAX_WARNINGS and {len(w) for w in clean["warnings"]} == {
        MAX_WARNING_CHARS
    }
    assert len(clean["texts"]) == MAX_TEXTS and {len(t) for t in clean["texts"]} == {MAX_TEXT_CHARS}


def test_errors_are_bounded() -> None:
    clean, _ = classify(CFG, encode_frame({"status": "failed", "error": "e" * 5000}), None, None)
    assert clean["error"] == "e" * 4000


@pytest.mark.parametrize(
    "forged",
    [
        {"status": "failed", "error": 12},
        {"status": "ok", "texts": [1]},
        {"status": "ok", "texts": "abc"},
        {"status": "ok", "warnings": [None]},
        {"status": "OK"},
        {"status": "failed", "failure": "made-up"},
        {"status": ["ok"]},
    ],
)
def test_a_result_of_the_wrong_shape_is_a_protocol_failure(forged: dict[str, Any]) -> None:
    clean, pngs = classify(CFG, encode_frame(forged, [b"png"]), None, None)
    assert (clean["status"], clean["failure"], pngs) == ("failed", "protocol", [])
    assert clean["error"].startswith("the script's process sent a malformed result")


@pytest.mark.parametrize("extra", [0, 1])
def test_more_figures_than_the_capture_sends_is_a_forged_result(extra: int) -> None:
    cfg = RenderConfig(max_figures=2)
    blobs = [bytes([i]) for i in range(2 + extra)]
    clean, pngs = classify(cfg, encode_frame({"status": "ok"}, blobs), None, None)
    if extra:
        assert (clean["failure"], pngs) == ("protocol", []) and "3 figures, more than the 2" in clean["error"]
    else:
        assert (clean["status"], pngs) == ("ok", blobs)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (b'{"status": "ok", "blobs": [1e999]}', "non-finite number 1e999"),
        (b'{"status": "ok", "x": NaN, "blobs": []}', "non-finite number NaN"),
        (b'{"status": "ok", "x": -Infinity, "blobs": []}', "non-finite number -Infinity"),
        (b'{"blobs": [], "x": ' + b"[" * 500 + b"]" * 500 + b"}", "nested deeper than 8"),
        (b'{"blobs": [], "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "recursion"),
        (b'{"blobs": [], "texts": ["\\\\udc80"]}', None),
        (b'{"blobs": [], "texts": ["\\ud83d\\ude00"]}', None),
        (b'{"blobs": [], "texts": ["\\udc80"]}', "lone surrogate"),
        (b'{"blobs": [], "texts": ["\xed\xb2\x80"]}', "bad frame header"),
        (b'{"blobs": [true]}', "non-negative integers"),
        (b'{"blobs": [1.0]}', "non-negative integers"),
        (b'{"blobs": [-1]}', "non-negative integers"),
        (b'{"blobs": {"0": 1}}', "non-negative integers"),
        (b'{"status": "ok"}', "blobs"),
        (b'"blobs"', "not an object"),
        (b"\xff\xfe", "bad frame header"),
    ],
)
def test_forged_headers_are_refused_with_a_frame_error_only(header: bytes, reason: str | None) -> None:
    frame = b"SGR1" + len(header).to_bytes(4, "big") + header
    if reason is None:  # escaped text that is a valid string: the escape stays text, or a real pair
        assert parse_frame(frame, 1 << 20)[1] == []
        return
    with pytest.raises(FrameError, match=reason):
        parse_frame(frame, 1 << 20)
    with pytest.raises(FrameError, match=reason):
        frame_length(frame, 1 << 20)
    clean, pngs = classify(CFG, frame, None, None)
    assert (clean["failure"], pngs) == ("protocol", [])


def test_nesting_is_allowed_up_to_its_cap() -> None:
    inner: Any = 1
    for _ in range(7):  # the header object itself is the first level
        inner = [inner]
    assert parse_frame(encode_frame({"x": inner}), 1 << 20)[0] == {"x": inner}
    with pytest.raises(FrameError, match="nested deeper than 8"):
        parse_frame(encode_frame({"x": [inner]}), 1 << 20)


def test_what_the_parent_sends_may_hold_surrogates_but_never_raw_ones() -> None:
    frame = encode_frame({"name": "fig\udc80.py", "ok": True})
    assert b"\\udc80" in frame  # escaped on the wire: nothing to fail to encode
    r, w = os.pipe()
    try:
        os.write(w, frame)
        assert read_frame(r, time.monotonic() + 5)[0] == {"name": "fig\udc80.py", "ok": True}
        os.write(w, frame)
        with pytest.raises(FrameError, match="lone surrogate"):
            read_frame(r, time.monotonic() + 5, strict=True)
    finally:
        os.close(r)
        os.close(w)
    with pytest.raises(ValueError):
        encode_frame({"x": float("nan")})


def test_bytes_after_the_frame_are_refused() -> None:
    frame = encode_frame({"status": "ok"}, [b"png"])
    assert parse_frame(frame, 1 << 20)[1] == [b"png"]
    with pytest.raises(FrameError, match="bytes after the frame"):
        parse_frame(frame + b"x", 1 << 20)


# -- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "timeout_s",
        "memory_mb",
        "file_size_mb",
        "scratch_mb",
        "dpi",
        "max_pixels",
        "recycle_after",
        "max_figures",
    ],
)
def test_every_limit_must_be_positive(name: str) -> None:
    RenderConfig(**{name: 1})
    with pytest.raises(ValueError, match=rf"RenderConfig\.{name}: must be positive, got 0"):
        RenderConfig(**{name: 0})


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [("png_compress_level", (0, 9), (-1, 10)), ("nice", (0, 19), (-1, 20)), ("workers", (0, 3), (-1,))],
)
def test_ranges_at_their_edges(name: str, good: tuple[int, ...], bad: tuple[int, ...]) -> None:
    for value in good:
        assert getattr(RenderConfig(**{name: value}), name) == value
    for value in bad:
        with pytest.raises(ValueError, match=rf"RenderConfig\.{name}: .*{value}"):
            RenderConfig(**{name: value})


def test_isolation_modes_and_worker_count() -> None:
    assert RenderConfig(isolation="relaxed").isolation == "relaxed"
    with pytest.raises(ValueError, match="RenderConfig.isolation: 'loose'"):
        RenderConfig(isolation="loose")
    assert RenderConfig(workers=0).n_workers == (os.cpu_count() or 1)
    assert RenderConfig(workers=3).n_workers == 3
    assert RenderConfig(memory_mb=7).to_dict()["memory_mb"] == 7


# -- frames over pipes ----------------------------------------------------------------------------


def test_frames_round_trip_through_a_pipe_and_in_memory() -> None:
    frame = encode_frame({"status": "ok", "name": "é"}, [b"a" * 10, b"", b"bc"])
    assert parse_frame(frame, 1 << 20) == ({"status": "ok", "name": "é"}, [b"a" * 10, b"", b"bc"])
    assert frame_length(frame, len(frame)) == len(frame)
    r, w = os.pipe()
    try:
        write_frame(w, {"k": 1}, [b"xyz"])
        assert read_frame(r, time.monotonic() + 5) == ({"k": 1}, [b"xyz"])
    finally:
        os.close(r)
        os.close(w)


def test_frame_length_waits_for_the_header_and_flags_garbage() -> None:
    frame = encode_frame({"a": 1}, [b"12345"])
    header_end = len(frame) - 5
    assert [frame_length(frame[:n], 1 << 20) for n in (0, 7, header_end - 1)] == [None, None, None]
    assert frame_length(frame[:header_end], 1 << 20) == len(frame)
    with pytest.raises(FrameError, match="^bad frame prefix$"):
        frame_length(b"XXXX" + frame[4:], 1 << 20)
    with pytest.raises(FrameError, match="^bad frame header"):
        frame_length(frame[:8] + b"[" * (header_end - 8), 1 << 20)
    # the cap, at its edge: the header alone, then the whole frame
    assert frame_length(frame[:header_end], len(frame) - 8) == len(frame)
    with pytest.raises(FrameError, match="^frame larger than allowed$"):
        frame_length(frame[:header_end], len(frame) - 9)
    with pytest.raises(FrameError, match="^bad frame prefix$"):
        frame_length(frame[:header_end], header_end - 9)


@pytest.mark.parametrize("slack", [0, -1])
def test_frame_size_cap_at_its_edge(slack: int) -> None:
    frame = encode_frame({"a": 1}, [b"x" * 100])
    total = len(frame) - 8  # header and blobs, without the 8-byte prefix
    if slack == 0:
        assert parse_frame(frame, total)[1] == [b"x" * 100]
    r, w = os.pipe()
    try:
        os.write(w, frame)
        if slack == 0:
            assert read_frame(r, time.monotonic() + 5, max_bytes=total)[1] == [b"x" * 100]
        else:
            with pytest.raises(FrameError, match="^frame larger than allowed$"):
                read_frame(r, time.monotonic() + 5, max_bytes=total + slack)
    finally:
        os.close(r)
        os.close(w)


def test_parse_refuses_truncated_and_foreign_frames() -> None:
    frame = encode_frame({"a": 1}, [b"x" * 10])
    cases = (
        (frame[:5], "truncated frame"),
        (frame[:-1], "truncated frame"),
        (b"XXXX" + frame[4:], "bad frame prefix"),
    )
    for bad, reason in cases:
        with pytest.raises(FrameError, match=f"^{reason}$"):
            parse_frame(bad, 1 << 20)
    header = len(frame) - 8 - 10
    with pytest.raises(FrameError, match="^bad frame prefix$"):
        parse_frame(frame, header - 1)  # the header alone is larger than the cap
    assert parse_frame(frame, header)[1] == [b"x" * 10]  # blobs are bounded by what was read
    empty_header = b"SGR1" + bytes(4)  # a prefix and nothing else: complete, but no header
    with pytest.raises(FrameError, match="^bad frame header: "):
        parse_frame(empty_header, 1 << 20)
    with pytest.raises(FrameError, match="^bad frame header: "):
        frame_length(empty_header, 1 << 20)
    with pytest.raises(FrameError, match="^bad frame header: "):
        parse_frame(b"SGR1" + (2).to_bytes(4, "big") + b"[]", 1 << 20)


def test_read_frame_gives_up_at_the_deadline_and_on_a_closed_pipe() -> None:
    r, w = os.pipe()
    try:
        os.write(w, encode_frame({"a": 1}, [b"x" * 10])[:-3])
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            read_frame(r, time.monotonic() + 0.2)
        assert time.monotonic() - started < 2
    finally:
        os.close(w)
    try:
        with pytest.raises(EOFError):
            read_frame(r, time.monotonic() + 1)
    finally:
        os.close(r)


def test_read_frame_waits_for_every_byte_and_takes_empty_blobs() -> None:
    frame = encode_frame({"a": 1}, [b"", b"xyz", b""])
    r, w = os.pipe()

    def trickle() -> None:
        for i in range(len(frame)):  # one byte at a time: every read returns less than asked
            os.write(w, frame[i : i + 1])
            time.sleep(0.001)

    writer = threading.Thread(target=trickle)
    writer.start()
    try:
        assert read_frame(r, time.monotonic() + 10) == ({"a": 1}, [b"", b"xyz", b""])
    finally:
        writer.join()
        os.close(r)
        os.close(w)


@pytest.mark.parametrize("sent", [b"", b"SGR1", encode_frame({"a": 1})[:10]])
def test_every_part_of_a_frame_is_read_under_the_deadline(sent: bytes) -> None:
    r, w = os.pipe()
    try:
        os.write(w, sent)
        with pytest.raises(TimeoutError, match="^no complete frame before the deadline$"):
            read_frame(r, time.monotonic() + 0.1)
    finally:
        os.close(r)
        os.close(w)


def test_read_frame_refuses_a_foreign_prefix_and_names_a_closed_pipe() -> None:
    r, w = os.pipe()
    try:
        os.write(w, b"XXXX" + bytes(4))
        with pytest.raises(FrameError, match="^bad frame prefix$"):
            read_frame(r, time.monotonic() + 1)
        os.write(w, b"SGR1" + (2).to_bytes(4, "big") + b"[]")
        with pytest.raises(FrameError, match="^bad frame header: "):
            read_frame(r, time.monotonic() + 1)
    finally:
        os.close(w)
    try:
        with pytest.raises(EOFError, match="^pipe closed$"):
            read_frame(r, time.monotonic() + 1)
    finally:
        os.close(r)


# -- what the parent accepts as a figure ----------------------------------------------------------


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, "png")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("width", "height", "ok"), [(20, 5, True), (10, 10, True), (101, 1, False), (11, 10, False)]
)
def test_the_pixel_cap_of_a_png_at_its_edge(width: int, height: int, ok: bool) -> None:
    problem = png_problem(_png(width, height), max_pixels=100)
    assert problem is None if ok else problem == f"{width}x{height} pixels, over the cap of 100"


def test_a_png_must_have_its_signature_and_header_and_decode_fully() -> None:
    good = _png(8, 8)
    assert png_problem(good, 64) is None
    assert png_problem(b"GIF89a" + good[6:], 64) == "not a PNG (no PNG signature)"
    assert png_problem(good[:12] + b"IHDX" + good[16:], 64) == "not a PNG (no IHDR chunk first)"
    assert png_problem(good[:20], 64) == "not a PNG (no IHDR chunk first)"
    assert png_problem(good[:-20], 64) is not None and png_problem(good[:-20], 64).startswith(
        "not a decodable"
    )
    idat = good.index(b"IDAT") + 8
    corrupt = good[:idat] + bytes(b ^ 0xFF for b in good[idat : idat + 4]) + good[idat + 4 :]
    assert png_problem(corrupt, 64) is not None


def _reply(**header: Any) -> dict[str, Any]:
    return {"status": "ok", "failure": None, "error": None, "warnings": [], "texts": [], **header}


def test_the_parent_keeps_a_valid_result_as_sent() -> None:
    png = _png(4, 4)
    cfg = RenderConfig(max_figures=2, max_pixels=16)
    result = _checked_result("a.py", _reply(texts=["t"], warnings=["w"], seconds=0.5), [png, png], cfg)
    assert (result.ok, result.pngs, result.texts, result.warnings, result.seconds) == (
        True, [png, png], ["t"], ["w"], 0.5,
    )  # fmt: skip
    failed = _checked_result("a.py", _reply(status="failed", failure="memory", error="E"), [png], cfg)
    assert (failed.status, failed.failure, failed.error, failed.pngs) == ("failed", "memory", "E", [])


@pytest.mark.parametrize(
    ("header", "count", "reason"),
    [
        ({}, 0, "0 figures with an ok status"),
        ({}, 3, "3 figures with an ok status"),
        ({"status": "OK"}, 1, "a reply with status 'OK'"),
        ({"status": "failed", "failure": "made-up"}, 0, "failure 'made-up'"),
        ({"status": "failed", "failure": None}, 0, "failure 'None'"),
    ],
)
def test_the_parent_rederives_status_and_figure_count(
    header: dict[str, Any], count: int, reason: str
) -> None:
    result = _checked_result("a.py", _reply(**header), [_png(4, 4)] * count, RenderConfig(max_figures=2))
    assert (result.status, result.failure, result.pngs) == ("failed", "protocol", [])
    assert reason in (result.error or "")


def test_the_parent_names_the_first_bad_figure() -> None:
    cfg = RenderConfig(max_figures=3, max_pixels=100)
    result = _checked_result("a.py", _reply(), [_png(4, 4), _png(20, 20), b"x"], cfg)
    assert result.error == "the script's result was refused: figure 2: 20x20 pixels, over the cap of 100"


def test_a_header_exactly_at_the_cap_is_read() -> None:
    frame = encode_frame({"a": "x" * 100})
    size = len(frame) - 8
    r, w = os.pipe()
    try:
        os.write(w, frame)
        assert read_frame(r, time.monotonic() + 5, max_bytes=size) == ({"a": "x" * 100}, [])
        os.write(w, frame)
        with pytest.raises(FrameError, match="^bad frame prefix$"):
            read_frame(r, time.monotonic() + 5, max_bytes=size - 1)
    finally:
        os.close(r)
        os.close(w)


def test_a_failure_has_the_same_fields_as_a_success() -> None:
    for why in ("deadline", "oversize", "protocol"):
        header, _ = classify(CFG, b"", None, why)
        assert set(header) == {"status", "failure", "error", "warnings", "texts"}
        assert header["warnings"] == [] and header["texts"] == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'"blobs"', "bad frame header: the header is a str, not an object"),
        (b'{"blobs": [-1]}', "bad frame header: blob sizes must be a list of non-negative integers"),
        (b'{"blobs": [], "t": ["\\udc80"]}', "bad frame header: a string holds a lone surrogate"),
        (b'{"blobs": [1e99999999999999999999]}', "bad frame header: non-finite number 1e999999999999999999"),
    ],
)
def test_frame_errors_say_exactly_what_is_wrong(raw: bytes, message: str) -> None:
    frame = b"SGR1" + len(raw).to_bytes(4, "big") + raw
    with pytest.raises(FrameError) as err:
        parse_frame(frame, 1 << 20)
    assert str(err.value) == message
    with pytest.raises(FrameError, match="^bytes after the frame$"):
        parse_frame(encode_frame({"a": 1}) + b"\x00", 1 << 20)


def test_a_frame_without_blobs_exactly_at_the_cap_has_its_length() -> None:
    frame = encode_frame({"a": "x" * 50})
    assert frame_length(frame, len(frame) - 8) == len(frame)
    with pytest.raises(FrameError):
        frame_length(frame, len(frame) - 9)


@pytest.mark.parametrize(
    ("forged", "why"),
    [
        ({"status": "OK"}, "status 'OK'"),
        ({"status": "ok" * MAX_ECHO_CHARS}, f"status {('ok' * MAX_ECHO_CHARS)[:MAX_ECHO_CHARS]!r}"),
        ({"status": "failed", "failure": "made-up"}, "failure class 'made-up'"),
        ({"status": "failed", "failure": "x" * 99}, f"failure class {'x' * MAX_ECHO_CHARS!r}"),
        ({"status": "failed", "error": 12}, "error is not a string"),
        ({"status": "ok", "warnings": [None]}, "warnings is not a list of strings"),
        ({"status": "ok", "texts": "abc"}, "texts is not a list of strings"),
    ],
)
def test_a_result_of_the_wrong_shape_names_the_field(forged: dict[str, Any], why: str) -> None:
    clean, _ = classify(CFG, encode_frame(forged, [b"png"]), None, None)
    assert clean["error"] == f"the script's process sent a malformed result ({why})"


def test_status_decides_which_fields_a_result_keeps() -> None:
    failed = {"status": "failed", "failure": "memory", "error": "E", "texts": ["t"], "warnings": ["w"]}
    clean, pngs = classify(CFG, encode_frame(failed, [b"png"]), None, None)
    assert (clean, pngs) == (
        {"status": "failed", "failure": "memory", "error": "E", "warnings": ["w"], "texts": []},
        [],
    )
    ok = {"status": "ok", "failure": "memory", "error": "E", "texts": ["t"], "warnings": ["w"]}
    clean, pngs = classify(CFG, encode_frame(ok, [b"png"]), None, None)
    assert (clean, pngs) == (
        {"status": "ok", "failure": None, "error": None, "warnings": ["w"], "texts": ["t"]},
        [b"png"],
    )
    clean, _ = classify(CFG, b"", None, "protocol")
    assert clean["error"] == "the script's process sent something that is not a result; it was killed"


def test_the_png_header_check_at_its_edges() -> None:
    good = _png(8, 8)
    assert png_problem(good[:23], 64) == "not a PNG (no IHDR chunk first)"
    assert re.fullmatch(r"not a decodable PNG \(\w+\)", png_problem(good[:24], 64) or "")
    assert "NoneType" not in (png_problem(good[:-20], 64) or "")
    huge = good[:16] + (1 << 31).to_bytes(4, "big") + (1).to_bytes(4, "big") + good[24:]
    assert png_problem(huge, 64) == "2147483648x1 pixels, over the cap of 64"
