#!/usr/bin/env bash
# Sitting 7: what the x2-grid candidate costs end to end (`sharpcam bench`, the whole pipeline), interleaved
# with the shipped default and sharpcam-rt-int8 (the CPU bound of the model issue) in three rounds: 720p
# throughput and the 720p clip delivered at 30 fps. The design lever measured: one inference thread. The
# pipeline already overlaps capture, pre, infer and post in their own threads, and at 30 fps one thread has
# time for the x2 grid (~25 ms under OpenVINO); a second thread buys latency, not throughput, and costs the
# sync between the two (cores = CPU seconds per wall second, all threads of the process). The default also at
# 1080p unpaced, on one thread and two: whether one thread still keeps 30 fps there.
# Run with nothing else on the machine, with the OpenVINO runtime installed (pip install '.[openvino]').
# bash runs/bench_s7.sh runs/onnx/s7-x2grid-kd-int8.json
set -euo pipefail
cand=$(realpath "${1:?usage: bash runs/bench_s7.sh CANDIDATE_CARD.json}")
cd "$(dirname "$0")/.."
name=$(basename "$cand" .json)
out=runs/bench/s7
rm -rf "$out" && mkdir -p "$out"
for r in 1 2 3; do
    for spec in sharpcam-cs4-int8:export/sharpcam-cs4-int8.json:cpu:0 sharpcam-cs4-int8-1thread:export/sharpcam-cs4-int8.json:cpu:1 \
                "$name-openvino:$cand:openvino:0" "$name-openvino-1thread:$cand:openvino:1" \
                sharpcam-rt-int8:export/sharpcam-rt-int8.json:cpu:0; do
        IFS=: read -r n m p t <<< "$spec"
        sharpcam bench --model "$m" --provider "$p" --threads "$t" --size 1280x720 --duration 5 --warmup 1.5 --json \
            > "$out/${n}_720p_r$r.json"
        sharpcam bench --model "$m" --provider "$p" --threads "$t" --clip ../shared/video/talking_720p.mp4 --fps 30 \
            --duration 15 --json > "$out/${n}_720p30_r$r.json"
        if [[ $n == sharpcam-cs4-int8* ]]; then  # whether one thread keeps 30 fps at 1080p too
            sharpcam bench --model "$m" --provider "$p" --threads "$t" --size 1920x1080 --duration 5 --warmup 1.5 --json \
                > "$out/${n}_1080p_r$r.json"
        fi
    done
done
python runs/bench_table.py "$out" | tee "$out/table.md"
