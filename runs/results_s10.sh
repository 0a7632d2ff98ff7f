#!/usr/bin/env bash
# Sitting 10 (no GPU lent): where an int8 student's flicker comes from, and int8 that rounds each body block
# once (its input folded into the conv kernel: `kd export --fold-identity`, QAT with `qat_fold_identity`).
# Every figure of the README's "Sitting 10" section comes from this script (~15 min on 2 cores, quiet
# machine), after the runs:
#   sharpcam-kd train-gt --config kd/recipes/specialist_x4grid_jpeglow_s10_fold_qat.toml   (the specialist)
#   sharpcam-kd train-gt --config kd/recipes/student_x4grid_webcam_s10_fold_qat.toml       (the default, from its float model)
#   sharpcam-kd train-gt --config kd/recipes/student_x4grid_webcam_s10_fold_qat2.toml      (the default, short, from its QAT)
# Speed: bash runs/bench_s9.sh runs/onnx/s11-shipped-pair.json runs/bench/s10 runs/onnx/s9-pair-clean20-fp32.json
# bash runs/results_s10.sh
set -euo pipefail
cd "$(dirname "$0")/.."
q="sharpcam-kd quantize --config kd/recipes/quantize_s10_fold.toml"
# 1. Which roundings of sitting 9's int8 specialist and of the int8 default flicker on a still picture
python runs/int8_flicker_s10.py runs/eval/int8-flicker-s10 runs/onnx/s9-specialist-clean20-int8.json export/sharpcam-cs4-int8.json
# 2. Folded exports of the existing QAT checkpoints (sitting 9's specialist, sitting 4's default), all-integer int8
sharpcam-kd export runs/specialist_x4grid_jpeglow_s9_clean20_qat/last.pt --name s10-specialist-s9qat-fold --planes Y --out runs/onnx --fold-identity
$q runs/onnx/s10-specialist-s9qat-fold.json --name s10-specialist-s9qat-fold-int8
sharpcam-kd export runs/student_x4grid_webcam_qat_int/best.pt --name s10-cs4-s4qat-fold --planes Y --out runs/onnx --fold-identity
$q runs/onnx/s10-cs4-s4qat-fold.json --name s10-cs4-s4qat-fold-int8
# 3. The folded QATs (exported folded: their checkpoints say qat_fold_identity)
sharpcam-kd export runs/specialist_x4grid_jpeglow_s10_fold_qat/last.pt --name s10-specialist-foldqat --planes Y --out runs/onnx
$q runs/onnx/s10-specialist-foldqat.json --name s10-specialist-foldqat-int8
sharpcam-kd export runs/student_x4grid_webcam_s10_fold_qat/best.pt --name s10-cs4-foldqat --planes Y --out runs/onnx
$q runs/onnx/s10-cs4-foldqat.json --name s10-cs4-foldqat-int8
sharpcam-kd export runs/student_x4grid_webcam_s10_fold_qat2/best.pt --name s10-cs4-foldqat2 --planes Y --out runs/onnx
$q runs/onnx/s10-cs4-foldqat2.json --name s10-cs4-foldqat2-int8
# 4. Pairs (a pair's cards share a folder: the shipped default and sitting 9's fp32 specialist are copied beside them)
cp export/sharpcam-cs4-int8.onnx export/sharpcam-cs4-int8.json export/sharpcam-cs4-lowres-jpeg.onnx export/sharpcam-cs4-lowres-jpeg.json runs/onnx/
sharpcam-kd pair --default runs/onnx/sharpcam-cs4-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg.json --name s9-pair-clean20-fp32 --gate-step 0
sharpcam-kd pair --default runs/onnx/sharpcam-cs4-int8.json --alternate runs/onnx/s10-specialist-s9qat-fold-int8.json --name s10-pair-s9qat-fold-int8 --gate-step 0
sharpcam-kd pair --default runs/onnx/sharpcam-cs4-int8.json --alternate runs/onnx/s10-specialist-foldqat-int8.json --name s10-pair-foldqat-int8 --gate-step 0
sharpcam-kd pair --default runs/onnx/s10-cs4-s4qat-fold-int8.json --alternate runs/onnx/s10-specialist-s9qat-fold-int8.json --name s10-pair-fold-s4qat-s9qat --gate-step 0
sharpcam-kd pair --default runs/onnx/s10-cs4-foldqat-int8.json --alternate runs/onnx/s10-specialist-foldqat-int8.json --name s10-pair-foldqat-both --gate-step 0
sharpcam-kd pair --default runs/onnx/s10-cs4-foldqat2-int8.json --alternate runs/onnx/s10-specialist-foldqat-int8.json --name s10-pair-foldqat2-foldqat --gate-step 0
# ... and the shipped pair, all int8: the folded int8 of the shipped QAT checkpoint with the specialist's folded QAT (same bytes as
#     s10-cs4-s4qat-fold-int8 and s10-specialist-foldqat-int8, under the names they ship as)
$q runs/onnx/s10-cs4-s4qat-fold.json --name sharpcam-cs4-fold-int8 --out export
$q --name sharpcam-cs4-lowres-jpeg-int8 --out export
# (this pair shipped as export/sharpcam-cs4-switch.json in sittings 10-11; sitting 12 shipped a new plain half in it, so a
#  rerun builds it under runs/onnx as s11-shipped-pair: the same cut and bytes, its rows labelled so)
cp export/sharpcam-cs4-fold-int8.onnx export/sharpcam-cs4-fold-int8.json export/sharpcam-cs4-lowres-jpeg-int8.onnx export/sharpcam-cs4-lowres-jpeg-int8.json runs/onnx/
sharpcam-kd pair --default runs/onnx/sharpcam-cs4-fold-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg-int8.json --name s11-shipped-pair --gate-step 0
# 5. The webcam benchmark (each picture decides for a pair), the published x2 protocol, the clips made a small JPEG stream
sharpcam-kd evaluate --webcam runs/onnx/s9-pair-clean20-fp32.json runs/onnx/s10-pair-s9qat-fold-int8.json runs/onnx/s10-pair-foldqat-int8.json \
    runs/onnx/s10-pair-foldqat-both.json runs/onnx/s10-pair-foldqat2-foldqat.json runs/onnx/s11-shipped-pair.json \
    export/sharpcam-cs4-int8.json export/sharpcam-cs4-fold-int8.json runs/onnx/s10-cs4-foldqat-int8.json --out runs/eval/webcam-s10
