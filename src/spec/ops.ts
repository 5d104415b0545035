// The op spec: one entry per op code of assembly/core/vocabulary.ts, the single source for what the op
// is and where its pieces live. `satisfies OpTable` makes the table total: an Op member without
// an entry fails `tsc` (and so the build) with "Property '<op>' is missing". build/gen-ops.mjs
// reads it and generates the dispatch tables the tape, forward mode and accelerate call
// (assembly/engine/rules.generated.ts), after checking that every kernel and rule it names exists in
// the op's family file; a name that does not exist fails the build naming the op.
//
// Adding an op is one entry here, its kernel and rules in its family file, and its tests
// (CONTRIBUTING.md walks through it).

import type { Op } from '../../assembly/core/vocabulary.js';

/** The family file in assembly/ that holds the op's kernel and rules. */
export type Family =
  | 'elementwise' | 'reduce' | 'matmul' | 'shape' | 'conv' | 'pool' | 'norm' | 'activation' | 'loss'
  | 'indexing' | 'linalg' | 'attention' | 'custom' | 'creation' | 'random' | 'optim' | 'accelerate' | 'conv3d' | 'pool3d';

/** A recorded attribute: its name and what the f64 the tape stores stands for. */
export interface Attr {
  name: string;
  type: 'i32' | 'f64' | 'bool' | 'axes' | 'dtype' | 'geometry';
  /** for 'geometry': how many words */
  words?: number;
}

export interface OpSpec {
  family: Family;
  /** tensor operands: a count, or 'variadic' (concat, custom) */
  arity: number | 'variadic';
  /** what a tape record stores beside the operands, in order */
  attrs: readonly Attr[];
  /** the exported kernel function of the family file that computes the op */
  forward: string;
  /** the kernel a replay calls where it is not `forward` (an update replayed from its program record) */
  replay?: string;
  /** the scalar form a program of size-1 operands evaluates (binary and unary elementwise ops) */
  scalar?: string;
  /** the kernel on one contiguous run by pointers, which an accelerated program's fused group calls on tiles */
  run?: string;
  /**
   * The reverse-mode rule (a function `(op, r, g)` of the family file), or why there is none:
   * `{ none: 'zero' }` ops are never recorded (their derivative is zero or they make integers);
   * `{ none: 'not differentiable' }` ops are recorded but differentiating them is an error;
   * `{ none: 'program only' }` ops exist only inside accelerated programs.
   */
  vjp: string | { none: 'zero' | 'not differentiable' | 'program only' };
  /** the forward-mode rule (a function `(op, r)` of the family file), or why there is none */
  jvp: string | { none: 'zero' | 'not differentiable' | 'program only' };
  /** whether it goes on the tape while differentiating */
  records: boolean;
  /** whether an accelerated program can replay it */
  replays: boolean;
  /** one line for the docs */
  doc: string;
  /** the test that covers it: a test/registry entry name, or a test file */
  test: string;
}

export type OpTable = { readonly [K in keyof typeof Op]: OpSpec };

const none = (why: 'zero' | 'not differentiable' | 'program only') => ({ none: why }) as const;

