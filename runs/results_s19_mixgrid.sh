#!/usr/bin/env bash
# Sitting 19: the two-grid student against the twin's design, from scratch at equal minutes (kd/recipes/
# twin_s19_{mixgrid,control}.toml; the rule is in those recipes, written before the runs): both arms' best checkpoints
# in fp32 and as all-integer int8 (post-training, the twin's quantize recipe with these models), beside the twin of
# record, on the published x2 protocol; and their curves. ~5 min, 2 cores. Their speed: runs/design_speed_s19.py, with
# nothing else running.
# bash runs/results_s19_mixgrid.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval
for arm in mixgrid control; do
    sharpcam-kd export runs/twin_s19_$arm/best.pt --name s19-twin-$arm --planes Y --out runs/onnx
    sharpcam-kd quantize --config kd/recipes/quantize_x2grid_int.toml runs/onnx/s19-twin-$arm.json --name s19-twin-$arm-int8
done
sharpcam-kd evaluate runs/onnx/s19-twin-mixgrid.json runs/onnx/s19-twin-control.json runs/onnx/s19-twin-mixgrid-int8.json \
    runs/onnx/s19-twin-control-int8.json runs/onnx/s19-twin-b256-b.json runs/onnx/s19-twin-b256-b-int8.json \
    --no-test --no-fps --out runs/eval/x2-s19-mixgrid
sharpcam-kd curves runs/twin_s19_mixgrid runs/twin_s19_control \
    --title "from scratch, 55 minutes on one core each: two grids (3,293 MACs/px) against the twin's x2 grid (3,168)" \
    --out runs/eval/curves-s19-mixgrid.png
