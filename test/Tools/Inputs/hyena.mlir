func.func @hyena(%u: tensor<2x4x512xf16> {fftconv.name = "u"}, %k: tensor<4x512xf32>,
                 %g1: tensor<2x4x512xf16>, %g2: tensor<2x4x512xf16>,
                 %d: tensor<4xf32>) -> tensor<2x4x512xf16> {
  %y = fftconv.conv causal %u, %k pregate %g1 postgate %g2 skip %d
      : (tensor<2x4x512xf16>, tensor<4x512xf32>, tensor<2x4x512xf16>, tensor<2x4x512xf16>, tensor<4xf32>) -> tensor<2x4x512xf16>
  return %y : tensor<2x4x512xf16>
}
