"""GPU benchmark of the compiled convolution kernels against PyTorch's FFT
convolution and the memory-bandwidth floor (method: shared/design.md,
"Performance method"; docs/runtime.md):

    python3 bench/bench.py --kernels build/gpu-kernels --out $OUT

It runs the kernels through fftconv.runtime, the binding of the runtime
library: on a GPU machine, the build/runtime carried from the build machine
(or FFTCONV_RUNTIME_DIR; docs/runtime.md says where it is looked for).

For each configuration folder whose config.json says "bench": true (every
folder with --all), in one run on one GPU:

- correctness once: fresh random inputs, NaN-poisoned output, relative error
  against the float64 reference (and the same for the PyTorch path);
- "ours": the convolution kernel(s) alone, with the workspace k_f computed
  by one earlier full launch (what runs while k does not change);
- "ours+spectrum": every kernel of the manifest, k_f included;
- "PyTorch": irfft(rfft(v.float(), n=N) * k_f, n=N)[..., :L] with k_f
  precomputed, plus the gating, skip and rounding in PyTorch;
- the floor: bytes that must move (read u and the gates, write y, read D and
  our k_f workspace once) over the bandwidth of a large device-to-device
  copy measured in the same run (bytes read + written);
- peak device memory each allocates beyond its inputs (fresh program or
  fresh cuFFT plan cache, one call, torch.cuda.max_memory_allocated);
- with --flashfftconv, FlashFFTConv's module as its users call it
  (`FlashFFTConv(N, dtype)(u, k[, pregate, postgate])`, rfft(k) in every
  call, so against "ours+spectrum"), its time, error and peak memory on the
  rows it supports (f16 and bf16, no skip term, no band). It is a peer built
  beside the project on the GPU machine (docs/benchmarks.md says how), never
  part of it: the column is left out when the option is not given.

Times are CUDA-event medians over --iterations (>= 20) launches after
warm-up; each timed launch starts behind a GPU sleep so that host overhead
stays out, and inputs rotate over several sets when one set fits in L2.
Writes bench-<date>.csv, bench-<date>.md and, if matplotlib imports,
bench-<date>.png to --out, and prints the markdown table.
"""

import argparse
import csv
import datetime
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))

import torch  # noqa: E402

from fftconv import kernel_configs, runtime  # noqa: E402
from fftconv.runtime import Program  # noqa: E402

MIB = 1 << 20


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


class Timer:
    """CUDA-event timing of GPU work alone: each timed call is enqueued while
    the GPU sleeps, so the host's launch overhead does not count."""

    def __init__(self):
        self.cycles_per_ms = self._calibrate()

    @staticmethod
    def _calibrate():
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        cycles = 10_000_000
        torch.cuda._sleep(1000)
        start.record()
        torch.cuda._sleep(cycles)
        end.record()
        end.synchronize()
        return cycles / max(start.elapsed_time(end), 1e-3)

    def sleep_cycles(self, host_ms):
        """A GPU sleep (torch.cuda._sleep cycles) that outlasts the host's
        `host_ms` of enqueueing a call: twice that and 50 us, at most 50 ms."""
        return int(self.cycles_per_ms * min(50.0, 2 * host_ms + 0.05))

    def median_ms(self, calls, iterations, warmup):
        """Median over `iterations` timed calls, round-robin over `calls`
        (one per input set), after `warmup` untimed ones."""
        for i in range(max(warmup, len(calls))):
            calls[i % len(calls)]()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for i in range(3):
            calls[i % len(calls)]()
        host_ms = (time.perf_counter() - t0) * 1e3 / 3
        torch.cuda.synchronize()
        sleep_cycles = self.sleep_cycles(host_ms)
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iterations)]
        for i, (start, end) in enumerate(events):
            torch.cuda._sleep(sleep_cycles)
            start.record()
            calls[i % len(calls)]()
            end.record()
        torch.cuda.synchronize()
        return statistics.median(start.elapsed_time(end) for start, end in events)


def copy_bandwidth(timer, mib, iterations):
    """Bytes read + written per second by a device-to-device copy."""
    n = mib * MIB
    src = torch.empty(n, dtype=torch.uint8, device="cuda").random_()
    dst = torch.empty_like(src)
    ms = timer.median_ms([lambda: dst.copy_(src)], iterations, 3)
    del src, dst
    torch.cuda.empty_cache()
    return 2 * n / (ms * 1e-3)


