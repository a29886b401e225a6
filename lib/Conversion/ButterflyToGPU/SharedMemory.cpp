//===- SharedMemory.cpp - sequences as f16 planes in shared memory -*- C++ -*-//
//
// A sequence is held as f16 planes (KernelEmitter.h): at Split precision a
// value is high + low, at Half precision the high plane alone. Positions are
// swizzled in 16-byte chunks so that the rows one ldmatrix reads fall in
// distinct chunks of a 128-byte line.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;
using namespace mlir::fftconv;
using namespace mlir::fftconv::detail;

Value KernelEmitter::swizzle(Value e) {
  int64_t lines = layout.length / 64; // 128-byte lines of a plane
  if (lines <= 1)
    return e;
  Value high = arith::ShRUIOp::create(b, loc, e, c(6));
  // The warpgroup MMA reads its operands through the hardware's 128-byte
  // swizzle: a chunk XORed with its line's low three bits, the planes'
  // lines 1024-byte aligned. Its stage reads lines (digit stride 1), the
  // stage before it digits 64 elements apart: a line each, so ldmatrix
  // stays free of conflicts there too.
  if (layout.warpgroupStage())
    return arith::XOrIOp::create(
        b, loc, e, arith::ShLIOp::create(b, loc, remc(high, 8), c(3)));
  Value fold = high;
  for (int64_t shift = 3; (lines >> shift) > 0; shift += 3)
    fold = arith::XOrIOp::create(
        b, loc, fold, arith::ShRUIOp::create(b, loc, high, c(shift)));
  Value bits = arith::ShLIOp::create(b, loc, remc(fold, 8), c(3));
  return arith::XOrIOp::create(b, loc, e, bits);
}

Value KernelEmitter::element(Value seq, Plane plane, Value offset) {
  int64_t physical = layout.isSplit() ? plane : plane / 2;
  Value base = addc(mulc(seq, layout.planes() * layout.length),
                    physical * layout.length);
  return index(add(base, offset));
}

Value KernelEmitter::sharedPointer(Value seq, Value plane, Value offset) {
  // element() with the plane a value: Split's planes are the Plane values,
  // Half's Re and Im the planes 0 and 1.
  Value physical = layout.isSplit() ? plane : divc(plane, 2);
  Value at = add(add(mulc(seq, layout.planes() * layout.length),
                     mulc(physical, layout.length)),
                 offset);
  return addressOf(smem, at, 2,
                   static_cast<unsigned>(NVVM::NVVMMemorySpace::Shared));
}

Value KernelEmitter::peerSharedMemory(Value rank) {
  Value local = addressOf(smem, c(0), 2,
                          static_cast<unsigned>(NVVM::NVVMMemorySpace::Shared));
  auto cluster = LLVM::LLVMPointerType::get(
      b.getContext(),
      static_cast<unsigned>(NVVM::NVVMMemorySpace::SharedCluster));
  return NVVM::MapaOp::create(b, loc, cluster, local, rank);
}

/// The `type` value at byte `bytes` (i32) of the peer's shared memory.
static Value loadPeerValue(OpBuilder &b, Location loc, Value peer, Value bytes,
                           Type type) {
  Value address = LLVM::GEPOp::create(b, loc, peer.getType(), b.getI8Type(),
                                      peer, ValueRange{bytes});
  return LLVM::LoadOp::create(b, loc, type, address);
}

Value KernelEmitter::loadPeerPart(Value peer, Value seq, Plane high,
                                  Value offset) {
  auto planeAt = [&](Plane plane) -> Value {
    // element(), in bytes.
    int64_t physical = layout.isSplit() ? plane : plane / 2;
    Value at = add(addc(mulc(seq, layout.planes() * layout.length),
                        physical * layout.length),
                   offset);
    return arith::ExtFOp::create(b, loc, f32,
                                 loadPeerValue(b, loc, peer, mulc(at, 2), f16));
  };
  if (!layout.isSplit())
    return planeAt(high);
  return fadd(planeAt(high), planeAt(Plane(high + 1)));
}

