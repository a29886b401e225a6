"""scripts/fuzz.py: the mutation fuzzer's fixed seed set finds nothing in
today's fftconv-opt (CI's bounded run), and the fuzzer itself classifies
what it sees and is deterministic."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import fuzz  # noqa: E402

TOOL = os.path.join(ROOT, "build", "bin", "fftconv-opt")


def run_fuzz(tmp_path, *args):
    out = tmp_path / "fuzz"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "fuzz.py"), "--out", str(out), *args],
                          capture_output=True, text=True, timeout=300)
    with open(out / "summary.json") as f:
        return proc, json.load(f)


@pytest.mark.skipif(not os.access(TOOL, os.X_OK), reason="fftconv-opt is not built")
def test_fixed_seed_set_finds_nothing(tmp_path):
    # Seed 1's first 50 mutants through all six pipelines (30 s on two
    # cores, mostly the tool's start-up); --seconds only guards against a
    # slow machine. A run's timeout of 30 s catches hangs; valid programs of
    # 2^20 points take seconds through the CPU pipeline (docs/fuzzing.md).
    proc, summary = run_fuzz(tmp_path, "--seed", "1", "--count", "50", "--seconds", "45",
                             "--timeout", "30")
    assert summary["findings"] == [], proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Not vacuous: mutants ran, and some of them got through the pipelines.
    assert summary["mutants"] >= 40, summary
    assert summary["outcomes"].get("ok", 0) > 0, summary


FAKE_TOOL = """#!/bin/bash
# Stands in for fftconv-opt: one behaviour per pipeline.
cat > /dev/null
[ "$2" = --fftconv-to-cpu ] && exit 0  # butterfly-cpu
case "$1" in
  --verify-roundtrip) echo "<stdin>:1:1: error: refused" >&2; exit 1 ;;
  --fftconv-to-butterfly*) sleep 30 ;;
  --fftconv-to-cpu*) echo "PLEASE submit a bug report" >&2; kill -SEGV $$ ;;
  --fftconv-to-ptx*) echo "LLVM ERROR: out of memory" >&2; kill -ABRT $$ ;;
  --butterfly-expand-monarch) exit 3 ;;
esac
"""


def test_outcomes_are_classified(tmp_path):
    tool = tmp_path / "fake-opt"
    tool.write_text(FAKE_TOOL)
    tool.chmod(0o755)
    proc, summary = run_fuzz(tmp_path, "--tool", str(tool), "--count", "1", "--seconds", "0",
                             "--timeout", "1")
    assert proc.returncode == 1
    by = summary["by_pipeline"]
    assert by["roundtrip"] == {"diagnostic": 1}
    assert by["butterfly"] == {"timeout": 1}
    assert by["cpu"] == {"crash": 1}
    assert by["ptx"] == {"oom": 1}
    assert by["monarch"] == {"silent": 1}
    assert by["butterfly-cpu"] == {"ok": 1}
    signatures = sorted(f["signature"] for f in summary["findings"])
    assert signatures == ["crash [cpu] signal 11", "oom [ptx]", "silent [monarch] exit 3",
                          "timeout [butterfly]"]
    # Each distinct finding leaves its reproducer and the command to rerun it.
    for finding in summary["findings"]:
        assert os.path.exists(finding["reproducer"])
        assert "fftconv-opt" in finding["command"]


def test_crash_signature_reads_frames():
    output = """PLEASE submit a bug report to https://github.com/llvm/llvm-project/issues/
Stack dump:
0.	Program arguments: fftconv-opt --fftconv-to-cpu
 #0 0x000055d5 llvm::sys::PrintStackTrace(llvm::raw_ostream&, int) (/x/libLLVM.so.22+0x1)
 #1 0x000055d6 SignalHandler(int, siginfo_t*, void*) (/x/libLLVM.so.22+0x2)
 #2 0x00007f00 (/lib/x86_64-linux-gnu/libc.so.6+0x3c050)
 #3 0x000055d7 (anonymous namespace)::ConvToFFT::matchAndRewrite(mlir::fftconv::ConvOp, mlir::PatternRewriter&) const (/x/fftconv-opt+0x4)
 #4 0x000055d8 mlir::PatternApplicator::matchAndRewrite(mlir::Operation*) (/x/libMLIR.so.22+0x5)
 #5 0x000055d9 mlir::applyPatternsGreedily(mlir::Region&) (/x/libMLIR.so.22+0x6)
 #6 0x000055da main (/x/fftconv-opt+0x7)
"""
    outcome, detail = fuzz.classify(-11, output)
    assert outcome == "crash"
    assert detail == ("(anonymous namespace)::ConvToFFT::matchAndRewrite <- "
                      "mlir::PatternApplicator::matchAndRewrite <- mlir::applyPatternsGreedily")
    assert fuzz.classify(1, "<stdin>:3:8: error: 'fftconv.conv' op expects") == ("diagnostic", "")
    assert fuzz.classify(1, "<unknown>:0: error: no 12 here") == ("unlocated", "no N here")
    assert fuzz.classify(0, "") == ("ok", "")
    assert fuzz.classify(1, "LLVM ERROR: Building op `x` but it isn't known\n")[0] == "crash"


def test_mutants_are_deterministic():
    seeds = fuzz.load_seeds()
    assert len(seeds) > 50
    first = [fuzz.make_mutant(5, i, seeds) for i in range(30)]
    assert first == [fuzz.make_mutant(5, i, seeds) for i in range(30)]
    assert first != [fuzz.make_mutant(6, i, seeds) for i in range(30)]
    # Every mutant differs from the seed input it came from.
    texts = dict(seeds)
    assert all(text != texts[name] for name, _, text, _ in first)


def test_invalid_ir_is_told_from_a_refusal():
    source = "%y = fftconv.conv causal %u, %k : (tensor<...>) -> tensor<...>\n"
    # A pass (fftconv-conv-to-fft) built an rfft that failed verification.
    built = "<stdin>:1:6: error: 'fftconv.rfft' op expects result of at most 2^56 elements, got 'tensor<8x9xf32>'"
    assert fuzz.invalid_ir_op(built, source) == "fftconv.rfft: expects result of at most _^_ elements, got _"
    # The input's own op, refused: a diagnostic like any other.
    refused = "<stdin>:1:6: error: 'fftconv.conv' op expects kernel length K = 9"
    assert fuzz.invalid_ir_op(refused, source) is None
