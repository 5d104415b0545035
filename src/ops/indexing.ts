// Indexing ops with PyTorch's semantics (kernels and rules in assembly/ops/indexing.ts): sort,
// argsort, topk, argmax/argmin, cumsum, cumprod, tril/triu, flip, roll, tile, repeat,
// repeatInterleave, oneHot and embedding.
//
// sort and topk compute int32 positions in wasm and take the values with the recording gather,
// so values are differentiable (the gradient scatters back to the chosen positions) and indices
// are not. flip, roll, repeatInterleave and embedding are index selections, tile and repeat are
// expand + reshape, tril/triu are a where with a mask: composites whose derivatives of every
// order come from those ops. cumsum and cumprod are primitives with their own rules.

import { Tensor, tensor, empty, dataPointer, type DTypeName, type NestedArray } from '../tensor.js';
import { wasm, argsI32, views, I32 } from '../runtime.js';
import { ShapeError, AxisError, DTypeError, ValueError, formatShape } from '../errors.js';
import { Op, idOf, call, castTo, disposeAll, normAxis, requireInit, isFloat, reshapeRaw } from './common.js';
import { where } from './elementwise.js';
import { options, opt, checkArity, type OptionsOf } from '../options.js';
import { checkSize, checkNumel, checkIntegerTree, show, showList } from '../sizes.js';
import { rawInt32, guardIndexRange } from '../accelerate.js';

/** Indices: an int32 tensor, or a JS array / Int32Array of integers. */
export type IndexInput = Tensor | Int32Array | NestedArray;

const describe = show;

function checkInt(op: string, v: unknown, arg: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`${op}: ${arg} must be an integer, got ${describe(v)}`);
  return v;
}

/** The index operand as an int32 tensor (made here when given as JS values) and its values. */
function indexTensor(op: string, index: IndexInput, arg = 'indices', guarded = false): [Tensor, boolean, Int32Array] {
  if (index instanceof Tensor) {
    idOf(index, `${op} (${arg})`);
    if (index.dtype !== 'int32') {
      throw new DTypeError(`${op}: ${arg} must be an int32 tensor, got ${index.dtype} ${formatShape(index.dims)}`);
    }
    // An op that guards its index range (guardIndexRange) reads the values without making an
    // accelerated function's capture fail: its replays check the range again in wasm.
    return [index, false, guarded && wasm.capturing() ? rawInt32(index) : index.data() as Int32Array];
  }
  if (index instanceof Int32Array) return [tensor(index), true, index];
  checkIntegerTree(op, arg, index);
  const t = tensor(index, { dtype: 'int32' });
  return [t, true, t.data() as Int32Array];
}

/** A fresh int32 index tensor. */
const ints = (values: number[]): Tensor => tensor(Int32Array.from(values));

/** The wasm indexSelect on checked arguments (the indices are made here, so they are in range). */
function selectRaw(op: string, x: Tensor, axis: number, idx: Tensor): Tensor {
  return call(op, wasm.indexSelect(x.id, axis, idx.id));
}


// ————————————————————————————————————————————————————————— sort, argsort, topk

const sortSpecs = {
  /** the dim to sort along (default -1) */
  axis: opt.any<number>(),
  descending: opt.boolean,
  /** sorting is always stable here (ties keep their order); accepted for PyTorch compatibility */
  stable: opt.boolean,
};
const SORT = options('sort', sortSpecs);
const ARGSORT = options('argsort', sortSpecs);
/** Options of sort / argsort: axis (default −1), descending (default false), stable (always stable; accepted). */
export type SortOptions = OptionsOf<typeof sortSpecs>;

function sortAxis(op: string, x: Tensor, axis: number | undefined): number {
  return normAxis(op, axis ?? -1, x.rank);
}

/**
 * torch.sort: [values, indices] along `axis` (default -1), ascending unless `descending`. NaN
 * sorts as the largest value; equal values keep their order. Values are differentiable.
 */
export function sort(x: Tensor, opts?: SortOptions): [Tensor, Tensor] {
  if (arguments.length > 2) checkArity('sort', arguments, 2, 'x, options?');
  requireInit('sort');
  idOf(x, 'sort (x)');
  const options = SORT.parse(opts);
  const k = sortAxis('sort', x, options.axis);
  const n = x.rank === 0 ? 1 : x.dims[k];
  const idx = call('sort', wasm.sortIndices(x.id, k, options.descending ? 1 : 0, n));
  return [call('sort', wasm.gather(x.id, k, idx.id)), idx];
}

