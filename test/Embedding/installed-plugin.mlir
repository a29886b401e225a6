// The installed plugin, loaded by Debian's stock mlir-opt-22 from the
// prefix: the dialects parse and print, and the passes run
// fftconv-to-butterfly. The plugin finds libMLIR.so by its own RUNPATH.
// RUN: rm -rf %t && cmake --install %fftconv_obj_root --prefix %t/install > %t.install.log
// RUN: env -u LD_LIBRARY_PATH /usr/lib/llvm-22/bin/mlir-opt %s \
// RUN:   --load-dialect-plugin=%t/install/lib/FFTConvPlugin.so | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: env -u LD_LIBRARY_PATH /usr/lib/llvm-22/bin/mlir-opt %s \
// RUN:   --load-dialect-plugin=%t/install/lib/FFTConvPlugin.so \
// RUN:   --load-pass-plugin=%t/install/lib/FFTConvPlugin.so \
// RUN:   --pass-pipeline="builtin.module(fftconv-to-butterfly)" | FileCheck %s

// ROUNDTRIP: fftconv.conv causal
// CHECK-LABEL: func.func @conv
// CHECK: butterfly.fused conv
// CHECK: butterfly.hermitian_mul
func.func @conv(%u: tensor<2x4x256xf32>, %k: tensor<4x256xf32>) -> tensor<2x4x256xf32> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x256xf32>, tensor<4x256xf32>) -> tensor<2x4x256xf32>
  return %y : tensor<2x4x256xf32>
}
