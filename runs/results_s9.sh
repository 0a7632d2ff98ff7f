#!/usr/bin/env bash
# Sitting 9 (no GPU lent): sitting 8's offline switch built into the runtime (a model pair in one card,
# `sharpcam-kd pair`, vcam/detect.py), and the specialist it pairs the default with. Every figure of the
# README's "Sitting 9" section comes from this script (~20 min on 2 cores, quiet machine), after the runs:
#   sharpcam-kd distill  --config kd/recipes/specialist_x4grid_jpeglow_s9_kdqat.toml    (int8 flicker: distilled QAT)
#   sharpcam-kd train-gt --config kd/recipes/specialist_x4grid_jpeglow_s9_clean20.toml  (a fifth plain x2)
# bash runs/results_s9.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# 1. The specialist's QAT distilled from its own fp32 weights, as all-integer int8 (sitting 8's ground-truth QAT: flicker 1.45)
sharpcam-kd export runs/specialist_x4grid_jpeglow_s9_kdqat/last.pt --name s9-specialist-kdqat --planes Y --out runs/onnx
sharpcam-kd quantize --config kd/recipes/quantize_specialist_x4grid_jpeglow_s9_kdqat.toml
# 2. Pairs of the shipped default with each specialist; a pair's cards share a folder, so the default is copied beside them
cp export/sharpcam-cs4-int8.onnx export/sharpcam-cs4-int8.json runs/onnx/
for alt in s8-specialist-x4grid-jpeglow s8-specialist-x4grid-jpeglow-int8 s9-specialist-kdqat-int8; do
    sharpcam-kd pair --default runs/onnx/sharpcam-cs4-int8.json --alternate "runs/onnx/$alt.json" --name "s9-pair-$alt" --gate-step 0
done
# ... and sitting 9's shipped pair: the default with the specialist trained with a fifth plain x2 (fp32; the rule in its
# recipe). It shipped as export/sharpcam-cs4-switch.json until sitting 10 replaced that card with an all-int8 pair, so it is
# rebuilt here as runs/onnx/s9-pair-clean20-fp32.json (the same card; its rows below carry that name)
sharpcam-kd export runs/specialist_x4grid_jpeglow_s9_clean20/last.pt --name sharpcam-cs4-lowres-jpeg --planes Y --out export
cp export/sharpcam-cs4-lowres-jpeg.onnx export/sharpcam-cs4-lowres-jpeg.json runs/onnx/
sharpcam-kd pair --default runs/onnx/sharpcam-cs4-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg.json --name s9-pair-clean20-fp32 --gate-step 0
# 3. The webcam benchmark through the runtime's statistic and cut (each picture decides), the default alone beside them
sharpcam-kd evaluate --webcam runs/onnx/s9-pair-s8-specialist-x4grid-jpeglow.json runs/onnx/s9-pair-s8-specialist-x4grid-jpeglow-int8.json \
    runs/onnx/s9-pair-s9-specialist-kdqat-int8.json runs/onnx/s9-pair-clean20-fp32.json export/sharpcam-cs4-int8.json \
    --out runs/eval/webcam-s9
# 4. The published x2 protocol of the shipped pair (into its card) beside the default
sharpcam-kd evaluate runs/onnx/s9-pair-clean20-fp32.json export/sharpcam-cs4-int8.json --no-test --no-fps --out runs/eval/x2-s9
sharpcam-kd card runs/onnx/s9-pair-clean20-fp32.json --metrics runs/eval/x2-s9.json --metrics-label s9-pair-clean20-fp32
# 5. Real H.264 (libx264): what the switch does with a codec's own 16-px macroblocks
python runs/h264_s9.py runs/onnx/s9-pair-s8-specialist-x4grid-jpeglow.json runs/onnx/s9-pair-clean20-fp32.json
# 6. A face to look at: x2 and x2 + JPEG q40, the default alone and the pair
sharpcam-kd grid export/sharpcam-cs4-int8.json runs/onnx/s9-pair-clean20-fp32.json --degradation x2 --degradation x2+jpeg40 --out runs/eval/faces-s9.png
# 7. The shipped specialist's integer-ends QAT (kd/recipes/specialist_x4grid_jpeglow_s9_clean20_qat.toml) as all-integer
#    int8, paired with the default; then every pair on the clips made a small JPEG stream (the specialists on their own
#    stream: gain and flicker), and the int8 pair on the webcam benchmark
sharpcam-kd export runs/specialist_x4grid_jpeglow_s9_clean20_qat/last.pt --name s9-specialist-clean20-qat --planes Y --out runs/onnx
sharpcam-kd quantize --config kd/recipes/quantize_specialist_x4grid_jpeglow_s9_clean20.toml
sharpcam-kd pair --default runs/onnx/sharpcam-cs4-int8.json --alternate runs/onnx/s9-specialist-clean20-int8.json --name s9-pair-s9-specialist-clean20-int8 --gate-step 0
python runs/blocky_clips_s9.py export/sharpcam-cs4-int8.json runs/onnx/s9-pair-clean20-fp32.json runs/onnx/s9-pair-s8-specialist-x4grid-jpeglow.json \
    runs/onnx/s9-pair-s8-specialist-x4grid-jpeglow-int8.json runs/onnx/s9-pair-s9-specialist-kdqat-int8.json \
    runs/onnx/s9-pair-s9-specialist-clean20-int8.json
sharpcam-kd evaluate --webcam runs/onnx/s9-pair-s9-specialist-clean20-int8.json --no-clips --out runs/eval/webcam-s9-clean20-int8
