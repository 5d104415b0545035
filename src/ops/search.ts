// Binary searches with PyTorch's semantics: bucketize and searchsorted. Their results are int32
// positions (wasmgrad has no int64; PyTorch's out_int32 result), with no derivative: the values
// are read on the host and the result is a new constant tensor.

import { Tensor, tensor } from '../tensor.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { idOf, requireInit } from './common.js';
import { options, opt, checkArity, type OptionsOf } from '../options.js';
import { show } from '../sizes.js';

const BUCKETIZE = options('bucketize', {
  /** false (default): boundaries[i−1] < v <= boundaries[i]; true: boundaries[i−1] <= v < boundaries[i] */
  right: opt.boolean,
  /** PyTorch's out_int32: results are int32 either way (wasmgrad has no int64) */
  outInt32: opt.boolean,
});
const SEARCHSORTED = options('searchsorted', {
  /** false (default): the first position i with seq[i] >= v; true: the first with seq[i] > v */
  right: opt.boolean,
  /** 'left' or 'right': the same choice as `right` (they must agree when both are given) */
  side: opt.oneOf('left', 'right'),
  /** PyTorch's out_int32: results are int32 either way (wasmgrad has no int64) */
  outInt32: opt.boolean,
  /** int32 indices (sortedSequence's shape) that sort an unsorted sortedSequence along its last dim (an argsort) */
  sorter: opt.any<Tensor>(),
});
/** Options of bucketize: right (default false), outInt32 (results are int32 either way). */
export type BucketizeOptions = OptionsOf<typeof BUCKETIZE>;
/** Options of searchsorted: right (default false) or side ('left' / 'right'), sorter (an argsort of an unsorted sequence), outInt32. */
export type SearchsortedOptions = OptionsOf<typeof SEARCHSORTED>;

function numericTensor(op: string, x: Tensor, arg: string): ArrayLike<number> {
  idOf(x, `${op} (${arg})`);
  if (x.dtype === 'bool') throw new DTypeError(`${op}: ${arg} must be a float32, float64 or int32 tensor, got bool ${formatShape(x.dims)}`);
  return x.data() as ArrayLike<number>;
}

/**
 * PyTorch's cus_lower_bound / cus_upper_bound over seq[start, end), read through `sorter` when
 * given (NaN values land at the end).
 */
function bound(seq: ArrayLike<number>, start: number, end: number, v: number, right: boolean, sorter?: ArrayLike<number>): number {
  let lo = start, hi = end;
  while (lo < hi) {
    const mid = lo + ((hi - lo) >> 1), m = sorter ? seq[start + sorter[mid]] : seq[mid];
    if (right ? !(m > v) : !(m >= v)) lo = mid + 1;
    else hi = mid;
  }
  return lo - start;
}

/** The values (a number: a 0-d result), checked. */
function valuesOf(op: string, values: Tensor | number, arg: string): [ArrayLike<number>, number[]] {
  if (typeof values === 'number') return [[values], []];
  if (!(values instanceof Tensor)) throw new ValueError(`${op}: ${arg} must be a Tensor or a number, got ${show(values)}`);
  return [numericTensor(op, values, arg), [...values.dims]];
}

/**
 * torch.bucketize: for each value v of `input`, the index i of its bucket in the 1-D increasing
 * `boundaries`: boundaries[i−1] < v <= boundaries[i] (right: boundaries[i−1] <= v < boundaries[i]),
 * 0 below the first, len(boundaries) above the last. Int32, input's shape (a number gives a 0-d tensor).
 */