const binary = (doc: string, test: string): OpSpec => ({
  family: 'elementwise', arity: 2, attrs: [], forward: 'binary', scalar: 'binaryScalarOp', run: 'binaryRun', vjp: 'vjpElementwise', jvp: 'jvpElementwise',
  records: true, replays: true, doc, test,
});
const compare = (doc: string): OpSpec => ({
  family: 'elementwise', arity: 2, attrs: [], forward: 'compare', run: 'compareRun', vjp: none('zero'), jvp: none('zero'),
  records: false, replays: true, doc: `${doc}: a bool mask, never recorded`, test: 'test/elementwise.test.ts',
});
const unary = (doc: string, test: string): OpSpec => ({
  family: 'elementwise', arity: 1, attrs: [], forward: 'unary', scalar: 'unaryScalar', run: 'unaryRun', vjp: 'vjpElementwise', jvp: 'jvpElementwise',
  records: true, replays: true, doc, test,
});
const reduction = (doc: string, test: string, forward = 'reduce'): OpSpec => ({
  family: 'reduce', arity: 1, attrs: [{ name: 'axes', type: 'axes' }, { name: 'keepdims', type: 'bool' }], forward,
  vjp: 'vjpReduce', jvp: 'jvpReduce', records: true, replays: true, doc, test,
});
const programOnly = (family: Family, forward: string, arity: number, doc: string): OpSpec => ({
  family, arity, attrs: [], forward, vjp: none('program only'), jvp: none('program only'),
  records: false, replays: true, doc, test: 'test/accelerate.test.ts',
});
/** crossEntropy's attributes: the reduction (0 'none', 1 'sum', 2 'mean'), ignoreIndex, label smoothing ε. */
const CROSS_ENTROPY_ATTRS: readonly Attr[] = [{ name: 'reduction', type: 'i32' }, { name: 'ignoreIndex', type: 'i32' }, { name: 'labelSmoothing', type: 'f64' }];

const rules = (family: string) => {
  const name = family[0].toUpperCase() + family.slice(1);
  return { vjp: `vjp${name}`, jvp: `jvp${name}` };
};

