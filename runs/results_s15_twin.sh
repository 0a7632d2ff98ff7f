#!/usr/bin/env bash
# Sitting 15: KD from the x2 teacher of record (runs/gpu_s14_teacher_x2c, at DnCNN-3's level) against ground truth, at
# the same budget, on the x2-grid twin (kd/recipes/twin_x2grid_{kd,gt}_s15.toml; the rule is in those recipes, written
# before the runs): both arms' best checkpoints in fp32 and as all-integer int8 (post-training, the twin's sitting-6
# recipe kd/recipes/quantize_x2grid_int.toml), beside their start (the twin of record) and the teacher, on the
# published x2 protocol. ~10 min on 2 cores.
# bash runs/results_s15_twin.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval
for arm in kd gt; do
    sharpcam-kd export runs/twin_x2grid_${arm}_s15/best.pt --name s15-twin-x2grid-$arm --planes Y --out runs/onnx
    sharpcam-kd quantize --config kd/recipes/quantize_x2grid_int.toml runs/onnx/s15-twin-x2grid-$arm.json --name s15-twin-x2grid-$arm-int8
done
sharpcam-kd evaluate runs/onnx/s15-twin-x2grid-kd.json runs/onnx/s15-twin-x2grid-gt.json runs/onnx/s15-twin-x2grid-kd-int8.json \
    runs/onnx/s15-twin-x2grid-gt-int8.json runs/onnx/s6-twin_x2grid_scales.json runs/onnx/s6-twin_x2grid-int8.json \
    runs/onnx/s14-teacher-x2c.json --no-test --no-fps --out runs/eval/x2-s15-twin
sharpcam-kd curves runs/twin_x2grid_kd_s15 runs/twin_x2grid_gt_s15 \
    --title "the x2-grid twin, 40,000 CPU steps from the twin of record: KD from the x2c teacher against ground truth" \
    --out runs/eval/curves-s15-twin.png
