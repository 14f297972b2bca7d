#!/usr/bin/env bash
# GRPO on the verified ("Filt") ImgCoder set of a build: only figures whose inverse-quiz validation was
# perfect (written by `scigen-rl build --verify` to export/filtered/). The paper found these train better.
# Usage: run_imgcoder_filtered.sh [BUILD_DIR] [scigen-rl train flags...] [KEY=VALUE verl overrides...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/_python.sh"
build="${1:-runs/imgcoder}"; shift || true
exec "$python" -m scigen_rl.cli train --recipe "$here/qwen3vl8b_grpo.yaml" \
    --train-files "$build/export/filtered/train.parquet" \
    --experiment-name "qwen3vl8b-grpo-imgcoder-filtered-$(basename "$build")" "$@"
