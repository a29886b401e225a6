// RUN: fftconv-opt %s | fftconv-opt | FileCheck %s
// RUN: fftconv-opt %s --mlir-print-op-generic | fftconv-opt | FileCheck %s

// CHECK-LABEL: func @conv_forms
func.func @conv_forms(%u: tensor<2x4x100xf16>, %k: tensor<4x37xf32>,
                      %g: tensor<2x4x100xf16>, %d: tensor<4xf32>)
    -> (tensor<2x4x100xf16>, tensor<2x4x100xf16>, tensor<2x4x100xf16>) {
  // CHECK: fftconv.conv causal %{{.*}}, %{{.*}} : (tensor<2x4x100xf16>, tensor<4x37xf32>) -> tensor<2x4x100xf16>
  %0 = fftconv.conv causal %u, %k : (tensor<2x4x100xf16>, tensor<4x37xf32>) -> tensor<2x4x100xf16>
  // CHECK: fftconv.conv circular %{{.*}}, %{{.*}} pregate %{{.*}} postgate %{{.*}} skip %{{.*}} :
  %1 = fftconv.conv circular %u, %k pregate %g postgate %g skip %d
      : (tensor<2x4x100xf16>, tensor<4x37xf32>, tensor<2x4x100xf16>, tensor<2x4x100xf16>, tensor<4xf32>) -> tensor<2x4x100xf16>
  // CHECK: fftconv.conv causal %{{.*}}, %{{.*}} postgate %{{.*}} :
  %2 = fftconv.conv causal %u, %k postgate %g
      : (tensor<2x4x100xf16>, tensor<4x37xf32>, tensor<2x4x100xf16>) -> tensor<2x4x100xf16>
  return %0, %1, %2 : tensor<2x4x100xf16>, tensor<2x4x100xf16>, tensor<2x4x100xf16>
}

// CHECK-LABEL: func @conv_bf16_f32
func.func @conv_bf16_f32(%a: tensor<1x2x8xbf16>, %b: tensor<1x2x8xf32>, %k: tensor<2x8xf32>) {
  // CHECK: fftconv.conv causal {{.*}} -> tensor<1x2x8xbf16>
  %0 = fftconv.conv causal %a, %k : (tensor<1x2x8xbf16>, tensor<2x8xf32>) -> tensor<1x2x8xbf16>
  // CHECK: fftconv.conv circular {{.*}} -> tensor<1x2x8xf32>
  %1 = fftconv.conv circular %b, %k : (tensor<1x2x8xf32>, tensor<2x8xf32>) -> tensor<1x2x8xf32>
  return
}

// CHECK-LABEL: func @transforms
func.func @transforms(%c: tensor<3x48xcomplex<f32>>, %r: tensor<3x48xf32>) {
  // CHECK: fftconv.fft %{{.*}} n = 64 : tensor<3x48xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  %0 = fftconv.fft %c n = 64 : tensor<3x48xcomplex<f32>> -> tensor<3x64xcomplex<f32>>
  // CHECK: fftconv.ifft %{{.*}} n = 32 : tensor<3x48xcomplex<f32>> -> tensor<3x32xcomplex<f32>>
  %1 = fftconv.ifft %c n = 32 : tensor<3x48xcomplex<f32>> -> tensor<3x32xcomplex<f32>>
  // CHECK: fftconv.rfft %{{.*}} n = 64 : tensor<3x48xf32> -> tensor<3x33xcomplex<f32>>
  %2 = fftconv.rfft %r n = 64 : tensor<3x48xf32> -> tensor<3x33xcomplex<f32>>
  // CHECK: fftconv.irfft %{{.*}} n = 63 : tensor<3x48xcomplex<f32>> -> tensor<3x63xf32>
  %3 = fftconv.irfft %c n = 63 : tensor<3x48xcomplex<f32>> -> tensor<3x63xf32>
  return
}

// CHECK-LABEL: func @regularizers
func.func @regularizers(%k: tensor<4x128xf32>) -> (tensor<4x128xf32>, tensor<4x128xf32>) {
  // CHECK: fftconv.squash %{{.*}} lambda = 1.000000e-03 : tensor<4x128xf32>
  %0 = fftconv.squash %k lambda = 1.0e-03 : tensor<4x128xf32>
  // CHECK: fftconv.smooth %{{.*}} width = 5 : tensor<4x128xf32>
  %1 = fftconv.smooth %k width = 5 : tensor<4x128xf32>
  return %0, %1 : tensor<4x128xf32>, tensor<4x128xf32>
}

