"""Runs compiled fftconv programs on a CUDA GPU from Python, with no MLIR and
no compiled extension: ctypes over the CUDA driver (libcuda.so.1), buffers
as PyTorch CUDA tensors.

    from fftconv.runtime import Program
    program = Program.load("hyena.ptx", "hyena.json")    # or Program.from_dir(d)
    y = program(u, k)                                   # inputs in manifest order
    y = program.launch({"u": u, "k": k}, outputs=y)     # by name, into y

A program is a launch manifest (docs/gpu-manifest.md) and its PTX. `launch`
checks each tensor against the manifest (device, dtype, shape, contiguity),
allocates the outputs it is not given and the workspaces (kept and reused
across calls), and launches every kernel on the current PyTorch stream. A
workspace that the manifest marks with a producer and `depends_on` inputs
(the kernel spectrum k_f) can be kept between calls: `skip_producers=True`
skips its producer when those inputs are the same tensors, unmodified, as
the last time it ran; `kernels=[...]` runs exactly the kernels listed.

Importing this module needs neither a GPU nor PyTorch; loading a program
does, and fails with a RuntimeError that says what is missing. Manifest
validation (`parse_manifest`) works anywhere and gives the same messages as
the C++ runtime (lib/Runtime).

A Program is not thread-safe, and its workspaces are shared by all its
launches: launch it from one thread, and on one stream at a time.
"""

import ctypes
import json
import os
import weakref

__all__ = [
    "Argument",
    "CudaError",
    "Kernel",
    "Manifest",
    "Program",
    "parse_manifest",
]

MANIFEST_FORMAT = "fftconv-manifest"
ROLES = ("input", "output", "workspace")
DTYPES = ("f16", "bf16", "f32")
DTYPE_SIZES = {"f16": 2, "bf16": 2, "f32": 4}

_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1
_MAX_BYTES = 2**48
_DEFAULT_SHARED_LIMIT = 48 * 1024

# --------------------------------------------------------------------------
# The manifest
# --------------------------------------------------------------------------


class Argument:
    """One buffer of the host function: an entry of the manifest's
    "arguments"."""

    __slots__ = ("index", "name", "role", "dtype", "shape", "depends_on", "producer")

    def __init__(self, index, name, role, dtype, shape, depends_on=(), producer=None):
        self.index = index
        self.name = name
        self.role = role
        self.dtype = dtype
        self.shape = tuple(shape)
        self.depends_on = tuple(depends_on)
        self.producer = producer

    @property
    def numel(self):
        n = 1
        for extent in self.shape:
            n *= extent
        return n

    @property
    def nbytes(self):
        return self.numel * DTYPE_SIZES[self.dtype]

    def __repr__(self):
        extra = ""
        if self.depends_on:
            extra += f", depends_on={list(self.depends_on)}"
        if self.producer is not None:
            extra += f", producer={self.producer}"
        return f"Argument({self.index}, {self.name!r}, {self.role}, {self.dtype}, {list(self.shape)}{extra})"


class Kernel:
    """One launch: an entry of the manifest's "kernels"."""

    __slots__ = ("index", "name", "grid", "block", "shared_bytes", "arguments")

    def __init__(self, index, name, grid, block, shared_bytes, arguments):
        self.index = index
        self.name = name
        self.grid = tuple(grid)
        self.block = tuple(block)
        self.shared_bytes = shared_bytes
        self.arguments = tuple(arguments)

    def __repr__(self):
        return (
            f"Kernel({self.index}, {self.name!r}, grid={list(self.grid)}, block={list(self.block)}, "
            f"shared_bytes={self.shared_bytes}, arguments={list(self.arguments)})"
        )


class Manifest:
    """A validated launch manifest (see `parse_manifest`)."""

    def __init__(self, raw, arguments, kernels, path=None):
        self.raw = raw
        self.format = raw["format"]
        self.version = raw["version"]
        self.chip = raw.get("chip", "")
        self.ptx = raw.get("ptx", "")
        self.entry = raw.get("entry", "")
        self.arguments = arguments
        self.kernels = kernels
        self.path = path  # the file it was read from, if any

    @property
    def inputs(self):
        return [a for a in self.arguments if a.role == "input"]

    @property
    def outputs(self):
        return [a for a in self.arguments if a.role == "output"]

    @property
    def workspaces(self):
        return [a for a in self.arguments if a.role == "workspace"]

    @property
    def producer_kernels(self):
        """Indices of the kernels that write a workspace (its "producer")."""
        return sorted({a.producer for a in self.arguments if a.producer is not None})

    @property
    def consumer_kernels(self):
        """Indices of the other kernels: what runs once the workspaces are
        computed."""
        producers = set(self.producer_kernels)
        return [k.index for k in self.kernels if k.index not in producers]

    def __repr__(self):
        return f"Manifest(entry={self.entry!r}, chip={self.chip!r}, {len(self.arguments)} arguments, {len(self.kernels)} kernels)"


