// RUN: fftconv-opt %s -fftconv-conv-to-fft -split-input-file | FileCheck %s

// Causal, K = L = 1024: N = 2048 >= L + K - 1. The kernel's spectrum is
// computed from k alone (once per channel), the crop keeps L outputs.
// CHECK-LABEL: func @causal
// CHECK-SAME: (%[[U:.*]]: tensor<2x4x1024xf32>, %[[K:.*]]: tensor<4x1024xf32>)
// CHECK: %[[KF:.*]] = fftconv.rfft %[[K]] n = 2048 : tensor<4x1024xf32> -> tensor<4x1025xcomplex<f32>>
// CHECK: %[[UF:.*]] = fftconv.rfft %[[U]] n = 2048 : tensor<2x4x1024xf32> -> tensor<2x4x1025xcomplex<f32>>
// CHECK: %[[P:.*]] = fftconv.channel_mul %[[UF]], %[[KF]] {fftconv.element_type = f32}
// CHECK: %[[Z:.*]] = fftconv.irfft %[[P]] n = 2048 : tensor<2x4x1025xcomplex<f32>> -> tensor<2x4x2048xf32>
// CHECK: %[[Y:.*]] = tensor.extract_slice %[[Z]][0, 0, 0] [2, 4, 1024] [1, 1, 1]
// CHECK: return %[[Y]]
func.func @causal(%u: tensor<2x4x1024xf32>, %k: tensor<4x1024xf32>) -> tensor<2x4x1024xf32> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x1024xf32>, tensor<4x1024xf32>) -> tensor<2x4x1024xf32>
  return %y : tensor<2x4x1024xf32>
}

// -----

// A partial kernel needs less padding: L + K - 1 = 1100 -> N = 2048; with
// L = 1000 not a power of two, K = 25: 1024.
// CHECK-LABEL: func @partial
// CHECK: fftconv.rfft %{{.*}} n = 1024 : tensor<4x25xf32> -> tensor<4x513xcomplex<f32>>
// CHECK: fftconv.irfft %{{.*}} n = 1024
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0] [2, 4, 1000] [1, 1, 1]
func.func @partial(%u: tensor<2x4x1000xf32>, %k: tensor<4x25xf32>) -> tensor<2x4x1000xf32> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x1000xf32>, tensor<4x25xf32>) -> tensor<2x4x1000xf32>
  return %y : tensor<2x4x1000xf32>
}

// -----

// Circular with L a power of two: N = L, no crop needed beyond the identity.
// CHECK-LABEL: func @circular_pow2
// CHECK: fftconv.rfft %{{.*}} n = 512 : tensor<4x100xf32>
// CHECK: fftconv.irfft %{{.*}} n = 512 : tensor<2x4x257xcomplex<f32>> -> tensor<2x4x512xf32>
// CHECK-NOT: linalg.generic
func.func @circular_pow2(%u: tensor<2x4x512xf32>, %k: tensor<4x100xf32>) -> tensor<2x4x512xf32> {
  %y = fftconv.conv circular %u, %k : (tensor<2x4x512xf32>, tensor<4x100xf32>) -> tensor<2x4x512xf32>
  return %y : tensor<2x4x512xf32>
}

// -----

// Circular with L = 100 (not a power of two): N = 256 >= 2L, the kernel's
// taps circulated (a second copy of k at N - L brings the taps that wrap
// around), the first L outputs kept; then the skip term D * v.
// CHECK-LABEL: func @circular_wrap
// CHECK-SAME: (%[[U:.*]]: tensor<2x3x100xf32>, %[[K:.*]]: tensor<3x37xf32>, %[[D:.*]]: tensor<3xf32>)
// CHECK: %[[KK:.*]] = fftconv.circulate %[[K]] period = 100 : tensor<3x37xf32> -> tensor<3x256xf32>
// CHECK: fftconv.rfft %[[KK]] n = 256 : tensor<3x256xf32> -> tensor<3x129xcomplex<f32>>
// CHECK: %[[Z:.*]] = fftconv.irfft %{{.*}} n = 256
// CHECK: %[[W:.*]] = tensor.extract_slice %[[Z]][0, 0, 0] [2, 3, 100] [1, 1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[W]], %[[U]], %[[D]] :
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @circular_wrap(%u: tensor<2x3x100xf32>, %k: tensor<3x37xf32>, %d: tensor<3xf32>) -> tensor<2x3x100xf32> {
  %y = fftconv.conv circular %u, %k skip %d : (tensor<2x3x100xf32>, tensor<3x37xf32>, tensor<3xf32>) -> tensor<2x3x100xf32>
  return %y : tensor<2x3x100xf32>
}

