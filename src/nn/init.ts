// Initialisers (torch.nn.init), drawing from wasmgrad's seeded generator so that the same
// wg.seed gives the same weights on every engine. Each returns a new tensor of `shape`; the
// layers call them with PyTorch's defaults.

import { Tensor, tensor, full, type Shape, type DTypeName } from '../tensor.js';
import { uniform, normal, randn } from '../random.js';
import { ValueError, formatShape } from '../errors.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';
import { checkShape } from '../sizes.js';
import { copyInto } from './module.js';

const initSpecs = {
  /** the tensor's dtype (default float32) */
  dtype: opt.any<DTypeName>(),
};
/** Options of the nn.init functions: `dtype` of the tensor made (default 'float32'). */
export type InitOptions = OptionsOf<typeof initSpecs>;
const Z = options('nn.init.zeros', initSpecs);
const O = options('nn.init.ones', initSpecs);
const C = options('nn.init.constant', initSpecs);
const U = options('nn.init.uniformInit', initSpecs);
const N = options('nn.init.normalInit', initSpecs);
const XU = options('nn.init.xavierUniform', initSpecs);
const XN = options('nn.init.xavierNormal', initSpecs);
const OR = options('nn.init.orthogonal', initSpecs);

/** The nonlinearities calculateGain knows (PyTorch: torch.nn.init.calculate_gain's nonlinearity). */
export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** torch.nn.init.calculate_gain: the recommended gain for a nonlinearity (param: leaky_relu's slope). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  if (arguments.length > 2) checkArity('nn.init.calculateGain', arguments, 2, 'nonlinearity, param?');
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d': case 'conv_transpose1d':
    case 'conv_transpose2d': case 'conv_transpose3d': case 'sigmoid':
      return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.sqrt(2);
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) throw new ValueError(`calculateGain: negative_slope ${String(param)} is not a valid number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu': return 3 / 4;
    default: throw new ValueError(`calculateGain: unsupported nonlinearity '${String(nonlinearity)}'`);
  }
}

/** A gain: a finite number (a ValueError naming the initialiser and what it got). */
function checkGain(op: string, gain: unknown): number {
  if (typeof gain !== 'number' || !Number.isFinite(gain)) throw new ValueError(`${op}: gain must be a finite number, got ${describeValue(gain)}`);
  return gain;
}

/** PyTorch's _calculate_fan_in_and_fan_out: dims[1]·receptive field and dims[0]·receptive field. */
export function fanInAndOut(op: string, shape: Shape): [number, number] {
  if (arguments.length > 2) checkArity('nn.init.fanInAndOut', arguments, 2, 'op, shape');
  shape = checkShape(String(op), shape);
  if (shape.length < 2) {
    throw new ValueError(`${op}: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape ${formatShape(shape)})`);
  }
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1] * receptive, shape[0] * receptive];
}

/** Which fan Kaiming initialisation scales by: 'fan_in' keeps the forward pass's variance, 'fan_out' the backward pass's. */
export type FanMode = 'fan_in' | 'fan_out';

function fan(op: string, shape: Shape, mode: FanMode): number {
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new ValueError(`${op}: mode '${String(mode)}' not supported, please use one of fan_in, fan_out`);
  const [fanIn, fanOut] = fanInAndOut(op, shape);
  return mode === 'fan_in' ? fanIn : fanOut;
}

/** All zeros (torch.nn.init.zeros_). */
export function zeros(shape: Shape, options: InitOptions = {}): Tensor {
  if (arguments.length > 2) checkArity('nn.init.zeros', arguments, 2, 'shape, options?');
  return full(shape, 0, { dtype: Z.parse(options).dtype });
}
/** All ones (torch.nn.init.ones_). */
export function ones(shape: Shape, options: InitOptions = {}): Tensor {
  if (arguments.length > 2) checkArity('nn.init.ones', arguments, 2, 'shape, options?');
  return full(shape, 1, { dtype: O.parse(options).dtype });
}
/** All `value` (torch.nn.init.constant_). */
export function constant(shape: Shape, value: number, options: InitOptions = {}): Tensor {
  if (arguments.length > 3) checkArity('nn.init.constant', arguments, 3, 'shape, value, options?');
  return full(shape, value, { dtype: C.parse(options).dtype });
}

/** U(a, b) (torch.nn.init.uniform_). */
export function uniformInit(shape: Shape, a = 0, b = 1, options: InitOptions = {}): Tensor {
  if (arguments.length > 4) checkArity('nn.init.uniformInit', arguments, 4, 'shape, a?, b?, options?');
  return uniform(shape, a, b, { dtype: U.parse(options).dtype });
}
/** N(mean, std²) (torch.nn.init.normal_). */
export function normalInit(shape: Shape, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  if (arguments.length > 4) checkArity('nn.init.normalInit', arguments, 4, 'shape, mean?, std?, options?');
  return normal(shape, mean, std, { dtype: N.parse(options).dtype });
}

/** Glorot: U(−a, a) with a = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform(shape: Shape, gain = 1, options: InitOptions = {}): Tensor {
  if (arguments.length > 3) checkArity('nn.init.xavierUniform', arguments, 3, 'shape, gain?, options?');
  const { dtype } = XU.parse(options);
  shape = checkShape('nn.init.xavierUniform', shape);
  checkGain('nn.init.xavierUniform', gain);
  const [fanIn, fanOut] = fanInAndOut('xavierUniform', shape);
  const a = Math.sqrt(3) * gain * Math.sqrt(2 / (fanIn + fanOut));
  return uniform(shape, -a, a, { dtype });
}

/** Glorot: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal(shape: Shape, gain = 1, options: InitOptions = {}): Tensor {
  if (arguments.length > 3) checkArity('nn.init.xavierNormal', arguments, 3, 'shape, gain?, options?');
  const { dtype } = XN.parse(options);
  shape = checkShape('nn.init.xavierNormal', shape);
  checkGain('nn.init.xavierNormal', gain);
  const [fanIn, fanOut] = fanInAndOut('xavierNormal', shape);
  return normal(shape, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), { dtype });
}

const kaimingSpecs = {
  ...initSpecs,
  /** leaky_relu's negative slope (default 0) */
  a: opt.any<number>(),
  /** 'fan_in' (default: keeps the forward pass's variance) or 'fan_out' (the backward pass's) */
  mode: opt.any<FanMode>(),
  /** the nonlinearity the gain is for (default 'leaky_relu') */
  nonlinearity: opt.any<Nonlinearity>(),
};
/** Options of kaimingUniform / kaimingNormal: a (leaky_relu slope, default 0), mode (default 'fan_in'), nonlinearity (default 'leaky_relu'), dtype. */
export type KaimingOptions = OptionsOf<typeof kaimingSpecs>;
const KU = options('nn.init.kaimingUniform', kaimingSpecs);
const KN = options('nn.init.kaimingNormal', kaimingSpecs);

/** He: U(−b, b) with b = gain·√(3 / fan), gain = calculateGain(nonlinearity, a) (default leaky_relu, a = 0). */
export function kaimingUniform(shape: Shape, opts: KaimingOptions = {}): Tensor {
  if (arguments.length > 2) checkArity('nn.init.kaimingUniform', arguments, 2, 'shape, options?');
  const options = KU.parse(opts);
  shape = checkShape('nn.init.kaimingUniform', shape);
  const f = fan('kaimingUniform', shape, options.mode ?? 'fan_in');
  const gain = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0);
  const bound = Math.sqrt(3) * (gain / Math.sqrt(f));
  return uniform(shape, -bound, bound, { dtype: options.dtype });
}

/** He: N(0, std²) with std = gain / √fan. */
export function kaimingNormal(shape: Shape, opts: KaimingOptions = {}): Tensor {
  if (arguments.length > 2) checkArity('nn.init.kaimingNormal', arguments, 2, 'shape, options?');
  const options = KN.parse(opts);
  shape = checkShape('nn.init.kaimingNormal', shape);
  const f = fan('kaimingNormal', shape, options.mode ?? 'fan_in');
  const gain = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0);
  return normal(shape, 0, gain / Math.sqrt(f), { dtype: options.dtype });
}

/**
 * A (semi-)orthogonal matrix (torch.nn.init.orthogonal_): the Q of the QR decomposition of a
 * standard normal [rows, numel/rows] matrix (transposed when wider than tall), with the signs of
 * R's diagonal folded in, times gain. The QR (Householder, in float64) uses only +, ·, / and √,
 * which IEEE rounds the same on every engine.
 */
export function orthogonal(shape: Shape, gain = 1, opts: InitOptions = {}): Tensor {
  if (arguments.length > 3) checkArity('nn.init.orthogonal', arguments, 3, 'shape, gain?, options?');
  const options = OR.parse(opts);
  shape = checkShape('nn.init.orthogonal', shape);
  checkGain('nn.init.orthogonal', gain);
  if (shape.length < 2) throw new ValueError(`orthogonal: only tensors with 2 or more dimensions are supported, got shape ${formatShape(shape)}`);
  const rows = shape[0];
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel === 0) return full(shape, 0, options);
  const cols = numel / rows;
  const draw = randn([rows, cols], { dtype: 'float64' });
  const flat = draw.data() as Float64Array;
  draw.dispose();
  const wide = rows < cols;
  const m = wide ? cols : rows, n = wide ? rows : cols; // A is m×n, m >= n
  const A = new Float64Array(m * n);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    if (wide) A[j * n + i] = flat[i * cols + j]; else A[i * n + j] = flat[i * cols + j];
  }
  const Q = thinQ(A, m, n);
  const out = new Float64Array(numel);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    out[i * cols + j] = gain * (wide ? Q[j * n + i] : Q[i * n + j]);
  }
  return tensor(out, { shape, dtype: options.dtype ?? 'float32' });
}

/** Q (m×n) of A = QR with diag(R) made positive, by Householder reflections. */
function thinQ(A: Float64Array, m: number, n: number): Float64Array {
  const R = A.slice();
  const vs: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += R[i * n + k] * R[i * n + k];
    norm = Math.sqrt(norm);
    const v = new Float64Array(m);
    const alpha = R[k * n + k] > 0 ? -norm : norm;
    for (let i = k; i < m; i++) v[i] = R[i * n + k];
    v[k] -= alpha;
    let vv = 0;
    for (let i = k; i < m; i++) vv += v[i] * v[i];
    vs.push(v);
    if (vv === 0) continue;
    for (let j = k; j < n; j++) {
      let s = 0;
      for (let i = k; i < m; i++) s += v[i] * R[i * n + j];
      const f = (2 * s) / vv;
      for (let i = k; i < m; i++) R[i * n + j] -= f * v[i];
    }
  }
  // Q = H_0 H_1 … H_{n-1} applied to the first n columns of the identity.
  const Q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) Q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    let vv = 0;
    for (let i = k; i < m; i++) vv += v[i] * v[i];
    if (vv === 0) continue;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = k; i < m; i++) s += v[i] * Q[i * n + j];
      const f = (2 * s) / vv;
      for (let i = k; i < m; i++) Q[i * n + j] -= f * v[i];
    }
  }
  for (let j = 0; j < n; j++) {
    if (R[j * n + j] < 0) for (let i = 0; i < m; i++) Q[i * n + j] = -Q[i * n + j];
  }
  return Q;
}

// ———————————————————————————————————————————— in place, as torch.nn.init's trailing-underscore functions
//
// Each writes new values into an existing tensor — the same object and id, so a module, an
// optimizer or a tie holding it sees them — and returns it. The values are those of the
// functions above for the tensor's shape and dtype (the same draws from the seeded generator),
// with PyTorch's argument order and defaults. Like PyTorch's (which run under no_grad), they are
// not recorded on any tape.


/** The tensor to write into: alive, and float32/float64 when `float` (random values). */
function target(op: string, t: unknown, float: boolean): Tensor {
  if (!(t instanceof Tensor)) throw new ValueError(`${op}: expected a Tensor to fill in place, got ${describeValue(t)}`);
  t.use(op);
  if (float && t.dtype !== 'float32' && t.dtype !== 'float64') throw new ValueError(`${op}: can only fill a float32 or float64 tensor with random values, got ${t.dtype} ${formatShape(t.dims)}`);
  return t;
}

/** Writes make(shape, dtype)'s values into t and frees them; returns t. */
function fill(t: Tensor, make: (shape: Shape, dtype: DTypeName) => Tensor): Tensor {
  const values = make(t.shape, t.dtype);
  try { copyInto(t, values); } finally { values.dispose(); }
  return t;
}

function finiteNumber(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${op}: ${name} must be a finite number, got ${describeValue(v)}`);
  return v;
}

