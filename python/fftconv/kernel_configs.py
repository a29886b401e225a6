"""Directories of compiled GPU kernels, as scripts/build_gpu_kernels.py
writes them, and what the GPU tests and the benchmark do with them: random
inputs, poisoned outputs, and the float64 reference.

    <dir>/<config>/kernel.ptx
    <dir>/<config>/manifest.json     ("ptx": "kernel.ptx")
    <dir>/<config>/config.json       {"N", "B", "H", "L", "K", "dtype", "mode",
                                      "gated", "skip"[, "bench"]}

The directory is FFTCONV_GPU_KERNELS, else build/gpu-kernels under the
repository. The manifest's inputs are "u" [B, H, L] (dtype), "k" [H, K]
(f32), "pregate" and "postgate" [B, H, L] (dtype) when gated, and "skip"
[H] (f32) when there is a skip term; the output is [B, H, L] (dtype).

Semantics (python/fftconv/reference.py's `conv`): v = pregate * u;
causal: y[t] = sum_{s <= t} k[s] v[t - s], t < L (FFT size N = 2L);
circular: the circular convolution of length L (N = L); then y += D * v,
y *= postgate, rounded to the dtype. The reference here is the same in
float64 through torch.fft, on the inputs' device, in slices of the batch so
that large configurations fit.

Needs PyTorch (imported when a function needs it), not a GPU.
"""

import json
import math
import os

from . import dtypes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_KERNEL_DIR = os.path.join(ROOT, "build", "gpu-kernels")

# fftconv.distributed.FFTConv's case in the sharded benchmark
# (bench/bench_distributed.py), whose kernel cache scripts/build_gpu_kernels.py
# --sharded fills for 2 and 4 ranks: B, H, L, causal, gated (f16).
SHARDED_MODULE_CASE = (2, 2, 32768, True, True)

# Relative error ||y - ref|| / ||ref|| allowed per dtype.
TOLERANCE = {"f16": 1e-3, "bf16": 8e-3, "f32": 1e-5}

_REQUIRED = {"N": int, "B": int, "H": int, "L": int, "K": int, "dtype": str, "mode": str, "gated": bool, "skip": bool}


def runtime_build_dir():
    """A build of the C++ runtime (bin/fftconv-run, lib/libFFTConvRuntime.so),
    looked for as fftconv.runtime looks for its library: FFTCONV_RUNTIME_DIR,
    else FFTCONV_BUILD_DIR, else build/ in the repository when it holds the
    runtime (the project's build), else build/runtime (the runtime alone, as
    carried to a GPU machine)."""
    explicit = os.environ.get("FFTCONV_RUNTIME_DIR") or os.environ.get("FFTCONV_BUILD_DIR")
    if explicit:
        return os.path.abspath(explicit)
    build = os.path.join(ROOT, "build")
    if os.path.exists(os.path.join(build, "lib", "libFFTConvRuntime.so")):
        return build
    return os.path.join(build, "runtime")


def kernel_dir():
    """FFTCONV_GPU_KERNELS, else build/gpu-kernels in the repository."""
    return os.path.abspath(os.environ.get("FFTCONV_GPU_KERNELS") or DEFAULT_KERNEL_DIR)