# --------------------------------------------------------------------------
# One configuration
# --------------------------------------------------------------------------


def torch_conv(config, inputs, k_f):
    """PyTorch's FFT convolution with k_f = rfft(k, n=N) precomputed."""
    u = inputs["u"]
    v = u * inputs["pregate"] if config.gated else u
    y = torch.fft.irfft(torch.fft.rfft(v.float(), n=config.N) * k_f, n=config.N)[..., : config.L]
    if config.skip:
        y = y + inputs["skip"][:, None] * v.float()
    if config.gated:
        y = y * inputs["postgate"]
    return y.to(u.dtype)


def errors_against_reference(config, inputs, outputs, max_elements=1 << 25):
    """Relative errors of several outputs, the float64 reference computed
    once, a few batch rows at a time."""
    step = max(1, max_elements // (config.H * config.L))
    diff2 = [0.0] * len(outputs)
    ref2 = 0.0
    for start in range(0, config.B, step):
        rows = slice(start, min(config.B, start + step))
        ref = kernel_configs.reference(config, inputs, rows)
        ref2 += float((ref**2).sum())
        for i, y in enumerate(outputs):
            diff2[i] += float(((y[rows].double() - ref) ** 2).sum())
        del ref
    return [math.sqrt(d / ref2) for d in diff2]


def peak_bytes(fn):
    """Peak bytes allocated by fn() beyond what was allocated before."""
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    keep = fn()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - base
    del keep
    return peak


def input_sets(config, l2_bytes, seed):
    """Input sets sharing k and D; several when one set (u, gates, y) fits
    in twice the L2 cache, so that timed runs do not read from L2."""
    element = 2 if config.dtype in ("f16", "bf16") else 4
    per_set = (2 + (2 if config.gated else 0)) * config.B * config.H * config.L * element
    count = 1 if per_set > 2 * l2_bytes else min(8, math.ceil(3 * l2_bytes / per_set))
    free, _ = torch.cuda.mem_get_info()
    count = max(1, min(count, int(0.3 * free // max(per_set, 1))))
    first = kernel_configs.make_inputs(config, seed, "cuda")
    sets = [first]
    for i in range(1, count):
        fresh = kernel_configs.make_inputs(config, seed + i, "cuda")
        fresh["k"] = first["k"]
        if config.skip:
            fresh["skip"] = first["skip"]
        sets.append(fresh)
    return sets


FLASHFFTCONV_SIZES = {256, 512, 1024, 2048, 4096, 8192, 16384, 32768} | {1 << n for n in range(16, 23)}


def flashfftconv_supports(config):
    """Whether FlashFFTConv computes this row's convolution: its FFT sizes,
    f16 or bf16, causal with L = N/2 or circular with L = N, gates on both
    sides or none, no skip term, no band, no regularizer."""
    shape = config.L * 2 == config.N if config.mode == "causal" else config.L == config.N
    return (config.dtype in ("f16", "bf16") and config.N in FLASHFFTCONV_SIZES and shape and not config.skip
            and config.band is None and config.squash is None and config.smooth is None)


def import_flashfftconv():
    """FlashFFTConv's module class, a peer built beside the project on the
    GPU machine (docs/benchmarks.md); exits saying why when it does not
    import."""
    try:
        from flashfftconv import FlashFFTConv
    except ImportError as error:
        sys.exit(f"--flashfftconv: {error} (build FlashFFTConv beside the project first)")
    return FlashFFTConv


def bench_flashfftconv(config, timer, l2_bytes, args, module_class):
    """FlashFFTConv's time (rfft(k) in the call), relative error against the
    float64 reference and peak memory beyond its inputs, on our inputs."""
    module = module_class(config.N, dtype=kernel_configs.torch_dtype(config.dtype)).cuda()

    def call(s):
        with torch.no_grad():
            if config.gated:
                return module(s["u"], s["k"], s["pregate"], s["postgate"])
            return module(s["u"], s["k"])

    inputs = kernel_configs.make_inputs(config, args.seed, "cuda")
    y = call(inputs)
    torch.cuda.synchronize()
    row = {"flash_rel_err": errors_against_reference(config, inputs, [y])[0] if bool(torch.isfinite(y).all())
           else float("nan")}
    del y
    sets = input_sets(config, l2_bytes, args.seed + 100)
    row["flash_ms"] = timer.median_ms([lambda s=s: call(s) for s in sets], args.iterations, args.warmup)
    first = sets[0]
    del sets[1:]
    torch.cuda.empty_cache()
    row["flash_peak_mib"] = peak_bytes(lambda: (call(first),)) / MIB
    del first, module
    torch.cuda.empty_cache()
    return row


def bench_config(config, timer, bandwidth, l2_bytes, args):
    row = {
        "config": config.name,
        "N": config.N,
        "dtype": config.dtype,
        "mode": config.label,
        "kernels": config.kernels,
        "B": config.B,
        "H": config.H,
        "L": config.L,
        "K": config.K,
    }
    program = Program.from_dir(config.path)
    names = [a.name for a in program.inputs]
    if names != config.input_names:
        raise ValueError(f"manifest inputs {names}, config.json implies {config.input_names}")

    # Correctness, once.
    inputs = kernel_configs.make_inputs(config, args.seed, "cuda")
    out = kernel_configs.poisoned_output(config, "cuda")
    program.launch(inputs, outputs=out)
    k_f = kernel_configs.kernel_spectrum(config, inputs["k"], config.N)
    reference_torch = torch_conv(config, inputs, k_f)
    torch.cuda.synchronize()
    finite = bool(torch.isfinite(out).all())
    errors = errors_against_reference(config, inputs, [out, reference_torch]) if finite else [float("nan")] * 2
    row["rel_err"] = errors[0]
    row["pytorch_rel_err"] = errors[1]
    row["all_finite"] = finite
    del inputs, out, reference_torch, k_f
    torch.cuda.empty_cache()

    # Timings.
    sets = input_sets(config, l2_bytes, args.seed + 100)
    row["input_sets"] = len(sets)
    outs = [torch.empty(config.B, config.H, config.L, dtype=kernel_configs.torch_dtype(config.dtype), device="cuda")
            for _ in sets]
    program.launch(sets[0], outputs=outs[0])  # k_f into the workspace
    conv_only = [program.bind(s, outputs=o, kernels=program.consumer_kernels) for s, o in zip(sets, outs)]
    everything = [program.bind(s, outputs=o, kernels=list(range(len(program.manifest.kernels))))
                  for s, o in zip(sets, outs)]
    row["ours_ms"] = timer.median_ms(conv_only, args.iterations, args.warmup)
    row["ours_with_spectrum_ms"] = timer.median_ms(everything, args.iterations, args.warmup)
    k_f = kernel_configs.kernel_spectrum(config, sets[0]["k"], config.N)
    torch_calls = [lambda s=s: torch_conv(config, s, k_f) for s in sets]
    row["pytorch_ms"] = timer.median_ms(torch_calls, args.iterations, args.warmup)
    del conv_only, everything, torch_calls

    # The floor: bytes that must move over the measured copy bandwidth.
    # k_f once: our spectrum workspace, or rfft's H x (N/2 + 1) complex f32
    # where ours is larger (the three-pass form's K holds N values a
    # channel).
    spectrum = [a for a in program.manifest.workspaces if a.producers]
    kf_bytes = config.H * (config.N // 2 + 1) * 8
    if spectrum:
        kf_bytes = min(kf_bytes, sum(a.nbytes for a in spectrum))
    moved = kernel_configs.data_bytes(config) + kf_bytes
    row["floor_bytes"] = moved
    row["floor_ms"] = moved / bandwidth * 1e3
    row["ours_over_floor"] = row["ours_ms"] / row["floor_ms"]
    row["pytorch_over_ours"] = row["pytorch_ms"] / row["ours_ms"]

    # Peak memory beyond the inputs: a fresh program (its workspaces and
    # output), and PyTorch with a cold cuFFT plan cache (k_f included).
    first = sets[0]
    del sets[1:], outs
    program.close()
    del program
    torch.cuda.empty_cache()
    row["ours_peak_mib"] = peak_bytes(lambda: (Program.from_dir(config.path).launch(first),)) / MIB
    torch.backends.cuda.cufft_plan_cache.clear()
    torch.cuda.empty_cache()
    row["pytorch_peak_mib"] = (
        peak_bytes(lambda: (torch_conv(config, first, kernel_configs.kernel_spectrum(config, first["k"], config.N)),))
        / MIB
    )
    del first
    torch.cuda.empty_cache()
    return row


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

COLUMNS = [
    ("N", "N", "{}"),
    ("dtype", "dtype", "{}"),
    ("mode", "mode", "{}"),
    ("kernels", "kernels", "{}"),
    ("BxH", None, None),
    ("ours ms", "ours_ms", "{:.3f}"),
    ("ours+spectrum ms", "ours_with_spectrum_ms", "{:.3f}"),
    ("PyTorch ms", "pytorch_ms", "{:.3f}"),
    ("floor ms", "floor_ms", "{:.4f}"),
    ("ours/floor", "ours_over_floor", "{:.2f}"),
    ("PyTorch/ours", "pytorch_over_ours", "{:.2f}"),
    ("ours MiB", "ours_peak_mib", "{:.1f}"),
    ("PyTorch MiB", "pytorch_peak_mib", "{:.1f}"),
    ("rel err", "rel_err", "{:.1e}"),
]

FLASHFFTCONV_COLUMNS = [
    ("FlashFFTConv ms", "flash_ms", "{:.3f}"),
    ("FlashFFTConv/(ours+spectrum)", "flash_over_ours", "{:.2f}"),
    ("FlashFFTConv MiB", "flash_peak_mib", "{:.1f}"),
    ("FlashFFTConv rel err", "flash_rel_err", "{:.1e}"),
]


def markdown_table(rows, columns=COLUMNS, failed_column="ours ms"):
    """The rows under `columns` ((title, key, format); "BxH" is B x H);
    a failed row says why in `failed_column` (bench_training.py's table
    too)."""
    lines = ["| " + " | ".join(c[0] for c in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for title, key, fmt in columns:
            if title == "BxH":
                cells.append(f"{row['B']}x{row['H']}")
            elif key in row and row[key] is not None:
                cells.append(fmt.format(row[key]))
            else:
                cells.append("—")
        if "error" in row:
            cells[[c[0] for c in columns].index(failed_column)] = "failed: " + row["error"].splitlines()[-1].replace("|", "/")[:80]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def device_description():
    props = torch.cuda.get_device_properties(torch.cuda.current_device())
    driver = "?"
    try:
        driver = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True, timeout=30
        ).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        pass
    return props, driver


def write_plot(path, rows):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = [r for r in rows if "ours_ms" in r]
    if not rows:
        return False
    labels = [f"{r['N']} {r['dtype']}\n{r['mode']}\n{r['kernels']}\n{r['B']}x{r['H']}" for r in rows]
    series = [("ours", "ours_ms"), ("ours+spectrum", "ours_with_spectrum_ms"), ("PyTorch", "pytorch_ms"), ("floor", "floor_ms")]
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(rows)), 4.5))
    for i, (name, key) in enumerate(series):
        ax.bar([x + (i - 1.5) * width for x in range(len(rows))], [r[key] for r in rows], width, label=name)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("ms (median, CUDA events)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", default=kernel_configs.kernel_dir(), help="kernel directory (default %(default)s)")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench"), help="output folder")
    parser.add_argument("--iterations", type=int, default=30, help="timed launches per measurement (>= 20)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--all", action="store_true", help='every configuration, not only "bench": true')
    parser.add_argument("--configs", nargs="*", default=None, help="only configurations whose name contains one of these")
    parser.add_argument("--copy-mib", type=int, default=1024, help="size of the bandwidth copy (MiB)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--flashfftconv", action="store_true",
                        help="also time FlashFFTConv (import flashfftconv: a peer built beside the project)")
    args = parser.parse_args()
    if args.iterations < 20:
        parser.error("--iterations must be at least 20")
    if not torch.cuda.is_available():
        sys.exit("bench.py: no CUDA GPU (torch.cuda.is_available() is False)")
    try:
        print(f"runtime: {runtime.library_path()}")
    except RuntimeError as error:
        sys.exit(f"bench.py: {error}")

    flashfftconv = import_flashfftconv() if args.flashfftconv else None

    configs = kernel_configs.find_configs(os.path.abspath(args.kernels))
    if not args.all:
        configs = [c for c in configs if c.bench]
    if args.configs:
        configs = [c for c in configs if any(s in c.name for s in args.configs)]
    if not configs:
        sys.exit(f'bench.py: no configuration to run in {args.kernels} ("bench": true in config.json, or --all)')
    # As design.md's table: by dtype, then FFT size, then the plain form first.
    dtype_order = {"f16": 0, "bf16": 1, "f32": 2}
    configs.sort(key=lambda c: (dtype_order[c.dtype], c.N, c.gated, c.mode, c.skip, c.B * c.H, c.name))

    os.makedirs(args.out, exist_ok=True)
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
    flash_rows = {}  # FlashFFTConv once a shape: the alternatives' rows share it
    for config in configs:
        print(f"== {config.name}: N={config.N} {config.dtype} {config.label} B={config.B} H={config.H}", flush=True)
        try:
            row = bench_config(config, timer, bandwidth, l2_bytes, args)
            print(
                f"   ours {row['ours_ms']:.3f} ms, ours+spectrum {row['ours_with_spectrum_ms']:.3f} ms, "
                f"PyTorch {row['pytorch_ms']:.3f} ms, floor {row['floor_ms']:.3f} ms, rel err {row['rel_err']:.2e} "
                f"(PyTorch {row['pytorch_rel_err']:.2e}), {row['input_sets']} input set(s)",
                flush=True,
            )
        except Exception as error:  # report and go on with the next one
            traceback.print_exc()
            row = {"config": config.name, "N": config.N, "dtype": config.dtype, "mode": config.label,
                   "kernels": config.kernels, "B": config.B,
                   "H": config.H, "L": config.L, "K": config.K, "error": f"{type(error).__name__}: {error}"}
            torch.cuda.empty_cache()
        if flashfftconv and flashfftconv_supports(config) and "error" not in row:
            key = (config.N, config.dtype, config.mode, config.gated, config.B, config.H, config.L, config.K)
            if key not in flash_rows:
                try:
                    flash_rows[key] = bench_flashfftconv(config, timer, l2_bytes, args, flashfftconv)
                except Exception as error:  # the peer's failure is its row's, not ours
                    traceback.print_exc()
                    flash_rows[key] = {"flash_error": f"{type(error).__name__}: {error}"}
                    torch.cuda.empty_cache()
            row.update(flash_rows[key])
            if "flash_ms" in row:
                row["flash_over_ours"] = row["flash_ms"] / row["ours_with_spectrum_ms"]
                print(f"   FlashFFTConv {row['flash_ms']:.3f} ms ({row['flash_over_ours']:.2f}x ours+spectrum), "
                      f"rel err {row['flash_rel_err']:.2e}", flush=True)
        row["copy_TBps"] = bandwidth / 1e12
        row["iterations"] = args.iterations
        row["device"] = props.name
        rows.append(row)

    keys = ["config", "N", "dtype", "mode", "kernels", "B", "H", "L", "K", "ours_ms", "ours_with_spectrum_ms", "pytorch_ms",
            "floor_ms", "floor_bytes", "copy_TBps", "ours_over_floor", "pytorch_over_ours", "ours_peak_mib",
            "pytorch_peak_mib", "rel_err", "pytorch_rel_err", "all_finite", "input_sets", "iterations", "device", "error"]
    if flashfftconv:
        keys += ["flash_ms", "flash_over_ours", "flash_peak_mib", "flash_rel_err", "flash_error"]
    csv_path = os.path.join(args.out, f"bench-{stamp}.csv")
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    table = markdown_table(rows, COLUMNS + (FLASHFFTCONV_COLUMNS if flashfftconv else []))
    md_path = os.path.join(args.out, f"bench-{stamp}.md")
    with open(md_path, "w") as f:
        f.write(f"# fftconv benchmark, {stamp}\n\n{header}.\n\n")
        f.write(
            f"Medians of {args.iterations} CUDA-event timings after warm-up (bench/bench.py). "
            "ours: the convolution kernel(s) with k_f precomputed; ours+spectrum: every kernel; "
            "PyTorch: irfft(rfft(v.float(), n=N) * k_f, n=N)[..., :L] with k_f precomputed, gating/skip in "
            "PyTorch; floor: bytes that must move (u, gates, y, D, our k_f once) over the copy bandwidth; "
            "MiB: peak device memory allocated beyond the inputs; rel err: ours against the float64 reference."
            + (" FlashFFTConv: its module as its users call it, rfft(k) in every call (so against ours+spectrum), "
               "built beside the project; — where it has no such convolution.\n\n" if flashfftconv else "\n\n")
        )
        f.write(table + "\n")
    plotted = write_plot(os.path.join(args.out, f"bench-{stamp}.png"), rows)
    print()
    print(table)
    print(f"\nwrote {csv_path}, {md_path}" + (", and the .png" if plotted else " (no matplotlib: no plot)"))
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
