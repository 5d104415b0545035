// Shape and indexing ops (kernels and rules in assembly/ops/shape.ts): reshape/view, broadcastTo/
// expand, permute/transpose, squeeze/unsqueeze/flatten, slice/narrow/select, pad, indexSelect/
// indexAdd, gather/scatterAdd, concat/stack/unstack/split/chunk — PyTorch's semantics. They copy
// elements as they are, so float, int32 and bool tensors all pass through.

import { Tensor, tensor, type DTypeName, type NestedArray, type Shape } from '../tensor.js';
import { wasm, argsI32 } from '../runtime.js';
import { rawInt32, guardIndexRange } from '../accelerate.js';
import { ShapeError, AxisError, DTypeError, ValueError, formatShape } from '../errors.js';
import { idOf, call, castTo, disposeAll, normAxis, axesMask, axisArgList, requireInit } from './common.js';
import { checkShape, checkNumel, checkIntegerTree, show, showList } from '../sizes.js';
import { options, opt, checkArity, type OptionsOf } from '../options.js';

/** x with a new shape of the same size; one size may be -1 (inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  requireInit('reshape');
  const id = idOf(x, 'reshape (x)');
  const dims = checkShape('reshape', shape, 'shape', { minusOne: 'one' });
  const infer = dims.indexOf(-1);
  const size = x.numel();
  if (infer !== -1) {
    let rest = 1;
    dims.forEach((d, k) => { if (k !== infer) rest *= d; });
    if (rest === 0 || size % rest !== 0) {
      throw new ShapeError(`reshape: cannot reshape a tensor of shape ${formatShape(x.dims)} (${size} elements) to ${formatShape(dims)}`);
    }
    dims[infer] = size / rest;
  }
  let n = 1;
  for (const d of dims) n *= d;
  if (n !== size) {
    throw new ShapeError(`reshape: cannot reshape a tensor of shape ${formatShape(x.dims)} (${size} elements) to ${formatShape(dims)} (${n} elements)`);
  }
  checkNumel('reshape', dims, x.dtype);
  return call('reshape', wasm.reshapeTo(id, dims.length, argsI32(dims)));
}

/** x broadcast to `shape` (NumPy rules; PyTorch's expand with -1 keeping a size). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  requireInit('broadcastTo');
  const id = idOf(x, 'broadcastTo (x)');
  const given = checkShape('broadcastTo', shape, 'shape', { minusOne: 'many' });
  const r = given.length;
  if (r < x.rank) {
    throw new ShapeError(`broadcastTo: cannot broadcast shape ${formatShape(x.dims)} to ${formatShape(given)}: the target has fewer dims`);
  }
  const dims = given.map((d, k) => (d === -1 && k >= r - x.rank ? x.dims[k - (r - x.rank)] : d));
  if (dims.some((d) => d === -1)) {
    throw new ValueError(`broadcastTo: shape ${formatShape(given)} has -1 in a new leading dim; -1 only keeps an existing size`);
  }
  for (let k = 0; k < x.rank; k++) {
    const dx = x.dims[k], dt = dims[k + r - x.rank];
    if (dx !== dt && dx !== 1) {
      throw new ShapeError(`broadcastTo: cannot broadcast shape ${formatShape(x.dims)} to ${formatShape(given)}: dim ${k} is ${dx}, target ${dt}`);
    }
  }
  checkNumel('broadcastTo', dims, x.dtype);
  return call('broadcastTo', wasm.expandTo(id, dims.length, argsI32(dims)));
}

// ————————————————————————————————————————————————————————— permute, transpose

/** PyTorch's permute: out dim k is x dim dims[k]. Dims as a list or as separate arguments. */
export function permute(x: Tensor, ...dims: (number | readonly number[])[]): Tensor {
  requireInit('permute');
  const id = idOf(x, 'permute (x)');
  const list = (dims.length === 1 && typeof dims[0] !== 'number' ? axisArgList('permute', dims[0], 'dims') : dims) as number[];
  if (list.length !== x.rank) {
    throw new AxisError(`permute: dims ${showList(list)} has ${list.length} entries but x has rank ${x.rank} (shape ${formatShape(x.dims)})`);
  }
  const perm = list.map((d) => normAxis('permute', d, x.rank, 'dim'));
  perm.forEach((d, k) => {
    if (perm.indexOf(d) !== k) throw new AxisError(`permute: dim ${list[k]} appears more than once in ${showList(list)}`);
  });
  return call('permute', wasm.permute(id, argsI32(perm)));
}

/**
 * PyTorch's transpose: swaps dims dim0 and dim1. Without dims, a tensor of rank ≤ 2 is
 * transposed as a matrix (PyTorch's t()).
 */
export function transpose(x: Tensor, dim0?: number, dim1?: number): Tensor {
  if (arguments.length > 3) checkArity('transpose', arguments, 3, 'x, dim0?, dim1?');
  requireInit('transpose');
  idOf(x, 'transpose (x)');
  if (dim0 === undefined && dim1 === undefined) return matrixTranspose('transpose', x);
  if (dim0 === undefined || dim1 === undefined) {
    throw new ValueError(`transpose: give both dim0 and dim1, or neither (for a matrix); got ${show(dim0)} and ${show(dim1)}`);
  }
  const a = normAxis('transpose', dim0, x.rank, 'dim0'), b = normAxis('transpose', dim1, x.rank, 'dim1');
  const perm = x.dims.map((_, k) => (k === a ? b : k === b ? a : k));
  return call('transpose', wasm.permute(x.id, argsI32(perm)));
}

function matrixTranspose(op: string, x: Tensor): Tensor {
  if (x.rank > 2) {
    throw new ValueError(`${op}: x has rank ${x.rank} (shape ${formatShape(x.dims)}); without dims only tensors of rank <= 2 are transposed, so give the two dims to swap`);
  }
  return call(op, wasm.permute(x.id, argsI32(x.rank === 2 ? [1, 0] : x.rank === 1 ? [0] : [])));
}

/** PyTorch's t(): the transpose of a matrix; rank 0 and 1 are returned as they are (copied). */
export function t(x: Tensor): Tensor {
  requireInit('t');
  idOf(x, 't (x)');
  return matrixTranspose('t', x);
}

