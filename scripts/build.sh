#!/usr/bin/env bash
# Configures and builds fftconv-mlir into build/ (incrementally), as
# scripts/setup.sh and scripts/test.sh both need.
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
