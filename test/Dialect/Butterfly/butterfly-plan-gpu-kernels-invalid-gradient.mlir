// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="single-kernel-max=8192" -verify-diagnostics

// The kernel gradient runs in the single-kernel form only: past
// single-kernel-max the convolutions of a backward take the three-pass
// form, its kernel gradient is refused.
func.func @kernel_gradient_past_one_kernel(%u: tensor<1x1x8192xf16>, %k: tensor<1x8192xf32>, %dy: tensor<1x1x8192xf16>) -> tensor<1x8192xf32> {
  // expected-error @+1 {{the GPU kernel gradient runs in the single-kernel form, up to single-kernel-max = 8192; this one has N = 16384}}
  %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [kernel]
      : (tensor<1x1x8192xf16>, tensor<1x8192xf32>, tensor<1x1x8192xf16>) -> tensor<1x8192xf32>
  return %dk : tensor<1x8192xf32>
}