// ————————————————————————————————————————————————————————— squeeze, unsqueeze, flatten

/** Removes the size-1 dims among `axes` (all size-1 dims when omitted); other dims are kept, as in PyTorch. */
export function squeeze(x: Tensor, axes?: number | readonly number[] | null): Tensor {
  if (arguments.length > 2) checkArity('squeeze', arguments, 2, 'x, axes?');
  requireInit('squeeze');
  idOf(x, 'squeeze (x)');
  const mask = axesMask('squeeze', axes, x.rank);
  return reshape(x, x.dims.filter((d, k) => !(d === 1 && mask & (1 << k))));
}

/** Inserts a size-1 dim at `axis` (in [-rank-1, rank]). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  requireInit('unsqueeze');
  idOf(x, 'unsqueeze (x)');
  if (x.rank === 8) throw new ShapeError(`unsqueeze: x already has rank 8 (shape ${formatShape(x.dims)}), the most wasmgrad supports`);
  const k = normAxis('unsqueeze', axis, x.rank + 1);
  const dims = [...x.dims];
  dims.splice(k, 0, 1);
  return reshape(x, dims);
}

/** Merges dims startDim..endDim into one (PyTorch's flatten); a rank-0 tensor becomes shape [1]. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (arguments.length > 3) checkArity('flatten', arguments, 3, 'x, startDim?, endDim?');
  requireInit('flatten');
  idOf(x, 'flatten (x)');
  const a = normAxis('flatten', startDim, x.rank, 'startDim'), b = normAxis('flatten', endDim, x.rank, 'endDim');
  if (x.rank === 0) return reshape(x, [1]);
  if (a > b) {
    throw new ValueError(`flatten: startDim ${startDim} comes after endDim ${endDim} for a tensor of rank ${x.rank}`);
  }
  const merged = x.dims.slice(a, b + 1).reduce((p, d) => p * d, 1);
  return reshape(x, [...x.dims.slice(0, a), merged, ...x.dims.slice(b + 1)]);
}

// ————————————————————————————————————————————————————————— slice, narrow, select

/** A Python slice for one dim: [start, end, step], any of them null/undefined for the default. */
export type SliceRange = readonly [start?: number | null, end?: number | null, step?: number | null];

function checkInt(op: string, v: unknown, arg: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ValueError(`${op}: ${arg} must be an integer, got ${typeof v === 'number' ? v : v === null ? 'null' : typeof v}`);
  }
}

/** Python's slice.indices for a positive step: (start, count) within a dim of size n. */
function resolveRange(op: string, n: number, start: number | null | undefined, end: number | null | undefined, step: number, k: number): [number, number] {
  const clampIndex = (v: number) => (v < 0 ? Math.max(v + n, 0) : Math.min(v, n));
  if (start !== null && start !== undefined) checkInt(op, start, `start (dim ${k})`);
  if (end !== null && end !== undefined) checkInt(op, end, `end (dim ${k})`);
  const s = start === null || start === undefined ? 0 : clampIndex(start);
  const e = end === null || end === undefined ? n : clampIndex(end);
  return [s, Math.max(0, Math.ceil((e - s) / step))];
}

function checkStep(op: string, step: unknown, k: number): number {
  if (step === null || step === undefined) return 1;
  checkInt(op, step, `step (dim ${k})`);
  if ((step as number) <= 0) {
    throw new ValueError(`${op}: step ${step} for dim ${k} must be greater than zero (negative steps are not supported, as in PyTorch; use flip)`);
  }
  return step as number;
}

/** Runs the wasm slice with per-dim (start, step, count); `drop` removes a dim of count 1. */
function sliceCall(op: string, x: Tensor, ranges: [number, number, number][], drop = -1): Tensor {
  // A step never matters for fewer than two elements; 1 keeps the strides small.
  const spec = ranges.flatMap(([start, step, count]) => (count <= 1 ? [count === 0 ? 0 : start, 1, count] : [start, step, count]));
  return call(op, wasm.slice(x.id, argsI32(spec), drop));
}

/**
 * Python-style slicing: slice(x, [[start, end, step] | null, …]) with one entry per leading dim
 * (missing entries take the whole dim), or slice(x, axis, start, end, step) for one dim.
 * Negative indices count from the end and out-of-range bounds clamp, as in Python; step > 0.
 */
export function slice(x: Tensor, ranges: readonly (SliceRange | null | undefined)[]): Tensor;
export function slice(x: Tensor, axis: number, start?: number | null, end?: number | null, step?: number | null): Tensor;
export function slice(x: Tensor, rangesOrAxis: readonly (SliceRange | null | undefined)[] | number,
  start?: number | null, end?: number | null, step?: number | null): Tensor {
  if (arguments.length > 5) checkArity('slice', arguments, 5, 'x, axis, start?, end?, step?');
  requireInit('slice');
  idOf(x, 'slice (x)');
  let perDim: (SliceRange | null | undefined)[];
  if (typeof rangesOrAxis === 'number') {
    const k = normAxis('slice', rangesOrAxis, x.rank);
    if (x.rank === 0) throw new AxisError('slice: x is a rank-0 tensor; it has no dim to slice');
    perDim = x.dims.map((_, j) => (j === k ? [start, end, step] : null));
  } else {
    if (!Array.isArray(rangesOrAxis)) throw new ValueError(`slice: expected an axis or a list of [start, end, step] ranges, got ${typeof rangesOrAxis}`);
    if (rangesOrAxis.length > x.rank) {
      throw new AxisError(`slice: ${rangesOrAxis.length} ranges given for a tensor of rank ${x.rank} (shape ${formatShape(x.dims)})`);
    }
    perDim = x.dims.map((_, j) => rangesOrAxis[j]);
  }
  const ranges = perDim.map((r, k): [number, number, number] => {
    if (r !== null && r !== undefined && !Array.isArray(r)) {
      throw new ValueError(`slice: range for dim ${k} must be [start, end, step] or null, got ${typeof r}`);
    }
    const st = checkStep('slice', r?.[2], k);
    const [s, count] = resolveRange('slice', x.dims[k], r?.[0], r?.[1], st, k);
    return [s, st, count];
  });
  return sliceCall('slice', x, ranges);
}

