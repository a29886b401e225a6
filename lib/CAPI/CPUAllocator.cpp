//===- CPUAllocator.cpp - pooled buffers for CPU programs -------*- C++ -*-===//
//
// A compiled CPU program allocates its intermediate buffers on every call
// and frees them before it returns. glibc serves large blocks with mmap and
// returns them to the system on free, so every call page-faults its
// buffers in again: at L = 64K that was about a third of a call's time.
// This allocator keeps freed large blocks, by size, for the next call's
// allocations of the same size; small ones go to malloc as before. Only the
// programs compiled with `fftconv-to-cpu{pooled-allocator}` call it (as
// finalize-memref-to-llvm's generic functions), so nothing else in the
// process changes.
//
//===----------------------------------------------------------------------===//

#include "fftconv-c/FFTConv.h"

#include <cstddef>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>

namespace {

/// Blocks below this size go to malloc and free (glibc keeps those).
constexpr size_t kPooledMinBytes = size_t(1) << 16;
/// The most bytes the pool keeps unused; past it, freed blocks go back to
/// the system.
constexpr size_t kPooledMaxCachedBytes = size_t(1) << 30;
/// Every pooled block is aligned to this (a page), whatever was asked.
constexpr size_t kPooledAlignment = 4096;

class Pool {
public:
  void *allocate(size_t bytes, size_t alignment) {
    if (bytes < kPooledMinBytes && alignment <= alignof(std::max_align_t))
      return std::malloc(bytes);
    if (bytes < kPooledMinBytes)
      return std::aligned_alloc(alignment, roundUp(bytes, alignment));
    size_t size = roundUp(bytes, kPooledAlignment);
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = unused.find(size);
      if (it != unused.end()) {
        void *block = it->second;
        unused.erase(it);
        cachedBytes -= size;
        live[block] = size;
        return block;
      }
    }
    void *block = std::aligned_alloc(kPooledAlignment, size);
    if (block) {
      std::lock_guard<std::mutex> lock(mutex);
      live[block] = size;
    }
    return block;
  }

  void release(void *block) {
    if (!block)
      return;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = live.find(block);
      if (it != live.end()) {
        size_t size = it->second;
        live.erase(it);
        if (cachedBytes + size <= kPooledMaxCachedBytes) {
          unused.emplace(size, block);
          cachedBytes += size;
          return;
        }
      }
    }
    std::free(block);
  }

private:
  static size_t roundUp(size_t bytes, size_t multiple) {
    return (bytes + multiple - 1) / multiple * multiple;
  }

  std::mutex mutex;
  std::unordered_map<void *, size_t> live; // pooled blocks in use
  std::multimap<size_t, void *> unused;    // freed pooled blocks, by size
  size_t cachedBytes = 0;
};

Pool &pool() {
  // Never destroyed: programs may run during static destruction.
  static Pool *instance = new Pool();
  return *instance;
}

} // namespace

void *fftconvCPUAllocate(size_t bytes) {
  return pool().allocate(bytes, alignof(std::max_align_t));
}

void *fftconvCPUAllocateAligned(size_t alignment, size_t bytes) {
  return pool().allocate(bytes, alignment);
}

void fftconvCPUFree(void *block) { pool().release(block); }
