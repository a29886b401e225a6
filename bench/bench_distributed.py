#!/usr/bin/env python3
"""The sharded convolution on 1, 2 and 4 GPUs: correctness and scaling.

    python3 scripts/build_gpu_kernels.py --sharded --out build/gpu-kernels   # build machine
    torchrun --nproc_per_node=4 bench/bench_distributed.py \\
        --kernels build/gpu-kernels/sharded --out $OUT/distributed          # GPU machine

Every process runs every group it belongs to: a group is one convolution
compiled for R ranks (R = 1: the unsharded three-pass program, the one-GPU
baseline), run by processes 0 .. R-1 over NCCL (torch.distributed), each on
its own GPU with its shard of the same inputs (fftconv.distributed.shard).

- check groups: the relative error of the gathered result against float64
  (torch.fft on the GPU) and against the one-GPU program's result on the
  same inputs, NaN-poisoned outputs;
- bench groups: CUDA-event medians of the whole call (kernels and
  exchanges, k's spectrum computed in the call), the slowest rank's; the
  exchanges alone (all_to_all_single of the same buffers); and the
  all-to-all's bandwidth, bytes each rank sends to the others over that
  time. Strong scaling: one N on 1, 2, 4 GPUs; weak: N doubling with the
  GPUs.

Writes <out>.md (tables) and <out>.json.
"""

import argparse
import collections
import json
import os
import sys
import time

import torch
import torch.distributed as dist

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))

from fftconv import distributed, kernel_configs, runtime  # noqa: E402


def groups_in(root):
    by_group = collections.defaultdict(dict)
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not os.path.isfile(os.path.join(path, "config.json")):
            continue
        raw = json.load(open(os.path.join(path, "config.json")))
        by_group[raw["group"]][raw.get("rank", 0)] = kernel_configs.load_config(path)
    return by_group


def ranks_of(configs):
    return len(configs)


def full_inputs(config, device):
    """The same inputs on every process: seeded, made on the GPU."""
    return kernel_configs.make_inputs(config, seed=7, device=device)


def layout_of(program, config):
    if program.manifest.shard is None:
        return None
    shard = program.manifest.shard
    return distributed.Layout(shard.ranks, shard.row_length, config.L)


def local_inputs(config, inputs, layout, rank):
    names = config.input_names
    if layout is None:
        return [inputs[n] for n in names]
    return [distributed.shard(inputs[n], layout, rank) for n in names]


def call(program, config, local, group, out):
    if program.manifest.shard is None:
        return program.launch(local, outputs=out)
    return distributed.run(program, local, distributed.all_to_all(group), outputs=out)


def gathered(y_local, layout, group, ranks):
    if layout is None:
        return y_local
    parts = [torch.empty_like(y_local) for _ in range(ranks)]
    dist.all_gather(parts, y_local, group=group)
    return distributed.unshard(parts, layout)


