"""One scenario of test_runtime_stub_driver.py, in its own process: the
runtime over a stand-in CUDA driver (stub_libcuda.c, found through
LD_LIBRARY_PATH), and, for the Python binding, a stand-in `torch` module
whose tensors are addresses only. Nothing runs on a device; what is checked
is what the runtime asks the driver to do, from the log the stub writes
(FFTCONV_STUB_LOG).

    python3 stub_driver_session.py <scenario>

Exits 0 and prints "ok" when the scenario's checks pass."""

import ctypes
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))
DATA = os.path.join(ROOT, "test", "GPU", "data")
MANIFEST = os.path.join(DATA, "twostage.json")
PTX = os.path.join(DATA, "twostage.ptx")
STREAM = 0x5000


def fake_torch():
    """The parts of torch that fftconv.runtime uses, with tensors that are a
    shape, a dtype and an address."""
    torch = types.ModuleType("torch")

    class device:
        def __init__(self, kind, index=None):
            if isinstance(kind, device):
                kind, index = kind.type, kind.index
            elif ":" in kind:
                kind, index = kind.split(":")[0], int(kind.split(":")[1])
            # As in PyTorch, the index is kept in 8 bits (c10::DeviceIndex).
            if index is not None:
                index = (int(index) + 128) % 256 - 128
            self.type, self.index = kind, index

        def __eq__(self, other):
            return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

        def __repr__(self):
            return f"{self.type}:{self.index}"

    class dtype:
        def __init__(self, name, size):
            self.name, self.size = name, size

        def __repr__(self):
            return f"torch.{self.name}"

    next_address = [0x7F0000000000]

    class Tensor:
        def __init__(self, shape, dtype, where, address=None, contiguous=True):
            self.shape, self.dtype, self.device = tuple(shape), dtype, where
            if address is None:
                address = next_address[0]
                next_address[0] += (self.numel() * dtype.size + 0xFFFF) & ~0xFFFF
            self._address, self._contiguous, self._version = address, contiguous, 0

        def numel(self):
            n = 1
            for extent in self.shape:
                n *= extent
            return n

        def element_size(self):
            return self.dtype.size

        def data_ptr(self):
            return self._address

        def is_contiguous(self):
            return self._contiguous

    def empty(*shape, dtype=None, device=None):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return Tensor(shape, dtype, torch.device(device) if isinstance(device, str) else device)

    class Stream:
        cuda_stream = STREAM

    cuda = types.SimpleNamespace(
        is_available=lambda: True,
        current_device=lambda: 0,
        device_count=lambda: 1,
        current_stream=lambda device=None: Stream(),
    )
    torch.device, torch.dtype, torch.Tensor, torch.empty, torch.cuda = device, dtype, Tensor, empty, cuda
    torch.float16, torch.bfloat16, torch.float32 = dtype("float16", 2), dtype("bfloat16", 2), dtype("float32", 4)
    return torch


def log_lines():
    with open(os.environ["FFTCONV_STUB_LOG"]) as f:
        return [line.strip() for line in f]


def clear_log():
    open(os.environ["FFTCONV_STUB_LOG"], "w").close()


def launches():
    """(kernel name, [parameter values]) of each launch logged, then clears
    the log."""
    result = []
    for line in log_lines():
        if line.startswith("launch "):
            words = line.split()
            assert words[words.index("stream") + 1] == hex(STREAM), line
            params = words[words.index("params") + 1 :]
            result.append((words[1], [int(p, 16) for p in params]))
    clear_log()
    return result


def expect_error(kind, text, call):
    try:
        call()
    except kind as error:
        assert text in str(error), (kind, text, str(error))
        return error
    raise AssertionError(f"expected {kind.__name__} with {text!r}")


