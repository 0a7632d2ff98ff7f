#!/usr/bin/env bash
# Sitting 19's one call on a lent GPU: kd/recipes/gpu_s19_twin_b256_{a,b}.toml at once (two processes sharing the GPU:
# a 3 K MACs/px student is launch-bound even at 256 x 128 px), packed into $OUT every 30 s (what comes back even if the
# call is cut off). Needs .gpudata (python runs/gpu_s5/pack_data.py pack .gpudata) carried beside the checkout's files
# and runs/gpu_s6_twin_x2grid_scales/best.pt (committed). Resumes finished runs unless their folders are moved aside.
# RECIPES=dir runs other copies of the recipes (a dry run on a CPU with shortened minutes).
set -u
OUT=${OUT:-/tmp/gpu_s19_out}
RECIPES=${RECIPES:-kd/recipes}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; lscpu | grep "Model name";
  nproc; python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"; } > "$OUT/device.txt" 2>&1
cat "$OUT/device.txt"
ls runs/gpu_s6_twin_x2grid_scales/best.pt || exit 3
ls ../shared/datasets/train > /dev/null 2>&1 || python3 runs/gpu_s5/pack_data.py unpack .gpudata || exit 1
pack() {
  tar czf "$OUT/twins.tgz.partial" runs/gpu_s19_twin_b256_* 2>/dev/null && mv "$OUT/twins.tgz.partial" "$OUT/twins.tgz"
}
for v in a b; do
  python3 -m kd train-gt --config "$RECIPES/gpu_s19_twin_b256_$v.toml" > runs/gpu_s19_twin_b256_$v.log 2>&1 &
done
t0=$SECONDS
while [ -n "$(jobs -r)" ]; do
  sleep 30; pack
  echo "$((SECONDS - t0)) s: $(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null)"
done
wait
pack
for v in a b; do
  echo "== $v"; tr '\r' '\n' < runs/gpu_s19_twin_b256_$v.log | grep -E "steps/s|stopped|Error|error|epoch [0-9]+:|starting" | tail -12
  cp runs/gpu_s19_twin_b256_$v.log "$OUT/"
done
