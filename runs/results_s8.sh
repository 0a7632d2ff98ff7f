#!/usr/bin/env bash
# Every quality figure of sitting 8 in README "Models and results", regenerated from the committed
# checkpoints (run from the checkout with ../shared beside it, nothing else running; ~25 min on 2 cores).
# Sitting 8 (no GPU lent): the JPEG-heavier webcam mix (half the patches JPEG-compressed at the low
# resolution, as the benchmark's x2 + JPEG q40) on both grids: sitting 7's x2-grid KD arm and the shipped
# default, 55 minutes each (kd/recipes/student_{x2grid,x4grid}_jpeglow_s8.toml), their integer-ends QAT
# (..._s8_qat.toml) and all-integer int8 (quantize_{x2grid,x4grid}_jpeglow_s8.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval

for g in x2grid x4grid; do
    sharpcam-kd export runs/student_${g}_jpeglow_s8/last.pt --name s8-$g-jpeglow --planes Y --out runs/onnx
    sharpcam-kd export runs/student_${g}_jpeglow_s8_qat/last.pt --name s8-$g-jpeglow-qat --planes Y --out runs/onnx
    sharpcam-kd quantize --config kd/recipes/quantize_${g}_jpeglow_s8.toml
done
# Published protocol (Set5 / Set14 / B100, x2): both arms in fp32 and int8 beside their starts
sharpcam-kd evaluate runs/onnx/s8-x2grid-jpeglow.json runs/onnx/s8-x2grid-jpeglow-int8.json \
    runs/onnx/s8-x4grid-jpeglow.json runs/onnx/s8-x4grid-jpeglow-int8.json \
    export/sharpcam-cs4.json export/sharpcam-cs4-int8.json --no-fps --out runs/eval/x2-s8
# The webcam benchmark (127 pictures and the two clips): both arms in int8 and fp32 and the default (the
# x2-grid arm's start, sitting 7's KD arm, is in the committed runs/eval/webcam-s7.md: the benchmark is deterministic)
sharpcam-kd evaluate --webcam runs/onnx/s8-x2grid-jpeglow-int8.json runs/onnx/s8-x4grid-jpeglow-int8.json \
    runs/onnx/s8-x2grid-jpeglow.json runs/onnx/s8-x4grid-jpeglow.json export/sharpcam-cs4-int8.json \
    export/sharpcam-cs4.json --out runs/eval/webcam-s8
sharpcam-kd curves runs/student_x2grid_jpeglow_s8 runs/student_x4grid_jpeglow_s8 runs/student_x2grid_jpeglow_s8_qat \
    runs/student_x4grid_jpeglow_s8_qat --out runs/eval/curves-s8.png
# The same arms as int8 without QAT: does sitting 7's KD arm stay int8-friendly after ground-truth training?
for g in x2grid x4grid; do
    sharpcam-kd quantize --config kd/recipes/quantize_${g}_jpeglow_s8_ptq.toml
done
sharpcam-kd evaluate runs/onnx/s8-x2grid-jpeglow-ptq-int8.json runs/onnx/s8-x4grid-jpeglow-ptq-int8.json \
    --no-fps --out runs/eval/x2-s8-ptq
sharpcam-kd evaluate --webcam runs/onnx/s8-x2grid-jpeglow-ptq-int8.json runs/onnx/s8-x4grid-jpeglow-ptq-int8.json \
    --out runs/eval/webcam-s8-ptq
# the control: the x4-grid arm's start (the default's fp32, ground truth) as post-training int8
sharpcam-kd quantize --config kd/recipes/quantize_cs4_ptq_s8.toml
sharpcam-kd evaluate runs/onnx/s8-cs4-ptq-int8.json --no-fps --out runs/eval/x2-s8-cs4-ptq
# The x2 + JPEG q40 probes: each design trained on that case alone (kd/recipes/probe_{x2grid,x4grid}_jpeg40_s8.toml)
for g in x2grid x4grid; do
    sharpcam-kd export runs/probe_${g}_jpeg40_s8/last.pt --name s8-probe-$g-jpeg40 --planes Y --out runs/onnx
done
sharpcam-kd evaluate --webcam runs/onnx/s8-probe-x2grid-jpeg40.json runs/onnx/s8-probe-x4grid-jpeg40.json \
    --out runs/eval/webcam-s8-probe
# Telling x2 + JPEG q40 frames apart, and a per-frame switch between the default and the probe
python runs/jpeg_detect_s8.py
# The same switch with the specialist trained over a range of small encoded streams (kd/recipes/specialist_x4grid_jpeglow_s8.toml)
sharpcam-kd export runs/specialist_x4grid_jpeglow_s8/last.pt --name s8-specialist-x4grid-jpeglow --planes Y --out runs/onnx
python runs/jpeg_detect_s8.py runs/onnx/s8-specialist-x4grid-jpeglow.json
# ... and with that specialist in int8 after its QAT (kd/recipes/specialist_x4grid_jpeglow_s8_qat.toml), both models all-integer
sharpcam-kd export runs/specialist_x4grid_jpeglow_s8_qat/last.pt --name s8-specialist-x4grid-jpeglow-qat --planes Y --out runs/onnx
sharpcam-kd quantize --config kd/recipes/quantize_specialist_x4grid_jpeglow_s8.toml
python runs/jpeg_detect_s8.py runs/onnx/s8-specialist-x4grid-jpeglow-int8.json
