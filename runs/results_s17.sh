#!/usr/bin/env bash
# Sitting 17 (no GPU lent; AMD EPYC, 2 cores): sitting 15's x3b blur model, looked at again. The unseen photos' x3 margin
# over the unsharp mask is +0.47 with the shipped card (goal >= 0.5). Sitting 15 put sitting 14's half trained for x3
# (runs/onnx/s14-cs4-gatedx3b-foldqat-int8) into the card as its model for strongly blurred frames (`pair --blurred`) and
# measured +0.55 there, every other part of its rule holding but one: flicker <= 1.25 on the still noisy scenes down-up
# x3 through H.264 CRF 23 (runs/blurred_s15.py), which read 1.61 / 1.81 with it and 1.51 / 1.72 for the shipped card.
#
# What this sitting found before writing this rule (a throwaway probe, both cards through the runtime as
# runs/blurred_s15.py runs them): on those three streams libx264 repeats the still picture, so the input's still pixels
# move by 0.004-0.008 grey levels a frame (means over pixels and frames), and the outputs by 0.0055 / 0.0070 / 0.0093
# (shipped card) and 0.0059 / 0.0073 / 0.0097 (with x3b). The ratio of such numbers is what read 1.5-1.8; in levels the
# x3b card adds 0.0004 of a level a frame there. kd/webcam.py still_motion now gives the levels beside the ratio, and
# runs/still_motion_s17.py tabulates them for every runtime stream. So this is sitting 15's rule again with its flicker
# bound read in levels where the ratio is of thousandths: a revision written after sitting 15's figures of this very
# card were read (they are in the README), said here so that nobody reads it as a blind test. Sitting 16's measurements
# (streams out of focus, up-scales its figures miss) and blur without down-scaling are added; of those, sitting 15 read
# runs/defocus_s15.py for this card (ten columns: mean -0.004 dB, disc 2 -0.14 dB, every column above the unsharp mask).
#
# The rule: the shipped card (export/sharpcam-cs4-switch.json) takes x3b as its blur model (the card s17-pair-x3b below:
# the shipped halves and cuts, the blur cut chosen by `pair` as sitting 15 did) if, against the shipped card:
#   (1) the webcam benchmark's four margins on the shared sets stay >= 0.5; on the unseen photos (runs/unseen_s11.py) the
#       x3 margin is >= 0.5 and no other margin falls by more than 0.02 dB;
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
#   (8) `sharpcam bench` at 720p30 (runs/bench_s17.sh, after this, nothing else running; five interleaved rounds, the
#       order rotating): CPU no more than the shipped card's + 5 % (mean over the rounds) on talking_720p down-up x3,
#       as it is, and as the small JPEG stream; or + 0.01 cores where that is more: on the clip as it is the gate passes
#       every frame before the blur switch is asked (vcam/processor.py), so both cards run the same code there, and
#       5 % of its ~0.06 cores is under the 0.01 its rounds spread by (sitting 15 read +0.007 there for this card).
# ~20 min on 2 cores.
# bash runs/results_s17.sh
# export/sharpcam-cs4-switch.json here is the card shipped when this ran (sitting 14's: the same halves and cuts as
# runs/onnx/s14-pair-gated2.json); a rerun after the shipped card changes compares against the new one.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval
# a card's models ship together, so the halves are their byte-identical copies in runs/onnx (as sitting 15's card)
cmp runs/onnx/s12-cs4-sharp-foldqat-int8.onnx export/sharpcam-cs4-sharp-int8.onnx
cmp runs/onnx/sharpcam-cs4-lowres-jpeg-int8.onnx export/sharpcam-cs4-lowres-jpeg-int8.onnx
sharpcam-kd pair --default runs/onnx/s12-cs4-sharp-foldqat-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg-int8.json \
    --blurred runs/onnx/s14-cs4-gatedx3b-foldqat-int8.json --name s17-pair-x3b
cards="export/sharpcam-cs4-switch.json runs/onnx/s17-pair-x3b.json"
sharpcam-kd evaluate $cards --no-test --no-fps --out runs/eval/x2-s17
sharpcam-kd evaluate --webcam $cards --out runs/eval/webcam-s17
python runs/unseen_s11.py --out runs/eval/unseen-s17 $cards
python runs/sharp_s12.py --out runs/eval/sharp-s17 $cards
python runs/h264_s9.py --out runs/eval/h264-s17 $cards
python runs/steady_s11.py --out runs/eval/steady-s17-pairs $cards
python runs/blurred_s15.py --out runs/eval/blurred-s17 $cards
python runs/defocused_s16.py --out runs/eval/defocused-s17 $cards
python runs/still_motion_s17.py --out runs/eval/still-motion-s17 $cards
python runs/defocus_s15.py --out runs/eval/defocus-s17 $cards
python runs/upscaled_s16.py --out runs/eval/upscaled-s17 $cards
python runs/lineart_s14.py --out runs/eval/lineart-s17 runs/onnx/s17-pair-x3b.json export/sharpcam-cs4-switch.json
# Result (sitting 17): not adopted. (1) holds: unseen x3 margin +0.47 -> +0.55, shared +0.52 -> +0.55, the other margins
# unchanged; (2), (3), (5) unchanged; (6) holds (brick x3 +2.09 against +1.62); (7) holds (defocus mean -0.004 dB, disc 2
# -0.14; x4 +0.53 against +0.43) but for one column: gauss 1 +1.81 against the unsharp mask's +1.82 (exact 1.8095 against
# 1.8204; found by a review after this footer first said it held), so (7) fails too. (4) fails on one stream: talking_512 x3 + H.264
# CRF 23 through the runtime, flicker 1.09 -> 1.12 (+0.03; its still pixels move 0.114 levels a frame, so the levels
# exception does not apply: 0.125 -> 0.128). Sitting 15 had read the same 1.09 -> 1.12, under its rule's bound for that
# stream (<= 1.25); this rule's "every stream" was written without looking at it again. Everything else in (4) holds:
# the frozen still scenes x3 move 0.005 / 0.007 / 0.009 -> 0.006 / 0.007 / 0.010 levels a frame, within 0.01 of the
# shipped card. (8) was not run (not needed to decide). runs/eval/*-s17*.md.
