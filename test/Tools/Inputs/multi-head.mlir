func.func @multi_head(%u: tensor<2x3x4x1x1024xf16>, %k: tensor<4x1024xf32>, %d: tensor<4xf32>) -> tensor<2x3x4x1x1024xf16> {
  %y = fftconv.conv causal %u, %k skip %d : (tensor<2x3x4x1x1024xf16>, tensor<4x1024xf32>, tensor<4xf32>) -> tensor<2x3x4x1x1024xf16>
  return %y : tensor<2x3x4x1x1024xf16>
}
