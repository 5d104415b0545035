// MATLAB's dlarray with data formats: dlarray(X, fmt), dims, finddim, stripdims, extractdata, and
// the elementwise ops that keep a format.
//
// A format is a string on the Tensor handle (`x.format`), one label per dim in MATLAB's canonical
// order S…S C B T U…U. The labels name the dims of the tensor in order: a JS array shaped
// [h][w][c][n] labelled 'SSCB' has dims [h, w, c, n] (row-major storage; the indices mean what
// MATLAB's X(i, j, k, l) means). Dims are 0-based everywhere in wasmgrad, finddim included.
//
// Which ops keep a format: elementwise ops and activations (same shape), as functions and as
// Tensor methods; between formatted operands the labels are matched (see alignOperands). Every
// other op (reductions, reshape, indexing, matmul, …) gives an unformatted tensor. The MATLAB
// deep-learning functions (fullyconnect, dlconv, maxpool, batchnorm, softmax, …) in
// src/matlab/dlnn.ts read formats and return formatted results.

import { Tensor, tensor, setFormat, onFirstFormat, isTensor, type TensorOptions } from '../tensor.js';
import { ValueError } from '../errors.js';
import { OptionSchema, opt, checkArity, describeValue, type OptionsOf } from '../options.js';
import { requireInit } from '../runtime.js';
import type { DTypeName, Shape, NestedArray, NestedNumbers, NestedBooleans } from '../tensor.js';
import * as E from '../ops/elementwise.js';
import type { TensorLike } from '../ops/common.js';
import * as A from '../ops/activation.js';
import * as R from '../ops/reduce.js';
import { ShapeError } from '../errors.js';
import { checkFormat, applyFormat, alignOperands, toOrder, dimsOf } from './format.js';

// dlarray's options are tensor()'s (the options test maps dlarray to tensor's schema): data given
// as numbers goes to tensor() with them, which checks them; for a Tensor X this copy of the schema
// (not registered: it is tensor's) checks them, naming dlarray.
const DLARRAY = new OptionSchema('dlarray', {
  /** the dtype (as tensor(): float32 by default; float64 for a Float64Array) */
  dtype: opt.any<DTypeName>(),
  /** the shape to give flat data, before the format is applied */
  shape: opt.any<Shape>(),
});
/** Options of dlarray: dtype and shape, as tensor()'s (with a Tensor X only dtype, a cast). */
export type DlarrayOptions = OptionsOf<typeof DLARRAY>;

type Data = NestedArray | readonly number[] | Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array |
  Int16Array | Uint16Array | Uint32Array;

/**
 * MATLAB's dlarray. `dlarray(X)` is a tensor of X (data, or a copy of a Tensor with its format);
 * `dlarray(X, fmt)` labels X's dims in order with the format `fmt` ('SSCB', 'CB', 'CBT', …) and
 * puts them in MATLAB's canonical order S…S C B T U…U: `dlarray(X, 'TCB')` is stored as 'CBT',
 * the data permuted to match. As in MATLAB, a format may have more labels than X has dims
 * (singleton dims are appended), trailing singleton dims beyond the labels are ignored, a single
 * label on a vector gives a column vector labelled with it and 'U', and singleton trailing 'U'
 * dims after the second go. A formatted X gets the new format in place of its own. An empty
 * format gives an unformatted array. Options `{ dtype, shape }` as tensor() (with a Tensor X only
 * `dtype`, a cast).
 */
