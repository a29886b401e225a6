// RUN: fftconv-opt %s -fftconv-to-butterfly -butterfly-plan-gpu-kernels="ranks=2 rank=1" -butterfly-to-gpu | FileCheck %s

// Rank 1 of 2 of a causal convolution of 65536 points (16 rows of 4096):
// the host function takes and returns the rank's shards (2048 columns of
// the 8 rows of each input), its workspaces hold 2 chunks of N / 4 values
// a (pair, channel), one per rank, and the transposes between the passes
// are exchanges. Two pairs (B = 4) are too few chunks to pipeline, so the
// channels are split too: 4 chunks (pair, channel), software-pipelined
// through four workspace sets (memory does not bound them): K's exchange
// is issued before the first chunk's outer pass, each chunk's before the
// next chunk's, the outer passes run two chunks ahead of the inner ones,
// and an inner kernel a chunk of channels reads its channels of K. The
// inner kernel stores its rows to an operand of its own (the host passes
// the rows buffer twice), and each launch lists the operands its kernel
// only writes: each exchange's send buffer (a runtime may bind it to the
// peers' receive buffers).

// CHECK-LABEL: gpu.func @long_conv0_spectrum_outer
// CHECK-SAME: (%{{.*}}: memref<2x16384xf32> {llvm.noalias}, %{{.*}}: memref<2x1x2x32768xf32> {llvm.noalias}) kernel
// The rank's columns start at 2048: the twiddles take the global column.
// CHECK: arith.constant 2048 : i32
// K's f32 rows go to the peers two values (16 bytes) a thread, adjacent
// threads' adjacent: whole 32-byte sectors a warp's store.
// CHECK: vector.store {{.*}} : memref<2x1x2x32768xf32>, vector<4xf32>
// CHECK-LABEL: gpu.func @long_conv0_inner_c0
// CHECK-SAME: (%{{.*}}: memref<2x1x1x32768xf16>, %{{.*}}: memref<2x1x1x32768xf16>, %{{.*}}: memref<2x1x2x32768xf32> {llvm.noalias}) kernel

