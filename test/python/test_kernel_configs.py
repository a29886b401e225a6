"""Config.kernels reads what the compiler chose from the manifest's
"convolutions" (docs/gpu-manifest.md) instead of guessing it again."""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

from fftconv import kernel_configs  # noqa: E402

CONFIG = {"N": 32768, "B": 2, "H": 4, "L": 16384, "K": 16384, "dtype": "f16", "mode": "causal",
          "gated": False, "skip": False}


def write(folder, manifest):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(CONFIG, f)
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    return kernel_configs.load_config(folder)


def test_kernels_from_manifest(tmp_path):
    # N = 32768 is a single kernel on sm_90 but three passes on sm_80: only
    # the manifest knows which.
    config = write(tmp_path / "a", {"convolutions": [
        {"form": "three-pass", "precision": "split", "fft_size": 32768, "factors": [8, 16, 16, 16],
         "kernels": [0, 1, 2, 3, 4]}]})
    assert config.kernels == "three-pass, split"
    config = write(tmp_path / "b", {"convolutions": [
        {"form": "single-kernel", "precision": "half", "fft_size": 32768, "factors": [32, 32, 16],
         "kernels": [0, 1]}]})
    assert config.kernels == "single, half"


def test_kernels_unrecorded(tmp_path):
    assert write(tmp_path / "c", {"kernels": []}).kernels == "unrecorded"


BAND = {"N": 1024, "B": 2, "H": 3, "L": 1024, "K": 1024, "dtype": "f32", "mode": "circular",
        "gated": False, "skip": False, "band": 100}


def test_band_reference_against_numpy(tmp_path):
    # The float64 reference of a frequency-sparse configuration: k's
    # spectrum zero at the bins >= band.
    import numpy as np
    import pytest

    torch = pytest.importorskip("torch")
    config = kernel_configs.Config(str(tmp_path), BAND)
    assert config.label == "circular, band 100"
    inputs = kernel_configs.make_inputs(config, 3, "cpu")
    ours = kernel_configs.reference(config, inputs).numpy()
    u, k = (inputs[name].double().numpy() for name in ("u", "k"))
    kf = np.fft.rfft(k, 1024)
    kf[..., 100:] = 0
    expected = np.fft.irfft(np.fft.rfft(u, 1024) * kf, 1024)
    assert np.linalg.norm(ours - expected) / np.linalg.norm(expected) < 1e-12
    assert torch.is_tensor(kernel_configs.kernel_spectrum(config, inputs["k"], 1024))


def test_band_needs_a_plain_f32_circular_configuration(tmp_path):
    import pytest

    for change in ({"band": 0}, {"band": True}, {"mode": "causal", "L": 512, "K": 512}, {"dtype": "f16"},
                   {"gated": True}, {"skip": True}, {"squash": 0.1}):
        with pytest.raises(ValueError, match="a band"):
            kernel_configs.Config(str(tmp_path), dict(BAND, **change))
