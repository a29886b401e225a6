"""GPU benchmark of the drop-in module's forward + backward against PyTorch
autograd and the memory-bandwidth floor (issue 12, point 5; the rows of
shared/design.md's "Forward + backward" table):

    /usr/bin/python3 scripts/build_gpu_kernels.py --training-bench --out build/gpu-kernels  # build machine
    python3 bench/bench_training.py --kernels build/gpu-kernels --out $OUT                  # GPU machine

The GPU machine has no MLIR: fftconv.torch.FFTConv finds its compiled
kernels in the module cache <kernels>/module-cache (FFTCONV_KERNEL_CACHE,
set here), which `--training-bench` fills with TRAINING_BENCH_CASES. The
runtime is found as for bench/bench.py (docs/runtime.md).

For each row (N, dtype, mode, B x H; "causal": L = K = N/2, no gates;
"gated, circular": L = K = N with pregate and postgate), in one run on one
GPU, with u and the gates in the dtype, k (H x K) in float32, all requiring
grad, and dy in the dtype:

- "ours": y = FFTConv(seqlen=N, dtype)(u, k[, pregate, postgate]) then
  y.backward(dy), the module's public path; k's spectrum is computed inside
  each call (nothing is cached across calls). Whichever backward the module
  runs on CUDA is timed; the "backward" column says which (FFTConv's
  last_backward: "compiled" kernels, or the "interim" torch.fft backward
  past the compiled backward's sizes);
- "PyTorch": irfft(rfft(v.float(), n=N) * rfft(k, n=N), n=N)[..., :L]
  (v = pregate * u when gated, the result times postgate, cast to the
  dtype), then backward(dy), same inputs;
- the floor: the bytes a forward + backward must move (forward: read u and
  the gates, write y, read k; backward: read dy, u and the gates, write du
  and the gate gradients, read k and write dk; B x H x L tensors at the
  dtype's size, k and dk in float32 once per channel) over the bandwidth
  of a device-to-device copy measured in the same run (read + write);
- peak memory of one forward + backward beyond the inputs and dy (a fresh
  module, program load included; PyTorch with a cold cuFFT plan cache);
- correctness before timing: du, dk, dpregate, dpostgate of ours (second
  call, after the first call's gradients were NaN-filled and dropped, so
  that memory the caching allocator hands back shows any element the
  backward does not write) against float64 autograd of the same formula on
  the GPU, a few channels at a time; relative error ||a - b|| / ||b|| per
  gradient, the row's maximum reported.

Times are CUDA-event medians over --iterations (>= 20) calls after warm-up,
each behind a GPU sleep (bench.py's Timer). FlashFFTConv's fwd+bwd and its
PyTorch time are design.md's (H100, its own run), as reference columns:
compare the ratios, not the times, unless the card is the same. With
--flashfftconv, FlashFFTConv built beside the project (bench.py's option)
is measured instead, in the same run on the same inputs: its module's
forward + backward (`FlashFFTConv(N, dtype)(u, k[, pregate, postgate])`,
then backward(dy)), its gradients' errors against the same float64
reference, and its peak memory. Writes bench-training-<date>.csv and .md to
--out and prints the markdown table.
"""

import argparse
import csv
import datetime
import functools
import math
import os
import platform
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import bench  # noqa: E402
from bench import MIB, Timer, copy_bandwidth, device_description, input_sets, peak_bytes  # noqa: E402
from build_gpu_kernels import TRAINING_BENCH_CASES  # noqa: E402
from fftconv import dtypes, kernel_configs, runtime  # noqa: E402
import fftconv.torch as fftconv_torch  # noqa: E402

