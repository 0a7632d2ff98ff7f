#!/usr/bin/env bash
# Sitting 17, third part: the x3 blur models kept off lens blur. runs/results_s17.sh and results_s17b.sh found x3b and
# mix75 (its blend with the plain half, weight 0.75) failing part (7) on the mildest lens blur (Gaussian sigma 1, where 5
# of 26 pictures read as strongly blurred and went to them), and x3b also (4) on talking_512 x3 + H.264. The card's blur
# model can now take only frames whose resampling figures read an up-scale (`sharpcam-kd pair --blurred-upscaled`:
# vcam/detect.py BlurSwitch(upscaled_only=...), the same two cuts as sitting 16's lens model, chosen on the training
# split), so lens blur and, by sitting 16's finding, most frames through H.264 stay with the plain half.
# What was known before this rule: the offline look of runs/upscaled_only_s17.py (README "Sitting 17"): per picture,
# the unseen photos' x3 gain stays at the blur model's own (+0.8318 x3b, +0.7937 mix75: margins +0.550 / +0.512) and
# Gaussian sigma 1 goes back to the shipped card's 1.8488; disc 2 -0.024 and Gaussian 1.5 -0.013 dB against the shipped
# card with x3b. Nothing else of these two cards (the runtime streams, the bench) was measured before this rule.
#
# The rule, written before those figures: runs/results_s17.sh's eight parts, unchanged, against the shipped card, with
# part (7) read on the unrounded table (runs/defocus_exact_s17.py; deterministic pictures, so the exact figures decide,
# as they did for mix75), the H.264 streams of (4) on their printed figures as before (their encodes differ from run
# to run by about as much as the last printed digit). If both hold all eight, the one with the higher unseen x3 margin
# becomes the shipped card's blur model (equal to three decimals: the higher mean of (7)'s ten columns). The bench (8)
# is run (runs/bench_s17.sh with its card named there) for a card that holds (1)-(7).
# export/sharpcam-cs4-switch.json here is the card shipped when this ran (sitting 14's: the same halves and cuts as
# runs/onnx/s14-pair-gated2.json).
# ~25 min on 2 cores.
# bash runs/results_s17c.sh
set -euo pipefail
cd "$(dirname "$0")/.."
halves="--default runs/onnx/s12-cs4-sharp-foldqat-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg-int8.json"
sharpcam-kd pair $halves --blurred runs/onnx/s14-cs4-gatedx3b-foldqat-int8.json --blurred-upscaled --name s17-pair-x3b-up
sharpcam-kd pair $halves --blurred runs/onnx/s17-cs4-mix75-foldqat-int8.json --blurred-upscaled --name s17-pair-mix75-up
cards="export/sharpcam-cs4-switch.json runs/onnx/s17-pair-x3b-up.json runs/onnx/s17-pair-mix75-up.json"
sharpcam-kd evaluate $cards --no-test --no-fps --out runs/eval/x2-s17c
sharpcam-kd evaluate --webcam $cards --out runs/eval/webcam-s17c
python runs/unseen_s11.py --out runs/eval/unseen-s17c $cards
python runs/sharp_s12.py --out runs/eval/sharp-s17c $cards
python runs/h264_s9.py --out runs/eval/h264-s17c $cards
python runs/steady_s11.py --out runs/eval/steady-s17c-pairs $cards
python runs/blurred_s15.py --out runs/eval/blurred-s17c $cards
python runs/defocused_s16.py --out runs/eval/defocused-s17c $cards
python runs/still_motion_s17.py --out runs/eval/still-motion-s17c $cards
python runs/defocus_exact_s17.py --out runs/eval/defocus-exact-s17c $cards
python runs/upscaled_s16.py --out runs/eval/upscaled-s17c $cards
python runs/lineart_s14.py --out runs/eval/lineart-s17d runs/onnx/s17-pair-x3b-up.json export/sharpcam-cs4-switch.json
python runs/lineart_s14.py --out runs/eval/lineart-s17e runs/onnx/s17-pair-mix75-up.json export/sharpcam-cs4-switch.json
# Result (sitting 17): x3b-up holds all eight parts and becomes the shipped card's blur model (runs/results_s17d.sh ships
# it); mix75-up holds (1)-(7) too (the still astronaut x3 + H.264 at the bound, -0.02) with the lower unseen x3 margin, so
# its bench, which could not change the choice, was not run.
# Against the shipped card, x3b-up:
#   (1) unseen x3 margin +0.468 -> +0.550, shared +0.523 -> +0.552; the other margins unchanged (the benchmark's lens case
#       now stays with the plain half: 0.8535 as the shipped card);
#   (2), (3), (5) unchanged;
#   (4) every stream's gain as high or higher and its flicker within 0.01, but the frozen still scenes x3 + H.264, whose
#       ratio rises 0.05-0.10 and which hold by the levels exception (below): talking_720p x3 +0.75 / 1.04 against +0.73 / 1.03,
#       talking_512 x3 +0.91 / 1.04 against +0.83 / 1.03; both clips x3 + H.264 read as lens blur on every frame and stay
#       with the plain half (identical figures); the frozen still scenes x3 + H.264 (input 0.004-0.008 levels a frame)
#       0.006 / 0.007 / 0.010 against 0.005 / 0.007 / 0.009 levels a frame, gains +1.00 / +0.57 / +0.75 against
#       +0.99 / +0.54 / +0.70; the streams out of focus never reach it (identical figures);
#   (6) brick x3 +2.09 against +1.62, gravel +0.94 against +0.91, nothing under;
#   (7) unrounded (runs/eval/defocus-exact-s17c.md): every column above the unsharp mask (Gaussian 1 1.8488, as the shipped
#       card: none of its pictures reads as up-scaled), the mean of the ten +0.005 dB (disc 2 -0.024, Gaussian 1.5 -0.013,
#       disc 3 +0.055, Gaussian 2 +0.019); up-scales the figures miss within -0.00 (x4 +0.51 against +0.43);
#   (8) runs/bench/s17c/table.md (AMD EPYC, five rounds): talking_720p down-up x3 0.773 against 0.777 cores (mean), as it
#       is 0.062 against 0.062, the small JPEG stream 0.763 against 0.783.
