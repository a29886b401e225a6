// RUN: fftconv-opt %s | fftconv-opt | FileCheck %s
// RUN: fftconv-opt %s --mlir-print-op-generic | fftconv-opt | FileCheck %s

// CHECK-LABEL: func @factors
func.func @factors() -> (tensor<16x16xcomplex<f32>>, tensor<16x16xcomplex<f32>>) {
  // CHECK: butterfly.dft : tensor<16x16xcomplex<f32>>
  %0 = butterfly.dft : tensor<16x16xcomplex<f32>>
  // CHECK: butterfly.dft inverse : tensor<16x16xcomplex<f32>>
  %1 = butterfly.dft inverse : tensor<16x16xcomplex<f32>>
  return %0, %1 : tensor<16x16xcomplex<f32>>, tensor<16x16xcomplex<f32>>
}

// The four-step F_256 = L (I_16 (x) F_16) T (F_16 (x) I_16), stage by stage.
// CHECK-LABEL: func @four_step
func.func @four_step(%x: tensor<8x256xcomplex<f32>>) -> tensor<8x256xcomplex<f32>> {
  %f = butterfly.dft : tensor<16x16xcomplex<f32>>
  // CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 16 : tensor<16x16xcomplex<f32>>, tensor<8x256xcomplex<f32>>
  %0 = butterfly.kron %f, %x stride = 16 : tensor<16x16xcomplex<f32>>, tensor<8x256xcomplex<f32>>
  // CHECK: butterfly.twiddle %{{.*}} rows = 16, cols = 16 : tensor<8x256xcomplex<f32>>
  %1 = butterfly.twiddle %0 rows = 16, cols = 16 : tensor<8x256xcomplex<f32>>
  %2 = butterfly.kron %f, %1 stride = 1 : tensor<16x16xcomplex<f32>>, tensor<8x256xcomplex<f32>>
  // CHECK: butterfly.permute %{{.*}} rows = 16, cols = 16 : tensor<8x256xcomplex<f32>>
  %3 = butterfly.permute %2 rows = 16, cols = 16 : tensor<8x256xcomplex<f32>>
  return %3 : tensor<8x256xcomplex<f32>>
}

// CHECK-LABEL: func @learned
func.func @learned(%x: tensor<2x64xcomplex<f32>>, %blocks: tensor<8x8x8xcomplex<f32>>)
    -> tensor<2x64xcomplex<f32>> {
  // CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 1 : tensor<8x8x8xcomplex<f32>>, tensor<2x64xcomplex<f32>>
  %0 = butterfly.kron %blocks, %x stride = 1 : tensor<8x8x8xcomplex<f32>>, tensor<2x64xcomplex<f32>>
  // CHECK: butterfly.twiddle %{{.*}} rows = 8, cols = 8 inverse
  %1 = butterfly.twiddle %0 rows = 8, cols = 8 inverse : tensor<2x64xcomplex<f32>>
  return %1 : tensor<2x64xcomplex<f32>>
}

// CHECK-LABEL: func @monarch
func.func @monarch(%x: tensor<8x4096xcomplex<f32>>) -> tensor<8x4096xcomplex<f32>> {
  // CHECK: butterfly.monarch %{{.*}} factors = [16, 16, 16] permuted : tensor<8x4096xcomplex<f32>>
  %0 = butterfly.monarch %x factors = [16, 16, 16] permuted : tensor<8x4096xcomplex<f32>>
  // CHECK: butterfly.monarch %{{.*}} factors = [16, 16, 16] inverse permuted : tensor<8x4096xcomplex<f32>>
  %1 = butterfly.monarch %0 factors = [16, 16, 16] inverse permuted : tensor<8x4096xcomplex<f32>>
  // CHECK: butterfly.monarch %{{.*}} factors = [64, 64] : tensor<8x4096xcomplex<f32>>
  %2 = butterfly.monarch %1 factors = [64, 64] : tensor<8x4096xcomplex<f32>>
  return %2 : tensor<8x4096xcomplex<f32>>
}

