// RUN: fftconv-opt %s -fftconv-to-ptx | FileCheck %s
// RUN: fftconv-opt %s -fftconv-to-ptx="chip=sm_80" | FileCheck %s --check-prefix=SM80

// The kernels end as PTX in a gpu.binary; the host function keeps its
// launches (the manifest is read off them).
// CHECK: gpu.binary @conv_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">
// CHECK-SAME: .target sm_90
// CHECK-SAME: ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// CHECK-LABEL: func.func @conv
// CHECK: gpu.launch_func @conv_kernels::@conv_conv0_spectrum
// CHECK: gpu.launch_func @conv_kernels::@conv_conv0
// SM80: .target sm_80
func.func @conv(%u: tensor<4x8x512xbf16>, %k: tensor<8x512xf32>) -> tensor<4x8x512xbf16> {
  %y = fftconv.conv causal %u, %k : (tensor<4x8x512xbf16>, tensor<8x512xf32>) -> tensor<4x8x512xbf16>
  return %y : tensor<4x8x512xbf16>
}
