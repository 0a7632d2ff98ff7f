#!/usr/bin/env bash
# Sitting 6's second call on the lent H100 (232 s): the x2 teacher continued alone on the GPU from the
# first call's best (kd/recipes/gpu_s6_teacher_x2b.toml), which needs runs/gpu_s6_teacher_x2/best.pt
# (carried to the machine) and .gpudata as run.sh does; like run.sh, it resumes a finished run unless
# runs/gpu_s6_teacher_x2b is moved aside. Exits with the training's status.
set -u
OUT=${OUT:-/tmp/gpu_s6_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
ls runs/gpu_s6_teacher_x2/best.pt || exit 3
ls ../shared/datasets/train > /dev/null 2>&1 || python3 runs/gpu_s5/pack_data.py unpack .gpudata
python3 -m kd train-teacher --config kd/recipes/gpu_s6_teacher_x2b.toml > runs/gpu_s6_teacher_x2b.log 2>&1
rc=$?
echo "rc $rc"
tar czf "$OUT/teacher_x2b.tgz" --exclude='targets-*' runs/gpu_s6_teacher_x2b*
tr '\r' '\n' < runs/gpu_s6_teacher_x2b.log | grep -E "steps/s:|stopped|Error|error|epoch [0-9]+:|starting" | tail -8
exit $rc
