// RUN: fftconv-opt %s -fftconv-parallelize-rows="min-points-per-task=16384" -split-input-file | FileCheck %s
// RUN: fftconv-opt %s -fftconv-parallelize-rows -split-input-file | FileCheck %s --check-prefix=DEFAULT
// RUN: fftconv-opt %s -fftconv-parallelize-rows="min-points-per-task=1" -split-input-file | FileCheck %s --check-prefix=ONE
// RUN: not fftconv-opt %s -fftconv-parallelize-rows="min-points-per-task=0" 2>&1 | FileCheck %s --check-prefix=ZERO

// ZERO: error: fftconv-parallelize-rows: min-points-per-task must be at least 1, got 0

// 16 rows of 4096 points: tasks of 4 rows (16384 points each).
// CHECK-LABEL: func.func @rows
// CHECK: scf.forall (%[[I:.*]]) = (0) to (16) step (4)
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x4x4096xf32>)
// CHECK: tensor.parallel_insert_slice
// DEFAULT-LABEL: func.func @rows
// DEFAULT-NOT: scf.forall
// ONE-LABEL: func.func @rows
// ONE: scf.forall (%{{.*}}) in (16)
func.func @rows(%x: tensor<1x16x4096xf32>) -> tensor<1x16x4096xf32> {
  %init = tensor.empty() : tensor<1x16x4096xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<1x16x4096xf32>) outs(%init : tensor<1x16x4096xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.mulf %a, %a : f32
    linalg.yield %s : f32
  } -> tensor<1x16x4096xf32>
  return %y : tensor<1x16x4096xf32>
}

// -----

// Too small for two tasks, a reduction, and an op already in a task: left
// alone.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: scf.forall
// CHECK: linalg.generic
// CHECK: linalg.generic
func.func @left_alone(%x: tensor<4x1024xf32>, %r: tensor<64x4096xf32>) -> (tensor<4x1024xf32>, tensor<64xf32>) {
  %init = tensor.empty() : tensor<4x1024xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x1024xf32>) outs(%init : tensor<4x1024xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  } -> tensor<4x1024xf32>
  %zero = arith.constant 0.0 : f32
  %acc0 = tensor.empty() : tensor<64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%acc0 : tensor<64xf32>) -> tensor<64xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%r : tensor<64x4096xf32>) outs(%acc : tensor<64xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  return %y, %sum : tensor<4x1024xf32>, tensor<64xf32>
}
