"""Hostile scripts aimed at the next script on the same worker, run through the real renderer: each
attack fails or is contained, and a benign script rendered right after it on that worker is
byte-identical to the same script on a clean worker."""

from __future__ import annotations

import ast
import os
import re
import shutil
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scigen_rl.render import RenderConfig, Renderer

BENIGN = (
    "import matplotlib.pyplot as plt\nimport numpy as np\n"
    "x = np.linspace(0, 6, 50)\nplt.plot(x, np.sin(x) + np.random.rand(50) * 0.1)\nplt.title('benign')\n"
)
CONFIG = RenderConfig(workers=1, timeout_s=3.0, memory_mb=512, recycle_after=1000)


@pytest.fixture(scope="module")
def clean_png() -> bytes:
    with Renderer(CONFIG) as r:
        result = r.render(BENIGN, "benign.py")
    assert result.ok
    return result.pngs[0]


@pytest.fixture
def worker() -> Iterator[Renderer]:
    with Renderer(CONFIG) as r:
        yield r


def _after(worker: Renderer, clean_png: bytes) -> None:
    for i in range(2):  # the next script, and the one after it, get a clean slate
        result = worker.render(BENIGN, f"benign-{i}.py")
        assert result.ok and result.pngs == [clean_png], result.error


def _script(src: str) -> str:
    return textwrap.dedent(src)


def test_the_folder_around_the_working_directory_cannot_be_changed(
    worker: Renderer, clean_png: bytes
) -> None:
    src = """
        import os
        outcomes = []
        for action in (lambda: os.chmod("..", 0o777), lambda: os.chmod(".", 0o777) or os.chmod("..", 0o777),
                       lambda: open("../planted.py", "w").write("x"), lambda: os.mkdir("../job-999"),
                       lambda: os.rename(".", "../moved")):
            try:
                action()
                outcomes.append("done")
            except OSError as e:
                outcomes.append(type(e).__name__)
        raise SystemExit(repr(outcomes))
    """
    error = worker.render(_script(src), "chmod.py").error or ""
    assert "done" not in error.split("[", 1)[1], error
    _after(worker, clean_png)


def test_files_left_in_the_working_directory_are_gone_for_the_next_script(worker: Renderer) -> None:
    plant = "open('note.txt', 'w').write('from a previous script')\nimport os\nos.makedirs('a/b', exist_ok=True)\n"
    assert worker.render(plant + BENIGN, "plant.py").ok
    look = "import os\nraise SystemExit('seen: ' + repr(sorted(os.listdir('.'))))\n"
    error = worker.render(look, "look.py").error or ""
    assert "seen: []" in error, error


def test_the_files_covering_private_paths_cannot_be_written(worker: Renderer, clean_png: bytes) -> None:
    src = """
        outcomes = []
        for path in ("/etc/shadow", "/root/.bashrc"):
            try:
                with open(path, "w") as f:
                    f.write("planted")
                outcomes.append("written")
            except OSError as e:
                outcomes.append(type(e).__name__)
        raise SystemExit(repr(outcomes))
    """
    error = worker.render(_script(src), "cover.py").error or ""
    assert "written" not in error, error
    peek = "raise SystemExit(repr(open('/etc/shadow').read()))\n"
    assert "planted" not in (worker.render(peek, "peek.py").error or "")
    _after(worker, clean_png)


def test_a_flood_of_small_files_is_a_timeout_and_costs_nothing_to_clean(
    worker: Renderer, clean_png: bytes
) -> None:
    src = """
        import os
        i = 0
        while True:  # past a full disk too: only the deadline stops it
            try:
                with open(f"f{i}", "w") as f:
                    f.write("x")
            except OSError:
                pass
            i += 1
    """
    started = time.monotonic()
    result = worker.render(_script(src), "flood.py")
    assert result.failure == "timeout", result.error
    assert time.monotonic() - started < CONFIG.timeout_s + 3  # nothing walks what it wrote
    _after(worker, clean_png)