/** torch.argsort: the int32 indices that sort x along `axis` (see sort). */
export function argsort(x: Tensor, opts?: SortOptions): Tensor {
  if (arguments.length > 2) checkArity('argsort', arguments, 2, 'x, options?');
  requireInit('argsort');
  idOf(x, 'argsort (x)');
  const options = ARGSORT.parse(opts);
  const k = sortAxis('argsort', x, options.axis);
  return call('argsort', wasm.sortIndices(x.id, k, options.descending ? 1 : 0, x.rank === 0 ? 1 : x.dims[k]));
}

const topkSpecs = {
  /** the dim to take the k elements along (default -1) */
  axis: opt.any<number>(),
  /** the k largest (default) or the k smallest */
  largest: opt.boolean,
  /** results are always in sorted order here; accepted for PyTorch compatibility */
  sorted: opt.boolean,
};
const TOPK = options('topk', topkSpecs);
/** Options of topk: axis (default −1), largest (default true), sorted (always sorted; accepted). */
export type TopkOptions = OptionsOf<typeof topkSpecs>;

/**
 * torch.topk: [values, indices] of the k largest (or smallest) elements along `axis` (default
 * -1), in sorted order. NaN counts as the largest value; among equal values the first comes first.
 */
export function topk(x: Tensor, k: number, opts?: TopkOptions): [Tensor, Tensor] {
  if (arguments.length > 3) checkArity('topk', arguments, 3, 'x, k, options?');
  requireInit('topk');
  idOf(x, 'topk (x)');
  const options = TOPK.parse(opts);
  checkInt('topk', k, 'k');
  const axis = sortAxis('topk', x, options.axis);
  const n = x.rank === 0 ? 1 : x.dims[axis];
  if (k < 0 || k > n) {
    throw new ValueError(`topk: k (${k}) is out of range for dim ${options.axis ?? -1} of size ${n} (x has shape ${formatShape(x.dims)}); k must be in [0, ${n}]`);
  }
  const largest = options.largest ?? true;
  const idx = call('topk', wasm.sortIndices(x.id, axis, largest ? 1 : 0, k));
  return [call('topk', wasm.gather(x.id, axis, idx.id)), idx];
}

// ————————————————————————————————————————————————————————— argmax, argmin

const argSpecs = {
  /** keep the reduced dim with size 1 (PyTorch's keepdim) */
  keepdims: opt.boolean,
};
const ARGMAX = options('argmax', argSpecs);
const ARGMIN = options('argmin', argSpecs);
/** Options of argmax / argmin: keepdims (default false), PyTorch's keepdim. */
export type ArgOptions = OptionsOf<typeof argSpecs>;

function argExtremum(op: string, largest: boolean, x: Tensor, axis: number | null | undefined, options: ArgOptions): Tensor {
  requireInit(op);
  idOf(x, `${op} (x)`);
  const keep = options.keepdims ? 1 : 0;
  if (axis === undefined || axis === null) {
    if (x.numel() === 0) {
      throw new ShapeError(`${op}: x has shape ${formatShape(x.dims)} with no elements; the ${op} of an empty tensor is undefined`);
    }
    return call(op, wasm.argExtremum(x.id, -1, largest ? 1 : 0, keep));
  }
  const k = normAxis(op, axis, x.rank);
  if (x.rank > 0 && x.dims[k] === 0) {
    throw new ShapeError(`${op}: cannot reduce over axis ${axis} of size 0 (x has shape ${formatShape(x.dims)})`);
  }
  return call(op, wasm.argExtremum(x.id, x.rank === 0 ? -1 : k, largest ? 1 : 0, keep));
}

/**
 * torch.argmax: the int32 position of the largest value along `axis`, or in the flattened
 * tensor when no axis is given. Ties give the first; a NaN counts as the largest (first NaN wins).
 */
export function argmax(x: Tensor, axis?: number | null, options?: ArgOptions): Tensor {
  if (arguments.length > 3) checkArity('argmax', arguments, 3, 'x, axis?, options?');
  return argExtremum('argmax', true, x, axis, ARGMAX.parse(options));
}

