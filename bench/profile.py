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
order), and `summarize` there turns ncu's CSV into a table.
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


# ncu picks the duration's unit per kernel.
MICROSECONDS_PER = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


def summarize(csv_path, launches_path):
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
    out = ["| kernel | " + " | ".join(name for name, _ in SUMMARY) + " |",
           "|---" * (len(SUMMARY) + 1) + "|"]
    for i, key in enumerate(order):
        name = f"{launches[i]['config']}:{launches[i]['kernel']}" if i < len(launches) else key
        cells = []
        for _, metric in SUMMARY:
            value, unit = rows[key].get(metric, ("", ""))
            if metric == "Duration" and unit in MICROSECONDS_PER:
                value = f"{float(value.replace(',', '')) * MICROSECONDS_PER[unit]:.1f}"
            cells.append(value)
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernels", default=None, help="kernel directory")
    parser.add_argument("--configs", nargs="*", default=[], help="configurations whose name contains one of these")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "profile"))
    parser.add_argument("--summarize", metavar="NCU_CSV", help="print the table of an ncu CSV and --out/launches.json")
    args = parser.parse_args()
    if args.summarize:
        print(summarize(args.summarize, os.path.join(args.out, "launches.json")))
        return
    if args.kernels is None:
        from fftconv import kernel_configs

        args.kernels = kernel_configs.kernel_dir()
    run(args)


if __name__ == "__main__":
    main()