/** torch.nn.init.uniform_(tensor, a=0, b=1): U(a, b) into the tensor; returns it. */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  if (arguments.length > 3) checkArity('nn.init.uniform_', arguments, 3, 'tensor, a?, b?');
  target('nn.init.uniform_', t, true);
  finiteNumber('nn.init.uniform_', 'a', a); finiteNumber('nn.init.uniform_', 'b', b);
  if (a > b) throw new ValueError(`nn.init.uniform_: expects a <= b, got a=${a} > b=${b}`);
  return fill(t, (shape, dtype) => uniform(shape, a, b, { dtype }));
}

/** torch.nn.init.normal_(tensor, mean=0, std=1): N(mean, std²) into the tensor; returns it. */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  if (arguments.length > 3) checkArity('nn.init.normal_', arguments, 3, 'tensor, mean?, std?');
  target('nn.init.normal_', t, true);
  finiteNumber('nn.init.normal_', 'mean', mean); finiteNumber('nn.init.normal_', 'std', std);
  if (std < 0) throw new ValueError(`nn.init.normal_: expects std >= 0, got std=${std}`);
  return fill(t, (shape, dtype) => normal(shape, mean, std, { dtype }));
}

/** torch.nn.init.constant_(tensor, val): every element val; returns the tensor. */
export function constant_(t: Tensor, val: number): Tensor {
  if (arguments.length > 2) checkArity('nn.init.constant_', arguments, 2, 'tensor, val');
  target('nn.init.constant_', t, false);
  if (typeof val !== 'number' && typeof val !== 'boolean') throw new ValueError(`nn.init.constant_: val must be a number, got ${describeValue(val)}`);
  return fill(t, (shape, dtype) => full(shape, val, { dtype }));
}

