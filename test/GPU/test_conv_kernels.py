"""The compiled convolution kernels (one test per configuration folder of
FFTCONV_GPU_KERNELS) through fftconv.runtime, against the float64 reference
on the same rounded inputs. Run with -s to see the measured errors."""

import math
import os
import sys

import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from fftconv import kernel_configs, reference  # noqa: E402
from fftconv.runtime import Program  # noqa: E402

_programs = {}


def program_for(config):
    # One load per configuration for the whole session.
    if config.path not in _programs:
        _programs[config.path] = Program.from_dir(config.path)
    return _programs[config.path]


def check_manifest_matches_config(program, config):
    manifest = program.manifest
    names = [a.name for a in manifest.inputs]
    assert names == config.input_names, f"manifest inputs {names}, config says {config.input_names}"
    shapes = {a.name: (a.shape, a.dtype) for a in manifest.inputs + manifest.outputs}
    bhl = (config.B, config.H, config.L)
    assert shapes["u"] == (bhl, config.dtype)
    assert shapes["k"] == ((config.H, config.K), "f32")
    if config.skip:
        assert shapes["skip"] == ((config.H,), "f32")
    assert len(manifest.outputs) == 1 and shapes[manifest.outputs[0].name] == (bhl, config.dtype)
    # The compiler's FFT size: causal, the power of two >= L + K - 1 and at
    # least the kernels' 256 (fftconv-to-ptx pads to it); circular, L.
    linear = config.L + config.K - 1
    expected_n = max(256, 1 << (linear - 1).bit_length()) if config.mode == "causal" else config.L
    assert config.N == expected_n, f"N={config.N} for {config.mode} L={config.L} K={config.K}"


def run_poisoned(program, config, inputs, **options):
    out = kernel_configs.poisoned_output(config, inputs["u"].device)
    y = program.launch(inputs, outputs=out, **options)
    assert y is out
    torch.cuda.synchronize()
    return out


def test_conv_matches_reference(config, seed):
    program = program_for(config)
    check_manifest_matches_config(program, config)
    inputs = kernel_configs.make_inputs(config, seed, program.device)

    y = run_poisoned(program, config, inputs)
    finite = torch.isfinite(y)
    if not bool(finite.all()):
        bad = int((~finite).sum())
        first = tuple(int(i) for i in (~finite).nonzero()[0])
        pytest.fail(f"{config.name}: {bad} of {y.numel()} output elements not finite (first at {first}): unwritten or overflow")
    error = kernel_configs.relative_error(config, inputs, y)
    print(f"\n{config.name}: N={config.N} {config.dtype} {config.label} B={config.B} H={config.H} L={config.L} K={config.K}: "
          f"relative error {error:.3e} (tolerance {config.tolerance:.0e})")
    assert math.isfinite(error) and error <= config.tolerance, f"relative error {error:.3e} > {config.tolerance:.0e}"

    # The same inputs again must give the same bits: a moving result is a race.
    again = run_poisoned(program, config, inputs)
    if not torch.equal(y, again):
        moved = int((y != again).sum())
        pytest.fail(f"{config.name}: {moved} output elements differ between two launches on the same inputs (a race?)")


# Inputs far from N(0, 1): a gradient's scale (2^-30: below f16's smallest
# subnormal, 2^-24), and values past f16's largest (2^20 x N(0, 1)). A block
# that stores its values before it knows its scale (storeThenScale) scales
# them in place where its maximum lies within [2^-3, 65504] and reads them
# again elsewhere: 2^-5 and 2^14 put blocks' maxima on both sides of those
# bounds, 2^10 within them.
RANGE_SCALES = {
    "tiny": 2.0 ** -30,
    "low-edge": 2.0 ** -5,
    "large": 2.0 ** 10,
    "high-edge": 2.0 ** 14,
    "huge": 2.0 ** 20,
}


@pytest.mark.parametrize("scale", RANGE_SCALES, ids=str)
def test_conv_holds_any_input_range(config, scale):
    """bf16 and f32 data hold values f16 does not: the kernels scale each
    block's sequences into f16's range and back, so u scaled by a power of
    two far from 1 gives the reference's relative error. (k's taps are
    scaled the same way in the spectrum kernels: the f32 configuration at
    4M points, whose taps are about 5e-4, checks it.)"""
    if config.dtype == "f16":
        pytest.skip("f16 data is in f16's range")
    program = program_for(config)
    inputs = kernel_configs.make_inputs(config, seed=7, device=program.device)
    factor = RANGE_SCALES[scale]
    inputs["u"] = (inputs["u"].double() * factor).to(inputs["u"].dtype)
    y = run_poisoned(program, config, inputs)
    assert bool(torch.isfinite(y).all()), f"{config.name}: non-finite outputs at u x {factor:g}"
    error = kernel_configs.relative_error(config, inputs, y)
    print(f"\n{config.name} x {factor:g}: relative error {error:.3e} (tolerance {config.tolerance:.0e})")
    assert math.isfinite(error) and error <= config.tolerance, f"relative error {error:.3e} > {config.tolerance:.0e}"