class Config:
    """One compiled configuration: its folder and config.json."""

    def __init__(self, path, raw):
        self.path = os.path.abspath(path)
        self.name = os.path.basename(self.path)
        self.raw = raw
        for key, kind in _REQUIRED.items():
            value = raw.get(key)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ValueError(f"{self.config_path}: {key!r} must be {kind.__name__}, got {value!r}")
        self.N, self.B, self.H, self.L, self.K = (raw[k] for k in ("N", "B", "H", "L", "K"))
        self.dtype, self.mode = raw["dtype"], raw["mode"]
        self.gated, self.skip = raw["gated"], raw["skip"]
        self.bench = bool(raw.get("bench", False))
        # A sharded benchmark's memory case: run on inputs made on each rank
        # (no whole sequence anywhere), for its peak memory and time.
        self.memory = bool(raw.get("memory", False))
        # k's regularizers, applied before the convolution: Squash's lambda
        # and Smooth's width (absent: none).
        self.squash = raw.get("squash")
        self.smooth = raw.get("smooth")
        # A frequency-sparse convolution: k's spectrum is taken as zero at
        # the bins >= band (absent: none). Its graph is the FFT form
        # (rfft, channel_mul band, irfft), which a Graph builds for f32
        # circular convolutions of period N.
        self.band = raw.get("band")
        if self.dtype not in ("f16", "bf16", "f32"):
            raise ValueError(f"{self.config_path}: unknown dtype {self.dtype!r}")
        if self.mode not in ("causal", "circular"):
            raise ValueError(f"{self.config_path}: unknown mode {self.mode!r}")
        if not 1 <= self.K <= self.L:
            raise ValueError(f"{self.config_path}: need 1 <= K <= L, got K={self.K}, L={self.L}")
        if self.band is not None and (
                not isinstance(self.band, int) or isinstance(self.band, bool) or self.band < 1
                or self.mode != "circular" or self.dtype != "f32" or self.L != self.N or self.gated or self.skip
                or self.squash is not None or self.smooth is not None):
            raise ValueError(f"{self.config_path}: a band (got {self.band!r}) needs a positive integer and a plain "
                             "f32 circular convolution of period N (no gates, skip or regularizers)")

    @property
    def config_path(self):
        return os.path.join(self.path, "config.json")

    @property
    def manifest_path(self):
        return os.path.join(self.path, "manifest.json")

    @property
    def label(self):
        """'causal', 'gated, circular', 'causal, skip', ..."""
        parts = (["gated"] if self.gated else []) + [self.mode] + (["skip"] if self.skip else [])
        parts += ["squash"] if self.squash is not None else []
        parts += ["smooth"] if self.smooth is not None else []
        parts += [f"band {self.band}"] if self.band is not None else []
        return ", ".join(parts)

    @property
    def kernels(self):
        """'single, half', 'three-pass, split', ...: the form the compiler
        took and the tensor-core precision, as the manifest's
        "convolutions" records them (docs/gpu-manifest.md); 'unrecorded'
        for a manifest written before it did."""
        with open(self.manifest_path) as f:
            convolutions = json.load(f).get("convolutions")
        if not convolutions:
            return "unrecorded"
        return ", ".join(
            f"{'three-pass' if c['form'] == 'three-pass' else 'single'}, {c['precision']}"
            + (", wgmma" if c.get("factors", [0])[-1] == 64 else "")
            + (f", cluster {c['cluster']}" if c.get("cluster") else "")
            for c in convolutions
        )

    @property
    def tolerance(self):
        return TOLERANCE[self.dtype]

    @property
    def input_names(self):
        return ["u", "k"] + (["pregate", "postgate"] if self.gated else []) + (["skip"] if self.skip else [])

    def __repr__(self):
        return f"Config({self.name}: N={self.N} {self.dtype} {self.label} B={self.B} H={self.H} L={self.L} K={self.K})"


def load_config(path):
    config_path = os.path.join(path, "config.json")
    try:
        with open(config_path) as f:
            raw = json.load(f)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read {config_path}: {error}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{config_path}: expected a JSON object")
    return Config(path, raw)


def find_configs(root=None):
    """Every configuration folder under `root` (default kernel_dir()) that
    holds config.json and manifest.json, sorted by name; [] if there is no
    such folder."""
    root = root or kernel_dir()
    if not os.path.isdir(root):
        return []
    configs = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if os.path.isfile(os.path.join(path, "config.json")) and os.path.isfile(os.path.join(path, "manifest.json")):
            configs.append(load_config(path))
    return configs


def torch_dtype(dtype):
    return dtypes.torch_dtype(dtype)


