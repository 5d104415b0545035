// The one op vocabulary of wasmgrad, shared by assembly/ (AssemblyScript) and src/ (TypeScript).
// It is plain enum syntax that both compilers accept, so neither side keeps a copy.
// Numbering is grouped by family; append within a group, never renumber (tapes hold these codes).

/** Element types, by their code in wasm memory (a tensor's `dtype` is the name). */
export enum DType {
  /** 32-bit IEEE float (the default dtype). */
  float32 = 0,
  /** 64-bit IEEE float. */
  float64 = 1,
  /** 32-bit signed integer (indices, counts). */
  int32 = 2,
  /** boolean, one byte per element (masks). */
  bool = 3,
}

/** The op codes of wasmgrad's kernels, as tapes and traces (TraceNode) record them. */
export enum Op {
  // — elementwise binary (assembly/ops/elementwise.ts); NumPy broadcasting
  /** a + b (torch.add). */
  add = 1,
  /** a − b (torch.sub). */
  sub = 2,
  /** a · b (torch.mul). */
  mul = 3,
  /** a / b (torch.div). */
  div = 4,
  /** aᵇ (torch.pow). */
  pow = 5,
  /** elementwise max(a, b) (torch.maximum). */
  maximum = 6,
  /** elementwise min(a, b) (torch.minimum). */
  minimum = 7,
  /** log(eᵃ + eᵇ) without overflow (torch.logaddexp). */
  logaddexp = 8, // log(eᵃ + eᵇ), computed without overflow
  /** the angle of the point (b, a) in (−π, π] (torch.atan2). */
  atan2 = 9, // the angle of the point (b, a): atan2(a, b), a the y and b the x coordinate
  // — comparisons (assembly/ops/elementwise.ts): bool masks, never recorded, zero gradient
  /** a == b, a bool mask. */
  eq = 20,
  /** a != b, a bool mask. */
  ne = 21,
  /** a < b, a bool mask. */
  lt = 22,
  /** a <= b, a bool mask. */
  le = 23,
  /** a > b, a bool mask. */
  gt = 24,
  /** a >= b, a bool mask. */
  ge = 25,
  // — elementwise unary (assembly/ops/elementwise.ts)
  /** −x. */
  neg = 40,
  /** |x|. */
  abs = 41,
  /** sign(x): −1, 0 or 1. */
  sign = 42,
  /** x². */
  square = 43,
  /** √x. */
  sqrt = 44,
  /** 1/√x. */
  rsqrt = 45,
  /** eˣ. */
  exp = 46,
  /** natural logarithm. */
  log = 47,
  /** log(1 + x), accurate near 0. */
  log1p = 48,
  /** eˣ − 1, accurate near 0. */
  expm1 = 49,
  /** sine. */
  sin = 50,
  /** cosine. */
  cos = 51,
  /** tangent. */
  tan = 52,
  /** hyperbolic tangent. */
  tanh = 53,
  /** logistic sigmoid 1/(1 + e⁻ˣ). */
  sigmoid = 54,
  /** max(x, 0). */
  relu = 55,
  /** log(1 + eˣ). */
  softplus = 56,
  /** the error function. */
  erf = 57,
  // — elementwise with attributes / three operands (assembly/ops/elementwise.ts)
  /** cond ? a : b, elementwise (torch.where). */
  where = 70,
  /** x limited to [min, max] (torch.clamp). */
  clamp = 71,
  /** conversion to another dtype. */
  cast = 72,
  /** an elementwise copy (clone, contiguous layout). */
  copy = 73,
  // — reductions over a set of axes (assembly/ops/reduce.ts)
  /** sum over a set of axes. */
  sum = 90,
  /** maximum over a set of axes. */
  max = 91,
  /** minimum over a set of axes. */
  min = 92,
  /** product over a set of axes. */
  prod = 93,
  /** log Σ eˣ over a set of axes, without overflow. */
  logsumexp = 94,
  // — matrix products (assembly/ops/matmul.ts)
  /** batched matrix product (torch.matmul). */
  matmul = 110,
  // — shape and indexing (assembly/ops/shape.ts)
  /** the same elements in a new shape. */
  reshape = 130,
  /** axes reordered (transpose). */
  permute = 131,
  /** broadcast to a larger shape. */
  expand = 132,
  /** a strided sub-block. */
  slice = 133,
  /** x embedded in a value-filled tensor (slice's adjoint, F.pad). */
  pad = 134, // embed x into a value-filled tensor at per-dim start and step (slice's adjoint, F.pad)
  /** rows picked along an axis by int32 indices (torch.index_select). */
  indexSelect = 135,
  /** rows summed into positions along an axis (torch.index_add). */
  indexAdd = 136,
  /** tensors joined along an axis (torch.cat). */
  concat = 137,
  /** values picked along an axis by an index tensor (torch.gather). */
  gather = 138,
  /** values summed into positions along an axis (torch.scatter_add). */
  scatterAdd = 139,
  // — convolution (assembly/ops/conv.ts): the three partial maps of one trilinear form
  /** convolution y = x ⋆ w (cross-correlation with groups, stride, padding, dilation). */
  conv = 150, // y = x ⋆ w (cross-correlation, groups, stride, padding, dilation)
  /** transposed convolution, also conv's input gradient. */
  convTranspose = 151, // x-shaped from y and w: ConvTranspose, and conv's input gradient
  /** conv's weight gradient. */
  convWeight = 152, // w-shaped from x and y: conv's weight gradient
  // — 3-D convolution (assembly/ops/conv3d.ts): the same three partial maps with a depth dim
  /** 3-D convolution y = x ⋆ w (NCDHW, cross-correlation with groups, stride, padding, dilation). */
  conv3d = 153,
  /** 3-D transposed convolution, also conv3d's input gradient. */
  convTranspose3d = 154,
  /** conv3d's weight gradient. */
  convWeight3d = 155,
  /** relu(conv(x, w) + bias): conv with the bias add and relu in its store (a fused op, rules of the three). */
  convBiasRelu = 156, // attrs: geometry, the output's channel axis
  // — pooling (assembly/ops/pool.ts)
  /** values at per-plane indices (max pooling's output). */
  poolGather = 170, // values at per-plane indices: max pooling's output
  /** values written or summed at per-plane indices (maxUnpool, max pooling's adjoint). */
  poolScatter = 171, // values written (or summed) at per-plane indices: maxUnpool, max pooling's adjoint
  /** windowed means, fixed or adaptive windows. */
  avgPool = 172, // windowed means, fixed or adaptive windows
  /** average pooling's gradient spread over each window. */
  avgPoolAdjoint = 173, // each mean's gradient spread over its window
  // — 3-D pooling (assembly/ops/pool3d.ts); max pooling's values are poolGather's
  /** 3-D windowed means, fixed or adaptive windows. */
  avgPool3d = 174,
  /** 3-D average pooling's gradient spread over each window. */
  avgPool3dAdjoint = 175,
  // — normalisation (assembly/ops/norm.ts): x standardised over dims 0 and 2 of an [a, b, c] view
  /** standardisation over dims 0 and 2 of an [a, b, c] view (batch, layer, instance, group norm). */
  normalize = 190,
  /** layer norm of the rows of x's trailing dims with optional weight and bias (one fused op). */
  layerNorm = 191,
  /** layer norm's input gradient from the adjoint, x and the optional weight. */
  layerNormBackward = 192,
  /** layer norm's weight gradient: column sums of g·x̂ over the rows. */
  layerNormWeightGrad = 193,
  // — activations and losses (assembly/ops/activation.ts, assembly/ops/loss.ts)
  /** softmax along an axis. */
  softmax = 210,
  /** log-softmax along an axis. */
  logSoftmax = 211,
  /** per-sample CTC negative log-likelihood [N] of log-probabilities [T, N, C]. */
  ctcLoss = 212, // per-sample negative log-likelihood [N] of log-probabilities [T, N, C]
  /** the CTC loss's gradient. */
  ctcLossGrad = 213, // its gradient (PyTorch's formula), an op so that it has no derivative of its own
  /** softmax's gradient y·(g − Σ g·y) along an axis. */
  softmaxBackward = 214,
  /** logSoftmax's gradient g − exp(y)·Σ g along an axis. */
  logSoftmaxBackward = 215,
  /** GELU, exact or with PyTorch's tanh approximation (attr). */
  gelu = 216,
  /** GELU's gradient g·gelu'(x). */
  geluBackward = 217,
  /** cross-entropy of logits [N, C] with class indices or probabilities, reduced (attrs: reduction, ignoreIndex, label smoothing). */
  crossEntropy = 218,
  /** crossEntropy's gradient w.r.t. the logits, G·(Q·softmax(x) − q), from the adjoint G. */
  crossEntropyBackward = 219,
  /** each row's max and log Σ exp(x − max) of logits [N, C], which crossEntropy and its gradient share. */
  logSumExpRows = 220,
  // — scans and index computations (assembly/ops/indexing.ts); sort/topk/argmax/masks are not recorded
  /** cumulative sum along an axis. */
  cumsum = 230,
  /** cumulative product along an axis. */
  cumprod = 231,
  /** the linear recurrence h_k = a_k·h_(k∓1) + b_k along an axis. */
  linrec = 232, // h_k = a_k·h_(k∓1) + b_k along an axis: the scan that cumprod's derivatives need
  // — linear algebra (assembly/ops/linalg.ts); batched over leading dims
  /** op(A)⁻¹·B by LU with partial pivoting. */
  solve = 250, // op(A)⁻¹·B with LU and partial pivoting; attr: A transposed
  /** determinant. */
  det = 251,
  /** log|det A|. */
  logabsdet = 252, // log|det A| (slogdet's differentiable half)
  /** lower Cholesky factor. */
  cholesky = 253, // lower factor
  /** triangular solve. */
  solveTriangular = 254, // attrs: upper, left, unitriangular, A transposed
  /** QR decomposition, Q and R packed in one output. */
  qr = 255, // Q and R packed in one output; attr: complete
  /** SVD: U, S and Vh packed in one output (S alone: svdvals). */
  svd = 256, // one-sided Jacobi; attrs: full matrices, compute U and V
  /** symmetric eigendecomposition: eigenvalues and eigenvectors packed in one output (values alone: eigvalsh). */
  eigh = 257, // cyclic Jacobi on the lower triangle; attr: compute the vectors
  /** Moore–Penrose pseudoinverse. */
  pinv = 258, // through svd (or eigh when hermitian); attrs: atol, rtol, hermitian
  // — attention (assembly/ops/attention.ts)
  /** softmax(scale·q·kᵀ [+ causal mask])·v, one query row at a time (scaled_dot_product_attention). */
  attention = 270,
  /** attention's gradient: q̄, k̄ and v̄ packed in one output [N, L + 2·S, max(E, Ev)], a block of query rows at a time. */
  attentionBackward = 271,
  // — host rules (assembly/ops/custom.ts): customGrad / customJvp / checkpoint, whose rules run in JS
  /** a host rule (customGrad, customJvp, checkpoint) run in JavaScript. */
  custom = 300,
  // — program-only records (assembly/engine/accelerate.ts): kernels that never go on the tape but that an
  // accelerated program must repeat; compare ops reuse their own codes (eq … ge)
  /** out set to a constant (accelerated programs only). */
  fill = 320, // out := attr 0 everywhere (constants, the sweep's seed)
  /** out += input in place (a reverse sweep's adjoint accumulation). */
  accumulateAdd = 321, // out += input 1 in place (a reverse sweep's adjoint accumulation)
  /** a detached copy (accelerated programs only). */
  detach = 322,
  /** sorting indices (sort, argsort; accelerated programs only). */
  sortIndices = 323,
  /** argmax / argmin indices (accelerated programs only). */
  argExtremum = 324,
  /** max pooling's window indices (accelerated programs only). */
  maxPoolIndices = 325,
  /** batch / instance norm running statistics, updated in place. */
  runningStats = 326, // batch/instance norm's running mean / variance, updated in place
  /** draws from the seeded generator (accelerated programs only). */
  randFill = 327, // draws from the seeded generator into out, advancing it as eager code does
  /** the sign of a determinant (accelerated programs only). */
  detSign = 328,
  /** a check that a value-dependent branch goes the same way on replay. */
  valueGuard = 329, // a value-dependent branch inside wasm: replay checks it would go the same way
  /** a fused optimizer update of parameters and state in place. */
  optimStep = 330, // a fused optimizer update of params and state in place (assembly/ops/optim.ts)
  /** 3-D max pooling's window indices (accelerated programs only). */
  maxPool3dIndices = 331,
}
