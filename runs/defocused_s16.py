"""Sitting 16: the runtime on streams out of focus, the ones a card's lens-blur model is for (vcam/detect.py BlurSwitch
with `lens_only`), measured as runs/blurred_s15.py measures its strongly blurred streams: through the runtime's own frame
processor (the gate, the switches and their hysteresis, I420, the default steadying), against each stream's own sharp
frames. A lens-blur model that sharpens a defocused picture's sensor noise with it would flicker in still areas.

Streams (first 60 frames; the shared clips at <= 640 px wide, as `kd evaluate --webcam`), each frame blurred by a disc of
radius 2 or 3 px (kd/degrade.py defocus_blur) and then given sensor noise (read sigma 2, shot gain 0.04, drawn per frame):
- the shared clips (a talking head with the camera out of focus);
- the still scenes of scikit-image's photos (runs/unseen_s11.py), the same, and through MJPG q85 at full size (a webcam's
  own coding).
Per stream and card: Y-PSNR gain over the input (dB) / still-area flicker (1.00 = none added), and the frames that went
to the card's blur model and its alternate, and that its gate passed. Writes runs/eval/defocused-s16.md, or OUT.md.
python runs/defocused_s16.py [--out OUT] CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import add_sensor_noise, defocus_blur, jpeg_cv2, modcrop  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.webcam import SHAVE, read_clip  # noqa: E402
from blurred_s15 import stream_rows  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402
from unseen_s11 import STILL, photo_rgb_u8  # noqa: E402

FRAMES = 60
DEFAULT_OUT = Path("runs/eval/defocused-s16.md")


def defocused(frames: list[np.ndarray], radius: float, rng: np.random.Generator, mjpg: bool = False) -> list[np.ndarray]:
    out = [add_sensor_noise(defocus_blur(f, radius), rng, 2.0, 0.04) for f in frames]
    return [jpeg_cv2(f, 85) for f in out] if mjpg else out


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    cfg = WebcamBenchConfig()
    streams: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for i, clip in enumerate(cfg.clips):
        refs = [modcrop(f, 6) for f in read_clip(Path(clip), FRAMES, cfg.clip_max_width)]
        y_refs = [shave(y_channel_f64(f), SHAVE) for f in refs]
        for radius in (2, 3):
            streams[f"{Path(clip).stem} disc {radius}"] = (defocused(refs, radius, np.random.default_rng([16, i, radius])), y_refs)
    for i, (scene, (name, (top, left, h, w))) in enumerate(STILL.items()):
        ref = modcrop(photo_rgb_u8(name)[top : top + h, left : left + w], 6)
        y_ref = [shave(y_channel_f64(ref), SHAVE)] * FRAMES
        for radius in (2, 3):
            rng = np.random.default_rng([16, 100 + i, radius])
            streams[f"{scene} (still) disc {radius}"] = (defocused([ref] * FRAMES, radius, rng), y_ref)
        streams[f"{scene} (still) disc 3 + MJPG q85"] = (defocused([ref] * FRAMES, 3, np.random.default_rng([16, 200 + i]), True), y_ref)
    by_stream = stream_rows(cards, streams, cfg.still_threshold)
    write_table("# The runtime on streams out of focus (vcam FrameProcessor, default steadying and hysteresis)", by_stream,
                f"Per stream: Y-PSNR gain over the input (dB) against its sharp frames / still-area flicker (1.00 = none added); "
                f"(n blur, k alt., j passed of m): frames the card's blur model, its alternate took, and its gate passed. First {FRAMES} "
                f"frames, clips at <= {cfg.clip_max_width} px wide; disc r: kd/degrade.py defocus_blur, then sensor noise (read sigma 2, "
                "shot gain 0.04) per frame; MJPG q85 at full size after it.",
                command_line("defocused_s16.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/defocused_s16.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
