#!/usr/bin/env bash
# Sitting 12: the default end to end (`sharpcam bench`, the whole pipeline, --steady at its default 0.8 with the still
# bar that now rises with the noise), interleaved with sharpcam-rt-int8 (the CPU bound of the model issue) in five
# rounds, the clips delivered at 30 fps like a camera: talking_720p.mp4 as it is, and the same frames as a small JPEG
# stream up-scaled (runs/blocky_720p.py). Run with nothing else on the machine.
# bash runs/bench_s12.sh [OUT_DIR]   (default runs/bench/s12)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/bench/s12}
rm -rf "$out" && mkdir -p "$out"
blocky=$(mktemp -d)/blocky_720p.mkv
python runs/blocky_720p.py "$blocky"
for r in 1 2 3 4 5; do
    for spec in "sharpcam-cs4-switch|export/sharpcam-cs4-switch.json|--steady 0.8" "sharpcam-rt-int8|export/sharpcam-rt-int8.json|"; do
        IFS='|' read -r n m extra <<< "$spec"
        # shellcheck disable=SC2086
        sharpcam bench --model "$m" $extra --clip ../shared/video/talking_720p.mp4 --fps 30 --duration 15 --json > "$out/${n}_720p30_r$r.json"
        # shellcheck disable=SC2086
        sharpcam bench --model "$m" $extra --clip "$blocky" --fps 30 --duration 15 --json > "$out/${n}_720p30-blocky_r$r.json"
    done
done
rm -rf "$(dirname "$blocky")"
python runs/bench_table.py "$out" | tee "$out/table.md"