export function dlarray(X: Data | Tensor, fmt?: string | DlarrayOptions, opts?: DlarrayOptions): Tensor {
  requireInit('dlarray');
  if (arguments.length > 3) checkArity('dlarray', arguments, 3, "X, fmt?, { dtype, shape }");
  let format: string | undefined;
  let raw: unknown;
  if (typeof fmt === 'string') {
    format = checkFormat('dlarray', fmt);
    raw = opts;
  } else {
    if (opts !== undefined) {
      throw new ValueError(`dlarray: the second argument is the format (a string such as 'SSCB'), got ${describeValue(fmt)} ` +
        'with options after it; call dlarray(X, fmt, options) or dlarray(X, options)');
    }
    raw = fmt;
  }
  if (isTensor(X)) {
    const o = DLARRAY.parse(raw);
    X.use('dlarray (X)');
    if (o.shape !== undefined) {
      throw new ValueError(`dlarray: option 'shape' reshapes data given as numbers; X is a Tensor (shape [${X.dims.join(', ')}]): reshape it first`);
    }
    if (o.dtype === undefined || o.dtype === X.dtype) {
      // A copy: MATLAB's "if X is a dlarray, dlX is a copy of X" (keeping X's format).
      if (format === undefined) return setFormat(E.clone(X), X._format);
      return applyFormat('dlarray', X, format, false);
    }
    const c = E.cast(X, o.dtype);
    try {
      const y = format === undefined ? setFormat(c, X._format) : applyFormat('dlarray', c, format, true);
      if (y !== c) c.dispose();
      return y;
    } catch (e) {
      c.dispose();
      throw e;
    }
  }
  const t = tensor(X as Parameters<typeof tensor>[0], raw as TensorOptions);
  if (format === undefined) return t;
  try {
    const y = applyFormat('dlarray', t, format, true);
    if (y !== t) t.dispose();
    return y;
  } catch (e) {
    t.dispose();
    throw e;
  }
}

function tensorArg(op: string, x: unknown, what = 'X'): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`${op}: ${what} must be a Tensor (a dlarray), got ${describeValue(x)}`);
  x.use(`${op} (${what})`);
  return x;
}

/** MATLAB's dims: the format of X ('SSCB', …), or '' when X is unformatted. */
export function dims(X: Tensor): string {
  if (arguments.length > 1) checkArity('dims', arguments, 1, 'X');
  return tensorArg('dims', X)._format ?? '';
}

/**
 * MATLAB's finddim: the dims of X labelled `label`, as an array of **0-based** indices (MATLAB
 * counts from 1; every wasmgrad axis argument counts from 0, so the result goes straight into
 * X.sum(finddim(X, 'S')), size(X, finddim(X, 'C')[0]) or dljacobian's dim). Empty when no dim has
 * the label or X is unformatted.
 */
export function finddim(X: Tensor, label: string): number[] {
  if (arguments.length > 2) checkArity('finddim', arguments, 2, 'X, label');
  const x = tensorArg('finddim', X);
  if (typeof label !== 'string' || label.length !== 1) {
    throw new ValueError(`finddim: label must be one of 'S', 'C', 'B', 'T', 'U', got ${describeValue(label)}`);
  }
  checkFormat('finddim', label, 'label');
  return x._format === undefined ? [] : dimsOf(x._format, label);
}

/**
 * MATLAB's stripdims: X without its format (a new tensor: wasmgrad has no views, so this is one
 * copy; the copy is differentiable). `stripdims(X, fmt)` also orders the dims as the labels of
 * `fmt`, which must hold each of X's labels (extra labels become singleton dims): for 'SSCB' data,
 * stripdims(X, 'BCSS') is PyTorch's NCHW layout. An unformatted X is returned as a copy.
 */
export function stripdims(X: Tensor, fmt?: string): Tensor {
  if (arguments.length > 2) checkArity('stripdims', arguments, 2, 'X, fmt?');
  const x = tensorArg('stripdims', X);
  if (fmt === undefined || fmt === '' || x._format === undefined) {
    if (fmt !== undefined) checkFormat('stripdims', fmt);
    return E.clone(x);
  }
  checkFormat('stripdims', fmt);
  const y = toOrder('stripdims', x, fmt, 'X');
  return y === x ? E.clone(x) : setFormat(y, undefined);
}

/** MATLAB's extractdata: the values as (nested) JS arrays, in the stored order (a formatted array's canonical order). */
export function extractdata(X: Tensor): NestedNumbers | NestedBooleans {
  if (arguments.length > 1) checkArity('extractdata', arguments, 1, 'X');
  return tensorArg('extractdata', X).toArray();
}

// ————————————————————————————————————————————————————————— elementwise ops keep the format

