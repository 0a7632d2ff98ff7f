#!/usr/bin/env bash
# Sitting 16: a card's blur model for lens blur only. Sitting 15 found that the gate's textured figure puts frames
# up-scaled ~x3 and frames blurred by a lens together, and that they want different models (README "Sitting 15").
# vcam/detect.py Resampling now tells them apart: an up-scale leaves a periodic pattern in the second differences (and a
# x2 bicubic one in the first differences' phase), a lens does not; `sharpcam-kd pair --blurred-lens` cuts both figures
# on the training split (kd/degrade.py RESAMPLED_CASES against LENS_CASES), and the card's blur model then takes only
# frames below the textured cut that read as lens blur. Three cards, each the shipped halves and cuts plus such a model:
#   A  s16-pair-blurb-lens:   sitting 15's blur-trained model (s15-cs4-blur-foldqat-int8: half x2.4..3.5, half lens blur)
#   B  s16-pair-defocus-lens: a model trained on lens blur only (kd/recipes/student_x4grid_defocus_s16_qat.toml)
#   C  s16-pair-defocus-lens2: B's model with its own textured cut (`--blurred-target lens`: between the lens cases and
#      the x2 up-scales that read as lens blur, so noisy lens blur, which reads above the x3 cut, reaches it too; added
#      before any figure of A, B or C, with the same rule)
# The rule, written before any figure of these cards: against the card without a blur model
# (runs/onnx/s14-pair-gated2.json, run again beside them), a card is adoptable if
#   (1) the shared sets' four margins stay >= 0.5 and no margin (shared sets or unseen photos) falls by more than 0.02 dB;
#   (2) sharp pictures' mean loss no more than 0.02 dB larger; (3) x2 protocol no more than 0.02 dB under on each set;
#   (4) runtime streams (runs/steady_s11.py, runs/blurred_s15.py): flicker no more than 0.02 above and gain no more than
#       0.02 dB under on every stream; on the streams out of focus (runs/defocused_s16.py, written with C, before any
#       figure) gain not lower and flicker no more than 1.25 or, where the card without is above that, no more than
#       0.02 above it;
#   (5) full-size H.264 CRF 30 (runs/h264_s9.py) no more than 0.05 dB worse; (6) line art (runs/lineart_s14.py) no
#       picture and case more than 0.05 dB under;
#   (7) blur without down-scaling (runs/defocus_s15.py): the mean of its ten columns at least 0.10 dB higher, and no
#       column more than 0.02 dB under;
#   (8) `sharpcam bench` 720p30 (runs/bench_s16.sh, after this): CPU no more than +5 % on any of its clips;
#   (9) up-scales the resampling figures cannot see (runs/upscaled_s16.py: x8/3, x3.2, x4, found by a review before any
#       figure and added then): no column more than 0.02 dB under.
# If more than one is, the one with the highest mean in (7) becomes the shipped card's blur model. ~50 min on 2 cores.
# A first run was stopped, its partial files deleted unread, when a review found that one strong line or a letterbox's
# edges hid an up-scale's pattern from the figures (they now clip outlier columns) and that some up-scale factors are
# invisible to them (part 9, and RESAMPLED_CASES["blind"] recorded in the cards).
# bash runs/results_s16.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sharpcam-kd export runs/student_x4grid_defocus_s16_qat/last.pt --name s16-cs4-defocus-foldqat --planes Y --out runs/onnx
sharpcam-kd quantize --config kd/recipes/quantize_s10_fold.toml runs/onnx/s16-cs4-defocus-foldqat.json --name s16-cs4-defocus-foldqat-int8
halves="--default runs/onnx/s12-cs4-sharp-foldqat-int8.json --alternate runs/onnx/sharpcam-cs4-lowres-jpeg-int8.json"
sharpcam-kd pair $halves --blurred runs/onnx/s15-cs4-blur-foldqat-int8.json --blurred-lens --name s16-pair-blurb-lens
sharpcam-kd pair $halves --blurred runs/onnx/s16-cs4-defocus-foldqat-int8.json --blurred-lens --name s16-pair-defocus-lens
sharpcam-kd pair $halves --blurred runs/onnx/s16-cs4-defocus-foldqat-int8.json --blurred-lens --blurred-target lens \
    --name s16-pair-defocus-lens2
pairs="runs/onnx/s14-pair-gated2.json runs/onnx/s16-pair-blurb-lens.json runs/onnx/s16-pair-defocus-lens.json runs/onnx/s16-pair-defocus-lens2.json"
sharpcam-kd evaluate $pairs --no-test --no-fps --out runs/eval/x2-s16
sharpcam-kd evaluate --webcam $pairs --out runs/eval/webcam-s16
python runs/unseen_s11.py --out runs/eval/unseen-s16 $pairs
python runs/sharp_s12.py --out runs/eval/sharp-s16 $pairs
python runs/h264_s9.py --out runs/eval/h264-s16 $pairs
python runs/steady_s11.py --out runs/eval/steady-s16-pairs $pairs
python runs/blurred_s15.py --out runs/eval/blurred-s16 $pairs
python runs/defocus_s15.py --out runs/eval/defocus-s16 $pairs
python runs/defocused_s16.py --out runs/eval/defocused-s16 $pairs
python runs/upscaled_s16.py --out runs/eval/upscaled-s16 $pairs
python runs/lineart_s14.py --out runs/eval/lineart-s16 runs/onnx/s16-pair-blurb-lens.json runs/onnx/s14-pair-gated2.json
python runs/lineart_s14.py --out runs/eval/lineart-s16b runs/onnx/s16-pair-defocus-lens.json runs/onnx/s14-pair-gated2.json
python runs/lineart_s14.py --out runs/eval/lineart-s16c runs/onnx/s16-pair-defocus-lens2.json runs/onnx/s14-pair-gated2.json
sharpcam-kd curves runs/student_x4grid_webcam_s12_sharp runs/student_x4grid_defocus_s16_qat \
    --title "the lens-blur model: the shipped half's float, its QAT on lens-blurred frames only" --out runs/eval/curves-s16.png
# Result (sitting 16): none of the three cards is adopted. A (sitting 15's blur model) and B (the lens-trained model)
# hold (1), (2), (3), (5) and (6), but fail (4): talking_720p x2 + H.264 CRF 30 through the runtime -0.36 / 1.11 (A)
# and -1.47 / 1.23 (B) against +0.08 / 1.03, and talking_720p x3 + H.264 CRF 23 -0.08 / 1.13 and -1.66 / 1.26
# against +0.37 / 1.04 (the figures read those frames as lens blur: all 60 of the x3 stream's went to the model); and
# (7): disc 2 -0.32 / -0.47, Gaussian 1 -0.14 / -0.26; and (9): x8/3 -0.03 (A), x4 + noise -0.26 (B). C's own textured
# cut takes x2 frames: Set5 x2 33.83 against 36.35 (fails 1, 3, 4, 6, 7, 9). Where they take the frames they are for,
# the gains are real: noisy still scenes out of focus through MJPG q85 (disc 3) +0.85 to +1.34 dB with B, flicker
# <= 1.03 (runs/eval/defocused-s16.md). The bench (8) was not needed; the figure's cost per check is in
# runs/eval/resampling-cost-s16.md.
