//===- ButterflyOps.td - butterfly dialect operations -----*- tablegen -*-===//
//
// The Monarch / Kronecker algebra of the FFT, and nothing more.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYOPS_TD
#define FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

include "fftconv/Dialect/Butterfly/IR/ButterflyAttrs.td"

class Butterfly_Op<string mnemonic, list<Trait> traits = []>
    : Op<Butterfly_Dialect, mnemonic, traits>;

def Butterfly_ComplexTensor : RankedTensorOf<[Complex<F32>]>;
def Butterfly_LinearTensor : RankedTensorOf<[F32, Complex<F32>]>;

//===----------------------------------------------------------------------===//
// DFTOp
//===----------------------------------------------------------------------===//

def Butterfly_DFTOp : Butterfly_Op<"dft", [Pure]> {
  let summary = "dense DFT factor F_m or its inverse";
  let description = [{
    The m x m matrix `F[k][j] = exp(-2*pi*i*j*k/m)`; with `inverse`, the
    exact inverse `F^-1[k][j] = 1/m * exp(+2*pi*i*j*k/m)`, so that a product
    of inverse factors carries the `1/N` of the inverse DFT by itself.

    Example:

    ```mlir
    %f = butterfly.dft : tensor<16x16xcomplex<f32>>
    %g = butterfly.dft inverse : tensor<16x16xcomplex<f32>>
    ```
  }];
  let arguments = (ins UnitAttr:$inverse);
  let results = (outs Butterfly_ComplexTensor:$result);
  let assemblyFormat = "(`inverse` $inverse^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getSize() { return getResult().getType().getDimSize(0); }
  }];
}

//===----------------------------------------------------------------------===//
// KronOp
//===----------------------------------------------------------------------===//

def Butterfly_KronOp : Butterfly_Op<"kron",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "apply a factor along one digit: (I_a (x) F_m (x) I_c) x";
  let description = [{
    With the last axis of `input` viewed as `[a, m, c]` (`c = stride`,
    `m` the factor's size):

    `y[..., i, k, j] = sum_{n<m} F[k][n] * x[..., i, n, j]`

    `stride = 1` is the block-diagonal form `I_a (x) F_m`, and `a = 1` the
    strided form `F_m (x) I_c`. The factor is `tensor<m x m>` (one block,
    shared: a fixed DFT factor or a learned one), `tensor<a x m x m>`
    (block `i` uses `F[i]`: a block-diagonal factor), or
    `tensor<a x c x m x m>` (position `(i, j)` uses `F[i][j]`: the general
    Monarch factor, N/m independent blocks, as learned butterflies use).
    Values are complex<f32>, or f32 for real learned factors.

    Known zeros (partial convolutions): with `input_extent = r` the input is
    known to be zero for `n >= r` and only the first r columns of F take
    part; with `output_extent = s` only the outputs `k < s` are computed and
    the others are zero. A kernel skips those matrix-product blocks.
    Canonicalization derives both from a `pack_real` producer and an
    `unpack_real` user when `a = 1`.

    Known zeros (frequency-sparse convolutions): with `input_band = t` the
    input is known to be zero unless `n < t` or `n >= m - t`; with
    `output_band = t` only the outputs `k < t` or `k >= m - t` are computed
    and the others are zero.

    Example:

    ```mlir
    %f = butterfly.dft : tensor<16x16xcomplex<f32>>
    %y = butterfly.kron %f, %x stride = 16
        : tensor<16x16xcomplex<f32>>, tensor<8x256xcomplex<f32>>
    ```
  }];
  let arguments = (ins Butterfly_LinearTensor:$factor,
                       Butterfly_LinearTensor:$input,
                       ConfinedAttr<I64Attr, [IntPositive]>:$stride,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$input_extent,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$output_extent,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$input_band,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$output_band);
  let results = (outs Butterfly_LinearTensor:$result);
  let assemblyFormat = [{
    $factor `,` $input `stride` `=` $stride
    (`input_extent` `=` $input_extent^)? (`output_extent` `=` $output_extent^)?
    (`input_band` `=` $input_band^)? (`output_band` `=` $output_band^)?
    attr-dict `:` type($factor) `,` type($input)
  }];
  let builders = [
    OpBuilder<(ins "Value":$factor, "Value":$input, "int64_t":$stride), [{
      build($_builder, $_state, input.getType(), factor, input,
            $_builder.getI64IntegerAttr(stride), IntegerAttr(), IntegerAttr(),
            IntegerAttr(), IntegerAttr());
    }]>
  ];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    int64_t getFactorSize() {
      return getFactor().getType().getShape().back();
    }
    int64_t getLength() { return getInput().getType().getShape().back(); }
    int64_t getNumBlocks() {
      return getLength() / (getFactorSize() * getStride());
    }
  }];
}

