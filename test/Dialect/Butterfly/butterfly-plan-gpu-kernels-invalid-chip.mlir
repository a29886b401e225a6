// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="chip=sm_70" -verify-diagnostics
// RUN: not fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="chip=cpu" 2>&1 | FileCheck %s --check-prefix=CPU

// The plan needs the chip's shared memory and MMA shapes; the cost model
// knows sm_80 and sm_90 (sm_90a as sm_90; and the CPU, which is no GPU).
// CPU: error: unknown GPU chip 'cpu' (expected sm_80, sm_90 or sm_90a)
// expected-error @+1 {{unknown GPU chip 'sm_70' (expected sm_80, sm_90 or sm_90a)}}
func.func @unknown_chip(%u: tensor<2x4x128xf16>, %k: tensor<4x128xf32>) -> tensor<2x4x128xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x128xf16>, tensor<4x128xf32>) -> tensor<2x4x128xf16>
  return %y : tensor<2x4x128xf16>
}