const isFormatted = (x: unknown): boolean => x instanceof Tensor && x._format !== undefined;

/** f on operands at least one of which is formatted: aligned by label, the result labelled. */
function formattedCall(name: string, f: (...a: any[]) => Tensor, operands: unknown[], names: string[], rest: unknown[] = []): Tensor {
  const { args, format, temps } = alignOperands(name, operands, names);
  try {
    const y = f(...args, ...rest);
    if (y.rank !== format.length || args.includes(y)) return y;
    return setFormat(y, format);
  } finally {
    for (const t of temps) t.dispose();
  }
}

function named<F extends Function>(name: string, f: F): F {
  Object.defineProperty(f, 'name', { value: name });
  return f;
}

/** A binary op that matches formatted operands by label and keeps the format. */
function binary(name: string, f: (a: TensorLike, b: TensorLike) => Tensor) {
  return named(name, (a: TensorLike, b: TensorLike): Tensor =>
    (isFormatted(a) || isFormatted(b) ? formattedCall(name, f, [a, b], ['a', 'b']) : f(a, b)));
}

/** A shape-keeping op of x (and other arguments): the result has x's format. */
function unary<F extends (x: Tensor, ...rest: any[]) => Tensor>(name: string, f: F): F {
  return named(name, function (this: unknown, x: Tensor) {
    // eslint-disable-next-line prefer-rest-params
    const y = f.apply(undefined, arguments as unknown as Parameters<F>);
    return x instanceof Tensor && x._format !== undefined && y !== x && y.rank === x.rank ? setFormat(y, x._format) : y;
  } as unknown as F);
}

/** a + b, with NumPy broadcasting (PyTorch: torch.add; MATLAB: plus). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const add = binary('add', E.add);
/** a − b, with NumPy broadcasting (PyTorch: torch.sub; MATLAB: minus). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const sub = binary('sub', E.sub);
/** a · b, elementwise, with NumPy broadcasting (PyTorch: torch.mul; MATLAB: times). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const mul = binary('mul', E.mul);
/** a / b, true division, with NumPy broadcasting (PyTorch: torch.div; MATLAB: rdivide). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const div = binary('div', E.div);
/** aᵇ, with NumPy broadcasting (PyTorch: torch.pow; MATLAB: power). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const pow = binary('pow', E.pow);
/** the larger of a and b, elementwise, with NumPy broadcasting (PyTorch: torch.maximum; MATLAB: max(a, b)). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const maximum = binary('maximum', E.maximum);
/** the smaller of a and b, elementwise, with NumPy broadcasting (PyTorch: torch.minimum; MATLAB: min(a, b)). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const minimum = binary('minimum', E.minimum);
/** log(eᵃ + eᵇ), without overflow, with NumPy broadcasting (PyTorch: torch.logaddexp). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const logaddexp = binary('logaddexp', E.logaddexp);
/** a == b, elementwise with broadcasting: a bool mask (PyTorch: torch.eq; MATLAB: eq). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const eq = binary('eq', E.eq);
/** a != b, elementwise with broadcasting: a bool mask (PyTorch: torch.ne; MATLAB: ne). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const ne = binary('ne', E.ne);
/** a < b, elementwise with broadcasting: a bool mask (PyTorch: torch.lt; MATLAB: lt). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const lt = binary('lt', E.lt);
/** a <= b, elementwise with broadcasting: a bool mask (PyTorch: torch.le; MATLAB: le). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const le = binary('le', E.le);
/** a > b, elementwise with broadcasting: a bool mask (PyTorch: torch.gt; MATLAB: gt). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const gt = binary('gt', E.gt);
/** a >= b, elementwise with broadcasting: a bool mask (PyTorch: torch.ge; MATLAB: ge). Formatted operands (dlarray with a format) are matched by label and the result keeps the format. */
export const ge = binary('ge', E.ge);

/** cond ? a : b elementwise (see elementwise where); formatted operands are matched by label. */
export const where = named('where', (cond: TensorLike, a: TensorLike, b: TensorLike): Tensor =>
  (isFormatted(cond) || isFormatted(a) || isFormatted(b)
    ? formattedCall('where', E.where, [cond, a, b], ['cond', 'a', 'b'])
    : E.where(cond, a, b)));

