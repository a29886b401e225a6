//===- Passes.td - fftconv transformation passes ----------*- tablegen -*-===//

#ifndef FFTCONV_DIALECT_FFTCONV_TRANSFORMS_PASSES_TD
#define FFTCONV_DIALECT_FFTCONV_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FFTConvConvToFFT : Pass<"fftconv-conv-to-fft"> {
  let summary = "Expand fftconv.conv into FFTs, a spectral product and an inverse";
  let description = [{
    Rewrites each `fftconv.conv` into FFT form:

    - the FFT size N is a power of two: causal `N >= L + K - 1` (so no
      wrap-around reaches the L outputs kept); circular `N = L` when L is a
      power of two, otherwise `N >= L + K - 1` and the tail `[L, L+K-1)` of
      the linear convolution is added back onto its head, which is exact;
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
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::complex::ComplexDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"
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
    factors.
  }];
  let options = [
    Option<"order", "order", "std::string", /*default=*/"\"auto\"",
           "order p of the decomposition: auto, 1, 2, 3 or 4">,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90\"",
           "target chip whose defaults the cost model uses: sm_80 or sm_90">,
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
