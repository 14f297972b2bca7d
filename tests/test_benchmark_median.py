"""benchmarks/median.py: the median of each number over the runs, and the machine they ran on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import REPO


def test_the_median_of_each_number_over_three_runs(tmp_path: Path) -> None:
    counter = tmp_path / "n"
    counter.write_text("0")
    # Each run prints progress, then a JSON object whose numbers change from run to run.
    bench = (
        f"import json, pathlib; p = pathlib.Path({str(counter)!r}); n = int(p.read_text()) + 1; p.write_text(str(n)); "
        "print('warming up'); print(json.dumps({'seconds': [5.0, 1.0, 3.0][n - 1], 'rows': 10 * n, "
        "'name': 'b', 'ok': True}))"
    )
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "median.py"), "--", sys.executable, "-c", bench],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["runs"] == 3 and counter.read_text() == "3"
    assert result["each"] == {"seconds": [5.0, 1.0, 3.0], "rows": [10, 20, 30]}
    assert result["median"] == {"seconds": 3.0, "rows": 20}
    assert f"{__import__('os').cpu_count()} cores" in result["machine"]


def test_a_failed_run_fails_the_median(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "median.py"), "--", sys.executable, "-c",
                           "raise SystemExit(3)"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1 and "exited 3" in done.stderr
