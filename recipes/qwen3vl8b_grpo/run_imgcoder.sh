#!/usr/bin/env bash
# GRPO on the unfiltered ImgCoder set of a build (default runs/imgcoder).
# Usage: run_imgcoder.sh [BUILD_DIR] [scigen-rl train flags...] [KEY=VALUE verl overrides...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/_python.sh"
build="${1:-runs/imgcoder}"; shift || true
exec "$python" -m scigen_rl.cli train --recipe "$here/qwen3vl8b_grpo.yaml" \
    --train-files "$build/export/train.parquet" --experiment-name "qwen3vl8b-grpo-imgcoder-$(basename "$build")" "$@"
