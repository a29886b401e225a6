// RUN: fftconv-opt %s -fftconv-to-butterfly=min-fft-size=256 -butterfly-plan-gpu-kernels -butterfly-to-gpu | FileCheck %s
// RUN: fftconv-opt %s -fftconv-to-butterfly=min-fft-size=256 -butterfly-plan-gpu-kernels="single-kernel-max=4096" -butterfly-to-gpu | FileCheck %s --check-prefix=TP

// A bidirectional convolution: the spectrum kernel reads k and the reverse
// kernel kr, the taps kk[t] = k[t] + kr[(N - t) mod N] whose spectrum is
// rfft(k) + conj(rfft(kr)); the spectrum buffer depends on both.
// The negative lags: N - t (t > 0), read from kr where they fall below K'.
// CHECK-LABEL: gpu.func @bidirectional_conv0_spectrum(%{{.*}}: memref<4x4096xf32> {llvm.noalias}, %{{.*}}: memref<4x2048xf32> {llvm.noalias}, %{{.*}}: memref<4x2x8192xf32> {llvm.noalias})
// CHECK: arith.constant 8192 : index
// CHECK: arith.subi
// CHECK-LABEL: func.func @bidirectional
// CHECK-SAME: %[[K:[a-z0-9]+]]: memref<4x4096xf32> {fftconv.role = "input"}, %[[KR:[a-z0-9]+]]: memref<4x2048xf32> {fftconv.role = "input"}
// CHECK-SAME: %[[SPECTRUM:[a-z0-9]+]]: memref<4x2x8192xf32> {fftconv.depends_on = array<i64: 1, 2>, fftconv.producer = 0 : i64, fftconv.role = "workspace"}
// CHECK: gpu.launch_func @bidirectional_kernels::@bidirectional_conv0_spectrum {{.*}} args(%[[K]] : memref<4x4096xf32>, %[[KR]] : memref<4x2048xf32>, %[[SPECTRUM]] : memref<4x2x8192xf32>)

// The three-pass form reads the whole row of kk in its outer pass.
// TP-LABEL: func.func @bidirectional
// TP: gpu.launch_func @bidirectional_kernels::@bidirectional_conv0_spectrum_outer {{.*}} args(%{{.*}} : memref<4x4096xf32>, %{{.*}} : memref<4x2048xf32>, %{{.*}} : memref<4x16384xf32>)
func.func @bidirectional(%u: tensor<2x4x4096xf16>, %k: tensor<4x4096xf32>, %kr: tensor<4x2048xf32>) -> tensor<2x4x4096xf16> {
  %y = fftconv.conv causal %u, %k reverse %kr : (tensor<2x4x4096xf16>, tensor<4x4096xf32>, tensor<4x2048xf32>) -> tensor<2x4x4096xf16>
  return %y : tensor<2x4x4096xf16>
}
