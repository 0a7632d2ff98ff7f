#!/usr/bin/env bash
# Sitting 14, second part: the shipped card with the two-cut gate (export/sharpcam-cs4-switch.json, runs/results_s14b.sh)
# end to end (`sharpcam bench`, the whole pipeline, --steady at its default), interleaved in three rounds with the one-cut
# gate (runs/onnx/s14-pair-gated.json) and the pair without a gate (s12-pair-sharp); the clips as in runs/bench_s14.sh
# (talking_720p.mp4 as it is, and as a small JPEG stream up-scaled, at 30 fps). Run with nothing else on the machine.
# bash runs/bench_s14b.sh [OUT_DIR]   (default runs/bench/s14b)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/bench/s14b}
rm -rf "$out" && mkdir -p "$out"
blocky=$(mktemp -d)/blocky_720p.mkv
python runs/blocky_720p.py "$blocky"
specs=("gated2|export/sharpcam-cs4-switch.json" "gated1|runs/onnx/s14-pair-gated.json" "ungated|runs/onnx/s12-pair-sharp.json")
for r in 1 2 3; do
    # the order rotates from round to round (a first try in one fixed order put the first card 0.07-0.1 cores above
    # the second on the blocky stream, where the two run the same code)
    for i in 0 1 2; do
        spec=${specs[$(( (i + r - 1) % 3 ))]}
        IFS='|' read -r n m <<< "$spec"
        sharpcam bench --model "$m" --clip ../shared/video/talking_720p.mp4 --fps 30 --duration 15 --json > "$out/${n}_720p30_r$r.json"
        sharpcam bench --model "$m" --clip "$blocky" --fps 30 --duration 15 --json > "$out/${n}_720p30-blocky_r$r.json"
    done
done
rm -rf "$(dirname "$blocky")"
{ lscpu | grep "Model name"; python runs/bench_gate_table.py "$out"; } | tee "$out/table.md"
