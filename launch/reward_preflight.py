"""Before any GPU time: every node of the cluster scores a real answer through the reward server and
sees the run's files.

``python -m launch.reward_preflight URL [--read FILE ...] [--write DIR]`` runs as a short Ray job of
its own (``scigen-rl train`` submits it before the training job): one task pinned to each alive node
sends ``POST /score`` with the run's bearer token and checks the verdict, reads the head of each train
and val file, and writes a file into the checkpoint folder. A node that cannot reach the server, a
refused token, a wrong verdict, a file it cannot read or a folder it cannot write is named, and
training does not start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request

from reward.config import TOKEN_ENV

PROBE = {
    "question": "What is 1 + 1?",
    "ground_truth": "2",
    "response": "1 + 1 = \\boxed{2}",
    "data_source": "preflight",
}
"""An answer the rule decides (correct) without a verifier call."""


def score_probe(url: str, token: str | None = None, timeout_s: float = 30.0) -> str | None:
    """None when the server at ``url`` scored the probe correctly, else what went wrong."""
    request = urllib.request.Request(
        url.rstrip("/") + "/score",
        data=json.dumps({"items": [PROBE]}).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - the run's own server
            result = json.loads(response.read())["results"][0]
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code}: {e.read()[:200].decode(errors='replace')}"
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        return f"{type(e).__name__}: {e}"[:300]
    if result.get("verdict") != "correct":
        return f"the probe was judged {result.get('verdict')!r}, not correct ({result.get('error') or 'no error'})"
    return None


def files_problem(read: list[str], write: str | None) -> str | None:
    """None when each file in ``read`` is a readable parquet file and ``write`` (a folder, created if
    missing) takes a file; else what is wrong."""
    problems = []
    for path in read:
        try:
            with open(path, "rb") as f:
                if f.read(4) != b"PAR1":
                    problems.append(f"{path} is not a parquet file")
        except OSError as e:
            problems.append(f"cannot read {path}: {e.strerror or e}")
    if write:
        try:
            os.makedirs(write, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=write, prefix=".preflight-"):
                pass
        except OSError as e:
            problems.append(f"cannot write in {write}: {e.strerror or e}")
    return "; ".join(problems) or None


def check_every_node(
    url: str, token: str | None = None, read: list[str] | None = None, write: str | None = None
) -> dict[str, str | None]:
    """``{node address: None or the reason}`` for one probe from each alive node of the connected cluster."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=0)
    def probe() -> tuple[str, str | None]:
        reasons = [r for r in (score_probe(url, token), files_problem(read or [], write)) if r]
        return ray.util.get_node_ip_address(), "; ".join(reasons) or None

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    futures = [
        probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote()
        for n in nodes
    ]
    results: dict[str, str | None] = {}
    for node, future in zip(nodes, futures, strict=True):
        try:
            _, reason = ray.get(future, timeout=120)
        except Exception as e:  # noqa: BLE001 - a node whose task fails is a node that cannot score
            reason = f"the probe task failed: {type(e).__name__}: {str(e)[:200]}"
        results[f"{node['NodeManagerAddress']} ({node['NodeID'][:8]})"] = reason
    return results


def report(results: dict[str, str | None], url: str) -> tuple[bool, str]:
    """Whether every node scored, and the lines that say so."""
    failed = {node: reason for node, reason in results.items() if reason}
    if not failed:
        return (
            True,
            f"reward pre-flight: all {len(results)} node(s) scored through {url} and see the run's files",
        )
    lines = [f"reward pre-flight: {len(failed)} of {len(results)} node(s) cannot score through {url} "
             "or cannot see the run's files:"]  # fmt: skip
    lines += [f"  {node}: {reason}" for node, reason in failed.items()]
    return False, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import ray

    parser = argparse.ArgumentParser(prog="python -m launch.reward_preflight")
    parser.add_argument("url", help="the reward server")
    parser.add_argument("--read", nargs="*", default=[], help="files every node must read (train, val)")
    parser.add_argument("--write", help="a folder every node must write in (the checkpoints)")
    args = parser.parse_args(argv)
    ray.init(address=os.environ.get("RAY_ADDRESS", "auto"), log_to_driver=False)
    ok, text = report(check_every_node(args.url, os.environ.get(TOKEN_ENV), args.read, args.write), args.url)
    print(text, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