// -----

// f16 with gates: the pregate product and the cast to f32 before the
// transform, the postgate and the rounding to f16 after it.
// CHECK-LABEL: func @gated_f16
// CHECK-SAME: (%[[U:.*]]: tensor<1x2x64xf16>, %[[K:.*]]: tensor<2x64xf32>, %[[G1:.*]]: tensor<1x2x64xf16>, %[[G2:.*]]: tensor<1x2x64xf16>)
// CHECK: %[[V:.*]] = linalg.generic {{.*}} ins(%[[U]], %[[G1]] : tensor<1x2x64xf16>, tensor<1x2x64xf16>)
// CHECK: arith.extf
// CHECK: arith.mulf
// CHECK: fftconv.rfft %[[V]] n = 128
// CHECK: fftconv.channel_mul {{.*}} {fftconv.element_type = f16}
// CHECK: %[[C:.*]] = tensor.extract_slice
// CHECK: linalg.generic {{.*}} ins(%[[C]], %[[G2]] : tensor<1x2x64xf32>, tensor<1x2x64xf16>) outs(%{{.*}} : tensor<1x2x64xf16>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @gated_f16(%u: tensor<1x2x64xf16>, %k: tensor<2x64xf32>, %g1: tensor<1x2x64xf16>, %g2: tensor<1x2x64xf16>) -> tensor<1x2x64xf16> {
  %y = fftconv.conv causal %u, %k pregate %g1 postgate %g2 : (tensor<1x2x64xf16>, tensor<2x64xf32>, tensor<1x2x64xf16>, tensor<1x2x64xf16>) -> tensor<1x2x64xf16>
  return %y : tensor<1x2x64xf16>
}

// -----

// Bidirectional: the reverse kernel's spectrum is conjugated and added to
// the kernel's, the padding holds the longer of the two (L + K' - 1 = 1100
// -> N = 2048 with K = 8).
// CHECK-LABEL: func @bidirectional
// CHECK-SAME: (%[[U:.*]]: tensor<2x4x1000xf32>, %[[K:.*]]: tensor<4x8xf32>, %[[KR:.*]]: tensor<4x101xf32>)
// CHECK: %[[KF:.*]] = fftconv.rfft %[[K]] n = 2048 : tensor<4x8xf32> -> tensor<4x1025xcomplex<f32>>
// CHECK: %[[KRF:.*]] = fftconv.rfft %[[KR]] n = 2048 : tensor<4x101xf32> -> tensor<4x1025xcomplex<f32>>
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[KF]], %[[KRF]] : {{.*}})
// CHECK: complex.conj
// CHECK: complex.add
// CHECK: fftconv.channel_mul %{{.*}}, %[[SUM]]
func.func @bidirectional(%u: tensor<2x4x1000xf32>, %k: tensor<4x8xf32>, %kr: tensor<4x101xf32>) -> tensor<2x4x1000xf32> {
  %y = fftconv.conv causal %u, %k reverse %kr : (tensor<2x4x1000xf32>, tensor<4x8xf32>, tensor<4x101xf32>) -> tensor<2x4x1000xf32>
  return %y : tensor<2x4x1000xf32>
}

// -----

// A multi-head convolution is expanded as its B x H x L form.
// CHECK-LABEL: func @multi_head
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2, 3], [4]] : tensor<2x3x4x1x64xf32> into tensor<6x4x64xf32>
// CHECK: fftconv.rfft %{{.*}} n = 128 : tensor<6x4x64xf32> -> tensor<6x4x65xcomplex<f32>>
// CHECK: tensor.expand_shape
func.func @multi_head(%u: tensor<2x3x4x1x64xf32>, %k: tensor<4x64xf32>) -> tensor<2x3x4x1x64xf32> {
  %y = fftconv.conv causal %u, %k : (tensor<2x3x4x1x64xf32>, tensor<4x64xf32>) -> tensor<2x3x4x1x64xf32>
  return %y : tensor<2x3x4x1x64xf32>
}