// CHECK-LABEL: func.func @long
// CHECK-SAME: (%[[U:.*]]: memref<4x2x16384xf16> {fftconv.role = "input"}, %[[K:.*]]: memref<2x16384xf32> {fftconv.role = "input"}, %[[Y:.*]]: memref<4x2x16384xf16> {fftconv.role = "output"},
// CHECK-SAME: %[[KS:[^:]*]]: memref<2x1x2x32768xf32> {fftconv.role = "workspace"}, %[[A0:[^:]*]]: memref<2x1x1x32768xf16> {fftconv.role = "workspace"},
// CHECK-SAME: %[[KR:[^:]*]]: memref<2x1x2x32768xf32> {fftconv.role = "workspace"}, %[[B0:[^:]*]]: memref<2x1x1x32768xf16> {fftconv.role = "workspace"},
// CHECK-SAME: %[[A1:[^:]*]]: memref<2x1x1x32768xf16> {fftconv.role = "workspace"}, %[[B1:[^:]*]]: memref<2x1x1x32768xf16> {fftconv.role = "workspace"},
// CHECK-SAME: %[[A2:[^:]*]]: memref<2x1x1x32768xf16> {fftconv.role = "workspace"}, %[[B2:[^:]*]]: memref<2x1x1x32768xf16> {fftconv.role = "workspace"},
// CHECK-SAME: %[[A3:[^:]*]]: memref<2x1x1x32768xf16> {fftconv.role = "workspace"}, %[[B3:[^:]*]]: memref<2x1x1x32768xf16> {fftconv.role = "workspace"})
// CHECK-SAME: attributes {fftconv.convolutions = {{.*}}, fftconv.shard = array<i64: 1, 2, 4096>}
// CHECK: gpu.launch_func @long_kernels::@long_conv0_spectrum_outer {{.*}} args(%[[K]] : {{.*}}, %[[KS]] : {{.*}}) {fftconv.write_only_operands = array<i64: 1>}
// CHECK-NEXT: butterfly.exchange %[[KS]] to %[[KR]] : memref<2x1x2x32768xf32>
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_forward_0 {{.*}} args(%[[U]] : {{.*}}, %[[A0]] : {{.*}}) {fftconv.write_only_operands = array<i64: 1>}
// CHECK-NEXT: butterfly.exchange %[[A0]] to %[[B0]]
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_forward_1 {{.*}} args(%[[U]] : {{.*}}, %[[A1]] : {{.*}})
// CHECK-NEXT: butterfly.exchange %[[A1]] to %[[B1]]
// CHECK: gpu.launch_func @long_kernels::@long_conv0_spectrum_inner {{.*}} args(%[[KR]] : {{.*}}){{$}}
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_forward_2 {{.*}} args(%[[U]] : {{.*}}, %[[A2]] : {{.*}})
// CHECK-NEXT: butterfly.exchange %[[A2]] to %[[B2]]
// CHECK: gpu.launch_func @long_kernels::@long_conv0_inner_c0 {{.*}} args(%[[B0]] : {{.*}}, %[[B0]] : {{.*}}, %[[KR]] : {{.*}}) {fftconv.write_only_operands = array<i64: 1>}
// CHECK-NEXT: butterfly.exchange %[[B0]] to %[[A0]]
// The fourth chunk takes a set of its own: its outer pass is issued
// before the first chunk's outer inverse.
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_forward_3 {{.*}} args(%[[U]] : {{.*}}, %[[A3]] : {{.*}})
// CHECK-NEXT: butterfly.exchange %[[A3]] to %[[B3]]
// CHECK: gpu.launch_func @long_kernels::@long_conv0_inner_c1 {{.*}} args(%[[B1]] : {{.*}}, %[[B1]] : {{.*}}, %[[KR]] : {{.*}}) {fftconv.write_only_operands = array<i64: 1>}
// CHECK-NEXT: butterfly.exchange %[[B1]] to %[[A1]]
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_inverse_0 {{.*}} args(%[[A0]] : {{.*}}, %[[U]] : {{.*}}, %[[Y]] : {{.*}}){{$}}
// CHECK: gpu.launch_func @long_kernels::@long_conv0_inner_c0 {{.*}} args(%[[B2]] : {{.*}}, %[[B2]] : {{.*}}, %[[KR]] : {{.*}}) {fftconv.write_only_operands = array<i64: 1>}
// CHECK-NEXT: butterfly.exchange %[[B2]] to %[[A2]]
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_inverse_1 {{.*}} args(%[[A1]] : {{.*}}, %[[U]] : {{.*}}, %[[Y]] : {{.*}})
// CHECK: gpu.launch_func @long_kernels::@long_conv0_inner_c1 {{.*}} args(%[[B3]] : {{.*}}, %[[B3]] : {{.*}}, %[[KR]] : {{.*}}) {fftconv.write_only_operands = array<i64: 1>}
// CHECK-NEXT: butterfly.exchange %[[B3]] to %[[A3]]
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_inverse_2 {{.*}} args(%[[A2]] : {{.*}}, %[[U]] : {{.*}}, %[[Y]] : {{.*}})
// CHECK: gpu.launch_func @long_kernels::@long_conv0_outer_inverse_3 {{.*}} args(%[[A3]] : {{.*}}, %[[U]] : {{.*}}, %[[Y]] : {{.*}})
func.func @long(%u: tensor<4x2x32768xf16>, %k: tensor<2x32768xf32>) -> tensor<4x2x32768xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<4x2x32768xf16>, tensor<2x32768xf32>) -> tensor<4x2x32768xf16>
  return %y : tensor<4x2x32768xf16>
}

