// RUN: fftconv-opt %s -fftconv-conv-grad-to-fft -split-input-file | FileCheck %s

// Causal, f32, input and kernel gradients: N = 2048 >= L + K - 1 like the
// forward. dv is the correlation with k (the conjugate product), dk the
// inverse of the batch-reduced cross spectrum, cropped to K.
// CHECK-LABEL: func @input_and_kernel
// CHECK-SAME: (%[[U:.*]]: tensor<2x4x1024xf32>, %[[K:.*]]: tensor<4x1000xf32>, %[[DY:.*]]: tensor<2x4x1024xf32>)
// CHECK: %[[GF:.*]] = fftconv.rfft %{{.*}} n = 2048 : tensor<2x4x1024xf32> -> tensor<2x4x1025xcomplex<f32>>
// CHECK: %[[KF:.*]] = fftconv.rfft %[[K]] n = 2048 : tensor<4x1000xf32> -> tensor<4x1025xcomplex<f32>>
// CHECK: %[[P:.*]] = fftconv.channel_mul %[[GF]], %[[KF]] conjugate {fftconv.element_type = f32}
// CHECK: %[[C:.*]] = fftconv.irfft %[[P]] n = 2048 : tensor<2x4x1025xcomplex<f32>> -> tensor<2x4x2048xf32>
// CHECK: %[[DU:.*]] = tensor.extract_slice %[[C]][0, 0, 0] [2, 4, 1024] [1, 1, 1]
// CHECK: %[[VF:.*]] = fftconv.rfft %{{.*}} n = 2048 : tensor<2x4x1024xf32> -> tensor<2x4x1025xcomplex<f32>>
// CHECK: %[[S:.*]] = fftconv.cross_spectrum %[[VF]], %[[GF]] : tensor<2x4x1025xcomplex<f32>> -> tensor<4x1025xcomplex<f32>>
// CHECK: %[[R:.*]] = fftconv.irfft %[[S]] n = 2048 : tensor<4x1025xcomplex<f32>> -> tensor<4x2048xf32>
// CHECK: %[[DK:.*]] = tensor.extract_slice %[[R]][0, 0] [4, 1000] [1, 1]
// CHECK: return %{{.*}}, %[[DK]]
// CHECK-NOT: fftconv.conv_grad
func.func @input_and_kernel(%u: tensor<2x4x1024xf32>, %k: tensor<4x1000xf32>, %dy: tensor<2x4x1024xf32>)
    -> (tensor<2x4x1024xf32>, tensor<4x1000xf32>) {
  %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
      : (tensor<2x4x1024xf32>, tensor<4x1000xf32>, tensor<2x4x1024xf32>) -> (tensor<2x4x1024xf32>, tensor<4x1000xf32>)
  return %du, %dk : tensor<2x4x1024xf32>, tensor<4x1000xf32>
}

// -----

// Only what is asked for: the kernel gradient needs no kernel spectrum and
// no correlation.
// CHECK-LABEL: func @kernel_only
// CHECK-NOT: conjugate
// CHECK: fftconv.cross_spectrum
// CHECK-NOT: conjugate
// CHECK: return
func.func @kernel_only(%u: tensor<3x2x64xf32>, %k: tensor<2x64xf32>, %dy: tensor<3x2x64xf32>) -> tensor<2x64xf32> {
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<3x2x64xf32>, tensor<2x64xf32>, tensor<3x2x64xf32>) -> tensor<2x64xf32>
  return %dk : tensor<2x64xf32>
}

// -----

// Gates and skip in f16: g = postgate * dy and v = pregate * u in f32; the
// postgate's gradient recomputes z as an f32 convolution with the skip
// term; dD is the correlation's lag 0, from the same inverse as dk.
// CHECK-LABEL: func @gated_skip
// CHECK: fftconv.channel_mul %{{.*}}, %{{.*}} conjugate {fftconv.element_type = f16}
// CHECK: fftconv.cross_spectrum
// CHECK: %[[LAGS:.*]] = fftconv.irfft
// CHECK: %[[DK:.*]] = tensor.extract_slice %[[LAGS]][0, 0] [4, 40] [1, 1]
// CHECK: fftconv.conv causal %{{.*}}, %{{.*}} skip %{{.*}} : (tensor<2x4x64xf32>, tensor<4x40xf32>, tensor<4xf32>) -> tensor<2x4x64xf32>
// CHECK: %[[LAG0:.*]] = tensor.extract_slice %[[LAGS]][0, 0] [4, 1] [1, 1]
// CHECK: %[[DD:.*]] = tensor.collapse_shape %[[LAG0]] {{\[}}[0, 1]] : tensor<4x1xf32> into tensor<4xf32>
// CHECK-NOT: iterator_types = ["reduction"
// CHECK: return %{{.*}}, %[[DK]], %{{.*}}, %{{.*}}, %[[DD]] : tensor<2x4x64xf16>, tensor<4x40xf32>, tensor<2x4x64xf16>, tensor<2x4x64xf16>, tensor<4xf32>
func.func @gated_skip(%u: tensor<2x4x64xf16>, %k: tensor<4x40xf32>, %pre: tensor<2x4x64xf16>,
                      %post: tensor<2x4x64xf16>, %d: tensor<4xf32>, %dy: tensor<2x4x64xf16>)
    -> (tensor<2x4x64xf16>, tensor<4x40xf32>, tensor<2x4x64xf16>, tensor<2x4x64xf16>, tensor<4xf32>) {
  %g:5 = fftconv.conv_grad causal %u, %k pregate %pre postgate %post skip %d grad %dy wrt [input, kernel, pregate, postgate, skip]
      : (tensor<2x4x64xf16>, tensor<4x40xf32>, tensor<2x4x64xf16>, tensor<2x4x64xf16>, tensor<4xf32>, tensor<2x4x64xf16>)
      -> (tensor<2x4x64xf16>, tensor<4x40xf32>, tensor<2x4x64xf16>, tensor<2x4x64xf16>, tensor<4xf32>)
  return %g#0, %g#1, %g#2, %g#3, %g#4 : tensor<2x4x64xf16>, tensor<4x40xf32>, tensor<2x4x64xf16>, tensor<2x4x64xf16>, tensor<4xf32>
}

