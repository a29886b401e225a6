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
  exchanges, k's spectrum computed in the call), the slowest rank's, each
  call enqueued while the GPU sleeps so that the host's launch overhead
  does not count (bench.py's method), the ranks' sleeps started together
  (`start_together`), and beside it the same call timed
  from before the host enqueues it (`ms with host`) and the host's time
  to enqueue a call (`host ms`); the
  exchanges alone (the same exchanges of the same buffers, by --transport:
  NCCL's all_to_all_single or the copy engines; with "mapped", whose
  exchanges are the kernels' own stores, NCCL's); the kernels
  alone (in order on one stream, no exchange); and the
  all-to-all's bandwidth, bytes each rank sends to the others over that
  time; and the peak memory of a rank (its inputs, output, workspaces and
  an in-place exchange's pieces). Strong scaling: one N on 1, 2, 4 GPUs;
  weak: N doubling with the GPUs.
- memory groups: L on one GPU and 4 L on 4 (inputs made on each rank, no
  whole sequence anywhere): the peak memory a rank needs, the time, NaN.

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

from fftconv import distributed, gpu, kernel_configs, runtime  # noqa: E402
from bench import Timer  # noqa: E402


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
    return [distributed.shard_input(inputs[n], layout, rank) for n in names]


COMPUTE_STREAMS = 2  # --compute-streams
TRACE = False  # --trace
F16_SPECTRUM = False  # --f16-spectrum-exchange


_EXCHANGES = {}


def exchange_of(group, forward=True):
    """The row's exchange over `group` by --transport, one a group (a
    copy-engine exchange keeps the buffers it has mapped); a forward's
    with --f16-spectrum-exchange."""
    if group not in _EXCHANGES:
        exchange = distributed.exchange_over(group, TRANSPORT, **TRANSPORT_OPTIONS)
        _EXCHANGES[group] = (F16SpectrumExchange(exchange), exchange) if F16_SPECTRUM else (exchange, exchange)
    return _EXCHANGES[group][0 if forward else 1]


class F16SpectrumExchange:
    """--f16-spectrum-exchange, an experiment: what K's exchange in f16
    would give, before the compiler states it. An exchange of f32 (a
    forward's only f32 workspace is K's outer pass) is converted to f16,
    exchanged and converted back, the conversions timed with it; the
    others as `exchange` does them. NCCL only (the f16 buffers are not
    mapped)."""

    def __init__(self, exchange):
        self.exchange = exchange
        self.halves = {}

    def __call__(self, send, recv):
        if send.dtype != torch.float32 or send.data_ptr() == recv.data_ptr():
            self.exchange(send, recv)
            return
        key = (tuple(send.shape), send.device)
        if key not in self.halves:
            self.halves[key] = [torch.empty(send.shape, dtype=torch.float16, device=send.device) for _ in range(2)]
        out, back = self.halves[key]
        out.copy_(send)
        self.exchange(out, back)
        recv.copy_(back)


def call(program, config, local, group, out, trace=None):
    if program.manifest.shard is None:
        return program.launch(local, outputs=out)
    return distributed.run(program, local, exchange_of(group), outputs=out,
                           compute_streams=COMPUTE_STREAMS, trace=trace)


def gathered(y_local, layout, group, ranks):
    """The whole of a sharded output; a per-channel one (dD) as every rank
    holds it (rank 0's)."""
    if layout is None or y_local.dim() == 1:
        return y_local
    parts = [torch.empty_like(y_local) for _ in range(ranks)]
    dist.all_gather(parts, y_local, group=group)
    return distributed.unshard(parts, layout)


def random_local_inputs(program, config, device):
    """Random inputs of a program's shapes (a rank's shards), made on the
    GPU, u ~ N(0, 1) and k ~ N(0, 1) / sqrt(K) as make_inputs makes them:
    no whole sequence is ever held."""
    shard = program.manifest.shard
    generator = torch.Generator(device=device).manual_seed(7 + (shard.rank if shard else 0))
    u, k = (torch.randn(tuple(a.shape), generator=generator, device=device,
                        dtype=kernel_configs.torch_dtype(a.dtype))
            for a in program.manifest.inputs)
    return [u, k.div_(config.K**0.5)]


def peak_bytes(fn, group):
    """The most device memory any rank of `group` holds while `fn` runs
    (what it holds before included)."""
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    peak = torch.tensor([torch.cuda.max_memory_allocated()], device="cuda", dtype=torch.float64)
    dist.all_reduce(peak, op=dist.ReduceOp.MAX, group=group)
    return int(peak)


def memory_row(row, program, config, device, group, repeats):
    """A memory group's row: peak GiB a rank, ms, NaN."""
    local = random_local_inputs(program, config, device)
    result = program.manifest.outputs[0]
    out = torch.full(list(result.shape), float("nan"), dtype=kernel_configs.torch_dtype(result.dtype), device=device)
    run = lambda: call(program, None, local, group, out)  # noqa: E731
    run()
    row["peak_GiB"] = peak_bytes(run, group) / 2**30
    row["ms"] = timed(run, repeats, group)
    nan = torch.tensor([float(torch.isnan(out).any())], device="cuda")
    dist.all_reduce(nan, op=dist.ReduceOp.MAX, group=group)
    row["nan"] = bool(nan)
    return local, out


def bench_row(row, program, config, local, out, layout, group, ranks, repeats):
    """A bench group's row: the call's median ms and a rank's peak memory;
    sharded, the exchanges alone and the all-to-all's bandwidth."""
    run = lambda: call(program, config, local, group, out)  # noqa: E731
    row["host_ms"] = host_ms(run, group)
    row["ms"] = timed(run, repeats, group, host=row["host_ms"])
    row["ms_with_host"] = timed(run, repeats, group, behind_sleep=False)
    row["peak_GiB"] = peak_bytes(run, group) / 2**30
    # A copy-engine or mapped exchange's buffers are mapped outside
    # PyTorch's caching allocator, where max_memory_allocated does not see
    # them.
    row["peak_GiB"] += sum(t.nbytes for t in distributed.CopyEngineExchange.mapped(program).values()) / 2**30
    mapping = distributed.MappedExchange.mapping(program)
    if mapping is not None:
        row["peak_GiB"] += mapping.memory.nbytes / 2**30
    if layout is None:
        return
    steps = [s for kind, s in distributed.schedule(program.manifest) if kind == "exchange"]
    _, _, _, by_index = program._prepare(local, out, [], False)
    exchange = exchange_of(group)

    def exchanges_only():
        for s in steps:
            exchange(by_index[s.send], by_index[s.recv])

    row["exchange_ms"] = timed(exchanges_only, repeats, group)
    sent = sum(by_index[s.send].numel() * by_index[s.send].element_size() for s in steps)
    row["exchange_GBps"] = sent * (ranks - 1) / ranks / (row["exchange_ms"] * 1e-3) / 1e9
    # The kernels alone, every one in order on one stream and no exchange
    # (its results meaningless): what the call would take were the
    # exchanges hidden and free.
    kernels = range(len(program.manifest.kernels))
    row["kernels_ms"] = timed(lambda: program.launch(local, outputs=out, kernels=kernels), repeats, group)
    if TRACE:
        # One call's steps on this rank (rank 0's row is the one written):
        # when each began and ended, and the time no kernel ran.
        dist.barrier(group=group)
        torch.cuda.synchronize()
        # Behind a sleep, as the timed calls: the GPUs' steps, not the
        # host's enqueueing.
        start_together(group)
        torch.cuda._sleep(_TIMER.sleep_cycles(row["host_ms"]))
        trace = []
        call(program, config, local, group, out, trace)
        torch.cuda.synchronize()
        row["trace"], row["no_kernel_ms"] = distributed.timeline(trace)


def host_ms(fn, group, calls=3):
    """The host's milliseconds to enqueue one call of `fn` (the mean of
    `calls`, the GPU idle before each), the slowest rank's."""
    total = 0.0
    for _ in range(calls):
        dist.barrier(group=group)
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        total += time.perf_counter() - start
        torch.cuda.synchronize()
    ms = torch.tensor([total * 1e3 / calls], device="cuda")
    dist.all_reduce(ms, op=dist.ReduceOp.MAX, group=group)
    return float(ms)


_TIMER = None


def start_together(group):
    """Enqueues, on the current stream, a wait for every rank of `group`
    (a one-value all_reduce): what follows starts on every GPU at once,
    as in a training loop, whose previous collectives keep the GPUs
    together, and not as far apart as the processes leave the host's
    barrier (a sharded call's first exchange waits for the last rank).
    Measured the same either way on 2 H200s (2^23 to 2^25, f16 causal:
    within 0.04 ms), so the host's barrier did not skew the rows before."""
    if dist.get_world_size(group) > 1:
        dist.all_reduce(torch.zeros(1, device="cuda"), group=group)


def timed(fn, repeats, group, behind_sleep=True, host=None):
    """The slowest rank's median milliseconds of a call of `fn` over
    `repeats`, each after a barrier: from an event recorded behind a GPU
    sleep longer than the host takes to enqueue the call (`behind_sleep`,
    bench.py's method: the host's launch overhead does not count; `host`,
    that time where the caller measured it with `host_ms`), the ranks'
    sleeps started together (`start_together`), else
    from an event recorded before the host enqueues it."""
    global _TIMER
    sleep_cycles = 0
    if behind_sleep:
        _TIMER = _TIMER or Timer()
        sleep_cycles = _TIMER.sleep_cycles(host_ms(fn, group) if host is None else host)
    times = []
    for _ in range(repeats):
        dist.barrier(group=group)
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        if sleep_cycles:
            start_together(group)
            torch.cuda._sleep(sleep_cycles)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    ms = torch.tensor([times[len(times) // 2]], device="cuda")
    dist.all_reduce(ms, op=dist.ReduceOp.MAX, group=group)
    return float(ms)


def check_backward(row, config, backward, inputs, layout, group, ranks, me, device, baseline, key):
    """The backward program's gradients (du, dk, the gates'), gathered,
    against float64 autograd and the one-GPU backward's."""
    dtype = kernel_configs.torch_dtype(config.dtype)
    generator = torch.Generator(device=device).manual_seed(11)
    dy = torch.randn(config.B, config.H, config.L, generator=generator, device=device).to(dtype)
    names = config.input_names
    local = local_inputs(config, inputs, layout, me) + [dy if layout is None else distributed.shard(dy, layout, me)]
    outputs = [torch.full(tuple(a.shape), float("nan"), dtype=kernel_configs.torch_dtype(a.dtype), device=device)
               for a in backward.manifest.outputs]
    if layout is None:
        grads = backward.launch(local, outputs=outputs)
    else:
        grads = distributed.run(backward, local, exchange_of(group, forward=False), outputs=outputs)
    grads = [gathered(g, layout, group, ranks) for g in grads]
    if me != 0:
        return
    expected = kernel_configs.reference_gradients(config, inputs, dy)
    errors, versus = {}, {}
    for name, got, want in zip(names, grads, expected):
        errors[name] = float((got.double() - want).norm() / want.norm())
        assert torch.isfinite(got).all(), f"d{name}: unwritten or non-finite values"
        if ranks == 1:
            baseline[key + ("d" + name,)] = got.float().cpu()
        elif key + ("d" + name,) in baseline:
            one = baseline[key + ("d" + name,)].to(device)
            versus[name] = float((got.float() - one).norm() / one.norm())
    row["grad_errors"] = errors
    row["grad_vs_one_gpu"] = versus


def check_module(subgroups, me, device, world):
    """fftconv.distributed.FFTConv forward and backward through autograd on
    2 and 4 GPUs against float64: y, du, dk, dpregate, dpostgate."""
    b, h, length, causal, gated = kernel_configs.SHARDED_MODULE_CASE
    rows = []
    for ranks in (2, 4):
        if ranks > world:
            continue
        row = dict(ranks=ranks, B=b, H=h, L=length)
        if me < ranks:
            group = subgroups[ranks]
            conv = distributed.FFTConv(seqlen=2 * length, dtype=torch.float16, group=group)
            layout = conv.prepare(b, h, length, gated, gated, device)
            config = kernel_configs.Config("module", dict(N=2 * length, B=b, H=h, L=length, K=length, dtype="f16",
                                                          mode="causal", gated=gated, skip=False))
            inputs = full_inputs(config, device)
            leaves = [distributed.shard(inputs[n], layout, me).requires_grad_() for n in config.input_names]
            y = conv(*leaves)
            generator = torch.Generator(device=device).manual_seed(5)
            dy = torch.randn(b, h, length, generator=generator, device=device).to(torch.float16)
            y.backward(distributed.shard(dy, layout, me))
            got = [gathered(y.detach(), layout, group, ranks)]
            got += [gathered(leaf.grad, layout, group, ranks) for leaf in leaves]
            if me == 0:
                want = [kernel_configs.reference(config, inputs)]
                want += kernel_configs.reference_gradients(config, inputs, dy)
                names = ["y"] + ["d" + n for n in config.input_names]
                row["errors"] = {n: float((g.double() - w).norm() / w.norm()) for n, g, w in zip(names, got, want)}
        dist.barrier()
        if me == 0:
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", default=os.path.join(REPO, "build", "gpu-kernels", "sharded"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", default="")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--module-cache", default="",
                        help="FFTCONV_KERNEL_CACHE of the drop-in module's case (its check is skipped without it)")
    parser.add_argument("--trace", action="store_true",
                        help="time each step of one sharded call (fftconv.distributed.timeline) into the results")
    parser.add_argument("--compute-streams", type=int, default=2,
                        help="fftconv.distributed.run's streams of kernels, 1 or 2 (default %(default)s; run checks it)")
    parser.add_argument("--ranks", default="1,2,4",
                        help="the groups' sizes to run, comma-separated (default %(default)s); a copy-engine run "
                             "takes one size besides 1 at a time (see CopyEngineExchange)")
    parser.add_argument("--transport", default="nccl", choices=sorted(distributed.TRANSPORTS),
                        help="what moves the exchanges' bytes (fftconv.distributed.FFTConv's transport)")
    parser.add_argument("--pull", action="store_true",
                        help="copy-engine: each rank reads its chunks from the peers (default: writes them)")
    parser.add_argument("--f16-spectrum-exchange", action="store_true",
                        help="experiment: K's exchange converted to f16 and back (F16SpectrumExchange; nccl only)")
    args = parser.parse_args()
    if args.f16_spectrum_exchange and args.transport != "nccl":
        parser.error("--f16-spectrum-exchange takes --transport nccl")
    global COMPUTE_STREAMS, TRACE, TRANSPORT, TRANSPORT_OPTIONS, F16_SPECTRUM
    COMPUTE_STREAMS = args.compute_streams
    TRACE = args.trace
    TRANSPORT = args.transport
    F16_SPECTRUM = args.f16_spectrum_exchange
    TRANSPORT_OPTIONS = dict(push=not args.pull) if TRANSPORT == "copy-engine" else {}

    dist.init_process_group("nccl")
    world, me = dist.get_world_size(), dist.get_rank()
    torch.cuda.set_device(me % torch.cuda.device_count())
    device = torch.device("cuda", torch.cuda.current_device())
    sizes = {int(r) for r in args.ranks.split(",")}
    groups = {name: configs for name, configs in groups_in(args.kernels).items()
              if args.only in name and ranks_of(configs) in sizes}
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
        if me < ranks and config.memory:
            group = subgroups[ranks]
            # Nothing of the groups before (checked: what a rank holds).
            row["held_before_GiB"] = torch.cuda.memory_allocated() / 2**30
            program = runtime.Program.load(manifest=configs[me].manifest_path, device=device)
            row["memory"] = True
            local, out = memory_row(row, program, config, device, group, min(args.repeats, 3))
            del program, local, out
            torch.cuda.empty_cache()
        elif me < ranks:
            group = subgroups[ranks]
            program = runtime.Program.load(manifest=configs[me].manifest_path, device=device)
            layout = layout_of(program, config)
            inputs = full_inputs(config, device)
            local = local_inputs(config, inputs, layout, me)
            shape = list(program.manifest.outputs[0].shape)
            out = torch.full(shape, float("nan"), dtype=kernel_configs.torch_dtype(config.dtype), device=device)
            y_local = call(program, config, local, group, out)
            torch.cuda.synchronize()
            key = (config.N, config.dtype, config.label, config.B, config.H)  # skip, squash: own baselines
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
                y = ref = None
                backward = gpu.load_backward(configs[me].manifest_path, device=device)
                if backward is not None:
                    check_backward(row, config, backward, inputs, layout, group, ranks, me, device, baseline, key)
                backward = None
            else:
                del inputs  # a rank holds only its shards
                bench_row(row, program, config, local, out, layout, group, ranks, args.repeats)
            del program, local, out, y_local
            inputs = None
            torch.cuda.empty_cache()
        dist.barrier()
        if me == 0:
            results.append(row)
            print(json.dumps(row), flush=True)
    module_rows = []
    if args.module_cache:
        os.environ["FFTCONV_KERNEL_CACHE"] = os.path.abspath(args.module_cache)
        module_rows = check_module(subgroups, me, device, world)
    if me == 0:
        write(results, args.out, module_rows)
    dist.barrier()
    dist.destroy_process_group()


def write(results, out, module_rows=()):
    os.makedirs(os.path.dirname(os.path.abspath(out)) or ".", exist_ok=True)
    with open(out + ".json", "w") as f:
        json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                   "nccl": ".".join(map(str, torch.cuda.nccl.version())), "transport": TRANSPORT,
                   "transport_options": TRANSPORT_OPTIONS,
                   "f16_spectrum_exchange": F16_SPECTRUM, "rows": results,
                   "module": list(module_rows)}, f, indent=1)
    lines = [f"# Sharded convolution, {torch.cuda.get_device_name()} ({time.strftime('%Y-%m-%d %H:%M')})", "",
             f"Exchanges by {TRANSPORT} {TRANSPORT_OPTIONS or ''} (--transport)"
             + (", K's converted to f16 and back (--f16-spectrum-exchange)." if F16_SPECTRUM else "."), ""]
    lines += ["## Correctness", "",
              "| N | dtype | mode | BxH | GPUs | rel. error vs float64 | vs one GPU | NaN | gradients vs float64 | "
              "gradients vs one GPU |", "|---|---|---|---|---|---|---|---|---|---|"]

    def listed(errors):
        return ", ".join(f"d{name} {e:.1e}" for name, e in (errors or {}).items())

    for r in results:
        if not r["bench"]:
            lines.append(f"| {r['N']} | {r['dtype']} | {r['mode']} | {r['B']}x{r['H']} | {r['ranks']} | "
                         f"{r.get('rel_error', float('nan')):.1e} | {r.get('vs_one_gpu', float('nan')):.1e} | "
                         f"{r.get('nan')} | {listed(r.get('grad_errors'))} | {listed(r.get('grad_vs_one_gpu'))} |")
    lines += ["", "## Scaling (ms, k's spectrum computed in the call; ms: enqueued behind a GPU sleep, the host's "
              "overhead out, the ranks started together; ms with host: timed from before the host enqueues the call)", "",
              "| N | L | dtype | mode | BxH | GPUs | ms | speedup over 1 GPU | kernels alone ms | exchanges alone ms "
              "| all-to-all GB/s a rank | peak GiB a rank | ms with host | speedup with host | host ms a call |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    def same(r):
        return (r["N"], r["dtype"], r["mode"], r["B"], r["H"])

    one = {same(r): r for r in results if r["bench"] and r["ranks"] == 1}
    for r in results:
        if r["bench"] and not r.get("memory"):
            base = one.get(same(r))
            speedup = f"{base['ms'] / r['ms']:.2f}" if base else ""
            with_host = r.get("ms_with_host", float("nan"))
            speedup_with_host = f"{base['ms_with_host'] / with_host:.2f}" if base and "ms_with_host" in base else ""
            lines.append(f"| {r['N']} | {r['L']} | {r['dtype']} | {r['mode']} | {r['B']}x{r['H']} | {r['ranks']} | "
                         f"{r['ms']:.2f} | {speedup} | {r.get('kernels_ms', r['ms']):.2f} | "
                         f"{r.get('exchange_ms', 0):.2f} | {r.get('exchange_GBps', 0):.0f} | "
                         f"{r.get('peak_GiB', float('nan')):.2f} | {with_host:.2f} | {speedup_with_host} | "
                         f"{r.get('host_ms', float('nan')):.2f} |")
    for r in results:
        if r.get("trace"):
            lines += ["", f"## One call's steps, rank 0 of {r['ranks']}: N = {r['N']}, {r['dtype']} {r['mode']}, "
                      f"{r['B']}x{r['H']} ({r['no_kernel_ms']:.3f} ms of {max(t['end_ms'] for t in r['trace']):.3f} "
                      "with no kernel running)",
                      "", "| step | stream | begin ms | end ms |", "|---|---|---|---|"]
            lines += [f"| {t['kind']} {t['name']} | {t['stream']} | {t['begin_ms']:.3f} | {t['end_ms']:.3f} |"
                      for t in r["trace"]]
    memory = [r for r in results if r.get("memory")]
    if memory:
        lines += ["", "## Length at equal memory (causal f16, inputs made on each rank)", "",
                  "| L | BxH | GPUs | peak GiB a rank | held before GiB | ms | NaN |", "|---|---|---|---|---|---|---|"]
        for r in memory:
            lines.append(f"| {r['L']} | {r['B']}x{r['H']} | {r['ranks']} | {r.get('peak_GiB', float('nan')):.2f} | "
                         f"{r.get('held_before_GiB', float('nan')):.2f} | {r.get('ms', float('nan')):.1f} | "
                         f"{r.get('nan')} |")
    if module_rows:
        lines += ["", "## fftconv.distributed.FFTConv through autograd (relative errors vs float64)", "",
                  "| GPUs | B x H x L | y | du | dk | dpregate | dpostgate |", "|---|---|---|---|---|---|---|"]
        for r in module_rows:
            e = r.get("errors", {})
            lines.append(f"| {r['ranks']} | {r['B']}x{r['H']}x{r['L']} | "
                         + " | ".join(f"{e.get(n, float('nan')):.1e}" for n in ("y", "du", "dk", "dpregate", "dpostgate"))
                         + " |")
    with open(out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
