"""Float64 numpy oracle for every op of the fftconv and butterfly dialects.

Each function states the op's semantics (see the op descriptions in
include/fftconv/Dialect/*/IR/*Ops.td) in plain numpy, in float64 or
complex128, independent of the compiler. Tests compare the compiler's CPU
execution against these on random inputs.
"""

import numpy as np

# --------------------------------------------------------------------------
# Element types
# --------------------------------------------------------------------------


def bf16_bits(x):
    """Rounds float values to bfloat16 (round to nearest even); returns the
    16-bit patterns as uint16."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounding = 0x7FFF + ((bits >> 16) & 1)
    return ((bits + rounding) >> 16).astype(np.uint16)


def bf16_to_float(bits):
    """The float64 values of bfloat16 bit patterns."""
    wide = np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16
    return wide.view(np.float32).astype(np.float64)


def round_to(x, dtype):
    """x rounded to `dtype` ('f32', 'f16', 'bf16'), returned as float64."""
    if dtype == "f32":
        return np.asarray(x, np.float32).astype(np.float64)
    if dtype == "f16":
        return np.asarray(x, np.float16).astype(np.float64)
    if dtype == "bf16":
        return bf16_to_float(bf16_bits(x))
    raise ValueError(f"unknown element type {dtype!r}")


def relative_error(y, ref):
    """||y - ref|| / ||ref|| over all elements."""
    y = np.asarray(y, dtype=np.complex128 if np.iscomplexobj(y) else np.float64)
    ref = np.asarray(ref)
    return float(np.linalg.norm((y - ref).ravel()) / np.linalg.norm(ref.ravel()))


# --------------------------------------------------------------------------
# fftconv dialect
# --------------------------------------------------------------------------


def _as_rows(x):
    """A multi-head B x G x H x Z x L array as rows [B * G * Z, H, L]."""
    if x is None or np.ndim(x) != 5:
        return x
    x = np.asarray(x)
    return np.moveaxis(x, 2, 3).reshape(-1, x.shape[2], x.shape[-1])


def _from_rows(rows, shape):
    """Rows [B * G * Z, H, L] back as the multi-head array of `shape`."""
    b, g, h, z, length = shape
    return np.moveaxis(rows.reshape(b, g, z, h, length), 3, 2)


def _ahead(v, kr):
    """sum_j kr[h, j] v[..., t + j] (zero past the end): the correlation a
    reverse kernel adds, the causal convolution of the reversed sequence."""
    return np.flip(conv(np.flip(v, -1), kr, "causal"), -1)


def conv(u, k, mode="causal", pregate=None, postgate=None, skip=None, reverse=None):
    """fftconv.conv: u is B x H x L (or multi-head B x G x H x Z x L), k is
    H x K (K <= L), skip D is H, reverse kr is H x K' (causal only).

    v = pregate * u; z = v (*) k (causal: zero before t = 0; circular: mod L);
    z += sum_j kr[j] v[t + j]; z += D * v; y = postgate * z.
    """
    if np.ndim(u) == 5:
        rows = conv(_as_rows(u), k, mode, _as_rows(pregate), _as_rows(postgate), skip, reverse)
        return _from_rows(rows, np.shape(u))
    u = np.asarray(u, np.float64)
    k = np.asarray(k, np.float64)
    length = u.shape[-1]
    taps = k.shape[-1]
    if taps > length:
        raise ValueError("kernel longer than the sequence")
    v = u if pregate is None else u * np.asarray(pregate, np.float64)
    if mode == "causal":
        n = length + taps  # >= L + K - 1: no wrap-around reaches t < L
        z = np.fft.irfft(np.fft.rfft(v, n) * np.fft.rfft(k, n), n)[..., :length]
    elif mode == "circular":
        z = np.fft.irfft(np.fft.rfft(v, length) * np.fft.rfft(k, length), length)
    else:
        raise ValueError(f"unknown mode {mode!r}")
    if reverse is not None:
        z = z + _ahead(v, np.asarray(reverse, np.float64))
    if skip is not None:
        z = z + np.asarray(skip, np.float64)[:, None] * v
    if postgate is not None:
        z = z * np.asarray(postgate, np.float64)
    return z


def conv_grad(u, k, dy, mode="causal", pregate=None, postgate=None, skip=None, reverse=None):
    """fftconv.conv_grad, every gradient, by the direct sums of design.md
    ("Training: the gradients"), not by FFTs: a dict with "input",
    "kernel" and, where the convolution has them, "pregate", "postgate",
    "skip", "reverse". g = postgate * dy; dv[t] = sum_s k[s] g[t + s] +
    sum_s kr[s] g[t - s] + D g[t] (causal: terms outside [0, L) vanish;
    circular: t + s mod L); dk[s] = sum_b sum_t g[t + s] v[t];
    dkr[s] = sum_b sum_t g[t] v[t + s]; dD = sum_b sum_t g v. Multi-head
    arrays sum over every row."""
    if np.ndim(u) == 5:
        grads = conv_grad(_as_rows(u), k, _as_rows(dy), mode, _as_rows(pregate), _as_rows(postgate),
                          skip, reverse)
        for name in ("input", "pregate", "postgate"):
            if name in grads:
                grads[name] = _from_rows(grads[name], np.shape(u))
        return grads
    u = np.asarray(u, np.float64)
    k = np.asarray(k, np.float64)
    dy = np.asarray(dy, np.float64)
    length, taps = u.shape[-1], k.shape[-1]
    v = u if pregate is None else u * np.asarray(pregate, np.float64)
    g = dy if postgate is None else dy * np.asarray(postgate, np.float64)

    def shifted(x, s):  # x[..., t + s] at every t
        if mode == "circular":
            return np.roll(x, -s, axis=-1)
        out = np.zeros_like(x)
        out[..., : length - s] = x[..., s:]
        return out

    dv = sum(k[:, s, None] * shifted(g, s) for s in range(taps))
    dk = np.stack([np.sum(shifted(g, s) * v, axis=(0, 2)) for s in range(taps)], axis=-1)
    grads = {}
    if reverse is not None:
        kr = np.asarray(reverse, np.float64)
        dv = dv + conv(g, kr, "causal")
        grads["reverse"] = np.stack([np.sum(shifted(v, s) * g, axis=(0, 2)) for s in range(kr.shape[-1])], axis=-1)
    grads.update({"input": dv if skip is None else dv + np.asarray(skip, np.float64)[:, None] * g, "kernel": dk})
    dv = grads["input"]
    if pregate is not None:
        grads["input"] = dv * np.asarray(pregate, np.float64)
        grads["pregate"] = dv * u
    if postgate is not None:
        grads["postgate"] = dy * conv(u, k, mode, pregate=pregate, skip=skip, reverse=reverse)
    if skip is not None:
        grads["skip"] = np.sum(g * v, axis=(0, 2))
    return grads


def conv_direct(u, k, mode="causal"):
    """The plain double loop of fftconv.conv without gates: an independent
    check of `conv` on small sizes."""
    u = np.asarray(u, np.float64)
    k = np.asarray(k, np.float64)
    length = u.shape[-1]
    z = np.zeros_like(u)
    for j in range(k.shape[-1]):
        tap = k[:, j][None, :, None]
        if mode == "causal":
            z[..., j:] += tap * u[..., : length - j]
        else:
            z += tap * np.roll(u, j, axis=-1)
    return z


def fft(x, n):
    return np.fft.fft(np.asarray(x, np.complex128), n)


def ifft(x, n):
    return np.fft.ifft(np.asarray(x, np.complex128), n)


def rfft(x, n):
    return np.fft.rfft(np.asarray(x, np.float64), n)


def irfft(x, n):
    return np.fft.irfft(np.asarray(x, np.complex128), n)


def squash(k, lam):
    """sign(k) * max(|k| - lambda, 0)."""
    k = np.asarray(k, np.float64)
    return np.sign(k) * np.maximum(np.abs(k) - lam, 0.0)


def smooth(k, width):
    """Average pooling of odd width along the last axis, zero padded, divisor
    always `width`."""
    if width < 1 or width % 2 == 0:
        raise ValueError("width must be odd and positive")
    k = np.asarray(k, np.float64)
    half = width // 2
    padded = np.pad(k, [(0, 0)] * (k.ndim - 1) + [(half, half)])
    out = np.zeros_like(k)
    for j in range(width):
        out += padded[..., j : j + k.shape[-1]]
    return out / width


# --------------------------------------------------------------------------
# butterfly dialect
# --------------------------------------------------------------------------


def dft(m, inverse=False):
    """butterfly.dft: F[k][j] = exp(-2 pi i jk/m); inverse: conj(F)/m."""
    jk = np.outer(np.arange(m), np.arange(m))
    if inverse:
        return np.exp(2j * np.pi * jk / m) / m
    return np.exp(-2j * np.pi * jk / m)


def kron(factor, x, stride):
    """butterfly.kron: (I_a (x) F_m (x) I_c) x along the last axis; factor is
    m x m or a x m x m (one block per outer index)."""
    factor = np.asarray(factor, np.complex128)
    x = np.asarray(x, np.complex128)
    m = factor.shape[-1]
    n = x.shape[-1]
    a = n // (m * stride)
    view = x.reshape(x.shape[:-1] + (a, m, stride))
    if factor.ndim == 2:
        y = np.einsum("kn,...inj->...ikj", factor, view)
    else:
        y = np.einsum("ikn,...inj->...ikj", factor, view)
    return y.reshape(x.shape)


def twiddle(x, rows, cols, inverse=False):
    """butterfly.twiddle: x[..., i, k, j] * exp(-+2 pi i kj/(rows cols))."""
    x = np.asarray(x, np.complex128)
    n = x.shape[-1]
    a = n // (rows * cols)
    kj = np.outer(np.arange(rows), np.arange(cols))
    sign = 1.0 if inverse else -1.0
    w = np.exp(sign * 2j * np.pi * kj / (rows * cols))
    view = x.reshape(x.shape[:-1] + (a, rows, cols))
    return (view * w).reshape(x.shape)


def permute(x, rows, cols):
    """butterfly.permute: [..., a, rows, cols] -> [..., a, cols, rows]."""
    x = np.asarray(x)
    n = x.shape[-1]
    a = n // (rows * cols)
    view = x.reshape(x.shape[:-1] + (a, rows, cols))
    return np.swapaxes(view, -1, -2).reshape(x.shape)


def monarch_order(factors):
    """src[p]: the natural-order index of the spectrum entry that Monarch
    order stores at position p. Position (k1, ..., kp), row-major over the
    factors, holds X[k1 + N1 k2 + N1 N2 k3 + ...]."""
    factors = list(factors)
    n = int(np.prod(factors))
    digits = np.unravel_index(np.arange(n), factors)
    src = np.zeros(n, dtype=np.int64)
    weight = 1
    for digit, size in zip(digits, factors):
        src += weight * digit
        weight *= size
    return src


def monarch(x, factors, inverse=False, permuted=False):
    """butterfly.monarch: the DFT (or inverse DFT) of size prod(factors),
    with the spectrum side in Monarch order when `permuted`."""
    x = np.asarray(x, np.complex128)
    src = monarch_order(factors)
    if not inverse:
        spectrum = np.fft.fft(x)
        return spectrum[..., src] if permuted else spectrum
    if permuted:
        natural = np.empty_like(x)
        natural[..., src] = x
        x = natural
    return np.fft.ifft(x)


# --------------------------------------------------------------------------
# Real-input trick (butterfly dialect)
# --------------------------------------------------------------------------


def pack_real(x, half):
    """butterfly.pack_real: x zero-padded to 2*half, z[j] = x[2j] + i x[2j+1]."""
    x = np.asarray(x, np.float64)
    padded = np.zeros(x.shape[:-1] + (2 * half,))
    padded[..., : x.shape[-1]] = x
    return padded[..., 0::2] + 1j * padded[..., 1::2]


def unpack_real(z, length):
    """butterfly.unpack_real: y[2j] = Re z[j], y[2j+1] = Im z[j], first `length`."""
    z = np.asarray(z, np.complex128)
    y = np.empty(z.shape[:-1] + (2 * z.shape[-1],))
    y[..., 0::2] = z.real
    y[..., 1::2] = z.imag
    return y[..., :length]


def _real_trick_ab(half, k):
    w = np.exp(-2j * np.pi * k / (2 * half))
    return 0.5 * (1 - 1j * w), 0.5 * (1 + 1j * w)


def real_spectrum(x, inverse=False):
    """butterfly.real_spectrum: Z (length M) -> X (M + 1 bins), or back."""
    x = np.asarray(x, np.complex128)
    if not inverse:
        half = x.shape[-1]
        k = np.arange(half + 1)
        a, b = _real_trick_ab(half, k)
        return a * x[..., k % half] + b * np.conj(x[..., (half - k) % half])
    half = x.shape[-1] - 1
    x = x.copy()
    x[..., 0] = x[..., 0].real
    x[..., half] = x[..., half].real
    k = np.arange(half)
    mirror = np.conj(x[..., half - k])
    w_inv = np.exp(2j * np.pi * k / (2 * half))
    return 0.5 * (x[..., k] + mirror) + 0.5j * w_inv * (x[..., k] - mirror)


def conv_spectrum(kf):
    """butterfly.conv_spectrum: H x (M+1) bins of rfft(k, 2M) -> H x 2 x M."""
    kf = np.array(kf, np.complex128)
    half = kf.shape[-1] - 1
    # Bins 0 and M count by their real parts (a real kernel's are real).
    kf[..., 0] = kf[..., 0].real
    kf[..., half] = kf[..., half].real
    k = np.arange(half)
    a, b = _real_trick_ab(half, k)
    am, bm = _real_trick_ab(half, half - k)
    w_inv = np.exp(2j * np.pi * k / (2 * half))
    c1, c2 = 0.5 * (1 + 1j * w_inv), 0.5 * (1 - 1j * w_inv)
    mirror = np.conj(kf[..., half - k])
    coef_a = c1 * kf[..., k] * a + c2 * mirror * np.conj(bm)
    coef_b = c1 * kf[..., k] * b + c2 * mirror * np.conj(am)
    return np.stack([coef_a, coef_b], axis=-2)


def hermitian_mul(x, coefficients, factors=None):
    """butterfly.hermitian_mul: y[p] = A[p] x[p] + B[p] conj(x[s(p)])."""
    x = np.asarray(x, np.complex128)
    coefficients = np.asarray(coefficients, np.complex128)
    half = x.shape[-1]
    if factors is None:
        partner = (half - np.arange(half)) % half
    else:
        freq = monarch_order(factors)
        position = np.empty(half, dtype=np.int64)
        position[freq] = np.arange(half)
        partner = position[(half - freq) % half]
    return coefficients[:, 0, :] * x + coefficients[:, 1, :] * np.conj(x[..., partner])


def channel_mul(x, k, band=None):
    """fftconv.channel_mul: y[b, h, f] = x[b, h, f] * k[h, f], with k taken
    as zero for f >= band (frequency-sparse)."""
    k = np.array(k, np.complex128)
    if band is not None:
        k[..., band:] = 0
    return np.asarray(x, np.complex128) * k


def monarch_linear(x, weights):
    """butterfly.monarch_linear: stage s views the last axis as
    [a_s, m_s, c_s] and applies block W_s[i*c_s + j] (m_s x m_s) at each
    position (i, j); stage 0 first."""
    x = np.asarray(x)
    dtype = np.complex128 if np.iscomplexobj(x) or any(np.iscomplexobj(w) for w in weights) else np.float64
    y = x.astype(dtype)
    n = x.shape[-1]
    sizes = [w.shape[-1] for w in weights]
    for s, w in enumerate(weights):
        m = sizes[s]
        c = int(np.prod(sizes[s + 1 :]))
        a = n // (m * c)
        blocks = np.asarray(w, dtype).reshape(a, c, m, m)
        view = y.reshape(y.shape[:-1] + (a, m, c))
        y = np.einsum("ijkn,...inj->...ikj", blocks, view).reshape(y.shape)
    return y


def dft_monarch_weights(factors):
    """Weights for which monarch_linear is the DFT in Monarch order: each
    stage's DFT factor times the twiddle that follows it."""
    n = int(np.prod(factors))
    weights = []
    for s, m in enumerate(factors):
        c = int(np.prod(factors[s + 1 :]))
        a = n // (m * c)
        k = np.arange(m)[:, None]
        j = np.arange(c)[:, None, None]
        twiddle = np.exp(-2j * np.pi * k * j / (m * c))  # c x m x 1
        block = twiddle * dft(m)[None, :, :]  # c x m x m
        weights.append(np.broadcast_to(block, (a, c, m, m)).reshape(a * c, m, m))
    return weights