/** PyTorch's narrow: `length` elements of dim `axis` from `start` (negative start counts from the end). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  requireInit('narrow');
  idOf(x, 'narrow (x)');
  if (x.rank === 0) throw new AxisError('narrow: x is a rank-0 tensor; it has no dim to narrow');
  const k = normAxis('narrow', axis, x.rank);
  checkInt('narrow', start, 'start');
  checkInt('narrow', length, 'length');
  const n = x.dims[k];
  const s = start < 0 ? start + n : start;
  if (s < 0 || s > n || length < 0 || s + length > n) {
    throw new ValueError(`narrow: start ${start} with length ${length} does not fit in dim ${axis} of size ${n} (x has shape ${formatShape(x.dims)})`);
  }
  return sliceCall('narrow', x, x.dims.map((d, j) => (j === k ? [s, 1, length] : [0, 1, d])));
}

function checkIndexInDim(op: string, x: Tensor, k: number, index: unknown, axis: number): number {
  checkInt(op, index, 'index');
  const n = x.dims[k], i = index as number;
  if (i < -n || i >= n) {
    throw new ValueError(`${op}: index ${i} is out of range for dim ${axis} of size ${n} (x has shape ${formatShape(x.dims)})`);
  }
  return i < 0 ? i + n : i;
}

/** x[…, i, …] along `axis`, that dim removed (PyTorch's select); negative i counts from the end. */
export function select(x: Tensor, axis: number, index: number): Tensor {
  requireInit('select');
  idOf(x, 'select (x)');
  if (x.rank === 0) throw new AxisError('select: x is a rank-0 tensor; it has no dim to select from');
  const k = normAxis('select', axis, x.rank);
  const i = checkIndexInDim('select', x, k, index, axis);
  return sliceCall('select', x, x.dims.map((d, j) => (j === k ? [i, 1, 1] : [0, 1, d])), k);
}

// ————————————————————————————————————————————————————————— pad

/** F.pad's modes: 'constant' fills with `value`; the others take values from x itself. */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';
const PAD_MODES: readonly string[] = ['constant', 'reflect', 'replicate', 'circular'];

/**
 * torch.nn.functional.pad: `pads` is [left, right] for the last dim, then [top, bottom] for the
 * one before, and so on; negative pads crop. Mode 'constant' (default) fills with `value`;
 * 'reflect' mirrors x without repeating the edge (pads < the dim's size), 'replicate' repeats
 * the edge, 'circular' wraps around (pads <= the dim's size). As PyTorch, the non-constant modes
 * pad the last 1, 2 or 3 dims of a tensor with one or two more dims (a batch and a channel dim,
 * or a channel dim only) and take no value.
 */
export function pad(x: Tensor, pads: readonly number[], value: number | null = 0, mode: PadMode = 'constant'): Tensor {
  if (arguments.length > 4) checkArity('pad', arguments, 4, 'x, pads, value?, mode?');
  requireInit('pad');
  idOf(x, 'pad (x)');
  if (!PAD_MODES.includes(mode)) {
    throw new ValueError(`pad: mode must be one of 'constant', 'reflect', 'replicate', 'circular', got ${show(mode)}`);
  }
  if (mode !== 'constant') return padIndexed(x, pads, value, mode);
  if (value === null) value = 0;
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new ValueError(`pad: value must be a number, got ${typeof value}`);
  checkPads(x, pads);
  const before = x.dims.map(() => 0), after = x.dims.map(() => 0);
  for (let i = 0; i < pads.length / 2; i++) {
    const k = x.rank - 1 - i;
    before[k] = pads[2 * i];
    after[k] = pads[2 * i + 1];
    if (x.dims[k] + Math.min(before[k], 0) + Math.min(after[k], 0) < 0) {
      throw new ShapeError(`pad: dim ${k} of size ${x.dims[k]} with padding ${before[k]} and ${after[k]} would have a negative size (x has shape ${formatShape(x.dims)})`);
    }
  }
  let cur = x;
  if (before.some((p) => p < 0) || after.some((p) => p < 0)) {
    cur = sliceCall('pad', x, x.dims.map((d, k): [number, number, number] =>
      [Math.max(-before[k], 0), 1, d + Math.min(before[k], 0) + Math.min(after[k], 0)]));
  }
  if (cur !== x && !before.some((p) => p > 0) && !after.some((p) => p > 0)) return cur;
  const shape = cur.dims.map((d, k) => d + Math.max(before[k], 0) + Math.max(after[k], 0));
  try {
    checkNumel('pad', shape, cur.dtype);
  } catch (e) {
    if (cur !== x) cur.dispose();
    throw e;
  }
  const spec = before.flatMap((p) => [Math.max(p, 0), 1]);
  const out = call('pad', wasm.pad(cur.id, argsI32(shape, 0), argsI32(spec, 16), +value));
  if (cur !== x) cur.dispose();
  return out;
}

function checkPads(x: Tensor, pads: readonly number[]): void {
  if (!Array.isArray(pads)) throw new ValueError(`pad: pads must be an array of integers, got ${typeof pads}`);
  pads.forEach((p, i) => checkInt('pad', p, `pads[${i}]`));
  if (pads.length % 2 !== 0) throw new ValueError(`pad: pads must have an even length, got ${pads.length} ([${pads.join(', ')}])`);
  if (pads.length / 2 > x.rank) {
    throw new ValueError(`pad: pads [${pads.join(', ')}] pad ${pads.length / 2} dims but x has rank ${x.rank} (shape ${formatShape(x.dims)})`);
  }
}

/** Where output position j of a padded dim reads from, for a dim of size n padded by `before`. */
function padSource(mode: 'reflect' | 'replicate' | 'circular', n: number, before: number, outLen: number): number[] {
  return Array.from({ length: outLen }, (_, j) => {
    const i = j - before;
    if (mode === 'replicate') return Math.min(Math.max(i, 0), n - 1);
    if (mode === 'circular') return ((i % n) + n) % n;
    return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i; // reflect: the edge is not repeated
  });
}

