"""Model loading: resolve `--model`, read and verify the card (export/README.md), run onnxruntime (or OpenVINO).

The card (vcam/card.py, the one parser kd/ shares) is the contract with `kd/`: tensor names, NCHW
with batch 1 and dynamic height/width (multiples of `pad_multiple`), planes (RGB: 3 float32 channels;
Y: the luma plane, float32 or uint8), colour order, value range, image or residual output. Anything that does not match is refused at load time, in one line.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from vcam.card import ModelCard, read_card
from vcam.config import MODEL_NONE, SharpCamError

MODEL_PACKAGE = "sharpcam_models"
# which of a card's models runs on a frame (`Engine.run_variant`): its own, its switch's alternate, its blur model
VARIANT_DEFAULT, VARIANT_ALTERNATE, VARIANT_BLURRED = 0, 1, 2

# --provider name -> onnxruntime execution provider.
PROVIDER_NAMES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "dml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
}
PROVIDER_PACKAGES = {
    "cuda": "onnxruntime-gpu",
    "tensorrt": "onnxruntime-gpu",
    "openvino": "onnxruntime-openvino",
    "rocm": "onnxruntime-rocm",
    "dml": "onnxruntime-directml",
    "coreml": "onnxruntime (macOS build)",
}


def _packaged_card(name: str) -> Path | None:
    """`<name>.json` in the installed `sharpcam_models` package, or in ../export of a source checkout."""
    candidates: list[Path] = []
    try:
        root = resources.files(MODEL_PACKAGE)
        candidates.append(Path(str(root.joinpath(f"{name}.json"))))
    except (ModuleNotFoundError, TypeError):
        pass
    # A source checkout run without `pip install`: export/ sits beside vcam/.
    candidates.append(Path(__file__).resolve().parent.parent / "export" / f"{name}.json")
    for path in candidates:
        if path.is_file():
            return path
    return None


def resolve_model(spec: str) -> Path:
    """`--model` -> the card's path: a .json card, an .onnx file (card beside it) or a packaged name."""
    if spec == MODEL_NONE:
        raise ValueError("resolve_model('none'): the caller runs without a model")
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".json":
        if not path.is_file():
            raise SharpCamError(f"model card {path} does not exist: pass an existing .json card or .onnx file")
        return path
    if path.suffix.lower() == ".onnx":
        if not path.is_file():
            raise SharpCamError(f"model file {path} does not exist: pass an existing .onnx file")
        card = path.with_suffix(".json")
        if not card.is_file():
            raise SharpCamError(
                f"model {path} has no card {card.name} beside it: export it with `sharpcam-kd export` (writes both)"
            )
        return card
    if path.exists():
        raise SharpCamError(f"--model {spec!r} is neither a .json card nor an .onnx file: pass one of those")
    card = _packaged_card(spec)
    if card is None:
        names = installed_models()
        have = f"installed: {', '.join(names)}" if names else "no trained model is installed"
        raise SharpCamError(
            f"model {spec!r} not found ({have}): pass one of those names, --model PATH to a card/.onnx file, "
            "or --model none to run without one"
        )
    return card


def installed_models() -> list[str]:
    """Names of the model cards in the installed `sharpcam_models` package (or ../export of a checkout)."""
    folders: list[Path] = []
    try:
        folders.append(Path(str(resources.files(MODEL_PACKAGE))))
    except (ModuleNotFoundError, TypeError):
        pass
    folders.append(Path(__file__).resolve().parent.parent / "export")
    for folder in folders:
        names = sorted(p.stem for p in folder.glob("*.json") if _names_a_model_here(p))
        if names:
            return names
    return []


def _names_a_model_here(card: Path) -> bool:
    """Whether `card` is a model card whose ONNX file is in its folder (its own, or a pair's shared one)."""
    if card.with_suffix(".onnx").is_file():
        return True
    try:
        file = json.loads(card.read_text(encoding="utf-8")).get("file")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return False
    return isinstance(file, str) and (card.parent / file).is_file()


def default_threads() -> int:
    """One intra-op thread per CPU core, at most 8 (more rarely helps a small CNN)."""
    return max(1, min(8, os.cpu_count() or 1))


def _openvino_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("openvino") is not None


def _providers_for(provider: str) -> list[str]:
    import onnxruntime as ort

    key = provider.lower()
    if key not in PROVIDER_NAMES:
        raise SharpCamError(f"unknown --provider {provider!r}: pass one of {', '.join(PROVIDER_NAMES)}")
    wanted = PROVIDER_NAMES[key]
    available = ort.get_available_providers()
    if wanted not in available and key == "openvino":
        raise SharpCamError(
            "provider 'openvino' needs the OpenVINO runtime, which is not installed: "
            "pip install 'sharpcam[openvino]', or use --provider cpu"
        )
    if wanted not in available:
        short = [k for k, v in PROVIDER_NAMES.items() if v in available]
        raise SharpCamError(
            f"provider {key!r} is not available in this onnxruntime (available: {', '.join(short) or 'none'}): "
            f"install {PROVIDER_PACKAGES.get(key, 'a build with it')} or use --provider cpu"
        )
    # CPU stays as the fallback for operators the accelerator lacks.
    return [wanted] if wanted == "CPUExecutionProvider" else [wanted, "CPUExecutionProvider"]


