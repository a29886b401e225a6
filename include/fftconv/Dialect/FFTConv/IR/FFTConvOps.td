//===- FFTConvOps.td - fftconv dialect operations ---------*- tablegen -*-===//
//
// The tensor-level dialect: what a user of a long-convolution model means.
//
//===----------------------------------------------------------------------===//

#ifndef FFTCONV_DIALECT_FFTCONV_IR_FFTCONVOPS_TD
#define FFTCONV_DIALECT_FFTCONV_IR_FFTCONVOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def FFTConv_Dialect : Dialect {
  let name = "fftconv";
  let cppNamespace = "::mlir::fftconv";
  let summary = "Long convolutions, FFTs and kernel regularizers on tensors";
  // Folded constants (a constant kernel's spectrum) become arith.constant.
  let hasConstantMaterializer = 1;
  // The dialect's discardable attributes (fftconv.element_type) are checked
  // where they appear, so that a pass never reads a malformed one.
  let hasOperationAttrVerify = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let description = [{
    The `fftconv` dialect states long convolutions the way Hyena, H3, M2 and
    FlashFFTConv use them: `y = u * k` over B x H sequences of length L, with
    the causal or circular boundary, optional pre/post gates and an optional
    skip term; the FFTs along the last axis with numpy's pad/crop and
    normalization conventions; and FlashButterfly's kernel regularizers
    (Squash and Smooth). Every op works on statically shaped ranked tensors.
  }];
}

class FFTConv_Op<string mnemonic, list<Trait> traits = []>
    : Op<FFTConv_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def FFTConv_ConvMode : I32EnumAttr<"ConvMode", "boundary of a long convolution",
    [I32EnumAttrCase<"Causal", 0, "causal">,
     I32EnumAttrCase<"Circular", 1, "circular">]> {
  let cppNamespace = "::mlir::fftconv";
}

