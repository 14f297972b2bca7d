#!/usr/bin/env bash
# GRPO on any verl parquet (same layout as `scigen-rl build` writes: prompt with <image>, images,
# reward_model.ground_truth, extra_info.question).
# Usage: run_parquet.sh TRAIN.parquet [scigen-rl train flags...] [KEY=VALUE verl overrides...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/_python.sh"
train="${1:?usage: run_parquet.sh TRAIN.parquet [flags...]}"; shift
exec "$python" -m scigen_rl.cli train --recipe "$here/qwen3vl8b_grpo.yaml" --train-files "$train" "$@"
