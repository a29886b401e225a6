"""Runs one compiled configuration once, for compute-sanitizer:

    compute-sanitizer --tool memcheck python3 test/GPU/sanitize_one.py <config dir>

Loads <config dir>/manifest.json and its PTX with fftconv.runtime, launches
every kernel once on random inputs into a NaN-poisoned output, synchronizes,
and checks that every element is finite and the relative error is within
the dtype's tolerance; a configuration compiled with its backward
(fftconv.compile(training=True)) runs the backward's kernels too, into
poisoned gradients checked against float64 autograd. Exit status 0 when
everything is, 1 otherwise.

The float64 references run on the CPU: under racecheck, PyTorch's own
reduction kernel (a float64 sum on the GPU, as the skip's gradient takes at
N = 64K) is reported as a hazard, which is not the compiled kernels'.

Set PYTORCH_NO_CUDA_MEMORY_CACHING=1 and pass memcheck --padding 1024
(scripts/gpu_check.sh does both), so that every tensor is its own allocation
with unallocated memory after it: otherwise a write past the end of a
buffer lands in a neighbouring allocation and memcheck does not see it.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import torch  # noqa: E402

from fftconv import gpu, kernel_configs  # noqa: E402
from fftconv.runtime import Program  # noqa: E402


def check_backward(config, inputs, launches):
    """The backward program once per launch into NaN-poisoned gradients;
    True when every gradient is finite and within tolerance."""
    backward = gpu.load_backward(config.manifest_path, device=inputs["u"].device)
    generator = torch.Generator(device=inputs["u"].device).manual_seed(7)
    dy = torch.randn(inputs["u"].shape, generator=generator, device=inputs["u"].device).to(inputs["u"].dtype)
    names = config.input_names
    grads = [torch.full_like(inputs[name], float("nan")) for name in names]
    for _ in range(launches):
        backward.launch([inputs[name] for name in names] + [dy], outputs=grads)
    torch.cuda.synchronize()
    ok = True
    on_cpu = {name: tensor.cpu() for name, tensor in inputs.items()}
    for name, got, expected in zip(names, grads, kernel_configs.reference_gradients(config, on_cpu, dy.cpu())):
        got = got.cpu()
        finite = bool(torch.isfinite(got).all())
        error = (torch.linalg.norm((got.double() - expected).flatten()) / torch.linalg.norm(expected.flatten())).item()
        good = finite and error <= config.tolerance
        ok = ok and good
        print(f"{config.name}: backward d{name}: {'ok' if good else 'FAILED'}: all finite: {finite}, "
              f"relative error {error:.3e}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config_dir", help="a configuration folder (config.json, manifest.json, kernel.ptx)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--launches", type=int, default=1, help="launches (default 1)")
    args = parser.parse_args()

    config = kernel_configs.load_config(args.config_dir)
    program = Program.from_dir(config.path)
    inputs = kernel_configs.make_inputs(config, args.seed, program.device)
    out = kernel_configs.poisoned_output(config, program.device)
    for _ in range(args.launches):
        program.launch(inputs, outputs=out)
    torch.cuda.synchronize()
    finite = bool(torch.isfinite(out).all())
    on_cpu = {name: tensor.cpu() for name, tensor in inputs.items()}
    error = kernel_configs.relative_error(config, on_cpu, out.cpu()) if finite else float("nan")
    ok = finite and error <= config.tolerance
    print(f"{config.name}: {'ok' if ok else 'FAILED'}: all finite: {finite}, relative error {error:.3e} "
          f"(tolerance {config.tolerance:.0e})")
    if kernel_configs.has_backward(config):
        ok = check_backward(config, inputs, args.launches) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
