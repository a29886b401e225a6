#!/usr/bin/env bash
# Runs every test of fftconv-mlir: the lit suite (FileCheck, verifier
# diagnostics, mlir-runner executions) and the Python suites (integration
# tests against the float64 numpy oracle). Builds first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh

echo "== lit"
/usr/lib/llvm-22/bin/lit -sv build/test

echo "== pytest"
/usr/bin/python3 -m pytest -q -p no:cacheprovider test/Integration test/python "$@"
