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
