#!/usr/bin/env bash
# Sitting 14's call on a lent GPU: the x2 teacher continued alone (kd/recipes/$TEACHER.toml),
# packed into $OUT every minute (what comes back even if the call is cut off). Needs .gpudata
# (python runs/gpu_s5/pack_data.py pack .gpudata) carried beside the checkout's files, and
# runs/gpu_s6_teacher_x2b/best.pt (committed). Resumes a finished run unless its folder is moved aside.
# RECIPES=dir runs another copy of the recipe (a dry run on a CPU with shortened minutes).
set -u
OUT=${OUT:-/tmp/gpu_s14_out}
RECIPES=${RECIPES:-kd/recipes}
TEACHER=${TEACHER:-gpu_s14_teacher_x2c}  # the recipe (and run folder) to train
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; lscpu | grep "Model name";
  nproc; python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"; } > "$OUT/device.txt" 2>&1
cat "$OUT/device.txt"
ls "$(sed -n 's/^init = "\(.*\)"/\1/p' "$RECIPES/$TEACHER.toml")" || exit 3
ls ../shared/datasets/train > /dev/null 2>&1 || python3 runs/gpu_s5/pack_data.py unpack .gpudata || exit 1
pack() {
  tar czf "$OUT/$TEACHER.tgz.partial" --exclude='targets-*' runs/$TEACHER* 2>/dev/null \
    && mv "$OUT/$TEACHER.tgz.partial" "$OUT/$TEACHER.tgz"
}
python3 -m kd train-teacher --config "$RECIPES/$TEACHER.toml" > runs/$TEACHER.log 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
  sleep 30; pack
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /'
done
wait $pid; rc=$?
echo "rc $rc"
pack
tr '\r' '\n' < runs/$TEACHER.log | grep -E "steps/s|stopped|Error|error|epoch [0-9]+:|starting" | tail -14
exit $rc