/** torch.nn.init.zeros_(tensor); returns it. */
export function zeros_(t: Tensor): Tensor {
  if (arguments.length > 1) checkArity('nn.init.zeros_', arguments, 1, 'tensor');
  target('nn.init.zeros_', t, false);
  return fill(t, (shape, dtype) => full(shape, 0, { dtype }));
}

/** torch.nn.init.ones_(tensor); returns it. */
export function ones_(t: Tensor): Tensor {
  if (arguments.length > 1) checkArity('nn.init.ones_', arguments, 1, 'tensor');
  target('nn.init.ones_', t, false);
  return fill(t, (shape, dtype) => full(shape, 1, { dtype }));
}

/** torch.nn.init.xavier_uniform_(tensor, gain=1); returns it. */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  if (arguments.length > 2) checkArity('nn.init.xavierUniform_', arguments, 2, 'tensor, gain?');
  target('nn.init.xavierUniform_', t, true);
  return fill(t, (shape, dtype) => xavierUniform(shape, gain, { dtype }));
}

/** torch.nn.init.xavier_normal_(tensor, gain=1); returns it. */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  if (arguments.length > 2) checkArity('nn.init.xavierNormal_', arguments, 2, 'tensor, gain?');
  target('nn.init.xavierNormal_', t, true);
  return fill(t, (shape, dtype) => xavierNormal(shape, gain, { dtype }));
}

