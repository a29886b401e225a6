"""fftconv-mlir: a compiler for long convolutions.

Submodules:
  reference  float64 numpy oracle for every op of both dialects
  cpu        run programs on the CPU through fftconv-opt and mlir-runner
"""
