#!/usr/bin/env python3
"""A numpy model of the Half-precision convolution kernel's roundings (the
single-kernel form, docs/passes.md): every tensor-core factor (16 and 32)
rounded to f16, every stage's output rounded to f16 (what the next stage's
f16 MMA operands and the shared-memory planes hold), the spectral product
in f32 and rounded, the inverse stages likewise; FMA stages (2, 4, 8) and
twiddles exact (f32). It compares, against the same transform in float64:

- plain: the factors rounded from F;
- scaled: each factor rounded from s F and scaled back by 1/s (s from
  `best_scale`, the search KernelEmitter::factorScale does);
- scaled, exact data: the same with no rounding between stages (what the
  Split form's data would give), to show what bounds the Half form.

    /usr/bin/python3 bench/half_rounding_model.py

With --exact-points, how far holding the data of one or two rounding
points split (the best ones) takes the scaled form.

With --gated, a gated convolution (y = w (k * (v u)), real gates on the
real and imaginary parts): its pregate product and its output before the
postgate rounded to f16 too, and what leaving those two roundings out (a
stage 0 that reads and writes global memory in f32: bench/results/
direct-output-2026-11-29-h200.md) and fusing the last stage with the
product would give.

It is a model of complex sequences with random coefficients, not of the
kernels themselves (no real-input packing or skip); its errors sit within
1e-4 of the measured ones (bench/NOTES.md)."""

import sys

import numpy as np


def round16(x):
    """Real and imaginary parts rounded to f16."""
    return x.real.astype(np.float16).astype(np.float64) + 1j * x.imag.astype(np.float16).astype(np.float64)


def dft(m, inverse):
    j = np.arange(m)
    return np.exp((1 if inverse else -1) * 2j * np.pi * np.outer(j, j) / m) / np.sqrt(m)


def best_scale(m, steps=4096):
    """The s in [1, 2), in steps of 1/steps, whose s F rounds to f16 with the
    smallest largest error relative to s."""
    exact = dft(m, False)
    errors = [np.abs(round16(exact * (1 + t / steps)) / (1 + t / steps) - exact).max() for t in range(steps)]
    return 1 + int(np.argmin(errors)) / steps


def stage(x, factors, s, factor, inverse):
    """Stage s of the Monarch transform over [a, m, c] views (twiddles on
    the outputs forward, on the inputs inverse)."""
    batch, length = x.shape
    m, a, c = factors[s], int(np.prod(factors[:s])), int(np.prod(factors[s + 1:]))
    twiddle = np.exp((1 if inverse else -1) * 2j * np.pi * np.arange(m)[:, None] * np.arange(c)[None, :] / (m * c))
    x = x.reshape(batch, a, m, c)
    if inverse:
        return np.einsum("ij,bajc->baic", factor, x * twiddle).reshape(batch, length)
    return (np.einsum("ij,bajc->baic", factor, x) * twiddle).reshape(batch, length)


def convolve(z, spectrum, factors, round_factors, scaled, round_data, exact_points=()):
    """The model's convolution. `exact_points` lists roundings of the data
    left out (0 .. T-1 the forward stages' outputs, T the spectral product's,
    T+1 .. 2T the inverse stages', the last being the output): what holding
    those values split (hi + lo) would give."""
    scales = {m: best_scale(m) for m in set(factors) if m >= 16}

    def factor(m, inverse):
        exact = dft(m, inverse)
        if not round_factors or m < 16:
            return exact
        s = scales[m] if scaled else 1.0
        return round16(exact * s) / s

    point = iter(range(2 * len(factors) + 1))

    def keep(v):
        return round16(v) if round_data and next(point) not in exact_points else v

    x = z
    for s in range(len(factors)):
        x = keep(stage(x, factors, s, factor(factors[s], False), False))
    x = keep(x * spectrum)
    for s in reversed(range(len(factors))):
        x = keep(stage(x, factors, s, factor(factors[s], True), True))
    return x


def gate(x, g):
    """Real gates on the real and imaginary parts."""
    return x.real * g.real + 1j * x.imag * g.imag