def timed(fn, repeats, group):
    times = []
    for _ in range(repeats):
        dist.barrier(group=group)
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    ms = torch.tensor([times[len(times) // 2]], device="cuda")
    dist.all_reduce(ms, op=dist.ReduceOp.MAX, group=group)
    return float(ms)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", default=os.path.join(REPO, "build", "gpu-kernels", "sharded"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", default="")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    dist.init_process_group("nccl")
    world, me = dist.get_world_size(), dist.get_rank()
    torch.cuda.set_device(me % torch.cuda.device_count())
    device = torch.device("cuda", torch.cuda.current_device())
    groups = {name: configs for name, configs in groups_in(args.kernels).items() if args.only in name}
    subgroups = {r: dist.new_group(list(range(r))) for r in (1, 2, 4) if r <= world}
    results, baseline = [], {}
    for name in sorted(groups, key=lambda n: (groups[n][0].bench, groups[n][0].N, ranks_of(groups[n]))):
        configs = groups[name]
        ranks = ranks_of(configs)
        if ranks > world:
            continue
        config = configs[0]
        row = dict(group=name, N=config.N, B=config.B, H=config.H, L=config.L, dtype=config.dtype,
                   mode=config.label, ranks=ranks, bench=config.bench)
        if me < ranks:
            group = subgroups[ranks]
            program = runtime.Program.load(manifest=configs[me].manifest_path, device=device)
            layout = layout_of(program, config)
            inputs = full_inputs(config, device)
            local = local_inputs(config, inputs, layout, me)
            shape = list(program.manifest.outputs[0].shape)
            out = torch.full(shape, float("nan"), dtype=kernel_configs.torch_dtype(config.dtype), device=device)
            y_local = call(program, config, local, group, out)
            torch.cuda.synchronize()
            key = (config.N, config.dtype, config.mode, config.B, config.H)
            if not config.bench:
                y = gathered(y_local, layout, group, ranks)
                if me == 0:
                    row["nan"] = bool(torch.isnan(y).any())
                    row["rel_error"] = kernel_configs.relative_error(config, inputs, y)
                    if ranks == 1:
                        baseline[key] = y.float().cpu()
                    elif key in baseline:
                        ref = baseline[key].to(device)
                        row["vs_one_gpu"] = float((y.float() - ref).norm() / ref.norm())
                del y
            else:
                row["ms"] = timed(lambda: call(program, config, local, group, out), args.repeats, group)
                if layout is not None:
                    steps = [s for kind, s in distributed.schedule(program.manifest) if kind == "exchange"]
                    _, _, _, by_index = program._prepare(local, out, [], False)
                    exchange = distributed.all_to_all(group)

                    def exchanges_only():
                        for s in steps:
                            exchange(by_index[s.send], by_index[s.recv])

                    row["exchange_ms"] = timed(exchanges_only, args.repeats, group)
                    sent = sum(by_index[s.send].numel() * by_index[s.send].element_size() for s in steps)
                    row["exchange_GBps"] = sent * (ranks - 1) / ranks / (row["exchange_ms"] * 1e-3) / 1e9
            del program, inputs, local, out, y_local
            torch.cuda.empty_cache()
        dist.barrier()
        if me == 0:
            results.append(row)
            print(json.dumps(row), flush=True)
    if me == 0:
        write(results, args.out)
    dist.barrier()
    dist.destroy_process_group()


def write(results, out):
    os.makedirs(os.path.dirname(os.path.abspath(out)) or ".", exist_ok=True)
    with open(out + ".json", "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                   "nccl": ".".join(map(str, torch.cuda.nccl.version())), "rows": results}, f, indent=1)
    lines = [f"# Sharded convolution, {torch.cuda.get_device_name()} ({time.strftime('%Y-%m-%d %H:%M')})", ""]
    lines += ["## Correctness", "",
              "| N | dtype | mode | BxH | GPUs | rel. error vs float64 | vs one GPU | NaN |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        if not r["bench"]:
            lines.append(f"| {r['N']} | {r['dtype']} | {r['mode']} | {r['B']}x{r['H']} | {r['ranks']} | "
                         f"{r.get('rel_error', float('nan')):.1e} | {r.get('vs_one_gpu', float('nan')):.1e} | "
                         f"{r.get('nan')} |")
    lines += ["", "## Scaling (ms, k's spectrum computed in the call)", "",
              "| N | L | dtype | mode | BxH | GPUs | ms | speedup over 1 GPU | exchanges alone ms | all-to-all GB/s a rank |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    def same(r):
        return (r["N"], r["dtype"], r["mode"], r["B"], r["H"])

    one = {same(r): r["ms"] for r in results if r["bench"] and r["ranks"] == 1}
    for r in results:
        if r["bench"]:
            base = one.get(same(r))
            speedup = f"{base / r['ms']:.2f}" if base else ""
            lines.append(f"| {r['N']} | {r['L']} | {r['dtype']} | {r['mode']} | {r['B']}x{r['H']} | {r['ranks']} | "
                         f"{r['ms']:.2f} | {speedup} | {r.get('exchange_ms', 0):.2f} | {r.get('exchange_GBps', 0):.0f} |")
    with open(out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
