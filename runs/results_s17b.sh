#!/usr/bin/env bash
# Sitting 17, second part: a blur model between the shipped plain half and x3b. runs/results_s17.sh found x3b, as the
# card's blur model, lifting the unseen photos' x3 margin to +0.55 and holding every part of its rule but one: on
# talking_512 x3 + H.264 CRF 23 through the runtime its flicker is 1.12 against the shipped card's 1.09 (bound +0.02).
# x3b sharpens harder than the plain half, and so draws the codec's frame-to-frame changes larger. Both are the folded
# QAT of one float (runs/student_x4grid_webcam_s12_sharp/best.pt: 10,000 steps at lr 5e-5 each, one on the webcam mix,
# one with down-scales drawn from 1.5..3.5), so the straight line between their weights (`sharpcam-kd interpolate`,
# WiSE-FT) gives models that sharpen in between, at the same cost per frame. Two points on it, chosen before any figure
# of either: weight 0.5 and 0.75 on x3b (1.0 is x3b, 0 the plain half, whose figures are known: runs/results_s17.sh).
# Each is exported and quantized as the shipped half was (the same commands reproduce sharpcam-cs4-sharp-int8 byte for
# byte from its checkpoint) and put into the card as its blur model with `pair --blurred`, the cut chosen again.
#
# The rule, written before any figure of these two: runs/results_s17.sh's eight parts, unchanged, against the shipped
# card. If both hold all eight, the one with the higher unseen x3 margin becomes the shipped card's blur model (equal:
# the lower weight). (8), the bench, is run for a card that holds (1)-(7) (runs/bench_s17.sh, its card named there).
# ~20 min on 2 cores.
# bash runs/results_s17b.sh
# export/sharpcam-cs4-switch.json here is the card shipped when this ran (sitting 14's: the same halves and cuts as
# runs/onnx/s14-pair-gated2.json); a rerun after the shipped card changes compares against the new one.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval
plain=runs/student_x4grid_webcam_s12_sharp_qat/best.pt
x3b=runs/student_x4grid_webcam_s14_gated_x3b_qat/best.pt
for w in 50 75; do
    sharpcam-kd interpolate $plain $x3b --weight 0.$w --out runs/s17_mix$w/best.pt
    sharpcam-kd export runs/s17_mix$w/best.pt --name s17-cs4-mix$w-foldqat --planes Y --out runs/onnx
    sharpcam-kd quantize --config kd/recipes/quantize_s10_fold.toml runs/onnx/s17-cs4-mix$w-foldqat.json --name s17-cs4-mix$w-foldqat-int8
    sharpcam-kd pair --default runs/onnx/s12-cs4-sharp-foldqat-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg-int8.json \
        --blurred runs/onnx/s17-cs4-mix$w-foldqat-int8.json --name s17-pair-mix$w
done
cards="export/sharpcam-cs4-switch.json runs/onnx/s17-pair-mix50.json runs/onnx/s17-pair-mix75.json"
sharpcam-kd evaluate $cards --no-test --no-fps --out runs/eval/x2-s17b
sharpcam-kd evaluate --webcam $cards --out runs/eval/webcam-s17b
python runs/unseen_s11.py --out runs/eval/unseen-s17b $cards
python runs/sharp_s12.py --out runs/eval/sharp-s17b $cards
python runs/h264_s9.py --out runs/eval/h264-s17b $cards
python runs/steady_s11.py --out runs/eval/steady-s17b-pairs $cards
python runs/blurred_s15.py --out runs/eval/blurred-s17b $cards
python runs/defocused_s16.py --out runs/eval/defocused-s17b $cards
python runs/still_motion_s17.py --out runs/eval/still-motion-s17b $cards
python runs/defocus_s15.py --out runs/eval/defocus-s17b $cards
python runs/upscaled_s16.py --out runs/eval/upscaled-s17b $cards
python runs/lineart_s14.py --out runs/eval/lineart-s17b runs/onnx/s17-pair-mix50.json export/sharpcam-cs4-switch.json
python runs/lineart_s14.py --out runs/eval/lineart-s17c runs/onnx/s17-pair-mix75.json export/sharpcam-cs4-switch.json
# Result (sitting 17): neither is adopted. mix50 fails (4); mix75 fails (7) by 0.003 dB: on blur without down-scaling,
# Gaussian sigma 1, its gain is 1.8170 dB against the unsharp mask's 1.8204 (both +1.82 as printed; python
# runs/defocus_exact_s17.py gives the unrounded column). This footer first said mix75 held all eight parts, and
# runs/results_s17c.sh shipped it; a review of the figures found the tie, the exact figures settled it, and the
# shipped card went back to sitting 14's (git history: "Revert the adoption of sharpcam-cs4-x3mix-int8"). Against the
# shipped card, the other parts:
#   (1) unseen x3 margin +0.468 -> +0.510 (mix50) / +0.512 (mix75), shared +0.523 -> +0.535 / +0.543; the other margins
#       within 0.002 dB (runs/eval/webcam-s17b.json, unseen-s17b-webcam.json);
#   (2), (3), (5) unchanged;
#   (4) mix50 fails: talking_720p x3 + H.264 CRF 23 +0.34 against +0.37, the still astronaut x3 + H.264 +0.96 against
#       +0.99 (both -0.03). mix75 holds with two cells at the bound as printed (the convention of the earlier rules):
#       talking_512 x3 + H.264 CRF 23 flicker 1.11 against 1.09 (0.127 against 0.125 levels a frame), the still astronaut
#       x3 + H.264 gain +0.97 against +0.99; at the default steadying every other stream is within 0.01 (the frozen still
#       scenes x3: 0.006 / 0.008 / 0.010 against 0.005 / 0.008 / 0.009 levels a frame); with the steadying off,
#       talking_720p x2 + H.264 CRF 30 reads +0.08 / 1.12 against +0.10 / 1.10, also at the bounds;
#   (6) mix75 brick x3 +1.90 against +1.62, nothing under; mix50 gravel x3 -0.05 (at the bound);
#   (7) mix75: the mean of the ten defocus columns +0.018 dB (unrounded, runs/eval/defocus-exact-s17.md) (Gaussian 2 +0.70 against +0.59, disc 2 +1.65 against
#       +1.76), but Gaussian 1 under the unsharp mask (above); up-scales the figures miss within -0.01, x4 +0.51 / +0.43;
#   (8) runs/bench/s17/table.md (AMD EPYC, five rounds): talking_720p down-up x3 0.773 against 0.787 cores (mean), as it
#       is 0.064 against 0.068, the small JPEG stream 0.791 against 0.786 (+0.6 %).