// CHECK-LABEL: func @channel_mul
func.func @channel_mul(%x: tensor<2x4x33xcomplex<f32>>, %k: tensor<4x33xcomplex<f32>>) -> tensor<2x4x33xcomplex<f32>> {
  // CHECK: fftconv.channel_mul %{{.*}}, %{{.*}} : tensor<2x4x33xcomplex<f32>>, tensor<4x33xcomplex<f32>>
  %0 = fftconv.channel_mul %x, %k : tensor<2x4x33xcomplex<f32>>, tensor<4x33xcomplex<f32>>
  return %0 : tensor<2x4x33xcomplex<f32>>
}

// The gradients asked for are named in `wrt`; results come in the order
// input, kernel, pregate, postgate, skip.
// CHECK-LABEL: func @conv_grad_forms
func.func @conv_grad_forms(%u: tensor<2x4x100xf16>, %k: tensor<4x37xf32>,
                           %g: tensor<2x4x100xf16>, %d: tensor<4xf32>,
                           %dy: tensor<2x4x100xf16>) {
  // CHECK: fftconv.conv_grad causal %{{.*}}, %{{.*}} grad %{{.*}} wrt [input, kernel] : (tensor<2x4x100xf16>, tensor<4x37xf32>, tensor<2x4x100xf16>) -> (tensor<2x4x100xf16>, tensor<4x37xf32>)
  %0:2 = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
      : (tensor<2x4x100xf16>, tensor<4x37xf32>, tensor<2x4x100xf16>) -> (tensor<2x4x100xf16>, tensor<4x37xf32>)
  // CHECK: fftconv.conv_grad circular %{{.*}}, %{{.*}} pregate %{{.*}} postgate %{{.*}} skip %{{.*}} grad %{{.*}} wrt [input, kernel, pregate, postgate, skip] :
  %1:5 = fftconv.conv_grad circular %u, %k pregate %g postgate %g skip %d grad %dy wrt [input, kernel, pregate, postgate, skip]
      : (tensor<2x4x100xf16>, tensor<4x37xf32>, tensor<2x4x100xf16>, tensor<2x4x100xf16>, tensor<4xf32>, tensor<2x4x100xf16>)
      -> (tensor<2x4x100xf16>, tensor<4x37xf32>, tensor<2x4x100xf16>, tensor<2x4x100xf16>, tensor<4xf32>)
  // CHECK: fftconv.conv_grad causal %{{.*}}, %{{.*}} skip %{{.*}} grad %{{.*}} wrt [skip] :
  %2 = fftconv.conv_grad causal %u, %k skip %d grad %dy wrt [skip]
      : (tensor<2x4x100xf16>, tensor<4x37xf32>, tensor<4xf32>, tensor<2x4x100xf16>) -> tensor<4xf32>
  return
}

// CHECK-LABEL: func @spectral_grad_ops
func.func @spectral_grad_ops(%x: tensor<2x4x33xcomplex<f32>>, %kf: tensor<4x33xcomplex<f32>>)
    -> (tensor<2x4x33xcomplex<f32>>, tensor<4x33xcomplex<f32>>) {
  // CHECK: fftconv.channel_mul %{{.*}}, %{{.*}} band = 8 conjugate : tensor<2x4x33xcomplex<f32>>, tensor<4x33xcomplex<f32>>
  %0 = fftconv.channel_mul %x, %kf band = 8 conjugate : tensor<2x4x33xcomplex<f32>>, tensor<4x33xcomplex<f32>>
  // CHECK: fftconv.cross_spectrum %{{.*}}, %{{.*}} : tensor<2x4x33xcomplex<f32>> -> tensor<4x33xcomplex<f32>>
  %1 = fftconv.cross_spectrum %x, %0 : tensor<2x4x33xcomplex<f32>> -> tensor<4x33xcomplex<f32>>
  return %0, %1 : tensor<2x4x33xcomplex<f32>>, tensor<4x33xcomplex<f32>>
}

// -----

// CHECK-LABEL: func @circulate
// CHECK: fftconv.circulate %{{.*}} period = 1000 : tensor<4x1000xf32> -> tensor<4x2048xf32>
func.func @circulate(%k: tensor<4x1000xf32>) -> tensor<4x2048xf32> {
  %kk = fftconv.circulate %k period = 1000 : tensor<4x1000xf32> -> tensor<4x2048xf32>
  return %kk : tensor<4x2048xf32>
}
