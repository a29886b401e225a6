"""The runtimes without a GPU: manifest validation (Python's
fftconv.runtime.parse_manifest and the C++ runtime's
fftconvRuntimeCheckManifest, which must reject the same manifests with the
same messages), and clean failures where there is no CUDA driver or device.

The C++ parts use the runtime the build already made (build/lib,
build/bin; FFTCONV_RUNTIME_DIR or FFTCONV_BUILD_DIR name another build) and
are skipped when it is absent; nothing is built here."""

import copy
import ctypes
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "python"))

from fftconv import runtime  # noqa: E402

TWOSTAGE = os.path.join(ROOT, "test", "GPU", "data", "twostage.json")


def _build_dir():
    return os.environ.get("FFTCONV_RUNTIME_DIR") or os.environ.get("FFTCONV_BUILD_DIR") or os.path.join(ROOT, "build")


def _runtime_library():
    path = os.path.join(_build_dir(), "lib", "libFFTConvRuntime.so")
    if not os.path.exists(path):
        pytest.skip(f"{path} not built (scripts/test.sh builds lib/Runtime)")
    lib = ctypes.CDLL(path)
    lib.fftconvRuntimeCheckManifest.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    lib.fftconvRuntimeCheckManifest.restype = ctypes.c_int
    lib.fftconvRuntimeLastError.restype = ctypes.c_char_p
    lib.fftconvRuntimeLoad.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    lib.fftconvRuntimeLoad.restype = ctypes.c_void_p
    return lib


def _fftconv_run():
    path = os.path.join(_build_dir(), "bin", "fftconv-run")
    if not os.path.exists(path):
        pytest.skip(f"{path} not built (scripts/test.sh builds lib/Runtime)")
    return path


def _gpu_present():
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    count = ctypes.c_int(0)
    return cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value > 0


def base_manifest():
    """docs/gpu-manifest.md's example, with the workspace's metadata."""
    return {
        "format": "fftconv-manifest",
        "version": 1,
        "chip": "sm_90",
        "ptx": "hyena.ptx",
        "entry": "hyena",
        "arguments": [
            {"name": "u", "role": "input", "dtype": "f16", "shape": [2, 8, 1024]},
            {"name": "k", "role": "input", "dtype": "f32", "shape": [8, 1024]},
            {"name": "result0", "role": "output", "dtype": "f16", "shape": [2, 8, 1024]},
            {
                "name": "workspace0",
                "role": "workspace",
                "dtype": "f32",
                "shape": [8, 2, 2048],
                "depends_on": [1],
                "producer": 0,
            },
        ],
        "kernels": [
            {
                "name": "hyena_conv0_spectrum",
                "grid": [8, 1, 1],
                "block": [128, 1, 1],
                "shared_bytes": 8192,
                "arguments": [1, 3],
            },
            {"name": "hyena_conv0", "grid": [8, 1, 1], "block": [128, 1, 1], "shared_bytes": 16384, "arguments": [0, 3, 2]},
        ],
    }


def _set(path, value):
    def mutate(m):
        target = m
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return m

    return mutate


def _delete(path):
    def mutate(m):
        target = m
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return m

    return mutate


