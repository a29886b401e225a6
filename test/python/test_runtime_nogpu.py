"""The runtime without a GPU: manifest validation by the C++ runtime
(libFFTConvRuntime.so), through the Python binding fftconv.runtime and
through the C ABI directly, and clean failures where there is no CUDA driver
or device.

There is one implementation of the manifest's rules (lib/Runtime/
Manifest.cpp); these tests hold it to its messages. They use the runtime the
build made (scripts/test.sh builds it; FFTCONV_RUNTIME_DIR names another) and
fail, not skip, when it is missing: the binding cannot work without it."""

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
from fftconv.kernel_configs import runtime_build_dir  # noqa: E402

TWOSTAGE = os.path.join(ROOT, "test", "GPU", "data", "twostage.json")


def _runtime_library():
    """The library the binding uses, opened directly for its C ABI."""
    lib = ctypes.CDLL(runtime.library_path())
    lib.fftconvRuntimeCheckManifest.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    lib.fftconvRuntimeCheckManifest.restype = ctypes.c_int
    lib.fftconvRuntimeLastError.restype = ctypes.c_char_p
    lib.fftconvRuntimeLastErrorCode.restype = ctypes.c_int
    lib.fftconvRuntimeLoad.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    lib.fftconvRuntimeLoad.restype = ctypes.c_void_p
    return lib


def _fftconv_run():
    path = os.path.join(runtime_build_dir(), "bin", "fftconv-run")
    assert os.path.exists(path), f"{path} not built (scripts/test.sh builds lib/Runtime)"
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
    (
        "producer-count-without-producer",
        _set(["arguments", 2, "producer_count"], 2),
        "invalid manifest: arguments[2].producer_count: needs a producer",
    ),
    (
        "producer-count-zero",
        _set(["arguments", 3, "producer_count"], 0),
        "invalid manifest: arguments[3].producer_count: expected a kernel count, got 0",
    ),
    (
        "producer-count-range",
        _set(["arguments", 3, "producer_count"], 3),
        "invalid manifest: arguments[3].producer_count: kernels 0 to 2 are not all kernel indices (2 kernels)",
    ),
    (
        # Both kernels take the workspace; the second does not write it, but
        # the manifest cannot tell: it is the compiler's word.
        "producer-count-second-not-taking",
        lambda m: _set(["arguments", 3, "producer_count"], 2)(_set(["kernels", 1, "arguments"], [0, 2])(m)),
        "invalid manifest: arguments[3].producer: kernel 1 (hyena_conv0) does not take this workspace",
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
        "kernel-writes-range",
        _set(["kernels", 1, "writes"], [3]),
        "invalid manifest: kernels[1].writes[0]: 3 is not an operand position (3 arguments)",
    ),
    (
        "kernel-writes-twice",
        _set(["kernels", 1, "writes"], [2, 2]),
        "invalid manifest: kernels[1].writes[1]: 2 is listed twice",
    ),
    (
        "kernel-writes-negative",
        _set(["kernels", 1, "writes"], [-1]),
        "invalid manifest: kernels[1].writes[0]: expected an operand position, got -1",
    ),
    (
        "output-unwritten",
        _set(["kernels", 1, "arguments"], [0, 3]),
        'invalid manifest: arguments[2]: output "result0" is not passed to any kernel',
    ),
]

# The optional "convolutions": one entry per fused convolution.
CONVOLUTION = {"form": "single-kernel", "precision": "half", "fft_size": 2048, "factors": [32, 32], "kernels": [0, 1]}


def _convolutions(*changes):
    """Sets "convolutions" to one entry per `changes` (a dict of fields to
    set, where None deletes the field), each starting from CONVOLUTION."""

    def mutate(m):
        entries = []
        for change in changes:
            entry = copy.deepcopy(CONVOLUTION)
            for key, value in change.items():
                if value is None:
                    del entry[key]
                else:
                    entry[key] = value
            entries.append(entry)
        m["convolutions"] = entries
        return m

    return mutate