def binding_launches():
    sys.modules["torch"] = torch = fake_torch()
    from fftconv import runtime

    program = runtime.Program.load(None, MANIFEST)
    lines = log_lines()
    # Loaded once, the 64 KiB kernel's limit raised, and no workspace of the
    # runtime's own: PyTorch's allocator owns them.
    assert "load" in lines and "attribute add_b 8 65536" in lines, lines
    assert not any(line.startswith("alloc") for line in lines), lines
    clear_log()

    a = torch.empty(4096, dtype=torch.float32, device=program.device)
    b = torch.empty(16, 256, dtype=torch.float32, device=program.device)
    y = program(a, b)
    w = program.workspace("workspace0")
    assert w is not None and w.shape == (4096,)
    A, B, Y, W = (t.data_ptr() for t in (a, b, y, w))
    assert launches() == [("double_a", [A, W]), ("add_b", [W, B, Y])]

    # The producer is skipped while a is the same, unmodified tensor.
    program.launch([a, b], outputs=y, skip_producers=True)
    assert launches() == [("add_b", [W, B, Y])]
    a._version += 1  # an in-place change
    program.launch({"a": a, "b": b}, outputs=y, skip_producers=True)
    assert [name for name, _ in launches()] == ["double_a", "add_b"]
    program.launch([a, b], outputs=y, kernels=[1, 0])
    assert [name for name, _ in launches()] == ["add_b", "double_a"]

    # A bound launch: the same pointers again, on the stream given at call.
    bound = program.bind([a, b], outputs=y, kernels=program.consumer_kernels)
    assert bound() is y
    assert launches() == [("add_b", [W, B, Y])]

    # One kernel with operands of the caller's (a mapped exchange's view):
    # exactly those pointers; refused when their count or alignment is wrong.
    view = 0x7F0000000000
    program._launch_operands(1, [W, B, view], STREAM)
    assert launches() == [("add_b", [W, B, view])]
    expect_error(ValueError, "expected 3 operands for kernel 1 (add_b), got 2",
                 lambda: program._launch_operands(1, [W, B], STREAM))
    expect_error(ValueError, "operand 2 of kernel 1 (add_b) is null or not 16-byte aligned",
                 lambda: program._launch_operands(1, [W, B, view + 8], STREAM))
    expect_error(ValueError, "kernel index 2 out of range (2 kernels)",
                 lambda: program._launch_operands(2, [W, B, Y], STREAM))

    # The library's refusals, as ValueErrors, and nothing launched.
    expect_error(ValueError, 'output "y" shares memory with input "b"', lambda: program.launch([a, b], outputs=b))
    odd = torch.Tensor((4096,), torch.float32, program.device, address=A + 4)
    expect_error(ValueError, 'input "a" (argument 0) is not 16-byte aligned', lambda: program.launch([odd, b]))
    expect_error(ValueError, "kernel index 2 out of range (2 kernels)", lambda: program.launch([a, b], kernels=[2]))
    expect_error(ValueError, "kernel index 'x' is not an integer", lambda: program.launch([a, b], kernels=["x"]))
    # And the binding's own, PyTorch-side checks.
    expect_error(ValueError, "input 'b': shape [4096], expected [16, 256]", lambda: program.launch([a, a]))
    half = torch.empty(4096, dtype=torch.float16, device=program.device)
    expect_error(ValueError, "input 'a': dtype torch.float16", lambda: program.launch([half, b]))
    assert launches() == []

    program.close()
    assert log_lines() == ["unload", "release 0"], log_lines()
    expect_error(ValueError, "closed", lambda: program.launch([a, b]))


def binding_load_errors():
    sys.modules["torch"] = fake_torch()
    from fftconv import runtime

    with open(MANIFEST) as f:
        manifest = json.load(f)
    text = open(PTX).read()
    future = dict(manifest, chip="sm_100a")
    error = expect_error(RuntimeError, "compiled for sm_100a", lambda: runtime.Program.load(text, future))
    assert not isinstance(error, runtime.CudaError)
    greedy = json.loads(json.dumps(manifest))
    greedy["kernels"][1]["shared_bytes"] = 300000
    expect_error(RuntimeError, "needs 300000 bytes of dynamic shared memory", lambda: runtime.Program.load(text, greedy))
    error = expect_error(runtime.CudaError, "JIT log: ptxas stub", lambda: runtime.Program.load(text + "BROKEN", manifest))
    assert error.code == 218, error.code
    renamed = json.loads(json.dumps(manifest))
    renamed["kernels"][1]["name"] = "absent_kernel"
    error = expect_error(runtime.CudaError, "kernel 1 (absent_kernel)", lambda: runtime.Program.load(text, renamed))
    assert error.code == 500
    expect_error(ValueError, "no '.version'", lambda: runtime.Program.load("not ptx\n", MANIFEST))
    expect_error(ValueError, "CUDA device 3 does not exist (1 device(s))", lambda: runtime.Program.load(PTX, MANIFEST, 3))
    # An index past torch.device's 8 bits is the library's to refuse.
    expect_error(ValueError, "CUDA device 4096 does not exist", lambda: runtime.Program.load(PTX, MANIFEST, 4096))
    expect_error(ValueError, "cannot read the PTX file", lambda: runtime.Program.load(os.path.join(DATA, "absent.ptx"), MANIFEST))
    expect_error(ValueError, "invalid manifest: kernels: must not be empty", lambda: runtime.Program.load(text, dict(manifest, kernels=[])))
    # Every way of giving the PTX and the manifest loads.
    for ptx, where in ((None, MANIFEST), (PTX, MANIFEST), (text, manifest), (text.encode(), json.dumps(manifest))):
        runtime.Program.load(ptx, where).close()


