// RUN: fftconv-opt %s -fftconv-conv-to-fft="min-size=-1" -verify-diagnostics
// RUN: fftconv-opt %s -fftconv-conv-grad-to-fft="min-size=8589934592" -verify-diagnostics

// expected-error @below {{min-size must be 0 (none) or an FFT size of at most 2^32}}
module {
  func.func @f(%u: tensor<1x1x8xf32>, %k: tensor<1x8xf32>) -> tensor<1x1x8xf32> {
    %y = fftconv.conv causal %u, %k : (tensor<1x1x8xf32>, tensor<1x8xf32>) -> tensor<1x1x8xf32>
    return %y : tensor<1x1x8xf32>
  }
}
