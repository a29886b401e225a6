// RUN: fftconv-opt %s -fftconv-to-butterfly="chip=cpu" -fftconv-to-cpu="threads=1" | FileCheck %s --check-prefix=LLVM
// RUN: fftconv-opt %s -fftconv-to-butterfly="chip=cpu" -fftconv-to-cpu="threads=1" | mlir-runner -O2 -e main --entry-point-result=void \
// RUN:   --shared-libs=%mlir_runner_utils,%mlir_c_runner_utils,%mlir_async_runtime | FileCheck %s
// RUN: fftconv-opt %s -fftconv-to-butterfly="chip=cpu" -fftconv-to-cpu="vector-width=4" | mlir-runner -e main --entry-point-result=void \
// RUN:   --shared-libs=%mlir_runner_utils,%mlir_c_runner_utils | FileCheck %s

// The CPU's fast path end to end: Monarch DFTs as codelets
// (butterfly-to-vector), and with threads the rows as tasks of MLIR's async
// runtime. mlir-runner needs an -O level for threads: without one it runs
// no LLVM pipeline, and the async tasks' coroutines are never split.
// LLVM-LABEL: llvm.func @main
// LLVM: llvm.call @mlirAsyncRuntimeExecute
// LLVM-NOT: butterfly.
// LLVM-NOT: vector.

func.func private @printMemrefF32(memref<*xf32>)

// 512 sequences of 4096 (many tasks of rows): a causal convolution with
// the kernel [0, 1] delays each by one step; the largest deviation from
// the delayed input, under 1e-3, prints as 1.
func.func @main() {
  %init = tensor.empty() : tensor<8x64x4096xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(b, h, t) -> (b, h, t)>], iterator_types = ["parallel", "parallel", "parallel"]} outs(%init : tensor<8x64x4096xf32>) {
  ^bb0(%out: f32):
    %t = linalg.index 2 : index
    %h = linalg.index 1 : index
    %s = arith.addi %t, %h : index
    %c7 = arith.constant 7 : index
    %r = arith.remui %s, %c7 : index
    %i = arith.index_cast %r : index to i64
    %f = arith.sitofp %i : i64 to f32
    linalg.yield %f : f32
  } -> tensor<8x64x4096xf32>
  %kinit = tensor.empty() : tensor<64x2xf32>
  %k = linalg.generic {indexing_maps = [affine_map<(h, t) -> (h, t)>], iterator_types = ["parallel", "parallel"]} outs(%kinit : tensor<64x2xf32>) {
  ^bb0(%out: f32):
    %t = linalg.index 1 : index
    %i = arith.index_cast %t : index to i64
    %f = arith.sitofp %i : i64 to f32
    linalg.yield %f : f32
  } -> tensor<64x2xf32>
  %y = fftconv.conv causal %u, %k : (tensor<8x64x4096xf32>, tensor<64x2xf32>) -> tensor<8x64x4096xf32>
  %zero = arith.constant 0.0 : f32
  %acc0 = tensor.empty() : tensor<f32>
  %acc = linalg.fill ins(%zero : f32) outs(%acc0 : tensor<f32>) -> tensor<f32>
  %err = linalg.generic {indexing_maps = [affine_map<(b, h, t) -> (b, h, t)>, affine_map<(b, h, t) -> ()>], iterator_types = ["reduction", "reduction", "reduction"]} ins(%y : tensor<8x64x4096xf32>) outs(%acc : tensor<f32>) {
  ^bb0(%value: f32, %worst: f32):
    %t = linalg.index 2 : index
    %h = linalg.index 1 : index
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c7 = arith.constant 7 : index
    %first = arith.cmpi eq, %t, %c0 : index
    %prev = arith.subi %t, %c1 : index
    %s = arith.addi %prev, %h : index
    %r = arith.remui %s, %c7 : index
    %i = arith.index_cast %r : index to i64
    %f = arith.sitofp %i : i64 to f32
    %expected = arith.select %first, %zero, %f : f32
    %d = arith.subf %value, %expected : f32
    %a = math.absf %d : f32
    %m = arith.maximumf %a, %worst : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %bound = arith.constant 1.0e-3 : f32
  %worst = tensor.extract %err[] : tensor<f32>
  %ok = arith.cmpf olt, %worst, %bound : f32
  %okf = arith.uitofp %ok : i1 to f32
  %out = tensor.from_elements %okf : tensor<1xf32>
  %m = bufferization.to_buffer %out : tensor<1xf32> to memref<1xf32>
  %p = memref.cast %m : memref<1xf32> to memref<*xf32>
  // CHECK: [1]
  call @printMemrefF32(%p) : (memref<*xf32>) -> ()
  return
}
