#!/usr/bin/env bash
# Every figure of the collapsible students in README "Models and results", regenerated from their
# checkpoints (run from the checkout with ../shared beside it; ~30 min on 2 cores, benches included).
# Sitting 2's runs: runs/student_cs_webcam_grid (the shipped default) and runs/student_cs_x2_grid (its
# x2-protocol twin); sitting 1's (runs/student_cs_webcam, runs/student_cs_x2) are kept as the "before".
set -euo pipefail
cd "$(dirname "$0")/.."
# ONNX + cards: the shipped default as the Y plane (uint8 I420 luma in and out), the same weights as RGB
# (the int8's source, and the Y path's speed reference), the twin, and sitting 1's default
sharpcam-kd export runs/student_cs_webcam_grid/best.pt --name sharpcam-cs --planes Y --out export
sharpcam-kd export runs/student_cs_webcam_grid/best.pt --name cs-webcam-rgb --out runs/onnx
sharpcam-kd export runs/student_cs_x2_grid/best.pt --name cs-x2 --out runs/onnx
sharpcam-kd export runs/student_cs_webcam/best.pt --name cs-webcam-s1 --out runs/onnx
sharpcam-kd quantize --config kd/recipes/quantize_cs.toml
sharpcam-kd quantize --config kd/recipes/quantize_cs_x2.toml
# Published protocol (Set5 / Set14 / B100, x2), the old defaults beside them
sharpcam-kd evaluate runs/onnx/cs-x2.json runs/onnx/cs-x2-int8.json export/sharpcam-cs.json runs/onnx/cs-webcam-rgb.json \
    export/sharpcam-cs-int8.json runs/onnx/cs-webcam-s1.json export/sharpcam-rt-int8.json --no-fps --out runs/eval/x2-cs
for c in export/sharpcam-cs.json export/sharpcam-cs-int8.json runs/onnx/cs-x2.json runs/onnx/cs-x2-int8.json; do
    sharpcam-kd card "$c" --metrics runs/eval/x2-cs.json
done
# Webcam benchmark: the four degradations on the eval sets, flicker / sharpness on the shared clips, ringing
sharpcam-kd evaluate --webcam export/sharpcam-rt-int8.json export/sharpcam-cs.json export/sharpcam-cs-int8.json \
    runs/onnx/cs-webcam-s1.json runs/onnx/cs-x2.json --out runs/eval/webcam
# the teacher is ~1 s per image: Set5 + Set14 only, no clips
sharpcam-kd evaluate --webcam export/sharpcam-teacher.json export/sharpcam-cs.json --set ../shared/datasets/eval/Set5 \
    --set ../shared/datasets/eval/Set14 --no-clips --out runs/eval/webcam-teacher
# Before / after on a real face
sharpcam-kd grid export/sharpcam-rt-int8.json export/sharpcam-cs.json export/sharpcam-teacher.json \
    --degradation x2 --degradation blur1.2+noise4+jpeg60 --out runs/eval/faces-cs.png
# Whole pipeline in interleaved rounds: the old default, the new one on its Y-plane path, the same
# weights on the RGB path; throughput at 720p / 1080p, CPU at 720p30; the pipeline alone (no model)
bash runs/bench_models.sh runs/bench/cs sharpcam-rt-int8 sharpcam-cs runs/onnx/cs-webcam-rgb.json
# Quality at the reduced work sizes the frame-rate hold uses
python runs/worksize_quality.py sharpcam-rt-int8 export/sharpcam-cs.json runs/onnx/cs-webcam-rgb.json > runs/worksize_quality.md
# Training curves of sitting 2's runs
sharpcam-kd curves runs/student_cs_x2_grid runs/student_cs_webcam_grid --out runs/eval/curves-cs.png