/** −x, elementwise (PyTorch: torch.neg; MATLAB: uminus). A formatted x keeps its format. */
export const neg = unary('neg', E.neg);
/** |x|, elementwise (PyTorch: torch.abs; MATLAB: abs). A formatted x keeps its format. */
export const abs = unary('abs', E.abs);
/** sign(x): −1, 0 or 1, elementwise (PyTorch: torch.sign; MATLAB: sign). A formatted x keeps its format. */
export const sign = unary('sign', E.sign);
/** x², elementwise (PyTorch: torch.square). A formatted x keeps its format. */
export const square = unary('square', E.square);
/** √x, elementwise (PyTorch: torch.sqrt; MATLAB: sqrt). A formatted x keeps its format. */
export const sqrt = unary('sqrt', E.sqrt);
/** 1/√x, elementwise (PyTorch: torch.rsqrt). A formatted x keeps its format. */
export const rsqrt = unary('rsqrt', E.rsqrt);
/** eˣ, elementwise (PyTorch: torch.exp; MATLAB: exp). A formatted x keeps its format. */
export const exp = unary('exp', E.exp);
/** ln x, elementwise (PyTorch: torch.log; MATLAB: log). A formatted x keeps its format. */
export const log = unary('log', E.log);
/** log(1 + x), accurate near 0, elementwise (PyTorch: torch.log1p; MATLAB: log1p). A formatted x keeps its format. */
export const log1p = unary('log1p', E.log1p);
/** eˣ − 1, accurate near 0, elementwise (PyTorch: torch.expm1; MATLAB: expm1). A formatted x keeps its format. */
export const expm1 = unary('expm1', E.expm1);
/** sin x, elementwise (PyTorch: torch.sin; MATLAB: sin). A formatted x keeps its format. */
export const sin = unary('sin', E.sin);
/** cos x, elementwise (PyTorch: torch.cos; MATLAB: cos). A formatted x keeps its format. */
export const cos = unary('cos', E.cos);
/** tan x, elementwise (PyTorch: torch.tan; MATLAB: tan). A formatted x keeps its format. */
export const tan = unary('tan', E.tan);
/** tanh x, elementwise (PyTorch: torch.tanh; MATLAB: tanh). A formatted x keeps its format. */
export const tanh = unary('tanh', E.tanh);
/** MATLAB's sigmoid (and PyTorch's): 1 / (1 + e^−x); a formatted x keeps its format. */
export const sigmoid = unary('sigmoid', E.sigmoid);
/** MATLAB's relu (and PyTorch's): max(x, 0); a formatted x keeps its format. */
export const relu = unary('relu', E.relu);
/** erf(x), elementwise (PyTorch: torch.erf; MATLAB: erf). A formatted x keeps its format. */
export const erf = unary('erf', E.erf);
/** x limited to [min, max] (clamp(x, min?, max?); either bound may be omitted, not both), elementwise (PyTorch: torch.clamp). A formatted x keeps its format. */
export const clamp = unary('clamp', E.clamp);
/** x in another dtype: cast(x, dtype) (PyTorch: Tensor.to(dtype); MATLAB: cast). A formatted x keeps its format. */
export const cast = unary('cast', E.cast);
/** a fresh copy of x, same dtype (PyTorch: torch.clone). A formatted x keeps its format. */
export const clone = unary('clone', E.clone);
/** x − logsumexp(x) along `axis` (default −1) (PyTorch: torch.nn.functional.log_softmax). A formatted x keeps its format. */
export const logSoftmax = unary('logSoftmax', A.logSoftmax);
/** x where x > 0, else negativeSlope·x (default 0.01), elementwise (PyTorch: torch.nn.functional.leaky_relu; MATLAB: leakyrelu). A formatted x keeps its format. */
export const leakyRelu = unary('leakyRelu', A.leakyRelu);
/** x where x > 0, else alpha·(eˣ − 1) (alpha default 1), elementwise (PyTorch: torch.nn.functional.elu). A formatted x keeps its format. */
export const elu = unary('elu', A.elu);
/** scale·elu(x, alpha) with PyTorch's constants, elementwise (PyTorch: torch.nn.functional.selu). A formatted x keeps its format. */
export const selu = unary('selu', A.selu);
/** GELU, { approximate: 'none' | 'tanh' } (MATLAB's Approximation option); a formatted x keeps its format. */
export const gelu = unary('gelu', A.gelu);
/** x·σ(x), elementwise (PyTorch: torch.nn.functional.silu). A formatted x keeps its format. */
export const silu = unary('silu', A.silu);
/** x·σ(x), the same as silu, elementwise (MATLAB: swish). A formatted x keeps its format. */
export const swish = unary('swish', A.swish);
/** x·tanh(softplus(x)), elementwise (PyTorch: torch.nn.functional.mish). A formatted x keeps its format. */
export const mish = unary('mish', A.mish);
/** x clamped to [minVal, maxVal] (default [−1, 1]), elementwise (PyTorch: torch.nn.functional.hardtanh). A formatted x keeps its format. */
export const hardtanh = unary('hardtanh', A.hardtanh);
/** min(max(x + 3, 0), 6) / 6, elementwise (PyTorch: torch.nn.functional.hardsigmoid). A formatted x keeps its format. */
export const hardsigmoid = unary('hardsigmoid', A.hardsigmoid);
/** log(1 + e^(beta·x)) / beta, x where beta·x > threshold (defaults 1 and 20), elementwise (PyTorch: torch.nn.functional.softplus). A formatted x keeps its format. */
export const softplus = unary('softplus', A.softplus);