/** pad's 'reflect', 'replicate' and 'circular' modes: one indexSelect per padded dim (recorded, so differentiable). */
function padIndexed(x: Tensor, pads: readonly number[], value: number | null, mode: 'reflect' | 'replicate' | 'circular'): Tensor {
  if (value !== undefined && value !== null && value !== 0) {
    throw new ValueError(`pad: mode '${mode}' takes no value (it pads with values of x), got value ${show(value)}; use mode 'constant' to pad with a value`);
  }
  checkPads(x, pads);
  const k = pads.length / 2;
  if (k < 1 || k > 3 || x.rank < k + 1 || x.rank > k + 2) {
    throw new ValueError(`pad: mode '${mode}' pads the last 1, 2 or 3 dims of a tensor with 1 or 2 more dims (PyTorch: 2-D to 5-D input); ` +
      `got pads [${pads.join(', ')}] (${k} dim(s)) for x of shape ${formatShape(x.dims)}`);
  }
  const steps: [number, number[]][] = [];
  const outShape = x.dims.map((n, d) => (d >= x.rank - k ? n + pads[2 * (x.rank - 1 - d)] + pads[2 * (x.rank - 1 - d) + 1] : n));
  for (let i = 0; i < k; i++) {
    const d = x.rank - 1 - i, n = x.dims[d], lo = pads[2 * i], hi = pads[2 * i + 1];
    const outLen = n + lo + hi;
    const where = `dim ${d} of size ${n} (x has shape ${formatShape(x.dims)})`;
    if (mode === 'reflect' && (lo >= n || hi >= n)) {
      throw new ValueError(`pad: mode 'reflect' needs padding smaller than the padded dim: got (${lo}, ${hi}) for ${where}`);
    }
    if (mode === 'circular' && (lo > n || hi > n)) {
      throw new ValueError(`pad: mode 'circular' wraps around at most once: padding (${lo}, ${hi}) must be at most the size of ${where}`);
    }
    if (outLen < 1 || n < 1) {
      throw new ShapeError(`pad: mode '${mode}' with padding (${lo}, ${hi}) on ${where} gives ${outLen < 1 ? `an output of size ${outLen}` : 'nothing to pad from'}; it must be at least 1`);
    }
  }
  checkNumel('pad', outShape, x.dtype);
  for (let i = 0; i < k; i++) {
    const d = x.rank - 1 - i, lo = pads[2 * i], hi = pads[2 * i + 1];
    if (lo !== 0 || hi !== 0) steps.push([d, padSource(mode, x.dims[d], lo, outShape[d])]);
  }
  let cur = x;
  for (const [d, src] of steps) {
    const idx = tensor(Int32Array.from(src));
    try {
      const next = call('pad', wasm.indexSelect(cur.id, d, idx.id));
      if (cur !== x) cur.dispose();
      cur = next;
    } finally {
      idx.dispose();
    }
  }
  return cur === x ? call('pad', wasm.copy(x.id)) : cur;
}

// ————————————————————————————————————————————————————————— pixelShuffle, pixelUnshuffle

function checkFactor(op: string, x: Tensor, r: unknown, arg: string): number {
  idOf(x, `${op} (x)`);
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) throw new ValueError(`${op}: ${arg} must be a positive integer, got ${show(r)}`);
  if (x.rank < 3) {
    throw new ShapeError(`${op}: x must have at least 3 dims (*, C, H, W), got shape ${formatShape(x.dims)}`);
  }
  return r;
}

/**
 * torch.nn.functional.pixel_shuffle: (*, C·r², H, W) → (*, C, H·r, W·r), channel c·r² + i·r + j
 * going to row h·r + i, column w·r + j.
 */
export function pixelShuffle(x: Tensor, upscaleFactor: number): Tensor {
  if (arguments.length > 2) checkArity('pixelShuffle', arguments, 2, 'x, upscaleFactor');
  requireInit('pixelShuffle');
  const r = checkFactor('pixelShuffle', x, upscaleFactor, 'upscaleFactor');
  const lead = x.dims.slice(0, -3), [c, h, w] = x.dims.slice(-3);
  if (c % (r * r) !== 0) {
    throw new ShapeError(`pixelShuffle: the channel dim (-3) of x must be divisible by upscaleFactor² = ${r * r}, got ${c} (x has shape ${formatShape(x.dims)})`);
  }
  const b = lead.reduce((p, q) => p * q, 1), oc = c / (r * r);
  const split = reshape(x, [b, oc, r, r, h, w]);
  try {
    const moved = permute(split, [0, 1, 4, 2, 5, 3]);
    try { return reshape(moved, [...lead, oc, h * r, w * r]); } finally { moved.dispose(); }
  } finally {
    split.dispose();
  }
}

/**
 * torch.nn.functional.pixel_unshuffle, the inverse of pixelShuffle: (*, C, H·r, W·r) →
 * (*, C·r², H, W).
 */
export function pixelUnshuffle(x: Tensor, downscaleFactor: number): Tensor {
  if (arguments.length > 2) checkArity('pixelUnshuffle', arguments, 2, 'x, downscaleFactor');
  requireInit('pixelUnshuffle');
  const r = checkFactor('pixelUnshuffle', x, downscaleFactor, 'downscaleFactor');
  const lead = x.dims.slice(0, -3), [c, h, w] = x.dims.slice(-3);
  if (h % r !== 0 || w % r !== 0) {
    throw new ShapeError(`pixelUnshuffle: the height and width of x (dims -2, -1) must be divisible by downscaleFactor ${r}, got ${h} and ${w} (x has shape ${formatShape(x.dims)})`);
  }
  const b = lead.reduce((p, q) => p * q, 1), oh = h / r, ow = w / r;
  const split = reshape(x, [b, c, oh, r, ow, r]);
  try {
    const moved = permute(split, [0, 1, 3, 5, 2, 4]);
    try { return reshape(moved, [...lead, c * r * r, oh, ow]); } finally { moved.dispose(); }
  } finally {
    split.dispose();
  }
}

// ————————————————————————————————————————————————————————— indexSelect, indexAdd, gather, scatterAdd

