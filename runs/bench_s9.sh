#!/usr/bin/env bash
# Sitting 9: what a model pair costs end to end (`sharpcam bench`, the whole pipeline), interleaved with the plain
# default and sharpcam-rt-int8 (the CPU bound of the model issue) in five rounds, the clips delivered at 30 fps
# like a camera. Two streams: talking_720p.mp4 as it is (the switch's statistic stays below the cut: the pair
# runs its default and pays only the statistic) and the same frames as a small encoded stream up-scaled by the
# receiver (each frame area-halved, JPEG q40, bicubic x2; written once as a lossless FFV1 clip), where the pair
# runs its alternate. Run with nothing else on the machine.
# bash runs/bench_s9.sh PAIR_CARD.json [OUT_DIR [OTHER_CARD.json]]
# (defaults: runs/bench/s9 and the plain default export/sharpcam-cs4-int8.json; sitting 10 compares its pair
# with sitting 9's: bash runs/bench_s9.sh export/sharpcam-cs4-switch.json runs/bench/s10 runs/onnx/s9-pair-clean20-fp32.json)
set -euo pipefail
pair=$(realpath "${1:?usage: bash runs/bench_s9.sh PAIR_CARD.json [OUT_DIR [OTHER_CARD.json]]}")
other=$(realpath "${3:-$(dirname "$0")/../export/sharpcam-cs4-int8.json}")
cd "$(dirname "$0")/.."
name=$(basename "$pair" .json)
out=${2:-runs/bench/s9}
rm -rf "$out" && mkdir -p "$out"
blocky=$(mktemp -d)/blocky_720p.mkv
python runs/blocky_720p.py "$blocky"
for r in 1 2 3 4 5; do
    for spec in "$(basename "$other" .json):$other" "$name:$pair" sharpcam-rt-int8:export/sharpcam-rt-int8.json; do
        IFS=: read -r n m <<< "$spec"
        sharpcam bench --model "$m" --clip ../shared/video/talking_720p.mp4 --fps 30 --duration 15 --json > "$out/${n}_720p30_r$r.json"
        sharpcam bench --model "$m" --clip "$blocky" --fps 30 --duration 15 --json > "$out/${n}_720p30-blocky_r$r.json"
    done
done
rm -rf "$(dirname "$blocky")"
python runs/bench_table.py "$out" | tee "$out/table.md"