class _Invalid(ValueError):
    pass


def _fail(path, what):
    raise _Invalid("invalid manifest: " + (f"{path}: {what}" if path else what))


def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a value"


def _show(value):
    """A value as the C++ runtime prints it in messages."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value) if -(2**63) <= value <= _INT64_MAX else format(float(value), "g")
    if isinstance(value, float):
        return format(value, "g")
    return _kind(value)


def _is_int(value):
    return type(value) is int and -(2**63) <= value <= _INT64_MAX


def _expect(value, kind, path):
    types = {"a string": str, "an array": list, "an object": dict}
    if not isinstance(value, types[kind]):
        _fail(path, f"expected {kind}, got {_show(value)}")


def _member(obj, path, key, required=True):
    full = f"{path}.{key}" if path else key
    if key not in obj:
        if required:
            _fail(full, "required field is missing")
        return None, full
    return obj[key], full


def _integer(value, path, low, high, what):
    if not _is_int(value) or value < low or value > high:
        _fail(path, f"expected {what}, got {_show(value)}")
    return value


def _string(obj, path, key, required):
    value, full = _member(obj, path, key, required)
    if value is None and not required and key not in obj:
        return ""
    _expect(value, "a string", full)
    return value


def _nonempty_string(obj, path, key):
    value = _string(obj, path, key, True)
    if not value:
        _fail(f"{path}.{key}", "must not be empty")
    return value


def _choice(obj, path, key, choices):
    value = _string(obj, path, key, True)
    if value not in choices:
        listed = ", ".join(f'"{c}"' for c in choices)
        _fail(f"{path}.{key}", f'expected one of {listed}, got "{value}"')
    return value


def _integers(value, path, low, high, what, min_length, max_length):
    _expect(value, "an array", path)
    if not min_length <= len(value) <= max_length:
        count = str(min_length) if min_length == max_length else f"{min_length} to {max_length}"
        _fail(path, f"expected {count} entries, got {len(value)}")
    return [_integer(v, f"{path}[{i}]", low, high, what) for i, v in enumerate(value)]


def _dims(kernel, path, key):
    value, full = _member(kernel, path, key)
    entries = _integers(value, full, 1, _INT32_MAX, "a positive integer", 1, 3)
    block = key == "block"
    limits = (1024, 1024, 64) if block else (_INT32_MAX, 65535, 65535)
    for i, entry in enumerate(entries):
        if entry > limits[i]:
            _fail(f"{full}[{i}]", f"{entry} exceeds the limit {limits[i]}")
    dims = tuple(entries) + (1,) * (3 - len(entries))
    if block and dims[0] * dims[1] * dims[2] > 1024:
        _fail(full, f"{dims[0] * dims[1] * dims[2]} threads per block (at most 1024)")
    return dims


def _validate(root):
    if not isinstance(root, dict):
        _fail("", f"expected a JSON object at the top level, got {_kind(root)}")
    fmt = _string(root, "", "format", True)
    if fmt != MANIFEST_FORMAT:
        _fail("format", f'expected "{MANIFEST_FORMAT}", got "{fmt}"')
    version, _ = _member(root, "", "version")
    version = _integer(version, "version", -(2**31), _INT32_MAX, "an integer")
    if version != 1:
        _fail("version", f"unsupported version {version} (this runtime reads version 1)")
    for key in ("chip", "ptx", "entry"):
        _string(root, "", key, False)

    args, _ = _member(root, "", "arguments")
    _expect(args, "an array", "arguments")
    if not args:
        _fail("arguments", "must not be empty")
    kernels, _ = _member(root, "", "kernels")
    _expect(kernels, "an array", "kernels")
    if not kernels:
        _fail("kernels", "must not be empty")

    arguments = []
    for i, entry in enumerate(args):
        path = f"arguments[{i}]"
        _expect(entry, "an object", path)
        name = _nonempty_string(entry, path, "name")
        for j, other in enumerate(arguments):
            if other.name == name:
                _fail(f"{path}.name", f'duplicate argument name "{name}" (also arguments[{j}])')
        role = _choice(entry, path, "role", ROLES)
        dtype = _choice(entry, path, "dtype", DTYPES)
        shape, full = _member(entry, path, "shape")
        shape = _integers(shape, full, 1, _INT64_MAX, "a positive integer", 0, 8)
        size = DTYPE_SIZES[dtype]
        for extent in shape:
            if extent > _MAX_BYTES // size:
                _fail(full, "the buffer is too large (over 2^48 bytes)")
            size *= extent
        arguments.append(Argument(i, name, role, dtype, shape))

    for i, entry in enumerate(args):
        path = f"arguments[{i}]"
        argument = arguments[i]
        if "depends_on" in entry:
            full = f"{path}.depends_on"
            if argument.role != "workspace":
                _fail(full, "only a workspace depends on inputs")
            indices = _integers(entry["depends_on"], full, 0, _INT32_MAX, "an argument index", 0, len(args))
            for j, index in enumerate(indices):
                if index >= len(args) or arguments[index].role != "input":
                    _fail(f"{full}[{j}]", f"{index} is not the index of an input argument")
            argument.depends_on = tuple(indices)
        if "producer" in entry:
            full = f"{path}.producer"
            if argument.role != "workspace":
                _fail(full, "only a workspace has a producer")
            index = _integer(entry["producer"], full, 0, _INT32_MAX, "a kernel index")
            if index >= len(kernels):
                _fail(full, f"{index} is not a kernel index ({len(kernels)} kernels)")
            argument.producer = index

    parsed = []
    for i, entry in enumerate(kernels):
        path = f"kernels[{i}]"
        _expect(entry, "an object", path)
        name = _nonempty_string(entry, path, "name")
        grid = _dims(entry, path, "grid")
        block = _dims(entry, path, "block")
        shared = 0
        if "shared_bytes" in entry:
            shared = _integer(entry["shared_bytes"], f"{path}.shared_bytes", 0, _INT32_MAX, "a non-negative integer")
        value, full = _member(entry, path, "arguments")
        indices = _integers(value, full, 0, _INT32_MAX, "an argument index", 0, 4096)
        for j, index in enumerate(indices):
            if index >= len(args):
                _fail(f"{full}[{j}]", f"{index} is not an argument index ({len(args)} arguments)")
        parsed.append(Kernel(i, name, grid, block, shared, indices))

    for argument in arguments:
        path = f"arguments[{argument.index}]"
        if argument.producer is not None and argument.index not in parsed[argument.producer].arguments:
            kernel = parsed[argument.producer]
            _fail(f"{path}.producer", f"kernel {kernel.index} ({kernel.name}) does not take this workspace")
        if argument.role == "output" and not any(argument.index in k.arguments for k in parsed):
            _fail(path, f'output "{argument.name}" is not passed to any kernel')
    return arguments, parsed


def _reject_constant(name):
    raise _Invalid(f"invalid manifest: not valid JSON: {name} is not a JSON value")


def _pairs_without_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise _Invalid(f'invalid manifest: not valid JSON: duplicate key "{key}"')
        result[key] = value
    return result


def parse_manifest(manifest):
    """Parses and validates a manifest: a dict, JSON text (str or bytes), or
    the path of a JSON file (str or os.PathLike). Returns a `Manifest`; raises
    ValueError("invalid manifest: <field>: <what is wrong>") otherwise."""
    path = None
    if isinstance(manifest, Manifest):
        return manifest
    if isinstance(manifest, os.PathLike) or (isinstance(manifest, str) and not manifest.lstrip()[:1] in ("{", "[")):
        path = os.fspath(manifest)
        try:
            with open(path, "rb") as f:
                manifest = f.read()
        except OSError as error:
            raise ValueError(f"cannot read the manifest {path!r}: {error.strerror or error}") from None
    if isinstance(manifest, (bytes, bytearray)):
        manifest = bytes(manifest).decode("utf-8", errors="strict")
    if isinstance(manifest, str):
        try:
            manifest = json.loads(
                manifest, object_pairs_hook=_pairs_without_duplicates, parse_constant=_reject_constant
            )
        except _Invalid:
            raise
        except ValueError as error:
            raise ValueError(f"invalid manifest: not valid JSON: {error}") from None
    try:
        arguments, kernels = _validate(manifest)
    except _Invalid as error:
        message = str(error)
        raise ValueError(f"{path}: {message}" if path else message) from None
    return Manifest(manifest, arguments, kernels, path)


# --------------------------------------------------------------------------
# The CUDA driver, through ctypes
# --------------------------------------------------------------------------


class CudaError(RuntimeError):
    """A CUDA driver call failed; `code` is its CUresult."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8
