#!/usr/bin/env bash
# Sitting 18: the card with a strength ramp (runs/onnx/s18-pair-ramp.json, runs/results_s18b.sh) end to end (`sharpcam
# bench`, the whole pipeline, --steady at its default), interleaved in five rounds with the shipped card
# (export/sharpcam-cs4-switch.json, the same models and cuts), the order rotating per round, on talking_720p.mp4 as it
# is, as a small JPEG stream up-scaled (runs/blocky_720p.py) and up-scaled x1.5 (runs/mild_720p.py, where the ramp
# acts), at 30 fps. Run with nothing else on the machine.
# bash runs/bench_s18.sh [OUT_DIR [CARD]]   (default runs/bench/s18 and the ramp card; ~13 min)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/bench/s18}
rm -rf "$out" && mkdir -p "$out"
tmp=$(mktemp -d)
python runs/blocky_720p.py "$tmp/blocky_720p.mkv"
python runs/mild_720p.py "$tmp/mild_720p.mkv"
card=${2:-runs/onnx/s18-pair-ramp.json}
label=$(basename "$card" .json); label=${label#s18-pair-}
specs=("$label|$card" "shipped|export/sharpcam-cs4-switch.json")
for r in 1 2 3 4 5; do
    for i in 0 1; do
        spec=${specs[$(( (i + r - 1) % 2 ))]}
        IFS='|' read -r n m <<< "$spec"
        sharpcam bench --model "$m" --clip ../shared/video/talking_720p.mp4 --fps 30 --duration 15 --json > "$out/${n}_720p30_r$r.json"
        sharpcam bench --model "$m" --clip "$tmp/blocky_720p.mkv" --fps 30 --duration 15 --json > "$out/${n}_720p30-blocky_r$r.json"
        sharpcam bench --model "$m" --clip "$tmp/mild_720p.mkv" --fps 30 --duration 15 --json > "$out/${n}_720p30-mild_r$r.json"
    done
done
rm -rf "$tmp"
{ lscpu | grep "Model name"; python runs/bench_gate_table.py "$out" --mean; } | tee "$out/table.md"
