#!/usr/bin/env bash
# Every quality figure of sitting 7 in README "Models and results", regenerated from the committed
# checkpoints (run from the checkout with ../shared beside it, nothing else running; ~30 min on 2 cores).
# Sitting 7 (no GPU lent): KD against ground truth at the same budget on the x2 grid, from sitting 2's
# x2-grid webcam student (sharpcam-cs), on sitting 5's webcam pool with the webcam teacher
# (kd/recipes/student_x2grid_pool_{kd,gt}_s7.toml), then the integer-ends QAT of both arms
# (..._s7_qat.toml) and their all-integer int8 (quantize_x2grid_{kd,gt}_s7.toml). Speed: runs/bench_s7.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval

# fp32 Y exports: each arm at its cosine's end (last.pt) and after its QAT (the float source of its int8)
for a in kd gt; do
    sharpcam-kd export runs/student_x2grid_pool_${a}_s7/last.pt --name s7-x2grid-$a --planes Y --out runs/onnx
    sharpcam-kd export runs/student_x2grid_pool_${a}_s7_qat/last.pt --name s7-x2grid-$a-qat --planes Y --out runs/onnx
    sharpcam-kd quantize --config kd/recipes/quantize_x2grid_${a}_s7.toml
done
# Their common start as all-integer int8 without QAT (sitting 6's x2-grid candidate)
sharpcam-kd quantize --config kd/recipes/quantize_cs_int.toml

# Published protocol (Set5 / Set14 / B100, x2)
sharpcam-kd evaluate runs/onnx/s7-x2grid-kd.json runs/onnx/s7-x2grid-gt.json runs/onnx/s7-x2grid-kd-qat.json \
    runs/onnx/s7-x2grid-gt-qat.json runs/onnx/s7-x2grid-kd-int8.json runs/onnx/s7-x2grid-gt-int8.json \
    export/sharpcam-cs.json runs/onnx/cs-int8-int.json export/sharpcam-cs4.json export/sharpcam-cs4-int8.json \
    --no-fps --out runs/eval/x2-s7
# The webcam benchmark (127 pictures and the two clips): both arms in fp32 and int8, their start, the default
sharpcam-kd evaluate --webcam runs/onnx/s7-x2grid-kd-int8.json runs/onnx/s7-x2grid-gt-int8.json \
    runs/onnx/s7-x2grid-kd.json runs/onnx/s7-x2grid-gt.json runs/onnx/cs-int8-int.json export/sharpcam-cs4-int8.json \
    --out runs/eval/webcam-s7
# The runs' curves
sharpcam-kd curves runs/student_x2grid_pool_kd_s7 runs/student_x2grid_pool_gt_s7 runs/student_x2grid_pool_kd_s7_qat \
    runs/student_x2grid_pool_gt_s7_qat --out runs/eval/curves-s7.png
# Where the int8 flicker comes from: sitting 2's x2-grid student in fp32, int8 with float head and tail
# (sharpcam-cs-int8, the body alone in int8) and all-integer int8 (cs-int8-int), one table
sharpcam-kd evaluate --webcam export/sharpcam-cs.json export/sharpcam-cs-int8.json runs/onnx/cs-int8-int.json \
    --out runs/eval/webcam-s7-ends
# The share of the QAT in the int8 flicker: both arms as int8 without QAT, beside their QAT'd int8
sharpcam-kd quantize --config kd/recipes/quantize_x2grid_kd_s7_ptq.toml
sharpcam-kd quantize --config kd/recipes/quantize_x2grid_gt_s7_ptq.toml
sharpcam-kd evaluate --webcam runs/onnx/s7-x2grid-kd-ptq-int8.json runs/onnx/s7-x2grid-gt-ptq-int8.json \
    runs/onnx/s7-x2grid-kd-int8.json runs/onnx/s7-x2grid-gt-int8.json --out runs/eval/webcam-s7-ptq
sharpcam-kd evaluate runs/onnx/s7-x2grid-kd-ptq-int8.json runs/onnx/s7-x2grid-gt-ptq-int8.json --no-fps --out runs/eval/x2-s7-ptq