export function bucketize(input: Tensor | number, boundaries: Tensor, options?: BucketizeOptions): Tensor {
  if (arguments.length > 3) checkArity('bucketize', arguments, 3, 'input, boundaries, options?');
  requireInit('bucketize');
  const o = BUCKETIZE.parse(options);
  if (!(boundaries instanceof Tensor)) throw new ValueError(`bucketize: boundaries must be a 1-D Tensor, got ${show(boundaries)}`);
  const b = numericTensor('bucketize', boundaries, 'boundaries');
  if (boundaries.rank !== 1) throw new ShapeError(`bucketize: boundaries must be 1-D, got shape ${formatShape(boundaries.dims)}`);
  const [v, shape] = valuesOf('bucketize', input, 'input');
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = bound(b, 0, b.length, v[i], !!o.right);
  return tensor(out, { shape });
}

/**
 * torch.searchsorted: for each value v, the position in the sorted last dim of `sortedSequence`
 * where v would be inserted keeping it sorted: the first i with seq[i] >= v (left, default) or
 * seq[i] > v (right: `right: true` or `side: 'right'`). A 1-D sequence serves values of any shape;
 * an N-D one has the values' leading dims (one sorted row per row of values). With `sorter` (an
 * argsort of an unsorted sequence's last dim) the sequence is read in that order. Int32, values' shape.
 */
export function searchsorted(sortedSequence: Tensor, values: Tensor | number, options?: SearchsortedOptions): Tensor {
  if (arguments.length > 3) checkArity('searchsorted', arguments, 3, 'sortedSequence, values, options?');
  requireInit('searchsorted');
  const o = SEARCHSORTED.parse(options);
  if (o.side !== undefined && o.right !== undefined && (o.side === 'right') !== o.right) {
    throw new ValueError(`searchsorted: side '${o.side}' and right ${o.right} are opposites; give one of them (or matching ones)`);
  }
  const right = o.side !== undefined ? o.side === 'right' : !!o.right;
  if (!(sortedSequence instanceof Tensor)) throw new ValueError(`searchsorted: sortedSequence must be a Tensor, got ${show(sortedSequence)}`);
  const seq = numericTensor('searchsorted', sortedSequence, 'sortedSequence');
  if (sortedSequence.rank < 1) throw new ShapeError('searchsorted: sortedSequence must have at least 1 dim, got a 0-d tensor');
  const [v, shape] = valuesOf('searchsorted', values, 'values');
  const len = sortedSequence.dims[sortedSequence.rank - 1];
  if (sortedSequence.rank > 1) {
    const lead = sortedSequence.dims.slice(0, -1);
    if (shape.length !== sortedSequence.rank || lead.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`searchsorted: an N-D sortedSequence ${formatShape(sortedSequence.dims)} needs values with the same leading dims ` +
        `${formatShape(lead)} (and any last dim), got values ${typeof values === 'number' ? 'a number' : formatShape(shape)}; use a 1-D sequence for values of any shape`);
    }
  }
  let order: Int32Array | undefined;
  if (o.sorter !== undefined && o.sorter !== null) {
    const st = o.sorter;
    if (!(st instanceof Tensor)) throw new ValueError(`searchsorted: sorter must be an int32 Tensor, got ${show(st)}`);
    idOf(st, 'searchsorted (sorter)');
    if (st.dtype !== 'int32') throw new DTypeError(`searchsorted: sorter must be an int32 tensor, got ${st.dtype} ${formatShape(st.dims)}`);
    if (formatShape(st.dims) !== formatShape(sortedSequence.dims)) {
      throw new ShapeError(`searchsorted: sorter ${formatShape(st.dims)} must have sortedSequence's shape ${formatShape(sortedSequence.dims)}`);
    }
    order = st.data() as Int32Array;
    const bad = order.findIndex((k) => k < 0 || k >= len);
    if (bad >= 0) throw new ValueError(`searchsorted: sorter index ${order[bad]} is out of range for a last dim of size ${len}`);
  }
  const perRow = shape.length === 0 ? 1 : shape[shape.length - 1];
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const start = sortedSequence.rank > 1 ? Math.floor(i / perRow) * len : 0;
    out[i] = bound(seq, start, start + len, v[i], right, order);
  }
  return tensor(out, { shape });
}
