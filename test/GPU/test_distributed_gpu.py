"""The sharded convolution's kernels (fftconv.distributed) on one GPU: the
programs of every rank of each check configuration in
<FFTCONV_GPU_KERNELS>/sharded (scripts/build_gpu_kernels.py --sharded) run
in lockstep in this process, each exchange a copy of the chunks, against
float64; with 2 GPUs, fftconv.distributed.run over NCCL (torchrun,
distributed_run_worker.py) against the lockstep run. The scaling over NCCL:
bench/bench_distributed.py (torchrun)."""

import collections
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("no CUDA device", allow_module_level=True)

from fftconv import distributed, kernel_configs, runtime  # noqa: E402

ROOT = os.path.join(kernel_configs.kernel_dir(), "sharded")


def check_groups():
    groups = collections.defaultdict(dict)
    if os.path.isdir(ROOT):
        for name in sorted(os.listdir(ROOT)):
            path = os.path.join(ROOT, name)
            raw = json.load(open(os.path.join(path, "config.json")))
            if not raw["bench"] and raw.get("ranks", 1) > 1:
                groups[raw["group"]][raw["rank"]] = kernel_configs.load_config(path)
    return dict(groups)


GROUPS = check_groups()


def lockstep_forward(configs, seed):
    """Every rank's forward program of a group run in lockstep on inputs of
    `seed`, into NaN-poisoned outputs: (inputs, layout, the ranks' parts)."""
    config = configs[0]
    programs = [runtime.Program.load(manifest=configs[r].manifest_path) for r in range(len(configs))]
    shard = programs[0].manifest.shard
    assert shard.ranks == len(configs)
    layout = distributed.Layout(shard.ranks, shard.row_length, config.L)
    inputs = kernel_configs.make_inputs(config, seed=seed)
    local = [[distributed.shard_input(inputs[n], layout, r) for n in config.input_names] for r in range(shard.ranks)]
    dtype = kernel_configs.torch_dtype(config.dtype)
    outputs = [torch.full(tuple(p.manifest.outputs[0].shape), float("nan"), dtype=dtype, device="cuda")
               for p in programs]
    return inputs, layout, distributed.run_lockstep(programs, local, outputs)


@pytest.mark.skipif(not GROUPS, reason="no sharded kernels (scripts/build_gpu_kernels.py --sharded)")
@pytest.mark.parametrize("group", sorted(GROUPS))
def test_sharded_lockstep_matches_float64(group):
    config = GROUPS[group][0]
    inputs, layout, parts = lockstep_forward(GROUPS[group], seed=3)
    y = distributed.unshard(parts, layout)
    assert not torch.isnan(y).any(), "an output element was not written"
    error = kernel_configs.relative_error(config, inputs, y)
    assert error < config.tolerance, f"{group}: relative error {error:.2e}"


BACKWARD_GROUPS = {name: configs for name, configs in GROUPS.items() if configs[0].raw.get("training")}


def lockstep_backward(configs):
    """Every rank's backward program of a group run in lockstep on inputs of
    seed 4 and dy of seed 9, into NaN-poisoned outputs: (inputs, dy, layout,
    the ranks' gradients' parts)."""
    from fftconv import gpu

    config = configs[0]
    programs = [gpu.load_backward(configs[r].manifest_path) for r in range(len(configs))]
    shard = programs[0].manifest.shard
    layout = distributed.Layout(shard.ranks, shard.row_length, config.L)
    inputs = kernel_configs.make_inputs(config, seed=4)
    dtype = kernel_configs.torch_dtype(config.dtype)
    generator = torch.Generator(device="cuda").manual_seed(9)
    dy = torch.randn(config.B, config.H, config.L, generator=generator, device="cuda").to(dtype)
    local = [[distributed.shard_input(inputs[n], layout, r) for n in config.input_names]
             + [distributed.shard(dy, layout, r)] for r in range(shard.ranks)]
    outputs = [[torch.full(tuple(a.shape), float("nan"), dtype=kernel_configs.torch_dtype(a.dtype), device="cuda")
                for a in p.manifest.outputs] for p in programs]
    return inputs, dy, layout, distributed.run_lockstep(programs, local, outputs)


