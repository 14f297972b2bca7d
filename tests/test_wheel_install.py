"""A non-editable install works without the source tree: the wheel carries the data sets, and from a
fresh environment the commands find them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from .conftest import REPO

_NOT_SOURCE = (".git", ".venv", "runs", "build", "dist", "*.egg-info", "__pycache__", "wandb", ".*_cache")


def test_a_wheel_in_a_fresh_environment_loads_both_data_sets(tmp_path: Path) -> None:
    source = tmp_path / "source"  # built from a copy: the checkout's own build folders stay as they are
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", str(wheels), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = wheels.glob("scigen_rl-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert sum(n.startswith("scigen_rl/data/scigenbench/seephys_images/") for n in names) == 330
    assert sum(n.startswith("scigen_rl/data/mathvision/images/") for n in names) == 304
    for name in ("scigenbench/scigen.json", "scigenbench/seephys.json", "scigenbench/LICENSE",
                 "scigenbench/SOURCE.md", "mathvision/testmini.jsonl", "mathvision/LICENSE", "mathvision/SOURCE.md"):  # fmt: skip
        assert f"scigen_rl/data/{name}" in names

    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    python = env / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    # The third-party packages come from this environment's site-packages as a plain path entry: its
    # .pth files (the editable install of the checkout among them) are not read from there.
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SCIGENBENCH_DIR")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=work, env=clean, capture_output=True, text=True, timeout=300)

    probe = run(
        str(python),
        "-c",
        "import json, scigen_rl; from scigen_rl.loaders import load_scigenbench; "
        "from data_builders.eval_sets.mathvision import mathvision_rows; "
        "print(json.dumps([scigen_rl.__file__, len(load_scigenbench()), len(mathvision_rows())]))",
    )
    assert probe.returncode == 0, probe.stderr
    where, problems, mathvision = json.loads(probe.stdout)
    assert Path(where).is_relative_to(env) and not Path(where).is_relative_to(REPO)
    assert (problems, mathvision) == (1387, 304)

    cli = env / "bin" / "scigen-rl"
    assert run(str(cli), "build", "--help").returncode == 0
    written = run(str(cli), "eval-sets", "--out-dir", "eval", "--sets", "mathvision_mini")
    assert written.returncode == 0, written.stderr
    report = json.loads(written.stdout)
    assert report["mathvision_mini"]["rows"] == 304 and (work / "eval" / "mathvision_mini.parquet").is_file()