def test_a_very_deep_tree_is_cleaned_up(worker: Renderer, clean_png: bytes) -> None:
    src = """
        import os
        for _ in range(5000):
            os.mkdir("d")
            os.chdir("d")
        import matplotlib.pyplot as plt
        plt.plot([0, 1])
    """
    assert worker.render(_script(src), "deep.py").ok
    _after(worker, clean_png)


# -- forged results: the script writes its own frame on the pipe its process answers on --------------

_FORGE = """
import os, struct, sys, time
frame = sys._getframe()
while "res_w" not in frame.f_locals:  # the locked-down child's own frame holds the result pipe
    frame = frame.f_back
def send(header: bytes, blobs: bytes = b"") -> None:
    os.write(frame.f_locals["res_w"], b"SGR1" + struct.pack(">I", len(header)) + header + blobs)
"""


def _png_header(width: int, height: int) -> bytes:
    """A PNG signature and a well-formed IHDR chunk claiming ``width`` x ``height`` pixels."""
    import struct
    import zlib

    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr))


@pytest.mark.parametrize(
    ("forgery", "why"),
    [
        ('send(b\'{"status": "ok", "blobs": [1e999]}\')', "non-finite"),
        ('send(b\'{"blobs": [], "x": \' + b"[" * 100000 + b"]" * 100000 + b"}")', "recursion"),
        ('send(b\'{"blobs": [], "x": \' + b"[" * 50 + b"]" * 50 + b"}")', "nested deeper"),
        ('send(b\'{"status": "ok", "texts": ["\\\\udc80"], "blobs": [3]}\', b"png")', "lone surrogate"),
        ('send(b\'{"status": "ok", "blobs": "many"}\')', "non-negative integers"),
    ],
)
def test_a_forged_frame_is_a_protocol_failure_and_its_process_is_killed(
    worker: Renderer, clean_png: bytes, forgery: str, why: str
) -> None:
    # the forger stays alive after its result, to tamper with the next job: it must not get to
    code = _FORGE + forgery + "\ntime.sleep(60)\n"
    started = time.monotonic()
    result = worker.render(code, "forge.py")
    assert (result.status, result.failure, result.pngs) == ("failed", "protocol", []), result.error
    assert why in (result.error or "") or result.error == (
        "the script's process sent something that is not a result; it was killed"
    )
    assert time.monotonic() - started < CONFIG.timeout_s  # stopped at the frame, not at the deadline
    _after(worker, clean_png)


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (_png_header(60000, 60000) + bytes(64), "60000x60000 pixels, over the cap"),
        (b"#!/bin/sh\nrm -rf ~\n", "not a PNG (no PNG signature)"),
        (_png_header(10, 10), "not a decodable PNG"),
    ],
)
def test_a_forged_ok_frame_with_a_bad_png_is_refused_by_the_parent(
    worker: Renderer, clean_png: bytes, blob: bytes, reason: str
) -> None:
    header = '{"status": "ok", "failure": null, "error": null, "warnings": [], "texts": [], "blobs": [%d]}'
    code = _FORGE + f"send(({header!r} % {len(blob)}).encode(), {blob!r})\ntime.sleep(60)\n"
    result = worker.render(code, "fake-png.py")
    assert (result.status, result.failure, result.pngs) == ("failed", "protocol", []), result.error
    assert f"figure 1: {reason}" in (result.error or "")
    _after(worker, clean_png)