/** Indices: an int32 tensor, or a JS array / Int32Array of integers. */
export type IndexLike = Tensor | Int32Array | NestedArray;

/** The index tensor, whether it is a temporary, and its values. */
function indexOperand(op: string, index: IndexLike): [Tensor, boolean, Int32Array] {
  if (index instanceof Tensor) {
    idOf(index, `${op} (index)`);
    if (index.dtype !== 'int32') {
      throw new DTypeError(`${op}: index must be an int32 tensor, got ${index.dtype} ${formatShape(index.dims)}`);
    }
    // Under accelerate the index may change on every replay: read it for this call's checks only
    // (checkIndices records guards that send a replay with other bad values back to a capture).
    return [index, false, wasm.capturing() ? rawInt32(index) : index.data() as Int32Array];
  }
  if (index instanceof Int32Array) { const ti = tensor(index); return [ti, true, index]; }
  if (!Array.isArray(index) && typeof index !== 'number') {
    throw new ValueError(`${op}: index must be an int32 tensor, an Int32Array or an array of integers, got ${index === null ? 'null' : typeof index}`);
  }
  checkIntegerTree(op, 'indices', index);
  const ti = tensor(index, { dtype: 'int32' });
  return [ti, true, ti.data() as Int32Array];
}

function checkIndices(op: string, values: Int32Array, n: number, axis: number, x: Tensor, ti: Tensor): void {
  for (const i of values) {
    if (i < 0 || i >= n) {
      throw new ValueError(`${op}: index ${i} is out of range for dim ${axis} of size ${n} (x has shape ${formatShape(x.dims)}); indices must be in [0, ${n})`);
    }
  }
  guardIndexRange(ti, n);
}

/** Runs fn with the index operand, disposing it afterwards when it was made here. */
function withIndex<R>(op: string, index: IndexLike, fn: (t: Tensor, values: Int32Array) => R): R {
  const [ti, temp, values] = indexOperand(op, index);
  try { return fn(ti, values); } finally { if (temp) ti.dispose(); }
}

/** torch.index_select: the slices of x at `indices` (0-d or 1-d) along `axis`, in that order. */
export function indexSelect(x: Tensor, axis: number, indices: IndexLike): Tensor {
  requireInit('indexSelect');
  const id = idOf(x, 'indexSelect (x)');
  const k = normAxis('indexSelect', axis, x.rank);
  return withIndex('indexSelect', indices, (ti, values) => {
    if (ti.rank > 1) throw new ShapeError(`indexSelect: indices must be 0-d or 1-d, got shape ${formatShape(ti.dims)}`);
    if (x.rank === 0 && ti.numel() !== 1) throw new ShapeError(`indexSelect: x is rank 0, so exactly one index is allowed, got ${ti.numel()}`);
    checkIndices('indexSelect', values, x.rank === 0 ? 1 : x.dims[k], axis, x, ti);
    return call('indexSelect', wasm.indexSelect(id, k, ti.id));
  });
}

const INDEX_ADD = options('indexAdd', {
  /** the factor source is multiplied by (default 1; an integer for int32 x, 1 for bool x) */
  alpha: opt.any<number>(),
});
/** Options of indexAdd: `alpha`, the factor source is multiplied by (default 1). */
export type IndexAddOptions = OptionsOf<typeof INDEX_ADD>;

/**
 * torch.index_add: x with alpha·source's slices added at `indices` along `axis`; repeated
 * indices accumulate. source has x's shape except len(indices) along `axis`.
 */
export function indexAdd(x: Tensor, axis: number, indices: IndexLike, source: Tensor, options?: IndexAddOptions): Tensor {
  if (arguments.length > 5) checkArity('indexAdd', arguments, 5, 'x, axis, indices, source, options?');
  requireInit('indexAdd');
  const id = idOf(x, 'indexAdd (x)');
  const sid = idOf(source, 'indexAdd (source)');
  const alpha = INDEX_ADD.parse(options).alpha ?? 1;
  if (typeof alpha !== 'number') throw new ValueError(`indexAdd: alpha must be a number, got ${typeof alpha}`);
  if (source.dtype !== x.dtype) {
    throw new DTypeError(`indexAdd: x (${x.dtype}) and source (${source.dtype}) must have the same dtype`);
  }
  if (x.dtype === 'int32' && !Number.isInteger(alpha)) throw new ValueError(`indexAdd: alpha ${alpha} must be an integer for int32 tensors`);
  if (x.dtype === 'bool' && alpha !== 1) throw new ValueError(`indexAdd: alpha must be 1 for bool tensors, got ${alpha}`);
  const k = normAxis('indexAdd', axis, x.rank);
  return withIndex('indexAdd', indices, (ti, values) => {
    if (ti.rank > 1) throw new ShapeError(`indexAdd: indices must be 0-d or 1-d, got shape ${formatShape(ti.dims)}`);
    const expected = x.rank === 0 ? [] : x.dims.map((d, j) => (j === k ? ti.numel() : d));
    if (x.rank === 0 && ti.numel() !== 1) throw new ShapeError(`indexAdd: x is rank 0, so exactly one index is allowed, got ${ti.numel()}`);
    if (source.rank !== expected.length || source.dims.some((d, j) => d !== expected[j])) {
      throw new ShapeError(`indexAdd: source has shape ${formatShape(source.dims)} but must have shape ${formatShape(expected)} (x ${formatShape(x.dims)} with ${ti.numel()} indices along dim ${axis})`);
    }
    checkIndices('indexAdd', values, x.rank === 0 ? 1 : x.dims[k], axis, x, ti);
    return call('indexAdd', wasm.indexAdd(id, k, ti.id, sid, alpha));
  });
}

/** Checks an index for gather / scatterAdd: x's rank, and fits `limits` on dims other than `k`. */
function checkGatherIndex(op: string, x: Tensor, k: number, ti: Tensor, values: Int32Array, axis: number): void {
  if (ti.rank !== x.rank) {
    throw new ShapeError(`${op}: index has rank ${ti.rank} (shape ${formatShape(ti.dims)}) but x has rank ${x.rank} (shape ${formatShape(x.dims)}); they must be equal`);
  }
  ti.dims.forEach((d, j) => {
    if (j !== k && d > x.dims[j]) {
      throw new ShapeError(`${op}: index has size ${d} in dim ${j} but x has only ${x.dims[j]} (index ${formatShape(ti.dims)}, x ${formatShape(x.dims)})`);
    }
  });
  checkIndices(op, values, x.rank === 0 ? 1 : x.dims[k], axis, x, ti);
}

