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