/** torch.argmin: as argmax, for the smallest value (a NaN still wins). */
export function argmin(x: Tensor, axis?: number | null, options?: ArgOptions): Tensor {
  if (arguments.length > 3) checkArity('argmin', arguments, 3, 'x, axis?, options?');
  return argExtremum('argmin', false, x, axis, ARGMIN.parse(options));
}

// ————————————————————————————————————————————————————————— cumsum, cumprod

const cumSpecs = {
  /** the dtype to scan in (default: x's float dtype, int32 for int32 and bool x) */
  dtype: opt.any<'float32' | 'float64' | 'int32' | 'bool'>(), // DTypeName, spelled out: TypeScript 6's .d.ts would name it without importing it
};
const CUMSUM = options('cumsum', cumSpecs);
const CUMPROD = options('cumprod', cumSpecs);
/** Options of cumsum / cumprod: dtype to scan in (default: x's float dtype; int32 for int32 and bool x). */
export type CumOptions = OptionsOf<typeof cumSpecs>;

function scanOperand(op: string, x: Tensor, options: CumOptions): [Tensor, Tensor[]] {
  // PyTorch scans bool and integer tensors as int64; int32 is wasmgrad's integer type.
  const dtype: DTypeName = options.dtype ?? (isFloat(x.dtype) ? x.dtype : 'int32');
  if (dtype === 'bool') throw new DTypeError(`${op}: dtype 'bool' is not supported; use 'float32', 'float64' or 'int32'`);
  if (dtype === x.dtype) return [x, []];
  const c = castTo(x, dtype);
  return [c, [c]];
}

/** torch.cumsum: running sums along `axis` (float32 accumulates in float64, as PyTorch's CPU does). */
export function cumsum(x: Tensor, axis: number, options?: CumOptions): Tensor {
  if (arguments.length > 3) checkArity('cumsum', arguments, 3, 'x, axis, options?');
  requireInit('cumsum');
  idOf(x, 'cumsum (x)');
  const o = CUMSUM.parse(options);
  const k = normAxis('cumsum', checkInt('cumsum', axis, 'axis'), x.rank);
  const [y, temps] = scanOperand('cumsum', x, o);
  try { return call('cumsum', wasm.cumsum(y.id, k, 0)); } finally { disposeAll(temps); }
}

/**
 * torch.cumprod: running products along `axis`. Its gradient is exact with zeros in x (no
 * division), and so are higher derivatives.
 */
export function cumprod(x: Tensor, axis: number, options?: CumOptions): Tensor {
  if (arguments.length > 3) checkArity('cumprod', arguments, 3, 'x, axis, options?');
  requireInit('cumprod');
  idOf(x, 'cumprod (x)');
  const o = CUMPROD.parse(options);
  const k = normAxis('cumprod', checkInt('cumprod', axis, 'axis'), x.rank);
  const [y, temps] = scanOperand('cumprod', x, o);
  try { return call('cumprod', wasm.cumprod(y.id, k)); } finally { disposeAll(temps); }
}

// ————————————————————————————————————————————————————————— tril, triu

function triangle(op: string, upper: boolean, x: Tensor, diagonal: number): Tensor {
  requireInit(op);
  idOf(x, `${op} (x)`);
  checkInt(op, diagonal, 'diagonal');
  if (x.rank < 2) {
    throw new ShapeError(`${op}: x must have at least 2 dims (a matrix or a batch of them), got shape ${formatShape(x.dims)}`);
  }
  const rows = x.dims[x.rank - 2], cols = x.dims[x.rank - 1];
  const mask = call(op, wasm.triMask(rows, cols, Math.max(-rows - 1, Math.min(diagonal, cols + 1)), upper ? 1 : 0));
  try { return where(mask, x, 0); } finally { mask.dispose(); }
}