/** torch.gather: out[p] = x[p with dim `axis` replaced by index[p]]; out has index's shape. */
export function gather(x: Tensor, axis: number, index: IndexLike): Tensor {
  if (arguments.length > 3) checkArity('gather', arguments, 3, 'x, axis, index');
  requireInit('gather');
  const id = idOf(x, 'gather (x)');
  const k = normAxis('gather', axis, x.rank);
  return withIndex('gather', index, (ti, values) => {
    checkGatherIndex('gather', x, k, ti, values, axis);
    return call('gather', wasm.gather(id, k, ti.id));
  });
}

/** torch.scatter_add: x with src[p] added at index[p] along `axis`, for every p in index's shape. */
export function scatterAdd(x: Tensor, axis: number, index: IndexLike, src: Tensor): Tensor {
  requireInit('scatterAdd');
  const id = idOf(x, 'scatterAdd (x)');
  const sid = idOf(src, 'scatterAdd (src)');
  if (src.dtype !== x.dtype) throw new DTypeError(`scatterAdd: x (${x.dtype}) and src (${src.dtype}) must have the same dtype`);
  const k = normAxis('scatterAdd', axis, x.rank);
  return withIndex('scatterAdd', index, (ti, values) => {
    checkGatherIndex('scatterAdd', x, k, ti, values, axis);
    if (src.rank !== ti.rank || ti.dims.some((d, j) => d > src.dims[j])) {
      throw new ShapeError(`scatterAdd: index ${formatShape(ti.dims)} must not be larger than src ${formatShape(src.dims)} in any dim`);
    }
    return call('scatterAdd', wasm.scatterAdd(id, k, ti.id, sid));
  });
}

// ————————————————————————————————————————————————————————— concat, stack, unstack, split

const MAX_CONCAT = 16000;
const SHAPE_WORD = 16376; // where the output shape goes in the argument buffer, after the ids

/** One dtype for a list of tensors, as PyTorch promotes (float32 with float64 is refused, as everywhere in wasmgrad). */
function commonDtype(op: string, ts: readonly Tensor[]): DTypeName {
  const kinds = new Set(ts.map((t) => t.dtype));
  if (kinds.has('float32') && kinds.has('float64')) {
    throw new DTypeError(`${op}: cannot mix float32 and float64 tensors; cast them with .to('float32') or .to('float64')`);
  }
  return kinds.has('float64') ? 'float64' : kinds.has('float32') ? 'float32' : kinds.has('int32') ? 'int32' : 'bool';
}

function checkList(op: string, tensors: readonly Tensor[]): void {
  if (!Array.isArray(tensors)) throw new ValueError(`${op}: expected an array of tensors, got ${typeof tensors}`);
  if (tensors.length === 0) throw new ValueError(`${op}: expected a non-empty array of tensors`);
  if (tensors.length > MAX_CONCAT) throw new ValueError(`${op}: at most ${MAX_CONCAT} tensors at once, got ${tensors.length}`);
  tensors.forEach((x, i) => idOf(x, `${op} (tensor ${i})`));
}

/** The wasm concat over `ts` (same dtype after promotion) into `shape`. */
function concatCall(op: string, ts: readonly Tensor[], axis: number, shape: number[]): Tensor {
  const dtype = commonDtype(op, ts);
  checkNumel(op, shape, dtype);
  const temps: Tensor[] = [];
  const ids = ts.map((x) => {
    if (x.dtype === dtype) return x.id;
    const c = castTo(x, dtype);
    temps.push(c);
    return c.id;
  });
  try {
    return call(op, wasm.concat(argsI32(ids, 0), ids.length, axis, shape.length, argsI32(shape, SHAPE_WORD)));
  } finally {
    disposeAll(temps);
  }
}

/** torch.cat: joins tensors along an existing dim; sizes must match in every other dim. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (arguments.length > 2) checkArity('concat', arguments, 2, 'tensors, axis?');
  requireInit('concat');
  checkList('concat', tensors);
  // PyTorch skips legacy empty tensors of shape [0] when joining tensors of another shape.
  const kept = tensors.map((x, i) => [x, i] as const).filter(([x]) => !(x.rank === 1 && x.dims[0] === 0));
  const list = kept.length > 0 ? kept : [[tensors[0], 0] as const];
  const [first, i0] = list[0];
  if (first.rank === 0) throw new ShapeError(`concat: tensor ${i0} is rank 0; rank-0 tensors cannot be concatenated (use stack)`);
  const k = normAxis('concat', axis, first.rank);
  const shape = [...first.dims];
  shape[k] = 0;
  for (const [x, i] of list) {
    if (x.rank !== first.rank) {
      throw new ShapeError(`concat: tensor ${i} has rank ${x.rank} (shape ${formatShape(x.dims)}) but tensor ${i0} has rank ${first.rank} (shape ${formatShape(first.dims)})`);
    }
    x.dims.forEach((d, j) => {
      if (j !== k && d !== first.dims[j]) {
        throw new ShapeError(`concat: tensor ${i} has shape ${formatShape(x.dims)} but tensor ${i0} has shape ${formatShape(first.dims)}: sizes must match except in dim ${k} (dim ${j} is ${d} vs ${first.dims[j]})`);
      }
    });
    shape[k] += x.dims[k];
  }
  return concatCall('concat', list.map(([x]) => x), k, shape);
}

/** torch.stack: joins tensors of one shape along a new dim at `axis`. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (arguments.length > 2) checkArity('stack', arguments, 2, 'tensors, axis?');
  requireInit('stack');
  checkList('stack', tensors);
  const first = tensors[0];
  tensors.forEach((x, i) => {
    if (x.rank !== first.rank || x.dims.some((d, j) => d !== first.dims[j])) {
      throw new ShapeError(`stack: tensor ${i} has shape ${formatShape(x.dims)} but tensor 0 has shape ${formatShape(first.dims)}; stack needs equal shapes`);
    }
  });
  if (first.rank === 8) throw new ShapeError(`stack: tensors of rank 8 (shape ${formatShape(first.dims)}) cannot gain a dim; 8 is the most wasmgrad supports`);
  const k = normAxis('stack', axis, first.rank + 1);
  const shape = [...first.dims];
  shape.splice(k, 0, tensors.length);
  return concatCall('stack', tensors, k, shape);
}

/** torch.unbind: the slices of x along `axis`, each without that dim. */
export function unstack(x: Tensor, axis = 0): Tensor[] {
  if (arguments.length > 2) checkArity('unstack', arguments, 2, 'x, axis?');
  requireInit('unstack');
  idOf(x, 'unstack (x)');
  if (x.rank === 0) throw new AxisError('unstack: x is a rank-0 tensor; it has no dim to unstack');
  const k = normAxis('unstack', axis, x.rank);
  return Array.from({ length: x.dims[k] }, (_, i) =>
    sliceCall('unstack', x, x.dims.map((d, j) => (j === k ? [i, 1, 1] : [0, 1, d])), k));
}

