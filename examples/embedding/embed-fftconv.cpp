//===- embed-fftconv.cpp - using fftconv-mlir from another compiler -------===//
//
// Registers the fftconv and butterfly dialects and the project's passes in a
// context of one's own, parses a Hyena-style convolution and compiles it
// into fused butterfly regions.
//
//===----------------------------------------------------------------------===//

#include "fftconv/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

static const char *kProgram = R"mlir(
func.func @block(%u: tensor<2x8x1024xf16>, %k: tensor<8x1024xf32>, %g: tensor<2x8x1024xf16>)
    -> tensor<2x8x1024xf16> {
  %y = fftconv.conv causal %u, %k postgate %g
      : (tensor<2x8x1024xf16>, tensor<8x1024xf32>, tensor<2x8x1024xf16>) -> tensor<2x8x1024xf16>
  return %y : tensor<2x8x1024xf16>
}
)mlir";

int main() {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::fftconv::registerAllDialects(registry);
  mlir::fftconv::registerAllPasses();
  mlir::MLIRContext context(registry);

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(kProgram, &context);
  if (!module)
    return 1;
  mlir::PassManager pm(&context);
  if (mlir::failed(
          mlir::parsePassPipeline("fftconv-to-butterfly", pm, llvm::errs())) ||
      mlir::failed(pm.run(*module)))
    return 2;
  module->print(llvm::outs());
  return 0;
}