export const OPS = {
  // — elementwise binary (NumPy broadcasting)
  add: binary('a + b', 'add'),
  sub: binary('a − b', 'sub'),
  mul: binary('a · b', 'mul'),
  div: binary('a / b', 'div'),
  pow: binary('a ^ b (PyTorch: the gradient is zero where b = 0, and for b where a = 0 and b ≥ 0)', 'pow'),
  maximum: binary('elementwise max; ties share the gradient', 'maximum'),
  minimum: binary('elementwise min; ties share the gradient', 'minimum'),
  logaddexp: binary('log(eᵃ + eᵇ) without overflow (torch.logaddexp)', 'logaddexp'),
  atan2: binary('atan2(a, b): the angle of (b, a), in (−π, π] (torch.atan2)', 'atan2'),
  // — comparisons
  eq: compare('a == b'),
  ne: compare('a != b'),
  lt: compare('a < b'),
  le: compare('a <= b'),
  gt: compare('a > b'),
  ge: compare('a >= b'),
  // — elementwise unary
  neg: unary('−x', 'neg'),
  abs: unary('|x|', 'abs'),
  sign: unary('sign(x) (zero gradient)', 'sign'),
  square: unary('x²', 'square'),
  sqrt: unary('√x', 'sqrt'),
  rsqrt: unary('1/√x', 'rsqrt'),
  exp: unary('eˣ', 'exp'),
  log: unary('ln x', 'log'),
  log1p: unary('ln(1 + x)', 'log1p'),
  expm1: unary('eˣ − 1', 'expm1'),
  sin: unary('sin x', 'sin'),
  cos: unary('cos x', 'cos'),
  tan: unary('tan x', 'tan'),
  tanh: unary('tanh x', 'tanh'),
  sigmoid: unary('1 / (1 + e⁻ˣ)', 'sigmoid'),
  relu: unary('max(x, 0)', 'relu'),
  softplus: unary('ln(1 + eˣ), x beyond 20 as is (PyTorch beta = 1, threshold = 20)', 'softplus'),
  erf: unary('the error function', 'erf'),
  // — elementwise with attributes or three operands
  where: { family: 'elementwise', arity: 3, attrs: [], forward: 'where', run: 'whereRun', vjp: 'vjpElementwise', jvp: 'jvpElementwise',
    records: true, replays: true, doc: 'cond ? a : b (the mask is not differentiated)', test: 'where' },
  clamp: { family: 'elementwise', arity: 1, attrs: [{ name: 'lo', type: 'f64' }, { name: 'hi', type: 'f64' }], forward: 'clamp',
    vjp: 'vjpElementwise', jvp: 'jvpElementwise', records: true, replays: true, doc: 'min(max(x, lo), hi)', test: 'clamp' },
  cast: { family: 'elementwise', arity: 1, attrs: [{ name: 'dtype', type: 'dtype' }], forward: 'cast',
    vjp: 'vjpElementwise', jvp: 'jvpElementwise', records: true, replays: true, doc: 'x converted to another dtype', test: 'cast' },
  copy: { family: 'elementwise', arity: 1, attrs: [], forward: 'copy', vjp: 'vjpElementwise', jvp: 'jvpElementwise',
    records: true, replays: true, doc: 'a copy of x', test: 'clone' },
  // — reductions over a set of axes
  sum: reduction('Σ over axes', 'sum', 'sum'),
  max: reduction('max over axes; ties share the gradient', 'max'),
  min: reduction('min over axes; ties share the gradient', 'min'),
  prod: reduction('Π over axes (exact with zeros)', 'prod'),
  logsumexp: reduction('ln Σ eˣ over axes', 'logsumexp'),
  // — matrix products
  matmul: { family: 'matmul', arity: 2, attrs: [{ name: 'transA', type: 'bool' }, { name: 'transB', type: 'bool' }],
    forward: 'matmul', ...rules('matmul'), records: true, replays: true, doc: 'op(A)·op(B), batched and broadcast', test: 'matmul' },
  // — shape and indexing
  reshape: { family: 'shape', arity: 1, attrs: [], forward: 'reshapeTo', ...rules('shape'), records: true, replays: true,
    doc: 'x with another shape (the output record holds it)', test: 'reshape' },
  permute: { family: 'shape', arity: 1, attrs: [{ name: 'perm', type: 'i32' }], forward: 'permute', ...rules('shape'),
    records: true, replays: true, doc: 'axes reordered (one attr per axis)', test: 'permute' },
  expand: { family: 'shape', arity: 1, attrs: [], forward: 'expandTo', ...rules('shape'), records: true, replays: true,
    doc: 'x broadcast to the output shape', test: 'broadcastTo' },
  slice: { family: 'shape', arity: 1, attrs: [{ name: 'dropAxis', type: 'i32' }, { name: 'start, step, count per axis', type: 'i32' }],
    forward: 'slice', ...rules('shape'), records: true, replays: true, doc: 'a strided box of x', test: 'slice' },
  pad: { family: 'shape', arity: 1, attrs: [{ name: 'value', type: 'f64' }, { name: 'start, step per axis', type: 'i32' }],
    forward: 'pad', ...rules('shape'), records: true, replays: true, doc: "x embedded in a value-filled tensor (slice's adjoint, F.pad)", test: 'pad' },
  indexSelect: { family: 'shape', arity: 2, attrs: [{ name: 'axis', type: 'i32' }], forward: 'indexSelect', ...rules('shape'),
    records: true, replays: true, doc: 'rows of x along axis at int32 indices', test: 'indexSelect' },
  indexAdd: { family: 'shape', arity: 3, attrs: [{ name: 'axis', type: 'i32' }, { name: 'alpha', type: 'f64' }], forward: 'indexAdd',
    ...rules('shape'), records: true, replays: true, doc: 'x with alpha·src added at indices along axis', test: 'indexAdd' },
  concat: { family: 'shape', arity: 'variadic', attrs: [{ name: 'axis', type: 'i32' }], forward: 'concat', ...rules('shape'),
    records: true, replays: true, doc: 'tensors joined along axis', test: 'concat' },
  gather: { family: 'shape', arity: 2, attrs: [{ name: 'axis', type: 'i32' }], forward: 'gather', ...rules('shape'),
    records: true, replays: true, doc: 'torch.gather', test: 'gather' },
  scatterAdd: { family: 'shape', arity: 3, attrs: [{ name: 'axis', type: 'i32' }], forward: 'scatterAdd', ...rules('shape'),
    records: true, replays: true, doc: 'torch.scatter_add', test: 'scatterAdd' },
  // — convolution: the three partial maps of one trilinear form
  conv: { family: 'conv', arity: 2, attrs: [{ name: 'geometry', type: 'geometry', words: 16 }], forward: 'convFamily',
    ...rules('conv'), records: true, replays: true, doc: 'y = x ⋆ w (cross-correlation, groups, stride, padding, dilation)', test: 'conv2d' },
  convTranspose: { family: 'conv', arity: 2, attrs: [{ name: 'geometry', type: 'geometry', words: 16 }], forward: 'convFamily',
    ...rules('conv'), records: true, replays: true, doc: "x-shaped from y and w: ConvTranspose, and conv's input gradient", test: 'convTranspose2d' },
  convWeight: { family: 'conv', arity: 2, attrs: [{ name: 'geometry', type: 'geometry', words: 16 }], forward: 'convFamily',
    ...rules('conv'), records: true, replays: true, doc: "w-shaped from x and y: conv's weight gradient", test: 'conv2d' },
  convBiasRelu: { family: 'conv', arity: 3, attrs: [{ name: 'geometry', type: 'geometry', words: 16 }, { name: 'channelAxis', type: 'i32' }],
    forward: 'convBiasRelu', ...rules('conv'), records: true, replays: true,
    doc: 'relu(conv(x, w) + bias), the bias add and relu fused into the store (the same bits as the three ops)', test: 'conv2d' },
  // — 3-D convolution: the same three partial maps with a depth dim
  conv3d: { family: 'conv3d', arity: 2, attrs: [{ name: 'geometry', type: 'geometry', words: 22 }], forward: 'conv3dFamily',
    ...rules('conv3d'), records: true, replays: true, doc: 'y = x ⋆ w on NCDHW (cross-correlation, groups, stride, padding, dilation)', test: 'conv3d' },
  convTranspose3d: { family: 'conv3d', arity: 2, attrs: [{ name: 'geometry', type: 'geometry', words: 22 }], forward: 'conv3dFamily',
    ...rules('conv3d'), records: true, replays: true, doc: "x-shaped from y and w: ConvTranspose3d, and conv3d's input gradient", test: 'convTranspose3d' },
  convWeight3d: { family: 'conv3d', arity: 2, attrs: [{ name: 'geometry', type: 'geometry', words: 22 }], forward: 'conv3dFamily',
    ...rules('conv3d'), records: true, replays: true, doc: "w-shaped from x and y: conv3d's weight gradient", test: 'conv3d' },
  // — pooling
  poolGather: { family: 'pool', arity: 2, attrs: [{ name: 'planes', type: 'i32' }, { name: 'xPlane', type: 'i32' }, { name: 'idxPlane', type: 'i32' }],
    forward: 'poolGather', ...rules('pool'), records: true, replays: true, doc: "values at per-plane indices: max pooling's output", test: 'maxPool2d' },
  poolScatter: { family: 'pool', arity: 2,
    attrs: [{ name: 'planes', type: 'i32' }, { name: 'outPlane', type: 'i32' }, { name: 'idxPlane', type: 'i32' }, { name: 'accumulate', type: 'bool' }],
    forward: 'poolScatter', ...rules('pool'), records: true, replays: true, doc: "values written (or summed) at per-plane indices: maxUnpool, max pooling's adjoint", test: 'maxUnpool2d' },
  avgPool: { family: 'pool', arity: 1, attrs: [{ name: 'geometry', type: 'geometry', words: 14 }], forward: 'avgPoolFamily',
    ...rules('pool'), records: true, replays: true, doc: 'windowed means, fixed or adaptive windows', test: 'avgPool2d' },
  avgPoolAdjoint: { family: 'pool', arity: 1, attrs: [{ name: 'geometry', type: 'geometry', words: 14 }], forward: 'avgPoolFamily',
    ...rules('pool'), records: true, replays: true, doc: "each mean's gradient spread over its window", test: 'avgPool2d' },
  // — 3-D pooling (max pooling's values are poolGather at maxPool3dIndices)
  avgPool3d: { family: 'pool3d', arity: 1, attrs: [{ name: 'geometry', type: 'geometry', words: 19 }], forward: 'avgPool3dFamily',
    ...rules('pool3d'), records: true, replays: true, doc: '3-D windowed means, fixed or adaptive windows', test: 'avgPool3d' },
  avgPool3dAdjoint: { family: 'pool3d', arity: 1, attrs: [{ name: 'geometry', type: 'geometry', words: 19 }], forward: 'avgPool3dFamily',
    ...rules('pool3d'), records: true, replays: true, doc: "each 3-D mean's gradient spread over its window", test: 'avgPool3d' },
  // — normalisation
  normalize: { family: 'norm', arity: 1, attrs: [{ name: 'a', type: 'i32' }, { name: 'b', type: 'i32' }, { name: 'c', type: 'i32' }, { name: 'eps', type: 'f64' }],
    forward: 'normalize', ...rules('norm'), records: true, replays: true, doc: 'x standardised over dims 0 and 2 of an [a, b, c] view', test: 'layerNorm' },
  layerNorm: { family: 'norm', arity: 3, attrs: [{ name: 'normDims', type: 'i32' }, { name: 'eps', type: 'f64' }, { name: 'affine', type: 'i32' }],
    forward: 'layerNorm', ...rules('norm'), records: true, replays: true,
    doc: 'rows of the trailing normDims dims standardised, times weight plus bias (affine: which of them follow x)', test: 'layerNorm' },
  layerNormBackward: { family: 'norm', arity: 3, attrs: [{ name: 'normDims', type: 'i32' }, { name: 'eps', type: 'f64' }, { name: 'affine', type: 'i32' }],
    forward: 'layerNormBackward', ...rules('norm'), records: true, replays: true,
    doc: "layer norm's input gradient from the adjoint, x and the optional weight", test: 'layerNorm' },
  layerNormWeightGrad: { family: 'norm', arity: 2, attrs: [{ name: 'normDims', type: 'i32' }, { name: 'eps', type: 'f64' }],
    forward: 'layerNormWeightGrad', ...rules('norm'), records: true, replays: true,
    doc: "layer norm's weight gradient: Σ over the rows of g·x̂", test: 'layerNorm' },
  // — activations and losses
  softmax: { family: 'activation', arity: 1, attrs: [{ name: 'axis', type: 'i32' }], forward: 'softmax', ...rules('activation'),
    records: true, replays: true, doc: 'softmax along an axis', test: 'softmax' },
  logSoftmax: { family: 'activation', arity: 1, attrs: [{ name: 'axis', type: 'i32' }], forward: 'softmax', ...rules('activation'),
    records: true, replays: true, doc: 'log-softmax along an axis', test: 'logSoftmax' },
  softmaxBackward: { family: 'activation', arity: 2, attrs: [{ name: 'axis', type: 'i32' }], forward: 'softmaxBackward', ...rules('activation'),
    records: true, replays: true, doc: "softmax's gradient y·(g − Σ g·y) from the adjoint g and the output y", test: 'softmax' },
  logSoftmaxBackward: { family: 'activation', arity: 2, attrs: [{ name: 'axis', type: 'i32' }], forward: 'softmaxBackward', ...rules('activation'),
    records: true, replays: true, doc: "logSoftmax's gradient g − exp(y)·Σ g from the adjoint g and the output y", test: 'logSoftmax' },
  gelu: { family: 'activation', arity: 1, attrs: [{ name: 'approximate', type: 'i32' }], forward: 'gelu', ...rules('activation'),
    records: true, replays: true, doc: "x·Φ(x), or PyTorch's tanh approximation (approximate = 1)", test: 'gelu' },
  geluBackward: { family: 'activation', arity: 2, attrs: [{ name: 'approximate', type: 'i32' }], forward: 'geluBackward', ...rules('activation'),
    records: true, replays: true, doc: "gelu's gradient g·gelu'(x) from the adjoint g and the input x", test: 'gelu' },
  ctcLoss: { family: 'loss', arity: 4, attrs: [{ name: 'blank', type: 'i32' }, { name: 'zeroInfinity', type: 'bool' }], forward: 'ctcLoss',
    ...rules('loss'), records: true, replays: true, doc: 'per-sample CTC negative log-likelihood [N] of log-probabilities [T, N, C]', test: 'ctcLoss' },
  ctcLossGrad: { family: 'loss', arity: 4, attrs: [{ name: 'blank', type: 'i32' }, { name: 'zeroInfinity', type: 'bool' }], forward: 'ctcLossGrad',
    vjp: none('not differentiable'), jvp: none('not differentiable'), records: true, replays: true,
    doc: "ctcLoss's gradient (PyTorch's formula), an op so that it has no derivative of its own", test: 'ctcLoss' },
  crossEntropy: { family: 'loss', arity: 3, attrs: CROSS_ENTROPY_ATTRS, forward: 'crossEntropy', ...rules('loss'), records: true, replays: true,
    doc: 'cross-entropy of logits [N, C] (or [C]) with class indices or probabilities, from the rows\' logSumExpRows', test: 'crossEntropy' },
  crossEntropyBackward: { family: 'loss', arity: 4, attrs: CROSS_ENTROPY_ATTRS, forward: 'crossEntropyBackward', ...rules('loss'),
    records: true, replays: true, doc: "crossEntropy's gradient G·(Q·softmax(x) − q) from the adjoint G, the logits and the targets", test: 'crossEntropy' },
  logSumExpRows: { family: 'loss', arity: 1, attrs: [], forward: 'logSumExpRows', vjp: none('zero'), jvp: none('zero'), records: false, replays: true,
    doc: "each row's max and log Σ exp(x − max) of logits [N, C], which crossEntropy and its gradient read (they differentiate through x)", test: 'crossEntropy' },
  // — scans and index computations
  cumsum: { family: 'indexing', arity: 1, attrs: [{ name: 'axis', type: 'i32' }, { name: 'reverse', type: 'bool' }], forward: 'cumsum',
    ...rules('indexing'), records: true, replays: true, doc: 'running sums along an axis', test: 'cumsum' },
  cumprod: { family: 'indexing', arity: 1, attrs: [{ name: 'axis', type: 'i32' }], forward: 'cumprod', ...rules('indexing'),
    records: true, replays: true, doc: 'running products along an axis (rules through linrec: exact with zeros)', test: 'cumprod' },
  linrec: { family: 'indexing', arity: 2, attrs: [{ name: 'axis', type: 'i32' }, { name: 'reverse', type: 'bool' }], forward: 'linrec',
    ...rules('indexing'), records: true, replays: true, doc: "h_k = a_k·h_(k∓1) + b_k along an axis: the scan cumprod's derivatives need", test: 'cumprod' },
  // — linear algebra, batched over leading dims
  solve: { family: 'linalg', arity: 2, attrs: [{ name: 'transA', type: 'bool' }], forward: 'solve', ...rules('linalg'),
    records: true, replays: true, doc: 'op(A)⁻¹·B by LU with partial pivoting', test: 'solve' },
  det: { family: 'linalg', arity: 1, attrs: [], forward: 'determinant', ...rules('linalg'), records: true, replays: true,
    doc: 'det A', test: 'det' },
  logabsdet: { family: 'linalg', arity: 1, attrs: [], forward: 'determinant', ...rules('linalg'), records: true, replays: true,
    doc: "log|det A| (slogdet's differentiable half)", test: 'slogdet' },
  cholesky: { family: 'linalg', arity: 1, attrs: [], forward: 'cholesky', ...rules('linalg'), records: true, replays: true,
    doc: 'the lower Cholesky factor', test: 'cholesky' },
  solveTriangular: { family: 'linalg', arity: 2,
    attrs: [{ name: 'upper', type: 'bool' }, { name: 'left', type: 'bool' }, { name: 'unitriangular', type: 'bool' }, { name: 'transA', type: 'bool' }],
    forward: 'solveTriangular', ...rules('linalg'), records: true, replays: true, doc: 'a triangular solve', test: 'solveTriangular' },
  qr: { family: 'linalg', arity: 1, attrs: [{ name: 'complete', type: 'bool' }], forward: 'qr', ...rules('linalg'),
    records: true, replays: true, doc: 'Q and R packed in one output', test: 'qr' },
  svd: { family: 'linalg', arity: 1, attrs: [{ name: 'fullMatrices', type: 'bool' }, { name: 'computeUV', type: 'bool' }],
    forward: 'svd', ...rules('linalg'), records: true, replays: true,
    doc: 'U, S, Vh packed in one output, by one-sided Jacobi (S alone: svdvals)', test: 'svd' },
  eigh: { family: 'linalg', arity: 1, attrs: [{ name: 'vectors', type: 'bool' }], forward: 'eigh', ...rules('linalg'),
    records: true, replays: true, doc: 'eigenvalues and eigenvectors of the lower triangle packed in one output, by cyclic Jacobi (values alone: eigvalsh)', test: 'eigh' },
  pinv: { family: 'linalg', arity: 1, attrs: [{ name: 'atol', type: 'f64' }, { name: 'rtol', type: 'f64' }, { name: 'hermitian', type: 'bool' }],
    forward: 'pinv', ...rules('linalg'), records: true, replays: true, doc: 'the Moore–Penrose pseudoinverse (through the SVD, or eigh when hermitian)', test: 'pinv' },
  // — attention
  attention: { family: 'attention', arity: 3, attrs: [{ name: 'scale', type: 'f64' }, { name: 'causal', type: 'bool' }], forward: 'attention',
    ...rules('attention'), records: true, replays: true, doc: 'softmax(scale·q·kᵀ [+ causal mask])·v, a query row at a time (no L×S matrix)', test: 'scaledDotProductAttention' },
  attentionBackward: { family: 'attention', arity: 4, attrs: [{ name: 'scale', type: 'f64' }, { name: 'causal', type: 'bool' }],
    forward: 'attentionBackward', ...rules('attention'), records: true, replays: true,
    doc: "attention's gradient from q, k, v and the adjoint g: q̄, k̄ and v̄ packed as rows of one [N, L + 2·S, max(E, Ev)] output, a block of query rows at a time", test: 'scaledDotProductAttention' },
  // — host rules: customGrad / customJvp / checkpoint, whose rules run in JS
  custom: { family: 'custom', arity: 'variadic', attrs: [{ name: 'handle', type: 'i32' }], forward: 'recordCustom', ...rules('custom'),
    records: true, replays: false, doc: 'a function with JS rules (customGrad, customJvp, checkpoint)', test: 'test/custom.test.ts' },
  // — program-only records: kernels an accelerated program repeats that never go on the tape
  fill: programOnly('elementwise', 'fillScalar', 0, 'out := a constant everywhere (constants, the sweep seed)'),
  accumulateAdd: programOnly('elementwise', 'addInPlace', 2, "out += input 1 in place (a reverse sweep's adjoint accumulation)"),
  detach: programOnly('elementwise', 'detach', 1, 'x without its derivative'),
  sortIndices: programOnly('indexing', 'sortIndices', 1, 'stable sort order along an axis (int32)'),
  argExtremum: programOnly('indexing', 'argExtremum', 1, 'argmax / argmin along an axis (int32)'),
  maxPoolIndices: programOnly('pool', 'maxPoolIndices', 1, "max pooling's argmax indices (int32)"),
  runningStats: programOnly('norm', 'runningStatsUpdate', 3, "batch/instance norm's running mean and variance, updated in place"),
  randFill: programOnly('random', 'randFill', 0, 'draws from the seeded generator, advancing it as eager code does'),
  detSign: programOnly('linalg', 'determinant', 1, "the sign of det A (slogdet's other half)"),
  valueGuard: programOnly('accelerate', 'captureGuard', 1, 'a value-dependent branch in wasm: a replay checks it goes the same way'),
  maxPool3dIndices: programOnly('pool3d', 'maxPool3dIndices', 1, "3-D max pooling's argmax indices (int32)"),
  optimStep: { ...programOnly('optim', 'optimStep', 0, 'a fused optimizer update of parameters and state in place'), replay: 'replayOptimStep' },
} as const satisfies OpTable;
