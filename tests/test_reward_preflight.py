"""The reward pre-flight on a real two-node Ray cluster: a task pinned to each node scores a real
answer through the reward server and reads the run's files, and a node that cannot is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from launch.reward_preflight import check_every_node, report, score_probe

from .test_reward_server import _free_port, _start, _stop


def test_every_node_scores_through_the_reward_server_or_is_named(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    url, proc = _start("--mode", "rule_only", env={"SCIGEN_REWARD_TOKEN": "run-token"})
    cluster = Cluster(initialize_head=True, connect=True, head_node_args={"num_cpus": 2})
    try:
        cluster.add_node(num_cpus=2)
        cluster.wait_for_nodes()
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        assert score_probe(url, "run-token") is None

        results = check_every_node(url, "run-token")
        assert len(results) == 2 and all(reason is None for reason in results.values())
        ok, text = report(results, url)
        assert ok and text == f"reward pre-flight: all 2 node(s) scored through {url} and see the run's files"

        # The run's files: read (a parquet file's head) and written (the checkpoint folder) on each node.
        parquet = tmp_path / "train.parquet"
        parquet.write_bytes(b"PAR1" + b"\0" * 8 + b"PAR1")
        (tmp_path / "notes.txt").write_text("not a table")
        ckpt = tmp_path / "ckpt" / "e1"
        assert set(check_every_node(url, "run-token", [str(parquet)], str(ckpt)).values()) == {None}
        assert ckpt.is_dir() and not any(ckpt.iterdir())  # the probe file is gone again
        bad = check_every_node(url, "run-token", [str(tmp_path / "gone.parquet"), str(tmp_path / "notes.txt")],
                               str(tmp_path / "notes.txt" / "ckpt"))  # fmt: skip
        for reason in bad.values():
            assert reason is not None
            assert f"cannot read {tmp_path / 'gone.parquet'}: No such file or directory" in reason
            assert f"{tmp_path / 'notes.txt'} is not a parquet file" in reason
            assert f"cannot write in {tmp_path / 'notes.txt' / 'ckpt'}: " in reason

        refused = check_every_node(url, "another-run")
        assert all(reason and reason.startswith("HTTP 401") for reason in refused.values())
        dead = f"http://127.0.0.1:{_free_port()}"
        ok, text = report(check_every_node(dead, "run-token"), dead)
        assert not ok and text.startswith(f"reward pre-flight: 2 of 2 node(s) cannot score through {dead} or")
        assert "Connection refused" in text
    finally:
        ray.shutdown()
        cluster.shutdown()
        _stop(proc)