# design.md, "Forward + backward" (FlashFFTConv on an H100): (N, dtype,
# gated) -> (FlashFFTConv fwd+bwd ms, PyTorch fwd+bwd ms, its du error).
FLASH = {
    (256, "f16", False): (0.21, 0.86, 6.3e-04), (256, "f16", True): (0.31, 1.05, 7.0e-04),
    (1024, "f16", False): (0.94, 3.05, 6.8e-04), (1024, "f16", True): (1.47, 3.80, 7.5e-04),
    (4096, "f16", False): (4.02, 12.18, 7.6e-04), (4096, "f16", True): (6.95, 15.18, 8.2e-04),
    (8192, "f16", False): (9.06, 24.43, 7.7e-04), (8192, "f16", True): (15.84, 30.46, 8.4e-04),
    (16384, "f16", False): (13.31, 25.04, 8.3e-04), (16384, "f16", True): (24.92, 31.03, 8.8e-04),
    (32768, "f16", False): (20.72, 27.35, 9.8e-04), (32768, "f16", True): (34.89, 33.35, 1.4e00),
    (65536, "f16", False): (23.51, 31.24, 9.0e-04), (65536, "f16", True): (35.53, 37.18, 9.4e-04),
    (1048576, "f16", False): (33.37, 37.75, 1.6e-03), (1048576, "f16", True): (48.80, 43.68, 1.4e-03),
    (256, "bf16", False): (0.21, 0.88, 5.0e-03), (256, "bf16", True): (0.41, 1.05, 5.5e-03),
    (1024, "bf16", False): (1.22, 3.05, 5.1e-03), (1024, "bf16", True): (2.02, 3.81, 5.5e-03),
    (4096, "bf16", False): (4.33, 12.18, 6.1e-03), (4096, "bf16", True): (7.47, 15.19, 6.5e-03),
    (8192, "bf16", False): (9.97, 24.44, 6.1e-03), (8192, "bf16", True): (17.41, 30.49, 6.5e-03),
    (16384, "bf16", False): (21.46, 25.05, 6.1e-03), (16384, "bf16", True): (34.88, 31.06, 6.5e-03),
    (32768, "bf16", False): (33.85, 27.39, 6.1e-03), (32768, "bf16", True): (50.25, 33.41, 1.4e00),
    (65536, "bf16", False): (28.25, 31.24, 6.9e-03), (65536, "bf16", True): (40.48, 37.20, 7.3e-03),
    (1048576, "bf16", False): (47.52, 37.75, 6.9e-03), (1048576, "bf16", True): (69.74, 43.70, 7.2e-03),
}

GRADIENTS = ("du", "dk", "dpre", "dpost")


# --------------------------------------------------------------------------
# One row
# --------------------------------------------------------------------------


def row_config(name, dtype, case):
    """A kernel_configs.Config for a TRAINING_BENCH_CASES entry, so that
    bench.py's and kernel_configs' input helpers apply (no folder behind it)."""
    seqlen, b, h, length, taps, gated = case
    raw = dict(N=seqlen, B=b, H=h, L=length, K=taps, dtype=dtype, mode="circular" if gated else "causal",
               gated=gated, skip=False)
    return kernel_configs.Config(os.path.join("module-cache", name), raw)


def leaves_of(config, inputs):
    """u, k, pregate, postgate (the last two when gated), requiring grad."""
    names = ["u", "k"] + (["pregate", "postgate"] if config.gated else [])
    return [inputs[n].requires_grad_() for n in names]


def make_dy(config, seed):
    generator = torch.Generator(device="cuda")
    generator.manual_seed(seed)
    shape = (config.B, config.H, config.L)
    return torch.randn(shape, generator=generator, device="cuda").to(kernel_configs.torch_dtype(config.dtype))


def torch_conv(config, u, k, pre=None, post=None):
    """PyTorch's differentiable FFT convolution (k's spectrum in the call)."""
    n = config.N
    v = pre * u if config.gated else u
    y = torch.fft.irfft(torch.fft.rfft(v.float(), n=n) * torch.fft.rfft(k, n=n), n=n)[..., : config.L]
    if config.gated:
        y = y * post
    return y.to(u.dtype)


def ours_conv(module, config):
    if config.gated:
        return lambda u, k, pre, post: module(u, k, pregate=pre, postgate=post)
    return lambda u, k: module(u, k)


def forward_backward(conv, leaves, dy):
    """One forward + backward; the gradients replace (not add to) .grad."""
    for t in leaves:
        t.grad = None
    y = conv(*leaves)
    y.backward(dy)
    return y


