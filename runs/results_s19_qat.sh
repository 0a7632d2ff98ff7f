#!/usr/bin/env bash
# Sitting 19: the x2 twin of record's quantization-aware fine-tune (kd/recipes/twin_s19_qat.toml; the rule is in that
# recipe, written before the run), exported (its identities folded, as the QAT trained) and quantized all-integer with
# the twin's recipe, beside the twin's fp32 and post-training int8, on the published x2 protocol. ~3 min, 2 cores.
# bash runs/results_s19_qat.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs/onnx runs/eval
sharpcam-kd export runs/twin_s19_qat/best.pt --name s19-twin-qat --planes Y --fold-identity --out runs/onnx
sharpcam-kd quantize --config kd/recipes/quantize_x2grid_int.toml runs/onnx/s19-twin-qat.json --name s19-twin-qat-int8
sharpcam-kd evaluate runs/onnx/s19-twin-qat-int8.json runs/onnx/s19-twin-qat.json runs/onnx/s19-twin-b256-b.json \
    runs/onnx/s19-twin-b256-b-int8.json --no-test --no-fps --out runs/eval/x2-s19-qat
