"""The README's whole-pipeline speed table from `sharpcam bench --json` files (runs/results_cs.sh writes
them as <model>_<720p|1080p|720p30>_r<round>.json): the range over interleaved rounds.
python runs/bench_table.py [runs/bench/cs]"""
import json
import sys
from collections import defaultdict
from pathlib import Path

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/bench/cs")
runs: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
for f in sorted(folder.glob("*_r*.json")):
    model, kind, _ = f.stem.rsplit("_", 2)
    runs[model][kind].append(json.loads(f.read_text()))


def span(values, fmt="{:.1f}") -> str:
    lo, hi = min(values), max(values)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


print("| model | 720p fps | 1080p fps | 720p30: output fps, cores, model work size | 1080p30: the same | pre + post + publish ms, 720p / 1080p |")
print("|---|---|---|---|---|---|")
for model, kinds in runs.items():
    cells = [span([r["fps"] for r in kinds[k]]) if kinds.get(k) else "–" for k in ("720p", "1080p")]
    for kind in ("720p30", "1080p30"):
        paced = kinds.get(kind)
        cells.append(f"{span([r['fps'] for r in paced])}, {span([r['cpu_cores'] for r in paced], '{:.2f}')} cores, "
                     f"{span([100 * r['model_scale'] for r in paced], '{:.0f}')} %" if paced else "–")
    cells.append(" / ".join(span([r["overhead_ms"] for r in kinds[k]]) if kinds.get(k) else "–" for k in ("720p", "1080p")))
    print(f"| {model} | " + " | ".join(cells) + " |")
extra = sorted({k for kinds in runs.values() for k in kinds} - {"720p", "1080p", "720p30", "1080p30"})
for kind in extra:  # other streams (e.g. sitting 9's 720p30-blocky): output fps, cores, alternate's share of frames
    print(f"\n| model | {kind}: output fps, cores, model work size, frames to a pair's alternate |\n|---|---|")
    for model, kinds in runs.items():
        if kinds.get(kind):
            rs = kinds[kind]
            share = [r["switch_frames"][1] / max(1, sum(r["switch_frames"])) for r in rs if r.get("switch_frames")]
            print(f"| {model} | {span([r['fps'] for r in rs])}, {span([r['cpu_cores'] for r in rs], '{:.2f}')} cores, "
                  f"{span([100 * r['model_scale'] for r in rs], '{:.0f}')} %" + (f", {span([100 * s for s in share], '{:.0f}')} %" if share else "") + " |")
print(f"\nCPU: {next(iter(next(iter(runs.values())).values()))[0].get('cpu_count')} logical cores; files in {folder}")
