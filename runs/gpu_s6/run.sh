#!/usr/bin/env bash
# Sitting 6's one run on a lent GPU (one H100/H200 + 16 cores, ~8 minutes of device time in all):
# every kd/recipes/gpu_s6_*.toml at once, five processes sharing the GPU (the teacher, and four
# launch-bound students that overlap it). Writes runs/gpu_s6_*/ and, every minute, packs them into
# $OUT (what comes back even if the call is cut off). The committed run folders hold finished runs, which
# a rerun would only resume: move them aside (or change the recipes' out) to train them again.
# Needs .gpudata (python runs/gpu_s5/pack_data.py pack .gpudata) beside the checkout's files.
# RECIPES=dir runs other copies of the recipes (a dry run on a CPU with shortened minutes).
set -u
OUT=${OUT:-/tmp/gpu_s6_out}
RECIPES=${RECIPES:-kd/recipes}
mkdir -p "$OUT"
rm -f runs/gpu_s6_*.rc  # a stale exit code (a dry run's) would trip the fail-fast check below
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; lscpu | grep "Model name";
  nproc; python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"; } > "$OUT/device.txt" 2>&1
cat "$OUT/device.txt"
python3 runs/gpu_s5/pack_data.py unpack .gpudata || exit 1

train() {
  python3 -m kd "$1" --config "$RECIPES/$2.toml" > "runs/$2.log" 2>&1
  local rc=$?; echo "$2: exit $rc"; echo $rc > "runs/$2.rc"; return $rc
}
pack() {  # students and each teacher in their own archive (each under the 16 MiB a file may bring back)
  for group in "students:runs/gpu_s6_twin* runs/gpu_s6_default*" "teacher_x2:runs/gpu_s6_teacher_x2*"; do
    name=${group%%:*}
    tar czf "$OUT/$name.tgz.partial" --exclude='targets-*' ${group#*:} 2>/dev/null && mv "$OUT/$name.tgz.partial" "$OUT/$name.tgz"
  done
}

train train-teacher gpu_s6_teacher_x2 &
train train-gt gpu_s6_twin_x4grid_scales &
train train-gt gpu_s6_twin_x4grid_plain &
train train-gt gpu_s6_twin_x2grid_scales &
train train-gt gpu_s6_default_x4grid_scales &
t0=$SECONDS
while [ -n "$(jobs -r)" ]; do
  sleep 15
  if [ $((SECONDS - t0)) -lt 150 ] && grep -qsv '^0$' runs/gpu_s6_*.rc; then  # fail fast: keep device time for a fixed retry
    echo "a run failed at its start: stopping all"; kill $(jobs -p) 2>/dev/null; pkill -f "python3 -m kd"; sleep 3
    for f in runs/gpu_s6_*.log; do echo "== $f"; tr '\r' '\n' < "$f" | tail -6; done; pack; exit 1
  fi
  [ $(( (SECONDS - t0) % 60 )) -lt 15 ] && pack
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /'
done
wait
pack
for f in runs/gpu_s6_*.log; do echo "== $f"; tr '\r' '\n' < "$f" | grep -E "steps/s|stopped|Error|error|epoch [0-9]+:" | tail -4; done
