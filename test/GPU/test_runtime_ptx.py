"""The runtime on a hand-written two-kernel program (test/GPU/data/
twostage.ptx: w = 2a by a producer kernel that depends on input a, then
y = w + b through 64 KiB of dynamic shared memory), through the Python
binding and through the C ABI directly. Needs a GPU, not the compiler's
kernels, and the runtime's build (as fftconv.runtime finds it:
FFTCONV_RUNTIME_DIR, FFTCONV_BUILD_DIR, build/ or build/runtime)."""

import ctypes
import json
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

from fftconv import runtime  # noqa: E402
from fftconv.kernel_configs import runtime_build_dir  # noqa: E402
from fftconv.runtime import Program  # noqa: E402

DATA = os.path.join(HERE, "data")
MANIFEST = os.path.join(DATA, "twostage.json")
PTX = os.path.join(DATA, "twostage.ptx")


def inputs(device, seed=0):
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    a = torch.randn(4096, generator=g, device=device)
    b = torch.randn(16, 256, generator=g, device=device)
    return a, b


def expected(a, b):
    return (2 * a).reshape(16, 256) + b


def manifest_dict():
    with open(MANIFEST) as f:
        return json.load(f)


def test_load_forms(device):
    text = open(PTX).read()
    for program in (
        Program.load(None, MANIFEST),
        Program.load(PTX, MANIFEST),
        Program.load(text, MANIFEST),
        Program.load(text.encode(), open(MANIFEST).read()),
        Program.load(text, manifest_dict(), device=device),
        Program.load(PTX, runtime.parse_manifest(MANIFEST), device=device.index),
    ):
        a, b = inputs(device)
        y = program(a, b)
        torch.cuda.synchronize()
        assert torch.equal(y, expected(a, b))
        program.close()


def test_launch_and_producer_reuse(device):
    program = Program.load(None, MANIFEST)
    assert program.producer_kernels == [0] and program.consumer_kernels == [1]
    a, b = inputs(device)
    y = program.launch({"a": a, "b": b})
    torch.cuda.synchronize()
    assert torch.equal(y, expected(a, b))

    # b changes, a does not: the producer is skipped and the result right.
    b2 = torch.randn_like(b)
    y = program.launch([a, b2], skip_producers=True)
    torch.cuda.synchronize()
    assert torch.equal(y, expected(a, b2))

    # a modified in place: the producer runs again.
    a.mul_(3)
    y = program.launch([a, b2], skip_producers=True)
    torch.cuda.synchronize()
    assert torch.equal(y, expected(a, b2))

    # A new tensor a: likewise.
    a3 = torch.randn_like(a)
    y = program.launch([a3, b2], skip_producers=True)
    torch.cuda.synchronize()
    assert torch.equal(y, expected(a3, b2))

    # kernels=[1] runs exactly the consumer: with a new a, the stale w shows.
    a4 = torch.randn_like(a)
    y = program.launch([a4, b2], kernels=[1])
    torch.cuda.synchronize()
    assert torch.equal(y, expected(a3, b2))

    # Into a given output, on a side stream.
    out = torch.full((16, 256), float("nan"), device=device)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        y = program.launch([a4, b2], outputs=out)
    stream.synchronize()
    assert y is out and torch.equal(out, expected(a4, b2))

    workspace = program.workspace("workspace0")
    assert torch.equal(workspace, 2 * a4)


def test_bind(device):
    program = Program.load(None, MANIFEST)
    a, b = inputs(device, 5)
    program.launch([a, b])
    bound = program.bind([a, b], kernels=program.consumer_kernels)
    b.add_(1)  # the bound launch reads the same memory
    y = bound()
    torch.cuda.synchronize()
    assert torch.equal(y, expected(a, b))
    # Capturable into a CUDA graph.
    graph = torch.cuda.CUDAGraph()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        bound_on_stream = program.bind([a, b], outputs=y, kernels=[0, 1])
        with torch.cuda.graph(graph, stream=stream):
            bound_on_stream(stream)
    torch.cuda.current_stream().wait_stream(stream)
    a.copy_(torch.randn_like(a))
    y.fill_(float("nan"))
    graph.replay()
    torch.cuda.synchronize()
    assert torch.equal(y, expected(a, b))


