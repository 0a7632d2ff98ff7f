#!/usr/bin/env bash
# Sitting 19: the x2-grid twin of record continued on a lent H100 with 256 x 128 px batches (kd/recipes/
# gpu_s19_twin_b256_{a,b}.toml, lr 5e-4 / 1e-3; the rule is in those recipes, written before the run): both arms' best
# checkpoints in fp32 and as all-integer int8 (post-training, the twin's recipe kd/recipes/quantize_x2grid_int.toml),
# beside the record, on the published x2 protocol. ~10 min on 2 cores.
# bash runs/results_s19_twin.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval
for arm in a b; do
    sharpcam-kd export runs/gpu_s19_twin_b256_$arm/best.pt --name s19-twin-b256-$arm --planes Y --out runs/onnx
    sharpcam-kd quantize --config kd/recipes/quantize_x2grid_int.toml runs/onnx/s19-twin-b256-$arm.json --name s19-twin-b256-$arm-int8
done
sharpcam-kd evaluate runs/onnx/s19-twin-b256-a.json runs/onnx/s19-twin-b256-b.json runs/onnx/s19-twin-b256-a-int8.json \
    runs/onnx/s19-twin-b256-b-int8.json runs/onnx/s6-twin_x2grid_scales.json runs/onnx/s6-twin_x2grid-int8.json \
    --no-test --no-fps --out runs/eval/x2-s19-twin
sharpcam-kd curves runs/gpu_s6_twin_x2grid_scales runs/gpu_s19_twin_b256_a runs/gpu_s19_twin_b256_b \
    --title "the x2-grid twin: sitting 6's GPU run (64 x 128 px), then sitting 19's (256 x 128 px, lr 5e-4 / 1e-3)" \
    --out runs/eval/curves-s19-twin.png