// CHECK-LABEL: func @real_trick
func.func @real_trick(%x: tensor<2x4x1000xf32>, %kf: tensor<4x513xcomplex<f32>>) -> tensor<2x4x1000xf32> {
  // CHECK: butterfly.pack_real %{{.*}} : tensor<2x4x1000xf32> -> tensor<2x4x512xcomplex<f32>>
  %z = butterfly.pack_real %x : tensor<2x4x1000xf32> -> tensor<2x4x512xcomplex<f32>>
  // CHECK: butterfly.conv_spectrum %{{.*}} : tensor<4x513xcomplex<f32>> -> tensor<4x2x512xcomplex<f32>>
  %c = butterfly.conv_spectrum %kf : tensor<4x513xcomplex<f32>> -> tensor<4x2x512xcomplex<f32>>
  // CHECK: butterfly.packed_conv_spectrum %{{.*}} factors = [32, 16] : tensor<4x512xcomplex<f32>> -> tensor<4x2x512xcomplex<f32>>
  %kz = tensor.empty() : tensor<4x512xcomplex<f32>>
  %c2 = butterfly.packed_conv_spectrum %kz factors = [32, 16] : tensor<4x512xcomplex<f32>> -> tensor<4x2x512xcomplex<f32>>
  %s = butterfly.monarch %z factors = [32, 16] permuted : tensor<2x4x512xcomplex<f32>>
  // CHECK: butterfly.hermitian_mul %{{.*}}, %{{.*}} factors = [32, 16] : tensor<2x4x512xcomplex<f32>>, tensor<4x2x512xcomplex<f32>>
  %p = butterfly.hermitian_mul %s, %c factors = [32, 16] : tensor<2x4x512xcomplex<f32>>, tensor<4x2x512xcomplex<f32>>
  // CHECK: butterfly.hermitian_mul %{{.*}}, %{{.*}} : tensor<2x4x512xcomplex<f32>>, tensor<4x2x512xcomplex<f32>>
  %q = butterfly.hermitian_mul %p, %c : tensor<2x4x512xcomplex<f32>>, tensor<4x2x512xcomplex<f32>>
  // CHECK: butterfly.real_spectrum %{{.*}} : tensor<2x4x512xcomplex<f32>> -> tensor<2x4x513xcomplex<f32>>
  %r = butterfly.real_spectrum %q : tensor<2x4x512xcomplex<f32>> -> tensor<2x4x513xcomplex<f32>>
  // CHECK: butterfly.real_spectrum %{{.*}} inverse : tensor<2x4x513xcomplex<f32>> -> tensor<2x4x512xcomplex<f32>>
  %i = butterfly.real_spectrum %r inverse : tensor<2x4x513xcomplex<f32>> -> tensor<2x4x512xcomplex<f32>>
  // CHECK: butterfly.unpack_real %{{.*}} : tensor<2x4x512xcomplex<f32>> -> tensor<2x4x1000xf32>
  %y = butterfly.unpack_real %i : tensor<2x4x512xcomplex<f32>> -> tensor<2x4x1000xf32>
  return %y : tensor<2x4x1000xf32>
}

// CHECK-LABEL: func @fused
func.func @fused(%x: tensor<2x4x64xf32>, %c: tensor<4x2x32xcomplex<f32>>) -> tensor<2x4x64xf32> {
  // CHECK: butterfly.fused conv ins(%{{.*}}, %{{.*}} : tensor<2x4x64xf32>, tensor<4x2x32xcomplex<f32>>) onchip_bytes = 1024 {
  // CHECK: ^bb0(%[[A:.*]]: tensor<2x4x64xf32>, %[[B:.*]]: tensor<4x2x32xcomplex<f32>>):
  // CHECK: butterfly.yield %{{.*}} : tensor<2x4x64xf32>
  // CHECK: } -> tensor<2x4x64xf32>
  %y = butterfly.fused conv ins(%x, %c : tensor<2x4x64xf32>, tensor<4x2x32xcomplex<f32>>) onchip_bytes = 1024 {
  ^bb0(%a: tensor<2x4x64xf32>, %b: tensor<4x2x32xcomplex<f32>>):
    %z = butterfly.pack_real %a : tensor<2x4x64xf32> -> tensor<2x4x32xcomplex<f32>>
    %p = butterfly.hermitian_mul %z, %b : tensor<2x4x32xcomplex<f32>>, tensor<4x2x32xcomplex<f32>>
    %r = butterfly.unpack_real %p : tensor<2x4x32xcomplex<f32>> -> tensor<2x4x64xf32>
    butterfly.yield %r : tensor<2x4x64xf32>
  } -> tensor<2x4x64xf32>
  return %y : tensor<2x4x64xf32>
}

