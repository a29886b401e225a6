// RUN: fftconv-opt %s -split-input-file -fftconv-check-gpu-shapes -verify-diagnostics

// The gradients of a circular convolution of a length that is not a power
// of two (its forward runs).
func.func @circular_1000_grad(%u: tensor<1x2x1000xf16>, %k: tensor<2x1000xf32>, %dy: tensor<1x2x1000xf16>) -> tensor<2x1000xf32> {
  // expected-error @+1 {{the GPU kernels run the gradients of circular convolutions of a power-of-two length of at least 256, not L = 1000 (nearest: L = 1024, or the causal form; the forward runs on the GPU, the gradients on the CPU, fftconv-to-cpu)}}
  %dk = fftconv.conv_grad circular %u, %k grad %dy wrt [kernel]
      : (tensor<1x2x1000xf16>, tensor<2x1000xf32>, tensor<1x2x1000xf16>) -> tensor<2x1000xf32>
  return %dk : tensor<2x1000xf32>
}

// -----

// Too short for the circular gradients' kernels.
func.func @short_circular_grad(%u: tensor<1x2x128xf16>, %k: tensor<2x128xf32>, %dy: tensor<1x2x128xf16>) -> tensor<1x2x128xf16> {
  // expected-error @+1 {{not L = 128 (nearest: L = 256, or the causal form;}}
  %du = fftconv.conv_grad circular %u, %k grad %dy wrt [input]
      : (tensor<1x2x128xf16>, tensor<2x128xf32>, tensor<1x2x128xf16>) -> tensor<1x2x128xf16>
  return %du : tensor<1x2x128xf16>
}

// -----

// What runs passes unchanged: a short causal convolution (fftconv-to-ptx
// pads it), ones of L = 1001 in the single kernel and L = 40001 in the
// three-pass form (their last elements masked), a circular one of 256, and
// circular ones of other lengths (through fftconv.circulate's taps).
func.func @supported(%u: tensor<1x2x24xf16>, %k: tensor<2x24xf32>, %c: tensor<1x2x256xf16>, %kc: tensor<2x256xf32>, %o: tensor<1x2x1001xf16>, %ko: tensor<2x1001xf32>, %l: tensor<1x2x40001xf16>, %kl: tensor<2x40001xf32>) -> (tensor<1x2x24xf16>, tensor<1x2x256xf16>, tensor<1x2x1001xf16>, tensor<1x2x40001xf16>) {
  %y = fftconv.conv causal %u, %k : (tensor<1x2x24xf16>, tensor<2x24xf32>) -> tensor<1x2x24xf16>
  %z = fftconv.conv circular %c, %kc : (tensor<1x2x256xf16>, tensor<2x256xf32>) -> tensor<1x2x256xf16>
  %w = fftconv.conv causal %o, %ko : (tensor<1x2x1001xf16>, tensor<2x1001xf32>) -> tensor<1x2x1001xf16>
  %x = fftconv.conv causal %l, %kl : (tensor<1x2x40001xf16>, tensor<2x40001xf32>) -> tensor<1x2x40001xf16>
  %c1000 = fftconv.conv circular %o, %ko : (tensor<1x2x1001xf16>, tensor<2x1001xf32>) -> tensor<1x2x1001xf16>
  %c24 = fftconv.conv circular %u, %k : (tensor<1x2x24xf16>, tensor<2x24xf32>) -> tensor<1x2x24xf16>
  return %y, %z, %w, %x : tensor<1x2x24xf16>, tensor<1x2x256xf16>, tensor<1x2x1001xf16>, tensor<1x2x40001xf16>
}

// -----

// Multi-head convolutions run, whatever their blocks (the kernels map their
// rows onto [B * G, H, Z, L]).
func.func @blocks(%u: tensor<1x2x4x2x512xf16>, %k: tensor<4x512xf32>) -> tensor<1x2x4x2x512xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<1x2x4x2x512xf16>, tensor<4x512xf32>) -> tensor<1x2x4x2x512xf16>
  return %y : tensor<1x2x4x2x512xf16>
}