def c_abi():
    lib = ctypes.CDLL(sys.argv[2])
    p, c = ctypes.c_void_p, ctypes
    lib.fftconvRuntimeLoad.argtypes = [c.c_char_p, c.c_char_p, c.c_int]
    lib.fftconvRuntimeLoad.restype = p
    lib.fftconvRuntimeLaunch.argtypes = [p, c.POINTER(c.c_uint64), c.c_size_t, p]
    lib.fftconvRuntimeLaunchKernels.argtypes = [p, c.POINTER(c.c_uint64), c.c_size_t, p, c.POINTER(c.c_int), c.c_size_t]
    lib.fftconvRuntimeWorkspace.argtypes = [p, c.c_int]
    lib.fftconvRuntimeWorkspace.restype = c.c_uint64
    lib.fftconvRuntimeDestroy.argtypes = [p]
    lib.fftconvRuntimeLastError.restype = c.c_char_p
    lib.fftconvRuntimeLastErrorCode.restype = c.c_int

    program = lib.fftconvRuntimeLoad(MANIFEST.encode(), None, 0)
    assert program, lib.fftconvRuntimeLastError()
    w = lib.fftconvRuntimeWorkspace(program, 3)
    assert w and lib.fftconvRuntimeWorkspace(program, 0) == 0
    assert f"alloc 16384 {hex(w)}" in log_lines(), log_lines()
    clear_log()
    A, B, Y, mine = 0x10000, 0x20000, 0x30000, 0x40000
    buffers = (c.c_uint64 * 3)(A, B, Y)
    assert lib.fftconvRuntimeLaunch(program, buffers, 3, STREAM) == 0, lib.fftconvRuntimeLastError()
    assert launches() == [("double_a", [A, w]), ("add_b", [w, B, Y])]
    # One pointer per argument: the caller's workspace replaces the runtime's.
    full = (c.c_uint64 * 4)(A, B, Y, mine)
    only = (c.c_int * 1)(1)
    assert lib.fftconvRuntimeLaunchKernels(program, full, 4, STREAM, only, 1) == 0
    assert launches() == [("add_b", [mine, B, Y])]
    assert lib.fftconvRuntimeLaunch(program, (c.c_uint64 * 3)(A, B, A), 3, STREAM) == -1
    assert b'output "y" shares memory with input "a"' in lib.fftconvRuntimeLastError()
    assert lib.fftconvRuntimeLastErrorCode() == -1
    assert launches() == []
    lib.fftconvRuntimeDestroy(program)
    assert log_lines() == [f"free {hex(w)}", "unload", "release 0"], log_lines()

    # FFTCONV_RUNTIME_SYNC=1: a synchronization after each kernel.
    os.environ["FFTCONV_RUNTIME_SYNC"] = "1"
    program = lib.fftconvRuntimeLoad(MANIFEST.encode(), None, 0)
    clear_log()
    assert lib.fftconvRuntimeLaunch(program, buffers, 3, STREAM) == 0
    assert [line.split()[0] for line in log_lines()] == ["launch", "synchronize", "launch", "synchronize"], log_lines()
    lib.fftconvRuntimeDestroy(program)
    del os.environ["FFTCONV_RUNTIME_SYNC"]

    # A sharded program: its exchanges run between its kernels, so a launch
    # of every kernel is refused; its kernels alone launch.
    sharded = json.load(open(MANIFEST))
    for name in ("outer", "rows"):
        sharded["arguments"].append({"name": name, "role": "workspace", "dtype": "f32", "shape": [2, 8]})
    count = len(sharded["arguments"])
    sharded["exchanges"] = [{"after": 1, "send": count - 2, "recv": count - 1, "ranks": 2}]
    sharded["shard"] = {"rank": 0, "ranks": 2, "row_length": 16}
    sharded["ptx"] = PTX
    path = os.path.join(os.path.dirname(os.environ["FFTCONV_STUB_LOG"]), "sharded.json")
    with open(path, "w") as f:
        json.dump(sharded, f)
    program = lib.fftconvRuntimeLoad(path.encode(), None, 0)
    assert program, lib.fftconvRuntimeLastError()
    clear_log()
    assert lib.fftconvRuntimeLaunch(program, buffers, 3, STREAM) == -2
    assert b"the program is sharded over 2 ranks" in lib.fftconvRuntimeLastError(), lib.fftconvRuntimeLastError()
    assert launches() == []
    assert lib.fftconvRuntimeLaunchKernels(program, buffers, 3, STREAM, only, 1) == 0
    assert [name for name, _ in launches()] == ["add_b"]
    lib.fftconvRuntimeDestroy(program)


SCENARIOS = {"binding_launches": binding_launches, "binding_load_errors": binding_load_errors, "c_abi": c_abi}

if __name__ == "__main__":
    clear_log()
    SCENARIOS[sys.argv[1]]()
    print("ok")