// CHECK-LABEL: func @learned_layer
func.func @learned_layer(%x: tensor<8x1024xf32>, %w0: tensor<32x32x32xf32>, %w1: tensor<32x32x32xf32>,
                         %f: tensor<1x32x32x32xf32>) -> (tensor<8x1024xf32>, tensor<8x1024xf32>) {
  // CHECK: butterfly.monarch_linear %{{.*}}, [%{{.*}}, %{{.*}}] : tensor<8x1024xf32>, [tensor<32x32x32xf32>, tensor<32x32x32xf32>]
  %0 = butterfly.monarch_linear %x, [%w0, %w1] : tensor<8x1024xf32>, [tensor<32x32x32xf32>, tensor<32x32x32xf32>]
  // CHECK: butterfly.kron %{{.*}}, %{{.*}} stride = 32 : tensor<1x32x32x32xf32>, tensor<8x1024xf32>
  %1 = butterfly.kron %f, %x stride = 32 : tensor<1x32x32x32xf32>, tensor<8x1024xf32>
  return %0, %1 : tensor<8x1024xf32>, tensor<8x1024xf32>
}

// CHECK-LABEL: func @planned
func.func @planned(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: butterfly.fused conv ins(%{{.*}} : tensor<4xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_80", outer_factors = [16], factors = [16, 16, 16], threads = 256, batch_tile = 2> {
  %y = butterfly.fused conv ins(%x : tensor<4xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_80", outer_factors = [16], factors = [16, 16, 16], threads = 256, batch_tile = 2> {
  ^bb0(%a: tensor<4xf32>):
    butterfly.yield %a : tensor<4xf32>
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// The three-pass inner blocks' threads, where they differ from the outer
// blocks'.
// CHECK-LABEL: func @planned_inner_threads
func.func @planned_inner_threads(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16, 16, 4], factors = [16, 16, 8, 8], inner_threads = 512, threads = 256, batch_tile = 1, workspace = f16> {
  %y = butterfly.fused conv ins(%x : tensor<4xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16, 16, 4], factors = [16, 16, 8, 8], inner_threads = 512, threads = 256, batch_tile = 1, workspace = f16> {
  ^bb0(%a: tensor<4xf32>):
    butterfly.yield %a : tensor<4xf32>
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// The three passes in one kernel on clusters of 8 blocks.
// CHECK-LABEL: func @planned_three_pass_cluster
func.func @planned_three_pass_cluster(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16], factors = [16, 16, 2, 8], cluster = 8, threads = 256, batch_tile = 1, workspace = f16> {
  %y = butterfly.fused conv ins(%x : tensor<4xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16], factors = [16, 16, 2, 8], cluster = 8, threads = 256, batch_tile = 1, workspace = f16> {
  ^bb0(%a: tensor<4xf32>):
    butterfly.yield %a : tensor<4xf32>
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// The three-pass workspace's type, where it is not f32.
// CHECK-LABEL: func @planned_half_workspace
func.func @planned_half_workspace(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = f16> {
  %y = butterfly.fused conv ins(%x : tensor<4xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", outer_factors = [16], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = f16> {
  ^bb0(%a: tensor<4xf32>):
    butterfly.yield %a : tensor<4xf32>
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// A sharded three-pass plan: rank 1 of 4.
// CHECK-LABEL: func @planned_sharded
func.func @planned_sharded(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", ranks = 4, rank = 1, outer_factors = [16, 32], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = f16> {
  %y = butterfly.fused conv ins(%x : tensor<4xf32>) onchip_bytes = 0 plan = #butterfly.gpu_plan<three_pass, split, chip = "sm_90", ranks = 4, rank = 1, outer_factors = [16, 32], factors = [16, 16, 16], threads = 256, batch_tile = 1, workspace = f16> {
  ^bb0(%a: tensor<4xf32>):
    butterfly.yield %a : tensor<4xf32>
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// The all-to-all of a sharded convolution's workspace, and one in place.
// CHECK-LABEL: func @exchange
// CHECK-SAME: (%[[SEND:[^:]+]]: {{.*}}, %[[RECV:[^:]+]]:
// CHECK: butterfly.exchange %[[SEND]] to %[[RECV]] : memref<4x2x8x8192xf16>
// CHECK: butterfly.exchange %[[SEND]] to %[[SEND]] : memref<4x2x8x8192xf16>
func.func @exchange(%send: memref<4x2x8x8192xf16>, %recv: memref<4x2x8x8192xf16>) {
  butterfly.exchange %send to %recv : memref<4x2x8x8192xf16>
  butterfly.exchange %send to %send : memref<4x2x8x8192xf16>
  return
}
