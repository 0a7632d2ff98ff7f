#!/usr/bin/env bash
# Sitting 17, third part: ships what runs/results_s17b.sh's rule chose. The blur model between the plain half and x3b at
# weight 0.75 (runs/s17_mix75/best.pt, `sharpcam-kd interpolate`) goes into export/ as sharpcam-cs4-x3mix (its float)
# and sharpcam-cs4-x3mix-int8 (the same commands as runs/results_s17b.sh: the int8 must be byte for byte the one
# measured, runs/onnx/s17-cs4-mix75-foldqat-int8.onnx), and the shipped card sharpcam-cs4-switch is written again with
# it as its model for strongly blurred frames (`pair --blurred`; the same halves, and the same cuts, which a test checks).
# Then the shipped card's x2 figures go into its model card, and runs/unseen2_s17.py reads the two photos no earlier
# measurement used, the card before (runs/onnx/s14-pair-gated2.json: the same halves and cuts, no blur model) and after.
# bash runs/results_s17c.sh   (~5 min)
set -euo pipefail
cd "$(dirname "$0")/.."
sharpcam-kd export runs/s17_mix75/best.pt --name sharpcam-cs4-x3mix --planes Y --out export
sharpcam-kd quantize --config kd/recipes/quantize_s10_fold.toml export/sharpcam-cs4-x3mix.json --name sharpcam-cs4-x3mix-int8 --out export
cmp export/sharpcam-cs4-x3mix-int8.onnx runs/onnx/s17-cs4-mix75-foldqat-int8.onnx
sharpcam-kd pair --default export/sharpcam-cs4-sharp-int8.json --alternate export/sharpcam-cs4-lowres-jpeg-int8.json \
    --blurred export/sharpcam-cs4-x3mix-int8.json --name sharpcam-cs4-switch
sharpcam-kd evaluate export/sharpcam-cs4-x3mix.json export/sharpcam-cs4-x3mix-int8.json export/sharpcam-cs4-switch.json \
    --no-test --no-fps --out runs/eval/x2-s17-shipped
for card in sharpcam-cs4-x3mix sharpcam-cs4-x3mix-int8 sharpcam-cs4-switch; do
    sharpcam-kd card export/$card.json --metrics runs/eval/x2-s17-shipped.json --metrics-label $card
done
python runs/unseen2_s17.py runs/onnx/s14-pair-gated2.json export/sharpcam-cs4-switch.json
