#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds fftconv-mlir and runs the bundled
# example. Idempotent: installs only what is missing, rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  cmake ninja-build clang-22 clang-format
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  python3-numpy python3-pytest python3-dev pybind11-dev python3-torch
  python3-pip python3-wheel   # pip install . (pyproject.toml's in-tree backend)
  nlohmann-json3-dev
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

echo "== configuring and building (build/)"
bash scripts/build.sh

echo "== running the bundled example"
/usr/bin/python3 examples/hyena_block.py
