"""The Python bindings over the C API: parse, print, verify, run pipelines;
diagnostics raised as exceptions that carry their locations."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

import fftconv  # noqa: E402

CONV = """
func.func @conv(%u: tensor<2x4x256xf16>, %k: tensor<4x256xf32>) -> tensor<2x4x256xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x256xf16>, tensor<4x256xf32>) -> tensor<2x4x256xf16>
  return %y : tensor<2x4x256xf16>
}
"""


@pytest.fixture
def context():
    return fftconv.Context()


def test_parse_and_print(context):
    module = fftconv.Module.parse(context, CONV)
    text = str(module)
    assert "fftconv.conv causal" in text
    # What is printed parses again to the same text.
    assert str(fftconv.Module.parse(context, text)) == text


def test_pipeline(context):
    module = fftconv.Module.parse(context, CONV)
    fftconv.PassManager(context, "builtin.module(fftconv-to-butterfly{order=2})").run(module)
    text = str(module)
    assert 'butterfly.fused conv' in text
    assert "factors = [16, 16]" in text  # N = 512, M = 256, order 2
    fftconv.PassManager(context, "builtin.module(fftconv-to-cpu)").run(module)
    assert "llvm.func @conv" in str(module)


def test_syntax_error_has_location(context):
    with pytest.raises(fftconv.MLIRError) as error:
        fftconv.Module.parse(context, "func.func @f() {\n  %0 = fftconv.conv causal\n}", "prog.mlir")
    assert "prog.mlir\":2:" in str(error.value) or "prog.mlir:2:" in str(error.value)


def test_verifier_error_has_location(context):
    bad = CONV.replace("tensor<4x256xf32>", "tensor<4x300xf32>")
    with pytest.raises(fftconv.MLIRError) as error:
        fftconv.Module.parse(context, bad, "bad.mlir")
    message = str(error.value)
    assert "bad.mlir" in message and ":3:" in message
    assert "expects kernel length K = 300 to be at most the sequence length L = 256" in message


def test_pass_failure_has_location(context):
    module = fftconv.Module.parse(context, CONV.replace("256", "8"), "tiny.mlir")
    pm = fftconv.PassManager(context, "builtin.module(fftconv-conv-to-fft, fftconv-monarch-decompose{order=4})")
    with pytest.raises(fftconv.MLIRError) as error:
        pm.run(module)
    assert "tiny.mlir" in str(error.value)
    assert "cannot decompose a DFT of length 8 into 4 factors" in str(error.value)


def test_bad_pipeline(context):
    with pytest.raises(fftconv.MLIRError, match="invalid pass pipeline"):
        fftconv.PassManager(context, "builtin.module(no-such-pass)")


def test_module_of_another_context(context):
    module = fftconv.Module.parse(context, CONV)
    with pytest.raises(fftconv.MLIRError, match="another context"):
        fftconv.PassManager(fftconv.Context(), "builtin.module(canonicalize)").run(module)


def test_function_builder(context):
    # A func.func built op by op through the C API's builders; types and
    # locations made through the C API too.
    t = fftconv.Type.tensor(context, [2, 4, 256], "f16")
    kt = fftconv.Type.tensor(context, [4, 256], "f32")
    assert str(t) == "tensor<2x4x256xf16>" and t.shape == [2, 4, 256] and t.element == "f16"
    loc = fftconv.Location.name(context, "y", fftconv.Location.file(context, "model.py", 7, 3))
    f = fftconv.Function(context, "conv", [t, kt], argument_names=["u", "k"])
    u, k = f.arguments
    y = f.conv(u, k, True, None, None, None, loc)
    assert y.type == t
    module = f.finish([y], loc)
    text = str(module)
    assert '%y = fftconv.conv causal %arg0, %arg1' in text and '{fftconv.name = "u"}' in text
    assert module.functions == ["conv"]
    arguments, results = module.function_type("conv")
    assert [str(a) for a in arguments] == [str(t), str(kt)] and results == [t]
    with pytest.raises(fftconv.MLIRError, match="finished"):
        f.smooth(k, 3, loc)


def test_function_builder_errors(context):
    kt = fftconv.Type.tensor(context, [4, 16], "f32")
    loc = fftconv.Location.file(context, "model.py", 3, 1)
    f = fftconv.Function(context, "f", [kt])
    (k,) = f.arguments
    with pytest.raises(fftconv.MLIRError, match=r'model.py":3:1\): error: .*odd width'):
        f.smooth(k, 4, loc)
    other = fftconv.Function(context, "g", [kt])
    with pytest.raises(fftconv.MLIRError, match="another function"):
        f.smooth(other.arguments[0], 3, loc)
    with pytest.raises(fftconv.MLIRError, match="unknown element type"):
        fftconv.Type.tensor(context, [4], "f64")
    with pytest.raises(fftconv.MLIRError, match="do not hold the elements"):
        f.constant(kt, b"\0" * 12, loc)


def test_execution_engine_needs_llvm_dialect(context):
    module = fftconv.Module.parse(context, CONV)
    with pytest.raises(fftconv.MLIRError, match="cannot JIT-compile"):
        fftconv.ExecutionEngine(module)


def test_execution_engine_runs_lowered_code(context):
    # The C interface of a function on memrefs, called through ctypes.
    import ctypes

    import numpy as np
    from fftconv import cpu

    module = fftconv.Module.parse(context, """
      func.func @scale(%x: tensor<3xf32>) -> tensor<3xf32> {
        %init = tensor.empty() : tensor<3xf32>
        %y = linalg.map { arith.addf } ins(%x, %x : tensor<3xf32>, tensor<3xf32>) outs(%init : tensor<3xf32>)
        return %y : tensor<3xf32>
      }""")
    module.emit_c_interface("scale")
    fftconv.PassManager(context, cpu.pipeline()).run(module)
    engine = fftconv.ExecutionEngine(module, 0, cpu.runtime_libraries())
    with pytest.raises(fftconv.MLIRError, match="no symbol"):
        engine.lookup("_mlir_ciface_nothing")
    entry = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)(engine.lookup("_mlir_ciface_scale"))
    x = np.array([1.0, 2.0, 3.5], dtype=np.float32)
    out, arg = cpu.descriptor_type(1)(), cpu.descriptor(x)
    entry(ctypes.addressof(out), ctypes.addressof(arg))
    y = np.ctypeslib.as_array(ctypes.cast(out.aligned, ctypes.POINTER(ctypes.c_float)), shape=(3,)).copy()
    ctypes.CDLL(None).free(ctypes.c_void_p(out.allocated))
    np.testing.assert_array_equal(y, 2 * x)


def test_cpu_run_passes_16_bit_patterns():
    # f16 travels as float16 and bf16 as uint16 bit patterns, unchanged;
    # results come back widened exactly to float32.
    import numpy as np
    from fftconv import cpu

    bits = np.array([[0x3F80, 0xC2F7, 0x0001, 0x7F7F]], dtype=np.uint16)
    half = np.array([[1.5, -2.0, 6.1e-5, 65504.0]], dtype=np.float16)
    b, h = cpu.run("""
      func.func @id(%b: tensor<1x4xbf16>, %h: tensor<1x4xf16>) -> (tensor<1x4xbf16>, tensor<1x4xf16>) {
        return %b, %h : tensor<1x4xbf16>, tensor<1x4xf16>
      }""", [bits, half])
    np.testing.assert_array_equal(b.view(np.uint32) >> 16, bits)
    np.testing.assert_array_equal(h, half.astype(np.float32))
    with pytest.raises(ValueError, match="input 1 has shape"):
        cpu.run("""
          func.func @id(%b: tensor<1x4xbf16>, %h: tensor<1x4xf16>) -> tensor<1x4xf16> {
            return %h : tensor<1x4xf16>
          }""", [bits, half[:, :2]])


def test_run_cpu_compiles_a_graph_once():
    """Graph.run_cpu caches its compiled program by the graph's signature:
    the second call of an equal graph does not compile, and gives the same
    result; a different graph compiles its own."""
    import time

    import numpy as np

    from fftconv import graph as graph_module
    from fftconv.graph import Graph

    def make(taps):
        g = Graph("cached")
        u = g.input("u", (1, 2, 64), "f32")
        k = g.input("k", (2, taps), "f32")
        g.output(g.conv(u, k))
        return g

    rng = np.random.default_rng(0)
    arrays = {"u": rng.standard_normal((1, 2, 64)).astype(np.float32),
              "k": rng.standard_normal((2, 64)).astype(np.float32)}
    graph_module._RUN_CACHE.clear()
    start = time.perf_counter()
    first = make(64).run_cpu(arrays)
    compile_and_run = time.perf_counter() - start
    assert len(graph_module._RUN_CACHE) == 1
    start = time.perf_counter()
    second = make(64).run_cpu(arrays)
    run_only = time.perf_counter() - start
    assert len(graph_module._RUN_CACHE) == 1
    np.testing.assert_array_equal(first[0], second[0])
    assert run_only < compile_and_run
    make(32).run_cpu({"u": arrays["u"], "k": arrays["k"][:, :32]})
    assert len(graph_module._RUN_CACHE) == 2