/**
 * torch.split: pieces of `size` along `axis` (the last may be smaller), or pieces of the given
 * sizes, which must add up to the dim's size.
 */
export function split(x: Tensor, sizeOrSections: number | readonly number[], axis = 0): Tensor[] {
  if (arguments.length > 3) checkArity('split', arguments, 3, 'x, sizeOrSections, axis?');
  requireInit('split');
  idOf(x, 'split (x)');
  if (x.rank === 0) throw new AxisError('split: x is a rank-0 tensor; it has no dim to split');
  const k = normAxis('split', axis, x.rank);
  const n = x.dims[k];
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    checkInt('split', sizeOrSections, 'size');
    if (sizeOrSections <= 0 && !(sizeOrSections === 0 && n === 0)) {
      throw new ValueError(`split: size must be positive, got ${sizeOrSections}`);
    }
    const count = n === 0 ? 1 : Math.ceil(n / sizeOrSections);
    sizes = Array.from({ length: count }, (_, i) => Math.min(sizeOrSections, n - i * sizeOrSections));
  } else {
    if (!Array.isArray(sizeOrSections)) throw new ValueError(`split: expected a size or an array of sizes, got ${typeof sizeOrSections}`);
    sizeOrSections.forEach((s, i) => {
      checkInt('split', s, `sections[${i}]`);
      if (s < 0) throw new ValueError(`split: sections[${i}] is ${s}; sizes must be >= 0`);
    });
    const total = sizeOrSections.reduce((a, b) => a + b, 0);
    if (total !== n) {
      throw new ValueError(`split: sections [${sizeOrSections.join(', ')}] add up to ${total}, but dim ${axis} of x (shape ${formatShape(x.dims)}) has size ${n}`);
    }
    sizes = [...sizeOrSections];
  }
  let offset = 0;
  return sizes.map((len) => {
    const piece = sliceCall('split', x, x.dims.map((d, j) => (j === k ? [offset, 1, len] : [0, 1, d])));
    offset += len;
    return piece;
  });
}

/** torch.chunk: at most `chunks` pieces of ceil(size / chunks) along `axis`. */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  if (arguments.length > 3) checkArity('chunk', arguments, 3, 'x, chunks, axis?');
  requireInit('chunk');
  idOf(x, 'chunk (x)');
  checkInt('chunk', chunks, 'chunks');
  if (chunks <= 0) throw new ValueError(`chunk: chunks must be positive, got ${chunks}`);
  if (x.rank === 0) throw new AxisError('chunk: x is a rank-0 tensor; it has no dim to split');
  const n = x.dims[normAxis('chunk', axis, x.rank)];
  return split(x, Math.max(1, Math.ceil(n / chunks)), axis);
}

/**
 * PyTorch's x.size(dim?) as a function: size(x) is the shape (a new array), size(x, d) the length
 * of dim d (negative counts from the end); a dim out of range is an AxisError naming it.
 */
export function size(x: Tensor, dim?: number): number[] | number;
export function size(x: Tensor): number[];
export function size(x: Tensor, dim: number): number;
export function size(x: Tensor, dim?: number): number[] | number {
  if (arguments.length > 2) checkArity('size', arguments, 2, 'x, dim?');
  if (!(x instanceof Tensor)) throw new ValueError(`size: expected a Tensor, got ${show(x)}`);
  return dim === undefined ? x.size() : x.size(dim);
}

export { concat as cat, unstack as unbind };

