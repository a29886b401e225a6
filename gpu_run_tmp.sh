#!/usr/bin/env bash
set -u
python3 -c "import tarfile; tarfile.open('build/gpu-kernels.tar.xz').extractall('build')"
export FFTCONV_RUNTIME_DIR=$PWD/build/runtime FFTCONV_GPU_KERNELS=$PWD/build/gpu-kernels
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt
timeout 240 python3 -m pytest -q -s test/GPU/test_ingest_gpu.py 2>&1 | tail -25 | tee $OUT/pytest-ingest.log
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
for tool in memcheck racecheck; do
  for name in check-n65536-f16-circular-gated-skip check-n65536-f16-causal; do
    extra=""; [ "$tool" = memcheck ] && extra="--padding 1024"
    echo "=== $tool $name" | tee -a $OUT/sanitize.log
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout 150 $SAN --tool $tool $extra --error-exitcode 86 \
      python3 test/GPU/sanitize_one.py build/gpu-kernels/$name > $OUT/$tool-$name.log 2>&1
    echo "rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' $OUT/$tool-$name.log | tail -1)" | tee -a $OUT/sanitize.log
    tail -3 $OUT/$tool-$name.log
  done
done
