#!/usr/bin/env bash
# Every figure of sitting 4 in README "Models and results" and the speed sections, regenerated from the
# committed checkpoints (run from the checkout with ../shared beside it, nothing else running: ~30 min
# on 2 cores). What sitting 4 added: the all-integer default (runs/student_x4grid_webcam_qat_int,
# kd/recipes/quantize_cs4_int.toml), KD against ground truth at the same budget on one webcam pool
# (runs/student_x4grid_pool_{kd,gt}_lr25, teacher runs/teacher_webcam_s4), and MJPG straight to YUV.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval runs/bench

# The default: integer-ends QAT -> fp32 Y export -> all-integer int8 (export/); sitting 3's int8 beside it
sharpcam-kd export runs/student_x4grid_webcam_qat_int/best.pt --name cs4-qat-int --planes Y --out runs/onnx
sharpcam-kd quantize --config kd/recipes/quantize_cs4_int.toml
sharpcam-kd quantize --config kd/recipes/quantize_cs4.toml --name cs4-int8-s3 --out runs/onnx
# KD vs GT (same pool, same steps, same start), and the teacher they were measured against
# (lr 2.5e-4, 30,000 steps each; the first try's GT arm at 5e-4, 40,000 steps, beside them: its KD arm lost ReLUs)
sharpcam-kd export runs/student_x4grid_pool_kd_lr25/best.pt --name cs4-pool-kd --planes Y --out runs/onnx
sharpcam-kd export runs/student_x4grid_pool_gt_lr25/best.pt --name cs4-pool-gt --planes Y --out runs/onnx
sharpcam-kd export runs/student_x4grid_pool_gt/best.pt --name cs4-pool-gt-5e4 --planes Y --out runs/onnx
sharpcam-kd export runs/teacher_webcam_s4/best.pt --name teacher-webcam --out runs/onnx

# Published protocol (Set5 / Set14 / B100, x2)
sharpcam-kd evaluate export/sharpcam-cs4.json export/sharpcam-cs4-int8.json runs/onnx/cs4-int8-s3.json \
    runs/onnx/cs4-pool-kd.json runs/onnx/cs4-pool-gt.json runs/onnx/cs4-pool-gt-5e4.json runs/onnx/teacher-webcam.json \
    export/sharpcam-teacher.json export/sharpcam-rt-int8.json --no-fps --out runs/eval/x2-s4
sharpcam-kd card export/sharpcam-cs4-int8.json --metrics runs/eval/x2-s4.json
# Webcam benchmark: the four degradations on the eval sets and the shared clips' frames, flicker, ringing
sharpcam-kd evaluate --webcam export/sharpcam-rt-int8.json export/sharpcam-cs4.json export/sharpcam-cs4-int8.json \
    runs/onnx/cs4-int8-s3.json runs/onnx/cs4-pool-kd.json runs/onnx/cs4-pool-gt.json runs/onnx/cs4-pool-gt-5e4.json \
    --out runs/eval/webcam-s4
# The teachers beside the students where a 17 x 64 DnCNN takes minutes, not an hour: Set5 + Set14 only
sharpcam-kd evaluate --webcam runs/onnx/teacher-webcam.json export/sharpcam-teacher.json export/sharpcam-cs4.json \
    runs/onnx/cs4-pool-kd.json runs/onnx/cs4-pool-gt.json --set ../shared/datasets/eval/Set5 \
    --set ../shared/datasets/eval/Set14 --no-clips --out runs/eval/webcam-teachers-s4
# Before / after on a real face
sharpcam-kd grid export/sharpcam-rt-int8.json export/sharpcam-cs4-int8.json runs/onnx/cs4-pool-kd.json \
    runs/onnx/teacher-webcam.json --degradation x2 --degradation x2+jpeg40 --degradation blur1.2+noise4+jpeg60 \
    --out runs/eval/faces-s4.png
sharpcam-kd curves runs/student_x4grid_pool_kd_lr25 runs/student_x4grid_pool_gt_lr25 runs/student_x4grid_pool_kd \
    runs/student_x4grid_pool_gt --out runs/eval/curves-s4.png

# Whole pipeline in interleaved rounds: the default before the last, sitting 3's int8, the new default
bash runs/bench_models.sh runs/bench/s4 sharpcam-rt-int8 runs/onnx/cs4-int8-s3.json sharpcam-cs4-int8
# An MJPG webcam (4:2:2 JPEG frames decoded per frame): straight to YUV against OpenCV's BGR decode
for r in 1 2; do
    for how in mjpeg-yuv no-mjpeg-yuv; do
        sharpcam bench --mjpeg --$how --size 1280x720 --duration 5 --warmup 1.5 --json > runs/bench/s4/$how-default_720p_r$r.json
        sharpcam bench --mjpeg --$how --size 1920x1080 --duration 5 --warmup 1.5 --json > runs/bench/s4/$how-default_1080p_r$r.json
        sharpcam bench --mjpeg --$how --clip ../shared/video/talking_720p.mp4 --fps 30 --duration 15 --json \
            > runs/bench/s4/$how-default_720p30_r$r.json
        sharpcam bench --mjpeg --$how --clip ../shared/video/talking_720p.mp4 --size 1920x1080 --fps 30 --duration 15 \
            --json > runs/bench/s4/$how-default_1080p30_r$r.json
    done
done
python runs/bench_table.py runs/bench/s4 > runs/bench/s4/table.md
python runs/mjpg_decode.py > runs/mjpg_decode.txt
python runs/design_speed_int.py > runs/design_speed_int.txt