# (id, mutation of the base manifest, the exact message)
INVALID = [
    ("top-level-array", lambda m: [m], "invalid manifest: expected a JSON object at the top level, got an array"),
    ("format-missing", _delete(["format"]), "invalid manifest: format: required field is missing"),
    ("format-wrong", _set(["format"], "other"), 'invalid manifest: format: expected "fftconv-manifest", got "other"'),
    ("version-2", _set(["version"], 2), "invalid manifest: version: unsupported version 2 (this runtime reads version 1)"),
    ("version-string", _set(["version"], "1"), 'invalid manifest: version: expected an integer, got "1"'),
    ("version-fraction", _set(["version"], 1.5), "invalid manifest: version: expected an integer, got 1.5"),
    ("ptx-number", _set(["ptx"], 3), "invalid manifest: ptx: expected a string, got 3"),
    ("chip-null", _set(["chip"], None), "invalid manifest: chip: expected a string, got null"),
    ("arguments-missing", _delete(["arguments"]), "invalid manifest: arguments: required field is missing"),
    ("arguments-empty", _set(["arguments"], []), "invalid manifest: arguments: must not be empty"),
    ("kernels-object", _set(["kernels"], {}), "invalid manifest: kernels: expected an array, got an object"),
    ("kernels-empty", _set(["kernels"], []), "invalid manifest: kernels: must not be empty"),
    ("argument-number", _set(["arguments", 0], 3), "invalid manifest: arguments[0]: expected an object, got 3"),
    ("name-empty", _set(["arguments", 0, "name"], ""), "invalid manifest: arguments[0].name: must not be empty"),
    (
        "name-duplicate",
        _set(["arguments", 1, "name"], "u"),
        'invalid manifest: arguments[1].name: duplicate argument name "u" (also arguments[0])',
    ),
    (
        "role-unknown",
        _set(["arguments", 3, "role"], "scratch"),
        'invalid manifest: arguments[3].role: expected one of "input", "output", "workspace", got "scratch"',
    ),
    ("role-missing", _delete(["arguments", 2, "role"]), "invalid manifest: arguments[2].role: required field is missing"),
    (
        "dtype-unknown",
        _set(["arguments", 1, "dtype"], "f64"),
        'invalid manifest: arguments[1].dtype: expected one of "f16", "bf16", "f32", got "f64"',
    ),
    (
        "shape-zero",
        _set(["arguments", 0, "shape"], [2, 0, 1024]),
        "invalid manifest: arguments[0].shape[1]: expected a positive integer, got 0",
    ),
    (
        "shape-fraction",
        _set(["arguments", 0, "shape"], [2, 8.5, 1024]),
        "invalid manifest: arguments[0].shape[1]: expected a positive integer, got 8.5",
    ),
    (
        "shape-bool",
        _set(["arguments", 0, "shape"], [2, True, 1024]),
        "invalid manifest: arguments[0].shape[1]: expected a positive integer, got true",
    ),
    (
        "shape-string",
        _set(["arguments", 0, "shape"], "2x8x1024"),
        'invalid manifest: arguments[0].shape: expected an array, got "2x8x1024"',
    ),
    (
        "shape-rank",
        _set(["arguments", 0, "shape"], [1] * 9),
        "invalid manifest: arguments[0].shape: expected 0 to 8 entries, got 9",
    ),
    (
        "shape-huge",
        _set(["arguments", 0, "shape"], [2**30, 2**30]),
        "invalid manifest: arguments[0].shape: the buffer is too large (over 2^48 bytes)",
    ),
    (
        "depends-on-input",
        _set(["arguments", 0, "depends_on"], [1]),
        "invalid manifest: arguments[0].depends_on: only a workspace depends on inputs",
    ),
    (
        "depends-on-output",
        _set(["arguments", 3, "depends_on"], [2]),
        "invalid manifest: arguments[3].depends_on[0]: 2 is not the index of an input argument",
    ),
    (
        "depends-on-range",
        _set(["arguments", 3, "depends_on"], [7]),
        "invalid manifest: arguments[3].depends_on[0]: 7 is not the index of an input argument",
    ),
    (
        "producer-range",
        _set(["arguments", 3, "producer"], 5),
        "invalid manifest: arguments[3].producer: 5 is not a kernel index (2 kernels)",
    ),
    (
        "producer-on-output",
        _set(["arguments", 2, "producer"], 1),
        "invalid manifest: arguments[2].producer: only a workspace has a producer",
    ),
    (
        "producer-not-taking",
        _set(["kernels", 0, "arguments"], [1]),
        "invalid manifest: arguments[3].producer: kernel 0 (hyena_conv0_spectrum) does not take this workspace",
    ),
    ("kernel-name-missing", _delete(["kernels", 0, "name"]), "invalid manifest: kernels[0].name: required field is missing"),
    ("grid-empty", _set(["kernels", 0, "grid"], []), "invalid manifest: kernels[0].grid: expected 1 to 3 entries, got 0"),
    (
        "grid-string",
        _set(["kernels", 0, "grid"], ["8"]),
        'invalid manifest: kernels[0].grid[0]: expected a positive integer, got "8"',
    ),
    (
        "grid-y-limit",
        _set(["kernels", 0, "grid"], [8, 70000]),
        "invalid manifest: kernels[0].grid[1]: 70000 exceeds the limit 65535",
    ),
    (
        "block-x-limit",
        _set(["kernels", 1, "block"], [2048]),
        "invalid manifest: kernels[1].block[0]: 2048 exceeds the limit 1024",
    ),
    (
        "block-threads",
        _set(["kernels", 1, "block"], [512, 4, 1]),
        "invalid manifest: kernels[1].block: 2048 threads per block (at most 1024)",
    ),
    (
        "shared-negative",
        _set(["kernels", 1, "shared_bytes"], -1),
        "invalid manifest: kernels[1].shared_bytes: expected a non-negative integer, got -1",
    ),
    (
        "kernel-argument-range",
        _set(["kernels", 1, "arguments"], [0, 9, 2]),
        "invalid manifest: kernels[1].arguments[1]: 9 is not an argument index (4 arguments)",
    ),
    (
        "output-unwritten",
        _set(["kernels", 1, "arguments"], [0, 3]),
        'invalid manifest: arguments[2]: output "result0" is not passed to any kernel',
    ),
]

# Text that is not JSON (the exact wording differs between the two parsers).
NOT_JSON = [
    ("empty", ""),
    ("truncated", '{"format": "fftconv-manifest",'),
    ("duplicate-key", '{"format": "fftconv-manifest", "format": "x"}'),
    ("nan", '{"version": NaN}'),
    ("trailing", '{"format": "fftconv-manifest"} x'),
    ("single-quotes", "{'format': 'fftconv-manifest'}"),
]

