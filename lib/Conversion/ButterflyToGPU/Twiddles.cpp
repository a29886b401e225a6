//===- Twiddles.cpp - roots of unity on the GPU ------------------*- C++
//-*-===//
//
// The twiddles between the stages and the roots of the DFT factors,
// computed in the kernel from integer exponents with the hardware's
// approximate sine and cosine.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include <cmath>

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

/// sin.approx.f32 / cos.approx.f32: absolute error about 2^-21 on
/// [-pi, pi], where every angle here is reduced to. Inline PTX rather than
/// the llvm.nvvm.{sin,cos}.approx.f intrinsics: those select the same
/// instructions, but LLVM schedules and folds the code around a known
/// intrinsic differently from opaque asm, and the kernels' PTX changes
/// (hyena at N = 1024: 4274 lines against 3709, the same 141 sin, 141 cos
/// and 124 mma). The kernels' timings and numerics were measured with this
/// form; a change of form waits for a benchmark of its own.
Value KernelEmitter::approx(llvm::StringRef op, Value angle) {
  std::string text = (op + ".approx.f32 $0, $1;").str();
  return LLVM::InlineAsmOp::create(b, loc, f32, ValueRange{angle}, text, "=f,f",
                                   /*has_side_effects=*/false,
                                   /*is_align_stack=*/false,
                                   LLVM::tailcallkind::TailCallKind::None,
                                   LLVM::AsmDialectAttr(), ArrayAttr())
      .getResult(0);
}

KernelEmitter::Complex KernelEmitter::root(Value e, int64_t period,
                                           double sign) {
  // Reduce to (-period/2, period/2] so the angle is within [-pi, pi].
  Value wrapped = arith::SelectOp::create(b, loc, ult(c(period / 2), e),
                                          sub(e, c(period)), e);
  Value asFloat = arith::SIToFPOp::create(b, loc, f32, wrapped);
  Value angle = fmul(asFloat, cf(sign * 2.0 * M_PI / double(period)));
  return {approx("cos", angle), approx("sin", angle)};
}

/// Forward stage s applies T_s (all but the last); inverse stage s applies
/// conj(T_{s-1}) (all but the first), the twiddle the next inverse stage
/// needs first.
bool KernelEmitter::hasTwiddle(size_t s, bool inverse) const {
  return inverse ? s != 0 : s + 1 != layout.transformed;
}

std::optional<KernelEmitter::Complex>
KernelEmitter::twiddle(size_t s, bool inverse, Value position) {
  if (!hasTwiddle(s, inverse))
    return std::nullopt;
  size_t p = layout.transformed;
  StageShape level = stage(inverse ? s - 1 : s);
  // The column within the transformed digits: the untransformed trailing
  // digits are independent transforms and take no part in the twiddle.
  int64_t untransformed = 1;
  for (int64_t f : ArrayRef<int64_t>(layout.factors).drop_front(p))
    untransformed *= f;
  Value digit = remc(divc(position, level.stride), level.size);
  Value column = divc(remc(position, level.stride), untransformed);
  int64_t period = level.size * level.stride / untransformed;
  Value e = remc(mul(digit, column), period);
  return root(e, period, inverse ? 1.0 : -1.0);
}
