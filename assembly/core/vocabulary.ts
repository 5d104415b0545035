// The one op vocabulary of wasmgrad, shared by assembly/ (AssemblyScript) and src/ (TypeScript).
// It is plain enum syntax that both compilers accept, so neither side keeps a copy.
// Numbering is grouped by family; append within a group, never renumber (tapes hold these codes).

export enum DType {
  float32 = 0,
  float64 = 1,
  int32 = 2,
  bool = 3,
}

export enum Op {
  // — elementwise binary (assembly/ops/elementwise.ts); NumPy broadcasting
  add = 1,
  sub = 2,
  mul = 3,
  div = 4,
  pow = 5,
  maximum = 6,
  minimum = 7,
  logaddexp = 8, // log(eᵃ + eᵇ), computed without overflow
  // — comparisons (assembly/ops/elementwise.ts): bool masks, never recorded, zero gradient
  eq = 20,
  ne = 21,
  lt = 22,
  le = 23,
  gt = 24,
  ge = 25,
  // — elementwise unary (assembly/ops/elementwise.ts)
  neg = 40,
  abs = 41,
  sign = 42,
  square = 43,
  sqrt = 44,
  rsqrt = 45,
  exp = 46,
  log = 47,
  log1p = 48,
  expm1 = 49,
  sin = 50,
  cos = 51,
  tan = 52,
  tanh = 53,
  sigmoid = 54,
  relu = 55,
  softplus = 56,
  erf = 57,
  // — elementwise with attributes / three operands (assembly/ops/elementwise.ts)
  where = 70,
  clamp = 71,
  cast = 72,
  copy = 73,
  // — reductions over a set of axes (assembly/ops/reduce.ts)
  sum = 90,
  max = 91,
  min = 92,
  prod = 93,
  logsumexp = 94,
  // — matrix products (assembly/ops/matmul.ts)
  matmul = 110,
  // — shape and indexing (assembly/ops/shape.ts)
  reshape = 130,
  permute = 131,
  expand = 132,
  slice = 133,
  pad = 134, // embed x into a value-filled tensor at per-dim start and step (slice's adjoint, F.pad)
  indexSelect = 135,
  indexAdd = 136,
  concat = 137,
  gather = 138,
  scatterAdd = 139,
  // — convolution (assembly/ops/conv.ts): the three partial maps of one trilinear form
  conv = 150, // y = x ⋆ w (cross-correlation, groups, stride, padding, dilation)
  convTranspose = 151, // x-shaped from y and w: ConvTranspose, and conv's input gradient
  convWeight = 152, // w-shaped from x and y: conv's weight gradient
  // — pooling (assembly/ops/pool.ts)
  poolGather = 170, // values at per-plane indices: max pooling's output
  poolScatter = 171, // values written (or summed) at per-plane indices: maxUnpool, max pooling's adjoint
  avgPool = 172, // windowed means, fixed or adaptive windows
  avgPoolAdjoint = 173, // each mean's gradient spread over its window
  // — normalisation (assembly/ops/norm.ts): x standardised over dims 0 and 2 of an [a, b, c] view
  normalize = 190,
  // — activations and losses (assembly/ops/activation.ts, assembly/ops/loss.ts)
  softmax = 210,
  logSoftmax = 211,
  ctcLoss = 212, // per-sample negative log-likelihood [N] of log-probabilities [T, N, C]
  ctcLossGrad = 213, // its gradient (PyTorch's formula), an op so that it has no derivative of its own
  // — scans and index computations (assembly/ops/indexing.ts); sort/topk/argmax/masks are not recorded
  cumsum = 230,
  cumprod = 231,
  linrec = 232, // h_k = a_k·h_(k∓1) + b_k along an axis: the scan that cumprod's derivatives need
  // — linear algebra (assembly/ops/linalg.ts); batched over leading dims
  solve = 250, // op(A)⁻¹·B with LU and partial pivoting; attr: A transposed
  det = 251,
  logabsdet = 252, // log|det A| (slogdet's differentiable half)
  cholesky = 253, // lower factor
  solveTriangular = 254, // attrs: upper, left, unitriangular, A transposed
  qr = 255, // Q and R packed in one output; attr: complete
  // — host rules (assembly/ops/custom.ts): customGrad / customJvp / checkpoint, whose rules run in JS
  custom = 300,
  // — program-only records (assembly/engine/accelerate.ts): kernels that never go on the tape but that an
  // accelerated program must repeat; compare ops reuse their own codes (eq … ge)
  fill = 320, // out := attr 0 everywhere (constants, the sweep's seed)
  accumulateAdd = 321, // out += input 1 in place (a reverse sweep's adjoint accumulation)
  detach = 322,
  sortIndices = 323,
  argExtremum = 324,
  maxPoolIndices = 325,
  runningStats = 326, // batch/instance norm's running mean / variance, updated in place
  randFill = 327, // draws from the seeded generator into out, advancing it as eager code does
  detSign = 328,
  valueGuard = 329, // a value-dependent branch inside wasm: replay checks it would go the same way
  optimStep = 330, // a fused optimizer update of params and state in place (assembly/ops/optim.ts)
}