//===----------------------------------------------------------------------===//
// TwiddleOp
//===----------------------------------------------------------------------===//

def Butterfly_TwiddleOp : Butterfly_Op<"twiddle",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "twiddle diagonal between two stages";
  let description = [{
    With the last axis viewed as `[a, rows, cols]`:

    `y[..., i, k, j] = x[..., i, k, j] * exp(-2*pi*i*k*j/(rows*cols))`

    (`+` in the exponent with `inverse`, which is the exact inverse). This
    is `I_a (x) T^{rows*cols}_{cols}`, the diagonal `D` of the Monarch form.

    Example:

    ```mlir
    %y = butterfly.twiddle %x rows = 16, cols = 16 : tensor<8x256xcomplex<f32>>
    ```
  }];
  let arguments = (ins Butterfly_ComplexTensor:$input,
                       ConfinedAttr<I64Attr, [IntPositive]>:$rows,
                       ConfinedAttr<I64Attr, [IntPositive]>:$cols,
                       UnitAttr:$inverse);
  let results = (outs Butterfly_ComplexTensor:$result);
  let assemblyFormat = [{
    $input `rows` `=` $rows `,` `cols` `=` $cols (`inverse` $inverse^)?
    attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// PermuteOp
//===----------------------------------------------------------------------===//

def Butterfly_PermuteOp : Butterfly_Op<"permute",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "stride permutation: transpose of a rows x cols view";
  let description = [{
    With the last axis of the input viewed as `[a, rows, cols]` and that of
    the result as `[a, cols, rows]`:

    `y[..., i, j, k] = x[..., i, k, j]`

    This is `I_a (x) L^{rows*cols}_{rows}`, the permutation `P` of the
    Monarch form. `permute(permute(x, r, c), c, r)` folds to `x`.

    Example:

    ```mlir
    %y = butterfly.permute %x rows = 16, cols = 32 : tensor<8x512xcomplex<f32>>
    ```
  }];
  let arguments = (ins Butterfly_ComplexTensor:$input,
                       ConfinedAttr<I64Attr, [IntPositive]>:$rows,
                       ConfinedAttr<I64Attr, [IntPositive]>:$cols);
  let results = (outs Butterfly_ComplexTensor:$result);
  let assemblyFormat = [{
    $input `rows` `=` $rows `,` `cols` `=` $cols attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// MonarchOp
//===----------------------------------------------------------------------===//

def Butterfly_MonarchOp : Butterfly_Op<"monarch",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "order-p Monarch product: the whole DFT of size N1*...*Np";
  let description = [{
    The DFT along the last axis (length `N = N1*...*Np`, the `factors`) as
    the order-p product of stages. Stage `s` applies `F_{N_s}` to digit `s`
    (`kron` with `a = N1*...*N_{s-1}`, `c = N_{s+1}*...*N_p`) and, except
    for the last stage, the twiddle of the remaining sub-transform
    (`twiddle rows = N_s, cols = c`). The stages leave the spectrum in
    Monarch order: position `(k1, ..., kp)` (row-major over the factors)
    holds `X[k1 + N1*k2 + N1*N2*k3 + ...]`, a mixed-radix digit reversal.

    - forward (default): `y = DFT(x)`; `permuted` leaves `y` in Monarch
      order, otherwise the digit reversal is applied and `y` is natural.
    - `inverse`: `y = IDFT(x)` (with `1/N`); `permuted` means `x` is given
      in Monarch order (what a forward `permuted` produced), otherwise it is
      natural. `y` is always natural.

    A convolution multiplies in Monarch order and never permutes.

    Known zeros (partial convolutions): `nonzero_inputs = e` states that
    the (natural-order) input is zero past its first e elements, so the
    first stage skips the blocks that would read them; `needed_outputs = s`
    (inverse only) states that only the first s (natural-order) outputs are
    read, so the last stage computes only the blocks holding them; the
    other outputs are unspecified. Canonicalization derives them from a
    `pack_real` producer and an `unpack_real` user.

    Frequency-sparse convolutions: with `permuted` and `spectral_band = b`,
    only the frequencies k with `min(k, N - k) < b` matter on the spectrum
    side: a forward transform's other outputs are unspecified, an inverse
    transform's other inputs are known zero. The spectrum-side stage (the
    last forward, the first inverse) skips the blocks of its digit that hold
    none of them.

    Example:

    ```mlir
    %X = butterfly.monarch %x factors = [16, 16, 16] permuted
        : tensor<8x4096xcomplex<f32>>
    %x2 = butterfly.monarch %X factors = [16, 16, 16] inverse permuted
        : tensor<8x4096xcomplex<f32>>
    ```
  }];
  let arguments = (ins Butterfly_ComplexTensor:$input,
                       DenseI64ArrayAttr:$factors,
                       UnitAttr:$inverse,
                       UnitAttr:$permuted,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$nonzero_inputs,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$needed_outputs,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$spectral_band);
  let results = (outs Butterfly_ComplexTensor:$result);
  let assemblyFormat = [{
    $input `factors` `=` $factors (`inverse` $inverse^)?
    (`permuted` $permuted^)? (`nonzero_inputs` `=` $nonzero_inputs^)?
    (`needed_outputs` `=` $needed_outputs^)?
    (`spectral_band` `=` $spectral_band^)? attr-dict `:` type($input)
  }];
  let builders = [
    OpBuilder<(ins "Value":$input, "ArrayRef<int64_t>":$factors,
                   "bool":$inverse, "bool":$permuted), [{
      build($_builder, $_state, input.getType(), input,
            $_builder.getDenseI64ArrayAttr(factors),
            inverse ? $_builder.getUnitAttr() : UnitAttr(),
            permuted ? $_builder.getUnitAttr() : UnitAttr(), IntegerAttr(),
            IntegerAttr(), IntegerAttr());
    }]>
  ];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}



//===----------------------------------------------------------------------===//
// MonarchLinearOp
//===----------------------------------------------------------------------===//

def Butterfly_MonarchLinearOp : Butterfly_Op<"monarch_linear",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "learned Monarch product: a structured linear layer";
  let description = [{
    FlashButterfly's learned butterfly: the stages of an order-p Monarch
    product whose factors are parameters. With the last axis of length
    `N = m_0 * ... * m_{p-1}` (`m_s` the size of `weights[s]`), stage s
    views it as `[a_s, m_s, c_s]` (`c_s = m_{s+1} * ... * m_{p-1}`,
    `a_s = N / (m_s c_s)`) and applies an independent learned block to
    each of the N/m_s positions `(i, j)`:

    `x[..., i, k, j] <- sum_n W_s[i * c_s + j][k][n] * x[..., i, n, j]`

    `weights[s]` is `tensor<(N/m_s) x m_s x m_s>`, in stage order. Stage 0
    runs first. A linear map of N values with `N * sum_s m_s` parameters
    instead of `N^2` (order 2 with `m = sqrt(N)`: `2 N sqrt(N)`); with
    blocks `W_s[i c_s + j][k][n] = F_{m_s}[k][n] * w^{k j}` (the DFT factor
    times the twiddle that follows it) it is the DFT in Monarch order.
    Values are f32 (a real layer) or complex<f32>.

    Example:

    ```mlir
    %y = butterfly.monarch_linear %x, [%w0, %w1]
        : tensor<8x1024xf32>, [tensor<32x32x32xf32>, tensor<32x32x32xf32>]
    ```
  }];
  let arguments = (ins Butterfly_LinearTensor:$input,
                       Variadic<Butterfly_LinearTensor>:$weights);
  let results = (outs Butterfly_LinearTensor:$result);
  let assemblyFormat = [{
    $input `,` `[` $weights `]` attr-dict `:` type($input) `,`
    `[` type($weights) `]`
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// m_s of every stage.
    SmallVector<int64_t> getFactorSizes();
    /// Parameters of the layer: sum over stages of N * m_s.
    int64_t getNumParameters();
  }];
}

//===----------------------------------------------------------------------===//
// Real-input transforms
//===----------------------------------------------------------------------===//

def Butterfly_RealTensor : RankedTensorOf<[F32]>;

def Butterfly_PackRealOp : Butterfly_Op<"pack_real", [Pure]> {
  let summary = "view a real signal of length 2M as M complex values";
  let description = [{
    `z[..., j] = x[..., 2j] + i * x[..., 2j+1]` for `j < M`, where `x` is the
    input (length L <= 2M) zero-padded to length 2M. This is the first step
    of the real-input trick: the DFT of a real signal of length N = 2M is
    recovered from the complex DFT of length M of `z`
    (`butterfly.real_spectrum`). The padding is never materialized.

    Example:

    ```mlir
    %z = butterfly.pack_real %x : tensor<8x1000xf32> -> tensor<8x1024xcomplex<f32>>
    ```
  }];
  let arguments = (ins Butterfly_RealTensor:$input);
  let results = (outs Butterfly_ComplexTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Butterfly_UnpackRealOp : Butterfly_Op<"unpack_real", [Pure]> {
  let summary = "read M complex values as a real signal, cropped to L";
  let description = [{
    The inverse view of `butterfly.pack_real`, cropped: for `t < L <= 2M`,
    `y[..., t] = Re z[..., t/2]` for even `t` and `Im z[..., t/2]` for odd
    `t`. Only the L outputs kept are produced: a crop of its result
    (`tensor.extract_slice` of a prefix of the last axis) canonicalizes into
    the op.

    Example:

    ```mlir
    %y = butterfly.unpack_real %z : tensor<8x1024xcomplex<f32>> -> tensor<8x1000xf32>
    ```
  }];
  let arguments = (ins Butterfly_ComplexTensor:$input);
  let results = (outs Butterfly_RealTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Butterfly_RealSpectrumOp : Butterfly_Op<"real_spectrum", [Pure]> {
  let summary = "twiddle pass of the real-input trick (and its inverse)";
  let description = [{
    With `w = exp(-2*pi*i/(2M))`, `a_k = (1 - i w^k)/2`, `b_k = (1 + i w^k)/2`:

    - forward (`tensor<...xM>` to `tensor<...x(M+1)>`): from `Z`, the DFT
      of length M of `pack_real(x)`, the non-negative half of the DFT of
      the real `x` of length 2M, in natural order:
      `X[k] = a_k Z[k mod M] + b_k conj(Z[(M-k) mod M])`, `k = 0..M`.
    - `inverse` (`tensor<...x(M+1)>` to `tensor<...xM>`): from the half
      spectrum `X` of a real signal `y` of length 2M, the DFT of length M of
      `pack_real(y)`: `Zy[k] = (X[k] + conj(X[M-k]))/2 +
      i w^-k (X[k] - conj(X[M-k]))/2`, `k < M`. As numpy's irfft does, the
      imaginary parts of `X[0]` and `X[M]` are ignored.

    Example:

    ```mlir
    %X = butterfly.real_spectrum %Z : tensor<8x512xcomplex<f32>> -> tensor<8x513xcomplex<f32>>
    %Z2 = butterfly.real_spectrum %X inverse : tensor<8x513xcomplex<f32>> -> tensor<8x512xcomplex<f32>>
    ```
  }];
  let arguments = (ins Butterfly_ComplexTensor:$input, UnitAttr:$inverse);
  let results = (outs Butterfly_ComplexTensor:$result);
  let assemblyFormat = [{
    $input (`inverse` $inverse^)? attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// M: the length of the complex transform (half the real length).
    int64_t getHalfLength() {
      return getInverse() ? getResult().getType().getShape().back()
                          : getInput().getType().getShape().back();
    }
  }];
}

def Butterfly_ConvSpectrumOp : Butterfly_Op<"conv_spectrum", [Pure]> {
  let summary = "kernel coefficients of a real convolution in half-size form";
  let description = [{
    From `Kf = rfft(k, 2M)` (`tensor<H x (M+1)>`, natural order), the two
    coefficient rows `C[h, 0, :] = A`, `C[h, 1, :] = B` (`tensor<H x 2 x M>`)
    such that, for a real `v` with `Z = DFT_M(pack_real(v))`,

    `Zy[k] = A[k] Z[k] + B[k] conj(Z[(M-k) mod M])`

    is `DFT_M(pack_real(y))` of the circular convolution `y = v (*) k` of
    length 2M. With `c1 = (1 + i w^-k)/2`, `c2 = (1 - i w^-k)/2` and `a`,
    `b` as in `butterfly.real_spectrum`:
    `A[k] = c1 Kf[k] a_k + c2 conj(Kf[M-k]) conj(b_{M-k})`,
    `B[k] = c1 Kf[k] b_k + c2 conj(Kf[M-k]) conj(a_{M-k})`.
    It folds the real-input trick's forward and inverse twiddle passes into
    the kernel, computed once per channel and never per batch element.
    Bins 0 and M count by their real parts only (they are real for a real
    kernel, and irfft ignores their imaginary parts likewise).
    With `band = B`, `Kf[f]` is taken as zero for `f >= B`
    (frequency-sparse convolution): A and B then vanish wherever
    `min(k, M - k) >= B`.

    Example:

    ```mlir
    %C = butterfly.conv_spectrum %Kf : tensor<4x513xcomplex<f32>> -> tensor<4x2x512xcomplex<f32>>
    ```
  }];
  let arguments = (ins Butterfly_ComplexTensor:$input,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$band);
  let results = (outs Butterfly_ComplexTensor:$result);
  let assemblyFormat = [{
    $input (`band` `=` $band^)? attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Butterfly_PackedConvSpectrumOp : Butterfly_Op<"packed_conv_spectrum",
    [Pure]> {
  let summary = "conv_spectrum's coefficients from the kernel's packed transform";
  let description = [{
    The coefficients of `butterfly.conv_spectrum` (`tensor<H x 2 x M>`),
    computed from `Z = DFT_M(pack_real(k))` (`tensor<H x M>`) instead of
    from `Kf = rfft(k, 2M)`: `Kf[k] = a_k Z[k mod M] + b_k
    conj(Z[(M-k) mod M])` (see `butterfly.real_spectrum`) is formed on the
    fly. With `factors`, `Z` is in the Monarch order of those factors (what
    a forward `monarch ... permuted` produced) and so is the result, ready
    for `hermitian_mul ... factors`; without, both are in natural order.
    This takes the kernel's spectrum from its transform to the product in
    one pass, where `real_spectrum`, `conv_spectrum` and two digit reversals
    took five: the CPU target's form (`fftconv-monarch-decompose{chip=cpu}`).

    Example:

    ```mlir
    %Z = butterfly.monarch %z factors = [32, 16] permuted : tensor<4x512xcomplex<f32>>
    %C = butterfly.packed_conv_spectrum %Z factors = [32, 16]
        : tensor<4x512xcomplex<f32>> -> tensor<4x2x512xcomplex<f32>>
    ```
  }];
  let arguments = (ins Butterfly_ComplexTensor:$input,
                       OptionalAttr<DenseI64ArrayAttr>:$factors);
  let results = (outs Butterfly_ComplexTensor:$result);
  let assemblyFormat = [{
    $input (`factors` `=` $factors^)? attr-dict `:` type($input) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Butterfly_HermitianMulOp : Butterfly_Op<"hermitian_mul",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "spectral product of a real convolution in half-size form";
  let description = [{
    `y[b, h, p] = A[h, p] x[b, h, p] + B[h, p] conj(x[b, h, s(p)])` with
    `A = C[:, 0, :]`, `B = C[:, 1, :]` (see `butterfly.conv_spectrum`),
    where `s(p)` is the position holding frequency `(M - k) mod M` when `p`
    holds frequency `k`. Without `factors` positions are frequencies
    (natural order); with `factors` they are in the Monarch order of those
    factors (see `butterfly.monarch`), so that the product applies between a
    forward and an inverse `monarch ... permuted` with nothing permuted, and
    `C` is given in that same order.

    Example:

    ```mlir
    %y = butterfly.hermitian_mul %x, %C factors = [32, 16]
        : tensor<8x4x512xcomplex<f32>>, tensor<4x2x512xcomplex<f32>>
    ```
  }];
  let arguments = (ins Butterfly_ComplexTensor:$input,
                       Butterfly_ComplexTensor:$coefficients,
                       OptionalAttr<DenseI64ArrayAttr>:$factors);
  let results = (outs Butterfly_ComplexTensor:$result);
  let assemblyFormat = [{
    $input `,` $coefficients (`factors` `=` $factors^)? attr-dict `:`
    type($input) `,` type($coefficients)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Sharded convolutions
//===----------------------------------------------------------------------===//

def Butterfly_ExchangeOp : Butterfly_Op<"exchange", [
    AllTypesMatch<["send", "recv"]>]> {
  let summary = "the all-to-all between the passes of a sharded convolution";
  let description = [{
    The transpose of the three-pass view across the ranks a convolution is
    sharded over (`#butterfly.gpu_plan<... ranks = R, rank = r>`), as
    `butterfly-to-gpu` writes it in the host function between the outer and
    the inner passes: the leading dimension of `send` and `recv` is R
    chunks, and chunk j of this rank's `send` becomes chunk r of rank j's
    `recv`. Every rank runs it at the same point of its program (a
    collective); a runtime runs it through its communication library (the
    manifest's `exchanges`; `fftconv.distributed` over torch.distributed).
    Chunk r of `send` is copied too. `send` and `recv` may be one buffer:
    the exchange is then in place, and saves a buffer where the chunks sent
    are not read again (a runtime swaps them through a buffer of its own,
    a few pieces of a chunk at a time).

    Example:

    ```mlir
    butterfly.exchange %outer to %inner : memref<4x2x8x8192xf16>
    butterfly.exchange %spectrum to %spectrum : memref<4x1x8x8192xf32>
    ```
  }];
  let arguments = (ins
    Arg<AnyStaticShapeMemRef, "the chunks this rank sends", [MemRead]>:$send,
    Arg<AnyStaticShapeMemRef, "the chunks this rank receives (`send` for an "
        "in-place exchange)", [MemWrite]>:$recv);
  let assemblyFormat = "$send `to` $recv attr-dict `:` type($send)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The ranks the exchange runs between (the chunks of a buffer).
    int64_t getRanks() {
      return ::llvm::cast<::mlir::MemRefType>(getSend().getType())
          .getDimSize(0);
    }
  }];
}

//===----------------------------------------------------------------------===//
// Fused kernel regions
//===----------------------------------------------------------------------===//

def Butterfly_FusedOp : Butterfly_Op<"fused", [
    IsolatedFromAbove, SingleBlock, RecursiveMemoryEffects]> {
  let summary = "a fused kernel region: the unit that becomes one GPU kernel";
  let description = [{
    The ops of the region run as one kernel: the block arguments are what
    the kernel reads from memory (the operands, in order) and the yielded
    values what it writes (the results); everything in between stays on
    chip. The region is isolated from above, so the reads and writes are
    exactly the operands and results. `kind` says which part of a
    convolution the region is: `conv` (forward stages, spectral product,
    gating, skip, inverse stages, crop), `outer_forward` and
    `outer_inverse` (the passes through memory of the three-pass form),
    `cross_spectrum` (the forward transforms of a backward's v and g and
    their batch-reduced cross spectrum) and `channel_inverse` (the inverse
    of a per-channel spectrum and the crops of its first lags: dk and dD).
    `onchip_bytes` is the cost model's estimate of the on-chip memory one
    sequence needs. `gpu_plan`, on `conv`, `cross_spectrum` and
    `channel_inverse` regions, is how the region becomes GPU kernels
    (`butterfly-plan-gpu-kernels` sets it; the `outer_forward` and
    `outer_inverse` regions around a conv region follow its plan).

    Example:

    ```mlir
    %y = butterfly.fused conv ins(%u, %C : tensor<2x4x512xf32>, tensor<4x2x512xcomplex<f32>>)
        onchip_bytes = 8192 {
    ^bb0(%a: tensor<2x4x512xf32>, %c: tensor<4x2x512xcomplex<f32>>):
      ...
      butterfly.yield %r : tensor<2x4x512xf32>
    } -> tensor<2x4x512xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs,
                       Butterfly_FusedKindAttr:$kind, I64Attr:$onchip_bytes,
                       OptionalAttr<Butterfly_GPUPlanAttr>:$gpu_plan);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    custom<FusedKind>($kind) `ins` `(` $inputs `:` type($inputs) `)` `onchip_bytes` `=`
    $onchip_bytes (`plan` `=` qualified($gpu_plan)^)? attr-dict-with-keyword
    $body `->` type($results)
  }];
  let hasVerifier = 1;
}

def Butterfly_YieldOp : Butterfly_Op<"yield", [
    Pure, Terminator, HasParent<"FusedOp">, ReturnLike]> {
  let summary = "the values a fused region writes";
  let description = [{
    Terminates a `butterfly.fused` region; its operands become the region's
    results.

    Example:

    ```mlir
    butterfly.yield %y : tensor<2x4x512xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYOPS_TD