VALID = [
    ("docs-example", lambda m: m),
    ("no-optional-fields", lambda m: {k: v for k, v in m.items() if k not in ("chip", "ptx", "entry")}),
    ("short-dims-no-shared", lambda m: _delete(["kernels", 0, "shared_bytes"])(_set(["kernels", 0, "grid"], [8])(m))),
    ("unknown-keys-ignored", _set(["producer_version"], "x")),
    ("scalar-shape", _set(["arguments", 1, "shape"], [])),
]


def _mutated(mutate):
    return mutate(copy.deepcopy(base_manifest()))


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_python_rejects(case):
    _, mutate, message = case
    with pytest.raises(ValueError) as info:
        runtime.parse_manifest(_mutated(mutate))
    assert str(info.value) == message


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_cpp_rejects_with_the_same_message(case):
    lib = _runtime_library()
    _, mutate, message = case
    text = json.dumps(_mutated(mutate)).encode()
    assert lib.fftconvRuntimeCheckManifest(text, len(text)) != 0
    assert lib.fftconvRuntimeLastError().decode() == message


@pytest.mark.parametrize("case", NOT_JSON, ids=[c[0] for c in NOT_JSON])
def test_both_reject_text_that_is_not_json(case):
    _, text = case
    with pytest.raises(ValueError, match="^invalid manifest: not valid JSON: "):
        runtime.parse_manifest(text if text.strip() else "{" + text)  # "" would be a path
    lib = _runtime_library()
    data = text.encode()
    assert lib.fftconvRuntimeCheckManifest(data, len(data)) != 0
    error = lib.fftconvRuntimeLastError().decode()
    assert error.startswith("invalid manifest: not valid JSON: line "), error


@pytest.mark.parametrize("case", VALID, ids=[c[0] for c in VALID])
def test_valid_manifests(case):
    _, mutate = case
    manifest = runtime.parse_manifest(_mutated(mutate))
    assert [a.name for a in manifest.inputs] == ["u", "k"]
    assert manifest.producer_kernels == [0] and manifest.consumer_kernels == [1]
    lib = _runtime_library()
    text = json.dumps(_mutated(mutate)).encode()
    assert lib.fftconvRuntimeCheckManifest(text, len(text)) == 0, lib.fftconvRuntimeLastError()


def test_manifest_model():
    manifest = runtime.parse_manifest(json.dumps(base_manifest()))
    workspace = manifest.workspaces[0]
    assert workspace.depends_on == (1,) and workspace.producer == 0
    assert workspace.nbytes == 8 * 2 * 2048 * 4
    assert manifest.kernels[1].grid == (8, 1, 1) and manifest.kernels[1].shared_bytes == 16384
    short = runtime.parse_manifest(_mutated(_set(["kernels", 0, "grid"], [8])))
    assert short.kernels[0].grid == (8, 1, 1)


def test_manifest_from_file_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_mutated(_set(["version"], 3))))
    with pytest.raises(ValueError, match=r"bad\.json: invalid manifest: version: unsupported version 3"):
        runtime.parse_manifest(str(path))
    with pytest.raises(ValueError, match="cannot read the manifest"):
        runtime.parse_manifest(str(tmp_path / "missing.json"))
    assert runtime.parse_manifest(TWOSTAGE).entry == "twostage"


def test_python_program_without_gpu_fails_cleanly():
    if _gpu_present():
        pytest.skip("a CUDA GPU is present")
    with pytest.raises(RuntimeError) as info:
        runtime.Program.load(None, TWOSTAGE)
    message = str(info.value)
    assert "libcuda.so.1" in message or "cuInit" in message or "CUDA device" in message, message


def test_cpp_load_without_gpu_fails_cleanly():
    if _gpu_present():
        pytest.skip("a CUDA GPU is present")
    lib = _runtime_library()
    program = lib.fftconvRuntimeLoad(TWOSTAGE.encode(), None, 0)
    assert not program
    message = lib.fftconvRuntimeLastError().decode()
    assert "libcuda.so.1" in message or "cuInit" in message, message


def test_fftconv_run_without_gpu_exits_with_a_message():
    if _gpu_present():
        pytest.skip("a CUDA GPU is present")
    tool = _fftconv_run()
    result = subprocess.run([tool, TWOSTAGE, "--iterations", "3"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, (result.returncode, result.stderr)  # not a signal
    assert result.stderr.startswith("fftconv-run: error: "), result.stderr
    assert "libcuda.so.1" in result.stderr or "cuInit" in result.stderr, result.stderr


def test_fftconv_run_rejects_bad_manifest_and_usage(tmp_path):
    tool = _fftconv_run()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_mutated(_set(["kernels"], []))))
    result = subprocess.run([tool, str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "invalid manifest: kernels: must not be empty" in result.stderr
    result = subprocess.run([tool], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "usage:" in result.stderr
    result = subprocess.run([tool, TWOSTAGE, "--iterations", "0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2


def test_import_needs_no_driver():
    # Importing must work anywhere; only loading needs CUDA.
    code = "import sys; sys.path.insert(0, sys.argv[1]); import fftconv.runtime as r; print(r.Program.__name__)"
    result = subprocess.run(
        [sys.executable, "-c", code, os.path.join(ROOT, "python")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "Program", result.stderr