_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97
_CU_JIT_INFO_LOG_BUFFER = 3
_CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4
_CU_JIT_ERROR_LOG_BUFFER = 5
_CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6


class _Driver:
    """The driver entry points the runtime uses (the `_v2` symbols where the
    driver exports them, as the CUDA headers do)."""

    def __init__(self):
        try:
            lib = ctypes.CDLL("libcuda.so.1")
        except OSError as error:
            raise RuntimeError(
                f"cannot load the CUDA driver library libcuda.so.1 ({error}): "
                "is an NVIDIA driver installed on this machine?"
            ) from None
        self.lib = lib
        c = ctypes
        p = c.c_void_p
        u = c.c_uint
        signatures = {
            "cuInit": [u],
            "cuGetErrorName": [c.c_int, c.POINTER(c.c_char_p)],
            "cuGetErrorString": [c.c_int, c.POINTER(c.c_char_p)],
            "cuDeviceGet": [c.POINTER(c.c_int), c.c_int],
            "cuDeviceGetAttribute": [c.POINTER(c.c_int), c.c_int, c.c_int],
            "cuDevicePrimaryCtxRetain": [c.POINTER(p), c.c_int],
            ("cuDevicePrimaryCtxRelease", "cuDevicePrimaryCtxRelease_v2"): [c.c_int],
            "cuCtxGetCurrent": [c.POINTER(p)],
            "cuCtxSetCurrent": [p],
            ("cuCtxPushCurrent", "cuCtxPushCurrent_v2"): [p],
            ("cuCtxPopCurrent", "cuCtxPopCurrent_v2"): [c.POINTER(p)],
            "cuModuleLoadDataEx": [c.POINTER(p), c.c_char_p, u, c.POINTER(c.c_int), c.POINTER(p)],
            "cuModuleUnload": [p],
            "cuModuleGetFunction": [c.POINTER(p), p, c.c_char_p],
            "cuFuncSetAttribute": [p, c.c_int, c.c_int],
            "cuLaunchKernel": [p, u, u, u, u, u, u, u, p, c.POINTER(p), c.POINTER(p)],
            "cuStreamSynchronize": [p],
        }
        missing = []
        for key, argtypes in signatures.items():
            name, symbol = (key, key) if isinstance(key, str) else key
            try:
                function = getattr(lib, symbol)
            except AttributeError:
                try:
                    function = getattr(lib, name)
                except AttributeError:
                    missing.append(symbol)
                    continue
            function.argtypes = argtypes
            function.restype = c.c_int
            setattr(self, name, function)
        if missing:
            raise RuntimeError(
                "the CUDA driver library libcuda.so.1 lacks entry points this runtime needs "
                f"({', '.join(missing)}): the driver is too old"
            )
        result = self.cuInit(0)
        if result:
            raise CudaError(self.describe(result, "cuInit") + " (no usable CUDA device or driver on this machine?)", result)

    def describe(self, result, call):
        name = ctypes.c_char_p()
        text = ctypes.c_char_p()
        if self.cuGetErrorName(result, ctypes.byref(name)) != 0:
            name.value = None
        if self.cuGetErrorString(result, ctypes.byref(text)) != 0:
            text.value = None
        message = f"{call} failed: {(name.value or b'unknown CUDA error').decode()} ({result})"
        if text.value:
            message += f": {text.value.decode()}"
        return message

    def check(self, result, call, context=""):
        if result:
            raise CudaError(self.describe(result, call) + context, result)


