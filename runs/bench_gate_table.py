"""The table of runs/bench_s14.sh, runs/bench_s14b.sh, runs/bench_s15.sh, runs/bench_s16.sh, runs/bench_s17.sh and runs/bench_s18.sh from their
`sharpcam bench --json` files (<model>_<clip>_r<round>.json): per model and clip, the range over the rounds of the
output rate, the whole process's CPU, the share of frames the card's gate passed through and (sitting 15) the share
its blur model took; with --mean (sitting 17, whose rule bounds the mean) the CPU's mean over the rounds too; (sitting
18) the share of the change a card's strength ramp kept at the end of each run.
python runs/bench_gate_table.py runs/bench/s14 [--mean]"""
import json
import sys
from collections import defaultdict
from pathlib import Path

runs = defaultdict(list)
args = [a for a in sys.argv[1:] if a != "--mean"]
with_mean = len(args) < len(sys.argv) - 1
if len(args) != 1 or not Path(args[0]).is_dir():
    sys.exit("usage: python runs/bench_gate_table.py BENCH_DIR [--mean]   (BENCH_DIR: a folder of sharpcam bench --json files)")
for f in sorted(Path(args[0]).glob("*_r*.json")):
    model, kind, _ = f.stem.rsplit("_", 2)
    runs[(model, kind)].append(json.loads(f.read_text()))


def span(values, fmt):
    lo, hi = fmt.format(min(values)), fmt.format(max(values))
    return lo if lo == hi else f"{lo}-{hi}"


def cpu_mean(rs) -> str:
    return f" (mean {sum(r['cpu_cores'] for r in rs) / len(rs):.3f})" if with_mean else ""


# a column for a card's blur model only where one ran (sitting 15), so the older tables come out as they were
blur_column = any(r.get("blur_frames") for rs in runs.values() for r in rs)
# and one for a card's strength ramp (sitting 18): the share of the change its frames kept at the end of each run
ramp_column = any(r.get("ramp_share") is not None for rs in runs.values() for r in rs)
print("| model | clip | output fps | CPU cores (whole process) | frames passed through by the gate |" + (" frames to the blur model (of all) |" if blur_column else "")
      + (" ramp share at the end |" if ramp_column else ""))
print("|---|---|---|---|---|" + ("---|" if blur_column else "") + ("---|" if ramp_column else ""))
for (model, kind), rs in runs.items():
    gate = [r["gate_frames"] for r in rs if r.get("gate_frames")]
    passed = span([g[1] / max(1, sum(g)) * 100 for g in gate], "{:.0f}") + " %" if gate else "-"
    line = f"| {model} | {kind} | {span([r['fps'] for r in rs], '{:.1f}')} | {span([r['cpu_cores'] for r in rs], '{:.2f}')}{cpu_mean(rs)} | {passed} |"
    if blur_column:
        # of every frame the pre stage saw (the gate's count), not only those the gate and the switch left to it
        blur = [(r["blur_frames"][1], sum(r["gate_frames"] or r["blur_frames"])) for r in rs if r.get("blur_frames")]
        line += " " + (span([b / max(1, n) * 100 for b, n in blur], "{:.0f}") + " %" if blur else "-") + " |"
    if ramp_column:
        shares = [r["ramp_share"] for r in rs if r.get("ramp_share") is not None]
        line += " " + (span(shares, "{:.2f}") if shares else "-") + " |"
    print(line)