/** torch.tril: the elements on and below diagonal `diagonal` of the last two dims; the rest 0. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  if (arguments.length > 2) checkArity('tril', arguments, 2, 'x, diagonal?');
  return triangle('tril', false, x, diagonal);
}
/** torch.triu: the elements on and above diagonal `diagonal` of the last two dims; the rest 0. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  if (arguments.length > 2) checkArity('triu', arguments, 2, 'x, diagonal?');
  return triangle('triu', true, x, diagonal);
}

// ————————————————————————————————————————————————————————— flip, roll

function dimList(op: string, dims: number | readonly number[], x: Tensor, arg = 'dims'): number[] {
  const list = typeof dims === 'number' ? [dims] : dims;
  if (!Array.isArray(list)) throw new ValueError(`${op}: ${arg} must be an integer or an array of integers, got ${describe(dims)}`);
  const ks = list.map((d) => normAxis(op, checkInt(op, d, arg), x.rank, 'dim'));
  ks.forEach((d, i) => {
    if (ks.indexOf(d) !== i) throw new AxisError(`${op}: dim ${list[i]} appears more than once in ${arg} [${list.join(', ')}]`);
  });
  return ks;
}

/** Applies one index selection per (dim, indices) pair, disposing the intermediates. */
function selectEach(op: string, x: Tensor, steps: [number, number[]][]): Tensor {
  let cur = x;
  for (const [d, values] of steps) {
    const idx = ints(values);
    const next = selectRaw(op, cur, d, idx);
    idx.dispose();
    if (cur !== x) cur.dispose();
    cur = next;
  }
  return cur === x ? call(op, wasm.copy(x.id)) : cur;
}

/** torch.flip: x with the order of elements reversed along each of `dims`. */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  requireInit('flip');
  idOf(x, 'flip (x)');
  const ks = dimList('flip', dims, x).filter((d) => x.rank > 0 && x.dims[d] > 1);
  return selectEach('flip', x, ks.map((d) => [d, Array.from({ length: x.dims[d] }, (_, i) => x.dims[d] - 1 - i)]));
}

/**
 * torch.roll: elements shifted by `shifts` along `dims`, wrapping around; without dims the
 * tensor is rolled as if flattened, then given its shape back.
 */
export function roll(x: Tensor, shifts: number | readonly number[], dims?: number | readonly number[] | null): Tensor {
  if (arguments.length > 3) checkArity('roll', arguments, 3, 'x, shifts, dims?');
  requireInit('roll');
  idOf(x, 'roll (x)');
  const shiftList = typeof shifts === 'number' ? [shifts] : shifts;
  if (!Array.isArray(shiftList) || shiftList.length === 0) {
    throw new ValueError(`roll: shifts must be an integer or a non-empty array of integers, got ${describe(shifts)}`);
  }
  shiftList.forEach((s, i) => checkInt('roll', s, `shifts[${i}]`));
  const rotate = (n: number, s: number) => Array.from({ length: n }, (_, i) => (((i - s) % n) + n) % n);
  if (dims === undefined || dims === null) {
    if (shiftList.length !== 1) {
      throw new ValueError(`roll: without dims, shifts must be one integer (the tensor is rolled flattened), got [${shiftList.join(', ')}]`);
    }
    if (x.numel() === 0) return call('roll', wasm.copy(x.id));
    const flatX = reshapeRaw('roll', x, [x.numel()]);
    const rolled = selectEach('roll', flatX, [[0, rotate(x.numel(), shiftList[0])]]);
    flatX.dispose();
    try { return reshapeRaw('roll', rolled, x.dims); } finally { rolled.dispose(); }
  }
  const ks = dimList('roll', dims, x);
  if (ks.length !== shiftList.length) {
    throw new ValueError(`roll: shifts and dims must have the same length, got ${shiftList.length} shift(s) [${shiftList.join(', ')}] and ${ks.length} dim(s)`);
  }
  const n = (d: number) => (x.rank === 0 ? 1 : x.dims[d]);
  const steps = ks.map((d, i): [number, number[]] => [d, rotate(n(d), shiftList[i])])
    .filter(([d, idx]) => n(d) > 0 && idx.some((v, i) => v !== i));
  return selectEach('roll', x, steps);
}

// ————————————————————————————————————————————————————————— tile, repeat, repeatInterleave

function sizeList(op: string, args: (number | readonly number[])[], arg: string): number[] {
  const list = args.length === 1 && typeof args[0] !== 'number' ? args[0] : args;
  if (!Array.isArray(list)) throw new ValueError(`${op}: ${arg} must be integers, got ${describe(args[0])}`);
  list.forEach((r, i) => {
    if (typeof r === 'number' && r < 0) throw new ValueError(`${op}: ${arg}[${i}] is ${r}; repeats must be >= 0`);
    checkSize(op, `${arg}[${i}]`, r);
  });
  return [...list] as number[];
}

