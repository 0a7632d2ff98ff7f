"""`sharpcam-kd mos make | score`: a blind MOS study (ITU-T P.910 ACR, 1-5) and its scoring.

make: every source image (an HR image degraded by one of the webcam benchmark's degradations, or a
frame of a clip taken as the camera gave it) is shown as the unprocessed input and the frozen unsharp
baseline (the hidden anchors) and restored by each model; the stimuli get opaque names, and a
self-contained page (index.html: static HTML + JS, no network, opened from disk) asks a rater for
one 1-5 score each, in an order shuffled per rater, resumable (the browser's localStorage),
keyboard-friendly (1-5, Enter), and saves the rater's results as a JSON file to send back. Which
stimulus is which method stays in key.json, beside the page, for the scorer.

score: pools result files: per method the MOS with its 95 % confidence interval (Student t), after
screening the raters: a rater whose scores on the repeated stimuli differ by more than 1 on average,
or whose scores correlate with everyone else's mean below 0.3 (Pearson), is flagged and left out.
Writes a Markdown table, a JSON and a bar chart PNG.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import click
import numpy as np
from PIL import Image

ACR_LABELS = {5: "Excellent", 4: "Good", 3: "Fair", 2: "Poor", 1: "Bad"}
REPEAT_FRACTION = 0.15  # share of stimuli shown twice, for the consistency screen
MAX_REPEAT_GAP = 1.0  # mean |score - repeat| above which a rater is inconsistent
MIN_RATER_CORRELATION = 0.3  # Pearson r with the other raters' mean below which a rater is flagged


class MosError(ValueError):
    """Unusable study input; the message names the fix."""


# ---------------------------------------------------------------- making a study


def _crop_center(rgb: np.ndarray, size: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    ch, cw = min(size, h) // 6 * 6, min(size, w) // 6 * 6
    y, x = (h - ch) // 2, (w - cw) // 2
    return np.ascontiguousarray(rgb[y : y + ch, x : x + cw])


def source_items(images: list[Path], clips: list[Path], degradation: str, crop: int, clip_frames: int, seed: int
                 ) -> list[tuple[str, np.ndarray]]:
    """(name, the input a method restores: H x W x 3 uint8) for every image and sampled clip frame."""
    from kd.degrade import WEBCAM_BENCHMARK
    from kd.evaluate import as_rgb_u8, load_hr_u8
    from kd.webcam import image_seed, read_clip

    if degradation not in WEBCAM_BENCHMARK:
        raise MosError(f"degradation {degradation!r} unknown: use one of {', '.join(WEBCAM_BENCHMARK)}")
    items = []
    for f in images:
        hr = _crop_center(as_rgb_u8(load_hr_u8(f)), crop)
        items.append((f.stem, WEBCAM_BENCHMARK[degradation](hr, image_seed(f.name, degradation, seed))))
    for c in clips:
        frames = read_clip(c, 10_000, 1920)
        for i in np.linspace(0, len(frames) - 1, clip_frames).round().astype(int):
            items.append((f"{c.stem}-f{i}", _crop_center(frames[i], crop)))
    if not items:
        raise MosError("nothing to rate: pass --images DIR and/or --clip FILE")
    return items


def make_study(out: Path, items: list[tuple[str, np.ndarray]], models: list[str], unsharp: str, threads: int, seed: int,
               title: str) -> dict[str, Any]:
    """Writes the stimuli, index.html and key.json into `out`; returns the key."""
    from kd.evaluate import make_restorer
    from kd.webcam import DegradedInput, load_unsharp

    methods = [DegradedInput(), load_unsharp(unsharp)] + [make_restorer(m, threads) for m in models]
    labels = ["input (unprocessed)", methods[1].label] + [m.label for m in methods[2:]]
    if len(set(labels)) != len(labels):
        raise MosError(f"two methods share a label ({', '.join(labels)}): pass each model once")
    study_id = hashlib.sha256(json.dumps([labels, [n for n, _ in items], seed]).encode()).hexdigest()[:10]
    stim_dir = out / "stimuli"
    stim_dir.mkdir(parents=True, exist_ok=True)
    stimuli = []
    for name, img in items:
        for k, (method, label) in enumerate(zip(methods, labels)):
            # an opaque file name: nothing in the page tells which method made a picture
            sid = hashlib.sha256(f"{study_id}:{name}:{k}".encode()).hexdigest()[:12]
            Image.fromarray(method.restore(img)).save(stim_dir / f"{sid}.png")
            stimuli.append({"id": sid, "file": f"stimuli/{sid}.png", "item": name, "method": label,
                            "anchor": k < 2})
    rng = np.random.default_rng(seed)
    repeats = [stimuli[i]["id"] for i in sorted(rng.choice(len(stimuli), max(2, round(REPEAT_FRACTION * len(stimuli))),
                                                           replace=False))]
    key = {"study": study_id, "title": title, "methods": labels, "stimuli": stimuli, "repeats": repeats,
           "scale": "ITU-T P.910 ACR", "labels": ACR_LABELS}
    page_manifest = {"study": study_id, "title": title, "stimuli": [{"id": s["id"], "file": s["file"]} for s in stimuli],
                     "repeats": repeats, "labels": {str(k): v for k, v in ACR_LABELS.items()}}
    (out / "key.json").write_text(json.dumps(key, indent=1) + "\n")
    (out / "index.html").write_text(PAGE.replace("__MANIFEST__", json.dumps(page_manifest)))
    return key


# ---------------------------------------------------------------- scoring


def load_results(paths: list[Path], key: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """rater -> their ratings (stimulus id, score, repeat flag), for results of this study only."""
    known = {s["id"] for s in key["stimuli"]}
    raters: dict[str, list[dict[str, Any]]] = {}
    for p in paths:
        try:
            data = json.loads(Path(p).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise MosError(f"cannot read results file {p} ({e}): pass the JSON a rater saved from the page") from None
        if not isinstance(data, dict) or data.get("study") != key["study"]:
            raise MosError(f"{p} is not a result of study {key['study']}: pass the files saved from this study's page")
        ratings = [r for r in data.get("ratings", []) if r.get("id") in known and r.get("score") in (1, 2, 3, 4, 5)]
        if ratings:
            raters.setdefault(str(data.get("rater", p.stem)), []).extend(ratings)
    if not raters:
        raise MosError("no ratings in the results files: were the studies finished and saved?")
    return raters


def t95(n: int) -> float:
    """Two-sided 95 % Student t quantile for n - 1 degrees of freedom (a table: no scipy at run time)."""
    table = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
             12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}
    df = n - 1
    if df < 1:
        return math.nan
    return table[max(k for k in table if k <= df)] if df <= 120 else 1.96


def score_study(key: dict[str, Any], raters: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    method_of = {s["id"]: s["method"] for s in key["stimuli"]}
    first: dict[str, dict[str, int]] = {}  # rater -> stimulus -> first score
    screening = {}
    for rater, ratings in raters.items():
        scores: dict[str, int] = {}
        gaps = []
        for r in ratings:
            if r["id"] in scores:
                gaps.append(abs(scores[r["id"]] - r["score"]))
            else:
                scores[r["id"]] = r["score"]
        first[rater] = scores
        screening[rater] = {"n": len(scores), "repeat_gap": float(np.mean(gaps)) if gaps else None}
    for rater, scores in first.items():
        others = [s for o, s in first.items() if o != rater]
        common = [sid for sid in scores if any(sid in o for o in others)]
        if len(others) >= 1 and len(common) >= 3:
            mine = np.array([scores[sid] for sid in common], float)
            theirs = np.array([np.mean([o[sid] for o in others if sid in o]) for sid in common])
            r = float(np.corrcoef(mine, theirs)[0, 1]) if mine.std() > 0 and theirs.std() > 0 else 0.0
        else:
            r = None
        reasons = []
        gap = screening[rater]["repeat_gap"]
        if gap is not None and gap > MAX_REPEAT_GAP:
            reasons.append(f"repeats differ by {gap:.1f} on average")
        if r is not None and r < MIN_RATER_CORRELATION:
            reasons.append(f"r = {r:.2f} with the other raters")
        screening[rater].update({"r_with_others": r, "flagged": bool(reasons), "why": "; ".join(reasons)})
    kept = [r for r in first if not screening[r]["flagged"]]
    per_method: dict[str, list[int]] = {m: [] for m in key["methods"]}
    for rater in kept:
        for sid, score in first[rater].items():
            per_method[method_of[sid]].append(score)
    rows = []
    for m in key["methods"]:
        v = np.array(per_method[m], float)
        n = len(v)
        mos = float(v.mean()) if n else math.nan
        sd = float(v.std(ddof=1)) if n > 1 else math.nan
        ci = t95(n) * sd / math.sqrt(n) if n > 1 else math.nan
        rows.append({"method": m, "mos": mos, "ci95": ci, "sd": sd, "n": n})
    return {"study": key["study"], "title": key["title"], "raters": screening, "kept": kept, "methods": rows}


def render_score(result: dict[str, Any], command: str) -> str:
    lines = ["| method | MOS | 95 % CI | ratings |", "|---|---|---|---|"]
    for r in result["methods"]:
        ci = "–" if math.isnan(r["ci95"]) else f"± {r['ci95']:.2f}"
        lines.append(f"| {r['method']} | {r['mos']:.2f} | {ci} | {r['n']} |")
    flagged = {k: v for k, v in result["raters"].items() if v["flagged"]}
    notes = ["", f"Produced by: `{command}`", "",
             f"ITU-T P.910 ACR (1 Bad … 5 Excellent), {len(result['kept'])} of {len(result['raters'])} raters kept"
             + (": left out " + "; ".join(f"{k} ({v['why']})" for k, v in flagged.items()) if flagged else "") + "."]
    return "\n".join(lines + notes) + "\n"


def plot_score(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["methods"]
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(rows), 4))
    x = np.arange(len(rows))
    ax.bar(x, [r["mos"] for r in rows], yerr=[0 if math.isnan(r["ci95"]) else r["ci95"] for r in rows], capsize=4,
           color=["#999999", "#bbbbbb"] + ["#3b75af"] * (len(rows) - 2))
    ax.set_xticks(x, [r["method"] for r in rows], rotation=20, ha="right", fontsize=8)
    ax.set_ylim(1, 5)
    ax.set_ylabel("MOS (ACR 1-5), 95 % CI")
    ax.set_title(f"{result['title']}: {len(result['kept'])} raters", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".partial")
    fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    os.replace(tmp, path)


# ---------------------------------------------------------------- commands


@click.group("mos")
def mos_group() -> None:
    """A blind MOS study: make the rating page, then score the raters' results."""