def poison(leaves):
    """NaN-fills each .grad and drops it: a later backward that reuses that
    memory (the caching allocator hands it back) and leaves an element
    unwritten shows NaN there."""
    for t in leaves:
        if t.grad is not None:
            t.grad.fill_(float("nan"))
        t.grad = None


def reference_errors(config, leaves, dy, candidates, max_elements):
    """Relative error of each gradient of each candidate ({label: [du, dk,
    dpre, dpost]}) against float64 autograd on the GPU, over channel slices
    of at most ~max_elements per B x H' x N tensor (each channel's gradients
    depend on that channel alone; dk sums over the batch)."""
    step = max(1, max_elements // (config.B * config.N))
    count = len(leaves)
    diff2 = {label: [0.0] * count for label in candidates}
    ref2 = [0.0] * count
    for start in range(0, config.H, step):
        c = slice(start, min(config.H, start + step))
        exact = [(t[:, c] if t.dim() == 3 else t[c]).detach().double().requires_grad_() for t in leaves]
        with torch.enable_grad():
            y = _conv64(config, *exact)
            grads = torch.autograd.grad(y, exact, dy[:, c].double())
        for i, g in enumerate(grads):
            ref2[i] += float((g**2).sum())
            for label, got in candidates.items():
                part = got[i][:, c] if got[i].dim() == 3 else got[i][c]
                diff2[label][i] += float(((part.double() - g) ** 2).sum())
        del exact, y, grads
    return {label: {GRADIENTS[i]: math.sqrt(diff2[label][i] / ref2[i]) for i in range(count)} for label in candidates}


def _conv64(config, u, k, pre=None, post=None):
    """The formula of torch_conv in float64 with no rounding."""
    n = config.N
    v = pre * u if config.gated else u
    y = torch.fft.irfft(torch.fft.rfft(v, n=n) * torch.fft.rfft(k, n=n), n=n)[..., : config.L]
    return y * post if config.gated else y


def floor_bytes(config):
    """Bytes a forward + backward must move (see the module docstring)."""
    element = dtypes.element_bytes(config.dtype)
    gates = 2 if config.gated else 0
    forward = 2 + gates  # read u and the gates, write y
    backward = 3 + 2 * gates  # read dy, u and the gates; write du and the gate gradients
    kernel = 3 * config.H * config.K * 4  # read k (forward), read k and write dk (backward), float32
    return (forward + backward) * config.B * config.H * config.L * element + kernel


def bench_row(name, config, timer, bandwidth, l2_bytes, args, flash_class=None):
    """One row; with `flash_class` (FlashFFTConv's module), FlashFFTConv
    measured beside ours where it has the convolution, else design.md's
    reference numbers."""
    row = {"name": name, "N": config.N, "dtype": config.dtype, "mode": config.label, "B": config.B, "H": config.H,
           "L": config.L, "K": config.K}
    if flash_class is None:
        flash = FLASH.get((config.N, config.dtype, config.gated))
        if flash:
            row["flash_ms"], row["flash_torch_ms"], row["flash_du_error"] = flash
            row["flash_torch_over_flash"] = flash[1] / flash[0]
    elif not bench.flashfftconv_supports(config):
        flash_class = None
    dtype = kernel_configs.torch_dtype(config.dtype)
    module = fftconv_torch.FFTConv(seqlen=config.N, dtype=dtype)
    ours = ours_conv(module, config)
    pytorch = functools.partial(torch_conv, config)
    peer = ours_conv(flash_class(config.N, dtype=dtype).cuda(), config) if flash_class else None

    # Correctness, before timing: the first call loads the program; its
    # gradients are poisoned so that the second call's are checked.
    leaves = leaves_of(config, kernel_configs.make_inputs(config, args.seed, "cuda"))
    dy = make_dy(config, args.seed + 1)
    forward_backward(ours, leaves, dy)
    poison(leaves)
    forward_backward(ours, leaves, dy)
    torch.cuda.synchronize()
    row["backward"] = module.last_backward
    ours_grads = [t.grad for t in leaves]
    for t in leaves:
        t.grad = None
    forward_backward(pytorch, leaves, dy)
    candidates = {"ours": ours_grads, "torch": [t.grad for t in leaves]}
    for t in leaves:
        t.grad = None
    if peer:
        forward_backward(peer, leaves, dy)
        candidates["flash"] = [t.grad for t in leaves]
        for t in leaves:
            t.grad = None
    errors = reference_errors(config, leaves, dy, candidates, args.check_elements)
    for g, e in errors["ours"].items():
        row[f"{g}_rel_error"] = e

    def worst(label):  # NaN (an unwritten element) wins over any finite error.
        return max(errors[label].values(), key=lambda e: (math.isnan(e), e))

    row["max_rel_error"] = worst("ours")
    row["torch_max_rel_error"] = worst("torch")
    if peer:
        row["flash_max_rel_error"] = worst("flash")
        row["flash_du_error"] = errors["flash"]["du"]
    row["within_tolerance"] = bool(row["max_rel_error"] <= kernel_configs.TOLERANCE[config.dtype])
    del leaves, dy, ours_grads, candidates
    torch.cuda.empty_cache()

    # Timings: input sets as bench.py's (several when one fits in L2), k
    # shared, each with its own dy.
    sets = input_sets(config, l2_bytes, args.seed + 100)
    row["input_sets"] = len(sets)
    work = [(leaves_of(config, s), make_dy(config, args.seed + 200 + i)) for i, s in enumerate(sets)]
    del sets
    ours_calls = [lambda w=w: forward_backward(ours, *w) for w in work]
    torch_calls = [lambda w=w: forward_backward(pytorch, *w) for w in work]
    row["ours_ms"] = timer.median_ms(ours_calls, args.iterations, args.warmup)
    row["torch_ms"] = timer.median_ms(torch_calls, args.iterations, args.warmup)
    row["torch_over_ours"] = row["torch_ms"] / row["ours_ms"]
    if peer:
        row["flash_ms"] = timer.median_ms([lambda w=w: forward_backward(peer, *w) for w in work], args.iterations,
                                          args.warmup)
        row["flash_over_ours"] = row["flash_ms"] / row["ours_ms"]
    row["floor_bytes"] = floor_bytes(config)
    row["floor_ms"] = row["floor_bytes"] / bandwidth * 1e3
    row["ours_over_floor"] = row["ours_ms"] / row["floor_ms"]

    # Peak memory beyond the inputs and dy: a fresh module (its program and
    # workspaces), and PyTorch with a cold cuFFT plan cache.
    leaves, dy = work[0]
    for t in (x for w in work for x in w[0]):
        t.grad = None
    del work[1:], ours_calls, torch_calls, module, ours
    torch.cuda.empty_cache()
    fresh = ours_conv(fftconv_torch.FFTConv(seqlen=config.N, dtype=dtype), config)
    row["ours_peak_MiB"] = peak_bytes(lambda: (forward_backward(fresh, leaves, dy), [t.grad for t in leaves])) / MIB
    for t in leaves:
        t.grad = None
    del fresh
    torch.backends.cuda.cufft_plan_cache.clear()
    torch.cuda.empty_cache()
    row["torch_peak_MiB"] = peak_bytes(lambda: (forward_backward(pytorch, leaves, dy), [t.grad for t in leaves])) / MIB
    for t in leaves:
        t.grad = None
    if peer:
        del peer
        torch.cuda.empty_cache()
        fresh = ours_conv(flash_class(config.N, dtype=dtype).cuda(), config)
        row["flash_peak_MiB"] = peak_bytes(lambda: (forward_backward(fresh, leaves, dy), [t.grad for t in leaves])) / MIB
        for t in leaves:
            t.grad = None
        del fresh
    del leaves, dy, work
    torch.cuda.empty_cache()
    return row


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

COLUMNS = [
    ("N", "N", "{}"),
    ("dtype", "dtype", "{}"),
    ("mode", "mode", "{}"),
    ("BxH", None, None),
    ("ours fwd+bwd ms (k spectrum per call)", "ours_ms", "{:.3f}"),
    ("PyTorch fwd+bwd ms", "torch_ms", "{:.3f}"),
    ("PyTorch/ours", "torch_over_ours", "{:.2f}"),
    ("floor ms", "floor_ms", "{:.3f}"),
    ("ours/floor", "ours_over_floor", "{:.2f}"),
    ("ours MiB", "ours_peak_MiB", "{:.0f}"),
    ("PyTorch MiB", "torch_peak_MiB", "{:.0f}"),
    ("max rel err (du, dk, gates)", "max_rel_error", "{:.1e}"),
    ("backward", "backward", "{}"),
    ("FlashFFTConv ms (design.md)", "flash_ms", "{:.2f}"),
    ("its PyTorch ms", "flash_torch_ms", "{:.2f}"),
    ("its PyTorch/Flash", "flash_torch_over_flash", "{:.2f}"),
]

# With --flashfftconv: FlashFFTConv measured in the run, for design.md's
# columns.
MEASURED_FLASH_COLUMNS = COLUMNS[:-3] + [
    ("FlashFFTConv fwd+bwd ms", "flash_ms", "{:.3f}"),
    ("FlashFFTConv/ours", "flash_over_ours", "{:.2f}"),
    ("FlashFFTConv MiB", "flash_peak_MiB", "{:.0f}"),
    ("FlashFFTConv max rel err", "flash_max_rel_error", "{:.1e}"),
]

CSV_KEYS = ["N", "dtype", "mode", "B", "H", "ours_ms", "torch_ms", "torch_over_ours", "floor_ms", "ours_over_floor",
            "ours_peak_MiB", "torch_peak_MiB", "max_rel_error", "flash_ms", "flash_torch_ms",
            "flash_torch_over_flash", "backward", "name", "L", "K"] + [f"{g}_rel_error" for g in GRADIENTS] + [
            "within_tolerance", "torch_max_rel_error", "flash_du_error", "floor_bytes", "copy_TBps", "input_sets",
            "iterations", "device", "error", "flash_over_ours", "flash_peak_MiB", "flash_max_rel_error"]


def write_outputs(rows, out, stamp, header, iterations, measured_flash=False):
    """bench-training-<stamp>.csv and .md under `out`; returns their paths
    and the markdown table."""
    os.makedirs(out, exist_ok=True)
    csv_path = os.path.join(out, f"bench-training-{stamp}.csv")
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_KEYS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    table = bench.markdown_table(rows, MEASURED_FLASH_COLUMNS if measured_flash else COLUMNS,
                                 failed_column=COLUMNS[4][0])
    md_path = os.path.join(out, f"bench-training-{stamp}.md")
    with open(md_path, "w") as f:
        f.write(f"# fftconv forward + backward benchmark, {stamp}\n\n{header}.\n\n")
        f.write(
            f"Medians of {iterations} CUDA-event timings after warm-up (bench/bench_training.py). "
            "ours: FFTConv forward + y.backward(dy), k's spectrum computed in each call, the backward named in "
            "'backward'; PyTorch: irfft(rfft(v.float(), n=N) * rfft(k, n=N), n=N)[..., :L] (gated: v = pregate * u, "
            "times postgate) with autograd; floor: bytes a forward + backward must move (u, gates, y, dy, du, gate "
            "gradients at the dtype's size; k, dk in float32) over the copy bandwidth; MiB: peak device memory of "
            "one forward + backward beyond the inputs and dy; max rel err: the largest of du, dk, dpregate, "
            "dpostgate of ours against float64 autograd; "
            + ("FlashFFTConv: built beside the project, its module's forward + backward in this run on the same "
               "inputs, its max rel err over the same gradients.\n\n" if measured_flash else
               "FlashFFTConv and its PyTorch: design.md's H100 numbers, for their ratio.\n\n")
        )
        f.write(table + "\n")
    return csv_path, md_path, table


def selected_cases(only):
    return [c for c in TRAINING_BENCH_CASES if not only or any(s in c[0] for s in only)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", default=kernel_configs.kernel_dir(),
                        help="kernel directory whose module-cache holds the compiled module (default %(default)s)")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench-training"), help="output folder")
    parser.add_argument("--only", nargs="+", default=None, metavar="SUBSTRING",
                        help="only rows whose name (train-n<N>-<dtype>-<causal|gated-circular>) contains one of these")
    parser.add_argument("--iterations", type=int, default=30, help="timed calls per measurement (>= 20)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--copy-mib", type=int, default=1024, help="size of the bandwidth copy (MiB)")
    parser.add_argument("--check-elements", type=int, default=1 << 25,
                        help="float64 elements per tensor of the reference's channel slices")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--flashfftconv", action="store_true",
                        help="measure FlashFFTConv (a peer built beside the project) instead of design.md's numbers")
    args = parser.parse_args()
    if args.iterations < 20:
        parser.error("--iterations must be at least 20")
    flash_class = bench.import_flashfftconv() if args.flashfftconv else None
    cases = selected_cases(args.only)
    if not cases:
        parser.error(f"no row matches --only {' '.join(args.only)}")
    # The module looks its kernels up here (kernel_cache_stem): the GPU
    # machine cannot compile them.
    cache = os.path.join(os.path.abspath(args.kernels), "module-cache")
    os.environ["FFTCONV_KERNEL_CACHE"] = cache
    if not os.path.isdir(cache):
        print(f"bench_training.py: warning: no {cache} (build_gpu_kernels.py --training-bench makes it)", file=sys.stderr)
    if not torch.cuda.is_available():
        sys.exit("bench_training.py: no CUDA GPU (torch.cuda.is_available() is False)")
    try:
        print(f"runtime: {runtime.library_path()}; module cache: {cache}")
    except RuntimeError as error:
        sys.exit(f"bench_training.py: {error}")

    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
    props, driver = device_description()
    l2_bytes = getattr(props, "L2_cache_size", 50 * MIB) or 50 * MIB
    timer = Timer()
    bandwidth = copy_bandwidth(timer, args.copy_mib, args.iterations)
    header = (
        f"{props.name}, driver {driver}, PyTorch {torch.__version__} (CUDA {torch.version.cuda}), "
        f"Python {platform.python_version()}; device-to-device copy {bandwidth / 1e12:.2f} TB/s (read + write); "
        f"L2 {l2_bytes / MIB:.0f} MiB"
    )
    print(header, flush=True)

    rows = []
    for name, dtype, case in cases:
        config = row_config(name, dtype, case)
        print(f"== {name}: N={config.N} {dtype} {config.label} B={config.B} H={config.H}", flush=True)
        try:
            row = bench_row(name, config, timer, bandwidth, l2_bytes, args, flash_class)
            print(
                f"   ours {row['ours_ms']:.3f} ms ({row['backward']} backward), PyTorch {row['torch_ms']:.3f} ms, "
                f"floor {row['floor_ms']:.3f} ms, peak {row['ours_peak_MiB']:.0f} / {row['torch_peak_MiB']:.0f} MiB, "
                + ", ".join(f"{g} {row[g + '_rel_error']:.1e}" for g in GRADIENTS if g + "_rel_error" in row)
                + f" (PyTorch max {row['torch_max_rel_error']:.1e})"
                + (f"; FlashFFTConv {row['flash_ms']:.3f} ms, max {row['flash_max_rel_error']:.1e}"
                   if "flash_max_rel_error" in row else ""),
                flush=True,
            )
            if not row["within_tolerance"]:
                print(f"   ERROR above the {dtype} tolerance {kernel_configs.TOLERANCE[dtype]:.0e}", flush=True)
        except Exception as error:  # report and go on with the next row
            traceback.print_exc()
            row = {"name": name, "N": config.N, "dtype": dtype, "mode": config.label, "B": config.B,
                   "H": config.H, "L": config.L, "K": config.K, "error": f"{type(error).__name__}: {error}"}
            torch.cuda.empty_cache()
        row["copy_TBps"] = bandwidth / 1e12
        row["iterations"] = args.iterations
        row["device"] = props.name
        rows.append(row)

    csv_path, md_path, table = write_outputs(rows, args.out, stamp, header, args.iterations, bool(flash_class))
    print()
    print(table)
    print(f"\nwrote {csv_path}, {md_path}")
    failed = any("error" in r or not r.get("within_tolerance", False) for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
