// A causal convolution of 65536 points (16 rows of 4096), to shard.
func.func @sharded(%u: tensor<4x2x32768xf16> {fftconv.name = "u"}, %k: tensor<2x32768xf32> {fftconv.name = "k"}) -> tensor<4x2x32768xf16> {
  %y = fftconv.conv causal %u, %k : (tensor<4x2x32768xf16>, tensor<2x32768xf32>) -> tensor<4x2x32768xf16>
  return %y : tensor<4x2x32768xf16>
}
