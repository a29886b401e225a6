"""Runs compiled fftconv programs on a CUDA GPU from Python: a ctypes binding
over the one runtime, the C++ library libFFTConvRuntime.so (lib/Runtime,
include/fftconv-runtime/Runtime.h), with buffers as PyTorch CUDA tensors.

    from fftconv.runtime import Program
    program = Program.load("hyena.ptx", "hyena.json")    # or Program.from_dir(d)
    y = program(u, k)                                   # inputs in manifest order
    y = program.launch({"u": u, "k": k}, outputs=y)     # by name, into y

A program is a launch manifest (docs/gpu-manifest.md) and its PTX. The
library validates the manifest, loads the PTX through the CUDA driver,
checks the chip and the shared memory, and launches (refusing misaligned or
overlapping buffers). What stays here is what PyTorch brings: each tensor is
checked against the manifest's argument (device, dtype, shape, contiguity),
outputs not given are allocated, the workspaces are PyTorch tensors (so that
PyTorch's allocator owns and counts all the memory), kept and reused across
calls, and the kernels run on the current PyTorch stream. A workspace that
the manifest marks with a producer and `depends_on` inputs (the kernel
spectrum k_f) can be kept between calls: `skip_producers=True` skips its
producer when those inputs are the same tensors, unmodified, as the last
time it ran; `kernels=[...]` runs exactly the kernels listed.

The library is found (see `library_path`) in $FFTCONV_RUNTIME_DIR/lib when
that is set, else next to this file (an installed package), else in the
repository's build/lib ($FFTCONV_BUILD_DIR/lib) or build/runtime/lib.
Importing this module needs neither the library, a GPU nor PyTorch;
`parse_manifest` needs the library only (no GPU); `Program` needs all three
and fails with a RuntimeError that says what is missing.

A Program is not thread-safe, and its workspaces are shared by all its
launches: launch it from one thread, and on one stream at a time.
"""

import collections
import ctypes
import json
import os
import weakref

from . import dtypes

__all__ = [
    "Argument",
    "BoundLaunch",
    "Convolution",
    "CudaError",
    "Kernel",
    "Manifest",
    "Program",
    "library_path",
    "parse_manifest",
]

LIBRARY_NAME = "libFFTConvRuntime.so"
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The C ABI's enumerations (include/fftconv-runtime/Runtime.h), by value.
ROLES = ("input", "output", "workspace")
DTYPES = ("f16", "bf16", "f32")
FORMS = ("single-kernel", "three-pass")
PRECISIONS = ("half", "split")
_ERROR_UNSUPPORTED = -2
_CALLER_WORKSPACES = 1