_driver_instance = None
_driver_error = None


def _driver():
    """The driver, opened and initialized once per process."""
    global _driver_instance, _driver_error
    if _driver_instance is None:
        if _driver_error is not None:
            raise _driver_error
        try:
            _driver_instance = _Driver()
        except RuntimeError as error:
            _driver_error = error
            raise
    return _driver_instance


class _ScopedContext:
    """Makes `context` current for a block and restores the previous one
    (nothing to do when it is already current)."""

    def __init__(self, driver, context):
        self.driver = driver
        self.context = context
        self.pushed = False

    def __enter__(self):
        current = ctypes.c_void_p()
        self.driver.check(self.driver.cuCtxGetCurrent(ctypes.byref(current)), "cuCtxGetCurrent")
        if current.value != self.context.value:
            self.driver.check(self.driver.cuCtxPushCurrent(self.context), "cuCtxPushCurrent")
            self.pushed = True
        return self

    def __exit__(self, *exc):
        if self.pushed:
            popped = ctypes.c_void_p()
            self.driver.cuCtxPopCurrent(ctypes.byref(popped))
        return False


# --------------------------------------------------------------------------
# Programs
# --------------------------------------------------------------------------


def _torch():
    try:
        import torch
    except ImportError as error:
        raise RuntimeError(f"fftconv.runtime needs PyTorch to hold its buffers: {error}") from None
    return torch


def _torch_dtype(torch, dtype):
    return {"f16": torch.float16, "bf16": torch.bfloat16, "f32": torch.float32}[dtype]


def _parse_chip(chip):
    """'sm_90' -> (90, False); 'sm_90a' -> (90, True); else (None, False)."""
    if not chip.startswith("sm_"):
        return None, False
    rest = chip[3:]
    exact = rest.endswith("a")
    if rest[-1:] in ("a", "f"):
        rest = rest[:-1]
    if not rest.isdigit():
        return None, False
    return int(rest), exact


def _looks_like_ptx(text):
    return "\n" in text or ".version" in text


def _alignment_ok(address):
    return address % 16 == 0


