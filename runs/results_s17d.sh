#!/usr/bin/env bash
# Sitting 17, last part: ships what runs/results_s17c.sh's rule chose, if it held all eight parts (its footer says):
# sitting 14's x3b half (runs/student_x4grid_webcam_s14_gated_x3b_qat/best.pt) as the card's model for up-scaled,
# strongly blurred frames. It goes into export/ as sharpcam-cs4-x3 (fp32) and sharpcam-cs4-x3-int8 (the same commands
# as sitting 14's runs/results_s14b.sh; the int8 must be byte for byte the one measured,
# runs/onnx/s14-cs4-gatedx3b-foldqat-int8.onnx), and the shipped card sharpcam-cs4-switch is written again with it
# (`pair --blurred --blurred-upscaled`: the same halves and cuts, which tests/test_processor.py checks). Then the card's
# x2 figures go into its model card, and runs/unseen2_s17.py reads the two photos no earlier measurement used, the card
# before (runs/onnx/s14-pair-gated2.json: the same halves and cuts, no blur model) and after.
# bash runs/results_s17d.sh   (~5 min)
set -euo pipefail
cd "$(dirname "$0")/.."
sharpcam-kd export runs/student_x4grid_webcam_s14_gated_x3b_qat/best.pt --name sharpcam-cs4-x3 --planes Y --out export
sharpcam-kd quantize --config kd/recipes/quantize_s10_fold.toml export/sharpcam-cs4-x3.json --name sharpcam-cs4-x3-int8 --out export
cmp export/sharpcam-cs4-x3-int8.onnx runs/onnx/s14-cs4-gatedx3b-foldqat-int8.onnx
sharpcam-kd pair --default export/sharpcam-cs4-sharp-int8.json --alternate export/sharpcam-cs4-lowres-jpeg-int8.json \
    --blurred export/sharpcam-cs4-x3-int8.json --blurred-upscaled --name sharpcam-cs4-switch
sharpcam-kd evaluate export/sharpcam-cs4-x3.json export/sharpcam-cs4-x3-int8.json export/sharpcam-cs4-switch.json \
    --no-test --no-fps --out runs/eval/x2-s17-shipped
for card in sharpcam-cs4-x3 sharpcam-cs4-x3-int8 sharpcam-cs4-switch; do
    sharpcam-kd card export/$card.json --metrics runs/eval/x2-s17-shipped.json --metrics-label $card
done
python runs/unseen2_s17.py --out runs/eval/unseen2-s17d runs/onnx/s14-pair-gated2.json export/sharpcam-cs4-switch.json