@mos_group.command("make")
@click.argument("models", nargs=-1)
@click.option("--images", "image_dirs", multiple=True, type=click.Path(file_okay=False), help="Folder of HR images (repeatable).")
@click.option("--clip", "clips", multiple=True, type=click.Path(dir_okay=False), help="A video whose frames are rated as they come (repeatable).")
@click.option("--degradation", default="blur1.2+noise4+jpeg60", show_default=True, help="Webcam degradation applied to the HR images.")
@click.option("--crop", type=int, default=256, show_default=True, help="Centre crop of each picture, px.")
@click.option("--clip-frames", type=int, default=3, show_default=True, help="Frames taken from each clip.")
@click.option("--unsharp", default="kd/recipes/unsharp.toml", show_default=True, help="The frozen unsharp baseline (an anchor).")
@click.option("--title", default="SharpCam picture quality", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--threads", type=int, default=2, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="The study folder to write (index.html, stimuli/, key.json).")
def make_command(models, image_dirs, clips, degradation, crop, clip_frames, unsharp, title, seed, threads, out) -> None:
    """Write a rating page for MODELS (.pt, .onnx or .json) beside the unprocessed input and the unsharp mask."""
    from kd.checkpoint import CheckpointError
    from kd.evaluate import EvalError, list_images
    from kd.export import ExportError
    from kd.webcam import WebcamBenchError

    if crop < 48:
        raise click.ClickException(f"--crop {crop} is too small to judge: use 128 px or more")
    try:
        images = [f for d in image_dirs for f in list_images(d, "--images")]
        items = source_items(images, [Path(c) for c in clips], degradation, crop, clip_frames, seed)
        key = make_study(Path(out), items, list(models), unsharp, threads, seed, title)
    except (MosError, EvalError, ExportError, CheckpointError, WebcamBenchError, OSError) as e:
        raise click.ClickException(str(e)) from None
    n = len(key["stimuli"]) + len(key["repeats"])
    click.echo(f"wrote {out}/index.html: {len(items)} pictures x {len(key['methods'])} methods = {n} ratings a rater "
               f"(~{max(1, round(n * 6 / 60))} min); open it in a browser, then collect the saved mos-*.json files")


@mos_group.command("score")
@click.argument("study", type=click.Path(file_okay=False))
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", required=True, help="Writes OUT.md, OUT.json and OUT.png.")
def score_command(study, results, out) -> None:
    """Pool the raters' RESULTS files of STUDY: MOS and 95 % CI per method, raters screened."""
    from kd.evaluate import command_line

    try:
        key = json.loads((Path(study) / "key.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise click.ClickException(f"no readable key.json in {study} ({e}): pass the folder `mos make` wrote") from None
    try:
        result = score_study(key, load_results([Path(r) for r in results], key))
    except MosError as e:
        raise click.ClickException(str(e)) from None
    out_p = Path(out)
    out_p.parent.mkdir(parents=True, exist_ok=True)
    md = render_score(result, command_line())
    out_p.with_name(out_p.name + ".md").write_text(md)
    out_p.with_name(out_p.name + ".json").write_text(json.dumps(result, indent=1) + "\n")
    plot_score(result, out_p.with_name(out_p.name + ".png"))
    click.echo(md, nl=False)
    click.echo(f"wrote {out}.md, {out}.json, {out}.png", err=True)


PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Picture quality rating</title>
<style>
 body{font-family:system-ui,sans-serif;margin:0;background:#808080;color:#111}
 main{max-width:980px;margin:0 auto;padding:16px}
 .card{background:#f4f4f4;border-radius:8px;padding:16px 20px;margin-bottom:12px}
 #stage{text-align:center} #pic{max-width:100%;image-rendering:auto;border:1px solid #555;background:#777}
 .acr{display:flex;gap:8px;justify-content:center;margin-top:12px;flex-wrap:wrap}
 .acr button{font-size:16px;padding:10px 14px;min-width:120px;border-radius:6px;border:1px solid #444;background:#fff;cursor:pointer}
 .acr button:focus,.acr button:hover{background:#dde8f5}
 #progress{height:8px;background:#ccc;border-radius:4px;overflow:hidden;margin:8px 0}
 #bar{height:100%;background:#3b75af;width:0}
 .muted{color:#555;font-size:14px} kbd{border:1px solid #888;border-radius:3px;padding:0 4px;background:#fff}
</style></head>
<body><main>
<div class="card" id="intro">
 <h1 id="title"></h1>
 <p>You will see pictures one at a time, as a webcam would send them in a video call. Rate the
 <b>overall quality</b> of each picture on its own (there is no reference to compare with):
 5 Excellent, 4 Good, 3 Fair, 2 Poor, 1 Bad. Use the buttons or the keys <kbd>1</kbd>–<kbd>5</kbd>.
 Take your time; you can close the page and come back later (this browser remembers where you were).</p>
 <label>Your name or rater ID: <input id="rater" autocomplete="off"></label>
 <button id="begin">Start</button>
 <p class="muted" id="resume"></p>
</div>
<div class="card" id="stage" hidden>
 <div id="progress"><div id="bar"></div></div>
 <div class="muted" id="count"></div>
 <img id="pic" alt="picture to rate">
 <div class="acr" id="acr"></div>
</div>
<div class="card" id="done" hidden>
 <h2>Thank you!</h2>
 <p>Save your results and send the file to the study's organiser.</p>
 <button id="save">Save results (JSON)</button> <span class="muted" id="saved"></span>
</div>
<script type="application/json" id="manifest">__MANIFEST__</script>
<script>
"use strict";
const M = JSON.parse(document.getElementById("manifest").textContent);
const $ = (id) => document.getElementById(id);
$("title").textContent = M.title;
function hash(s){let h=2166136261>>>0;for(const c of s){h^=c.charCodeAt(0);h=Math.imul(h,16777619)>>>0;}return h;}
function rng(seed){return function(){seed|=0;seed=seed+0x6D2B79F5|0;let t=Math.imul(seed^seed>>>15,1|seed);
  t=t+Math.imul(t^t>>>7,61|t)^t;return((t^t>>>14)>>>0)/4294967296;};}
function order(rater){  // every stimulus once, the repeats again, shuffled per rater; a repeat never follows itself
  const r=rng(hash(M.study+":"+rater)); const ids=M.stimuli.map(s=>s.id).concat(M.repeats);
  for(let i=ids.length-1;i>0;i--){const j=Math.floor(r()*(i+1));[ids[i],ids[j]]=[ids[j],ids[i]];}
  for(let i=1;i<ids.length;i++){if(ids[i]===ids[i-1]){const k=(i+2)%ids.length;[ids[i],ids[k]]=[ids[k],ids[i]];}}
  return ids;}
const fileOf = Object.fromEntries(M.stimuli.map(s=>[s.id,s.file]));
let S = null;  // {rater, order, ratings, started}
const storeKey = (rater) => "sharpcam-mos:"+M.study+":"+rater;
function save(){localStorage.setItem(storeKey(S.rater), JSON.stringify(S));}
function show(){
  const i=S.ratings.length, n=S.order.length;
  $("bar").style.width=(100*i/n)+"%"; $("count").textContent=`${i} of ${n} rated`;
  if(i>=n){$("stage").hidden=true;$("done").hidden=false;$("save").focus();return;}
  $("pic").src=fileOf[S.order[i]]; S.shownAt=performance.now();
}
function rate(score){
  if(!S||S.ratings.length>=S.order.length||!$("pic").complete)return;
  S.ratings.push({id:S.order[S.ratings.length],score:score,ms:Math.round(performance.now()-(S.shownAt||0))});
  save(); show();
}
for(const k of [5,4,3,2,1]){const b=document.createElement("button");b.textContent=`${k} ${M.labels[k]}`;
  b.dataset.score=k;b.onclick=()=>rate(k);$("acr").appendChild(b);}
$("rater").addEventListener("input",()=>{const r=$("rater").value.trim();
  const old=r&&localStorage.getItem(storeKey(r)); $("resume").textContent=old?`Welcome back: ${JSON.parse(old).ratings.length} already rated.`:"";});
function begin(){
  const rater=$("rater").value.trim(); if(!rater){$("rater").focus();return;}
  const old=localStorage.getItem(storeKey(rater));
  S=old?JSON.parse(old):{rater:rater,order:order(rater),ratings:[],started:new Date().toISOString()};
  save(); $("intro").hidden=true; $("stage").hidden=false; show();
}
$("begin").onclick=begin;
$("rater").addEventListener("keydown",(e)=>{if(e.key==="Enter")begin();});
document.addEventListener("keydown",(e)=>{if(S&&!$("stage").hidden&&e.key>="1"&&e.key<="5")rate(Number(e.key));});
$("save").onclick=()=>{
  const out={study:M.study,rater:S.rater,scale:"ITU-T P.910 ACR",started:S.started,finished:new Date().toISOString(),
    user_agent:navigator.userAgent,ratings:S.ratings};
  const a=document.createElement("a");a.href=URL.createObjectURL(new Blob([JSON.stringify(out,null,1)],{type:"application/json"}));
  a.download=`mos-${M.study}-${S.rater.replace(/[^A-Za-z0-9_-]/g,"_")}.json`;document.body.appendChild(a);a.click();a.remove();
  $("saved").textContent="saved as "+a.download;
};
</script>
</main></body></html>
"""