class _Slots:
    """Parameter storage for one kernel: the 64-bit device addresses, and an
    array of pointers to them (what cuLaunchKernel's kernelParams wants)."""

    __slots__ = ("values", "params", "count")

    def __init__(self, count):
        self.count = count
        self.values = (ctypes.c_uint64 * max(count, 1))()
        base = ctypes.addressof(self.values)
        self.params = (ctypes.c_void_p * max(count, 1))(*[base + 8 * i for i in range(max(count, 1))])


class BoundLaunch:
    """A launch with its buffers fixed (see `Program.bind`): calling it
    launches the kernels again with no checks, for timing or CUDA graphs.
    `outputs` holds the outputs it writes."""

    def __init__(self, program, plan, outputs, keep_alive, stream):
        self.program = program
        self._plan = plan  # [(function, grid, block, shared, slots)]
        self.outputs = outputs
        self._keep_alive = keep_alive
        self._stream = stream

    def __call__(self, stream=None):
        program = self.program
        driver = program._driver
        handle = ctypes.c_void_p(self._stream if stream is None else _stream_handle(stream))
        with _ScopedContext(driver, program._context):
            for kernel, function, slots in self._plan:
                program._launch_one(kernel, function, slots, handle)
        return self.outputs


def _stream_handle(stream):
    if stream is None:
        return None
    if isinstance(stream, int):
        return stream
    return stream.cuda_stream


