// RUN: fftconv-opt %s -canonicalize | FileCheck %s

// A constant's spectrum is folded in the compiler only while that is cheap:
// the host DFT of a length that is not a power of two is O(n^2) (n = 1000003
// would take about 10^12 steps), and a splat of many rows would unfold into
// one spectrum per row. Past the limits the transform stays for run time.

// CHECK-LABEL: func.func @odd_length
// CHECK: fftconv.rfft %{{.*}} n = 1000003
func.func @odd_length() -> tensor<1x500002xcomplex<f32>> {
  %k = arith.constant dense<1.0> : tensor<1x8xf32>
  %y = fftconv.rfft %k n = 1000003 : tensor<1x8xf32> -> tensor<1x500002xcomplex<f32>>
  return %y : tensor<1x500002xcomplex<f32>>
}

// CHECK-LABEL: func.func @many_rows
// CHECK: fftconv.rfft %{{.*}} n = 8
func.func @many_rows() -> tensor<1099511627776x5xcomplex<f32>> {
  %k = arith.constant dense<1.0> : tensor<1099511627776x8xf32>
  %y = fftconv.rfft %k n = 8 : tensor<1099511627776x8xf32> -> tensor<1099511627776x5xcomplex<f32>>
  return %y : tensor<1099511627776x5xcomplex<f32>>
}

// Small ones still fold.
// CHECK-LABEL: func.func @small
// CHECK-NOT: fftconv.rfft
// CHECK: arith.constant dense<{{.*}}> : tensor<1x3xcomplex<f32>>
func.func @small() -> tensor<1x3xcomplex<f32>> {
  %k = arith.constant dense<1.0> : tensor<1x4xf32>
  %y = fftconv.rfft %k n = 4 : tensor<1x4xf32> -> tensor<1x3xcomplex<f32>>
  return %y : tensor<1x3xcomplex<f32>>
}
