#!/usr/bin/env bash
# Train the shipped restoration model (src/stylefuse/weights/restore) on the training split of
# ../shared/data/train/photos, on the CPU; resumable: run it again to continue from the last checkpoint.
#
#   scripts/train_restore.sh [RUN_DIR] [STEPS] [MINUTES]       # CPU recipe (one thread, nice)
#   DEVICE=cuda BATCH=64 SIZE=96 CHANNELS=64 scripts/train_restore.sh runs/restore-gpu 60000   # GPU scale-up
#   CHANGE=1 SIZE=64 PHOTO_SIDE=576 WEIGHTS=3,0.6,0.6,2,0.6 LR=8e-4 scripts/train_restore.sh RUN 9000 60
#       # a second stage from RUN's checkpoint with other options (--change-recipe; a copy of RUN keeps the first)
#
# The model folder is RUN_DIR (config.json + fp16 model.safetensors); copy those two files into
# src/stylefuse/weights/restore to ship it. Progress: RUN_DIR/metrics.jsonl, RUN_DIR/train.log.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-runs/restore}
STEPS=${2:-3500}
MINUTES=${3:-}
PYTHON=${PYTHON:-.venv/bin/python}
export PYTHONPATH=src OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$RUN"
# the training split as a folder of links (never the validation photos)
DATA="$RUN/train-photos"
"$PYTHON" scripts/split_folder.py photos "$DATA"
RESUME=()
[ -f "$RUN/checkpoint.pt" ] && RESUME=(--resume)
[ -n "${CHANGE:-}" ] && RESUME+=(--change-recipe)
WEIGHTS_SET=()
[ -n "${WEIGHTS:-}" ] && WEIGHTS_SET=(--set "task_weights=[$WEIGHTS]")   # denoise,sr2,sr4,inpaint,enhance
nice -n 5 "$PYTHON" -m stylefuse train conditional --data "$DATA" --out "$RUN" \
  --tasks denoise,sr2,sr4,inpaint,enhance --size "${SIZE:-48}" --batch-size "${BATCH:-8}" --steps "$STEPS" \
  --set channels="${CHANNELS:-48}" --set wide_channels=64 --set blocks="[3,4,2]" \
  --set photo_side="${PHOTO_SIDE:-384}" "${WEIGHTS_SET[@]}" \
  --lr "${LR:-5e-4}" --device "${DEVICE:-cpu}" --checkpoint-every 100 --sample-every 500 --validate-every 250 --patience 0 \
  ${MINUTES:+--max-minutes "$MINUTES"} "${RESUME[@]}" -q >>"$RUN/train.log" 2>&1
