#!/usr/bin/env bash
# Sitting 6: what an x2-grid default would give and cost now that OpenVINO runs the x2 grid at ~1.3x,
# not 3x, the default's model time (runs/design_speed_x2grid.txt). The candidate: sitting 2's x2-grid
# webcam student (export/sharpcam-cs.json) as all-integer int8, post-training
# (kd/recipes/quantize_cs_int.toml -> runs/onnx/cs-int8-int.json). The webcam benchmark beside the
# shipped default, then the whole pipeline (`sharpcam bench`) in three interleaved rounds: 720p
# throughput and the 720p clip delivered at 30 fps, under onnxruntime and `--provider openvino`.
# Run with nothing else on the machine, with the OpenVINO runtime installed (pip install '.[openvino]').
# bash runs/x2grid_ov_s6.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sharpcam-kd quantize --config kd/recipes/quantize_cs_int.toml
sharpcam-kd evaluate --webcam runs/onnx/cs-int8-int.json export/sharpcam-cs4-int8.json --out runs/eval/webcam-s6-x2grid
out=runs/bench/s6
rm -rf "$out" && mkdir -p "$out"
for r in 1 2 3; do
    for spec in sharpcam-cs4-int8:export/sharpcam-cs4-int8.json:cpu sharpcam-cs4-int8-openvino:export/sharpcam-cs4-int8.json:openvino \
                cs-int8-int-openvino:runs/onnx/cs-int8-int.json:openvino cs-int8-int:runs/onnx/cs-int8-int.json:cpu \
                sharpcam-rt-int8:export/sharpcam-rt-int8.json:cpu; do
        IFS=: read -r n m p <<< "$spec"
        sharpcam bench --model "$m" --provider "$p" --size 1280x720 --duration 5 --warmup 1.5 --json > "$out/${n}_720p_r$r.json"
        sharpcam bench --model "$m" --provider "$p" --clip ../shared/video/talking_720p.mp4 --fps 30 --duration 15 --json \
            > "$out/${n}_720p30_r$r.json"
    done
done
python runs/bench_table.py "$out" | tee "$out/table.md"
