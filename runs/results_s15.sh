#!/usr/bin/env bash
# Sitting 15 (no GPU lent; AMD EPYC, 2 cores): a third model in the shipped card, for strongly blurred frames. The
# unseen photos' x3 margin over the unsharp mask is +0.47 with the shipped pair (goal >= 0.5); the two plain halves
# trained for x3 in sitting 14 reach +0.54 / +0.55 but lose ~0.1 dB of Set5 x2 in int8, so neither replaced the shipped
# half. Here the shipped halves stay, and the x3b half (runs/onnx/s14-cs4-gatedx3b-foldqat-int8, the better of the two
# on sitting 14's x3 margins) runs only where the gate's own textured figure says the frame is strongly blurred (vcam/
# detect.py BlurSwitch; `sharpcam-kd pair --blurred`, the cut chosen on the training split between the benchmark's x3 and
# its other three cases). One measurement serves the gate and this switch, so it costs no more per frame. A first
# look on the unseen photos and the shared sets (a throwaway script, before this rule; the cut then from a third of the
# training split) read +0.47 -> +0.51 there and +0.52 -> +0.55 on the shared sets, everything else the same or 0.001 dB
# lower; this script measures the card for real.
#
# The rule, written before these measurements: the shipped card (sharpcam-cs4-switch) takes the blur model if, against
# the same card without it (runs/onnx/s14-pair-gated2.json: the same halves, switch and gate cuts):
#   (1) the webcam benchmark's four margins on the shared sets stay >= 0.5; on the unseen photos (runs/unseen_s11.py)
#       the x3 margin is >= 0.5 and no other margin falls by more than 0.02 dB;
#   (2) on sharp pictures (runs/sharp_s12.py) the mean loss over the four cases is no more than 0.02 dB larger;
#   (3) the published x2 protocol: Set5 / Set14 / B100 no more than 0.02 dB under;
#   (4) through the runtime (runs/steady_s11.py) no stream's flicker more than 0.02 above, and on the strongly blurred
#       streams the blur model is for (runs/blurred_s15.py: the shared clips and the still scenes down-up x3, with and
#       without H.264) flicker <= 1.25 and no stream's gain lower;
#   (5) full-size H.264 at CRF 30 (runs/h264_s9.py) no more than 0.05 dB worse on either clip;
#   (6) line art (runs/lineart_s14.py): no picture and case more than 0.05 dB under;
#   (7) `sharpcam bench` at 720p30 (runs/bench_s15.sh, interleaved, the order rotating): on talking_720p down-up x3,
#       the blurred stream this model is for, CPU no more than the card without it + 5 % (mean over the rounds), and
#       on the clip as it is and the small JPEG stream no more than + 5 % either.
# Result (sitting 15): (1) holds (unseen x3 margin +0.47 -> +0.55, shared +0.52 -> +0.55, the others within 0.01 dB);
# (2), (3), (5) unchanged; (4) fails: on the blurred streams the still noisy scenes x3 + H.264 flicker 1.61 / 1.81 (the card
# without it 1.51 / 1.72, also over 1.25), the rest within 0.02 with higher gains; (6) holds (brick x3 +2.09 against +1.62).
# Not adopted. (7), run afterwards (runs/bench/s15/table.md): the blurred stream 0.72-0.80 cores against 0.69-0.78 (mean
# +5 %, at the bound), the clip as it is 0.06-0.07 against 0.05-0.06. runs/eval/*-s15*.md; blur without down-scaling
# afterwards: disc 2 -0.14 dB.
# bash runs/results_s15.sh   (~30 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval
# 1. The card with the blur model (the shipped halves, the same switch and gate cuts, chosen again on the same split)
sharpcam-kd pair --default runs/onnx/s12-cs4-sharp-foldqat-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg-int8.json \
    --blurred runs/onnx/s14-cs4-gatedx3b-foldqat-int8.json --name s15-pair-blur
pairs="runs/onnx/s14-pair-gated2.json runs/onnx/s15-pair-blur.json"
# 2. The published x2 protocol
sharpcam-kd evaluate $pairs --no-test --no-fps --out runs/eval/x2-s15
# 3. The webcam benchmark (shared eval sets and clips), the unseen photos, sharp pictures, real H.264 on the shared clips
sharpcam-kd evaluate --webcam $pairs --out runs/eval/webcam-s15
python runs/unseen_s11.py --out runs/eval/unseen-s15 $pairs
python runs/sharp_s12.py --out runs/eval/sharp-s15 $pairs
python runs/h264_s9.py --out runs/eval/h264-s15 $pairs
# 4. Through the runtime (steadied, with the gate's and the switches' hysteresis, as a user gets them)
python runs/steady_s11.py --out runs/eval/steady-s15-pairs $pairs
python runs/blurred_s15.py --out runs/eval/blurred-s15 $pairs
# 5. Line art up-scaled
python runs/lineart_s14.py --out runs/eval/lineart-s15 runs/onnx/s15-pair-blur.json runs/onnx/s14-pair-gated2.json
# 6. Added after the figures above were read (reported, not part of this rule; part of the next one): blur without
#    down-scaling, where the blur model also takes frames
python runs/defocus_s15.py --out runs/eval/defocus-s15 $pairs