def test_errors_are_clear(device):
    program = Program.load(None, MANIFEST)
    a, b = inputs(device)
    with pytest.raises(ValueError, match=r"input 'b': shape \[4096\], expected \[16, 256\]"):
        program.launch([a, b.reshape(-1)])
    with pytest.raises(ValueError, match=r"input 'a': dtype torch.float16, expected torch.float32 \(f32\)"):
        program.launch([a.half(), b])
    with pytest.raises(ValueError, match=r"not 16-byte aligned"):
        program.launch([torch.randn(4097, device=device)[1:], b])
    with pytest.raises(ValueError, match=r"output 'y'"):
        program.launch([a, b], outputs=torch.empty(16, 256, device=device, dtype=torch.float64))
    with pytest.raises(ValueError, match="no '.version'"):
        Program.load("not ptx\n", MANIFEST)
    broken = open(PTX).read().replace("add.f32 \t%f2, %f1, %f1;", "add.f32 \t%f2, %f1, %nothing;")
    assert broken != open(PTX).read()
    with pytest.raises(runtime.CudaError, match="cuModuleLoadDataEx") as info:
        Program.load(broken, MANIFEST)
    assert "JIT log" in str(info.value) and "nothing" in str(info.value)
    renamed = manifest_dict()
    renamed["kernels"][1]["name"] = "absent_kernel"
    with pytest.raises(runtime.CudaError, match=r"kernel 1 \(absent_kernel\).*no such entry"):
        Program.load(PTX, renamed)
    too_much = manifest_dict()
    too_much["kernels"][1]["shared_bytes"] = 10**9
    with pytest.raises(RuntimeError, match=r"needs 1000000000 bytes of dynamic shared memory"):
        Program.load(PTX, too_much)
    future = manifest_dict()
    future["chip"] = "sm_999"
    with pytest.raises(RuntimeError, match=r"compiled for sm_999"):
        Program.load(PTX, future)
    with pytest.raises(ValueError, match=r"CUDA device 4096 does not exist"):
        Program.load(PTX, MANIFEST, device=4096)
    with pytest.raises(ValueError, match="cannot read the PTX file"):
        Program.load(os.path.join(DATA, "absent.ptx"), MANIFEST)
    # The library's checks of a launch come back as ValueErrors too.
    with pytest.raises(ValueError, match=r'output "y" shares memory with input "b"'):
        program.launch([a, b], outputs=b)
    with pytest.raises(ValueError, match=r"kernel index 2 out of range \(2 kernels\)"):
        program.launch([a, b], kernels=[1, 2])
    # A closed program refuses to launch.
    program.close()
    with pytest.raises(ValueError, match="closed"):
        program.launch([a, b])


# --------------------------------------------------------------------------
# The C ABI directly (libFFTConvRuntime.so) and fftconv-run
# --------------------------------------------------------------------------


def cpp_library():
    lib = ctypes.CDLL(runtime.library_path())
    lib.fftconvRuntimeLoad.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    lib.fftconvRuntimeLoad.restype = ctypes.c_void_p
    lib.fftconvRuntimeLoadData.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    lib.fftconvRuntimeLoadData.restype = ctypes.c_void_p
    lib.fftconvRuntimeLaunch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t, ctypes.c_void_p]
    lib.fftconvRuntimeLaunchKernels.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_uint64),
        ctypes.c_size_t,
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_size_t,
    ]
    lib.fftconvRuntimeNumArguments.argtypes = [ctypes.c_void_p]
    lib.fftconvRuntimeNumKernels.argtypes = [ctypes.c_void_p]
    lib.fftconvRuntimeDestroy.argtypes = [ctypes.c_void_p]
    lib.fftconvRuntimeLastError.restype = ctypes.c_char_p
    lib.fftconvRuntimeWorkspace.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.fftconvRuntimeWorkspace.restype = ctypes.c_uint64
    lib.fftconvRuntimeManifestRead.argtypes = [ctypes.c_char_p]
    lib.fftconvRuntimeManifestRead.restype = ctypes.c_void_p
    lib.fftconvRuntimeManifestDestroy.argtypes = [ctypes.c_void_p]
    lib.fftconvRuntimeLoadManifest.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_uint,
    ]
    lib.fftconvRuntimeLoadManifest.restype = ctypes.c_void_p
    lib.fftconvRuntimeGetManifest.argtypes = [ctypes.c_void_p]
    lib.fftconvRuntimeGetManifest.restype = ctypes.c_void_p
    return lib


