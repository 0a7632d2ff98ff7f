#!/usr/bin/env bash
# Sitting 17: the card with the mix75 blur model (runs/onnx/s17-pair-mix75.json, runs/results_s17b.sh) end to end (`sharpcam bench`,
# the whole pipeline, --steady at its default), interleaved in five rounds with the shipped card
# (export/sharpcam-cs4-switch.json, the same halves and cuts), the order rotating per round, on talking_720p.mp4 as it
# is, as a small JPEG stream up-scaled (runs/blocky_720p.py) and strongly blurred (runs/blurred_720p.py), at 30 fps.
# Run with nothing else on the machine.
# export/sharpcam-cs4-switch.json is the card shipped when this ran (the same halves and cuts as runs/onnx/s14-pair-gated2.json).
# bash runs/bench_s17.sh [OUT_DIR [CARD]]   (default runs/bench/s17 and the mix75 card, as first run; ~13 min)
# results_s17c.sh's card: bash runs/bench_s17.sh runs/bench/s17c runs/onnx/s17-pair-x3b-up.json
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/bench/s17}
rm -rf "$out" && mkdir -p "$out"
tmp=$(mktemp -d)
python runs/blocky_720p.py "$tmp/blocky_720p.mkv"
python runs/blurred_720p.py "$tmp/blurred_720p.mkv"
card=${2:-runs/onnx/s17-pair-mix75.json}
label=$(basename "$card" .json); label=${label#s17-pair-}
specs=("$label|$card" "shipped|export/sharpcam-cs4-switch.json")
for r in 1 2 3 4 5; do
    for i in 0 1; do
        spec=${specs[$(( (i + r - 1) % 2 ))]}
        IFS='|' read -r n m <<< "$spec"
        sharpcam bench --model "$m" --clip ../shared/video/talking_720p.mp4 --fps 30 --duration 15 --json > "$out/${n}_720p30_r$r.json"
        sharpcam bench --model "$m" --clip "$tmp/blocky_720p.mkv" --fps 30 --duration 15 --json > "$out/${n}_720p30-blocky_r$r.json"
        sharpcam bench --model "$m" --clip "$tmp/blurred_720p.mkv" --fps 30 --duration 15 --json > "$out/${n}_720p30-blurred_r$r.json"
    done
done
rm -rf "$tmp"
{ lscpu | grep "Model name"; python runs/bench_gate_table.py "$out" --mean; } | tee "$out/table.md"
