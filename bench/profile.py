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
    return float(value.replace(",", ""))


def bounds(metrics, peak_tflops):
    """The BOUNDS cells of one kernel from its metrics {name: (value,
    unit)}; empty where ncu did not report what a cell needs."""
    cells = []
    pipes = [number(metrics[name][0]) for name in TENSOR_PIPES if name in metrics]
    cells.append(f"{sum(pipes) / 100 * peak_tflops:.0f}" if pipes else "")
    value, unit = metrics.get("Duration", ("", ""))
    if SHARED_WAVEFRONTS in metrics and unit in MICROSECONDS_PER:
        seconds = number(value) * MICROSECONDS_PER[unit] * 1e-6
        cells.append(f"{number(metrics[SHARED_WAVEFRONTS][0]) * 128 / seconds / 1e9:.0f}")
    else:
        cells.append("")
    value, unit = metrics.get(DRAM_RATE, ("", ""))
    prefix = unit.split("/")[0]
    cells.append(f"{number(value) * BYTES_PER[prefix] / 1e9:.0f}" if prefix in BYTES_PER else "")
    return cells


def summarize(csv_path, launches_path, peak_tflops=DENSE_F16_TFLOPS):
    """A markdown table of one row a kernel from ncu's `--csv --page details`."""
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
    headings = [name for name, _ in SUMMARY] + BOUNDS
    out = ["| kernel | " + " | ".join(headings) + " |", "|---" * (len(headings) + 1) + "|"]
    for i, key in enumerate(order):
        name = f"{launches[i]['config']}:{launches[i]['kernel']}" if i < len(launches) else key
        cells = []
        for _, metric in SUMMARY:
            value, unit = rows[key].get(metric, ("", ""))
            if metric == "Duration" and unit in MICROSECONDS_PER:
                value = f"{number(value) * MICROSECONDS_PER[unit]:.1f}"
            cells.append(value)
        cells += bounds(rows[key], peak_tflops)
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernels", default=None, help="kernel directory")
    parser.add_argument("--configs", nargs="*", default=[], help="configurations whose name contains one of these")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "profile"))
    parser.add_argument("--summarize", metavar="NCU_CSV", help="print the table of an ncu CSV and --out/launches.json")
    parser.add_argument("--peak-tflops", type=float, default=DENSE_F16_TFLOPS,
                        help="the chip's dense f16 tensor peak (f32 accumulation), for tensor TFLOP/s")
    parser.add_argument("--metrics", action="store_true",
                        help="print the metrics the bounds columns need, for ncu's --metrics")
    args = parser.parse_args()
    if args.metrics:
        print(",".join(METRICS))
        return
    if args.summarize:
        print(summarize(args.summarize, os.path.join(args.out, "launches.json"), args.peak_tflops))
        return
    if args.kernels is None:
        from fftconv import kernel_configs

        args.kernels = kernel_configs.kernel_dir()
    run(args)


if __name__ == "__main__":
    main()