def pointers(*tensors):
    return (ctypes.c_uint64 * len(tensors))(*[t.data_ptr() for t in tensors])


def test_cpp_runtime_c_api(device):
    lib = cpp_library()
    torch.empty(1, device=device)  # PyTorch's context first, as an embedder would have
    program = lib.fftconvRuntimeLoad(MANIFEST.encode(), None, device.index)
    assert program, lib.fftconvRuntimeLastError()
    try:
        assert lib.fftconvRuntimeNumArguments(program) == 4 and lib.fftconvRuntimeNumKernels(program) == 2
        a, b = inputs(device, 11)
        y = torch.full((16, 256), float("nan"), device=device)
        stream = torch.cuda.current_stream().cuda_stream
        assert lib.fftconvRuntimeLaunch(program, pointers(a, b, y), 3, stream) == 0, lib.fftconvRuntimeLastError()
        torch.cuda.synchronize()
        assert torch.equal(y, expected(a, b))
        # The consumer alone, with b changed.
        b.add_(2)
        only = (ctypes.c_int * 1)(1)
        assert lib.fftconvRuntimeLaunchKernels(program, pointers(a, b, y), 3, stream, only, 1) == 0
        torch.cuda.synchronize()
        assert torch.equal(y, expected(a, b))
        # One pointer per argument, with a workspace of our own.
        w = torch.full((4096,), 1.0, device=device)
        full = pointers(a, b, y, w)
        assert lib.fftconvRuntimeLaunchKernels(program, full, 4, stream, only, 1) == 0
        torch.cuda.synchronize()
        assert torch.equal(y, (w + 0).reshape(16, 256) + b)
        # Errors come back as messages.
        assert lib.fftconvRuntimeLaunch(program, pointers(a, b), 2, stream) != 0
        assert b"expected 3 buffers" in lib.fftconvRuntimeLastError()
        bad = (ctypes.c_int * 1)(7)
        assert lib.fftconvRuntimeLaunchKernels(program, pointers(a, b, y), 3, stream, bad, 1) != 0
        assert b"kernel index 7 out of range" in lib.fftconvRuntimeLastError()
        null = (ctypes.c_uint64 * 3)(a.data_ptr(), 0, y.data_ptr())
        assert lib.fftconvRuntimeLaunch(program, null, 3, stream) != 0
        assert b'input "b"' in lib.fftconvRuntimeLastError()
        odd = (ctypes.c_uint64 * 3)(a.data_ptr() + 4, b.data_ptr(), y.data_ptr())
        assert lib.fftconvRuntimeLaunch(program, odd, 3, stream) == -1
        assert b'input "a" (argument 0) is not 16-byte aligned' in lib.fftconvRuntimeLastError()
        # The runtime's own workspace, and none for the other arguments.
        assert lib.fftconvRuntimeWorkspace(program, 3) != 0
        assert lib.fftconvRuntimeWorkspace(program, 0) == 0
        assert lib.fftconvRuntimeGetManifest(program)
    finally:
        lib.fftconvRuntimeDestroy(program)
    # With the caller's workspaces: none allocated, and each launch must pass
    # one pointer per argument.
    manifest = lib.fftconvRuntimeManifestRead(MANIFEST.encode())
    assert manifest, lib.fftconvRuntimeLastError()
    program = lib.fftconvRuntimeLoadManifest(manifest, None, None, 0, device.index, 1)
    lib.fftconvRuntimeManifestDestroy(manifest)  # the program keeps its copy
    assert program, lib.fftconvRuntimeLastError()
    try:
        assert lib.fftconvRuntimeWorkspace(program, 3) == 0
        a, b = inputs(device, 12)
        y = torch.full((16, 256), float("nan"), device=device)
        assert lib.fftconvRuntimeLaunch(program, pointers(a, b, y), 3, stream) != 0
        assert b"FFTCONV_RUNTIME_CALLER_WORKSPACES" in lib.fftconvRuntimeLastError()
        w = torch.empty(4096, device=device)
        assert lib.fftconvRuntimeLaunch(program, pointers(a, b, y, w), 4, stream) == 0, lib.fftconvRuntimeLastError()
        torch.cuda.synchronize()
        assert torch.equal(y, expected(a, b)) and torch.equal(w, 2 * a)
    finally:
        lib.fftconvRuntimeDestroy(program)
    # From memory, and with PTX that does not assemble.
    text = open(PTX, "rb").read()
    manifest = open(MANIFEST, "rb").read()
    program = lib.fftconvRuntimeLoadData(manifest, len(manifest), text, len(text), device.index)
    assert program, lib.fftconvRuntimeLastError()
    lib.fftconvRuntimeDestroy(program)
    broken = text.replace(b"%f1, %f1;", b"%f1, %nothing;")
    assert not lib.fftconvRuntimeLoadData(manifest, len(manifest), broken, len(broken), device.index)
    message = lib.fftconvRuntimeLastError().decode()
    assert "cuModuleLoadDataEx" in message and "JIT log" in message, message
    assert not lib.fftconvRuntimeLoad(MANIFEST.encode(), None, 4096)
    assert b"CUDA device 4096 does not exist" in lib.fftconvRuntimeLastError()


