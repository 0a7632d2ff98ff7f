#!/usr/bin/env bash
# Sitting 11: what the runtime's steadying (--steady, default 0.8) costs end to end (`sharpcam bench`, the whole
# pipeline), the default pair with it and without it, interleaved with sharpcam-rt-int8 (the CPU bound of the
# model issue; an RGB model, which the steadying does not touch) in five rounds, the clips delivered at 30 fps
# like a camera: talking_720p.mp4 as it is, and the same frames as a small JPEG stream up-scaled (runs/bench_s9.sh).
# Run with nothing else on the machine.  bash runs/bench_s11.sh [OUT_DIR]   (default runs/bench/s11)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/bench/s11}
rm -rf "$out" && mkdir -p "$out"
# the pair shipped in sittings 10-11 (export/sharpcam-cs4-switch.json then), rebuilt: sitting 12 shipped a new plain half
cp export/sharpcam-cs4-fold-int8.onnx export/sharpcam-cs4-fold-int8.json export/sharpcam-cs4-lowres-jpeg-int8.onnx export/sharpcam-cs4-lowres-jpeg-int8.json runs/onnx/
sharpcam-kd pair --default runs/onnx/sharpcam-cs4-fold-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg-int8.json --name s11-shipped-pair --gate-step 0
blocky=$(mktemp -d)/blocky_720p.mkv
python runs/blocky_720p.py "$blocky"
for r in 1 2 3 4 5; do
    for spec in "sharpcam-cs4-switch steady-0.8|runs/onnx/s11-shipped-pair.json|--steady 0.8" \
                "sharpcam-cs4-switch steady-0|runs/onnx/s11-shipped-pair.json|--steady 0" \
                "sharpcam-rt-int8|export/sharpcam-rt-int8.json|"; do
        IFS='|' read -r n m extra <<< "$spec"
        # shellcheck disable=SC2086
        sharpcam bench --model "$m" $extra --clip ../shared/video/talking_720p.mp4 --fps 30 --duration 15 --json > "$out/${n}_720p30_r$r.json"
        # shellcheck disable=SC2086
        sharpcam bench --model "$m" $extra --clip "$blocky" --fps 30 --duration 15 --json > "$out/${n}_720p30-blocky_r$r.json"
    done
done
rm -rf "$(dirname "$blocky")"
python runs/bench_table.py "$out" | tee "$out/table.md"