// ————————————————————————————————————————————————————————— reductions keep the format

/** The dims to reduce, MATLAB's way: none given, the first dim that is not 1 (dim 0 when all are); 'all', every dim. */
type MatlabAxes = R.Axes | 'all';

function reduction(name: string, f: (x: Tensor, axes?: R.Axes, opts?: R.ReduceOptions) => Tensor) {
  return named(name, (x: Tensor, axes?: MatlabAxes, opts?: R.ReduceOptions): Tensor => {
    if (!isFormatted(x)) {
      if (axes === 'all') return f(x, undefined, opts);
      return f(x, axes as R.Axes, opts);
    }
    if (opts !== undefined && opts !== null && (opts as R.ReduceOptions).keepdims === false) {
      throw new ValueError(`${name}: X has format '${x._format}': a formatted dlarray keeps each reduced dim as a singleton with its label, as MATLAB; stripdims(X) first to drop dims`);
    }
    let dims: R.Axes;
    if (axes === 'all') dims = x.dims.map((_, k) => k);
    else if (axes === undefined || axes === null) {
      const k = x.dims.findIndex((d) => d !== 1);
      dims = [k < 0 ? 0 : k];
    } else dims = axes;
    const y = f(x, dims, { ...(opts ?? {}), keepdims: true });
    if (y.rank !== x.rank) throw new ShapeError(`${name}: the result of shape ${y.dims.join('×')} lost the format '${x._format}'`);
    return setFormat(y, x._format);
  });
}

/**
 * The sum over `axes` (all when omitted; PyTorch: torch.sum). MATLAB's sum on a formatted
 * dlarray: over its first dim that is not 1 when no axes are given, every dim with 'all'; each
 * reduced dim stays as a singleton with its label, so the result keeps the format.
 */
export const sum = reduction('sum', R.sum);
/** The mean over `axes` (PyTorch: torch.mean); on a formatted dlarray MATLAB's mean, the format kept (see sum). */
export const mean = reduction('mean', R.mean);
/** The product over `axes` (PyTorch: torch.prod); on a formatted dlarray MATLAB's prod, the format kept (see sum). */
export const prod = reduction('prod', R.prod);
/** The maximum over `axes`, values only (PyTorch: torch.amax); on a formatted dlarray MATLAB's max(X, [], dim), the format kept (see sum). */
export const max = reduction('max', R.max);
/** The minimum over `axes`, values only (PyTorch: torch.amin); on a formatted dlarray MATLAB's min(X, [], dim), the format kept (see sum). */
export const min = reduction('min', R.min);