/** x repeated r_j times along each dim j (repeats has x's rank), by expand + reshape per dim. */
function repeatDims(op: string, x: Tensor, repeats: number[]): Tensor {
  const outShape = x.dims.map((d, j) => d * repeats[j]);
  checkNumel(op, outShape, x.dtype);
  let cur = x;
  for (let j = 0; j < repeats.length; j++) {
    if (repeats[j] === 1) continue;
    const pre = cur.dims.slice(0, j).reduce((a, b) => a * b, 1);
    const post = cur.dims.slice(j + 1).reduce((a, b) => a * b, 1);
    const d = cur.dims[j];
    const split = reshapeRaw(op, cur, [pre, 1, d, post]);
    const grown = call(op, wasm.expandTo(split.id, 4, argsI32([pre, repeats[j], d, post])));
    const next = reshapeRaw(op, grown, [...cur.dims.slice(0, j), repeats[j] * d, ...cur.dims.slice(j + 1)]);
    disposeAll([split, grown]);
    if (cur !== x) cur.dispose();
    cur = next;
  }
  return cur === x ? call(op, wasm.copy(x.id)) : cur;
}

/**
 * torch.Tensor.repeat: x tiled `repeats[j]` times along dim j. repeats may have more entries than
 * x has dims (x gains leading dims of size 1), never fewer.
 */
export function repeat(x: Tensor, ...repeats: (number | readonly number[])[]): Tensor {
  requireInit('repeat');
  idOf(x, 'repeat (x)');
  const reps = sizeList('repeat', repeats, 'repeats');
  if (reps.length < x.rank) {
    throw new ShapeError(`repeat: ${reps.length} repeats [${reps.join(', ')}] for a tensor of rank ${x.rank} (shape ${formatShape(x.dims)}); give at least one per dim`);
  }
  if (reps.length > 8) throw new ShapeError(`repeat: ${reps.length} repeats would make a tensor of rank ${reps.length}; at most 8 dims are supported`);
  if (reps.length === x.rank) return repeatDims('repeat', x, reps);
  const lifted = reshapeRaw('repeat', x, [...new Array(reps.length - x.rank).fill(1), ...x.dims]);
  try { return repeatDims('repeat', lifted, reps); } finally { lifted.dispose(); }
}

/** torch.tile: as repeat, except that fewer reps than dims are padded with leading 1s. */
export function tile(x: Tensor, ...reps: (number | readonly number[])[]): Tensor {
  requireInit('tile');
  idOf(x, 'tile (x)');
  const list = sizeList('tile', reps, 'reps');
  return repeat(x, [...new Array(Math.max(0, x.rank - list.length)).fill(1), ...list]);
}

/**
 * torch.repeat_interleave: each element (slice along `axis`) repeated `repeats` times, or
 * repeats[i] times for element i; without an axis x is flattened first.
 */
