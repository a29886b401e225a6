#!/usr/bin/env bash
set -u
python3 -c "import tarfile; tarfile.open('build/gpu-kernels.tar.xz').extractall('build')"
export FFTCONV_RUNTIME_DIR=$PWD/build/runtime FFTCONV_GPU_KERNELS=$PWD/build/gpu-kernels
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt
timeout 400 python3 -m pytest -q -s -p no:warnings test/GPU/test_graph_forms_gpu.py test/GPU/test_ingest_gpu.py 2>&1 | grep -v "^$" | tail -25 | tee $OUT/pytest.log
