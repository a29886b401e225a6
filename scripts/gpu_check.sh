#!/usr/bin/env bash
# On a GPU machine (no MLIR needed): finds the runtime (lib/Runtime), runs the
# GPU tests (test/GPU), then runs a few compiled configurations under
# compute-sanitizer. Kernels come from FFTCONV_GPU_KERNELS (default
# build/gpu-kernels, made on the build machine by
# `python3 scripts/build_gpu_kernels.py --out build/gpu-kernels`).
#
# The runtime is, in this order: FFTCONV_RUNTIME_DIR if set; build/runtime
# carried from the build machine (made there by
# `cmake -S lib/Runtime -B build/runtime -G Ninja && ninja -C build/runtime`;
# it links libstdc++ statically, so it loads here); else it is built here
# into build/runtime when cmake, ninja and nlohmann-json are at hand.
# Without a runtime the tests cannot run: the Python binding needs it.
#
#   bash scripts/gpu_check.sh
#
# Logs go to $OUT if set, else build/gpu-check: runtime-build.log,
# pytest.log, one log per sanitizer tool, summary.txt. Exit status 0 when
# everything passed.
#
# Environment: PYTHON (default python3), FFTCONV_SANITIZE_TOOLS (default
# "memcheck racecheck synccheck initcheck"), FFTCONV_SANITIZE_CONFIGS (config
# folder names; default: the smallest of each dtype/mode/gating/skip kind, at
# most FFTCONV_SANITIZE_COUNT, default 4), FFTCONV_RUNTIME_DIR (a runtime
# build to use instead of build/runtime).
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
export FFTCONV_GPU_KERNELS=$(realpath -m "${FFTCONV_GPU_KERNELS:-build/gpu-kernels}")
LOGS=${OUT:-build/gpu-check}
mkdir -p "$LOGS"
SUMMARY="$LOGS/summary.txt"
: >"$SUMMARY"
status=0
note() { echo "$*" | tee -a "$SUMMARY"; }

note "gpu_check: kernels from $FFTCONV_GPU_KERNELS"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/gpu_check: GPU /' | tee -a "$SUMMARY"

# 1. The runtime, standalone (no MLIR, no CUDA headers): carried or built.
if [ -n "${FFTCONV_RUNTIME_DIR:-}" ]; then
  note "runtime: $FFTCONV_RUNTIME_DIR (FFTCONV_RUNTIME_DIR)"
elif [ -f build/runtime/lib/libFFTConvRuntime.so ]; then
  export FFTCONV_RUNTIME_DIR=$PWD/build/runtime
  note "runtime: $FFTCONV_RUNTIME_DIR (carried)"
elif command -v cmake >/dev/null && command -v ninja >/dev/null; then
  if cmake -S lib/Runtime -B build/runtime -G Ninja >"$LOGS/runtime-build.log" 2>&1 &&
    ninja -C build/runtime >>"$LOGS/runtime-build.log" 2>&1; then
    export FFTCONV_RUNTIME_DIR=$PWD/build/runtime
    note "runtime: built into $FFTCONV_RUNTIME_DIR"
  else
    note "runtime build: FAILED (see runtime-build.log; nlohmann-json missing? build it on the build machine and carry build/runtime)"
    status=1
  fi
else
  note "runtime: none (no build/runtime carried, no cmake or ninja here): build it on the build machine with" \
    "'cmake -S lib/Runtime -B build/runtime -G Ninja && ninja -C build/runtime' and carry build/runtime"
  status=1
fi
if [ -n "${FFTCONV_RUNTIME_DIR:-}" ]; then
  # A carried library that does not load here (an older glibc, say) fails
  # every test the same way: say so once, first.
  if ! loaded=$("$PYTHON" -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1])' \
    "$FFTCONV_RUNTIME_DIR/lib/libFFTConvRuntime.so" 2>&1); then
    note "runtime: $FFTCONV_RUNTIME_DIR/lib/libFFTConvRuntime.so does not load on this machine: $loaded"
    status=1
  fi
fi

# 2. The GPU tests.
PYTHONUNBUFFERED=1 "$PYTHON" -m pytest -v -s -p no:cacheprovider test/GPU 2>&1 | tee "$LOGS/pytest.log"
if [ "${PIPESTATUS[0]}" -eq 0 ]; then
  note "pytest test/GPU: ok ($(tail -n 1 "$LOGS/pytest.log"))"
else
  note "pytest test/GPU: FAILED ($(tail -n 1 "$LOGS/pytest.log"))"
  status=1
fi

# 3. compute-sanitizer over one launch of a few configurations.
SANITIZER=$(command -v compute-sanitizer || true)
for candidate in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [ -z "$SANITIZER" ] && [ -x "$candidate" ] && SANITIZER=$candidate
done
if [ -z "$SANITIZER" ]; then
  note "compute-sanitizer: not found, skipped"
  exit $status
fi
if [ -n "${FFTCONV_SANITIZE_CONFIGS:-}" ]; then
  CONFIGS=$FFTCONV_SANITIZE_CONFIGS
else
  CONFIGS=$(PYTHONPATH=python "$PYTHON" - "${FFTCONV_SANITIZE_COUNT:-4}" <<'PY'
import sys
from fftconv import kernel_configs
chosen = {}
configs = sorted(kernel_configs.find_configs(), key=lambda c: (c.B * c.H * c.L, c.name))
for c in configs:
    chosen.setdefault((c.dtype, c.mode, c.gated, c.skip), c.name)
names = list(chosen.values())[: int(sys.argv[1])]
# And the two smallest with a compiled backward (its kernels sanitized too),
# and the smallest with the three-pass backward.
names += [c.name for c in configs if kernel_configs.has_backward(c) and c.N >= 1024][:2]
names += [c.name for c in configs if kernel_configs.has_backward(c) and c.N > 32768][:1]
print(" ".join(dict.fromkeys(names)))
PY
)
fi
if [ -z "$CONFIGS" ]; then
  note "compute-sanitizer: no configurations in $FFTCONV_GPU_KERNELS, skipped"
  exit $status
fi
for tool in ${FFTCONV_SANITIZE_TOOLS:-memcheck racecheck synccheck initcheck}; do
  log="$LOGS/$tool.log"
  : >"$log"
  for name in $CONFIGS; do
    echo "=== $tool: $name" >>"$log"
    # Every tensor its own allocation, with unallocated padding after it, so
    # that memcheck sees a write past the end of a buffer instead of a valid
    # write into its neighbour (without --padding, a planted one-element
    # overrun of the output went unreported).
    extra=()
    [ "$tool" = memcheck ] && extra=(--padding 1024)
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 "$SANITIZER" --tool "$tool" "${extra[@]}" --error-exitcode 86 \
      "$PYTHON" test/GPU/sanitize_one.py "$FFTCONV_GPU_KERNELS/$name" >>"$log" 2>&1
    rc=$?
    errors=$(grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$log" | tail -n 1 | sed 's/^=* *//')
    if [ $rc -eq 0 ]; then
      note "$tool $name: ok ($errors)"
    else
      note "$tool $name: FAILED (exit $rc; $errors)"
      status=1
    fi
  done
done
exit $status