// The skip term's gradient, dD, is lag 0 of the kernel gradient's inverse:
// rank 0's alone. Every rank sends its first lag of each channel to every
// rank (an all-gather through the exchange) and keeps rank 0's. Alone (no
// dk), the lags are one row of 4096 (this rank's 2048 columns of it).
// CHECK-LABEL: gpu.func @skip_gradient_kernel_gradient0_skip_send
// CHECK: memref.load %{{.*}}[%{{.*}}, %{{.*}}] : memref<3x2048xf32>
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}] : memref<2x3xf32>
// CHECK-LABEL: gpu.func @skip_gradient_kernel_gradient0_skip_gradient
// CHECK: memref.load %{{.*}}[%{{.*}}, %{{.*}}] : memref<2x3xf32>
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<3xf32>
// CHECK-LABEL: func.func @skip_gradient
// CHECK: gpu.launch_func @skip_gradient_kernels::@skip_gradient_kernel_gradient0_outer_inverse {{.*}}args({{.*}}, %[[LAGS:[a-z0-9]+]] : memref<3x2048xf32>)
// CHECK-NOT: _lags
// CHECK: gpu.launch_func @skip_gradient_kernels::@skip_gradient_kernel_gradient0_skip_send {{.*}}args(%[[LAGS]] : memref<3x2048xf32>, %[[SEND:[a-z0-9]+]] : memref<2x3xf32>)
// CHECK-NEXT: butterfly.exchange %[[SEND]] to %[[RECV:[a-z0-9]+]] : memref<2x3xf32>
// CHECK: gpu.launch_func @skip_gradient_kernels::@skip_gradient_kernel_gradient0_skip_gradient {{.*}}args(%[[RECV]] : memref<2x3xf32>, %{{.*}} : memref<3xf32>)
func.func @skip_gradient(%u: tensor<2x3x32768xf16>, %k: tensor<3x32768xf32>, %d: tensor<3xf32>, %dy: tensor<2x3x32768xf16>) -> tensor<3xf32> {
  %dd = fftconv.conv_grad causal %u, %k skip %d grad %dy wrt [skip] : (tensor<2x3x32768xf16>, tensor<3x32768xf32>, tensor<3xf32>, tensor<2x3x32768xf16>) -> tensor<3xf32>
  return %dd : tensor<3xf32>
}

// A frequency-sparse convolution: K's inner kernel zeroes the frequencies
// outside the band, k1 + N1 k2 for the block's row k1 among all N1 = 8:
// rank 1 of 2 owns rows 4 to 7.
// CHECK-LABEL: gpu.func @band_conv0_spectrum_inner
// CHECK: %[[ROW:.*]] = arith.index_castui %block_id_x : index to i32
// CHECK: %[[GLOBAL:.*]] = arith.addi %[[ROW]], %c4_i32{{[_0-9]*}} : i32
// CHECK: arith.cmpi ult, %{{.*}}, %c4096_i32
// f32 data, an f32 workspace: the inner kernel's rows back and the outer
// forward kernel's columns are stored two values a thread too.
// CHECK-LABEL: gpu.func @band_conv0_inner
// CHECK: vector.store {{.*}} : memref<2x1x1x16384xf32>, vector<4xf32>
// CHECK-LABEL: gpu.func @band_conv0_outer_forward
// CHECK: vector.store {{.*}} : memref<2x1x1x16384xf32>, vector<4xf32>
func.func @band(%u: tensor<2x1x32768xf32>, %k: tensor<1x32768xf32>) -> tensor<2x1x32768xf32> {
  %kf = fftconv.rfft %k n = 32768 : tensor<1x32768xf32> -> tensor<1x16385xcomplex<f32>>
  %uf = fftconv.rfft %u n = 32768 : tensor<2x1x32768xf32> -> tensor<2x1x16385xcomplex<f32>>
  %p = fftconv.channel_mul %uf, %kf band = 4096 : tensor<2x1x16385xcomplex<f32>>, tensor<1x16385xcomplex<f32>>
  %y = fftconv.irfft %p n = 32768 : tensor<2x1x16385xcomplex<f32>> -> tensor<2x1x32768xf32>
  return %y : tensor<2x1x32768xf32>
}