INVALID += [
    (
        "convolutions-object",
        _set(["convolutions"], {}),
        "invalid manifest: convolutions: expected an array, got an object",
    ),
    ("convolution-number", _set(["convolutions"], [3]), "invalid manifest: convolutions[0]: expected an object, got 3"),
    (
        "convolution-form-unknown",
        _convolutions({"form": "two-pass"}),
        'invalid manifest: convolutions[0].form: expected one of "single-kernel", "three-pass", got "two-pass"',
    ),
    (
        "convolution-precision-missing",
        _convolutions({"precision": None}),
        "invalid manifest: convolutions[0].precision: required field is missing",
    ),
    (
        "convolution-precision-number",
        _convolutions({"precision": 16}),
        "invalid manifest: convolutions[0].precision: expected a string, got 16",
    ),
    (
        "convolution-fft-size-string",
        _convolutions({"fft_size": "2048"}),
        'invalid manifest: convolutions[0].fft_size: expected an integer of at least 2, got "2048"',
    ),
    (
        "convolution-fft-size-one",
        _convolutions({"fft_size": 1}),
        "invalid manifest: convolutions[0].fft_size: expected an integer of at least 2, got 1",
    ),
    (
        "convolution-factors-empty",
        _convolutions({"factors": []}),
        "invalid manifest: convolutions[0].factors: expected 1 to 64 entries, got 0",
    ),
    (
        "convolution-factor-one",
        _convolutions({"factors": [1, 32]}),
        "invalid manifest: convolutions[0].factors[0]: expected an integer from 2 to fft_size, got 1",
    ),
    (
        "convolution-factors-product",
        _convolutions({"factors": [3, 32]}),
        "invalid manifest: convolutions[0].factors: the product of the factors does not divide fft_size 2048",
    ),
    (
        "convolution-kernels-empty",
        _convolutions({"kernels": []}),
        "invalid manifest: convolutions[0].kernels: expected 1 to 2 entries, got 0",
    ),
    (
        "convolution-kernel-range",
        _convolutions({"kernels": [0, 5]}),
        "invalid manifest: convolutions[0].kernels[1]: 5 is not a kernel index (2 kernels)",
    ),
    (
        "convolution-kernel-twice",
        _convolutions({"kernels": [1, 1]}),
        "invalid manifest: convolutions[0].kernels[1]: kernel 1 is listed twice",
    ),
    (
        "convolution-kernel-shared",
        _convolutions({"kernels": [0]}, {"kernels": [0]}),
        "invalid manifest: convolutions[1].kernels[0]: kernel 0 already belongs to convolutions[0]",
    ),
]



def _sharded(exchanges=None, shard=None):
    """A sharded program's manifest: two more workspaces of 2 chunks (the
    ranks) exchanged after the first kernel, and its "shard"."""

    def mutate(m):
        for name in ("workspace1", "workspace2"):
            m["arguments"].append({"name": name, "role": "workspace", "dtype": "f16", "shape": [2, 1, 8, 512]})
        m["exchanges"] = exchanges if exchanges is not None else [{"after": 1, "send": 4, "recv": 5, "ranks": 2}]
        m["shard"] = shard if shard is not None else {"rank": 1, "ranks": 2, "row_length": 512}
        return m

    return mutate


def _without_shard(m):
    m = _sharded()(m)
    del m["shard"]
    return m


