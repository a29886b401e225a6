#!/usr/bin/env bash
# Runs every test of fftconv-mlir: the lit suite (FileCheck, verifier
# diagnostics, mlir-runner executions) and the Python suites (integration
# tests against the float64 numpy oracle). Builds first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian built libMLIR.so with clang 22: our code must agree with it on the
# type names that key MLIR's implicit TypeIDs, so it is built with the same
# compiler (g++-built objects fail trait checks across the C API boundary).
if [ -f build/CMakeCache.txt ] && ! grep -q "CMAKE_CXX_COMPILER:.*clang++-22" build/CMakeCache.txt; then
  rm -rf build
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 >/dev/null
cmake --build build -j "$(nproc)"

echo "== lit"
/usr/lib/llvm-22/bin/lit -sv build/test

echo "== pytest"
/usr/bin/python3 -m pytest -q -p no:cacheprovider test/Integration test/python "$@"
