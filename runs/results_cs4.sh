#!/usr/bin/env bash
# Every figure of sitting 3's x4-grid students in README "Models and results", regenerated from their
# checkpoints (run from the checkout with ../shared beside it, nothing else running: ~25 min on 2 cores).
# Runs: runs/student_cs_x2_x4grid_lr5e4 (the x2 twin), runs/student_x4grid_webcam (the webcam mix) and
# runs/student_x4grid_webcam_jpeg (a codec-heavier mix); each *_qat run is its quantization-aware
# fine-tune, the source of its int8. WIN names the candidate shipped as sharpcam-cs4 (its reasons: README).
set -euo pipefail
cd "$(dirname "$0")/.."
WIN=${WIN:-student_x4grid_webcam}
OTHER=$([ "$WIN" = student_x4grid_webcam ] && echo student_x4grid_webcam_jpeg || echo student_x4grid_webcam)
# ONNX + cards, all as the uint8 I420 Y plane (card v2): fp32 from each run, int8 from its QAT fine-tune
sharpcam-kd export runs/$WIN/best.pt --name sharpcam-cs4 --planes Y --out export
sharpcam-kd export runs/$OTHER/best.pt --name cs4-other --planes Y --out runs/onnx
sharpcam-kd export runs/student_cs_x2_x4grid_lr5e4/best.pt --name cs4-x2 --planes Y --out runs/onnx
sharpcam-kd export runs/${WIN}_qat/best.pt --name cs4-qat --planes Y --out runs/onnx
sharpcam-kd export runs/student_cs_x2_x4grid_lr5e4_qat/best.pt --name cs4-x2-qat --planes Y --out runs/onnx
sharpcam-kd quantize --config kd/recipes/quantize_cs4.toml
sharpcam-kd quantize --config kd/recipes/quantize_cs4_x2.toml
# the same checkpoints quantized without QAT: what the fine-tune buys
sharpcam-kd quantize runs/onnx/cs4-x2.json --name cs4-x2-ptq-int8 --out runs/onnx --calib runs/split/train.txt \
    --float-nodes /head/Conv,/tail/Conv
sharpcam-kd quantize export/sharpcam-cs4.json --name cs4-ptq-int8 --out runs/onnx --calib runs/split/train.txt \
    --float-nodes /head/Conv,/tail/Conv
# Published protocol (Set5 / Set14 / B100, x2), sitting 2's default and the one before beside them
sharpcam-kd evaluate runs/onnx/cs4-x2.json runs/onnx/cs4-x2-int8.json runs/onnx/cs4-x2-ptq-int8.json \
    export/sharpcam-cs4.json export/sharpcam-cs4-int8.json runs/onnx/cs4-ptq-int8.json runs/onnx/cs4-other.json \
    export/sharpcam-cs.json export/sharpcam-rt-int8.json --no-fps --out runs/eval/x2-cs4
for c in export/sharpcam-cs4.json export/sharpcam-cs4-int8.json runs/onnx/cs4-x2.json runs/onnx/cs4-x2-int8.json; do
    sharpcam-kd card "$c" --metrics runs/eval/x2-cs4.json
done
# Webcam benchmark: the four degradations on the eval sets, flicker / sharpness on the shared clips, ringing
sharpcam-kd evaluate --webcam export/sharpcam-rt-int8.json export/sharpcam-cs.json export/sharpcam-cs4.json \
    export/sharpcam-cs4-int8.json runs/onnx/cs4-other.json runs/onnx/cs4-x2.json --out runs/eval/webcam-cs4
# Before / after on a real face
sharpcam-kd grid export/sharpcam-rt-int8.json export/sharpcam-cs.json export/sharpcam-cs4-int8.json export/sharpcam-teacher.json \
    --degradation x2 --degradation x2+jpeg40 --degradation blur1.2+noise4+jpeg60 --out runs/eval/faces-cs4.png
# Whole pipeline in interleaved rounds: the default before the last, sitting 2's, the new one int8 and fp32
bash runs/bench_models.sh runs/bench/cs4 sharpcam-rt-int8 sharpcam-cs sharpcam-cs4-int8 sharpcam-cs4
python runs/bench_table.py runs/bench/cs4 > runs/bench/cs4/table.md
# Quality at the reduced work sizes the frame-rate hold uses
python runs/worksize_quality.py sharpcam-rt-int8 export/sharpcam-cs.json export/sharpcam-cs4-int8.json > runs/worksize_quality_cs4.md
# Training curves of sitting 3's runs
sharpcam-kd curves runs/student_cs_x2_grid runs/student_cs_x2_x4grid_lr5e4 runs/student_x4grid_webcam runs/student_x4grid_webcam_jpeg \
    --out runs/eval/curves-cs4.png
