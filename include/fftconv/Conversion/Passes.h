//===- Passes.h - fftconv conversion passes ---------------------*- C++ -*-===//

#ifndef FFTCONV_CONVERSION_PASSES_H
#define FFTCONV_CONVERSION_PASSES_H

#include "fftconv/Conversion/ButterflyToGPU/ButterflyToGPU.h"
#include "fftconv/Conversion/ButterflyToLinalg/ButterflyToLinalg.h"
#include "fftconv/Conversion/ButterflyToVector/ButterflyToVector.h"
#include "fftconv/Conversion/FFTConvToLinalg/FFTConvToLinalg.h"

namespace mlir {
namespace fftconv {

#define GEN_PASS_REGISTRATION
#include "fftconv/Conversion/Passes.h.inc"

} // namespace fftconv
} // namespace mlir

#endif // FFTCONV_CONVERSION_PASSES_H
