#!/usr/bin/env python3
"""Training a small Hyena-style language model through fftconv.torch.FFTConv.

The model: a token embedding, two blocks, an LM head. Each block (pre-norm):

    x = x + out_proj(mixer(LayerNorm(x)))
    x = x + MLP(LayerNorm(x))

where the mixer projects to three streams x1, x2, v, runs a short causal
depthwise convolution (kernel 3) over each, and then the gated long
convolution of Hyena,

    y = x2 * (k * (x1 * v))          (causal, one explicit filter per channel)

through FFTConv (pregate=x1, postgate=x2). The long filters are explicit
parameters (H x L), regularized at every step as in FlashButterfly by
Squash (k -> sign(k) * max(|k| - lambda, 0)) and Smooth (a moving average
of width 2p+1): both are torch ops on the parameter, so their gradients
(squash's subgradient, smooth's transpose) come from autograd and only the
convolution's gradients come from the compiled backward.

The task: multi-query associative recall. Each sequence is L tokens of
key-value pairs `k1 v1 k2 v2 ...` under a mapping key -> value drawn anew
per sequence; keys repeat, so every key after its first occurrence is a
query whose next token is determined by the sequence itself. The loss is the
cross entropy of the value predicted at those query positions (the other
positions are unpredictable and carry no loss); chance accuracy is
1 / (number of values).

The same model (same initialization, same batches) is trained a second
time with PyTorch's FFT convolution in place of FFTConv,
irfft(rfft(x1 * v, n=2L) * rfft(k, n=2L))[..., :L] * x2, exact in float32
up to rounding, and the two loss curves are compared step for step.

    /usr/bin/python3 examples/train_hyena.py --steps 400 --plot docs/train_hyena_loss.png --check
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from fftconv.torch import FFTConv  # noqa: E402


# ----------------------------------------------------------------------------
# Data


def recall_batch(rng, batch, length, keys, values):
    """A batch of multi-query associative recall: (tokens, targets), int64
    B x L. Tokens 0..keys-1 are keys, keys..keys+values-1 values; targets
    hold the value at each repeated key's position and -100 (ignored)
    elsewhere."""
    pairs = length // 2
    mapping = rng.integers(0, values, size=(batch, keys))            # key -> value, per sequence
    key_seq = rng.integers(0, keys, size=(batch, pairs))
    value_seq = np.take_along_axis(mapping, key_seq, axis=1) + keys
    tokens = np.empty((batch, 2 * pairs), dtype=np.int64)
    tokens[:, 0::2], tokens[:, 1::2] = key_seq, value_seq
    # A key is a query where it occurred before in the same sequence.
    seen = np.zeros((batch, keys), dtype=bool)
    repeated = np.zeros((batch, pairs), dtype=bool)
    rows = np.arange(batch)
    for i in range(pairs):
        repeated[:, i] = seen[rows, key_seq[:, i]]
        seen[rows, key_seq[:, i]] = True
    targets = np.full((batch, 2 * pairs), -100, dtype=np.int64)
    targets[:, 0::2] = np.where(repeated, value_seq, -100)
    if length % 2:                                                    # odd L: one padding key
        tokens = np.concatenate([tokens, np.zeros((batch, 1), np.int64)], axis=1)
        targets = np.concatenate([targets, np.full((batch, 1), -100, np.int64)], axis=1)
    return torch.from_numpy(tokens), torch.from_numpy(targets)


# ----------------------------------------------------------------------------
# The long convolution: FFTConv, or PyTorch's FFT as the reference


def torch_fft_conv(u, k, pregate, postgate):
    """y = postgate * ((pregate * u) * k), causal, with torch.fft (FFT size
    2L) in the dtype of u (float32 for the reference)."""
    length = u.shape[-1]
    n = 2 * length
    v = u * pregate
    z = torch.fft.irfft(torch.fft.rfft(v, n=n) * torch.fft.rfft(k.to(v.dtype), n=n), n=n)[..., :length]
    return z * postgate


class LongConv(nn.Module):
    """The gated causal long convolution with its explicit filters (H x L)
    and their Squash and Smooth regularizers. `backend` is "fftconv" or
    "torch"; `conv_dtype` the precision FFTConv runs in (float32 on the CPU,
    float16 or bfloat16 on CUDA)."""

    def __init__(self, channels, length, backend, conv_dtype=torch.float32, squash=1e-3, smooth=1):
        super().__init__()
        # Decaying random filters (a recency bias at initialization, as
        # Hyena's filters have through their exponential window).
        decay = torch.exp(-torch.arange(length, dtype=torch.float32) / (length / 4))
        self.k = nn.Parameter(torch.randn(channels, length) * decay / math.sqrt(length / 4))
        self.squash, self.smooth = squash, smooth
        self.backend, self.conv_dtype = backend, conv_dtype
        # FFT size 2L >= L + K - 1: the causal convolution.
        self.fftconv = FFTConv(seqlen=2 * length, dtype=conv_dtype) if backend == "fftconv" else None

    def filters(self):
        """The regularized filters: Smooth(Squash(k)), differentiable."""
        k = torch.sign(self.k) * F.relu(self.k.abs() - self.squash)
        if self.smooth:
            width = 2 * self.smooth + 1
            # Same padding (zeros), so the filter keeps its length L.
            k = F.avg_pool1d(k[:, None, :], width, stride=1, padding=self.smooth, count_include_pad=True)[:, 0]
        return k

    def forward(self, v, x1, x2):
        k = self.filters()
        if self.fftconv is None:
            return torch_fft_conv(v, k, x1, x2)
        dtype = v.dtype
        y = self.fftconv(v.to(self.conv_dtype).contiguous(), k.float(),
                         pregate=x1.to(self.conv_dtype).contiguous(),
                         postgate=x2.to(self.conv_dtype).contiguous())
        return y.to(dtype)


class HyenaBlock(nn.Module):
    def __init__(self, width, length, backend, conv_dtype):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.in_proj = nn.Linear(width, 3 * width)
        # Short depthwise convolution over the three streams, made causal
        # by padding 2 on both sides and keeping the first L outputs.
        self.short = nn.Conv1d(3 * width, 3 * width, kernel_size=3, padding=2, groups=3 * width)
        self.long = LongConv(width, length, backend, conv_dtype)
        self.out_proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))

    def forward(self, x):                                   # x: B x L x H
        length = x.shape[1]
        streams = self.in_proj(self.norm1(x)).transpose(1, 2)          # B x 3H x L
        streams = self.short(streams)[..., :length]
        x1, x2, v = streams.chunk(3, dim=1)
        y = self.long(v, x1, x2).transpose(1, 2)                        # B x L x H
        x = x + self.out_proj(y)
        return x + self.mlp(self.norm2(x))


class HyenaLM(nn.Module):
    def __init__(self, vocab, width, length, backend, conv_dtype=torch.float32, blocks=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.blocks = nn.ModuleList(HyenaBlock(width, length, backend, conv_dtype) for _ in range(blocks))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


# ----------------------------------------------------------------------------
# Training


DEFAULTS = dict(steps=400, batch=32, length=64, width=64, keys=16, values=16,
                lr=5e-3, seed=0, eval_batch=256)


def build(backend, config, device="cpu", conv_dtype=torch.float32):
    """The model for `backend`, initialized from config's seed: the same
    parameters for both backends (LongConv draws the same numbers whether
    or not it holds an FFTConv)."""
    torch.manual_seed(config["seed"])
    vocab = config["keys"] + config["values"]
    return HyenaLM(vocab, config["width"], config["length"], backend, conv_dtype).to(device)


def evaluate(model, config, device):
    """Recall accuracy and loss on a held-out batch (its own seed), in
    chunks of the training batch size (FFTConv compiles per shape)."""
    rng = np.random.default_rng(config["seed"] + 10_000)
    count = max(config["eval_batch"] // config["batch"], 1) * config["batch"]     # whole chunks
    tokens, targets = recall_batch(rng, count, config["length"], config["keys"], config["values"])
    correct = total = 0
    loss_sum = 0.0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(tokens), config["batch"]):
            t = tokens[start:start + config["batch"]].to(device)
            y = targets[start:start + config["batch"]].to(device)
            logits = model(t).float()
            mask = y != -100
            loss_sum += F.cross_entropy(logits[mask], y[mask], reduction="sum").item()
            correct += (logits.argmax(-1)[mask] == y[mask]).sum().item()
            total += mask.sum().item()
    model.train()
    return correct / total, loss_sum / total


def train(backend, config, device="cpu", conv_dtype=torch.float32, log_every=0):
    """Trains the model of `backend` for config["steps"] Adam steps on the
    batches of config["seed"]. Returns a dict: losses (per step), seconds
    (all steps) and first_step (its seconds, compilation included),
    accuracy and loss on the held-out batch, chance accuracy."""
    model = build(backend, config, device, conv_dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    rng = np.random.default_rng(config["seed"])            # the data order
    losses = []
    start = time.perf_counter()
    for step in range(config["steps"]):
        tokens, targets = recall_batch(rng, config["batch"], config["length"], config["keys"], config["values"])
        tokens, targets = tokens.to(device), targets.to(device)
        logits = model(tokens).float()
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step == 0:
            # FFTConv compiles its forward and backward on the first step.
            first_step = time.perf_counter() - start
        if log_every and (step + 1) % log_every == 0:
            print(f"  [{backend}] step {step + 1:5d}  loss {losses[-1]:.4f}", flush=True)
    seconds = time.perf_counter() - start
    accuracy, eval_loss = evaluate(model, config, device)
    return dict(losses=np.array(losses), seconds=seconds, first_step=first_step, accuracy=accuracy,
                eval_loss=eval_loss, chance=1.0 / config["values"])


def compare(ours, reference, window):
    """The largest relative difference of the two loss curves per step over
    the first `window` steps, and over all steps."""
    a, b = ours["losses"], reference["losses"]
    rel = np.abs(a - b) / np.abs(b)
    return float(rel[:window].max()), float(rel.max())


def check(ours, reference, window, tolerance=1e-3, min_accuracy=None):
    """The failures (a list of strings, empty when all holds): the curves
    agree within `tolerance` per step over the first `window` steps; the
    loss falls (mean of the last tenth of the steps below the first step's,
    both runs); with min_accuracy, both runs recall at least that well."""
    failures = []
    head, _ = compare(ours, reference, window)
    if not head < tolerance:
        failures.append(f"loss curves differ by {head:.2e} (relative) within the first {window} steps, "
                        f"tolerance {tolerance:.0e}")
    for name, run in (("fftconv", ours), ("torch.fft", reference)):
        losses = run["losses"]
        tail = losses[-max(1, len(losses) // 10):].mean()
        if not tail < losses[0]:
            failures.append(f"{name}: the loss did not fall ({losses[0]:.4f} -> {tail:.4f})")
        if min_accuracy is not None and not run["accuracy"] >= min_accuracy:
            failures.append(f"{name}: recall accuracy {run['accuracy']:.3f} below {min_accuracy:.3f}")
    return failures


def plot(ours, reference, path, title, tolerance=1e-3, window=None):
    """Both loss curves to a PNG; False when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True,
                                      gridspec_kw=dict(height_ratios=[3, 1]))
    steps = np.arange(1, len(ours["losses"]) + 1)
    top.plot(steps, reference["losses"], label="PyTorch FFT (torch.fft, f32)", color="tab:blue", linewidth=2.5)
    top.plot(steps, ours["losses"], label="fftconv.torch.FFTConv (compiled, f32)", color="tab:orange",
             linewidth=1, linestyle="--")
    top.axhline(math.log(1 / ours["chance"]), color="grey", linewidth=0.8, linestyle=":", label="chance (log V)")
    top.set_ylabel("training loss")
    top.set_title(title)
    top.legend()
    rel = np.abs(ours["losses"] - reference["losses"]) / np.abs(reference["losses"])
    # Steps where the losses are bitwise equal are drawn at the floor 1e-9.
    bottom.semilogy(steps, np.maximum(rel, 1e-9), color="black", linewidth=0.8)
    # The tolerance holds over the checked window (the first steps); later
    # the runs drift apart as rounding differences compound through Adam.
    window = window or len(steps)
    bottom.hlines(tolerance, 1, window, color="tab:red", linewidth=1, linestyle="--",
                  label=f"tolerance {tolerance:.0e} (checked, steps 1-{window})")
    bottom.set_ylim(5e-10, 1e-1)
    bottom.set_ylabel("relative diff.")
    bottom.legend(loc="lower right")
    bottom.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=DEFAULTS["steps"])
    parser.add_argument("--batch", type=int, default=DEFAULTS["batch"])
    parser.add_argument("--length", type=int, default=DEFAULTS["length"], help="sequence length L")
    parser.add_argument("--width", type=int, default=DEFAULTS["width"], help="model width H")
    parser.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    parser.add_argument("--device", default="cpu", help="cpu (FFTConv in f32) or cuda (f16, or bf16 if supported)")
    parser.add_argument("--window", type=int, default=100,
                        help="steps over which the loss curves must agree (--check)")
    parser.add_argument("--tolerance", type=float, default=None,
                        help="per-step relative loss difference allowed (default 1e-3 in f32, 5e-2 in f16/bf16)")
    parser.add_argument("--min-accuracy", type=float, default=0.4, help="recall accuracy required (--check)")
    parser.add_argument("--plot", metavar="PATH", help="write a PNG of both loss curves (needs matplotlib)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless the curves agree and the loss falls (and accuracy is reached)")
    args = parser.parse_args(argv)

    config = dict(DEFAULTS, steps=args.steps, batch=args.batch, length=args.length, width=args.width,
                  lr=args.lr, seed=args.seed)
    device = torch.device(args.device)
    if device.type == "cuda":
        # FFTConv's GPU kernels run f16/bf16; the reference stays f32, so
        # the curves agree only to the half precision's rounding.
        conv_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        conv_dtype = torch.float32
    tolerance = args.tolerance if args.tolerance is not None else (1e-3 if conv_dtype == torch.float32 else 5e-2)

    print(f"Hyena LM on associative recall: {args.steps} steps, batch {config['batch']}, L = {config['length']}, "
          f"H = {config['width']}, vocab {config['keys']} keys + {config['values']} values, "
          f"device {device}, FFTConv in {conv_dtype}")
    log_every = max(1, args.steps // 10)
    ours = train("fftconv", config, device, conv_dtype, log_every)
    reference = train("torch", config, device, torch.float32, log_every)

    window = min(args.window, args.steps)
    head, overall = compare(ours, reference, window)
    for name, run in (("fftconv.torch.FFTConv", ours), ("torch.fft reference", reference)):
        print(f"{name:22s}: {run['seconds']:6.1f} s (first step {run['first_step']:.1f} s), loss {run['losses'][0]:.4f} -> {run['losses'][-1]:.4f}, "
              f"held-out loss {run['eval_loss']:.4f}, recall accuracy {run['accuracy']:.3f} "
              f"(chance {run['chance']:.3f})")
    print(f"max relative loss difference per step: {head:.2e} over the first {window} steps, "
          f"{overall:.2e} over all {args.steps}")
    if args.plot:
        title = (f"Hyena LM, associative recall (L={config['length']}, H={config['width']}, "
                 f"{device.type}, FFTConv {str(conv_dtype).replace('torch.', '')})")
        if plot(ours, reference, args.plot, title, tolerance, window):
            print(f"plot: {args.plot}")
        else:
            print("plot skipped: matplotlib is not installed")
    if args.check:
        failures = check(ours, reference, window, tolerance, args.min_accuracy)
        for failure in failures:
            print(f"FAILED: {failure}")
        if failures:
            return 1
        print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
