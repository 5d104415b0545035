// Reductions (kernels and rules in assembly/ops/reduce.ts): sum, mean, max, min, prod, logsumexp,
// var, std — over any set of axes, with keepdims, following PyTorch's defaults.
//
// `axes` is one axis, a list of axes, or omitted (null/undefined) for all of them; negative
// axes count from the end. An empty list also means all of them, as in PyTorch (dim=[]).

import { Tensor } from '../tensor.js';
import { wasm } from '../runtime.js';
import { ShapeError, ValueError, formatShape } from '../errors.js';
import { Op, axesMask, floatOperand, disposeAll, call, requireInit, idOf } from './common.js';
import { eq, where, sqrt } from './elementwise.js';
import { options, opt, describeValue, type OptionsOf, type OptionSchema } from '../options.js';

/** The dims to reduce: one axis, a list, or null / undefined / [] for all (negative axes count from the end). */
export type Axes = number | readonly number[] | null | undefined;

const reduceSpecs = {
  /** keep the reduced dims with size 1 (PyTorch's keepdim) */
  keepdims: opt.boolean,
};
const varSpecs = {
  ...reduceSpecs,
  /** subtracted from the element count in the divisor: 1 (default) is unbiased, 0 the population value */
  correction: opt.any<number>(),
};
const SCHEMAS = Object.fromEntries(
  ['sum', 'prod', 'max', 'min', 'amax', 'amin', 'logsumexp', 'mean'].map((n) => [n, options(n, reduceSpecs)]),
) as Record<string, OptionSchema<typeof reduceSpecs>>;
const VAR = options('var', varSpecs);
const STD = options('std', varSpecs);

/** Options of the reductions: keepdims (default false) keeps reduced dims with size 1 (PyTorch's keepdim). */
export type ReduceOptions = OptionsOf<typeof reduceSpecs>;
/** Options of var / std: keepdims, and correction (default 1, unbiased; 0 the population value). */
export type VarOptions = OptionsOf<typeof varSpecs>;

/** The bitmask of reduced dims; `[]` reduces every dim, as PyTorch's dim=[] does. */
function reducedMask(op: string, axes: Axes, rank: number): number {
  return axesMask(op, Array.isArray(axes) && axes.length === 0 ? undefined : axes, rank);
}

function reduceOp(op: Op, name: string, x: Tensor, axes: Axes, opts: ReduceOptions | undefined): Tensor {
  requireInit(name);
  const o = SCHEMAS[name].parse(opts);
  const [y, temps] = floatOperand(name, x);
  try {
    const mask = reducedMask(name, axes, y.rank);
    if (op === Op.max || op === Op.min) {
      const empty = y.dims.findIndex((d, k) => d === 0 && mask & (1 << k));
      if (empty !== -1) {
        throw new ShapeError(`${name}: cannot reduce over axis ${empty} of size 0 (x has shape ${formatShape(y.dims)}); ` +
          'the extremum of an empty set is undefined');
      }
    }
    return call(name, wasm.reduce(op, y.id, mask, o.keepdims ? 1 : 0));
  } finally {
    disposeAll(temps);
  }
}

/** Sum over `axes` (all when omitted); an empty sum is 0. */
export function sum(x: Tensor, axes?: Axes, opts?: ReduceOptions): Tensor {
  return reduceOp(Op.sum, 'sum', x, axes, opts);
}

/** Product over `axes` (all when omitted); an empty product is 1. */
export function prod(x: Tensor, axes?: Axes, opts?: ReduceOptions): Tensor {
  return reduceOp(Op.prod, 'prod', x, axes, opts);
}

/**
 * Maximum over `axes` (all when omitted), as PyTorch's amax: NaN propagates, ties share the
 * gradient evenly. Unlike PyTorch's max(dim) it returns the values only, never the indices.
 * Reducing over a dim of size 0 is a ShapeError.
 */
export function max(x: Tensor, axes?: Axes, opts?: ReduceOptions): Tensor {
  return reduceOp(Op.max, 'max', x, axes, opts);
}

/** Minimum over `axes` (all when omitted), as PyTorch's amin; see max. */
export function min(x: Tensor, axes?: Axes, opts?: ReduceOptions): Tensor {
  return reduceOp(Op.min, 'min', x, axes, opts);
}

/** PyTorch's amax (the same as max here). */
export const amax = (x: Tensor, axes?: Axes, opts?: ReduceOptions): Tensor => reduceOp(Op.max, 'amax', x, axes, opts);
/** PyTorch's amin (the same as min here). */
export const amin = (x: Tensor, axes?: Axes, opts?: ReduceOptions): Tensor => reduceOp(Op.min, 'amin', x, axes, opts);

/**
 * log(Σ exp(x)) over `axes`, computed stably by subtracting the max. An all -inf slice (or an
 * empty one) gives -inf, a +inf element gives +inf. Gradient: g · exp(x − out).
 */
export function logsumexp(x: Tensor, axes?: Axes, opts?: ReduceOptions): Tensor {
  return reduceOp(Op.logsumexp, 'logsumexp', x, axes, opts);
}