INVALID += [
    ("exchanges-object", _sharded(exchanges={}), "invalid manifest: exchanges: expected an array, got an object"),
    (
        "exchange-after-range",
        _sharded(exchanges=[{"after": 3, "send": 4, "recv": 5, "ranks": 2}]),
        "invalid manifest: exchanges[0].after: expected a number of kernels launched before it, got 3",
    ),
    (
        "exchange-ranks-one",
        _sharded(exchanges=[{"after": 1, "send": 4, "recv": 5, "ranks": 1}]),
        "invalid manifest: exchanges[0].ranks: expected an integer of at least 2, got 1",
    ),
    (
        "exchange-input",
        _sharded(exchanges=[{"after": 1, "send": 0, "recv": 5, "ranks": 2}]),
        "invalid manifest: exchanges[0]: send and recv must be workspaces",
    ),
    (
        "exchange-in-place-input",
        _sharded(exchanges=[{"after": 1, "send": 0, "recv": 0, "ranks": 2}]),
        "invalid manifest: exchanges[0]: send and recv must be workspaces",
    ),
    (
        "exchange-shapes",
        _sharded(exchanges=[{"after": 1, "send": 3, "recv": 5, "ranks": 2}]),
        "invalid manifest: exchanges[0]: send and recv must have the same dtype and shape, leading with the 2 ranks",
    ),
    (
        "exchange-order",
        _sharded(exchanges=[{"after": 2, "send": 4, "recv": 5, "ranks": 2}, {"after": 1, "send": 5, "recv": 4, "ranks": 2}]),
        "invalid manifest: exchanges[1].after: exchanges must be listed in launch order",
    ),
    ("shard-missing", _without_shard, "invalid manifest: shard: required field is missing"),
    (
        "shard-rank",
        _sharded(shard={"rank": 2, "ranks": 2, "row_length": 512}),
        "invalid manifest: shard: rank must be below ranks, and ranks must divide row_length",
    ),
    (
        "shard-other-ranks",
        _sharded(shard={"rank": 0, "ranks": 4, "row_length": 512}),
        "invalid manifest: exchanges: every exchange must run over the shard's ranks",
    ),
]

# Text that is not JSON: (id, text, what the message says after "not valid
# JSON: ").
NOT_JSON = [
    ("empty", "", "line 1, column 1: "),
    ("truncated", '{"format": "fftconv-manifest",', "line 1, column 31: "),
    ("duplicate-key", '{"format": "fftconv-manifest", "format": "x"}', 'duplicate key "format"'),
    ("nested-duplicate-key", '{"a": {"b": 1, "b": 2}, "c": {"b": 3}}', 'duplicate key "b"'),
    ("nan", '{"version": NaN}', "line 1, column 13: "),
    ("trailing", '{"format": "fftconv-manifest"} x', "line 1, column 32: "),
    ("single-quotes", "{'format': 'fftconv-manifest'}", "line 1, column 2: "),
    ("second-line", '{\n  "format": fftconv\n}', "line 2, column 14: "),
]

VALID = [
    ("docs-example", lambda m: m),
    ("no-optional-fields", lambda m: {k: v for k, v in m.items() if k not in ("chip", "ptx", "entry")}),
    ("short-dims-no-shared", lambda m: _delete(["kernels", 0, "shared_bytes"])(_set(["kernels", 0, "grid"], [8])(m))),
    ("unknown-keys-ignored", _set(["producer_version"], "x")),
    ("scalar-shape", _set(["arguments", 1, "shape"], [])),
    ("convolution", _convolutions({})),
    ("convolutions-empty", _set(["convolutions"], [])),
    ("sharded", _sharded()),
    (
        "convolutions-two",
        _convolutions({"kernels": [0]}, {"form": "three-pass", "precision": "split", "factors": [2, 4, 8], "kernels": [1]}),
    ),
]


def _mutated(mutate):
    return mutate(copy.deepcopy(base_manifest()))


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_binding_rejects(case):
    _, mutate, message = case
    with pytest.raises(ValueError) as info:
        runtime.parse_manifest(_mutated(mutate))
    assert str(info.value) == message


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_c_abi_rejects(case):
    lib = _runtime_library()
    _, mutate, message = case
    text = json.dumps(_mutated(mutate)).encode()
    assert lib.fftconvRuntimeCheckManifest(text, len(text)) == -1
    assert lib.fftconvRuntimeLastError().decode() == message
    assert lib.fftconvRuntimeLastErrorCode() == -1  # FFTCONV_RUNTIME_ERROR_INVALID


@pytest.mark.parametrize("case", NOT_JSON, ids=[c[0] for c in NOT_JSON])
def test_text_that_is_not_json(case):
    _, text, detail = case
    with pytest.raises(ValueError) as info:
        runtime.parse_manifest(text.encode())  # bytes: text, never a path
    assert str(info.value).startswith("invalid manifest: not valid JSON: " + detail), str(info.value)
    lib = _runtime_library()
    data = text.encode()
    assert lib.fftconvRuntimeCheckManifest(data, len(data)) != 0
    assert lib.fftconvRuntimeLastError().decode() == str(info.value)