// -----

// Circular with L = 48 (not a power of two): the forward's N = 128 >= 2L
// and its circulated taps; g zero-padded, and dk the circulated taps'
// adjoint of the lags (lags[j] + lags[j + N - L]).
// CHECK-LABEL: func @circular_wrap
// CHECK: %[[GF:.*]] = fftconv.rfft %{{.*}} n = 128 : tensor<1x2x48xf32> -> tensor<1x2x65xcomplex<f32>>
// CHECK: %[[KK:.*]] = fftconv.circulate %{{.*}} period = 48 : tensor<2x10xf32> -> tensor<2x128xf32>
// CHECK: fftconv.rfft %[[KK]] n = 128
// CHECK: fftconv.channel_mul %[[GF]], %{{.*}} conjugate
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0] [1, 2, 48] [1, 1, 1]
// CHECK: %[[LAGS:.*]] = fftconv.irfft %{{.*}} n = 128 : tensor<2x65xcomplex<f32>> -> tensor<2x128xf32>
// CHECK: fftconv.circulate %[[LAGS]] period = 48 transpose : tensor<2x128xf32> -> tensor<2x10xf32>
func.func @circular_wrap(%u: tensor<1x2x48xf32>, %k: tensor<2x10xf32>, %dy: tensor<1x2x48xf32>) -> (tensor<1x2x48xf32>, tensor<2x10xf32>) {
  %du, %dk = fftconv.conv_grad circular %u, %k grad %dy wrt [input, kernel]
      : (tensor<1x2x48xf32>, tensor<2x10xf32>, tensor<1x2x48xf32>) -> (tensor<1x2x48xf32>, tensor<2x10xf32>)
  return %du, %dk : tensor<1x2x48xf32>, tensor<2x10xf32>
}

// -----

// Bidirectional: dv is the product with the conjugate of the combined
// spectrum k_f + conj(kr_f); d kr is the cross spectrum with the roles of v
// and g swapped (from transforms of its own), cropped to K'.
// CHECK-LABEL: func @bidirectional
// CHECK: %[[KF:.*]] = fftconv.rfft %{{.*}} n = 256 : tensor<4x100xf32>
// CHECK: %[[KRF:.*]] = fftconv.rfft %{{.*}} n = 256 : tensor<4x50xf32>
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[KF]], %[[KRF]]
// CHECK: fftconv.channel_mul %[[GF:.*]], %[[SUM]] conjugate
// CHECK: %[[VF:.*]] = fftconv.rfft %{{.*}} n = 256 : tensor<2x4x100xf32>
// CHECK: %[[CROSS:.*]] = fftconv.cross_spectrum %[[VF]], %[[GF]]
// CHECK: %[[LAGS:.*]] = fftconv.irfft %[[CROSS]] n = 256
// CHECK: tensor.extract_slice %[[LAGS]][0, 0] [4, 100] [1, 1]
// CHECK: %[[GF2:.*]] = fftconv.rfft %{{.*}} n = 256 : tensor<2x4x100xf32>
// CHECK: %[[VF2:.*]] = fftconv.rfft %{{.*}} n = 256 : tensor<2x4x100xf32>
// CHECK: %[[SWAPPED:.*]] = fftconv.cross_spectrum %[[GF2]], %[[VF2]]
// CHECK: %[[RLAGS:.*]] = fftconv.irfft %[[SWAPPED]] n = 256
// CHECK: tensor.extract_slice %[[RLAGS]][0, 0] [4, 50] [1, 1]
func.func @bidirectional(%u: tensor<2x4x100xf32>, %k: tensor<4x100xf32>, %kr: tensor<4x50xf32>, %dy: tensor<2x4x100xf32>) -> (tensor<2x4x100xf32>, tensor<4x100xf32>, tensor<4x50xf32>) {
  %du, %dk, %dkr = fftconv.conv_grad causal %u, %k reverse %kr grad %dy wrt [input, kernel, reverse_kernel]
      : (tensor<2x4x100xf32>, tensor<4x100xf32>, tensor<4x50xf32>, tensor<2x4x100xf32>) -> (tensor<2x4x100xf32>, tensor<4x100xf32>, tensor<4x50xf32>)
  return %du, %dk, %dkr : tensor<2x4x100xf32>, tensor<4x100xf32>, tensor<4x50xf32>
}
