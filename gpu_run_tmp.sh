#!/usr/bin/env bash
set -u
python3 -c "import tarfile; tarfile.open('build/gpu-kernels.tar.xz').extractall('build')"
export FFTCONV_RUNTIME_DIR=$PWD/build/runtime FFTCONV_GPU_KERNELS=$PWD/build/gpu-kernels
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt
timeout 300 python3 -m pytest -q -s -p no:warnings test/GPU/test_circular_gpu.py test/GPU/test_torch_module_gpu.py 2>&1 | grep -v "^$" | tail -20 | tee $OUT/pytest.log
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
cat > /tmp/san_circ.py <<'PY'
import os, sys
sys.path.insert(0, "python"); sys.path.insert(0, "scripts"); sys.path.insert(0, "test/GPU")
os.environ.setdefault("FFTCONV_KERNEL_CACHE", os.path.join(os.environ["FFTCONV_GPU_KERNELS"], "module-cache"))
import torch
import test_circular_gpu as t, test_multi_head_gpu as m
from build_gpu_kernels import CIRCULAR_CASES, MULTI_HEAD_CASES
t.test_circular_on_gpu(CIRCULAR_CASES[int(sys.argv[1])]) if sys.argv[2] == "c" else m.test_multi_head_blocks_on_gpu(MULTI_HEAD_CASES[int(sys.argv[1])])
torch.cuda.synchronize()
PY
for tool in memcheck racecheck; do
  for spec in "0 c" "3 c" "0 m"; do
    extra=""; [ "$tool" = memcheck ] && extra="--padding 1024"
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout 150 $SAN --tool $tool $extra --error-exitcode 86 python3 /tmp/san_circ.py $spec > $OUT/$tool-${spec// /}.log 2>&1
    echo "$tool $spec rc=$? $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' $OUT/$tool-${spec// /}.log | tail -1)" | tee -a $OUT/sanitize.log
  done
done