def test_fftconv_run_tool(device):
    tool = os.path.join(runtime_build_dir(), "bin", "fftconv-run")
    if not os.path.exists(tool):
        pytest.skip(f"{tool} not built")
    result = subprocess.run([tool, MANIFEST, "--iterations", "20"], capture_output=True, text=True, timeout=120)
    print(result.stdout)
    assert result.returncode == 0, result.stderr
    assert "two launches bit-identical" in result.stdout
    assert "time (all kernels: 0,1): median" in result.stdout
    assert "time (without producers: 1): median" in result.stdout
    result = subprocess.run([tool, MANIFEST, "--kernels", "1", "--iterations", "5"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "time (kernels given: 1)" in result.stdout, result.stderr
    result = subprocess.run([tool, MANIFEST, "--kernels", "4"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "kernel 4 does not exist" in result.stderr
    result = subprocess.run([tool, MANIFEST, "--device", "4096"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "does not exist" in result.stderr


FAULT_SCRIPT = r"""
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.fftconvRuntimeLoad.restype = ctypes.c_void_p
lib.fftconvRuntimeLoad.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
lib.fftconvRuntimeLaunch.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
lib.fftconvRuntimeLastError.restype = ctypes.c_char_p
program = lib.fftconvRuntimeLoad(sys.argv[2].encode(), None, 0)
assert program, lib.fftconvRuntimeLastError()
bogus = (ctypes.c_uint64 * 3)(0x1000, 0x100000, 0x200000)  # unmapped, 16 KiB each, disjoint
result = lib.fftconvRuntimeLaunch(program, bogus, 3, None)
print("result", result)
print("message", lib.fftconvRuntimeLastError().decode())
"""


def test_cpp_device_fault_is_reported():
    # A kernel that faults (bogus pointers) is reported by the launch when
    # FFTCONV_RUNTIME_SYNC=1, as a message: in a subprocess, since a fault
    # spoils the CUDA context of the process it happens in.
    lib = runtime.library_path()
    env = dict(os.environ, FFTCONV_RUNTIME_SYNC="1")
    result = subprocess.run(
        [sys.executable, "-c", FAULT_SCRIPT, lib, MANIFEST], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "result 0" not in result.stdout, result.stdout
    assert "after kernel 0 (double_a)" in result.stdout and "CUDA_ERROR_" in result.stdout, result.stdout
