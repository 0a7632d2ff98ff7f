#!/usr/bin/env bash
# Every figure of sitting 6 in README "Models and results", regenerated from the committed checkpoints
# (run from the checkout with ../shared beside it, nothing else running; ~40 min on 2 cores, most of it
# the x8 self-ensemble teacher). What sitting 6 added: two calls on a lent H100 (runs/gpu_s6/run.sh,
# kd/recipes/gpu_s6_*.toml): the x2 teacher continued with scale augmentation (hr_scales), the x4-grid
# twin with and without it, sitting 2's x2-grid twin on GPU batches, the default's student on a scaled
# webcam pool; on the CPU, KD against ground truth on x2 with the new teacher. The x2-grid speed:
# python runs/design_speed_x2grid.py (runs/design_speed_x2grid.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval

# fp32 Y exports of the students (the cosine's end, last.pt), the teacher single-pass and as an x8 self-ensemble
for r in twin_x4grid_scales twin_x4grid_plain twin_x2grid_scales default_x4grid_scales; do
    sharpcam-kd export runs/gpu_s6_$r/last.pt --name s6-$r --planes Y --out runs/onnx
done
sharpcam-kd export runs/student_cs_x2_grid/last.pt --name s2-twin_x2grid --planes Y --out runs/onnx
sharpcam-kd export runs/student_x4grid_x2_kd_s6/last.pt --name s6-x2-kd --planes Y --out runs/onnx
sharpcam-kd export runs/student_x4grid_x2_gt_s6/last.pt --name s6-x2-gt --planes Y --out runs/onnx
sharpcam-kd export runs/gpu_s6_teacher_x2b/best.pt --name s6-teacher-x2 --out runs/onnx
sharpcam-kd export runs/gpu_s6_teacher_x2b/best.pt --name s6-teacher-x2-ens8 --self-ensemble --out runs/onnx
# The x2-grid twin as all-integer int8 (post-training; runs/ov_parity_s6.py times and compares it under OpenVINO)
sharpcam-kd quantize --config kd/recipes/quantize_x2grid_int.toml
# The shipped default's int8 with full 8-bit weights (its recipe otherwise): the 7-bit choice, measured again
sharpcam-kd quantize --config kd/recipes/quantize_cs4_int_8bit.toml

# Published protocol (Set5 / Set14 / B100, x2): the students and the single-pass teachers
sharpcam-kd evaluate runs/onnx/s6-twin_x4grid_scales.json runs/onnx/s6-twin_x4grid_plain.json runs/onnx/s5-twin_x4grid.json \
    runs/onnx/s6-x2-kd.json runs/onnx/s6-x2-gt.json runs/onnx/s6-twin_x2grid_scales.json runs/onnx/s2-twin_x2grid.json \
    runs/onnx/s6-default_x4grid_scales.json runs/onnx/s5-default_x4grid.json export/sharpcam-cs4.json \
    runs/onnx/cs4-qat-int.json export/sharpcam-cs4-int8.json runs/onnx/cs4-int8-8bit.json runs/onnx/s6-teacher-x2.json runs/onnx/s5-teacher-x2.json --no-fps --out runs/eval/x2-s6
# The teacher as an x8 self-ensemble (8 passes per picture: its own table)
sharpcam-kd evaluate runs/onnx/s6-teacher-x2-ens8.json --no-fps --out runs/eval/x2-s6-ens8
# The scaled webcam pool against its start on the webcam benchmark (Set5 + Set14)
sharpcam-kd evaluate --webcam runs/onnx/s6-default_x4grid_scales.json runs/onnx/s5-default_x4grid.json \
    --set ../shared/datasets/eval/Set5 --set ../shared/datasets/eval/Set14 --no-clips --out runs/eval/webcam-s6-scales
# The runs' curves
sharpcam-kd curves runs/gpu_s6_teacher_x2 runs/gpu_s6_teacher_x2b runs/gpu_s6_twin_x4grid_scales runs/gpu_s6_twin_x4grid_plain \
    runs/gpu_s6_twin_x2grid_scales runs/gpu_s6_default_x4grid_scales --out runs/eval/curves-s6-gpu.png
sharpcam-kd curves runs/student_x4grid_x2_kd_s6 runs/student_x4grid_x2_gt_s6 --out runs/eval/curves-s6-kd.png
