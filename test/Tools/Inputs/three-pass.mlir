func.func @long_conv(%u: tensor<2x4x32768xf16> {fftconv.name = "u"}, %k: tensor<4x32768xf32>) -> tensor<2x4x32768xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<2x4x32768xf16>, tensor<4x32768xf32>) -> tensor<2x4x32768xf16>
  return %y : tensor<2x4x32768xf16>
}