def test_a_valid_forged_result_still_ends_every_process_of_the_script(worker: Renderer) -> None:
    code = _FORGE + (
        "import io\nfrom PIL import Image\nbuf = io.BytesIO()\nImage.new('RGB', (8, 8), 'red').save(buf, 'png')\n"
        "png = buf.getvalue()\n"
        'send((\'{"status": "ok", "blobs": [%d]}\' % len(png)).encode(), png)\ntime.sleep(60)\n'
    )
    assert worker.render(code, "forged-ok.py").ok  # a well-formed result is a result: what it drew
    look = (  # a SIGKILLed process may take a moment to finish exiting: look for up to 5 s
        "import os, time\n"
        "def alive():\n"
        "    states = []\n"
        "    for p in (p for p in os.listdir('/proc') if p.isdigit()):\n"
        "        try:\n"
        "            states.append(open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[0])\n"
        "        except OSError:\n"
        "            pass\n"
        "    return sum(s not in 'ZX' for s in states)\n"
        "end = time.monotonic() + 5\n"
        "while alive() > 3 and time.monotonic() < end:\n"
        "    time.sleep(0.05)\n"
        "raise SystemExit(f'alive: {alive()}')\n"
    )
    # this script and its fork-server, and the next spare unless it is still being forked: no forger
    error = worker.render(look, "look.py").error or ""
    assert re.search(r"alive: [23]'", error), error


@pytest.mark.parametrize(
    "src",
    [
        "raise ValueError('bad \\udc80 byte')",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.title('x \\udc80 y')\n",
        "import warnings\nwarnings.warn('w \\udc80')\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n",
        "raise SystemExit('\\udc80')",
    ],
)
def test_lone_surrogates_in_what_a_script_writes_are_escaped(
    worker: Renderer, clean_png: bytes, src: str
) -> None:
    result = worker.render(src, "surrogate-\udc80.py")
    assert result.failure != "protocol", result.error
    for text in [result.error or "", *result.warnings, *result.texts]:
        assert not any("\ud800" <= c <= "\udfff" for c in text), text
    _after(worker, clean_png)


# -- the script's identity: as root, scripts run as nobody ---------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="the renderer runs as root only here")
def test_as_root_scripts_run_as_nobody_and_private_files_are_unreadable(
    worker: Renderer, clean_png: bytes
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="scigen-secret-"))
    folder.chmod(0o755)  # reachable by anyone: only the file's own 0600 mode protects it
    secret = folder / "key.pem"
    secret.write_text("PRIVATE")
    secret.chmod(0o600)
    src = f"""
        import os
        seen = [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()]
        for attempt in (lambda: open({str(secret)!r}).read(), lambda: os.chmod({str(secret)!r}, 0o644),
                        lambda: os.chmod(".", 0o777) or os.chmod("..", 0o777), lambda: os.setuid(0)):
            try:
                seen.append(attempt())
            except OSError as e:
                seen.append(type(e).__name__)
        raise SystemExit(repr(seen))
    """
    error = worker.render(_script(src), "whoami.py").error or ""
    assert worker.isolation["script_uid"] == 65534
    seen = ast.literal_eval(error.split("status ", 1)[1])
    assert seen.startswith("[65534, 65534, 65534, [], 'PermissionError'"), error  # nobody; the read refused
    assert "None" not in seen and "PRIVATE" not in seen, error  # and neither chmod nor setuid worked
    assert secret.stat().st_mode & 0o777 == 0o600
    shutil.rmtree(folder)
    _after(worker, clean_png)


@pytest.mark.skipif(os.geteuid() != 0, reason="the renderer runs as root only here")
def test_what_the_interpreter_needs_stays_reachable_from_a_private_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "private"  # like a checkout cloned into `mktemp -d`: 0700, owned by root
    private.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_CACHE_HOME", str(private / "cache"))  # the workers' MPLCONFIGDIR goes in it
    with Renderer(CONFIG) as r:
        assert str(private) in r.isolation["reachable_through"] or any(
            str(private).startswith(p + os.sep) for p in r.isolation["reachable_through"]
        )
        src = "import os\nimport matplotlib.pyplot as plt\nplt.title(str(sorted(os.listdir(os.environ['MPLCONFIGDIR']))[:1]))\n"
        result = r.render(src, "reach.py")
    assert result.ok, result.error
    assert result.texts and result.texts[0].startswith("['fontlist"), result.texts