sharpcam-kd evaluate export/sharpcam-cs4.json export/sharpcam-cs4-int8.json export/sharpcam-cs4-fold-int8.json runs/onnx/s10-cs4-foldqat.json \
    runs/onnx/s10-cs4-foldqat-int8.json runs/onnx/s10-cs4-foldqat2-int8.json export/sharpcam-cs4-lowres-jpeg.json runs/onnx/s10-specialist-foldqat.json runs/onnx/s10-specialist-foldqat-int8.json \
    runs/onnx/s9-pair-clean20-fp32.json runs/onnx/s11-shipped-pair.json --no-test --no-fps --out runs/eval/x2-s10
# (sitting 10 put this row into export/sharpcam-cs4-switch.json's card; since sitting 12 that card holds sitting 12's pair)
python runs/blocky_clips_s9.py --out runs/eval/blocky-clips-s10 export/sharpcam-cs4-int8.json export/sharpcam-cs4-fold-int8.json \
    runs/onnx/s10-cs4-foldqat-int8.json runs/onnx/s9-pair-clean20-fp32.json runs/onnx/s10-pair-s9qat-fold-int8.json runs/onnx/s10-pair-foldqat-int8.json \
    runs/onnx/s10-pair-fold-s4qat-s9qat.json runs/onnx/s10-pair-foldqat-both.json runs/onnx/s10-pair-foldqat2-foldqat.json runs/onnx/s11-shipped-pair.json
# 6. The folded int8 models' own roundings, as in 1
python runs/int8_flicker_s10.py runs/eval/int8-flicker-s10-folded export/sharpcam-cs4-lowres-jpeg-int8.json export/sharpcam-cs4-fold-int8.json
#    ... and the defaults' float and int8 forms on the shared clips as they are (whose flicker the rules compare)
python runs/int8_flicker_s10.py --as-they-are runs/eval/int8-flicker-s10-clips export/sharpcam-cs4.json runs/onnx/s10-cs4-s4qat-fold.json \
    runs/onnx/s10-cs4-foldqat.json runs/onnx/s10-cs4-foldqat2.json export/sharpcam-cs4-int8.json export/sharpcam-cs4-fold-int8.json \
    runs/onnx/s10-cs4-foldqat-int8.json runs/onnx/s10-cs4-foldqat2-int8.json
# 7. Curves of the three folded QATs beside the two QATs they repeat
sharpcam-kd curves runs/specialist_x4grid_jpeglow_s9_clean20_qat runs/specialist_x4grid_jpeglow_s10_fold_qat \
    runs/student_x4grid_webcam_qat_int runs/student_x4grid_webcam_s10_fold_qat runs/student_x4grid_webcam_s10_fold_qat2 --title "QAT: conv output rounded apart vs identity folded" \
    --out runs/eval/curves-s10.png
# 8. A face to look at: x2 + JPEG q40 and x2, sitting 9's pair (fp32 specialist) and this sitting's (all int8)
sharpcam-kd grid runs/onnx/s9-pair-clean20-fp32.json runs/onnx/s11-shipped-pair.json --degradation x2+jpeg40 --degradation x2 \
    --out runs/eval/faces-s10.png
# 9. The same fold on sitting 7's x2-grid arms (their QAT checkpoints, no training), beside their int8 of sitting 7
for a in kd gt; do
    sharpcam-kd export runs/student_x2grid_pool_${a}_s7_qat/last.pt --name s10-x2grid-$a-s7qat-fold --planes Y --out runs/onnx --fold-identity
    $q runs/onnx/s10-x2grid-$a-s7qat-fold.json --name s10-x2grid-$a-s7qat-fold-int8
done
sharpcam-kd evaluate --webcam runs/onnx/s7-x2grid-kd-int8.json runs/onnx/s10-x2grid-kd-s7qat-fold-int8.json runs/onnx/s7-x2grid-gt-int8.json \
    runs/onnx/s10-x2grid-gt-s7qat-fold-int8.json runs/onnx/s7-x2grid-kd.json --out runs/eval/webcam-s10-x2grid
sharpcam-kd evaluate runs/onnx/s7-x2grid-kd.json runs/onnx/s7-x2grid-kd-int8.json runs/onnx/s10-x2grid-kd-s7qat-fold-int8.json runs/onnx/s7-x2grid-gt.json \
    runs/onnx/s7-x2grid-gt-int8.json runs/onnx/s10-x2grid-gt-s7qat-fold-int8.json --no-test --no-fps --out runs/eval/x2-s10-x2grid