declare module '../tensor.js' {
  interface Tensor {
    /** This tensor with a new shape of the same size; one size may be −1 (inferred) (PyTorch: Tensor.reshape; MATLAB: reshape). */
    reshape(shape: Shape): Tensor;
    /** PyTorch's view: same as reshape (wasmgrad tensors are always contiguous). */
    view(shape: Shape): Tensor;
    /** This tensor broadcast to `shape` (NumPy rules; −1 keeps a size) (PyTorch: torch.broadcast_to). */
    broadcastTo(shape: Shape): Tensor;
    /** The same as broadcastTo (PyTorch: Tensor.expand; −1 keeps a size). */
    expand(shape: Shape): Tensor;
    /** Dims reordered: out dim k is this tensor's dim dims[k]; dims as a list or separate arguments (PyTorch: Tensor.permute; MATLAB: permute). */
    permute(...dims: (number | readonly number[])[]): Tensor;
    /** Dims dim0 and dim1 swapped; without dims, a tensor of rank ≤ 2 is transposed as a matrix (PyTorch: Tensor.transpose). */
    transpose(dim0?: number, dim1?: number): Tensor;
    /** The transpose of a matrix; rank 0 and 1 come back as they are (copied) (PyTorch: Tensor.t). */
    t(): Tensor;
    /** All dims reversed (PyTorch's .T; the matrix transpose for rank 2). */
    readonly T: Tensor;
    /** Size-1 dims among `axes` removed (all size-1 dims when omitted) (PyTorch: Tensor.squeeze; MATLAB: squeeze). */
    squeeze(axes?: number | readonly number[] | null): Tensor;
    /** A size-1 dim inserted at `axis`, in [−rank−1, rank] (PyTorch: Tensor.unsqueeze). */
    unsqueeze(axis: number): Tensor;
    /** Dims startDim…endDim (default 0…−1) merged into one; rank 0 becomes [1] (PyTorch: Tensor.flatten). */
    flatten(startDim?: number, endDim?: number): Tensor;
    /** Python-style slicing: one [start, end, step] (or null for the whole dim) per leading dim; negative indices count from the end, bounds clamp, step > 0 (PyTorch: x[a:b:s, …]). */
    slice(ranges: readonly (SliceRange | null | undefined)[]): Tensor;
    /** Python-style slicing of one dim: start…end by step along `axis` (PyTorch: x[..., a:b:s, ...]). */
    slice(axis: number, start?: number | null, end?: number | null, step?: number | null): Tensor;
    /** `length` elements of dim `axis` from `start` (negative start counts from the end) (PyTorch: Tensor.narrow). */
    narrow(axis: number, start: number, length: number): Tensor;
    /** The slice at `index` along `axis`, that dim removed; negative index counts from the end (PyTorch: Tensor.select). */
    select(axis: number, index: number): Tensor;
    /** Padded as torch.nn.functional.pad: [left, right] for the last dim, then the one before, …; mode 'constant' (default, with `value`, default 0), 'reflect', 'replicate' or 'circular'; negative pads crop. */
    pad(pads: readonly number[], value?: number | null, mode?: PadMode): Tensor;
    /** The slices at `indices` (0-d or 1-d int32, or a JS array) along `axis`, in that order (PyTorch: Tensor.index_select). */
    indexSelect(axis: number, indices: IndexLike): Tensor;
    /** A copy with alpha·source's slices added at `indices` along `axis`; repeated indices accumulate (PyTorch: Tensor.index_add). */
    indexAdd(axis: number, indices: IndexLike, source: Tensor, options?: IndexAddOptions): Tensor;
    /** out[p] = this[p with dim `axis` replaced by index[p]]; the output has index's shape (PyTorch: Tensor.gather). */
    gather(axis: number, index: IndexLike): Tensor;
    /** A copy with src[p] added at index[p] along `axis`, for every p in index's shape (PyTorch: Tensor.scatter_add). */
    scatterAdd(axis: number, index: IndexLike, src: Tensor): Tensor;
    /** The slices along `axis` (default 0), each without that dim (PyTorch: Tensor.unbind). */
    unstack(axis?: number): Tensor[];
    /** The same as unstack (PyTorch: Tensor.unbind). */
    unbind(axis?: number): Tensor[];
    /** Pieces of `size` along `axis` (default 0; the last may be smaller), or pieces of the given sizes, which must add up to the dim (PyTorch: Tensor.split). */
    split(sizeOrSections: number | readonly number[], axis?: number): Tensor[];
    /** At most `chunks` pieces of ceil(size / chunks) along `axis` (default 0) (PyTorch: Tensor.chunk). */
    chunk(chunks: number, axis?: number): Tensor[];
  }
}

const P = Tensor.prototype;
P.reshape = function (shape) { return reshape(this, shape); };
P.view = function (shape) { return reshape(this, shape); };
P.broadcastTo = function (shape) { return broadcastTo(this, shape); };
P.expand = function (shape) { return broadcastTo(this, shape); };
P.permute = function (...dims) { return permute(this, ...dims); };
P.transpose = function (dim0, dim1) {
  if (arguments.length > 2) checkArity('transpose', arguments, 2, 'dim0?, dim1?');
  return transpose(this, dim0, dim1);
};
P.t = function () { return t(this); };
Object.defineProperty(P, 'T', {
  get(this: Tensor) { return permute(this, this.dims.map((_, k) => this.rank - 1 - k)); },
  configurable: true,
});
P.squeeze = function (axes) {
  if (arguments.length > 1) checkArity('squeeze', arguments, 1, 'axes?');
  return squeeze(this, axes);
};
P.unsqueeze = function (axis) { return unsqueeze(this, axis); };
P.flatten = function (startDim, endDim) {
  if (arguments.length > 2) checkArity('flatten', arguments, 2, 'startDim?, endDim?');
  return flatten(this, startDim, endDim);
};
P.slice = function (this: Tensor, a: any, start?: number | null, end?: number | null, step?: number | null) {
  if (arguments.length > 4) checkArity('slice', arguments, 4, 'axis, start?, end?, step?');
  return slice(this, a, start, end, step);
} as Tensor['slice'];
P.narrow = function (axis, start, length) { return narrow(this, axis, start, length); };
P.select = function (axis, index) { return select(this, axis, index); };
P.pad = function (pads, value, mode) {
  if (arguments.length > 3) checkArity('pad', arguments, 3, 'pads, value?, mode?');
  return pad(this, pads, value, mode);
};
P.indexSelect = function (axis, indices) { return indexSelect(this, axis, indices); };
P.indexAdd = function (axis, indices, source, options) {
  if (arguments.length > 4) checkArity('indexAdd', arguments, 4, 'axis, indices, source, options?');
  return indexAdd(this, axis, indices, source, options);
};
P.gather = function (axis, index) {
  if (arguments.length > 2) checkArity('gather', arguments, 2, 'axis, index');
  return gather(this, axis, index);
};
P.scatterAdd = function (axis, index, src) { return scatterAdd(this, axis, index, src); };
P.unstack = function (axis) {
  if (arguments.length > 1) checkArity('unstack', arguments, 1, 'axis?');
  return unstack(this, axis);
};
P.unbind = function (axis) {
  if (arguments.length > 1) checkArity('unbind', arguments, 1, 'axis?');
  return unstack(this, axis);
};
P.split = function (sizeOrSections, axis) {
  if (arguments.length > 2) checkArity('split', arguments, 2, 'sizeOrSections, axis?');
  return split(this, sizeOrSections, axis);
};
P.chunk = function (chunks, axis) {
  if (arguments.length > 2) checkArity('chunk', arguments, 2, 'chunks, axis?');
  return chunk(this, chunks, axis);
};
