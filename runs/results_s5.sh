#!/usr/bin/env bash
# Every figure of sitting 5 in README "Models and results", regenerated from the committed checkpoints
# (run from the checkout with ../shared beside it, nothing else running). What sitting 5 added: one run
# on a lent GPU (runs/gpu_s5/run.sh, kd/recipes/gpu_*.toml): the x2 and webcam teachers fine-tuned
# with L1 on 64 x 96 px, the default's student, its x2 twin and the 48-channel candidate resumed on
# 64 x 128 px patches cut on the GPU, and the integer-ends QAT of the three.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval runs/bench

# fp32 Y exports of the students (the cosine's end, last.pt) and their all-integer int8 from the QAT runs
for r in twin_x4grid default_x4grid w48_webcam; do
    sharpcam-kd export runs/gpu_$r/last.pt --name s5-$r --planes Y --out runs/onnx
    sharpcam-kd export runs/gpu_${r}_qat/last.pt --name s5-$r-qat --planes Y --out runs/onnx
    sharpcam-kd quantize --config kd/recipes/quantize_cs4_int.toml runs/onnx/s5-$r-qat.json --name s5-$r-int8 --out runs/onnx
done
sharpcam-kd export runs/gpu_teacher_x2/best.pt --name s5-teacher-x2 --out runs/onnx
sharpcam-kd export runs/gpu_teacher_webcam/best.pt --name s5-teacher-webcam --out runs/onnx

# Published protocol (Set5 / Set14 / B100, x2): the new rows beside the shipped ones and sitting 3's twin
sharpcam-kd evaluate runs/onnx/s5-twin_x4grid.json runs/onnx/s5-twin_x4grid-int8.json runs/onnx/cs4-x2.json \
    runs/onnx/cs4-x2-int8.json runs/onnx/s5-default_x4grid.json runs/onnx/s5-default_x4grid-int8.json \
    export/sharpcam-cs4.json export/sharpcam-cs4-int8.json runs/onnx/s5-w48_webcam.json runs/onnx/s5-w48_webcam-int8.json \
    runs/onnx/s5-teacher-x2.json runs/onnx/s5-teacher-webcam.json export/sharpcam-teacher.json runs/onnx/teacher-webcam.json \
    --no-fps --out runs/eval/x2-s5
# The teachers beside the students on the webcam benchmark (Set5 + Set14: a 17 x 64 DnCNN takes minutes there)
sharpcam-kd evaluate --webcam runs/onnx/s5-teacher-webcam.json runs/onnx/s5-teacher-x2.json runs/onnx/teacher-webcam.json \
    runs/onnx/s5-default_x4grid.json export/sharpcam-cs4.json --set ../shared/datasets/eval/Set5 \
    --set ../shared/datasets/eval/Set14 --no-clips --out runs/eval/webcam-teachers-s5
# KD against ground truth at the same budget (start: the GPU-resumed default; one pool of 6; 30,000 steps each)
sharpcam-kd export runs/student_x4grid_pool_gt_s5/last.pt --name s5-pool-gt --planes Y --out runs/onnx
sharpcam-kd export runs/student_x4grid_pool_kd_s5/last.pt --name s5-pool-kd --planes Y --out runs/onnx
# Webcam benchmark: the four degradations on the eval sets and the shared clips' frames, flicker, ringing
sharpcam-kd evaluate --webcam export/sharpcam-cs4-int8.json export/sharpcam-cs4.json runs/onnx/s5-default_x4grid.json \
    runs/onnx/s5-default_x4grid-int8.json runs/onnx/s5-pool-gt.json runs/onnx/s5-w48_webcam-int8.json --threads 1 \
    --out runs/eval/webcam-s5a
# Before / after on a real face, with the two GPU-trained teachers; the GPU runs' curves
sharpcam-kd grid export/sharpcam-cs4-int8.json runs/onnx/s5-teacher-webcam.json runs/onnx/s5-teacher-x2.json \
    --degradation x2 --degradation x2+jpeg40 --degradation blur1.2+noise4+jpeg60 --out runs/eval/faces-s5.png
sharpcam-kd curves runs/gpu_teacher_x2 runs/gpu_teacher_webcam runs/gpu_twin_x4grid runs/gpu_default_x4grid \
    runs/gpu_w48_webcam --out runs/eval/curves-s5-gpu.png
sharpcam-kd evaluate --webcam runs/onnx/s5-pool-kd.json runs/onnx/s5-pool-gt.json runs/onnx/s5-default_x4grid.json \
    export/sharpcam-cs4.json --out runs/eval/webcam-s5-kd
sharpcam-kd evaluate runs/onnx/s5-pool-kd.json runs/onnx/s5-pool-gt.json runs/onnx/s5-default_x4grid.json \
    export/sharpcam-cs4.json --no-fps --out runs/eval/x2-s5-kd
