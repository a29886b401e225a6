"""Runs the kernels of compiled configurations once each inside a CUDA
profiler range, for Nsight Compute (ncu) to measure what bounds them:

    ncu --clock-control none --profile-from-start off \\
        --section SpeedOfLight --section ComputeWorkloadAnalysis ... \\
        --csv --page details --log-file $OUT/ncu.csv \\
        python3 bench/profile.py --kernels build/gpu-kernels --configs n4096-f16-causal

For each configuration folder whose name contains one of --configs: one
warm-up launch of every kernel of the manifest (k_f included), then one
launch inside cudaProfilerStart/Stop. Profile names each kernel
`<config>:<kernel>` in --out/launches.json (ncu reports kernels in launch
order), and `summarize` there turns ncu's CSV into a table, with what
bounds each kernel in absolute terms (tensor TFLOP/s, shared-memory and
HBM GB/s) where ncu measured `--metrics $(python3 bench/profile.py
--metrics)`.
"""

import argparse
import csv
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))


def run(args):
    import torch

    from fftconv import kernel_configs
    from fftconv.runtime import Program

    launches = []
    for config in kernel_configs.find_configs(os.path.abspath(args.kernels)):
        if not any(pattern in config.name for pattern in args.configs):
            continue
        program = Program.from_dir(config.path)
        inputs = kernel_configs.make_inputs(config, 0, "cuda")
        everything = list(range(len(program.manifest.kernels)))
        program.launch(inputs, kernels=everything)
        torch.cuda.synchronize()
        torch.cuda.profiler.start()
        program.launch(inputs, kernels=everything)
        torch.cuda.synchronize()
        torch.cuda.profiler.stop()
        for kernel in program.manifest.kernels:
            launches.append({"config": config.name, "kernel": kernel.name, "block": list(kernel.block),
                             "grid": list(kernel.grid), "shared_bytes": kernel.shared_bytes})
        program.close()
        del program, inputs
        torch.cuda.empty_cache()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "launches.json"), "w") as f:
        json.dump(launches, f, indent=1)


# The summary's columns: (heading, ncu metric name as the CSV spells it).
SUMMARY = [
    ("time us", "Duration"),
    ("SM %", "Compute (SM) Throughput"),
    ("DRAM %", "DRAM Throughput"),
    ("L1/smem %", "L1/TEX Cache Throughput"),
    ("issue %", "Issue Slots Busy"),
    ("IPC", "Executed Ipc Active"),
    ("occupancy %", "Achieved Occupancy"),
    ("regs", "Registers Per Thread"),
]


# ncu picks the duration's unit per kernel (with --print-units base:
# nsecond).
MICROSECONDS_PER = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6, "nsecond": 1e-3, "usecond": 1.0,
                    "msecond": 1e3, "second": 1e6}
# And a rate's prefix.
BYTES_PER = {"byte": 1.0, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "Tbyte": 1e12}

# What bounds a kernel in absolute terms (issue 13's closing profile), from
# the metrics `--metrics` prints for ncu's command line:
# - tensor TFLOP/s: the tensor pipes' active cycles (mma.sync's HMMA and
#   the warpgroup MMA's GMMA), as a share of their peak, times the chip's
#   dense f16 peak with f32 accumulation (--peak-tflops; 989 on an H100 SXM
#   and an H200);
# - smem GB/s: shared-memory wavefronts times 128 bytes (what a wavefront
#   moves at most) over the duration;
# - HBM GB/s: DRAM bytes a second.
TENSOR_PIPES = ["sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active",
                "sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active"]
SHARED_WAVEFRONTS = "l1tex__data_pipe_lsu_wavefronts_mem_shared.sum"
DRAM_RATE = "dram__bytes.sum.per_second"
METRICS = TENSOR_PIPES + [SHARED_WAVEFRONTS, DRAM_RATE]
BOUNDS = ["tensor TFLOP/s", "smem GB/s", "HBM GB/s"]
DENSE_F16_TFLOPS = 989.0


def number(value):
    """ncu's number, or None where it reports none ("n/a": a metric the
    kernel or the chip does not have, as GMMA's pipe without wgmma)."""
    try:
        return float(value.replace(",", ""))
    except ValueError:
        return None


def bound_values(metrics, peak_tflops):
    """The BOUNDS of one kernel from its metrics {name: (value, unit)}, as
    numbers: None where ncu did not report what one needs."""
    pipes = [number(metrics[name][0]) for name in TENSOR_PIPES if name in metrics]
    pipes = [p for p in pipes if p is not None]
    tensor = sum(pipes) / 100 * peak_tflops if pipes else None
    seconds = microseconds(metrics)
    wavefronts = number(metrics[SHARED_WAVEFRONTS][0]) if SHARED_WAVEFRONTS in metrics else None
    shared = wavefronts * 128 / (seconds * 1e-6) / 1e9 if wavefronts is not None and seconds else None
    value, unit = metrics.get(DRAM_RATE, ("", ""))
    prefix = unit.split("/")[0]
    dram = number(value) * BYTES_PER[prefix] / 1e9 if prefix in BYTES_PER else None
    return [tensor, shared, dram]


def bounds(metrics, peak_tflops):
    """The BOUNDS cells of one kernel; empty where ncu did not report what
    a cell needs."""
    return [f"{v:.0f}" if v is not None else "" for v in bound_values(metrics, peak_tflops)]