/** torch.nn.init.kaiming_uniform_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu'); returns it. */
export function kaimingUniform_(t: Tensor, a = 0, mode: FanMode = 'fan_in', nonlinearity: Nonlinearity = 'leaky_relu'): Tensor {
  if (arguments.length > 4) checkArity('nn.init.kaimingUniform_', arguments, 4, 'tensor, a?, mode?, nonlinearity?');
  target('nn.init.kaimingUniform_', t, true);
  finiteNumber('nn.init.kaimingUniform_', 'a', a);
  return fill(t, (shape, dtype) => kaimingUniform(shape, { a, mode, nonlinearity, dtype }));
}

/** torch.nn.init.kaiming_normal_(tensor, a=0, mode='fan_in', nonlinearity='leaky_relu'); returns it. */
export function kaimingNormal_(t: Tensor, a = 0, mode: FanMode = 'fan_in', nonlinearity: Nonlinearity = 'leaky_relu'): Tensor {
  if (arguments.length > 4) checkArity('nn.init.kaimingNormal_', arguments, 4, 'tensor, a?, mode?, nonlinearity?');
  target('nn.init.kaimingNormal_', t, true);
  finiteNumber('nn.init.kaimingNormal_', 'a', a);
  return fill(t, (shape, dtype) => kaimingNormal(shape, { a, mode, nonlinearity, dtype }));
}

/** torch.nn.init.orthogonal_(tensor, gain=1); returns it. */
export function orthogonal_(t: Tensor, gain = 1): Tensor {
  if (arguments.length > 2) checkArity('nn.init.orthogonal_', arguments, 2, 'tensor, gain?');
  target('nn.init.orthogonal_', t, true);
  return fill(t, (shape, dtype) => orthogonal(shape, gain, { dtype }));
}
