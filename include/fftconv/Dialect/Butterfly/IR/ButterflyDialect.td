//===- ButterflyDialect.td - butterfly dialect definition -*- tablegen -*-===//

#ifndef FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYDIALECT_TD
#define FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYDIALECT_TD

include "mlir/IR/OpBase.td"

def Butterfly_Dialect : Dialect {
  let name = "butterfly";
  let cppNamespace = "::mlir::butterfly";
  let summary = "Monarch factorizations of the DFT";
  // Folded constants (a constant kernel's spectrum) become arith.constant.
  let hasConstantMaterializer = 1;
  // The GPU plan and the fused regions' kinds (ButterflyAttrs.td).
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect"];
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

#endif // FFTCONV_DIALECT_BUTTERFLY_IR_BUTTERFLYDIALECT_TD
