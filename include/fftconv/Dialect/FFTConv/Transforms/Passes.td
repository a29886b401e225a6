//===- Passes.td - fftconv transformation passes ----------*- tablegen -*-===//

#ifndef FFTCONV_DIALECT_FFTCONV_TRANSFORMS_PASSES_TD
#define FFTCONV_DIALECT_FFTCONV_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FFTConvFlattenHeads : Pass<"fftconv-flatten-heads"> {
  let summary = "Rewrite multi-head convolutions into the B x H x L form";
  let description = [{
    A multi-head `fftconv.conv` or `fftconv.conv_grad` (sequences
    `B x G x H x Z x L`, Hyena's `b ho v z l`) convolves each of its
    `B * G * Z` sequences of channel h with `k[h]`. This pass rewrites it
    into the same op on rows `[B * G * Z, H, L]`: with one block (Z = 1) a
    `tensor.collapse_shape` and `tensor.expand_shape` (free on every
    target), otherwise a `linalg.transpose` that moves the channel axis next
    to the sequence axis first. The gradients of k, the reverse kernel and
    D are sums over every row already.

    ```mlir
    %y = fftconv.conv causal %u, %k : (tensor<2x3x4x1x64xf32>, tensor<4x64xf32>) -> tensor<2x3x4x1x64xf32>
    // becomes
    %rows = tensor.collapse_shape %u [[0, 1], [2, 3], [4]] : tensor<2x3x4x1x64xf32> into tensor<6x4x64xf32>
    %z = fftconv.conv causal %rows, %k : (tensor<6x4x64xf32>, tensor<4x64xf32>) -> tensor<6x4x64xf32>
    %y = tensor.expand_shape %z [[0, 1], [2, 3], [4]] output_shape [2, 3, 4, 1, 64] : tensor<6x4x64xf32> into tensor<2x3x4x1x64xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"
  ];
}

def FFTConvParallelizeRows : Pass<"fftconv-parallelize-rows"> {
  let summary = "Tile the CPU lowering's elementwise linalg ops into tasks of rows";
  let description = [{
    Every all-parallel `linalg` op (the elementwise steps, gathers and
    transposes fftconv-to-linalg and butterfly-to-linalg produce) of more
    than `min-points-per-task` points is tiled along its leading loop
    with extent above 1 into an `scf.forall` of tasks of at least that
    many points each (the rows of B x H x L sequences are independent).
    fftconv-to-cpu{threads} runs them on the async runtime's workers;
    smaller ops are left alone, as their task's dispatch would cost more
    than it saves.

    ```mlir
    %y = linalg.generic {...} ins(%x : tensor<16x65536xf32>) ...
    // becomes (min-points-per-task = 16384)
    %y = scf.forall (%i) = (0) to (16) step (1) shared_outs(%o = ...) {
      ... linalg.generic on tensor<1x65536xf32> slices ...
    }
    ```
  }];
  let options = [
    Option<"minPointsPerTask", "min-points-per-task", "int64_t",
           /*default=*/"::mlir::butterfly::kCPUMinPointsPerTask",
           "iteration points a task has at least (at least 1; default 65536)">
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def FFTConvConvToFFT : Pass<"fftconv-conv-to-fft"> {
  let summary = "Expand fftconv.conv into FFTs, a spectral product and an inverse";
  let description = [{
    Rewrites each `fftconv.conv` into FFT form:

    - the FFT size N is a power of two: causal `N >= L + K - 1` (so no
      wrap-around reaches the L outputs kept); circular `N = L` when L is a
      power of two (and at least `min-size`), otherwise `N >= 2L` with the
      taps `fftconv.circulate`d (a second copy of k at N - L brings the
      taps that wrap around) and the first L outputs kept, which is exact;
    - `k_f = rfft(k, N)` once per channel (it folds when `k` is constant);
    - the pregate product and the cast to f32 before the forward FFT,
      `fftconv.channel_mul` between the transforms, and the crop to L, the
      skip term `D * v`, the postgate and the rounding to the input's type
      after the inverse.

    ```mlir
    %y = fftconv.conv causal %u, %k : (tensor<2x4x1000xf32>, tensor<4x1000xf32>) -> tensor<2x4x1000xf32>
    // becomes, with N = 2048:
    %kf = fftconv.rfft %k n = 2048 : tensor<4x1000xf32> -> tensor<4x1025xcomplex<f32>>
    %uf = fftconv.rfft %u n = 2048 : tensor<2x4x1000xf32> -> tensor<2x4x1025xcomplex<f32>>
    %p = fftconv.channel_mul %uf, %kf : tensor<2x4x1025xcomplex<f32>>, tensor<4x1025xcomplex<f32>>
    %z = fftconv.irfft %p n = 2048 : tensor<2x4x1025xcomplex<f32>> -> tensor<2x4x2048xf32>
    %y = tensor.extract_slice %z[0, 0, 0] [2, 4, 1000] [1, 1, 1] : ...
    ```
  }];
  let options = [
    Option<"minSize", "min-size", "int64_t", /*default=*/"0",
           "the smallest FFT size of a linear convolution (causal, or "
           "circular in the linear form): zero padding to it is exact; the "
           "GPU pipeline asks for the kernels' smallest (0: none)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::complex::ComplexDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"
  ];
}

def FFTConvConvGradToFFT : Pass<"fftconv-conv-grad-to-fft"> {
  let summary = "Expand fftconv.conv_grad into FFTs, spectral products and inverses";
  let description = [{
    Rewrites each `fftconv.conv_grad` into FFT form with the FFT size N of
    the forward convolution (`fftconv-conv-to-fft`), computing only the
    gradients asked for. With `v = pregate * u` and `g = postgate * dy`
    (f32), and `G_f = rfft(g, N)`:

    - `dv = irfft(channel_mul(G_f, rfft(k, N)) conjugate)[:L] + D * g`
      (the correlation with k: the adjoint of the convolution);
      `du = pregate * dv`, `d pregate = u * dv`;
    - `dk = irfft(cross_spectrum(rfft(v, N), G_f))[:, :K]`: one inverse
      per channel after the batch reduction in the spectral domain;
    - `dD = sum_{b,t} g * v` (a linalg reduction);
    - `d postgate = dy * z` with `z = k * v + D * v` recomputed as an f32
      `fftconv.conv` (that `fftconv-conv-to-fft` expands in turn): the
      forward keeps no activations beyond its inputs.

    Circular convolutions whose N is not L (N >= 2L) correlate with the
    forward's circulated taps (`fftconv.circulate`), and dk is their
    adjoint of the lags, `lags[j] + lags[j + N - L]`: exact.

    ```mlir
    %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel]
        : (tensor<2x4x1000xf32>, tensor<4x1000xf32>, tensor<2x4x1000xf32>)
        -> (tensor<2x4x1000xf32>, tensor<4x1000xf32>)
    // becomes, with N = 2048:
    %gf = fftconv.rfft %dy n = 2048 : tensor<2x4x1000xf32> -> tensor<2x4x1025xcomplex<f32>>
    %kf = fftconv.rfft %k n = 2048 : tensor<4x1000xf32> -> tensor<4x1025xcomplex<f32>>
    %p = fftconv.channel_mul %gf, %kf conjugate : ...
    %dv = fftconv.irfft %p n = 2048 : ... -> tensor<2x4x2048xf32>
    %du = tensor.extract_slice %dv[0, 0, 0] [2, 4, 1000] [1, 1, 1] : ...
    %vf = fftconv.rfft %u n = 2048 : ...
    %s = fftconv.cross_spectrum %vf, %gf : tensor<2x4x1025xcomplex<f32>> -> tensor<4x1025xcomplex<f32>>
    %r = fftconv.irfft %s n = 2048 : tensor<4x1025xcomplex<f32>> -> tensor<4x2048xf32>
    %dk = tensor.extract_slice %r[0, 0] [4, 1000] [1, 1] : ...
    ```
  }];
  let options = [
    Option<"minSize", "min-size", "int64_t", /*default=*/"0",
           "the smallest FFT size of a linear convolution (causal, or "
           "circular in the linear form): zero padding to it is exact; the "
           "GPU pipeline asks for the kernels' smallest (0: none)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::complex::ComplexDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"
  ];
}

def FFTConvDeriveBackward : Pass<"fftconv-derive-backward", "::mlir::ModuleOp"> {
  let summary = "Derive the reverse-mode gradient function of each forward function";
  let description = [{
    For every function `@f(x_1, ..., x_n) -> (y_1, ..., y_m)` of the module
    (except those it derived), adds `@f_backward(x_1, ..., x_n, dy_1, ...,
    dy_m) -> (dx_1, ..., dx_n)`: the gradients of a loss with respect to
    every argument, given its gradients `dy_i` with respect to every result
    (an argument that no result depends on gets zeros). The forward body
    may hold `fftconv.conv` ops (independent or chained), with
    `fftconv.squash` and `fftconv.smooth` on their operands (typically the
    kernel: FlashButterfly's regularizers) and constants (which get no
    gradient); anything else is refused with
    a diagnostic at the op. Each convolution becomes one
    `fftconv.conv_grad` that asks only for the gradients of operands that
    depend on an argument; Squash's subgradient (`dk * (|k| > lambda)`)
    and Smooth's transpose (Smooth itself: zero-padded average pooling is
    symmetric) carry them back through the regularizers. Forward values
    the gradients need are recomputed from the arguments.

    With `arguments` (indices), `@f_backward` returns the gradients of those
    arguments only, in that order, and the others are treated as constants:
    no gradient is computed that nobody asked for.

    ```mlir
    func.func @f(%u: tensor<2x4x64xf32>, %k: tensor<4x64xf32>) -> tensor<2x4x64xf32> {
      %y = fftconv.conv causal %u, %k : (tensor<2x4x64xf32>, tensor<4x64xf32>) -> tensor<2x4x64xf32>
      return %y : tensor<2x4x64xf32>
    }
    // gains
    func.func @f_backward(%u: tensor<2x4x64xf32>, %k: tensor<4x64xf32>, %dy: tensor<2x4x64xf32>)
        -> (tensor<2x4x64xf32>, tensor<4x64xf32>) {
      %du, %dk = fftconv.conv_grad causal %u, %k grad %dy wrt [input, kernel] : ...
      return %du, %dk : tensor<2x4x64xf32>, tensor<4x64xf32>
    }
    ```
  }];
  let options = [
    ListOption<"arguments", "arguments", "int64_t",
               "indices of the arguments whose gradients @f_backward returns "
               "(default: all)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def FFTConvMonarchDecompose : Pass<"fftconv-monarch-decompose"> {
  let summary = "Rewrite FFTs into order-p butterfly (Monarch) form";
  let description = [{
    Rewrites FFT ops into butterfly ops whose factors suit tensor cores:

    - the FFT convolution `irfft(channel_mul(rfft(v, N), k_f), N)` (N even)
      into the real-input trick at half size M = N/2: `pack_real`, a forward
      `monarch ... permuted`, `hermitian_mul` with `conv_spectrum(k_f)` put
      in the same Monarch order, an inverse `monarch ... permuted`,
      `unpack_real`. Nothing is permuted between the transforms;
    - `fft`/`ifft` into `monarch` (natural order);
    - `rfft`/`irfft` (even n) into the real-input trick around a half-size
      `monarch`.

    `order` is `auto` (the cost model picks the order and the factors for
    the target) or 1 to 4. Sizes whose data do not fit on chip take the
    three-pass form: the leading factors become explicit outer stages
    (`kron`, `twiddle`) through memory around a `monarch` of the inner
    factors. `chip=cpu` targets `butterfly-to-vector`'s codelets instead:
    no outer stages, the fewest factors up to 32 (any order under `auto`).
  }];
  let options = [
    Option<"order", "order", "std::string", /*default=*/"\"auto\"",
           "order p of the decomposition: auto, 1, 2, 3 or 4">,
    Option<"chip", "chip", "std::string",
           /*default=*/"::mlir::butterfly::kDefaultChip.str()",
           "target chip whose defaults the cost model uses: sm_80, sm_90 or cpu">,
    Option<"mmaM", "mma-m", "int64_t", /*default=*/"16", "MMA tile m">,
    Option<"mmaN", "mma-n", "int64_t", /*default=*/"8", "MMA tile n">,
    Option<"mmaK", "mma-k", "int64_t", /*default=*/"16", "MMA tile k">,
    Option<"sharedMemoryPerBlock", "smem-per-block", "int64_t",
           /*default=*/"0",
           "shared memory per thread block in bytes (0: the chip's)">,
    Option<"registersPerThread", "regs-per-thread", "int64_t",
           /*default=*/"255", "registers per thread">
  ];
  let dependentDialects = [
    "::mlir::butterfly::ButterflyDialect", "::mlir::tensor::TensorDialect"
  ];
}

#endif // FFTCONV_DIALECT_FFTCONV_TRANSFORMS_PASSES_TD