def test_skip_producers_reuses_the_spectrum(config, seed):
    program = program_for(config)
    inputs = kernel_configs.make_inputs(config, seed, program.device)
    full = run_poisoned(program, config, inputs)
    # k unchanged: the producer (spectrum) is skipped, the result is the same.
    reused = run_poisoned(program, config, inputs, skip_producers=True)
    assert torch.equal(full, reused)
    if program.producer_kernels:
        only = run_poisoned(program, config, inputs, kernels=program.consumer_kernels)
        assert torch.equal(full, only)
    # A new k: the producer must run again even with skip_producers.
    fresh = kernel_configs.make_inputs(config, seed + 1, program.device)
    inputs["k"] = fresh["k"]
    y = run_poisoned(program, config, inputs, skip_producers=True)
    error = kernel_configs.relative_error(config, inputs, y)
    print(f"\n{config.name}: new k with skip_producers: relative error {error:.3e}")
    assert error <= config.tolerance
    # k modified in place: likewise.
    inputs["k"].mul_(-0.5)
    y = run_poisoned(program, config, inputs, skip_producers=True)
    assert kernel_configs.relative_error(config, inputs, y) <= config.tolerance


def test_independent_of_neighbouring_rows(config, seed):
    # Each (b, h) row's output depends on its own row (and channel h's k)
    # only: perturbing batch row 0 must leave the other rows' bits alone.
    # The three-pass form transforms batch rows 2j and 2j + 1 together (as
    # the real and imaginary parts of one sequence): row 1 then changes by
    # rounding only, and every other row keeps its bits (f16 data; bf16
    # and f32 below).
    if config.B < 2:
        pytest.skip("needs B >= 2")
    program = program_for(config)
    paired = config.kernels.startswith("three-pass")
    inputs = kernel_configs.make_inputs(config, seed, program.device)
    y = run_poisoned(program, config, inputs).clone()
    inputs["u"][0].neg_()
    y2 = run_poisoned(program, config, inputs)
    untouched = 2 if paired else 1
    assert not torch.equal(y[0], y2[0]), "changing batch row 0 did not change it"
    if paired:
        moved = float((y[1].double() - y2[1].double()).norm() / y[1].double().norm())
        print(f"\n{config.name}: row 1 moved by {moved:.1e} (rounding shared with row 0)")
        assert moved <= config.tolerance, f"row 1 moved by {moved:.3e}"
    if config.dtype != "f16":
        # bf16 and f32 blocks share a power-of-two range scale, which row 0
        # can move: exact, but where Split's low halves are subnormal they
        # round differently. The other rows then move by rounding only.
        rest = slice(untouched, None)
        moved = float((y[rest].double() - y2[rest].double()).norm() / y[rest].double().norm())
        assert moved <= config.tolerance / 100, f"rows past {untouched - 1} moved by {moved:.3e}"
        return
    assert torch.equal(y[untouched:], y2[untouched:]), "changing batch row 0 changed other rows"


def test_reference_matches_numpy_oracle(config):
    # The float64 torch reference used above agrees with reference.py's conv
    # (small configurations only: numpy on the CPU).
    if config.B * config.H * config.L > (1 << 21):
        pytest.skip("too large for the numpy oracle")
    inputs = kernel_configs.make_inputs(config, 7, "cpu")
    ours = kernel_configs.reference(config, inputs).numpy()
    arrays = {name: t.double().numpy() for name, t in inputs.items()}
    if config.squash is not None:
        arrays["k"] = reference.squash(arrays["k"], config.squash)
    if config.smooth is not None:
        arrays["k"] = reference.smooth(arrays["k"], config.smooth)
    if config.band is not None:
        n = config.N
        spectra = reference.channel_mul(reference.rfft(arrays["u"], n), reference.rfft(arrays["k"], n), config.band)
        oracle = reference.irfft(spectra, n)
    else:
        oracle = reference.conv(
            arrays["u"],
            arrays["k"],
            mode=config.mode,
            pregate=arrays.get("pregate"),
            postgate=arrays.get("postgate"),
            skip=arrays.get("skip"),
        )
    assert reference.relative_error(ours, oracle) < 1e-12


def test_launch_rejects_bad_tensors(config):
    program = program_for(config)
    inputs = kernel_configs.make_inputs(config, 3, program.device)

    def expect(message, **changes):
        bad = dict(inputs, **changes)
        with pytest.raises(ValueError, match=message):
            program.launch(bad)

    wrong = torch.float16 if config.dtype == "f32" else torch.float32
    expect(rf"input 'u': dtype {wrong}", u=inputs["u"].to(wrong))
    expect(r"input 'u': shape \[", u=inputs["u"][:, :, : config.L // 2].contiguous())
    expect(r"input 'u': is on cpu", u=inputs["u"].cpu())
    if config.L > 1:
        wide = torch.empty(config.B, config.H, 2 * config.L, dtype=inputs["u"].dtype, device=program.device)
        expect(r"input 'u': not contiguous", u=wide[:, :, ::2])
    expect(r"input 'k': dtype", k=inputs["k"].half())
    with pytest.raises(ValueError, match=r"missing input 'k'"):
        program.launch({"u": inputs["u"]})
    with pytest.raises(ValueError, match=r"unknown input 'x'"):
        program.launch(dict(inputs, x=inputs["u"]))
    with pytest.raises(ValueError, match=r"expected \d+ inputs"):
        program.launch([inputs["u"]])
    with pytest.raises(ValueError, match=r"shares memory"):
        program.launch(inputs, outputs=inputs["u"])
    with pytest.raises(ValueError, match=r"kernel index 99 out of range"):
        program.launch(inputs, kernels=[99])
    # Positional and by-keyword calls agree with launch().
    y1 = program(*[inputs[n] for n in config.input_names])
    y2 = program(**inputs)
    torch.cuda.synchronize()
    assert torch.equal(y1, y2)