def gated_convolve(z, v, w, spectrum, factors, fused, exact_edges):
    """The scaled form of a gated convolution: the pregate product and the
    output before the postgate rounded (unless `exact_edges`), and with
    `fused` the last forward stage, the product and the first inverse stage
    in f32 (two roundings fewer)."""
    scales = {m: best_scale(m) for m in set(factors) if m >= 16}

    def factor(m, inverse):
        exact = dft(m, inverse)
        return exact if m < 16 else round16(exact * scales[m]) / scales[m]

    last = len(factors) - 1
    x = gate(z, v) if exact_edges else round16(gate(z, v))
    for s in range(len(factors)):
        x = stage(x, factors, s, factor(factors[s], False), False)
        if not (fused and s == last):
            x = round16(x)
    x = x * spectrum
    if not fused:
        x = round16(x)
    for s in reversed(range(len(factors))):
        x = stage(x, factors, s, factor(factors[s], True), True)
        if not (exact_edges and s == 0):
            x = round16(x)
    return round16(gate(x, w))


def gated_rounding(rng):
    """The gated rows' factorizations, as the kernels run them."""
    print("| factors | fused pass | as run | exact edges | exact edges, fused |")
    print("|---|---|---|---|---|")
    for factors, fused in (([16, 8], False), ([32, 16], False), ([16, 16, 8], False),
                           ([16, 16, 16], False), ([32, 32, 8], True), ([32, 32, 16], True)):
        length = int(np.prod(factors))
        batch = max(2, 32768 // length)

        def sample():
            return round16(rng.standard_normal((batch, length)) + 1j * rng.standard_normal((batch, length)))

        z, v, w = sample(), sample(), sample()
        spectrum = np.exp(2j * np.pi * rng.random(length)) * (0.5 + rng.random(length))
        exact = gate(convolve(gate(z, v), spectrum, factors, False, False, False), w)

        def error(fuse, exact_edges):
            y = gated_convolve(z, v, w, spectrum, factors, fuse, exact_edges)
            return f"{np.linalg.norm(y - exact) / np.linalg.norm(exact):.2e}"

        print(f"| {factors} | {fused} | {error(fused, False)} | {error(fused, True)} | {error(True, True)} |")


def random_case(rng, factors):
    """f16 inputs, a random spectrum, and their convolution in float64."""
    length = int(np.prod(factors))
    batch = max(2, 32768 // length)
    z = round16(rng.standard_normal((batch, length)) + 1j * rng.standard_normal((batch, length)))
    spectrum = np.exp(2j * np.pi * rng.random(length)) * (0.5 + rng.random(length))
    return z, spectrum, convolve(z, spectrum, factors, False, False, False)


def fewest_exact_points(rng):
    """Per factorization, the error with no rounding left out and with the
    best one and the best two left out (of the 2T before the output)."""
    import itertools

    print("| factors | all rounded | best one exact | best two exact |")
    print("|---|---|---|---|")
    for factors in ([16, 8], [32, 16], [16, 16, 8], [16, 16, 16], [32, 16, 16], [32, 32, 16]):
        z, spectrum, exact = random_case(rng, factors)

        def error(points):
            y = convolve(z, spectrum, factors, True, True, True, points)
            return np.linalg.norm(y - exact) / np.linalg.norm(exact)

        cells = [f"{error(()):.2e}"]
        for count in (1, 2):
            best = min((error(points), points) for points in itertools.combinations(range(2 * len(factors)), count))
            cells.append(f"{best[0]:.2e} at {list(best[1])}")
        print(f"| {factors} | " + " | ".join(cells) + " |")


def main():
    rng = np.random.default_rng(1)
    if "--exact-points" in sys.argv[1:]:
        fewest_exact_points(rng)
        return
    if "--gated" in sys.argv[1:]:
        gated_rounding(rng)
        return
    print("| factors | plain | scaled | scaled, exact data |")
    print("|---|---|---|---|")
    for factors in ([16, 8], [32, 32], [16, 16, 8], [16, 16, 16], [32, 16, 16], [32, 32, 16]):
        z, spectrum, exact = random_case(rng, factors)
        errors = [np.linalg.norm(convolve(z, spectrum, factors, True, scaled, data) - exact) / np.linalg.norm(exact)
                  for scaled, data in ((False, True), (True, True), (True, False))]
        print(f"| {factors} | " + " | ".join(f"{e:.2e}" for e in errors) + " |")


if __name__ == "__main__":
    main()