def make_inputs(config, seed=0, device="cuda"):
    """Fresh random inputs by manifest name: u and the gates ~ N(0, 1) in the
    dtype, k ~ N(0, 1)/sqrt(K) in f32, D ~ N(0, 1) in f32."""
    import torch

    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    dtype = torch_dtype(config.dtype)
    shape = (config.B, config.H, config.L)

    def normal(size):
        return torch.randn(size, generator=generator, device=device, dtype=torch.float32)

    inputs = {"u": normal(shape).to(dtype), "k": normal((config.H, config.K)) / math.sqrt(config.K)}
    if config.gated:
        inputs["pregate"] = normal(shape).to(dtype)
        inputs["postgate"] = normal(shape).to(dtype)
    if config.skip:
        inputs["skip"] = normal((config.H,))
    return inputs


def poisoned_output(config, device="cuda"):
    """The output buffer filled with NaN: an element the kernels do not write
    stays NaN."""
    import torch

    return torch.full((config.B, config.H, config.L), float("nan"), dtype=torch_dtype(config.dtype), device=device)


def _fft_size(n):
    return 1 << max(0, (n - 1).bit_length())


def regularized_kernel(config, k):
    """k through the configuration's regularizers, differentiable:
    Smooth(Squash(k)) (design.md; zero padding, the divisor kept)."""
    import torch
    import torch.nn.functional as F

    if config.squash is not None:
        k = torch.sign(k) * F.relu(k.abs() - config.squash)
    if config.smooth is not None:
        p = config.smooth // 2
        k = F.avg_pool1d(k[:, None, :], config.smooth, stride=1, padding=p, count_include_pad=True)[:, 0]
    return k


def kernel_spectrum(config, k, n):
    """rfft(k, n), zero at the bins >= the configuration's band."""
    import torch

    spectrum = torch.fft.rfft(k, n=n)
    if config.band is not None:
        spectrum[..., config.band:] = 0
    return spectrum


def reference(config, inputs, rows=None):
    """The exact result in float64 for batch rows `rows` (a slice; default
    all), from the given (already rounded) inputs, on their device."""
    import torch

    rows = rows if rows is not None else slice(None)
    u = inputs["u"][rows].double()
    k = regularized_kernel(config, inputs["k"].double())
    v = u * inputs["pregate"][rows].double() if config.gated else u
    length = config.L
    if config.mode == "causal":
        n = _fft_size(length + config.K)  # no wrap-around reaches t < L
        z = torch.fft.irfft(torch.fft.rfft(v, n=n) * torch.fft.rfft(k, n=n), n=n)[..., :length]
    else:
        z = torch.fft.irfft(torch.fft.rfft(v, n=length) * kernel_spectrum(config, k, length), n=length)
    if config.skip:
        z = z + inputs["skip"].double()[:, None] * v
    if config.gated:
        z = z * inputs["postgate"][rows].double()
    return z


def reference_gradients(config, inputs, dy):
    """The gradient of every input (config.input_names' order) for the
    output gradient dy: float64 autograd of `reference` on the inputs'
    device."""
    leaves = {name: inputs[name].detach().double().requires_grad_() for name in config.input_names}
    reference(config, leaves).backward(dy.double())
    return [leaves[name].grad for name in config.input_names]


def has_backward(config):
    """Whether the configuration was compiled with its backward (a
    training manifest)."""
    with open(config.manifest_path) as f:
        return "backward" in json.load(f)


def relative_error(config, inputs, y, max_elements=1 << 25):
    """||y - ref|| / ||ref|| over every element, with the float64 reference
    computed a few batch rows at a time."""
    per_row = config.H * config.L
    step = max(1, max_elements // per_row)
    diff2 = 0.0
    ref2 = 0.0
    for start in range(0, config.B, step):
        rows = slice(start, min(config.B, start + step))
        ref = reference(config, inputs, rows)
        diff2 += float(((y[rows].double() - ref) ** 2).sum())
        ref2 += float((ref**2).sum())
        del ref
    return math.sqrt(diff2 / ref2)


def data_bytes(config):
    """Bytes a convolution must move at least: read u (and both gates), write
    y, read D; k_f is counted by the caller (its layout is the compiler's)."""
    element = dtypes.element_bytes(config.dtype)
    elements = config.B * config.H * config.L
    streams = 2 + (2 if config.gated else 0)
    return streams * elements * element + (4 * config.H if config.skip else 0)
