#!/usr/bin/env bash
# Whole-pipeline benches of MODELs in two interleaved rounds, as `sharpcam bench --json` files in OUT
# (<model>_<720p|1080p|720p30|1080p30>_r<round>.json, plus the pipeline with no model), read by
# runs/bench_table.py: throughput at 720p / 1080p with the model at full size, and the shared clip
# delivered at 30 fps like a camera at 720p and scaled to 1080p (the frame-rate hold picks the work size).
#   bash runs/bench_models.sh OUT MODEL...
set -euo pipefail
out=$1; shift
rm -rf "$out" && mkdir -p "$out"
for r in 1 2; do
    for m in "$@"; do
        n=$(basename "$m" .json)
        sharpcam bench --model "$m" --size 1280x720 --duration 5 --warmup 1.5 --json > "$out/${n}_720p_r$r.json"
        sharpcam bench --model "$m" --size 1920x1080 --duration 5 --warmup 1.5 --json > "$out/${n}_1080p_r$r.json"
        sharpcam bench --model "$m" --clip ../shared/video/talking_720p.mp4 --fps 30 --duration 15 --json > "$out/${n}_720p30_r$r.json"
        sharpcam bench --model "$m" --clip ../shared/video/talking_720p.mp4 --size 1920x1080 --fps 30 --duration 15 --json \
            > "$out/${n}_1080p30_r$r.json"
    done
    sharpcam bench --model none --size 1280x720 --duration 5 --warmup 1 --json > "$out/none_720p_r$r.json"
    sharpcam bench --model none --size 1920x1080 --duration 5 --warmup 1 --json > "$out/none_1080p_r$r.json"
done
