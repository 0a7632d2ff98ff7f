#!/usr/bin/env bash
# Sitting 15, second part: a blur model trained on the frames a card's blur switch sends it
# (kd/recipes/student_x4grid_blur_s15_qat.toml; its rule is in that recipe, written before the run), its folded QAT
# (last.pt: validation is on plain x2, not its frames) as all-integer int8, in a card with the shipped halves and cuts,
# measured as runs/results_s15.sh measured the first blur model, with blur without down-scaling (runs/defocus_s15.py)
# now part of the rule. The reference is the card without a blur model (runs/onnx/s14-pair-gated2.json), run again
# beside it (the first card's figures are runs/results_s15.sh's). Run after runs/results_s15.sh (~25 min on 2 cores).
# bash runs/results_s15b.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sharpcam-kd export runs/student_x4grid_blur_s15_qat/last.pt --name s15-cs4-blur-foldqat --planes Y --out runs/onnx
sharpcam-kd quantize --config kd/recipes/quantize_s10_fold.toml runs/onnx/s15-cs4-blur-foldqat.json --name s15-cs4-blur-foldqat-int8
sharpcam-kd pair --default runs/onnx/s12-cs4-sharp-foldqat-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg-int8.json \
    --blurred runs/onnx/s15-cs4-blur-foldqat-int8.json --name s15-pair-blurb
pairs="runs/onnx/s14-pair-gated2.json runs/onnx/s15-pair-blurb.json"
sharpcam-kd evaluate $pairs --no-test --no-fps --out runs/eval/x2-s15b
sharpcam-kd evaluate --webcam $pairs --out runs/eval/webcam-s15b
python runs/unseen_s11.py --out runs/eval/unseen-s15b $pairs
python runs/sharp_s12.py --out runs/eval/sharp-s15b $pairs
python runs/h264_s9.py --out runs/eval/h264-s15b $pairs
python runs/steady_s11.py --out runs/eval/steady-s15b-pairs $pairs
python runs/blurred_s15.py --out runs/eval/blurred-s15b $pairs
python runs/defocus_s15.py --out runs/eval/defocus-s15b $pairs
python runs/lineart_s14.py --out runs/eval/lineart-s15b runs/onnx/s15-pair-blurb.json runs/onnx/s14-pair-gated2.json
sharpcam-kd curves runs/student_x4grid_webcam_s12_sharp runs/student_x4grid_blur_s15_qat \
    --title "the blur model: the shipped half's float, its QAT on strongly blurred frames" --out runs/eval/curves-s15b.png
