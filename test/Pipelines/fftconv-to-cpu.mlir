// RUN: fftconv-opt %s -fftconv-to-cpu | FileCheck %s --check-prefix=LLVM
// RUN: fftconv-opt %s -fftconv-to-cpu=pooled-allocator=1 | FileCheck %s --check-prefix=POOLED
// RUN: fftconv-opt %s -fftconv-to-cpu | mlir-runner -e main --entry-point-result=void \
// RUN:   --shared-libs=%mlir_runner_utils,%mlir_c_runner_utils | FileCheck %s

// The pipeline leaves only the LLVM dialect.
// LLVM-LABEL: llvm.func @main
// LLVM-NOT: fftconv.
// LLVM-NOT: butterfly.
// LLVM-NOT: linalg.
// LLVM-NOT: memref.

// With pooled-allocator, buffers come from the host's generic allocation
// functions (fftconv's ExecutionEngine binds them to fftconvCPUAllocate).
// POOLED-LABEL: llvm.func @main
// POOLED: llvm.call @_mlir_memref_to_llvm_alloc
// POOLED: llvm.call @_mlir_memref_to_llvm_free
// POOLED-NOT: llvm.call @malloc

func.func private @printMemrefF32(memref<*xf32>)

// Cases whose results follow from the definitions alone (the random-input
// checks against numpy are in test/Integration).
func.func @main() {
  // A circular convolution with the kernel [0, 1] rotates each sequence by
  // one step; a causal one shifts it and lets a zero in.
  %u = arith.constant dense<[[[1.0, 2.0, 3.0, 4.0]]]> : tensor<1x1x4xf32>
  %k = arith.constant dense<[[0.0, 1.0]]> : tensor<1x2xf32>
  %circ = fftconv.conv circular %u, %k : (tensor<1x1x4xf32>, tensor<1x2xf32>) -> tensor<1x1x4xf32>
  %caus = fftconv.conv causal %u, %k : (tensor<1x1x4xf32>, tensor<1x2xf32>) -> tensor<1x1x4xf32>
  %m0 = bufferization.to_buffer %circ : tensor<1x1x4xf32> to memref<1x1x4xf32>
  %p0 = memref.cast %m0 : memref<1x1x4xf32> to memref<*xf32>
  // CHECK: {{\[}}[4, 1, 2, 3]]]
  call @printMemrefF32(%p0) : (memref<*xf32>) -> ()
  %m1 = bufferization.to_buffer %caus : tensor<1x1x4xf32> to memref<1x1x4xf32>
  %p1 = memref.cast %m1 : memref<1x1x4xf32> to memref<*xf32>
  // CHECK: {{\[}}[0, 1, 2, 3]]]
  call @printMemrefF32(%p1) : (memref<*xf32>) -> ()

  // A flat spectrum is a unit impulse; shifting its phase by pi per bin
  // moves the impulse to the middle.
  %flat = arith.constant dense<[[(1.0, 0.0), (1.0, 0.0), (1.0, 0.0), (1.0, 0.0), (1.0, 0.0)],
                                [(1.0, 0.0), (-1.0, 0.0), (1.0, 0.0), (-1.0, 0.0), (1.0, 0.0)]]> : tensor<2x5xcomplex<f32>>
  %s2 = fftconv.irfft %flat n = 8 : tensor<2x5xcomplex<f32>> -> tensor<2x8xf32>
  %m2 = bufferization.to_buffer %s2 : tensor<2x8xf32> to memref<2x8xf32>
  %p2 = memref.cast %m2 : memref<2x8xf32> to memref<*xf32>
  // Zeros come back within 1e-10 (printed as 0 or as x.ye-1N).
  // CHECK: {{\[}}[1, {{-?(0|[0-9.]+e-1[0-9])}}, {{-?(0|[0-9.]+e-1[0-9])}}, {{-?(0|[0-9.]+e-1[0-9])}}, {{-?(0|[0-9.]+e-1[0-9])}}, {{-?(0|[0-9.]+e-1[0-9])}}, {{-?(0|[0-9.]+e-1[0-9])}}, {{-?(0|[0-9.]+e-1[0-9])}}],
  // CHECK-NEXT: [{{-?(0|[0-9.]+e-1[0-9])}}, {{-?(0|[0-9.]+e-1[0-9])}}, {{-?(0|[0-9.]+e-1[0-9])}}, {{-?(0|[0-9.]+e-1[0-9])}}, 1, {{-?(0|[0-9.]+e-1[0-9])}}, {{-?(0|[0-9.]+e-1[0-9])}}, {{-?(0|[0-9.]+e-1[0-9])}}]]
  call @printMemrefF32(%p2) : (memref<*xf32>) -> ()
  return
}
