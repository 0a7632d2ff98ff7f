#!/usr/bin/env bash
# Sitting 19's calls on a lent GPU: kd/recipes/gpu_s19_twin_b256_{a,b}.toml at once (two processes sharing the GPU:
# a 3 K MACs/px student is launch-bound even at 256 x 128 px), or the recipes named in RUNS, each run packed into $OUT
# every 30 s (what comes back even if the call is cut off). Needs .gpudata (python runs/gpu_s5/pack_data.py pack
# .gpudata) carried beside the checkout's files and each recipe's init checkpoint (committed). Resumes finished runs
# unless their folders are moved aside.
# RECIPES=dir runs other copies of the recipes (a dry run on a CPU with shortened minutes).
set -u
OUT=${OUT:-/tmp/gpu_s19_out}
RECIPES=${RECIPES:-kd/recipes}
RUNS=${RUNS:-gpu_s19_twin_b256_a gpu_s19_twin_b256_b}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; lscpu | grep "Model name";
  nproc; python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"; } > "$OUT/device.txt" 2>&1
cat "$OUT/device.txt"
for r in $RUNS; do  # a missing start would cost the call's device time before failing
  init=$(sed -n 's/^init = "\(.*\)"/\1/p' "$RECIPES/$r.toml")
  [ -z "$init" ] || ls "$init" || exit 3
done
ls ../shared/datasets/train > /dev/null 2>&1 || python3 runs/gpu_s5/pack_data.py unpack .gpudata || exit 1
pack() {
  for r in $RUNS; do tar czf "$OUT/$r.tgz.partial" runs/$r runs/$r.log 2>/dev/null && mv "$OUT/$r.tgz.partial" "$OUT/$r.tgz"; done
}
for r in $RUNS; do
  python3 -m kd train-gt --config "$RECIPES/$r.toml" > runs/$r.log 2>&1 &
done
t0=$SECONDS
while [ -n "$(jobs -r)" ]; do
  sleep 30; pack
  echo "$((SECONDS - t0)) s: $(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null)"
done
wait
pack
for r in $RUNS; do
  echo "== $r"; tr '\r' '\n' < runs/$r.log | grep -E "steps/s|stopped|Error|error|epoch [0-9]+:|starting" | tail -12
  cp runs/$r.log "$OUT/"
done