@dataclass(frozen=True)
class _Arg:
    """A model input or output as onnxruntime's NodeArg shows it: dynamic dims are None."""

    name: str
    type: str
    shape: list[int | None]


class _OpenVinoSession:
    """The native OpenVINO runtime (PyPI `openvino`, the `[openvino]` extra) behind the few
    onnxruntime session calls Engine makes. onnxruntime's own OpenVINO provider is a separate
    build that replaces onnxruntime, so `--provider openvino` runs this instead.

    One compiled model per frame size: compiled for a fixed size it ran the default model at 720p
    in 28 ms, compiled dynamic in 34 ms (measured here, 2 threads).
    """

    def __init__(self, onnx_path: Path, threads: int) -> None:
        import openvino as ov
        from openvino.frontend import FrontEndManager

        self._ov = ov
        self._core = ov.Core()
        # The ONNX frontend directly: read_model() would also try other formats on a corrupt
        # file and print their parse errors.
        frontend = FrontEndManager().load_by_framework("onnx")
        self._model = frontend.convert(frontend.load(str(onnx_path)))
        self._config = {
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
            # The same fp32 results as onnxruntime; a bf16 default on CPUs that have it changes them.
            "INFERENCE_PRECISION_HINT": "f32",
            # Pinned workers would fight the capture/pre/post threads for the same cores.
            "ENABLE_CPU_PINNING": False,
        }
        self._requests: dict[tuple[int, ...], Any] = {}
        self._tensors: dict[tuple[int, int, tuple[int, ...]], tuple[Any, Any]] = {}

    def _arg(self, port: Any) -> _Arg:
        kinds = {self._ov.Type.f32: "tensor(float)", self._ov.Type.u8: "tensor(uint8)"}
        kind = kinds.get(port.get_element_type(), f"tensor({port.get_element_type()})")
        dims = [None if d.is_dynamic else d.get_length() for d in port.get_partial_shape()]
        return _Arg(port.get_any_name(), kind, dims)

    def get_inputs(self) -> list[_Arg]:
        return [self._arg(p) for p in self._model.inputs]

    def get_outputs(self) -> list[_Arg]:
        return [self._arg(p) for p in self._model.outputs]

    def _request(self, shape: tuple[int, ...]) -> Any:
        request = self._requests.get(shape)
        if request is None:
            if len(self._requests) >= 8:
                self._requests.clear()  # frame sizes changed several times; keep memory bounded
            model = self._model.clone()
            model.reshape({model.inputs[0]: list(shape)})
            request = self._core.compile_model(model, "CPU", self._config).create_infer_request()
            self._requests[shape] = request
        return request

    def run(self, output_names: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        (array,) = feeds.values()
        request = self._request(tuple(array.shape))
        request.infer({0: array})
        return [request.get_output_tensor(0).data.copy()]

    def run_into(self, input_nchw: np.ndarray, output_nchw: np.ndarray) -> None:
        """Runs in place: the preallocated arrays are wrapped once per buffer pair, not per frame."""
        key = (input_nchw.ctypes.data, output_nchw.ctypes.data, input_nchw.shape)
        tensors = self._tensors.get(key)
        if tensors is None:
            if len(self._tensors) > 64:
                self._tensors.clear()  # buffers were reallocated (frame size changed)
            tensors = (self._ov.Tensor(input_nchw, shared_memory=True), self._ov.Tensor(output_nchw, shared_memory=True))
            self._tensors[key] = tensors
        request = self._request(input_nchw.shape)
        request.set_input_tensor(tensors[0])
        request.set_output_tensor(tensors[1])
        request.infer()


def _load_error(card: ModelCard, exc: Exception) -> SharpCamError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return SharpCamError(f"cannot load model {card.onnx_path.name} ({first[:160]}): the file is corrupt or not ONNX; re-export it")


class Engine:
    """An onnxruntime (or, for --provider openvino, OpenVINO) session bound to one card.

    `run(input_nchw, output_nchw)` reads a (1, card.channels, H, W) array of card.dtype (H, W
    multiples of card.pad_multiple, values in [0, card.value_max], colour order card.color_order, or
    the Y plane) and writes the model's output of the same shape and dtype into the preallocated
    `output_nchw`.

    A card with a `switch` also loads its alternate (`alternate`, an Engine of the same tensors), and one with a
    `blur` its model for strongly blurred frames (`blurred`); which one runs on a frame is the pre stage's choice
    (vcam/detect.py), `run_variant`'s `variant` (VARIANT_*).
    """

    def __init__(self, card: ModelCard, provider: str, threads: int) -> None:
        import onnxruntime as ort

        self.card = card
        self.alternate = Engine(card.switch.card, provider, threads) if card.switch is not None else None
        self.blurred = Engine(card.blur.card, provider, threads) if card.blur is not None else None
        self.dtype = np.dtype(card.dtype)
        self.provider = provider.lower()
        self.threads = threads if threads > 0 else default_threads()
        self._bindings: dict[tuple[int, int, tuple[int, ...]], Any] = {}
        if self.provider == "openvino" and _openvino_installed():
            try:
                self.session: Any = _OpenVinoSession(card.onnx_path, self.threads)
            except Exception as exc:  # OpenVINO raises its own types for corrupt/unsupported graphs
                raise _load_error(card, exc) from None
            self._check_contract()
            return
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Spinning worker threads would steal the cores the capture/pre/post threads need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        providers = _providers_for(self.provider)
        try:
            self.session = ort.InferenceSession(str(card.onnx_path), sess_options=options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own types for corrupt/unsupported graphs
            raise _load_error(card, exc) from None
        self._check_contract()

    def _check_contract(self) -> None:
        card = self.card
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        where = card.onnx_path.name
        if len(inputs) != 1 or inputs[0].name != card.input_name:
            got = ", ".join(i.name for i in inputs)
            raise SharpCamError(f"model {where} has inputs [{got}] but its card says {card.input_name!r}: re-export the model")
        if len(outputs) < 1 or outputs[0].name != card.output_name:
            got = ", ".join(o.name for o in outputs)
            raise SharpCamError(f"model {where} has outputs [{got}] but its card says {card.output_name!r}: re-export the model")
        onnx_type = {"float32": "tensor(float)", "uint8": "tensor(uint8)"}[card.dtype]
        c = card.channels
        for side, arg in (("input", inputs[0]), ("output", outputs[0])):
            if arg.type != onnx_type:
                raise SharpCamError(f"model {where} {side} is {arg.type}, the card promises {card.dtype}: re-export the model")
            shape = arg.shape
            if len(shape) != 4 or shape[1] not in (c, None) and not isinstance(shape[1], str):
                raise SharpCamError(f"model {where} {side} shape {shape} is not (1, {c}, H, W): re-export the model")
            if isinstance(shape[2], int) or isinstance(shape[3], int):
                raise SharpCamError(
                    f"model {where} {side} has a fixed size {shape[2]}x{shape[3]}, the runtime needs dynamic height/width: "
                    "export with dynamic axes"
                )
        # A tiny probe run catches graphs whose output shape differs from the input (wrong model).
        m = card.pad_multiple
        probe_h, probe_w = 2 * m if m > 1 else 8, 3 * m if m > 1 else 12
        probe = np.full((1, c, probe_h, probe_w), 0.5 * card.value_max, self.dtype)
        try:
            result = self.session.run([card.output_name], {card.input_name: probe})[0]
        except Exception as exc:
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise SharpCamError(f"model {where} fails on a {probe_w}x{probe_h} frame ({first}): check pad_multiple in the card") from None
        if result.shape != probe.shape:
            raise SharpCamError(
                f"model {where} turns a {probe.shape} input into {result.shape}: the runtime needs a same-size (1, {c}, H, W) output"
            )

    def run_variant(self, variant: int, input_nchw: np.ndarray, output_nchw: np.ndarray) -> None:
        """`run` of this model (VARIANT_DEFAULT), its switch's alternate (VARIANT_ALTERNATE) or its blur model
        (VARIANT_BLURRED); a variant the card lacks runs this model."""
        chosen = self.alternate if variant == VARIANT_ALTERNATE else self.blurred if variant == VARIANT_BLURRED else None
        (chosen or self).run(input_nchw, output_nchw)

    def run(self, input_nchw: np.ndarray, output_nchw: np.ndarray) -> None:
        """Runs the model on `input_nchw` into `output_nchw` (both C-contiguous (1, C, H, W) of card.dtype)."""
        if isinstance(self.session, _OpenVinoSession):
            self.session.run_into(input_nchw, output_nchw)
            return
        key = (input_nchw.ctypes.data, output_nchw.ctypes.data, input_nchw.shape)
        binding = self._bindings.get(key)
        if binding is None:
            # One binding per (input, output) buffer pair of the slot pools: onnxruntime then
            # reads and writes the preallocated arrays in place, without allocating per frame.
            if len(self._bindings) > 64:
                self._bindings.clear()  # buffers were reallocated (frame size changed)
            binding = self.session.io_binding()
            binding.bind_input(self.card.input_name, "cpu", 0, self.dtype, list(input_nchw.shape), input_nchw.ctypes.data)
            binding.bind_output(self.card.output_name, "cpu", 0, self.dtype, list(output_nchw.shape), output_nchw.ctypes.data)
            self._bindings[key] = binding
        self.session.run_with_iobinding(binding)


def load_engine(model: str, provider: str, threads: int) -> Engine | None:
    """`--model` spec -> a ready Engine, or None for `--model none`."""
    if model == MODEL_NONE:
        return None
    return Engine(read_card(resolve_model(model)), provider=provider, threads=threads)
