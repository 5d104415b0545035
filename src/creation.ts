// Creation with PyTorch's semantics (kernels in assembly/ops/creation.ts): arange, linspace, eye,
// and zerosLike / onesLike / fullLike.

import { Tensor, empty, full, dtypeCode, type DTypeName, type CreateOptions } from './tensor.js';
import { wasm, requireInit } from './runtime.js';
import { DTypeError, ValueError } from './errors.js';
import { idOf } from './ops/common.js';
import { options, opt, checkArity } from './options.js';
import { checkSize, checkNumel, show, INT32_MIN, INT32_MAX } from './sizes.js';

const createSpecs = {
  /** the dtype (see each function for its default) */
  dtype: opt.any<DTypeName>(),
};
const ARANGE = options('arange', createSpecs);
const LINSPACE = options('linspace', createSpecs);
const EYE = options('eye', createSpecs);
const FULL_LIKE = options('fullLike', createSpecs);
const ZEROS_LIKE = options('zerosLike', createSpecs);
const ONES_LIKE = options('onesLike', createSpecs);

function checkNumber(op: string, v: unknown, what: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(`${op}: ${what} must be a number, got ${show(v)}`);
  return v;
}

function numericDtype(op: string, dtype: DTypeName): DTypeName {
  dtypeCode(dtype, op);
  if (dtype === 'bool') throw new DTypeError(`${op}: dtype 'bool' is not supported; use 'float32', 'float64' or 'int32'`);
  return dtype;
}

/**
 * arange(end) or arange(start, end, step = 1), each optionally followed by { dtype }: the values
 * start + i·step for i < ceil((end - start) / step). dtype defaults to int32 when every argument
 * is an integer (PyTorch's int64) and to float32 otherwise. For int32 the arguments are
 * truncated to integers first, as PyTorch does for integer dtypes.
 */
export function arange(...args: (number | CreateOptions)[]): Tensor {
  requireInit('arange');
  const last = args[args.length - 1];
  const options = ARANGE.parse(typeof last === 'object' && last !== null ? args.pop() : undefined);
  if (args.length < 1 || args.length > 3) {
    throw new ValueError(`arange: expects (end), (start, end) or (start, end, step), got ${args.length} numbers`);
  }
  const [start, end, step] = args.length === 1 ? [0, args[0], 1] : [args[0], args[1], args[2] ?? 1];
  checkNumber('arange', start, 'start');
  checkNumber('arange', end, 'end');
  checkNumber('arange', step, 'step');
  const s = start as number, e = end as number, d = step as number;
  const dtype = numericDtype('arange', options.dtype ?? ([s, e, d].every(Number.isInteger) ? 'int32' : 'float32'));
  if (d === 0) throw new ValueError('arange: step must be nonzero');
  if (!Number.isFinite(s) || !Number.isFinite(e)) throw new ValueError(`arange: unsupported range: ${s} -> ${e}`);
  if (!Number.isFinite(d)) throw new ValueError(`arange: step must be finite, got ${d}`);
  if (!((d > 0 && e >= s) || (d < 0 && e <= s))) {
    throw new ValueError(`arange: upper bound and lower bound inconsistent with step sign (start ${s}, end ${e}, step ${d})`);
  }
  let n: number;
  if (dtype === 'int32') {
    const si = Math.trunc(s), ei = Math.trunc(e), di = Math.trunc(d);
    if (di === 0) throw new ValueError(`arange: step ${d} truncates to 0 for dtype int32; step must be nonzero`);
    if (si < INT32_MIN || si > INT32_MAX || ei < INT32_MIN || ei > INT32_MAX) {
      throw new ValueError(`arange: range ${s} -> ${e} does not fit in int32`);
    }
    // PyTorch's integer size: ceil((end - start + step - sign(step)) / step) in integer division.
    n = Math.trunc((ei - si + di - Math.sign(di)) / di);
  } else {
    n = Math.ceil((e - s) / d);
  }
  if (!(n >= 0)) throw new ValueError(`arange: invalid size ${n} for start ${s}, end ${e}, step ${d}`);
  // A valid range with more values than a tensor can hold is out of memory, as any other size.
  checkNumel('arange', [n], dtype, `the range from ${s} to ${e} by ${d}`);
  const t = empty([n], dtype, 'arange');
  wasm.arangeFill(t.id, dtype === 'int32' ? Math.trunc(s) : s, dtype === 'int32' ? Math.trunc(d) : d);
  return t;
}

/** `steps` evenly spaced values from start to end inclusive (PyTorch's formula and precision). */
export function linspace(start: number, end: number, steps: number, opts?: CreateOptions): Tensor {
  if (arguments.length > 4) checkArity('linspace', arguments, 4, 'start, end, steps, options?');
  requireInit('linspace');
  const options = LINSPACE.parse(opts);
  checkNumber('linspace', start, 'start');
  checkNumber('linspace', end, 'end');
  if (typeof steps !== 'number' || !Number.isInteger(steps)) {
    throw new ValueError(`linspace: steps must be an integer, got ${show(steps)}`);
  }
  if (steps < 0) throw new ValueError(`linspace: number of steps must be non-negative, got ${steps}`);
  checkSize('linspace', 'steps', steps);
  const dtype = numericDtype('linspace', options.dtype ?? 'float32');
  const t = empty([steps], dtype, 'linspace');
  wasm.linspaceFill(t.id, start, end);
  return t;
}

/** An n×m matrix (m defaults to n) with ones on the diagonal. */
export function eye(n: number, m?: number | CreateOptions, opts?: CreateOptions): Tensor {
  if (arguments.length > 3) checkArity('eye', arguments, 3, 'n, m?, options?');
  requireInit('eye');
  if (typeof m === 'object' && m !== null) {
    // eye(n, options): options in m's place, so nothing may follow it.
    if (arguments.length > 2) checkArity('eye', arguments, 2, 'n, options?');
    opts = m;
    m = undefined;
  }
  const options = EYE.parse(opts);
  const cols = m ?? n;
  checkSize('eye', 'n', n);
  checkSize('eye', 'm', cols);
  const t = empty([n, cols], options.dtype ?? 'float32', 'eye');
  wasm.eyeFill(t.id);
  return t;
}

/** full(x.shape, value) in x's dtype unless options.dtype says otherwise. */
export function fullLike(x: Tensor, value: number, options?: CreateOptions): Tensor {
  if (arguments.length > 3) checkArity('fullLike', arguments, 3, 'x, value, options?');
  requireInit('fullLike');
  const o = FULL_LIKE.parse(options);
  idOf(x, 'fullLike (x)');
  return full(x.dims, value, { dtype: o.dtype ?? x.dtype });
}
/** zeros(x.shape) in x's dtype unless options.dtype says otherwise (PyTorch: torch.zeros_like). */
export function zerosLike(x: Tensor, options?: CreateOptions): Tensor {
  if (arguments.length > 2) checkArity('zerosLike', arguments, 2, 'x, options?');
  requireInit('zerosLike');
  const o = ZEROS_LIKE.parse(options);
  idOf(x, 'zerosLike (x)');
  return full(x.dims, 0, { dtype: o.dtype ?? x.dtype });
}
/** ones(x.shape) in x's dtype unless options.dtype says otherwise (PyTorch: torch.ones_like). */
export function onesLike(x: Tensor, options?: CreateOptions): Tensor {
  if (arguments.length > 2) checkArity('onesLike', arguments, 2, 'x, options?');
  requireInit('onesLike');
  const o = ONES_LIKE.parse(options);
  idOf(x, 'onesLike (x)');
  return full(x.dims, 1, { dtype: o.dtype ?? x.dtype });
}
