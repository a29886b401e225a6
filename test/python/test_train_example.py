"""examples/train_hyena.py, briefly: a few Adam steps of the Hyena LM at
tiny sizes through fftconv.torch.FFTConv (compiled forward and backward on
the CPU) and through torch.fft, with the example's --check semantics: the
loss curves agree step for step and the loss falls."""

import importlib.util
import os

import pytest

torch = pytest.importorskip("torch")

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "train_hyena.py")


def load_example():
    spec = importlib.util.spec_from_file_location("train_hyena", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_hyena_matches_torch_fft():
    example = load_example()
    config = dict(example.DEFAULTS, steps=15, batch=8, length=32, width=16, lr=1e-2, eval_batch=16)
    ours = example.train("fftconv", config)
    reference = example.train("torch", config)
    head, overall = example.compare(ours, reference, window=config["steps"])
    assert head == overall < 1e-4, f"loss curves differ by {overall:.2e}"
    assert example.check(ours, reference, window=config["steps"], tolerance=1e-3) == []


def test_check_reports_disagreement_and_flat_loss():
    """check() fails on curves that differ or a loss that does not fall."""
    import numpy as np

    example = load_example()
    flat = dict(losses=np.full(10, 2.0), accuracy=0.1)
    apart = dict(losses=np.full(10, 2.1), accuracy=0.1)
    failures = example.check(flat, apart, window=10)
    assert any("differ" in f for f in failures)
    assert any("did not fall" in f for f in failures)
    falling = dict(losses=np.linspace(3, 1, 10), accuracy=0.9)
    assert example.check(falling, falling, window=10, min_accuracy=0.5) == []
    assert example.check(falling, dict(falling, accuracy=0.2), window=10, min_accuracy=0.5)


def test_recall_batch_targets_are_determined_by_the_sequence():
    """Every target is the value that followed the same key earlier."""
    import numpy as np

    example = load_example()
    tokens, targets = example.recall_batch(np.random.default_rng(0), 4, 33, keys=8, values=8)
    assert tokens.shape == targets.shape == (4, 33)
    for row, target in zip(tokens.tolist(), targets.tolist()):
        for i, t in enumerate(target):
            if t != -100:
                earlier = [row[j + 1] for j in range(0, i, 2) if row[j] == row[i]]
                assert earlier and all(v == t for v in earlier) and row[i + 1] == t
