#!/usr/bin/env bash
# Sitting 16: a card with a lens-blur model (runs/results_s16.sh; CARD, default runs/onnx/s16-pair-defocus-lens.json) end
# to end (`sharpcam bench`, the whole pipeline, --steady at its default), interleaved in three rounds with the same card
# without it (runs/onnx/s14-pair-gated2.json, the shipped halves and cuts), the order rotating per round, on
# talking_720p.mp4 as it is, as a small JPEG stream up-scaled (runs/blocky_720p.py), down-up x3 (runs/blurred_720p.py:
# strongly blurred but up-scaled, so the lens model must leave it to the default) and out of focus
# (runs/defocused_720p.py: every frame the lens model's), at 30 fps. Run with nothing else on the machine.
# bash runs/bench_s16.sh [CARD [OUT_DIR]]   (default OUT_DIR runs/bench/s16)
set -euo pipefail
cd "$(dirname "$0")/.."
card=${1:-runs/onnx/s16-pair-defocus-lens.json}
out=${2:-runs/bench/s16}
rm -rf "$out" && mkdir -p "$out"
tmp=$(mktemp -d)
python runs/blocky_720p.py "$tmp/blocky_720p.mkv"
python runs/blurred_720p.py "$tmp/blurred_720p.mkv"
python runs/defocused_720p.py "$tmp/defocused_720p.mkv"
specs=("lens|$card" "nolens|runs/onnx/s14-pair-gated2.json")
for r in 1 2 3; do
    for i in 0 1; do
        spec=${specs[$(( (i + r - 1) % 2 ))]}
        IFS='|' read -r n m <<< "$spec"
        sharpcam bench --model "$m" --clip ../shared/video/talking_720p.mp4 --fps 30 --duration 15 --json > "$out/${n}_720p30_r$r.json"
        sharpcam bench --model "$m" --clip "$tmp/blocky_720p.mkv" --fps 30 --duration 15 --json > "$out/${n}_720p30-blocky_r$r.json"
        sharpcam bench --model "$m" --clip "$tmp/blurred_720p.mkv" --fps 30 --duration 15 --json > "$out/${n}_720p30-blurred_r$r.json"
        sharpcam bench --model "$m" --clip "$tmp/defocused_720p.mkv" --fps 30 --duration 15 --json > "$out/${n}_720p30-defocused_r$r.json"
    done
done
rm -rf "$tmp"
{ lscpu | grep "Model name"; python runs/bench_gate_table.py "$out"; } | tee "$out/table.md"