/**
 * MATLAB's leakyrelu(X, scaleFactor = 0.01): X where X > 0, else scaleFactor·X. A formatted X
 * keeps its format (PyTorch's name: leakyRelu).
 */
export function leakyrelu(X: Tensor, scaleFactor = 0.01): Tensor {
  if (arguments.length > 2) checkArity('leakyrelu', arguments, 2, 'X, scaleFactor?');
  if (typeof scaleFactor !== 'number' || !Number.isFinite(scaleFactor)) {
    throw new ValueError(`leakyrelu: scaleFactor must be a finite number, got ${describeValue(scaleFactor)}`);
  }
  return leakyRelu(X, scaleFactor);
}

// The Tensor methods of the same ops keep formats too. They are replaced only once the first
// formatted tensor exists (tensor.ts calls this hook then), so programs without formats run the
// original methods untouched. An unformatted call goes to the original method as it was.
const BINARY_METHODS: [string, (a: any, b: any) => Tensor][] = [
  ['add', add], ['sub', sub], ['mul', mul], ['div', div], ['pow', pow], ['maximum', maximum], ['minimum', minimum], ['logaddexp', logaddexp],
  ['eq', eq], ['ne', ne], ['lt', lt], ['le', le], ['gt', gt], ['ge', ge],
];
const UNARY_METHODS = [
  'neg', 'abs', 'sign', 'square', 'sqrt', 'rsqrt', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tan', 'tanh',
  'sigmoid', 'relu', 'softplus', 'erf', 'clamp', 'to', 'float', 'double', 'clone', 'logSoftmax', 'leakyRelu', 'elu',
  'selu', 'gelu', 'silu', 'swish', 'mish', 'hardtanh', 'hardsigmoid',
];

function installFormatMethods(): void {
  const P = Tensor.prototype as any;
  for (const [name, fn] of BINARY_METHODS) {
    const original = P[name];
    if (typeof original !== 'function') continue;
    P[name] = named(name, function (this: Tensor, b: unknown) {
      // eslint-disable-next-line prefer-rest-params
      if (this._format === undefined && !isFormatted(b)) return original.apply(this, arguments);
      // eslint-disable-next-line prefer-rest-params
      if (arguments.length > 1) checkArity(`Tensor.${name}`, arguments, 1, 'b');
      return fn(this, b);
    });
  }
  for (const name of UNARY_METHODS) {
    const original = P[name];
    if (typeof original !== 'function') continue;
    P[name] = named(name, function (this: Tensor) {
      // eslint-disable-next-line prefer-rest-params
      const y = original.apply(this, arguments);
      return this._format !== undefined && y instanceof Tensor && y !== this && y.rank === this.rank ? setFormat(y, this._format) : y;
    });
  }
  const where0 = P.where;
  P.where = named('where', function (this: Tensor, cond: unknown, other: unknown) {
    // eslint-disable-next-line prefer-rest-params
    if (this._format === undefined && !isFormatted(cond) && !isFormatted(other)) return where0.apply(this, arguments);
    return where(cond as any, this, other as any);
  });
  const softmax0 = P.softmax;
  P.softmax = named('softmax', function (this: Tensor, axis?: number) {
    // A formatted x without an axis: over its 'C' dim, as MATLAB's softmax.
    if (this._format !== undefined && axis === undefined && arguments.length === 0) {
      const c = dimsOf(this._format, 'C');
      if (c.length === 0) {
        throw new ValueError(`Tensor.softmax: x has format '${this._format}' with no 'C' (channel) dim; give the axis, or label a channel dim`);
      }
      return setFormat(softmax0.call(this, c[0]), this._format);
    }
    // eslint-disable-next-line prefer-rest-params
    const y = softmax0.apply(this, arguments);
    return this._format !== undefined ? setFormat(y, this._format) : y;
  });
}
onFirstFormat(installFormatMethods);
