// RUN: fftconv-opt %s -fftconv-to-butterfly | FileCheck %s
// RUN: fftconv-opt %s -fftconv-to-butterfly="order=2" | FileCheck %s --check-prefix=ORDER2
// RUN: fftconv-opt %s -fftconv-to-butterfly -fftconv-to-cpu | FileCheck %s --check-prefix=LLVM

// A Hyena block: f16, gates, skip; N = 8192, M = 4096 = 16 x 16 x 16.
// CHECK-LABEL: func @hyena
// CHECK-SAME: (%[[U:.*]]: tensor<2x4x4096xf16>, %[[K:.*]]: tensor<4x4096xf32>, %[[G1:.*]]: tensor<2x4x4096xf16>, %[[G2:.*]]: tensor<2x4x4096xf16>, %[[D:.*]]: tensor<4xf32>)
// Once per channel, outside the kernel:
// CHECK: butterfly.pack_real %[[K]]
// CHECK: %[[C:.*]] = butterfly.conv_spectrum
// CHECK: %[[CM:.*]] = butterfly.permute
// The kernel reads u, both gates, D and the coefficients, and writes y:
// CHECK: %[[Y:.*]] = butterfly.fused conv ins({{.*}}) onchip_bytes = 50176 {
// CHECK: butterfly.monarch %{{.*}} factors = [16, 16, 16] permuted
// CHECK: butterfly.hermitian_mul
// CHECK: butterfly.monarch %{{.*}} factors = [16, 16, 16] inverse permuted
// CHECK: butterfly.unpack_real %{{.*}} : tensor<2x4x4096xcomplex<f32>> -> tensor<2x4x4096xf32>
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: butterfly.yield
// CHECK: } -> tensor<2x4x4096xf16>
// CHECK: return %[[Y]]
// ORDER2-LABEL: func @hyena
// ORDER2: butterfly.monarch %{{.*}} factors = [64, 64] permuted
// LLVM-LABEL: llvm.func @hyena
// LLVM-NOT: butterfly.
func.func @hyena(%u: tensor<2x4x4096xf16>, %k: tensor<4x4096xf32>, %g1: tensor<2x4x4096xf16>,
                 %g2: tensor<2x4x4096xf16>, %d: tensor<4xf32>) -> tensor<2x4x4096xf16> {
  %y = fftconv.conv causal %u, %k pregate %g1 postgate %g2 skip %d
      : (tensor<2x4x4096xf16>, tensor<4x4096xf32>, tensor<2x4x4096xf16>, tensor<2x4x4096xf16>, tensor<4xf32>) -> tensor<2x4x4096xf16>
  return %y : tensor<2x4x4096xf16>
}
