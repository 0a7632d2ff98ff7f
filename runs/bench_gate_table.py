"""The table of runs/bench_s14.sh and runs/bench_s14b.sh from their `sharpcam bench --json` files
(<model>_<clip>_r<round>.json): per model and clip, the range over the rounds of the output rate, the whole process's
CPU and the share of frames the card's gate passed through.
python runs/bench_gate_table.py runs/bench/s14"""
import json
import sys
from collections import defaultdict
from pathlib import Path

runs = defaultdict(list)
for f in sorted(Path(sys.argv[1]).glob("*_r*.json")):
    model, kind, _ = f.stem.rsplit("_", 2)
    runs[(model, kind)].append(json.loads(f.read_text()))


def span(values, fmt):
    lo, hi = fmt.format(min(values)), fmt.format(max(values))
    return lo if lo == hi else f"{lo}-{hi}"


print("| model | clip | output fps | CPU cores (whole process) | frames passed through by the gate |")
print("|---|---|---|---|---|")
for (model, kind), rs in runs.items():
    gate = [r["gate_frames"] for r in rs if r.get("gate_frames")]
    passed = span([g[1] / max(1, sum(g)) * 100 for g in gate], "{:.0f}") + " %" if gate else "-"
    print(f"| {model} | {kind} | {span([r['fps'] for r in rs], '{:.1f}')} | {span([r['cpu_cores'] for r in rs], '{:.2f}')} | {passed} |")
