#!/usr/bin/env bash
# Sitting 11 (no GPU lent): the shipped models on material that is in neither this repository nor ../shared
# (scikit-image's photographs: the webcam benchmark on them, and still scenes with sensor noise through real
# H.264), the runtime's steadying (--steady) on streams, and four folded QATs of the default: distilled from its
# fp32 model, on a mix with more frames that were never resized, and the latter with a stability term (weights 1
# and 0.25). Every quality figure of the README's "Sitting 11" section comes from this script (~35 min on 2 cores,
# quiet machine), after the runs:
#   sharpcam-kd distill --config kd/recipes/student_x4grid_webcam_s11_fold_kdqat.toml
#   sharpcam-kd train-gt --config kd/recipes/student_x4grid_webcam_s11_sharp_fold_qat.toml
#   sharpcam-kd train-gt --config kd/recipes/student_x4grid_webcam_s11_stable_fold_qat.toml
#   sharpcam-kd train-gt --config kd/recipes/student_x4grid_webcam_s11_stable025_fold_qat.toml
# Speed: bash runs/bench_s11.sh (~13 min, nothing else on the machine)
# bash runs/results_s11.sh
set -euo pipefail
cd "$(dirname "$0")/.."
q="sharpcam-kd quantize --config kd/recipes/quantize_s10_fold.toml"
# 1. The four folded QATs (their checkpoints say qat_fold_identity: exported folded), all-integer int8
sharpcam-kd export runs/student_x4grid_webcam_s11_fold_kdqat/best.pt --name s11-cs4-foldkdqat-best --planes Y --out runs/onnx
$q runs/onnx/s11-cs4-foldkdqat-best.json --name s11-cs4-foldkdqat-best-int8
for run in sharp stable stable025; do
    sharpcam-kd export runs/student_x4grid_webcam_s11_${run}_fold_qat/best.pt --name s11-cs4-$run-foldqat --planes Y --out runs/onnx
    $q runs/onnx/s11-cs4-$run-foldqat.json --name s11-cs4-$run-foldqat-int8
done
# 2. The int8 of the three ground-truth QATs paired with the shipped specialist (a pair's cards share a folder)
cp export/sharpcam-cs4-lowres-jpeg-int8.onnx export/sharpcam-cs4-lowres-jpeg-int8.json runs/onnx/
# ... and the pair shipped in sittings 10-11 (export/sharpcam-cs4-switch.json then; sitting 12 shipped a new plain half in
#     that card), rebuilt here: the same cut and bytes, its rows labelled s11-shipped-pair on a rerun
cp export/sharpcam-cs4-fold-int8.onnx export/sharpcam-cs4-fold-int8.json export/sharpcam-cs4-lowres-jpeg-int8.onnx export/sharpcam-cs4-lowres-jpeg-int8.json runs/onnx/
sharpcam-kd pair --default runs/onnx/sharpcam-cs4-fold-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg-int8.json --name s11-shipped-pair --gate-step 0
for run in sharp stable stable025; do
    sharpcam-kd pair --default runs/onnx/s11-cs4-$run-foldqat-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg-int8.json --name s11-pair-$run --gate-step 0
done
# 3. The published x2 protocol: the fp32 model, the shipped int8, the QATs' float and int8, the pairs
sharpcam-kd evaluate export/sharpcam-cs4.json export/sharpcam-cs4-fold-int8.json runs/onnx/s11-cs4-foldkdqat-best.json \
    runs/onnx/s11-cs4-foldkdqat-best-int8.json runs/onnx/s11-cs4-sharp-foldqat.json runs/onnx/s11-cs4-sharp-foldqat-int8.json \
    runs/onnx/s11-cs4-stable-foldqat.json runs/onnx/s11-cs4-stable-foldqat-int8.json runs/onnx/s11-cs4-stable025-foldqat.json \
    runs/onnx/s11-cs4-stable025-foldqat-int8.json runs/onnx/s11-shipped-pair.json runs/onnx/s11-pair-sharp.json \
    runs/onnx/s11-pair-stable.json runs/onnx/s11-pair-stable025.json --no-test --no-fps --out runs/eval/x2-s11
# 4. The webcam benchmark (shared eval sets and clips), the shipped pair against the new pairs
sharpcam-kd evaluate --webcam runs/onnx/s11-shipped-pair.json runs/onnx/s11-pair-sharp.json runs/onnx/s11-pair-stable.json \
    runs/onnx/s11-pair-stable025.json export/sharpcam-cs4-fold-int8.json runs/onnx/s11-cs4-sharp-foldqat-int8.json \
    runs/onnx/s11-cs4-stable-foldqat-int8.json runs/onnx/s11-cs4-stable025-foldqat-int8.json --out runs/eval/webcam-s11
# 5. Real H.264 on the shared clips (full size and half size x2), and the unseen material
python runs/h264_s9.py --out runs/eval/h264-s11 runs/onnx/s11-shipped-pair.json runs/onnx/s11-pair-sharp.json runs/onnx/s11-pair-stable.json \
    runs/onnx/s11-pair-stable025.json
python runs/unseen_s11.py runs/onnx/s11-shipped-pair.json runs/onnx/s11-pair-sharp.json runs/onnx/s11-pair-stable025.json export/sharpcam-cs4.json \
    export/sharpcam-rt-int8.json
# 6. The clips as a small JPEG stream (the specialist's case), curves, a face
python runs/blocky_clips_s9.py --out runs/eval/blocky-clips-s11 runs/onnx/s11-shipped-pair.json runs/onnx/s11-pair-sharp.json \
    runs/onnx/s11-pair-stable.json runs/onnx/s11-pair-stable025.json
sharpcam-kd curves runs/student_x4grid_webcam_s10_fold_qat runs/student_x4grid_webcam_s11_fold_kdqat runs/student_x4grid_webcam_s11_sharp_fold_qat \
    runs/student_x4grid_webcam_s11_stable_fold_qat runs/student_x4grid_webcam_s11_stable025_fold_qat \
    --title "folded QAT of the default: ground truth, distilled, more never-resized frames, + stability 1 / 0.25" --out runs/eval/curves-s11.png
sharpcam-kd grid runs/onnx/s11-shipped-pair.json runs/onnx/s11-pair-sharp.json runs/onnx/s11-pair-stable025.json --degradation x2 \
    --degradation blur1.2+noise4+jpeg60 --out runs/eval/faces-s11.png
# 7. The runtime's steadying on streams (through vcam's frame processor), the shipped pair
python runs/steady_s11.py runs/onnx/s11-shipped-pair.json