/** The number of elements `axes` covers. */
function countOver(x: Tensor, mask: number): number {
  let n = 1;
  x.dims.forEach((d, k) => { if (mask & (1 << k)) n *= d; });
  return n;
}

/** Mean over `axes` (all when omitted): sum / count, so an empty mean is NaN. */
export function mean(x: Tensor, axes?: Axes, opts?: ReduceOptions): Tensor {
  requireInit('mean');
  const o = SCHEMAS.mean.parse(opts);
  idOf(x, 'mean (x)');
  const mask = reducedMask('mean', axes, x.rank);
  const s = sum(x, axes, o);
  const r = s.div(countOver(x, mask));
  s.dispose();
  return r;
}

/**
 * Variance over `axes` (all when omitted): Σ(x − mean)² / max(0, N − correction), PyTorch's
 * definition with its default correction = 1 (unbiased). A divisor of 0 gives NaN or inf.
 */
export function variance(x: Tensor, axes?: Axes, opts?: VarOptions): Tensor {
  requireInit('var');
  const o = VAR.parse(opts);
  const correction = o.correction ?? 1;
  if (typeof correction !== 'number' || !Number.isFinite(correction)) {
    throw new ValueError(`var: correction must be a finite number, got ${describeValue(correction)}`);
  }
  idOf(x, 'var (x)');
  const mask = reducedMask('var', axes, x.rank);
  const [y, temps] = floatOperand('var', x);
  const divisor = Math.max(0, countOver(y, mask) - correction);
  const m = mean(y, axes, { keepdims: true });
  const d = y.sub(m);
  const d2 = d.square();
  const s = sum(d2, axes, { keepdims: o.keepdims });
  const r = s.div(divisor);
  disposeAll([m, d, d2, s, ...temps]);
  return r;
}
export { variance as var };

/**
 * Standard deviation: sqrt(var) with the same options. Where it is exactly 0 its gradient is 0
 * (PyTorch masks it), not the NaN a plain sqrt would give.
 */
export function std(x: Tensor, axes?: Axes, opts?: VarOptions): Tensor {
  requireInit('std');
  const o = STD.parse(opts);
  const v = variance(x, axes, o);
  const isZero = eq(v, 0);
  // sqrt never sees the zeros, so its rule never divides 0 by 0; they pass through v itself.
  const safe = where(isZero, 1, v);
  const root = sqrt(safe);
  const r = where(isZero, v, root);
  disposeAll([v, isZero, safe, root]);
  return r;
}

declare module '../tensor.js' {
  interface Tensor {
    /** Sum over `axes` (all when omitted); an empty sum is 0 (PyTorch: Tensor.sum; MATLAB: sum). */
    sum(axes?: Axes, options?: ReduceOptions): Tensor;
    /** Mean over `axes` (all when omitted); an empty mean is NaN (PyTorch: Tensor.mean; MATLAB: mean). */
    mean(axes?: Axes, options?: ReduceOptions): Tensor;
    /** Product over `axes` (all when omitted); an empty product is 1 (PyTorch: Tensor.prod; MATLAB: prod). */
    prod(axes?: Axes, options?: ReduceOptions): Tensor;
    /** amax: values only (PyTorch's max(dim) also returns indices; this does not). */
    max(axes?: Axes, options?: ReduceOptions): Tensor;
    /** amin: values only (PyTorch's min(dim) also returns indices; this does not). */
    min(axes?: Axes, options?: ReduceOptions): Tensor;
    /** Maximum over `axes`, values only (PyTorch: Tensor.amax; MATLAB: max). */
    amax(axes?: Axes, options?: ReduceOptions): Tensor;
    /** Minimum over `axes`, values only (PyTorch: Tensor.amin; MATLAB: min). */
    amin(axes?: Axes, options?: ReduceOptions): Tensor;
    /** log Σ exp(x) over `axes`, stable (PyTorch: Tensor.logsumexp). */
    logsumexp(axes?: Axes, options?: ReduceOptions): Tensor;
    /** Variance over `axes` (all when omitted), Σ(x − mean)² / (N − correction), correction default 1 (PyTorch: Tensor.var; MATLAB: var). */
    var(axes?: Axes, options?: VarOptions): Tensor;
    /** Standard deviation, sqrt(var) with the same options; gradient 0 where it is 0 (PyTorch: Tensor.std; MATLAB: std). */
    std(axes?: Axes, options?: VarOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.sum = function (axes, options) { return sum(this, axes, options); };
P.mean = function (axes, options) { return mean(this, axes, options); };
P.prod = function (axes, options) { return prod(this, axes, options); };
P.max = function (axes, options) { return max(this, axes, options); };
P.min = function (axes, options) { return min(this, axes, options); };
P.amax = function (axes, options) { return amax(this, axes, options); };
P.amin = function (axes, options) { return amin(this, axes, options); };
P.logsumexp = function (axes, options) { return logsumexp(this, axes, options); };
P.var = function (axes, options) { return variance(this, axes, options); };
P.std = function (axes, options) { return std(this, axes, options); };

export { Op };
