#!/usr/bin/env bash
# The five data arms side by side: one GRPO run each with the qwen3vl8b_grpo recipe unchanged, grouped in
# W&B, then arms.png (training reward, zero-variance groups, validation AVG@4 per arm) in the out dir.
# Usage: run_levers.sh BASELINE FILT BESTOFN DIFFICULTY TEXTONLY [scigen-rl sweep flags...] [KEY=VALUE...]
#   each a training parquet (see README.md for the commands that make them), e.g.
#   run_levers.sh runs/b/export/train.parquet runs/b/export/filtered/train.parquet \
#       runs/b8/export/train.parquet runs/b-learnable/export/train.parquet \
#       runs/b/export-no-image/train.parquet --name levers-1 --verifier-urls http://gpu-node:8001/v1
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../qwen3vl8b_grpo/_python.sh"
usage="usage: run_levers.sh BASELINE FILT BESTOFN DIFFICULTY TEXTONLY [flags...]"
baseline="${1:?$usage}" filt="${2:?$usage}" bestofn="${3:?$usage}" difficulty="${4:?$usage}" textonly="${5:?$usage}"
shift 5
exec "$python" -m scigen_rl.cli sweep --recipe "$here/../qwen3vl8b_grpo/qwen3vl8b_grpo.yaml" \
    --out-dir "${LEVERS_OUT:-runs/levers}" \
    --arms "baseline:$baseline" "filt:$filt" "bestofn:$bestofn" "difficulty:$difficulty" "textonly:$textonly" "$@"
