#!/usr/bin/env bash
# Draw (again) the arms of a levers sweep from their W&B run files, online or offline: arms.png, arms.md
# and arms.json in OUT_DIR (default runs/levers).
# Usage: plot_levers.sh NAME [WANDB_DIR] [OUT_DIR]   (NAME: the sweep's --name, its W&B group)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../qwen3vl8b_grpo/_python.sh"
name="${1:?usage: plot_levers.sh NAME [WANDB_DIR] [OUT_DIR]}"
exec "$python" -m scigen_rl.cli sweep --collect-only --name "$name" --wandb-dir "${2:-wandb}" \
    --out-dir "${3:-runs/levers}" --arms baseline filt bestofn difficulty textonly
