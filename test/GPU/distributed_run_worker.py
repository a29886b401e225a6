"""One rank of test_distributed_gpu.py's two-GPU test, under torchrun: the
rank's program of a check group run twice by fftconv.distributed.run, its
exchanges by TRANSPORT (fftconv.distributed.TRANSPORTS: nccl, copy-engine,
mapped; or copy-engine-pull: the copy engines, each rank reading its
chunks), the second call
with a step trace; saves both calls' output parts and the trace's timeline;
where the group has a backward, its gradients' parts by the same transport.

    torchrun --nproc_per_node=R distributed_run_worker.py OUT_DIR TRANSPORT RANK0_DIR ... RANK{R-1}_DIR
"""

import json
import os
import sys

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from fftconv import distributed, kernel_configs, runtime  # noqa: E402


def mapped_buffers(program, exchange):
    """The workspaces the transport mapped: the copy engines' symmetric
    buffers, or the receive buffers of the exchanges done by stores."""
    if isinstance(exchange, distributed.MappedExchange):  # AutoExchange too
        mapping = exchange.mapping(program)
        return len({program.manifest.exchanges[e].recv for e in mapping.producers}) if mapping else 0
    return len(distributed.CopyEngineExchange.mapped(program))


def main(out_dir, transport, rank_dirs):
    dist.init_process_group("nccl")
    rank = dist.get_rank()
    torch.cuda.set_device(rank)
    config = kernel_configs.load_config(rank_dirs[rank])
    program = runtime.Program.load(manifest=config.manifest_path)
    shard = program.manifest.shard
    layout = distributed.Layout(shard.ranks, shard.row_length, config.L)
    # Every rank makes the same whole inputs (one seed) and keeps its part.
    inputs = kernel_configs.make_inputs(config, seed=3)
    local = [distributed.shard_input(inputs[n], layout, rank) for n in config.input_names]
    out = torch.full(tuple(program.manifest.outputs[0].shape), float("nan"),
                     dtype=kernel_configs.torch_dtype(config.dtype), device="cuda")
    # "copy-engine-pull": the copy engines, each rank reading its chunks.
    options = dict(push=False) if transport == "copy-engine-pull" else {}
    exchange = distributed.exchange_over(None, transport.removesuffix("-pull"), **options)
    first = distributed.run(program, local, exchange).clone()
    trace = []
    distributed.run(program, local, exchange, outputs=out, trace=trace)
    torch.cuda.synchronize()
    rows, idle = distributed.timeline(trace)
    torch.save(first.cpu(), os.path.join(out_dir, f"first{rank}.pt"))
    torch.save(out.cpu(), os.path.join(out_dir, f"y{rank}.pt"))
    with open(os.path.join(out_dir, f"trace{rank}.json"), "w") as f:
        json.dump({"rows": rows, "no_kernel_ms": idle,
                   "mapped_buffers": mapped_buffers(program, exchange),
                   "steps": [[kind, len(step) if kind == "kernels" else 1]
                             for kind, step in distributed.schedule(program.manifest)]}, f)
    if config.raw.get("training"):
        # The backward by the same transport, on test_distributed_gpu's
        # backward inputs (seeds 4 and 9): its gradients' parts.
        from fftconv import gpu

        backward = gpu.load_backward(config.manifest_path)
        inputs = kernel_configs.make_inputs(config, seed=4)
        generator = torch.Generator(device="cuda").manual_seed(9)
        dy = torch.randn(config.B, config.H, config.L, generator=generator, device="cuda")
        dy = dy.to(kernel_configs.torch_dtype(config.dtype))
        local = [distributed.shard_input(inputs[n], layout, rank) for n in config.input_names]
        grads = distributed.run(backward, local + [distributed.shard(dy, layout, rank)], exchange)
        grads = grads if isinstance(grads, tuple) else (grads,)
        torch.save([g.cpu() for g in grads], os.path.join(out_dir, f"grads{rank}.pt"))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