def read_kernels(csv_path, launches_path):
    """ncu's `--csv --page details` rows, one a metric, as one (launch,
    {metric: (value, unit)}) a kernel in launch order; launch is
    launches.json's entry, or past its end one naming ncu's ID as the
    kernel and no configuration."""
    with open(launches_path) as f:
        launches = json.load(f)
    rows = {}
    order = []
    with open(csv_path) as f:
        lines = [line for line in f if line.startswith('"')]
    for record in csv.DictReader(lines):
        key = record["ID"]
        if key not in rows:
            rows[key] = {}
            order.append(key)
        rows[key][record["Metric Name"]] = (record["Metric Value"], record["Metric Unit"])
    return [(launches[i] if i < len(launches) else {"config": "", "kernel": key}, rows[key])
            for i, key in enumerate(order)]


def microseconds(metrics):
    value, unit = metrics.get("Duration", ("", ""))
    return number(value) * MICROSECONDS_PER[unit] if unit in MICROSECONDS_PER else None


def summarize(csv_path, launches_path, peak_tflops=DENSE_F16_TFLOPS):
    """A markdown table of one row a kernel from ncu's `--csv --page details`."""
    headings = [name for name, _ in SUMMARY] + BOUNDS
    out = ["| kernel | " + " | ".join(headings) + " |", "|---" * (len(headings) + 1) + "|"]
    for launch, metrics in read_kernels(csv_path, launches_path):
        name = f"{launch['config']}:{launch['kernel']}" if launch["config"] else launch["kernel"]
        cells = []
        for _, metric in SUMMARY:
            value, _ = metrics.get(metric, ("", ""))
            if metric == "Duration" and microseconds(metrics) is not None:
                value = f"{microseconds(metrics):.1f}"
            cells.append(value)
        cells += bounds(metrics, peak_tflops)
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


# The per-configuration table's columns, each a time-weighted mean over
# the configuration's convolution kernels (what bench.py's "ours" times).
ROW_COLUMNS = [("issue %", "Issue Slots Busy"), ("occupancy %", "Achieved Occupancy"),
               ("DRAM %", "DRAM Throughput"), ("L1/smem %", "L1/TEX Cache Throughput")]


def summarize_rows(csv_path, launches_path, peak_tflops=DENSE_F16_TFLOPS):
    """One row a configuration: its convolution kernels' summed time (the
    spectrum kernels, which bench.py's "ours" leaves out, apart), and their
    time-weighted issue, occupancy, DRAM and L1 shares and bounds."""
    configs = {}
    for launch, metrics in read_kernels(csv_path, launches_path):
        time = microseconds(metrics)
        if time is None:
            continue
        spectrum = "spectrum" in launch["kernel"]
        configs.setdefault(launch["config"], []).append((spectrum, time, metrics))
    headings = ["ours us", "spectrum us"] + [name for name, _ in ROW_COLUMNS] + BOUNDS
    out = ["| configuration | " + " | ".join(headings) + " |", "|---" * (len(headings) + 1) + "|"]
    for config, kernels in configs.items():
        ours = [(time, metrics) for spectrum, time, metrics in kernels if not spectrum]
        total = sum(time for time, _ in ours)
        cells = [f"{total:.1f}", f"{sum(time for spectrum, time, _ in kernels if spectrum):.1f}"]

        def mean(values):
            pairs = [(time, v) for time, v in values if v is not None]
            weight = sum(time for time, _ in pairs)
            return sum(time * v for time, v in pairs) / weight if weight else None

        for _, metric in ROW_COLUMNS:
            value = mean([(time, number(metrics.get(metric, ("n/a", ""))[0])) for time, metrics in ours])
            cells.append(f"{value:.0f}" if value is not None else "")
        values = [(time, bound_values(metrics, peak_tflops)) for time, metrics in ours]
        for column in range(len(BOUNDS)):
            value = mean([(time, kernel[column]) for time, kernel in values])
            cells.append(f"{value:.0f}" if value is not None else "")
        out.append(f"| {config} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernels", default=None, help="kernel directory")
    parser.add_argument("--configs", nargs="*", default=[], help="configurations whose name contains one of these")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "profile"))
    parser.add_argument("--summarize", metavar="NCU_CSV", help="print the table of an ncu CSV and --out/launches.json")
    parser.add_argument("--rows", action="store_true",
                        help="with --summarize: one row a configuration instead of one a kernel")
    parser.add_argument("--peak-tflops", type=float, default=DENSE_F16_TFLOPS,
                        help="the chip's dense f16 tensor peak (f32 accumulation), for tensor TFLOP/s")
    parser.add_argument("--metrics", action="store_true",
                        help="print the metrics the bounds columns need, for ncu's --metrics")
    args = parser.parse_args()
    if args.metrics:
        print(",".join(METRICS))
        return
    if args.summarize:
        table = summarize_rows if args.rows else summarize
        print(table(args.summarize, os.path.join(args.out, "launches.json"), args.peak_tflops))
        return
    if args.kernels is None:
        from fftconv import kernel_configs

        args.kernels = kernel_configs.kernel_dir()
    run(args)


if __name__ == "__main__":
    main()
