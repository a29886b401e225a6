//===- ButterflyOps.td - butterfly dialect operations -----*- tablegen -*-===//
//
// The Monarch / Kronecker algebra of the FFT, and nothing more.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYOPS_TD
#define FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Butterfly_Dialect : Dialect {
  let name = "butterfly";
  let cppNamespace = "::mlir::butterfly";
  let summary = "Monarch factorizations of the DFT";
  let description = [{
    The `butterfly` dialect states the factorized DFT of size `N = N1*...*Np`
    in SPIRAL's Kronecker notation, on the last axis of complex tensors:

    - `butterfly.dft`: a dense DFT factor `F_m` (or its inverse);
    - `butterfly.kron`: `(I_a (x) F (x) I_c) x`, a factor applied along one
      digit of the index; the factor is fixed (from `butterfly.dft`) or
      learned (any operand);
    - `butterfly.twiddle`: the diagonal `T` between two stages;
    - `butterfly.permute`: the stride permutation `L` (a transpose);
    - `butterfly.monarch`: the order-p product of them, the whole DFT.

    The four-step identity, with `x` viewed row-major as `N1 x N2`:

    `F_N = L^N_{N1} (I_{N1} (x) F_{N2}) T^N_{N2} (F_{N1} (x) I_{N2})`

    in this dialect reads
    `permute(kron(F_{N2}, twiddle(kron(F_{N1}, x, stride N2), N1, N2), stride 1), N1, N2)`.
    All indices below use the row-major view of the last axis (length N) as
    `[a, m, c]`, where the op's attributes fix `m` and `c` and `a = N/(m*c)`.
  }];
}

class Butterfly_Op<string mnemonic, list<Trait> traits = []>
    : Op<Butterfly_Dialect, mnemonic, traits>;

def Butterfly_ComplexTensor : RankedTensorOf<[Complex<F32>]>;

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
    shared: a fixed DFT factor or a learned one), or `tensor<a x m x m>`
    (block `i` uses `F[i]`: a general block-diagonal Monarch factor, as
    learned butterflies use).

    Example:

    ```mlir
    %f = butterfly.dft : tensor<16x16xcomplex<f32>>
    %y = butterfly.kron %f, %x stride = 16
        : tensor<16x16xcomplex<f32>>, tensor<8x256xcomplex<f32>>
    ```
  }];
  let arguments = (ins Butterfly_ComplexTensor:$factor,
                       Butterfly_ComplexTensor:$input,
                       ConfinedAttr<I64Attr, [IntPositive]>:$stride);
  let results = (outs Butterfly_ComplexTensor:$result);
  let assemblyFormat = [{
    $factor `,` $input `stride` `=` $stride attr-dict `:` type($factor) `,`
    type($input)
  }];
  let hasVerifier = 1;
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
                       UnitAttr:$permuted);
  let results = (outs Butterfly_ComplexTensor:$result);
  let assemblyFormat = [{
    $input `factors` `=` $factors (`inverse` $inverse^)?
    (`permuted` $permuted^)? attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYOPS_TD