@pytest.mark.parametrize("case", VALID, ids=[c[0] for c in VALID])
def test_valid_manifests(case):
    _, mutate = case
    manifest = runtime.parse_manifest(_mutated(mutate))
    assert [a.name for a in manifest.inputs] == ["u", "k"]
    assert manifest.producer_kernels == [0] and manifest.consumer_kernels == [1]
    lib = _runtime_library()
    text = json.dumps(_mutated(mutate)).encode()
    assert lib.fftconvRuntimeCheckManifest(text, len(text)) == 0, lib.fftconvRuntimeLastError()


def test_manifest_producers():
    # The three-pass form's K: written by two consecutive kernels, both
    # producers, both skipped with it.
    manifest = runtime.parse_manifest(json.dumps(_mutated(
        lambda m: _set(["arguments", 3, "producer_count"], 2)(_set(["kernels", 1, "arguments"], [0, 3, 2])(m)))))
    assert manifest.workspaces[0].producers == (0, 1) and manifest.workspaces[0].producer == 0
    assert manifest.producer_kernels == [0, 1] and manifest.consumer_kernels == []


def test_manifest_model():
    manifest = runtime.parse_manifest(json.dumps(base_manifest()))
    assert (manifest.format, manifest.version, manifest.chip, manifest.ptx, manifest.entry) == (
        "fftconv-manifest",
        1,
        "sm_90",
        "hyena.ptx",
        "hyena",
    )
    assert manifest.path is None and manifest.convolutions == []
    workspace = manifest.workspaces[0]
    assert workspace.depends_on == (1,) and workspace.producer == 0 and workspace.producers == (0,)
    assert workspace.nbytes == 8 * 2 * 2048 * 4 and workspace.numel == 8 * 2 * 2048
    assert [a.role for a in manifest.arguments] == ["input", "input", "output", "workspace"]
    assert [a.dtype for a in manifest.arguments] == ["f16", "f32", "f16", "f32"]
    assert manifest.inputs[0].producer is None and manifest.inputs[0].depends_on == ()
    assert manifest.kernels[1].grid == (8, 1, 1) and manifest.kernels[1].shared_bytes == 16384
    assert manifest.kernels[1].arguments == (0, 3, 2) and manifest.kernels[0].is_producer
    assert manifest.kernels[1].writes == ()
    written = runtime.parse_manifest(_mutated(_set(["kernels", 1, "writes"], [2, 0])))
    assert written.kernels[1].writes == (2, 0) and written.kernels[0].writes == ()
    # The C function's count alone: no array, no capacity.
    assert written._lib.fftconvRuntimeManifestGetKernelWrites(written._handle, 1, None, 0) == 2
    short = runtime.parse_manifest(_mutated(_set(["kernels", 0, "grid"], [8])))
    assert short.kernels[0].grid == (8, 1, 1) and short.kernels[0].block == (128, 1, 1)
    scalar = runtime.parse_manifest(_mutated(_set(["arguments", 1, "shape"], [])))
    assert scalar.arguments[1].shape == () and scalar.arguments[1].nbytes == 4


def test_convolutions_are_exposed():
    two = _convolutions({"kernels": [1]}, {"form": "three-pass", "precision": "split", "fft_size": 4194304,
                                           "factors": [16, 16, 32, 256], "kernels": [0]})
    manifest = runtime.parse_manifest(_mutated(two))
    first, second = manifest.convolutions
    assert (first.form, first.precision, first.fft_size, first.factors, first.kernels) == (
        "single-kernel",
        "half",
        2048,
        (32, 32),
        (1,),
    )
    assert (second.form, second.precision, second.fft_size, second.factors, second.kernels) == (
        "three-pass",
        "split",
        4194304,
        (16, 16, 32, 256),
        (0,),
    )