Value KernelEmitter::loadPeerF32(Value peer, int64_t offsetBytes) {
  return loadPeerValue(b, loc, peer, c(offsetBytes), f32);
}

void KernelEmitter::storePeerPart(Value peer, Value seq, Plane high,
                                  Value offset, Value x) {
  auto storePlane = [&](Plane plane, Value narrow) {
    // element(), in bytes.
    int64_t physical = layout.isSplit() ? plane : plane / 2;
    Value at = add(addc(mulc(seq, layout.planes() * layout.length),
                        physical * layout.length),
                   offset);
    Value address = LLVM::GEPOp::create(b, loc, peer.getType(), b.getI8Type(),
                                        peer, ValueRange{mulc(at, 2)});
    int64_t count = 1;
    if (auto vector = dyn_cast<VectorType>(narrow.getType()))
      count = vector.getNumElements();
    LLVM::StoreOp::create(b, loc, narrow, address, /*alignment=*/2 * count);
  };
  Type narrow = f16;
  if (auto vector = dyn_cast<VectorType>(x.getType()))
    narrow = VectorType::get(vector.getShape(), f16);
  if (!layout.isSplit()) {
    storePlane(high, x.getType() == narrow
                         ? x
                         : arith::TruncFOp::create(b, loc, narrow, x));
    return;
  }
  auto [hi, lo] = split(x);
  storePlane(high, hi);
  storePlane(Plane(high + 1), lo);
}

Value KernelEmitter::loadPlane(Value seq, Plane plane, Value offset,
                               int64_t count) {
  Value at = element(seq, plane, offset);
  if (count == 0)
    return arith::ExtFOp::create(
        b, loc, f32, memref::LoadOp::create(b, loc, smem, at).getResult());
  auto load =
      vector::LoadOp::create(b, loc, VectorType::get({count}, f16), smem, at);
  load.setAlignment(2 * count);
  return arith::ExtFOp::create(b, loc, VectorType::get({count}, f32),
                               load.getResult());
}

Value KernelEmitter::loadPart(Value seq, Plane high, Value offset,
                              int64_t count) {
  if (!layout.isSplit())
    return loadPlane(seq, high, offset, count);
  return fadd(loadPlane(seq, high, offset, count),
              loadPlane(seq, Plane(high + 1), offset, count));
}

std::pair<Value, Value> KernelEmitter::split(Value x) {
  Type narrow = f16;
  Type wide = f32;
  if (auto vec = dyn_cast<VectorType>(x.getType())) {
    narrow = VectorType::get(vec.getShape(), f16);
    wide = vec;
  }
  Value hi = arith::TruncFOp::create(b, loc, narrow, x);
  Value rest = fsub(x, arith::ExtFOp::create(b, loc, wide, hi));
  return {hi, arith::TruncFOp::create(b, loc, narrow, rest)};
}

void KernelEmitter::storePlane(Value seq, Plane plane, Value offset,
                               Value narrow) {
  Value at = element(seq, plane, offset);
  if (auto vector = dyn_cast<VectorType>(narrow.getType())) {
    vector::StoreOp::create(b, loc, narrow, smem, at)
        .setAlignment(2 * vector.getNumElements());
    return;
  }
  memref::StoreOp::create(b, loc, narrow, smem, at);
}

void KernelEmitter::storePart(Value seq, Plane high, Value offset, Value x) {
  if (!layout.isSplit()) {
    Type narrow = f16;
    if (auto vector = dyn_cast<VectorType>(x.getType()))
      narrow = VectorType::get(vector.getShape(), f16);
    storePlane(seq, high, offset, arith::TruncFOp::create(b, loc, narrow, x));
    return;
  }
  auto [hi, lo] = split(x);
  storePlane(seq, high, offset, hi);
  storePlane(seq, Plane(high + 1), offset, lo);
}