def FFTConv_ConvGradients : I32BitEnumAttr<"ConvGradients",
    "the gradients of a convolution to compute",
    [I32BitEnumAttrCaseBit<"Input", 0, "input">,
     I32BitEnumAttrCaseBit<"Kernel", 1, "kernel">,
     I32BitEnumAttrCaseBit<"Pregate", 2, "pregate">,
     I32BitEnumAttrCaseBit<"Postgate", 3, "postgate">,
     I32BitEnumAttrCaseBit<"Skip", 4, "skip">,
     I32BitEnumAttrCaseBit<"ReverseKernel", 5, "reverse_kernel">]> {
  let cppNamespace = "::mlir::fftconv";
  // Printed and parsed as a list, `[input, kernel]`, by the
  // custom<Gradients> directive of fftconv.conv_grad.
  let separator = ",";
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def FFTConv_SequenceTensor : RankedTensorOf<[F16, BF16, F32]>;
def FFTConv_F32Tensor : RankedTensorOf<[F32]>;
def FFTConv_ComplexTensor : RankedTensorOf<[Complex<F32>]>;

//===----------------------------------------------------------------------===//
// ConvOp
//===----------------------------------------------------------------------===//

def FFTConv_ConvOp : FFTConv_Op<"conv", [Pure, AttrSizedOperandSegments]> {
  let summary = "gated long convolution with optional skip term";
  let description = [{
    Convolves every sequence `u[b, h, :]` (length L) with the kernel of its
    channel `k[h, :]` (length K, 1 <= K <= L; K < L is a partial
    convolution). With `v = pregate * u` (or `v = u` without a pregate):

    - `causal`:   `z[b,h,t] = sum_{j=0}^{min(t,K-1)} k[h,j] * v[b,h,t-j]`
    - `circular`: `z[b,h,t] = sum_{j=0}^{K-1} k[h,j] * v[b,h,(t-j) mod L]`

    With a `reverse` kernel `kr` (`tensor<HxK'xf32>`, K' <= L, causal
    only) the convolution is bidirectional: it also correlates with `kr`,
    `z[b,h,t] += sum_{j=0}^{min(L-1-t,K'-1)} kr[h,j] * v[b,h,t+j]`. That is
    Hyena's bidirectional filter, whose spectrum is
    `rfft(k) + conj(rfft(kr))` (safari's `k_rev`).

    Then `z += D[h] * v[b,h,t]` when the skip `D` is given (H3's and Hyena's
    `D` term, applied to the convolution's own input), and finally
    `y = postgate * z` when a postgate is given. This is FlashFFTConv's
    `y = postgate * ((pregate * u) * k)` and Hyena's `fftconv(v, k, D)`.

    `u`, the gates and `y` share one type: `tensor<BxHxLxT>` with T one of
    f16, bf16, f32. `k` is `tensor<HxKxf32>` and `D` is `tensor<Hxf32>`.
    Arithmetic is done in f32 and rounded to T once, at the end.

    The multi-head form has `u` of rank 5, `tensor<BxGxHxZxLxT>` (Hyena's
    `b ho v z l`: G heads and Z blocks of the sequence), and convolves
    `u[b, g, h, z, :]` with `k[h, :]`: every head and block shares channel
    h's kernel and skip weight. `fftconv-flatten-heads` rewrites it into
    the B x H x L form.

    Example:

    ```mlir
    %y = fftconv.conv causal %u, %k pregate %x1 postgate %x2 skip %d
        : (tensor<2x4x1024xf16>, tensor<4x1024xf32>, tensor<2x4x1024xf16>,
           tensor<2x4x1024xf16>, tensor<4xf32>) -> tensor<2x4x1024xf16>
    %m = fftconv.conv causal %v, %k reverse %kr skip %d
        : (tensor<2x2x4x1x1024xf16>, tensor<4x1024xf32>, tensor<4x1024xf32>,
           tensor<4xf32>) -> tensor<2x2x4x1x1024xf16>
    ```
  }];
  let arguments = (ins FFTConv_ConvMode:$mode,
                       FFTConv_SequenceTensor:$input,
                       FFTConv_F32Tensor:$kernel,
                       Optional<FFTConv_F32Tensor>:$reverse,
                       Optional<FFTConv_SequenceTensor>:$pregate,
                       Optional<FFTConv_SequenceTensor>:$postgate,
                       Optional<FFTConv_F32Tensor>:$skip);
  let results = (outs FFTConv_SequenceTensor:$result);
  let assemblyFormat = [{
    $mode $input `,` $kernel (`reverse` $reverse^)? (`pregate` $pregate^)?
    (`postgate` $postgate^)? (`skip` $skip^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The sequences convolved with each channel's kernel: B, or B x G x Z
    /// in the multi-head form.
    int64_t getBatchSize() {
      return getInput().getType().getNumElements() /
             (getNumChannels() * getSeqLen());
    }
    int64_t getNumChannels() { return getKernel().getType().getDimSize(0); }
    int64_t getSeqLen() { return getInput().getType().getShape().back(); }
    int64_t getKernelLen() { return getKernel().getType().getDimSize(1); }
    bool isCausal() { return getMode() == ConvMode::Causal; }
    bool isMultiHead() { return getInput().getType().getRank() == 5; }
  }];
}

//===----------------------------------------------------------------------===//
// ConvGradOp
//===----------------------------------------------------------------------===//

def FFTConv_ConvGradOp : FFTConv_Op<"conv_grad",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "gradients of a gated long convolution (reverse mode)";
  let description = [{
    Given the operands of an `fftconv.conv` (same mode, input `u`, kernel
    `k`, optional `pregate`, `postgate`, `skip` D) and the gradient `dy` of
    a loss with respect to its result, returns the gradients of the loss
    with respect to the operands named by `wrt`, in the fixed order input,
    kernel, pregate, postgate, skip, reverse_kernel (only those named; a
    gradient is not computed unless it is asked for). With `v = pregate * u`,
    `z = k * v + D * v` and `g_z = postgate * dy`:

    - `d postgate = dy * z`;
    - `dv = k (star) g_z + D * g_z`, the correlation
      `(k (star) g)[t] = sum_s k[s] g[t + s]` (indices mod L for circular);
    - `du = pregate * dv`, `d pregate = u * dv`;
    - `dk[h, s] = sum_b sum_t g_z[b, h, t + s] v[b, h, t]` for `s < K`;
    - `dD[h] = sum_b sum_t g_z[b, h, t] v[b, h, t]`;
    - with a `reverse` kernel kr, `dv` also gets `kr * g_z` (the adjoint of
      the correlation) and
      `d kr[h, s] = sum_b sum_t g_z[b, h, t] v[b, h, t + s]` for `s < K'`.

    The multi-head form (rank-5 sequences) sums dk, dD and d kr over the
    batch, the heads and the blocks.

    `du`, `d pregate` and `d postgate` have the input's type; `dk` the
    kernel's (f32) and `dD` the skip's (f32). Arithmetic is f32.
    `fftconv-conv-grad-to-fft` expands it into FFT form.

    Example:

    ```mlir
    %du, %dk = fftconv.conv_grad causal %u, %k pregate %x grad %dy
        wrt [input, kernel]
        : (tensor<2x4x1024xf16>, tensor<4x1024xf32>, tensor<2x4x1024xf16>,
           tensor<2x4x1024xf16>) -> (tensor<2x4x1024xf16>, tensor<4x1024xf32>)
    ```
  }];
  let arguments = (ins FFTConv_ConvMode:$mode,
                       FFTConv_SequenceTensor:$input,
                       FFTConv_F32Tensor:$kernel,
                       Optional<FFTConv_F32Tensor>:$reverse,
                       Optional<FFTConv_SequenceTensor>:$pregate,
                       Optional<FFTConv_SequenceTensor>:$postgate,
                       Optional<FFTConv_F32Tensor>:$skip,
                       FFTConv_SequenceTensor:$result_grad,
                       FFTConv_ConvGradients:$wrt);
  let results = (outs Variadic<FFTConv_SequenceTensor>:$gradients);
  let assemblyFormat = [{
    $mode $input `,` $kernel (`reverse` $reverse^)? (`pregate` $pregate^)?
    (`postgate` $postgate^)? (`skip` $skip^)? `grad` $result_grad `wrt`
    custom<Gradients>($wrt) attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool isCausal() { return getMode() == ConvMode::Causal; }
    bool wants(ConvGradients which) {
      return bitEnumContainsAll(getWrt(), which);
    }
    /// The result holding the gradient `which`, or null if not asked for.
    Value getGradient(ConvGradients which);
  }];
}

//===----------------------------------------------------------------------===//
// FFT ops
//===----------------------------------------------------------------------===//

class FFTConv_FFTOp<string mnemonic, Type inputType, Type resultType,
                    list<Trait> traits = []>
    : FFTConv_Op<mnemonic, !listconcat([Pure], traits)> {
  let arguments = (ins inputType:$input,
                       ConfinedAttr<I64Attr, [IntPositive]>:$n);
  let results = (outs resultType:$result);
  let assemblyFormat = [{
    $input `n` `=` $n attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  code commonExtraClassDeclaration = [{
    /// The length of the last axis that the transform produces.
    int64_t getExpectedResultLength();
  }];
  let extraClassDeclaration = commonExtraClassDeclaration;
}

def FFTConv_FFTOp : FFTConv_FFTOp<"fft", FFTConv_ComplexTensor,
                                  FFTConv_ComplexTensor> {
  let summary = "discrete Fourier transform along the last axis";
  let description = [{
    `y[..., k] = sum_{j=0}^{n-1} x[..., j] * exp(-2*pi*i*j*k/n)` for
    `k < n`, where `x` is the input's last axis zero-padded or cropped to
    length `n`, exactly as `numpy.fft.fft(x, n)`. The result's last axis has
    length `n`; the other axes are unchanged.

    Example:

    ```mlir
    %y = fftconv.fft %x n = 64 : tensor<4x48xcomplex<f32>> -> tensor<4x64xcomplex<f32>>
    ```
  }];
  let hasFolder = 1;
}

def FFTConv_IFFTOp : FFTConv_FFTOp<"ifft", FFTConv_ComplexTensor,
                                   FFTConv_ComplexTensor> {
  let summary = "inverse discrete Fourier transform along the last axis";
  let description = [{
    `y[..., t] = 1/n * sum_{k=0}^{n-1} x[..., k] * exp(+2*pi*i*k*t/n)` with
    `x` padded or cropped to length `n`, exactly as `numpy.fft.ifft(x, n)`.
    `ifft(fft(x, n), n)` folds to `x` when x's last axis has length `n`.

    Example:

    ```mlir
    %x = fftconv.ifft %y n = 64 : tensor<4x64xcomplex<f32>> -> tensor<4x64xcomplex<f32>>
    ```
  }];
  let hasFolder = 1;
}

def FFTConv_RFFTOp : FFTConv_FFTOp<"rfft", FFTConv_F32Tensor,
                                   FFTConv_ComplexTensor> {
  let summary = "real-input Fourier transform along the last axis";
  let description = [{
    The first `n/2 + 1` (integer division) outputs of the DFT of the real
    input padded or cropped to length `n`, exactly as `numpy.fft.rfft(x, n)`.

    Example:

    ```mlir
    %y = fftconv.rfft %x n = 64 : tensor<4x32xf32> -> tensor<4x33xcomplex<f32>>
    ```

    A constant input folds to its constant spectrum (computed in f64): a
    constant convolution kernel's spectrum costs nothing at run time.
  }];
  let hasFolder = 1;
}

def FFTConv_IRFFTOp : FFTConv_FFTOp<"irfft", FFTConv_ComplexTensor,
                                    FFTConv_F32Tensor> {
  let summary = "inverse of rfft: Hermitian spectrum to real signal";
  let description = [{
    Exactly `numpy.fft.irfft(x, n)`: the input's last axis is padded or
    cropped to `n/2 + 1` bins, read as the non-negative half of a Hermitian
    spectrum (the imaginary parts of bin 0 and, for even `n`, of bin `n/2`
    are ignored), and the real inverse DFT of length `n` is returned,
    normalized by `1/n`. `irfft(rfft(x, n), n)` folds to `x` when x's last
    axis has length `n`.

    Example:

    ```mlir
    %x = fftconv.irfft %y n = 64 : tensor<4x33xcomplex<f32>> -> tensor<4x64xf32>
    ```
  }];
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Kernel regularizers
//===----------------------------------------------------------------------===//

def FFTConv_SquashOp : FFTConv_Op<"squash", [Pure, SameOperandsAndResultType]> {
  let summary = "FlashButterfly's Squash regularizer (soft thresholding)";
  let description = [{
    `y = sign(k) * max(|k| - lambda, 0)` elementwise, with `lambda >= 0`.
    It drives small kernel taps to exactly zero. Two squashes compose:
    `squash(squash(k, a), b) = squash(k, a + b)`; `lambda = 0` is the
    identity.

    Example:

    ```mlir
    %y = fftconv.squash %k lambda = 1.0e-03 : tensor<4x1024xf32>
    ```
  }];
  let arguments = (ins FFTConv_F32Tensor:$input, F32Attr:$lambda);
  let results = (outs FFTConv_F32Tensor:$result);
  let assemblyFormat = [{
    $input `lambda` `=` $lambda attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def FFTConv_SmoothOp : FFTConv_Op<"smooth", [Pure, SameOperandsAndResultType]> {
  let summary = "FlashButterfly's Smooth regularizer (average pooling)";
  let description = [{
    Average pooling of odd width `w = 2p + 1` with stride 1 along the last
    axis: `y[..., t] = 1/w * sum_{j=-p}^{p} k[..., t + j]`. Edges: taps
    outside the kernel count as zero and the divisor stays `w` (zero
    padding, PyTorch's `avg_pool1d(k, w, 1, p)` with its default
    `count_include_pad=True`, as FlashButterfly applies it). The length is
    unchanged. Width 1 is the identity.

    Example:

    ```mlir
    %y = fftconv.smooth %k width = 3 : tensor<4x1024xf32>
    ```
  }];
  let arguments = (ins FFTConv_F32Tensor:$input, I64Attr:$width);
  let results = (outs FFTConv_F32Tensor:$result);
  let assemblyFormat = [{
    $input `width` `=` $width attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}


//===----------------------------------------------------------------------===//
// CirculateOp
//===----------------------------------------------------------------------===//

def FFTConv_CirculateOp : FFTConv_Op<"circulate", [Pure]> {
  let summary = "the taps of a circular convolution of period L in a transform of size N >= 2L";
  let description = [{
    `kk[h, t] = k[h, t] + k[h, t - (N - L)]` for `t < N`, each term where
    its index lies in `[0, K)`: the kernels `k` (`tensor<H x K x f32>`,
    `K <= L`) as taps of a transform of size N (the result's length,
    `N >= 2L`). The circular convolution of period L of a sequence is the
    first L outputs of its zero-padded transform times that of `kk`: the
    second copy of k brings the taps that wrap around. `fftconv-conv-to-fft`
    expands circular convolutions whose length is not a power of two (or is
    below the smallest FFT size asked for) this way; the GPU spectrum kernels
    read the taps as they read k.

    With `transpose`, the adjoint: `dk[h, j] = x[h, j] + x[h, j + N - L]`
    for `j < K`, from `x` (`tensor<H x N>`) to `dk` (`tensor<H x K>`): the
    kernel gradient of such a convolution from the lags of its taps'
    (`fftconv-conv-grad-to-fft`).

    Example:

    ```mlir
    %kk = fftconv.circulate %k period = 1000 : tensor<4x1000xf32> -> tensor<4x2048xf32>
    %dk = fftconv.circulate %lags period = 1000 transpose : tensor<4x2048xf32> -> tensor<4x1000xf32>
    ```
  }];
  let arguments = (ins FFTConv_F32Tensor:$input,
                       ConfinedAttr<I64Attr, [IntPositive]>:$period,
                       UnitAttr:$transpose);
  let results = (outs FFTConv_F32Tensor:$result);
  let assemblyFormat = [{
    $input `period` `=` $period (`transpose` $transpose^)? attr-dict `:`
    type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The taps' side (H x K) and the transform's (H x N).
    RankedTensorType getKernelType() {
      return getTranspose() ? getResult().getType() : getInput().getType();
    }
    RankedTensorType getTransformType() {
      return getTranspose() ? getInput().getType() : getResult().getType();
    }
    /// N - L: where the second copy of k starts.
    int64_t getWrapOffset() {
      return getTransformType().getDimSize(1) - getPeriod();
    }
  }];
}

//===----------------------------------------------------------------------===//
// ChannelMulOp
//===----------------------------------------------------------------------===//

def FFTConv_ChannelMulOp : FFTConv_Op<"channel_mul",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "multiply each sequence's spectrum by its channel's kernel spectrum";
  let description = [{
    `y[b, h, f] = x[b, h, f] * k[h, f]`: the pointwise product of an FFT
    convolution, with the kernel spectrum `k` (`tensor<H x F>`) shared by
    every batch element. `fftconv-conv-to-fft` produces it between the
    forward and the inverse transform.

    Frequency-sparse convolution: with `band = B`, `k[h, f]` is taken as
    zero for `f >= B` (only the B lowest frequencies pass), so `y[b, h, f]
    = 0` there. The decomposition turns the band into matrix-product blocks
    that the transforms skip.

    Example:

    With `conjugate`, the kernel spectrum is conjugated: `y[b, h, f] =
    x[b, h, f] * conj(k[h, f])`. That is the correlation with the kernel
    (the adjoint of the convolution), which the backward pass of a
    convolution applies to the output gradient's spectrum.

    ```mlir
    %y = fftconv.channel_mul %x, %kf : tensor<2x4x513xcomplex<f32>>, tensor<4x513xcomplex<f32>>
    %z = fftconv.channel_mul %x, %kf band = 64 : tensor<2x4x513xcomplex<f32>>, tensor<4x513xcomplex<f32>>
    %w = fftconv.channel_mul %x, %kf conjugate : tensor<2x4x513xcomplex<f32>>, tensor<4x513xcomplex<f32>>
    ```
  }];
  let arguments = (ins FFTConv_ComplexTensor:$input,
                       FFTConv_ComplexTensor:$kernel,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$band,
                       UnitAttr:$conjugate);
  let results = (outs FFTConv_ComplexTensor:$result);
  let assemblyFormat = [{
    $input `,` $kernel (`band` `=` $band^)? (`conjugate` $conjugate^)?
    attr-dict `:` type($input) `,` type($kernel)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// CrossSpectrumOp
//===----------------------------------------------------------------------===//

def FFTConv_CrossSpectrumOp : FFTConv_Op<"cross_spectrum",
    [Pure, AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "batch-reduced cross spectrum of two batches of spectra";
  let description = [{
    `s[h, f] = sum_b conj(a[b, h, f]) * c[b, h, f]` for spectra `a`, `c` of
    type `tensor<B x H x F x complex<f32>>`; the result is `tensor<H x F x
    complex<f32>>`. The kernel gradient of a convolution is the inverse
    transform of the cross spectrum of its input `v` and its output
    gradient: `dk = irfft(cross_spectrum(rfft(v), rfft(g)))[:K]`. Reducing
    over the batch in the spectral domain leaves one inverse transform per
    channel instead of one per sequence.

    Example:

    ```mlir
    %s = fftconv.cross_spectrum %vf, %gf : tensor<2x4x513xcomplex<f32>> -> tensor<4x513xcomplex<f32>>
    ```
  }];
  let arguments = (ins FFTConv_ComplexTensor:$lhs, FFTConv_ComplexTensor:$rhs);
  let results = (outs FFTConv_ComplexTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // FFTCONV_DIALECT_FFTCONV_IR_FFTCONVOPS_TD
