#!/usr/bin/env bash
# Sitting 14: the shipped pair with the sharp-picture gate (runs/onnx/s14-pair-gated.json, made by runs/results_s14.sh)
# end to end (`sharpcam bench`, the whole pipeline, --steady at its default), interleaved in three rounds with the same
# pair without the gate (s12-pair-sharp: the shipped sharpcam-cs4-switch before this sitting) and sharpcam-rt-int8 (the
# CPU bound of the model issue), the clips delivered at 30 fps like a camera: talking_720p.mp4 as it is, and the same
# frames as a small JPEG stream up-scaled (runs/blocky_720p.py). Run with nothing else on the machine.
# bash runs/bench_s14.sh [OUT_DIR]   (default runs/bench/s14)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/bench/s14}
rm -rf "$out" && mkdir -p "$out"
blocky=$(mktemp -d)/blocky_720p.mkv
python runs/blocky_720p.py "$blocky"
for r in 1 2 3; do
    for spec in "gated|runs/onnx/s14-pair-gated.json" "ungated|runs/onnx/s12-pair-sharp.json" "sharpcam-rt-int8|export/sharpcam-rt-int8.json"; do
        IFS='|' read -r n m <<< "$spec"
        sharpcam bench --model "$m" --clip ../shared/video/talking_720p.mp4 --fps 30 --duration 15 --json > "$out/${n}_720p30_r$r.json"
        sharpcam bench --model "$m" --clip "$blocky" --fps 30 --duration 15 --json > "$out/${n}_720p30-blocky_r$r.json"
    done
done
rm -rf "$(dirname "$blocky")"
{ lscpu | grep "Model name"; python runs/bench_gate_table.py "$out"; } | tee "$out/table.md"
