// Initialisers (torch.nn.init), drawing from wasmgrad's seeded generator so that the same
// wg.seed gives the same weights on every engine. Each returns a new tensor of `shape`; the
// layers call them with PyTorch's defaults.

import { Tensor, tensor, full, type Shape, type DTypeName } from '../tensor.js';
import { uniform, normal, randn } from '../random.js';
import { ValueError, formatShape } from '../errors.js';

export interface InitOptions { dtype?: DTypeName }

export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** torch.nn.init.calculate_gain: the recommended gain for a nonlinearity (param: leaky_relu's slope). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
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

/** PyTorch's _calculate_fan_in_and_fan_out: dims[1]·receptive field and dims[0]·receptive field. */
export function fanInAndOut(op: string, shape: Shape): [number, number] {
  if (shape.length < 2) {
    throw new ValueError(`${op}: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape ${formatShape(shape)})`);
  }
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1] * receptive, shape[0] * receptive];
}

export type FanMode = 'fan_in' | 'fan_out';

function fan(op: string, shape: Shape, mode: FanMode): number {
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new ValueError(`${op}: mode '${String(mode)}' not supported, please use one of fan_in, fan_out`);
  const [fanIn, fanOut] = fanInAndOut(op, shape);
  return mode === 'fan_in' ? fanIn : fanOut;
}

export const zeros = (shape: Shape, options: InitOptions = {}): Tensor => full(shape, 0, options);
export const ones = (shape: Shape, options: InitOptions = {}): Tensor => full(shape, 1, options);
export const constant = (shape: Shape, value: number, options: InitOptions = {}): Tensor => full(shape, value, options);

/** U(a, b) (torch.nn.init.uniform_). */
export const uniformInit = (shape: Shape, a = 0, b = 1, options: InitOptions = {}): Tensor => uniform(shape, a, b, options);
/** N(mean, std²) (torch.nn.init.normal_). */
export const normalInit = (shape: Shape, mean = 0, std = 1, options: InitOptions = {}): Tensor => normal(shape, mean, std, options);

/** Glorot: U(−a, a) with a = gain·√(6 / (fan_in + fan_out)). */
export function xavierUniform(shape: Shape, gain = 1, options: InitOptions = {}): Tensor {
  const [fanIn, fanOut] = fanInAndOut('xavierUniform', shape);
  const a = Math.sqrt(3) * gain * Math.sqrt(2 / (fanIn + fanOut));
  return uniform(shape, -a, a, options);
}

/** Glorot: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal(shape: Shape, gain = 1, options: InitOptions = {}): Tensor {
  const [fanIn, fanOut] = fanInAndOut('xavierNormal', shape);
  return normal(shape, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), options);
}

export interface KaimingOptions extends InitOptions {
  /** leaky_relu's negative slope (default 0) */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

/** He: U(−b, b) with b = gain·√(3 / fan), gain = calculateGain(nonlinearity, a) (default leaky_relu, a = 0). */
export function kaimingUniform(shape: Shape, options: KaimingOptions = {}): Tensor {
  const f = fan('kaimingUniform', shape, options.mode ?? 'fan_in');
  const gain = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0);
  const bound = Math.sqrt(3) * (gain / Math.sqrt(f));
  return uniform(shape, -bound, bound, { dtype: options.dtype });
}

/** He: N(0, std²) with std = gain / √fan. */
export function kaimingNormal(shape: Shape, options: KaimingOptions = {}): Tensor {
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
export function orthogonal(shape: Shape, gain = 1, options: InitOptions = {}): Tensor {
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