def test_exchanges_are_exposed():
    plain = runtime.parse_manifest(json.dumps(base_manifest()))
    assert plain.exchanges == [] and plain.shard is None
    manifest = runtime.parse_manifest(_mutated(_sharded()))
    assert manifest.exchanges == [runtime.Exchange(after=1, send=4, recv=5, ranks=2)]
    assert manifest.shard == runtime.Shard(rank=1, ranks=2, row_length=512)
    # In place: one workspace sends and receives.
    in_place = runtime.parse_manifest(_mutated(_sharded(exchanges=[{"after": 1, "send": 4, "recv": 4, "ranks": 2}])))
    assert in_place.exchanges == [runtime.Exchange(after=1, send=4, recv=4, ranks=2)]


def test_manifest_from_file_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_mutated(_set(["version"], 3))))
    with pytest.raises(ValueError, match=r"bad\.json: invalid manifest: version: unsupported version 3"):
        runtime.parse_manifest(str(path))
    with pytest.raises(ValueError, match=r"bad\.json: invalid manifest: version"):
        runtime.parse_manifest(path)  # os.PathLike
    with pytest.raises(ValueError, match="cannot read the manifest"):
        runtime.parse_manifest(str(tmp_path / "missing.json"))
    manifest = runtime.parse_manifest(TWOSTAGE)
    assert manifest.entry == "twostage" and manifest.path == TWOSTAGE
    assert runtime.parse_manifest(manifest) is manifest


def test_missing_library_is_named():
    # A fresh interpreter: the library is looked up once per process.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import fftconv.runtime as r\n"
        "try:\n    r.parse_manifest('{}')\nexcept RuntimeError as e:\n    print(e)"
    )
    env = dict(os.environ, FFTCONV_RUNTIME_DIR="/nonexistent/runtime")
    result = subprocess.run(
        [sys.executable, "-c", code, os.path.join(ROOT, "python")], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "/nonexistent/runtime/lib/libFFTConvRuntime.so" in result.stdout, result.stdout
    assert "cmake -S lib/Runtime" in result.stdout and "FFTCONV_RUNTIME_DIR" in result.stdout, result.stdout


def test_library_is_found_in_the_build():
    # Without FFTCONV_RUNTIME_DIR, the repository's build (scripts/test.sh
    # builds build/lib); with it, that build and nothing else.
    env = {k: v for k, v in os.environ.items() if k not in ("FFTCONV_RUNTIME_DIR", "FFTCONV_BUILD_DIR")}
    code = "import sys; sys.path.insert(0, sys.argv[1]); import fftconv.runtime as r; print(r.library_path())"
    result = subprocess.run(
        [sys.executable, "-c", code, os.path.join(ROOT, "python")], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    found = result.stdout.strip()
    assert found.endswith("/lib/libFFTConvRuntime.so") and os.path.exists(found), found


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
    # No driver: what this machine cannot do, which the binding raises as a
    # RuntimeError, not the caller's mistake (a ValueError).
    assert lib.fftconvRuntimeLastErrorCode() == -2  # FFTCONV_RUNTIME_ERROR_UNSUPPORTED


def test_cpp_load_reports_bad_input_before_cuda(tmp_path):
    # Files and manifests are checked before the driver is needed, and are
    # the caller's mistakes (FFTCONV_RUNTIME_ERROR_INVALID).
    lib = _runtime_library()
    assert not lib.fftconvRuntimeLoad(str(tmp_path / "missing.json").encode(), None, 0)
    assert lib.fftconvRuntimeLastError().decode().startswith("cannot read the manifest")
    assert lib.fftconvRuntimeLastErrorCode() == -1
    no_ptx = tmp_path / "no_ptx.json"
    no_ptx.write_text(json.dumps({k: v for k, v in base_manifest().items() if k != "ptx"}))
    assert not lib.fftconvRuntimeLoad(str(no_ptx).encode(), None, 0)
    assert "names no PTX file" in lib.fftconvRuntimeLastError().decode()
    assert lib.fftconvRuntimeLastErrorCode() == -1
    absent = tmp_path / "absent_ptx.json"
    absent.write_text(json.dumps(base_manifest()))  # "ptx": "hyena.ptx", not there
    assert not lib.fftconvRuntimeLoad(str(absent).encode(), None, 0)
    assert "cannot read the PTX file '" + str(tmp_path / "hyena.ptx") + "'" in lib.fftconvRuntimeLastError().decode()


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