class CudaError(RuntimeError):
    """A CUDA driver call failed; `code` is its CUresult."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------
# The library
# --------------------------------------------------------------------------


class _ArgumentInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("role", ctypes.c_int),
        ("dtype", ctypes.c_int),
        ("rank", ctypes.c_int),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("numBytes", ctypes.c_uint64),
        ("producer", ctypes.c_int),
        ("numDependsOn", ctypes.c_int),
        ("dependsOn", ctypes.POINTER(ctypes.c_int)),
        ("numProducers", ctypes.c_int),
    ]


class _KernelInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("grid", ctypes.c_uint * 3),
        ("block", ctypes.c_uint * 3),
        ("sharedBytes", ctypes.c_uint),
        ("numArguments", ctypes.c_int),
        ("arguments", ctypes.POINTER(ctypes.c_int)),
        ("isProducer", ctypes.c_int),
    ]


class _ConvolutionInfo(ctypes.Structure):
    _fields_ = [
        ("form", ctypes.c_int),
        ("precision", ctypes.c_int),
        ("fftSize", ctypes.c_int64),
        ("numFactors", ctypes.c_int),
        ("factors", ctypes.POINTER(ctypes.c_int64)),
        ("numKernels", ctypes.c_int),
        ("kernels", ctypes.POINTER(ctypes.c_int)),
    ]


class _ManifestInfo(ctypes.Structure):
    _fields_ = [
        ("format", ctypes.c_char_p),
        ("version", ctypes.c_int),
        ("chip", ctypes.c_char_p),
        ("ptx", ctypes.c_char_p),
        ("entry", ctypes.c_char_p),
        ("path", ctypes.c_char_p),
        ("numArguments", ctypes.c_int),
        ("numKernels", ctypes.c_int),
        ("numConvolutions", ctypes.c_int),
    ]


def _library_candidates():
    explicit = os.environ.get("FFTCONV_RUNTIME_DIR")
    if explicit:
        # Named on purpose: no silent fallback to another build.
        return [os.path.join(os.path.abspath(explicit), "lib", LIBRARY_NAME)]
    build = os.environ.get("FFTCONV_BUILD_DIR") or os.path.join(_REPO, "build")
    return [
        os.path.join(os.path.dirname(os.path.abspath(__file__)), LIBRARY_NAME),
        os.path.join(os.path.abspath(build), "lib", LIBRARY_NAME),
        os.path.join(_REPO, "build", "runtime", "lib", LIBRARY_NAME),
    ]


def library_path():
    """The libFFTConvRuntime.so this module uses: $FFTCONV_RUNTIME_DIR/lib if
    that is set; else next to this file, the repository's build/lib
    ($FFTCONV_BUILD_DIR/lib) or build/runtime/lib, the first that exists.
    Raises RuntimeError, naming the places looked at, if there is none."""
    candidates = _library_candidates()
    for path in candidates:
        if os.path.exists(path):
            return path
    raise RuntimeError(
        f"fftconv.runtime: the runtime library {LIBRARY_NAME} was not found (looked at: "
        + ", ".join(candidates)
        + "). Build it with `cmake -S lib/Runtime -B build/runtime -G Ninja && ninja -C build/runtime` "
        "(or the project's build), or set FFTCONV_RUNTIME_DIR to a build of lib/Runtime."
    )


_lib = None


def _declare(lib):
    c = ctypes
    p = c.c_void_p
    signatures = {
        "fftconvRuntimeManifestParse": (p, [c.c_char_p, c.c_size_t]),
        "fftconvRuntimeManifestRead": (p, [c.c_char_p]),
        "fftconvRuntimeManifestDestroy": (None, [p]),
        "fftconvRuntimeManifestGetInfo": (c.c_int, [p, c.POINTER(_ManifestInfo)]),
        "fftconvRuntimeManifestGetArgument": (c.c_int, [p, c.c_int, c.POINTER(_ArgumentInfo)]),
        "fftconvRuntimeManifestGetKernel": (c.c_int, [p, c.c_int, c.POINTER(_KernelInfo)]),
        "fftconvRuntimeManifestGetConvolution": (c.c_int, [p, c.c_int, c.POINTER(_ConvolutionInfo)]),
        "fftconvRuntimeManifestGetKernelWrites": (c.c_int, [p, c.c_int, c.POINTER(c.c_int), c.c_int]),
        "fftconvRuntimeManifestNumExchanges": (c.c_int, [p]),
        "fftconvRuntimeManifestGetExchange": (
            c.c_int,
            [p, c.c_int] + [c.POINTER(c.c_int)] * 3 + [c.POINTER(c.c_int64)],
        ),
        "fftconvRuntimeManifestGetShard": (c.c_int, [p] + [c.POINTER(c.c_int64)] * 3),
        "fftconvRuntimeLoadManifest": (p, [p, c.c_char_p, c.c_char_p, c.c_size_t, c.c_int, c.c_uint]),
        "fftconvRuntimeLaunchKernels": (
            c.c_int,
            [p, c.POINTER(c.c_uint64), c.c_size_t, p, c.POINTER(c.c_int), c.c_size_t],
        ),
        "fftconvRuntimeLaunchKernelOperands": (c.c_int, [p, c.c_int, c.POINTER(c.c_uint64), c.c_size_t, p]),
        "fftconvRuntimeDestroy": (None, [p]),
        "fftconvRuntimeLastError": (c.c_char_p, []),
        "fftconvRuntimeLastErrorCode": (c.c_int, []),
    }
    for name, (restype, argtypes) in signatures.items():
        try:
            function = getattr(lib, name)
        except AttributeError:
            raise RuntimeError(
                f"fftconv.runtime: {lib._name} has no {name}: it is older than this binding; rebuild lib/Runtime"
            ) from None
        function.restype = restype
        function.argtypes = argtypes


def _library():
    """The runtime library, loaded once per process."""
    global _lib
    if _lib is None:
        path = library_path()
        try:
            lib = ctypes.CDLL(path)
        except OSError as error:
            raise RuntimeError(f"fftconv.runtime: cannot load {path}: {error}") from None
        _declare(lib)
        _lib = lib
    return _lib


def _last_error(lib):
    """The library's last failure as the exception it stands for: the
    caller's mistake (ValueError), what this machine cannot do
    (RuntimeError), or a driver error (CudaError)."""
    code = lib.fftconvRuntimeLastErrorCode()
    message = (lib.fftconvRuntimeLastError() or b"").decode(errors="replace")
    if code > 0:
        return CudaError(message, code)
    if code == _ERROR_UNSUPPORTED:
        return RuntimeError(message)
    return ValueError(message)


def _text(value):
    return value.decode(errors="replace") if value else ""


# --------------------------------------------------------------------------
# The manifest, as the library reads it
# --------------------------------------------------------------------------


class Argument:
    """One buffer of the host function: an entry of the manifest's
    "arguments"."""

    __slots__ = ("index", "name", "role", "dtype", "shape", "nbytes", "depends_on", "producers")

    def __init__(self, index, name, role, dtype, shape, nbytes, depends_on=(), producers=()):
        self.index = index
        self.name = name
        self.role = role
        self.dtype = dtype
        self.shape = tuple(shape)
        self.nbytes = nbytes
        self.depends_on = tuple(depends_on)
        self.producers = tuple(producers)

    @property
    def producer(self):
        """The first kernel that writes this workspace, or None (the
        three-pass form's K has two: `producers`)."""
        return self.producers[0] if self.producers else None

    @property
    def numel(self):
        n = 1
        for extent in self.shape:
            n *= extent
        return n

    def __repr__(self):
        extra = ""
        if self.depends_on:
            extra += f", depends_on={list(self.depends_on)}"
        if self.producers:
            extra += f", producers={list(self.producers)}"
        return f"Argument({self.index}, {self.name!r}, {self.role}, {self.dtype}, {list(self.shape)}{extra})"


class Kernel:
    """One launch: an entry of the manifest's "kernels"."""

    __slots__ = ("index", "name", "grid", "block", "shared_bytes", "arguments", "is_producer", "writes")

    def __init__(self, index, name, grid, block, shared_bytes, arguments, is_producer=False, writes=()):
        self.index = index
        self.name = name
        self.grid = tuple(grid)
        self.block = tuple(block)
        self.shared_bytes = shared_bytes
        self.arguments = tuple(arguments)
        self.is_producer = is_producer
        # Positions in `arguments` of the operands the kernel only stores to.
        self.writes = tuple(writes)

    def __repr__(self):
        return (
            f"Kernel({self.index}, {self.name!r}, grid={list(self.grid)}, block={list(self.block)}, "
            f"shared_bytes={self.shared_bytes}, arguments={list(self.arguments)}"
            + (f", writes={list(self.writes)})" if self.writes else ")")
        )


class Convolution:
    """One fused convolution: an entry of the manifest's optional
    "convolutions"."""

    __slots__ = ("index", "form", "precision", "fft_size", "factors", "kernels")

    def __init__(self, index, form, precision, fft_size, factors, kernels):
        self.index = index
        self.form = form
        self.precision = precision
        self.fft_size = fft_size
        self.factors = tuple(factors)
        self.kernels = tuple(kernels)

    def __repr__(self):
        return (
            f"Convolution({self.index}, {self.form}, {self.precision}, fft_size={self.fft_size}, "
            f"factors={list(self.factors)}, kernels={list(self.kernels)})"
        )


Exchange = collections.namedtuple("Exchange", "after send recv ranks")
Exchange.__doc__ = (
    "A sharded program's all-to-all: after the first `after` kernels, chunk j of workspace `send` "
    "to chunk `rank` of rank j's workspace `recv` (argument indices), over `ranks` ranks."
)
Shard = collections.namedtuple("Shard", "rank ranks row_length")
Shard.__doc__ = (
    "A sharded program's place: `rank` among `ranks`; its sequences hold, row after row, "
    "columns [rank, rank + 1) x row_length / ranks of rows of `row_length` samples."
)


class Manifest:
    """A validated launch manifest (see `parse_manifest`): the library's
    parsed manifest, with its parts copied into Python objects."""

    def __init__(self, handle):
        lib = _library()
        self._lib = lib
        self._handle = handle  # owned: freed with the object
        info = _ManifestInfo()
        if lib.fftconvRuntimeManifestGetInfo(handle, ctypes.byref(info)):
            raise _last_error(lib)
        self.format = _text(info.format)
        self.version = info.version
        self.chip = _text(info.chip)
        self.ptx = _text(info.ptx)
        self.entry = _text(info.entry)
        self.path = _text(info.path) or None  # the file it was read from, if any
        self.arguments = [self._argument(i) for i in range(info.numArguments)]
        self.kernels = [self._kernel(i) for i in range(info.numKernels)]
        self.convolutions = [self._convolution(i) for i in range(info.numConvolutions)]
        self.exchanges = [self._exchange(i) for i in range(lib.fftconvRuntimeManifestNumExchanges(handle))]
        self.shard = None
        if self.exchanges:
            rank, ranks, row = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
            if lib.fftconvRuntimeManifestGetShard(handle, ctypes.byref(rank), ctypes.byref(ranks), ctypes.byref(row)):
                raise _last_error(lib)
            self.shard = Shard(rank.value, ranks.value, row.value)

    def _exchange(self, index):
        after, send, recv = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        ranks = ctypes.c_int64()
        if self._lib.fftconvRuntimeManifestGetExchange(
            self._handle, index, ctypes.byref(after), ctypes.byref(send), ctypes.byref(recv), ctypes.byref(ranks)
        ):
            raise _last_error(self._lib)
        return Exchange(after.value, send.value, recv.value, ranks.value)

    def _argument(self, index):
        a = _ArgumentInfo()
        if self._lib.fftconvRuntimeManifestGetArgument(self._handle, index, ctypes.byref(a)):
            raise _last_error(self._lib)
        return Argument(
            index,
            _text(a.name),
            ROLES[a.role],
            DTYPES[a.dtype],
            a.shape[: a.rank],
            a.numBytes,
            a.dependsOn[: a.numDependsOn],
            range(a.producer, a.producer + a.numProducers),
        )

    def _kernel(self, index):
        k = _KernelInfo()
        if self._lib.fftconvRuntimeManifestGetKernel(self._handle, index, ctypes.byref(k)):
            raise _last_error(self._lib)
        positions = (ctypes.c_int * k.numArguments)()
        count = self._lib.fftconvRuntimeManifestGetKernelWrites(self._handle, index, positions, k.numArguments)
        if count < 0:
            raise _last_error(self._lib)
        return Kernel(
            index,
            _text(k.name),
            list(k.grid),
            list(k.block),
            k.sharedBytes,
            k.arguments[: k.numArguments],
            bool(k.isProducer),
            positions[:count],
        )

    def _convolution(self, index):
        c = _ConvolutionInfo()
        if self._lib.fftconvRuntimeManifestGetConvolution(self._handle, index, ctypes.byref(c)):
            raise _last_error(self._lib)
        return Convolution(
            index, FORMS[c.form], PRECISIONS[c.precision], c.fftSize, c.factors[: c.numFactors], c.kernels[: c.numKernels]
        )

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
        """Indices of the kernels that write a workspace (its "producers")."""
        return [k.index for k in self.kernels if k.is_producer]

    @property
    def consumer_kernels(self):
        """Indices of the other kernels: what runs once the workspaces are
        computed."""
        return [k.index for k in self.kernels if not k.is_producer]

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            try:
                self._lib.fftconvRuntimeManifestDestroy(handle)
            except Exception:  # interpreter shutdown
                pass

    def __repr__(self):
        return f"Manifest(entry={self.entry!r}, chip={self.chip!r}, {len(self.arguments)} arguments, {len(self.kernels)} kernels)"


def _is_path(value):
    return isinstance(value, os.PathLike) or (isinstance(value, str) and value.lstrip()[:1] not in ("{", "["))


def parse_manifest(manifest):
    """Parses and validates a manifest with the runtime library (no GPU
    needed): a dict, JSON text (str or bytes), or the path of a JSON file
    (str or os.PathLike). Returns a `Manifest`; raises
    ValueError("invalid manifest: <field>: <what is wrong>") otherwise (for a
    file, the message starts with its path)."""
    if isinstance(manifest, Manifest):
        return manifest
    lib = _library()
    if _is_path(manifest):
        handle = lib.fftconvRuntimeManifestRead(os.fsencode(manifest))
    else:
        if isinstance(manifest, str):
            manifest = manifest.encode()
        elif not isinstance(manifest, (bytes, bytearray)):
            # A dict (or any value json can write): the library judges it.
            try:
                manifest = json.dumps(manifest).encode()
            except (TypeError, ValueError) as error:
                raise ValueError(f"invalid manifest: not valid JSON: {error}") from None
        data = bytes(manifest)
        handle = lib.fftconvRuntimeManifestParse(data, len(data))
    if not handle:
        raise _last_error(lib)
    return Manifest(handle)


# --------------------------------------------------------------------------
# Programs
# --------------------------------------------------------------------------


def _torch():
    try:
        import torch
    except ImportError as error:
        raise RuntimeError(f"fftconv.runtime needs PyTorch to hold its buffers: {error}") from None
    return torch


def _looks_like_ptx(text):
    return "\n" in text or ".version" in text


def _stream_handle(stream):
    if stream is None:
        return None
    if isinstance(stream, int):
        return stream
    return stream.cuda_stream


def _kernel_array(kernels):
    # ctypes would wrap an index past 32 bits into range; such an index is
    # simply out of range, which the library reports with the kernel count.
    values = []
    for k in kernels:
        if not isinstance(k, int) or isinstance(k, bool):
            raise ValueError(f"kernel index {k!r} is not an integer")
        values.append(k if -(2**31) <= k < 2**31 else -1)
    return (ctypes.c_int * len(values))(*values)


class BoundLaunch:
    """A launch with its buffers fixed (see `Program.bind`): calling it
    launches the kernels again with no tensor checks, for timing or CUDA
    graphs. `outputs` holds the outputs it writes."""

    def __init__(self, program, buffers, kernels, outputs, keep_alive, stream):
        self.program = program
        self._buffers = buffers
        self._kernels = kernels
        self.outputs = outputs
        self._keep_alive = keep_alive  # the tensors whose addresses it holds
        self._stream = stream

    def __call__(self, stream=None):
        handle = self._stream if stream is None else _stream_handle(stream)
        self.program._launch(self._buffers, self._kernels, handle)
        return self.outputs


class Program:
    """A manifest and its PTX, loaded on a CUDA device by the runtime
    library (see the module's docstring). `ptx` and `manifest` are as for
    `Program.load`."""

    def __init__(self, ptx, manifest, device=None):
        self._handle = None
        self._lib = _library()
        self.manifest = parse_manifest(manifest)
        ptx_path = ptx_text = None
        if ptx is None:
            pass  # the file the manifest's "ptx" names, found by the library
        elif isinstance(ptx, os.PathLike) or (isinstance(ptx, str) and not _looks_like_ptx(ptx)):
            ptx_path = os.fsencode(ptx)
        elif isinstance(ptx, (str, bytes, bytearray)):
            ptx_text = ptx.encode() if isinstance(ptx, str) else bytes(ptx)
        else:
            raise TypeError(f"PTX must be text, bytes or a path, got {type(ptx).__name__}")

        torch = _torch()
        if not torch.cuda.is_available():
            raise RuntimeError("no CUDA device is available to PyTorch (torch.cuda.is_available() is False)")
        if device is None:
            index = torch.cuda.current_device()
        elif isinstance(device, int):
            # Checked by the library, not by torch.device: PyTorch keeps a
            # device index in 8 bits, so cuda:4096 would become cuda:0.
            index = device
        else:
            device = torch.device(device)
            if device.type != "cuda":
                raise ValueError(f"device must be a CUDA device, got {device}")
            index = torch.cuda.current_device() if device.index is None else device.index
        self._torch = torch
        self._dtypes = dtypes.torch_dtypes()

        # The library works in the device's primary context, the one PyTorch
        # uses; the workspaces are PyTorch's (allocated at the first launch).
        handle = self._lib.fftconvRuntimeLoadManifest(
            self.manifest._handle,
            ptx_path,
            ptx_text,
            len(ptx_text) if ptx_text is not None else 0,
            index,
            _CALLER_WORKSPACES,
        )
        if not handle:
            raise _last_error(self._lib)
        self._handle = handle
        self.device = torch.device("cuda", index)
        self._workspaces = {}  # argument index -> tensor
        self._produced = {}  # workspace index -> signature of its inputs

    # -- construction ------------------------------------------------------

    @classmethod
    def load(cls, ptx=None, manifest=None, device=None):
        """Loads a program. `ptx` is PTX text (str or bytes) or the path of a
        .ptx file; None takes the file the manifest's "ptx" names, next to
        the manifest. `manifest` is a dict, JSON text or a path. `device` is a
        torch device, an index, or None for the current CUDA device."""
        if manifest is None:
            raise ValueError("Program.load needs a manifest (a dict, JSON text or a path)")
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

    # -- checking tensors (what only PyTorch knows) --------------------------

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

    def _ensure_workspaces(self):
        torch = self._torch
        for argument in self.manifest.workspaces:
            if argument.index not in self._workspaces:
                self._workspaces[argument.index] = torch.empty(
                    argument.shape, dtype=self._dtypes[argument.dtype], device=self.device
                )

    # -- the k_f bookkeeping: PyTorch's tensor identities and versions --------

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
        """Checks the tensors, allocates what is missing, and returns (the
        buffer array, one pointer per argument; output tensors; the kernel
        array; tensors by argument index)."""
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
        by_index = dict(self._workspaces)
        for argument, tensor in zip(manifest.inputs, input_tensors):
            by_index[argument.index] = tensor
        for argument, tensor in zip(manifest.outputs, output_tensors):
            by_index[argument.index] = tensor

        if kernels is not None:
            order = list(kernels)
        else:
            skipped = set()
            if skip_producers:
                for k in manifest.producer_kernels:
                    made = [a for a in manifest.workspaces if k in a.producers]
                    if made and all(
                        self._same_signature(self._produced.get(a.index), [by_index[i] for i in a.depends_on])
                        for a in made
                    ):
                        skipped.add(k)
            order = [k.index for k in manifest.kernels if k.index not in skipped]
        count = len(manifest.arguments)
        buffers = (ctypes.c_uint64 * count)(*[by_index[i].data_ptr() for i in range(count)])
        return buffers, output_tensors, order, by_index

    def _record_producers(self, order, by_index):
        ran = set(order)
        for workspace in self.manifest.workspaces:
            ran_here = ran.intersection(workspace.producers)
            if not ran_here:
                continue
            if len(ran_here) < len(workspace.producers):  # written in part: unknown
                self._produced.pop(workspace.index, None)
                continue
            if workspace.depends_on:
                self._produced[workspace.index] = self._signature([by_index[i] for i in workspace.depends_on])
            else:
                self._produced.pop(workspace.index, None)

    def _launch(self, buffers, kernels, stream):
        if not self._handle:
            raise ValueError("the program is closed")
        result = self._lib.fftconvRuntimeLaunchKernels(
            self._handle, buffers, len(buffers), stream, kernels, len(kernels)
        )
        if result:
            raise _last_error(self._lib)

    def _launch_operands(self, kernel, operands, stream):
        """Kernel `kernel` with `operands`, one device pointer per entry of
        its arguments (fftconvRuntimeLaunchKernelOperands)."""
        if not self._handle:
            raise ValueError("the program is closed")
        values = (ctypes.c_uint64 * len(operands))(*operands)
        if self._lib.fftconvRuntimeLaunchKernelOperands(self._handle, kernel, values, len(operands), stream):
            raise _last_error(self._lib)

    def _current_stream(self, stream):
        if stream is not None:
            return _stream_handle(stream)
        return self._torch.cuda.current_stream(self.device).cuda_stream

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
        buffers, output_tensors, order, by_index = self._prepare(inputs, outputs, kernels, skip_producers)
        self._launch(buffers, _kernel_array(order), self._current_stream(stream))
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
        `BoundLaunch`: calling it launches again with no tensor checks (for
        timing, or capture into a CUDA graph). The kernels are chosen now, as
        `launch` would choose them; producers recorded as having run are
        recorded now too."""
        buffers, output_tensors, order, by_index = self._prepare(inputs, outputs, kernels, skip_producers)
        kernel_array = _kernel_array(order)
        self._record_producers(order, by_index)
        outputs = output_tensors[0] if len(output_tensors) == 1 else tuple(output_tensors)
        return BoundLaunch(self, buffers, kernel_array, outputs, list(by_index.values()), self._current_stream(stream))

    # -- teardown -------------------------------------------------------------

    def close(self):
        """Unloads the module, releases the context and drops the workspaces
        (also done when the program is garbage-collected)."""
        handle, self._handle = getattr(self, "_handle", None), None
        self._workspaces = {}
        if handle:
            try:
                self._lib.fftconvRuntimeDestroy(handle)
            except Exception:  # interpreter shutdown
                pass

    def __del__(self):
        self.close()

    def __repr__(self):
        return f"Program({self.manifest.entry!r} on {self.device}, {len(self.manifest.kernels)} kernels)"