export function repeatInterleave(x: Tensor, repeats: number | IndexInput, axis?: number | null): Tensor {
  if (arguments.length > 3) checkArity('repeatInterleave', arguments, 3, 'x, repeats, axis?');
  const op = 'repeatInterleave';
  requireInit(op);
  idOf(x, `${op} (x)`);
  if (axis !== undefined && axis !== null) normAxis(op, axis, x.rank);
  // A rank-0 x is repeated as a 1-element vector, as PyTorch does along its dim 0.
  const flatten = axis === undefined || axis === null || x.rank === 0;
  const k = flatten ? 0 : normAxis(op, axis, x.rank);
  const src = flatten ? [x.numel()] : [...x.dims];
  const n = src[k];
  let pre = 1, post = 1;
  src.forEach((d, j) => { if (j < k) pre *= d; else if (j > k) post *= d; });
  let each: number | undefined; // one count for every element
  let counts: Int32Array | undefined;
  if (typeof repeats === 'number') {
    each = checkSize(op, 'repeats', repeats);
  } else {
    const [t, temp, values] = indexTensor(op, repeats, 'repeats');
    const rank = t.rank;
    if (temp) t.dispose();
    if (rank > 1) throw new ShapeError(`${op}: repeats must be a number or 0-d / 1-d, got rank ${rank}`);
    if (values.length !== n && values.length !== 1) {
      throw new ShapeError(`${op}: repeats has ${values.length} entries but dim ${flatten ? 0 : axis} has size ${n} (x has shape ${formatShape(x.dims)}); give one per element or a single one`);
    }
    const bad = values.findIndex((v) => v < 0);
    if (bad !== -1) throw new ValueError(`${op}: repeats[${bad}] is ${values[bad]}; repeats must be >= 0`);
    if (values.length === 1) each = values[0];
    else counts = values;
  }
  if (each !== undefined) {
    // Every element the same number of times: expand [pre, n, 1, post] to [pre, n, r, post].
    const out = src.map((d, j) => (j === k ? d * each! : d));
    checkNumel(op, out, x.dtype);
    const temps: Tensor[] = [];
    try {
      const split = reshapeRaw(op, x, [pre, n, 1, post]);
      temps.push(split);
      const grown = call(op, wasm.expandTo(split.id, 4, argsI32([pre, n, each, post])));
      temps.push(grown);
      return reshapeRaw(op, grown, out);
    } finally {
      disposeAll(temps);
    }
  }
  // Counts per element: an index with element i repeated counts[i] times, written in wasm memory.
  let total = 0;
  for (const c of counts!) total += c;
  const out = src.map((d, j) => (j === k ? total : d));
  checkNumel(op, out, x.dtype);
  const temps: Tensor[] = [];
  try {
    const index = empty([total], 'int32', op);
    temps.push(index);
    views();
    let p = dataPointer(index) >>> 2;
    counts!.forEach((c, i) => { for (let r = 0; r < c; r++) I32[p++] = i; });
    const source = flatten ? reshapeRaw(op, x, src) : x;
    if (source !== x) temps.push(source);
    return selectRaw(op, source, k, index);
  } finally {
    disposeAll(temps);
  }
}

// ————————————————————————————————————————————————————————— oneHot, embedding

/**
 * torch.nn.functional.one_hot: an int32 tensor of shape [...indices.shape, numClasses] with 1 at
 * each index (PyTorch returns int64). numClasses = -1 takes max(indices) + 1.
 */
export function oneHot(indices: IndexInput, numClasses = -1): Tensor {
  if (arguments.length > 2) checkArity('oneHot', arguments, 2, 'indices, numClasses?');
  requireInit('oneHot');
  checkSize('oneHot', 'numClasses', numClasses, -1);
  const [t, temp, values] = indexTensor('oneHot', indices);
  const temps: Tensor[] = [];
  try {
    let top = -1;
    values.forEach((v, i) => {
      if (v < 0) throw new ValueError(`oneHot: index ${v} (at position ${i}) is negative; class values must be in [0, numClasses)`);
      if (v > top) top = v;
    });
    if (numClasses === -1 && values.length === 0) {
      throw new ValueError(`oneHot: cannot infer numClasses from an empty index tensor (shape ${formatShape(t.dims)}); pass numClasses`);
    }
    const classes = numClasses === -1 ? top + 1 : numClasses;
    if (top >= classes) {
      throw new ValueError(`oneHot: index ${top} is out of range for ${classes} classes; class values must be in [0, ${classes})`);
    }
    if (t.rank === 8) throw new ShapeError(`oneHot: indices of rank 8 (shape ${formatShape(t.dims)}) cannot gain a class dim; at most 8 dims are supported`);
    // The result, then the bool comparison and the class range it is made from.
    checkNumel('oneHot', [...t.dims, classes], 'int32');
    checkNumel('oneHot', [classes], 'int32', 'the class range');
    const col = reshapeRaw('oneHot', t, [...t.dims, 1]);
    temps.push(col);
    const range = empty([classes], 'int32', 'oneHot');
    temps.push(range);
    wasm.arangeFill(range.id, 0, 1);
    const hits = call('oneHot', wasm.compare(Op.eq, col.id, range.id));
    temps.push(hits);
    return castTo(hits, 'int32');
  } finally {
    disposeAll(temps);
    if (temp) t.dispose();
  }
}

const embeddingSpecs = {
  /** the row whose entries get no gradient (negative counts from the end), as PyTorch's padding_idx */
  paddingIdx: opt.any<number | null>(),
};
const EMBEDDING = options('embedding', embeddingSpecs);
/** Options of embedding: paddingIdx, the row that gets no gradient (default none). */
export type EmbeddingOptions = OptionsOf<typeof embeddingSpecs>;

