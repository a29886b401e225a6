// Debian's stock mlir-opt loads our dialects and passes from the plugin.
// RUN: mlir-opt %s --load-dialect-plugin=%fftconv_plugin --load-pass-plugin=%fftconv_plugin \
// RUN:   --pass-pipeline="builtin.module(fftconv-to-butterfly)" | FileCheck %s
// RUN: mlir-opt %s --load-dialect-plugin=%fftconv_plugin | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: not mlir-opt %s 2>&1 | FileCheck %s --check-prefix=NOPLUGIN

// CHECK-LABEL: func @conv
// CHECK: butterfly.fused conv
// CHECK: butterfly.hermitian_mul
// ROUNDTRIP: fftconv.conv causal
// NOPLUGIN: error: Dialect `fftconv' not found for custom op 'fftconv.conv'
func.func @conv(%u: tensor<2x4x256xf32>, %k: tensor<4x256xf32>) -> tensor<2x4x256xf32> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x256xf32>, tensor<4x256xf32>) -> tensor<2x4x256xf32>
  return %y : tensor<2x4x256xf32>
}