@pytest.mark.skipif(not BACKWARD_GROUPS, reason="no sharded backward kernels")
@pytest.mark.parametrize("group", sorted(BACKWARD_GROUPS))
def test_sharded_backward_lockstep_matches_float64(group):
    """The backward, sharded alike: du, dk and the gates' gradients of every
    rank, gathered, against float64 autograd."""
    configs = BACKWARD_GROUPS[group]
    config = configs[0]
    inputs, dy, layout, parts = lockstep_backward(configs)
    expected = kernel_configs.reference_gradients(config, inputs, dy)
    for index, (name, want) in enumerate(zip(config.input_names, expected)):
        ranks = [p[index] for p in parts]
        if ranks[0].dim() == 1:  # dD: whole, the same on every rank
            assert all(torch.equal(r, ranks[0]) for r in ranks), f"d{name} differs between ranks"
            got = ranks[0]
        else:
            got = distributed.unshard(ranks, layout)
        assert torch.isfinite(got).all(), f"d{name}: unwritten or non-finite values"
        error = float((got.double() - want).norm() / want.norm())
        assert error < config.tolerance, f"{group}: d{name} relative error {error:.2e}"


# The smallest f16 check group of 2 ranks.
NCCL_GROUP = min((name for name, configs in GROUPS.items() if len(configs) == 2 and configs[0].dtype == "f16"),
                 key=lambda name: GROUPS[name][0].N * GROUPS[name][0].B * GROUPS[name][0].H, default=None)


# The smallest f16 check group of 2 ranks whose exchanges' chunks are whole
# pages of the mapping (2 MiB: 2^22 points and up), for MappedExchange.
MAPPED_GROUP = min((name for name, configs in GROUPS.items()
                    if len(configs) == 2 and configs[0].dtype == "f16" and configs[0].N >= 2**22),
                   key=lambda name: GROUPS[name][0].N * GROUPS[name][0].B * GROUPS[name][0].H, default=None)


@pytest.mark.skipif(torch.cuda.device_count() < 2 or NCCL_GROUP is None,
                    reason="needs 2 GPUs and sharded kernels of 2 ranks")
@pytest.mark.parametrize("transport", ["nccl", "copy-engine", "copy-engine-pull", "mapped", "auto"])
def test_run_on_two_gpus_is_lockstep_and_traces_every_step(tmp_path, transport):
    """fftconv.distributed.run on 2 GPUs (torchrun, the smallest f16 check
    group of 2 ranks; mapped, the smallest whose chunks map), its exchanges
    by NCCL, by the copy engines (each rank writing its chunks into the
    peers or reading them out) or by the producer kernels' stores into the
    peers (mapped; auto, the default, maps them on two GPUs of one host):
    both calls' outputs bit for bit what run_lockstep
    gives on one GPU (the second call's exchanges into buffers the first
    left), and its trace one row a step of the schedule, each ending after
    it began, on the stream run gave it; where the group has a backward,
    its gradients by the same transport bit for bit the lockstep run's."""
    import shutil
    import subprocess

    mapped = transport in ("mapped", "auto")
    if mapped and MAPPED_GROUP is None:
        pytest.skip("no 2-rank f16 check group of 2^22 points or more")
    configs = GROUPS[MAPPED_GROUP if mapped else NCCL_GROUP]
    torchrun = shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("no torchrun")
    worker = os.path.join(os.path.dirname(__file__), "distributed_run_worker.py")
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "..", "python"))
    done = subprocess.run([torchrun, "--nproc_per_node=2", worker, str(tmp_path), transport, configs[0].path,
                           configs[1].path],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]

    # The worker's inputs are these (seed 3, made whole on each rank).
    _, _, expected = lockstep_forward(configs, seed=3)
    for r in range(2):
        for name in ("first", "y"):
            got = torch.load(tmp_path / f"{name}{r}.pt")
            assert torch.equal(got, expected[r].cpu()), f"rank {r}'s output ({name}) differs from the lockstep run"
        trace = json.load(open(tmp_path / f"trace{r}.json"))
        if transport != "nccl":  # its exchanges by the copy engines or the stores, not NCCL's fallback
            assert trace["mapped_buffers"] > 0
        # run's two streams of kernels take the kernels a step one by one.
        kinds = [row["kind"] for row in trace["rows"]]
        assert kinds == [kind for kind, count in trace["steps"] for _ in range(count)]
        for row in trace["rows"]:
            assert 0 <= row["begin_ms"] <= row["end_ms"]
            assert row["stream"] == "exchange" if row["kind"] == "exchange" else row["stream"] in (0, 1)
        assert 0 <= trace["no_kernel_ms"] <= max(row["end_ms"] for row in trace["rows"])
    if configs[0].raw.get("training"):  # the backward by the same transport, bit for bit too
        _, _, _, parts = lockstep_backward(configs)
        for r in range(2):
            got = torch.load(tmp_path / f"grads{r}.pt")
            want = parts[r] if isinstance(parts[r], tuple) else (parts[r],)
            assert len(got) == len(want)
            for g, w in zip(got, want):
                assert torch.equal(g, w.cpu()), f"rank {r}'s gradients differ from the lockstep run"