/**
 * torch.nn.functional.embedding: rows of `table` ([numEmbeddings, dim]) picked by integer
 * `indices`, shape [...indices.shape, dim]. The gradient is scattered into the picked rows
 * (repeated indices accumulate); the paddingIdx row receives none.
 */
export function embedding(indices: IndexInput, table: Tensor, opts?: EmbeddingOptions): Tensor {
  if (arguments.length > 3) checkArity('embedding', arguments, 3, 'indices, table, options?');
  requireInit('embedding');
  idOf(table, 'embedding (table)');
  const options = EMBEDDING.parse(opts);
  if (table.rank !== 2) throw new ShapeError(`embedding: table must be 2-D [numEmbeddings, dim], got shape ${formatShape(table.dims)}`);
  const [rows, dim] = table.dims;
  let pad = options.paddingIdx ?? null;
  if (pad !== null) {
    checkInt('embedding', pad, 'paddingIdx');
    if (pad < -rows || pad >= rows) {
      throw new ValueError(`embedding: paddingIdx ${pad} is out of range for a table of ${rows} rows (table has shape ${formatShape(table.dims)})`);
    }
    if (pad < 0) pad += rows;
  }
  const [t, temp, values] = indexTensor('embedding', indices, 'indices', pad === null);
  const temps: Tensor[] = [];
  try {
    values.forEach((v) => {
      if (v < 0 || v >= rows) {
        throw new ValueError(`embedding: index ${v} is out of range for a table of ${rows} rows (table has shape ${formatShape(table.dims)}); indices must be in [0, ${rows})`);
      }
    });
    if (pad === null) guardIndexRange(t, rows);
    if (t.rank === 8) throw new ShapeError(`embedding: indices of rank 8 (shape ${formatShape(t.dims)}) cannot gain the embedding dim; at most 8 dims are supported`);
    checkNumel('embedding', [...t.dims, dim], table.dtype);
    const flatIdx = reshapeRaw('embedding', t, [t.numel()]);
    temps.push(flatIdx);
    let picked = selectRaw('embedding', table, 0, flatIdx);
    if (pad !== null && values.includes(pad)) {
      // The padding positions take a constant copy of their row, so no gradient reaches it.
      temps.push(picked);
      const data = table.data();
      const row = tensor(data.slice(pad * dim, (pad + 1) * dim) as Float32Array, { shape: [dim], dtype: table.dtype });
      const isPad = tensor(Array.from(values, (v) => v === pad), { shape: [values.length, 1] });
      temps.push(row, isPad);
      picked = where(isPad, row, picked);
    }
    temps.push(picked);
    return reshapeRaw('embedding', picked, [...t.dims, dim]);
  } finally {
    disposeAll(temps);
    if (temp) t.dispose();
  }
}