class Program:
    """A manifest and its PTX, loaded on a CUDA device (see the module's
    docstring)."""

    def __init__(self, ptx, manifest, device=None):
        self._module = None
        self._retained = None
        self.manifest = parse_manifest(manifest)
        if isinstance(ptx, str):
            ptx = ptx.encode()
        if not isinstance(ptx, (bytes, bytearray)):
            raise TypeError(f"PTX must be text or bytes, got {type(ptx).__name__}")
        ptx = bytes(ptx)
        if not ptx.startswith(b"\x7fELF") and b".version" not in ptx:
            raise ValueError("the PTX text holds no '.version' directive: not a PTX module")

        driver = _driver()
        torch = _torch()
        if not torch.cuda.is_available():
            raise RuntimeError("no CUDA device is available to PyTorch (torch.cuda.is_available() is False)")
        if device is None:
            device = torch.device("cuda", torch.cuda.current_device())
        elif isinstance(device, int):
            device = torch.device("cuda", device)
        else:
            device = torch.device(device)
            if device.type != "cuda":
                raise ValueError(f"device must be a CUDA device, got {device}")
            if device.index is None:
                device = torch.device("cuda", torch.cuda.current_device())
        if device.index >= torch.cuda.device_count():
            raise ValueError(f"CUDA device {device.index} does not exist ({torch.cuda.device_count()} device(s))")
        self.device = device
        self._driver = driver
        self._torch = torch
        self._dtypes = {name: _torch_dtype(torch, name) for name in DTYPES}

        major, minor = torch.cuda.get_device_capability(device)
        required, exact = _parse_chip(self.manifest.chip)
        actual = major * 10 + minor
        if required is not None and (actual != required if exact else actual < required):
            raise RuntimeError(
                f"the PTX was compiled for {self.manifest.chip} and {device} is sm_{actual}: compile for this chip"
            )

        with torch.cuda.device(device):
            # A tiny tensor makes PyTorch create its (primary) context and
            # make it current on this thread; the module is loaded there.
            torch.empty(1, device=device)
            context = ctypes.c_void_p()
            driver.check(driver.cuCtxGetCurrent(ctypes.byref(context)), "cuCtxGetCurrent")
            handle = ctypes.c_int()
            driver.check(driver.cuDeviceGet(ctypes.byref(handle), device.index), "cuDeviceGet")
            self._handle = handle.value
            if not context.value:
                driver.check(driver.cuDevicePrimaryCtxRetain(ctypes.byref(context), handle.value), "cuDevicePrimaryCtxRetain")
                self._retained = handle.value
                driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
            self._context = context
            with _ScopedContext(driver, context):
                self._load_module(ptx)

        self._workspaces = {}  # argument index -> tensor
        self._produced = {}  # workspace index -> signature of its inputs
        self._slots = [_Slots(len(k.arguments)) for k in self.manifest.kernels]
        self._sync_each = os.environ.get("FFTCONV_RUNTIME_SYNC", "0") not in ("", "0")

    def _load_module(self, ptx):
        driver = self._driver
        error_log = ctypes.create_string_buffer(8192)
        info_log = ctypes.create_string_buffer(4096)
        options = (ctypes.c_int * 4)(
            _CU_JIT_ERROR_LOG_BUFFER,
            _CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
            _CU_JIT_INFO_LOG_BUFFER,
            _CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
        )
        values = (ctypes.c_void_p * 4)(
            ctypes.addressof(error_log), len(error_log), ctypes.addressof(info_log), len(info_log)
        )
        module = ctypes.c_void_p()
        result = driver.cuModuleLoadDataEx(ctypes.byref(module), ptx, 4, options, values)
        if result:
            message = driver.describe(result, "cuModuleLoadDataEx (loading the PTX)")
            log = error_log.value.decode(errors="replace").strip()
            if log:
                message += f"; JIT log: {log}"
            raise CudaError(message, result)
        self._module = module

        optin = ctypes.c_int()
        driver.check(
            driver.cuDeviceGetAttribute(
                ctypes.byref(optin), _CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, self._handle
            ),
            "cuDeviceGetAttribute",
        )
        self._functions = []
        for kernel in self.manifest.kernels:
            label = f"kernel {kernel.index} ({kernel.name})"
            function = ctypes.c_void_p()
            result = driver.cuModuleGetFunction(ctypes.byref(function), module, kernel.name.encode())
            if result:
                raise CudaError(driver.describe(result, "cuModuleGetFunction") + f" for {label}: the PTX has no such entry", result)
            if kernel.shared_bytes > optin.value:
                raise RuntimeError(
                    f"{label} needs {kernel.shared_bytes} bytes of dynamic shared memory; "
                    f"{self.device} allows {optin.value} per block"
                )
            # Raised for any dynamic use: the 48 KiB default also counts the
            # kernel's static shared memory, so 48 KiB of dynamic memory alone
            # can already be refused at launch.
            if kernel.shared_bytes > 0:
                driver.check(
                    driver.cuFuncSetAttribute(
                        function, _CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, kernel.shared_bytes
                    ),
                    "cuFuncSetAttribute",
                    f" raising {label}'s dynamic shared memory to {kernel.shared_bytes} bytes",
                )
            self._functions.append(function)

    # -- construction ------------------------------------------------------

    @classmethod
    def load(cls, ptx=None, manifest=None, device=None):
        """Loads a program. `ptx` is PTX text (str or bytes) or the path of a
        .ptx file; None takes the file the manifest's "ptx" names, next to
        the manifest. `manifest` is a dict, JSON text or a path. `device` is a
        torch device, an index, or None for the current CUDA device."""
        if manifest is None:
            raise ValueError("Program.load needs a manifest (a dict, JSON text or a path)")
        manifest = parse_manifest(manifest)
        if ptx is None:
            if not manifest.ptx:
                raise ValueError('the manifest names no PTX file ("ptx") and none was given')
            if os.path.isabs(manifest.ptx) or manifest.path is None:
                ptx_path = manifest.ptx
            else:
                ptx_path = os.path.join(os.path.dirname(os.path.abspath(manifest.path)), manifest.ptx)
            ptx = _read_ptx(ptx_path)
        elif isinstance(ptx, os.PathLike) or (isinstance(ptx, str) and not _looks_like_ptx(ptx)):
            ptx = _read_ptx(os.fspath(ptx))
        return cls(ptx, manifest, device)

    @classmethod
    def from_dir(cls, directory, device=None):
        """Loads `<directory>/manifest.json` and the PTX it names."""
        return cls.load(None, os.path.join(os.fspath(directory), "manifest.json"), device)

    # -- properties ---------------------------------------------------------

    @property
    def inputs(self):
        return self.manifest.inputs

    @property
    def outputs(self):
        return self.manifest.outputs

    @property
    def producer_kernels(self):
        return self.manifest.producer_kernels

    @property
    def consumer_kernels(self):
        return self.manifest.consumer_kernels

    def workspace(self, name_or_index):
        """The workspace tensor (None before the first launch)."""
        argument = self._argument(name_or_index)
        return self._workspaces.get(argument.index)

    def _argument(self, name_or_index):
        if isinstance(name_or_index, int):
            return self.manifest.arguments[name_or_index]
        for argument in self.manifest.arguments:
            if argument.name == name_or_index:
                return argument
        raise KeyError(name_or_index)

    # -- checking tensors ---------------------------------------------------

    def _check_tensor(self, argument, tensor):
        torch = self._torch
        label = f"{argument.role} '{argument.name}'"
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"{label}: expected a torch.Tensor, got {type(tensor).__name__}")
        if tensor.device.type != "cuda" or tensor.device.index != self.device.index:
            raise ValueError(f"{label}: is on {tensor.device}, the program runs on {self.device}")
        expected = self._dtypes[argument.dtype]
        if tensor.dtype != expected:
            raise ValueError(f"{label}: dtype {tensor.dtype}, expected {expected} ({argument.dtype})")
        if tuple(tensor.shape) != argument.shape:
            raise ValueError(f"{label}: shape {list(tensor.shape)}, expected {list(argument.shape)}")
        if not tensor.is_contiguous():
            raise ValueError(f"{label}: not contiguous (pass tensor.contiguous())")
        if not _alignment_ok(tensor.data_ptr()):
            raise ValueError(f"{label}: data pointer not 16-byte aligned (a view at an offset? pass tensor.clone())")

    def _collect(self, given, arguments, kind):
        """Tensors for `arguments` from a dict (by name), a list or tuple (in
        manifest order) or, for one argument, a tensor."""
        torch = self._torch
        names = ", ".join(a.name for a in arguments)
        if isinstance(given, torch.Tensor):
            given = [given]
        if isinstance(given, dict):
            unknown = [name for name in given if name not in {a.name for a in arguments}]
            if unknown:
                raise ValueError(f"unknown {kind} {unknown[0]!r} (the {kind}s are: {names})")
            missing = [a.name for a in arguments if a.name not in given]
            if missing:
                raise ValueError(f"missing {kind} {missing[0]!r} (the {kind}s are: {names})")
            tensors = [given[a.name] for a in arguments]
        elif isinstance(given, (list, tuple)):
            if len(given) != len(arguments):
                raise ValueError(f"expected {len(arguments)} {kind}s ({names}), got {len(given)}")
            tensors = list(given)
        else:
            raise ValueError(f"{kind}s must be a dict of tensors by name, a list in manifest order, or a tensor")
        for argument, tensor in zip(arguments, tensors):
            self._check_tensor(argument, tensor)
        return tensors

    @staticmethod
    def _check_overlap(named):
        """Outputs must not share memory with inputs or with each other."""
        spans = []
        for argument, tensor in named:
            start = tensor.data_ptr()
            spans.append((start, start + tensor.numel() * tensor.element_size(), argument))
        for i, (s0, e0, a0) in enumerate(spans):
            for s1, e1, a1 in spans[i + 1 :]:
                if (a0.role == "output" or a1.role == "output") and s0 < e1 and s1 < e0:
                    raise ValueError(f"{a0.role} '{a0.name}' and {a1.role} '{a1.name}' share memory")

    def _ensure_workspaces(self):
        torch = self._torch
        for argument in self.manifest.workspaces:
            if argument.index not in self._workspaces:
                self._workspaces[argument.index] = torch.empty(
                    argument.shape, dtype=self._dtypes[argument.dtype], device=self.device
                )

    @staticmethod
    def _signature(tensors):
        # Same Python objects (weak references), same memory, same version
        # counter (bumped by every in-place PyTorch operation).
        return tuple((weakref.ref(t), t.data_ptr(), getattr(t, "_version", None)) for t in tensors)

    @staticmethod
    def _same_signature(recorded, tensors):
        if recorded is None or len(recorded) != len(tensors):
            return False
        for (ref, pointer, version), t in zip(recorded, tensors):
            if ref() is not t or t.data_ptr() != pointer or getattr(t, "_version", None) != version:
                return False
        return True

    def _prepare(self, inputs, outputs, kernels, skip_producers):
        """Checks the tensors, allocates what is missing, and returns
        (address per argument, output tensors, kernels to run, tensors by
        argument index)."""
        torch = self._torch
        manifest = self.manifest
        input_tensors = self._collect(inputs, manifest.inputs, "input")
        if outputs is None:
            output_tensors = [
                torch.empty(a.shape, dtype=self._dtypes[a.dtype], device=self.device) for a in manifest.outputs
            ]
        else:
            output_tensors = self._collect(outputs, manifest.outputs, "output")
        self._ensure_workspaces()
        by_index = {}
        for argument, tensor in zip(manifest.inputs, input_tensors):
            by_index[argument.index] = tensor
        for argument, tensor in zip(manifest.outputs, output_tensors):
            by_index[argument.index] = tensor
        if outputs is not None:
            self._check_overlap([(a, by_index[a.index]) for a in manifest.inputs + manifest.outputs])
        by_index.update(self._workspaces)

        if kernels is not None:
            order = []
            for k in kernels:
                if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < len(manifest.kernels):
                    raise ValueError(f"kernel index {k!r} out of range ({len(manifest.kernels)} kernels)")
                order.append(k)
        else:
            skipped = set()
            if skip_producers:
                for k in manifest.producer_kernels:
                    made = [a for a in manifest.workspaces if a.producer == k]
                    if all(
                        self._same_signature(self._produced.get(a.index), [by_index[i] for i in a.depends_on])
                        for a in made
                    ):
                        skipped.add(k)
            order = [k.index for k in manifest.kernels if k.index not in skipped]
        addresses = {index: tensor.data_ptr() for index, tensor in by_index.items()}
        return addresses, output_tensors, order, by_index

    def _record_producers(self, order, by_index):
        ran = set(order)
        for workspace in self.manifest.workspaces:
            if workspace.producer is None or workspace.producer not in ran:
                continue
            if workspace.depends_on:
                self._produced[workspace.index] = self._signature([by_index[i] for i in workspace.depends_on])
            else:
                self._produced.pop(workspace.index, None)

    def _launch_one(self, kernel, function, slots, stream):
        driver = self._driver
        result = driver.cuLaunchKernel(
            function,
            kernel.grid[0],
            kernel.grid[1],
            kernel.grid[2],
            kernel.block[0],
            kernel.block[1],
            kernel.block[2],
            kernel.shared_bytes,
            stream,
            slots.params,
            None,
        )
        if result:
            raise CudaError(driver.describe(result, "cuLaunchKernel") + f" launching kernel {kernel.index} ({kernel.name})", result)
        if self._sync_each:
            driver.check(
                driver.cuStreamSynchronize(stream), "cuStreamSynchronize", f" after kernel {kernel.index} ({kernel.name})"
            )

    # -- launching ------------------------------------------------------------

    def launch(self, inputs, outputs=None, *, kernels=None, skip_producers=False, stream=None):
        """Runs the program and returns its output (a tuple when the manifest
        has several).

        inputs: a dict of tensors by name, or a list in the manifest's input
            order (a single tensor if there is one input).
        outputs: None (allocated here with torch.empty), or tensors as for
            inputs, written in place.
        kernels: run exactly these kernel indices, in this order.
        skip_producers: skip each workspace's producer when the inputs it
            depends on are the same tensors, unmodified, as the last time it
            ran (so only the convolution runs while k does not change).
        stream: a torch.cuda.Stream (default: the current stream).
        """
        torch = self._torch
        with torch.cuda.device(self.device):
            addresses, output_tensors, order, by_index = self._prepare(inputs, outputs, kernels, skip_producers)
            handle = ctypes.c_void_p(
                _stream_handle(stream) if stream is not None else torch.cuda.current_stream(self.device).cuda_stream
            )
            with _ScopedContext(self._driver, self._context):
                for k in order:
                    kernel = self.manifest.kernels[k]
                    slots = self._slots[k]
                    for p, index in enumerate(kernel.arguments):
                        slots.values[p] = addresses[index]
                    self._launch_one(kernel, self._functions[k], slots, handle)
            self._record_producers(order, by_index)
        return output_tensors[0] if len(output_tensors) == 1 else tuple(output_tensors)

    def __call__(self, *args, **kwargs):
        """program(u, k, ...) with the inputs in manifest order, or
        program({"u": u, ...}), or program(u=u, k=k); the keywords outputs,
        kernels, skip_producers and stream are passed to `launch`."""
        options = {key: kwargs.pop(key) for key in ("outputs", "kernels", "skip_producers", "stream") if key in kwargs}
        if args and kwargs:
            raise ValueError("pass the inputs either by position or by name, not both")
        if len(args) == 1 and isinstance(args[0], (dict, list, tuple)):
            inputs = args[0]
        elif args:
            inputs = list(args)
        else:
            inputs = kwargs
        return self.launch(inputs, **options)

    def bind(self, inputs, outputs=None, *, kernels=None, skip_producers=False, stream=None):
        """Checks and fixes the buffers of a launch once and returns a
        `BoundLaunch`: calling it launches again with no checks (for timing,
        or capture into a CUDA graph). The kernels are chosen now, as
        `launch` would choose them; producers recorded as having run are
        recorded now too."""
        torch = self._torch
        with torch.cuda.device(self.device):
            addresses, output_tensors, order, by_index = self._prepare(inputs, outputs, kernels, skip_producers)
            handle = _stream_handle(stream) if stream is not None else torch.cuda.current_stream(self.device).cuda_stream
        plan = []
        for k in order:
            kernel = self.manifest.kernels[k]
            slots = _Slots(len(kernel.arguments))
            for p, index in enumerate(kernel.arguments):
                slots.values[p] = addresses[index]
            plan.append((kernel, self._functions[k], slots))
        self._record_producers(order, by_index)
        outputs = output_tensors[0] if len(output_tensors) == 1 else tuple(output_tensors)
        return BoundLaunch(self, plan, outputs, list(by_index.values()), handle)

    # -- teardown -------------------------------------------------------------

    def close(self):
        """Unloads the module and drops the workspaces (also done when the
        program is garbage-collected)."""
        module, self._module = getattr(self, "_module", None), None
        driver = getattr(self, "_driver", None)
        self._workspaces = {}
        if driver is None:
            return
        try:
            if module is not None and module.value:
                with _ScopedContext(driver, self._context):
                    driver.cuModuleUnload(module)
            if self._retained is not None:
                driver.cuDevicePrimaryCtxRelease(self._retained)
                self._retained = None
        except Exception:  # interpreter shutdown, driver gone
            pass

    def __del__(self):
        self.close()

    def __repr__(self):
        return f"Program({self.manifest.entry!r} on {self.device}, {len(self.manifest.kernels)} kernels)"


def _read_ptx(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as error:
        raise ValueError(f"cannot read the PTX file {path!r}: {error.strerror or error}") from None
