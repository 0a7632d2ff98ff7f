#!/usr/bin/env bash
# Sitting 18 (no GPU lent; AMD EPYC, 2 cores): a second strength ramp. runs/results_s18b.sh's ramp (re-blur ratio
# 0.49..0.89, fitted for the most mean gain over every case) held part (0) (the five mild columns +0.22 to +0.56 dB) but
# failed part (1): the shared sets' blur + noise + JPEG q60 margin fell by 0.0215 dB (bound 0.02), most of it on the
# frames of talking_720p.mp4, which read as resampled under that degradation (and parts (6) and (7): its footer). Its fit had traded some gain on the
# benchmark's own cases for the mild ones (on the training split x2 -0.017, x3 -0.010, blur + noise + JPEG q60 -0.004 dB).
# This candidate is fitted the same way but only among ramps under which none of the benchmark's four cases loses more
# than 0.002 dB on the training split (`pair --ramp-benchmark-loss 0.002`, new); the bound is the fit's, chosen on the
# training split's figures only. The rule is not revised.
#
# The rule, runs/results_s18b.sh's unchanged (written before any figure of this card on pictures outside the training
# split): the shipped card (export/sharpcam-cs4-switch.json) takes the ramp (the card s18-pair-ramp2 below: the shipped
# models and cuts, `pair` with --ramp --ramp-benchmark-loss 0.002) if, against the shipped card:
#   (0) mild up-scales (runs/mild_s18.py): the mean gain rises by >= 0.1 dB on at least four of the five columns and
#       falls on none;
#   (1) the webcam benchmark's four margins over the unsharp mask stay >= 0.5 on the shared sets and on the unseen photos
#       (runs/unseen_s11.py), and none falls by more than 0.02 dB;
#   (2) on sharp pictures (runs/sharp_s12.py) the mean loss over the four cases no more than 0.02 dB larger;
#   (3) the published x2 protocol: Set5 / Set14 / B100 no more than 0.02 dB under;
#   (4) through the runtime (runs/steady_s11.py, runs/blurred_s15.py, runs/defocused_s16.py): no stream's gain more than
#       0.02 dB lower; flicker no more than 0.02 above on every stream, and <= 1.25 on the blurred streams, except on
#       streams whose input's still pixels move by under 0.05 levels a frame (runs/still_motion_s17.py), where instead
#       the output's still pixels move by no more than 0.01 levels a frame more than with the shipped card;
#   (5) full-size H.264 at CRF 30 (runs/h264_s9.py) no more than 0.05 dB worse on either clip;
#   (6) line art (runs/lineart_s14.py): no picture and case more than 0.05 dB under;
#   (7) blur without down-scaling (runs/defocus_s15.py): every column's gain above the unsharp mask's, the mean of the
#       ten columns no more than 0.02 dB under; up-scales the resampling figures miss (runs/upscaled_s16.py): no column
#       more than 0.02 dB under;
#   (8) `sharpcam bench` at 720p30 (runs/bench_s18.sh, after this, nothing else running; five interleaved rounds, the
#       order rotating; `bash runs/bench_s18.sh runs/bench/s18c runs/onnx/s18-pair-ramp2.json`): CPU no more than the
#       shipped card's + 5 % (mean over the rounds) or + 0.01 cores, whichever is more, on talking_720p as it is, as the
#       small JPEG stream and up-scaled x1.5.
# ~25 min on 2 cores.
# bash runs/results_s18c.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval
cmp runs/onnx/s12-cs4-sharp-foldqat-int8.onnx export/sharpcam-cs4-sharp-int8.onnx
cmp runs/onnx/sharpcam-cs4-lowres-jpeg-int8.onnx export/sharpcam-cs4-lowres-jpeg-int8.onnx
cmp runs/onnx/s14-cs4-gatedx3b-foldqat-int8.onnx export/sharpcam-cs4-x3-int8.onnx
sharpcam-kd pair --default runs/onnx/s12-cs4-sharp-foldqat-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg-int8.json \
    --blurred runs/onnx/s14-cs4-gatedx3b-foldqat-int8.json --blurred-upscaled --ramp --ramp-benchmark-loss 0.002 --name s18-pair-ramp2
cards="export/sharpcam-cs4-switch.json runs/onnx/s18-pair-ramp2.json"
python runs/mild_s18.py --out runs/eval/mild-s18c $cards
sharpcam-kd evaluate $cards --no-test --no-fps --out runs/eval/x2-s18c
sharpcam-kd evaluate --webcam $cards --out runs/eval/webcam-s18c
python runs/unseen_s11.py --out runs/eval/unseen-s18c $cards
python runs/sharp_s12.py --out runs/eval/sharp-s18c $cards
python runs/h264_s9.py --out runs/eval/h264-s18c $cards
python runs/steady_s11.py --out runs/eval/steady-s18c-pairs $cards
python runs/blurred_s15.py --out runs/eval/blurred-s18c $cards
python runs/defocused_s16.py --out runs/eval/defocused-s18c $cards
python runs/still_motion_s17.py --out runs/eval/still-motion-s18c $cards
python runs/defocus_s15.py --out runs/eval/defocus-s18c $cards
python runs/defocus_exact_s17.py --out runs/eval/defocus-exact-s18c $cards
python runs/upscaled_s16.py --out runs/eval/upscaled-s18c $cards
python runs/lineart_s14.py --out runs/eval/lineart-s18c runs/onnx/s18-pair-ramp2.json export/sharpcam-cs4-switch.json
# Result (sitting 18): not adopted; (6) fails. Its ramp: re-blur ratio 0.56..0.78 (runs/onnx/s18-pair-ramp2.json). (0)
# holds: the five mild columns -1.087 / -1.014 / -0.536 / -0.273 / -0.044 -> -0.718 / -0.638 / -0.295 / -0.070 / +0.093
# (runs/eval/mild-s18c.md). (1) holds: the largest fall is the shared sets' blur + noise + JPEG q60 margin, +0.8535 ->
# +0.8373 (-0.0162; talking_720p's frames again), x2 -0.0003, the unseen photos' x2 -0.0009, the rest unchanged; every
# margin >= 0.55. (2), (4), (5) hold with every figure unchanged. (3) holds (B100 -0.0004). (7) holds: every column
# above the unsharp mask, the mean of the ten -0.011 (gauss 1.5 + noise -0.08, disc 2 + noise -0.02); x8/3 + noise
# -0.01. (6) fails: the checkerboard x2 +7.87 -> +7.79 (-0.08, bound 0.05): its own period reads as a resampling, as
# with s18-pair-ramp; grass x2 -0.01. (8) was not run (not needed to decide). runs/eval/*-s18c*.md.