declare module '../tensor.js' {
  interface Tensor {
    /** [values, int32 indices] sorted along `axis` (default −1), ascending unless `descending`; stable, NaN largest (PyTorch: Tensor.sort; MATLAB: sort). */
    sort(options?: SortOptions): [Tensor, Tensor];
    /** The int32 indices that sort this tensor along `axis` (see sort) (PyTorch: Tensor.argsort). */
    argsort(options?: SortOptions): Tensor;
    /** [values, int32 indices] of the k largest (or smallest) elements along `axis` (default −1), in sorted order (PyTorch: Tensor.topk; MATLAB: maxk). */
    topk(k: number, options?: TopkOptions): [Tensor, Tensor];
    /** The int32 position of the largest value along `axis`, or in the flattened tensor without one; ties give the first, NaN wins (PyTorch: Tensor.argmax). */
    argmax(axis?: number | null, options?: ArgOptions): Tensor;
    /** The int32 position of the smallest value along `axis`, or in the flattened tensor without one; ties give the first, NaN wins (PyTorch: Tensor.argmin). */
    argmin(axis?: number | null, options?: ArgOptions): Tensor;
    /** Running sums along `axis` (PyTorch: Tensor.cumsum; MATLAB: cumsum). */
    cumsum(axis: number, options?: CumOptions): Tensor;
    /** Running products along `axis`, with an exact gradient when there are zeros (PyTorch: Tensor.cumprod; MATLAB: cumprod). */
    cumprod(axis: number, options?: CumOptions): Tensor;
    /** The elements on and below diagonal `diagonal` (default 0) of the last two dims; the rest 0 (PyTorch: Tensor.tril). */
    tril(diagonal?: number): Tensor;
    /** The elements on and above diagonal `diagonal` (default 0) of the last two dims; the rest 0 (PyTorch: Tensor.triu). */
    triu(diagonal?: number): Tensor;
    /** The order of elements reversed along each of `dims` (PyTorch: Tensor.flip; MATLAB: flip). */
    flip(dims: number | readonly number[]): Tensor;
    /** Elements shifted by `shifts` along `dims`, wrapping around; without dims, rolled as if flattened (PyTorch: Tensor.roll; MATLAB: circshift). */
    roll(shifts: number | readonly number[], dims?: number | readonly number[] | null): Tensor;
    /** Tiled reps[j] times along dim j; fewer reps than dims are padded with leading 1s (PyTorch: Tensor.tile; MATLAB: repmat). */
    tile(...reps: (number | readonly number[])[]): Tensor;
    /** Tiled repeats[j] times along dim j; repeats may have more entries than dims, never fewer (PyTorch: Tensor.repeat). */
    repeat(...repeats: (number | readonly number[])[]): Tensor;
    /** Each element (slice along `axis`) repeated `repeats` times, or repeats[i] times for element i; without an axis, flattened first (PyTorch: Tensor.repeat_interleave). */
    repeatInterleave(repeats: number | IndexInput, axis?: number | null): Tensor;
    /** one-hot encoding of this int32 index tensor */
    oneHot(numClasses?: number): Tensor;
    /** the rows of `table` picked by this int32 index tensor */
    embedding(table: Tensor, options?: EmbeddingOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.sort = function (options) {
  if (arguments.length > 1) checkArity('sort', arguments, 1, 'options?');
  return sort(this, options);
};
P.argsort = function (options) {
  if (arguments.length > 1) checkArity('argsort', arguments, 1, 'options?');
  return argsort(this, options);
};
P.topk = function (k, options) {
  if (arguments.length > 2) checkArity('topk', arguments, 2, 'k, options?');
  return topk(this, k, options);
};
P.argmax = function (axis, options) {
  if (arguments.length > 2) checkArity('argmax', arguments, 2, 'axis?, options?');
  return argmax(this, axis, options);
};
P.argmin = function (axis, options) {
  if (arguments.length > 2) checkArity('argmin', arguments, 2, 'axis?, options?');
  return argmin(this, axis, options);
};
P.cumsum = function (axis, options) {
  if (arguments.length > 2) checkArity('cumsum', arguments, 2, 'axis, options?');
  return cumsum(this, axis, options);
};
P.cumprod = function (axis, options) {
  if (arguments.length > 2) checkArity('cumprod', arguments, 2, 'axis, options?');
  return cumprod(this, axis, options);
};
P.tril = function (diagonal) {
  if (arguments.length > 1) checkArity('tril', arguments, 1, 'diagonal?');
  return tril(this, diagonal);
};
P.triu = function (diagonal) {
  if (arguments.length > 1) checkArity('triu', arguments, 1, 'diagonal?');
  return triu(this, diagonal);
};
P.flip = function (dims) { return flip(this, dims); };
P.roll = function (shifts, dims) {
  if (arguments.length > 2) checkArity('roll', arguments, 2, 'shifts, dims?');
  return roll(this, shifts, dims);
};
P.tile = function (...reps) { return tile(this, ...reps); };
P.repeat = function (...repeats) { return repeat(this, ...repeats); };
P.repeatInterleave = function (repeats, axis) {
  if (arguments.length > 2) checkArity('repeatInterleave', arguments, 2, 'repeats, axis?');
  return repeatInterleave(this, repeats, axis);
};
P.oneHot = function (numClasses) {
  if (arguments.length > 1) checkArity('oneHot', arguments, 1, 'numClasses?');
  return oneHot(this, numClasses);
};
P.embedding = function (table, options) {
  if (arguments.length > 2) checkArity('embedding', arguments, 2, 'table, options?');
  return embedding(this, table, options);
};
