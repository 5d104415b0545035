// Shape and indexing ops: reshape, expand, permute, slice, pad, indexSelect / indexAdd, gather /
// scatterAdd, concat — kernels and VJP rules. Every tensor owns contiguous row-major data, so
// these ops copy. They copy elements by size (1, 4 or 8 bytes), so every dtype passes through.
//
// The rules pair up: permute ↔ inverse permute, slice ↔ pad (embedding into zeros), indexSelect
// ↔ indexAdd, gather ↔ scatterAdd, concat → slices. Each rule uses the recording op of its
// partner, so derivatives of any order work.

import { Op, DType } from "../core/vocabulary";
import {
  newTensor, dtypeOf, rankOf, dimOf, dataOf, numelOf, shapePtr, MAX_RANK, itemSize, fail, E_NO_RULE, E_BOUNDS,
  needsGrad,
} from "../core/tensor";
import { prepare, advance, itInner, itOuter, itOffset, itStride } from "../core/iter";
import {
  recording, shouldRecord1, shouldRecord2, recordTarget, recordOp, recordInput, recordAttr, recAttr, recInput,
  recNumInputs, recOut, accumulate, adjointToAddInto, takeFreshAdjoint, scratch,
} from "../engine/tape";
import { tangentOf, setTangent } from "../engine/forward";
import { sumTo } from "./reduce";
import { fillScalar, mulScalar } from "./elementwise";

@inline function ld(p: u32, k: i32): i32 { return load<i32>(p + (<u32>k << 2)); }
@inline function st(p: u32, k: i32, v: i32): void { store<i32>(p + (<u32>k << 2), v); }

/** Copies `rank` dims of the shape at `from` to `to` (shapes in the table can move when it grows). */
function copyShape(to: u32, from: u32, rank: i32): void {
  for (let k = 0; k < rank; k++) st(to, k, ld(from, k));
}

// ————————————————————————————————————————————————————————— reshape, expand

const RS_SHAPE = memory.data(MAX_RANK * 4);

/** x with a new shape of the same size (a recording op). */
export function reshapeTo(x: i32, rank: i32, shape: u32): i32 {
  if (x == 0) return 0;
  copyShape(RS_SHAPE, shape, rank);
  const out = newTensor(dtypeOf(x), rank, RS_SHAPE);
  if (out == 0) return 0;
  memory.copy(dataOf(out), dataOf(x), <usize>numelOf(x) * itemSize(dtypeOf(x)));
  if (recordOp(shouldRecord1(x), Op.reshape, out)) recordInput(x);
  return out;
}

export function reshapeLike(x: i32, like: i32): i32 { return reshapeTo(x, rankOf(like), shapePtr(like)); }

function expandKernel(x: i32, out: i32): void {
  const size = <usize>itemSize(dtypeOf(x));
  prepare(rankOf(out), shapePtr(out), x, 0, 0);
  const px = dataOf(x);
  let po = dataOf(out);
  const n = itInner, sx = itStride(0);
  for (let r = 0; r < itOuter; r++) {
    const q = px + <usize>itOffset(0) * size;
    if (sx == 1) memory.copy(po, q, <usize>n * size);
    else if (size == 4) { const v = load<u32>(q); for (let i = 0; i < n; i++) store<u32>(po + (<usize>i << 2), v); }
    else if (size == 8) { const v = load<u64>(q); for (let i = 0; i < n; i++) store<u64>(po + (<usize>i << 3), v); }
    else memory.fill(po, load<u8>(q), n);
    po += <usize>n * size;
    advance();
  }
}

/** x broadcast to `shape` (NumPy rules; the host has checked they are compatible). */
export function expandTo(x: i32, rank: i32, shape: u32): i32 {
  if (x == 0) return 0;
  copyShape(RS_SHAPE, shape, rank);
  const out = newTensor(dtypeOf(x), rank, RS_SHAPE);
  if (out == 0) return 0;
  expandKernel(x, out);
  if (recordOp(shouldRecord1(x), Op.expand, out)) recordInput(x);
  return out;
}

export function expandLike(x: i32, like: i32): i32 { return expandTo(x, rankOf(like), shapePtr(like)); }

// ————————————————————————————————————————————————————————— strided copy

// The copy engine of permute, slice and pad: out[Σ i_k·so_k] = in[Σ i_k·si_k] over a shape of
// `rank` dims, strides in elements. Callers fill these buffers, then call stridedCopy.
const CP_N = memory.data(MAX_RANK * 4);
const CP_SI = memory.data(MAX_RANK * 4);
const CP_SO = memory.data(MAX_RANK * 4);
const CP_IX = memory.data(MAX_RANK * 4);
const TILE_BYTES = 128; // a transpose tile's side: 32 f32s or 16 f64s (measured fastest on 1024²)

/**
 * Fills CP_* to place contiguous `src` into a contiguous tensor of dims `outShape`, dim k at
 * start spec[2k] with step spec[2k+1] (pad, and slice's gradient); returns src[0]'s offset there.
 */
function placeGeometry(src: i32, spec: u32, outShape: u32): i32 {
  let base = 0, so = 1, si = 1;
  for (let k = rankOf(src) - 1; k >= 0; k--) {
    const n = dimOf(src, k);
    st(CP_N, k, n); st(CP_SI, k, si); st(CP_SO, k, so * ld(spec, 2 * k + 1));
    base += ld(spec, 2 * k) * so;
    so *= ld(outShape, k);
    si *= n;
  }
  return base;
}

/** Drops size-1 dims and merges neighbours that both sides walk as one; -1 when nothing to copy. */
function compactCopyDims(rank: i32): i32 {
  let w = 0;
  for (let k = 0; k < rank; k++) {
    const n = ld(CP_N, k);
    if (n == 0) return -1;
    if (n == 1) continue;
    const si = ld(CP_SI, k), so = ld(CP_SO, k);
    if (w > 0 && ld(CP_SI, w - 1) == si * n && ld(CP_SO, w - 1) == so * n) {
      st(CP_N, w - 1, ld(CP_N, w - 1) * n); st(CP_SI, w - 1, si); st(CP_SO, w - 1, so);
      continue;
    }
    st(CP_N, w, n); st(CP_SI, w, si); st(CP_SO, w, so);
    w++;
  }
  return w;
}

/** Swaps dims a and b of the copy description. */
function swapCopyDims(a: i32, b: i32): void {
  const n = ld(CP_N, a), si = ld(CP_SI, a), so = ld(CP_SO, a);
  st(CP_N, a, ld(CP_N, b)); st(CP_SI, a, ld(CP_SI, b)); st(CP_SO, a, ld(CP_SO, b));
  st(CP_N, b, n); st(CP_SI, b, si); st(CP_SO, b, so);
}

/**
 * A 4×4 (4-byte elements) or 2×2 (8-byte) block transpose in registers: out row i+k takes
 * in[(c+j)·siC + i + k] for j across the block.
 */
@inline function transposeBlock<T>(pin: usize, siC: i32, pout: usize, soR: i32, i: i32, c: i32): void {
  const size = sizeof<T>();
  if (size == 4) {
    const v0 = v128.load(pin + (<usize>(c * siC + i) << 2));
    const v1 = v128.load(pin + (<usize>((c + 1) * siC + i) << 2));
    const v2 = v128.load(pin + (<usize>((c + 2) * siC + i) << 2));
    const v3 = v128.load(pin + (<usize>((c + 3) * siC + i) << 2));
    const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5), t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
    const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7), t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
    v128.store(pout + (<usize>(i * soR + c) << 2), i32x4.shuffle(t0, t1, 0, 1, 4, 5));
    v128.store(pout + (<usize>((i + 1) * soR + c) << 2), i32x4.shuffle(t0, t1, 2, 3, 6, 7));
    v128.store(pout + (<usize>((i + 2) * soR + c) << 2), i32x4.shuffle(t2, t3, 0, 1, 4, 5));
    v128.store(pout + (<usize>((i + 3) * soR + c) << 2), i32x4.shuffle(t2, t3, 2, 3, 6, 7));
  } else {
    const v0 = v128.load(pin + (<usize>(c * siC + i) << 3));
    const v1 = v128.load(pin + (<usize>((c + 1) * siC + i) << 3));
    v128.store(pout + (<usize>(i * soR + c) << 3), i64x2.shuffle(v0, v1, 0, 2));
    v128.store(pout + (<usize>((i + 1) * soR + c) << 3), i64x2.shuffle(v0, v1, 1, 3));
  }
}

/**
 * out[i·soR + c] = in[i + c·siC] for i < R, c < C: a matrix transpose, walked in square tiles
 * so that both the strided reads and the contiguous writes stay in cache.
 */
function transposeTiles<T>(pin: usize, siC: i32, pout: usize, soR: i32, R: i32, C: i32): void {
  const size = sizeof<T>();
  const tile = <i32>(TILE_BYTES / size);
  for (let i0 = 0; i0 < R; i0 += tile) {
    const i1 = min(i0 + tile, R);
    for (let c0 = 0; c0 < C; c0 += tile) {
      const c1 = min(c0 + tile, C);
      let i = i0;
      if (sizeof<T>() != 1) { // whole register blocks first; 1-byte elements go scalar
        const lanes = <i32>(16 / size);
        for (; i + lanes <= i1; i += lanes) {
          let c = c0;
          for (; c + lanes <= c1; c += lanes) transposeBlock<T>(pin, siC, pout, soR, i, c);
          for (let ii = i; ii < i + lanes; ii++) {
            for (let cc = c; cc < c1; cc++) {
              store<T>(pout + <usize>(ii * soR + cc) * size, load<T>(pin + <usize>(ii + cc * siC) * size));
            }
          }
        }
      }
      for (; i < i1; i++) {
        for (let c = c0; c < c1; c++) {
          store<T>(pout + <usize>(i * soR + c) * size, load<T>(pin + <usize>(i + c * siC) * size));
        }
      }
    }
  }
}

/** Runs the copy described by CP_* (rank dims) from pin to pout; T is an unsigned of the element size. */
function stridedCopyT<T>(rank: i32, pin: usize, pout: usize): void {
  const size = sizeof<T>();
  let r = compactCopyDims(rank);
  if (r < 0) return;
  if (r == 0) { store<T>(pout, load<T>(pin)); return; }
  // A transpose: the inner output run reads with a stride while another dim reads contiguously.
  let tiled = false;
  if (r >= 2 && ld(CP_SO, r - 1) == 1 && ld(CP_SI, r - 1) != 1) {
    for (let j = r - 2; j >= 0; j--) {
      if (ld(CP_SI, j) == 1) { swapCopyDims(j, r - 2); tiled = true; break; }
    }
  }
  const loops = tiled ? r - 2 : r - 1; // dims walked one step at a time
  const n = ld(CP_N, r - 1), si = ld(CP_SI, r - 1), so = ld(CP_SO, r - 1);
  let outer = 1;
  for (let k = 0; k < loops; k++) outer *= ld(CP_N, k);
  memory.fill(CP_IX, 0, MAX_RANK * 4);
  let oi = 0, oo = 0;
  for (let q = 0; q < outer; q++) {
    const qi = pin + <usize>oi * size, qo = pout + <usize>oo * size;
    if (tiled) transposeTiles<T>(qi, si, qo, ld(CP_SO, r - 2), ld(CP_N, r - 2), n);
    else if (si == 1 && so == 1) memory.copy(qo, qi, <usize>n * size);
    else {
      for (let i = 0; i < n; i++) store<T>(qo + <usize>(i * so) * size, load<T>(qi + <usize>(i * si) * size));
    }
    for (let k = loops - 1; k >= 0; k--) {
      const i = ld(CP_IX, k) + 1, nk = ld(CP_N, k);
      if (i < nk) { st(CP_IX, k, i); oi += ld(CP_SI, k); oo += ld(CP_SO, k); break; }
      st(CP_IX, k, 0);
      oi -= ld(CP_SI, k) * (nk - 1); oo -= ld(CP_SO, k) * (nk - 1);
    }
  }
}

/** out[…] += in[…] over the geometry in CP_N / CP_SI / CP_SO (element strides), dim by dim. */
function stridedAddT<T>(rank: i32, pin: usize, pout: usize): void {
  const size = sizeof<T>();
  if (rank == 0) { store<T>(pout, load<T>(pout) + load<T>(pin)); return; }
  const n = ld(CP_N, rank - 1), si = ld(CP_SI, rank - 1), so = ld(CP_SO, rank - 1);
  let outer = 1;
  for (let k = 0; k < rank - 1; k++) outer *= ld(CP_N, k);
  memory.fill(CP_IX, 0, MAX_RANK * 4);
  let oi = 0, oo = 0;
  for (let q = 0; q < outer; q++) {
    const qi = pin + <usize>oi * size, qo = pout + <usize>oo * size;
    for (let i = 0; i < n; i++) {
      const po = qo + <usize>(i * so) * size;
      store<T>(po, load<T>(po) + load<T>(qi + <usize>(i * si) * size));
    }
    for (let k = rank - 2; k >= 0; k--) {
      const i = ld(CP_IX, k) + 1, nk = ld(CP_N, k);
      if (i < nk) { st(CP_IX, k, i); oi += ld(CP_SI, k); oo += ld(CP_SO, k); break; }
      st(CP_IX, k, 0);
      oi -= ld(CP_SI, k) * (nk - 1); oo -= ld(CP_SO, k) * (nk - 1);
    }
  }
}

function stridedCopy(size: u32, rank: i32, pin: usize, pout: usize): void {
  if (size == 8) stridedCopyT<u64>(rank, pin, pout);
  else if (size == 4) stridedCopyT<u32>(rank, pin, pout);
  else stridedCopyT<u8>(rank, pin, pout);
}

/** Writes the row-major element strides of a shape (`rank` dims at `shape`) to `strides`. */
function contiguousStrides(shape: u32, rank: i32, strides: u32): void {
  let s = 1;
  for (let k = rank - 1; k >= 0; k--) { st(strides, k, s); s *= ld(shape, k); }
}

// ————————————————————————————————————————————————————————— permute

const PM_SHAPE = memory.data(MAX_RANK * 4);
const PM_STRIDE = memory.data(MAX_RANK * 4);

/** out dim k = x dim perm[k] (PyTorch's permute; `perm` holds rank i32s, a permutation). */
export function permute(x: i32, perm: u32): i32 {
  if (x == 0) return 0;
  const rank = rankOf(x);
  contiguousStrides(shapePtr(x), rank, PM_STRIDE);
  for (let k = 0; k < rank; k++) st(PM_SHAPE, k, dimOf(x, ld(perm, k)));
  const out = newTensor(dtypeOf(x), rank, PM_SHAPE);
  if (out == 0) return 0;
  for (let k = 0; k < rank; k++) {
    st(CP_N, k, ld(PM_SHAPE, k));
    st(CP_SI, k, ld(PM_STRIDE, ld(perm, k)));
  }
  contiguousStrides(PM_SHAPE, rank, CP_SO);
  stridedCopy(itemSize(dtypeOf(x)), rank, dataOf(x), dataOf(out));
  if (recordOp(shouldRecord1(x), Op.permute, out)) {
    recordInput(x);
    for (let k = 0; k < rank; k++) recordAttr(<f64>ld(perm, k));
  }
  return out;
}

// ————————————————————————————————————————————————————————— slice, pad

const SL_SHAPE = memory.data(MAX_RANK * 4);

/**
 * x[start_k : start_k + count_k·step_k : step_k] on every dim k; `spec` holds (start, step,
 * count) per dim, already in range (the host applies Python's slicing rules). When `dropAxis`
 * is a dim (its count 1), the result leaves it out: PyTorch's select.
 */
export function slice(x: i32, spec: u32, dropAxis: i32): i32 {
  if (x == 0) return 0;
  const rank = rankOf(x);
  let w = 0;
  for (let k = 0; k < rank; k++) if (k != dropAxis) st(SL_SHAPE, w++, ld(spec, 3 * k + 2));
  // Every element read must lie inside x (in i64: the host validates, this is the last line).
  for (let k = 0; k < rank; k++) {
    const start = <i64>ld(spec, 3 * k), step = <i64>ld(spec, 3 * k + 1), count = <i64>ld(spec, 3 * k + 2);
    if (count < 0 || (count > 0 && (start < 0 || start >= <i64>dimOf(x, k) || start + (count - 1) * step < 0 ||
        start + (count - 1) * step >= <i64>dimOf(x, k)))) { fail(E_BOUNDS, Op.slice); return 0; }
  }
  const out = newTensor(dtypeOf(x), w, SL_SHAPE);
  if (out == 0) return 0;
  let base = 0, stride = 1, so = 1;
  for (let k = rank - 1; k >= 0; k--) {
    const start = ld(spec, 3 * k), step = ld(spec, 3 * k + 1), count = ld(spec, 3 * k + 2);
    st(CP_N, k, count); st(CP_SI, k, stride * step); st(CP_SO, k, so);
    base += start * stride;
    stride *= dimOf(x, k);
    so *= count;
  }
  const size = itemSize(dtypeOf(x));
  if (numelOf(out) > 0) stridedCopy(size, rank, dataOf(x) + <usize>base * size, dataOf(out));
  if (recordOp(shouldRecord1(x), Op.slice, out)) {
    recordInput(x);
    recordAttr(<f64>dropAxis);
    for (let k = 0; k < 3 * rank; k++) recordAttr(<f64>ld(spec, k));
  }
  return out;
}

const PD_SHAPE = memory.data(MAX_RANK * 4);

/**
 * Embeds x into a new tensor of `shape` (x's rank) filled with `value`: x's element i_k lands
 * at start_k + i_k·step_k; `spec` holds (start, step) per dim, and x must fit inside.
 */
export function pad(x: i32, shape: u32, spec: u32, value: f64): i32 {
  if (x == 0) return 0;
  const rank = rankOf(x);
  copyShape(PD_SHAPE, shape, rank);
  // x must fit inside the output (in i64: the host validates, this is the last line).
  for (let k = 0; k < rank; k++) {
    const n = <i64>dimOf(x, k), start = <i64>ld(spec, 2 * k), step = <i64>ld(spec, 2 * k + 1);
    if (n > 0 && (start < 0 || step < 1 || start + (n - 1) * step >= <i64>ld(PD_SHAPE, k))) { fail(E_BOUNDS, Op.pad); return 0; }
  }
  const out = newTensor(dtypeOf(x), rank, PD_SHAPE);
  if (out == 0) return 0;
  fillScalar(out, value);
  const base = placeGeometry(x, spec, PD_SHAPE);
  const size = itemSize(dtypeOf(x));
  if (numelOf(x) > 0) stridedCopy(size, rank, dataOf(x), dataOf(out) + <usize>base * size);
  if (recordOp(shouldRecord1(x), Op.pad, out)) {
    recordInput(x);
    recordAttr(value);
    for (let k = 0; k < 2 * rank; k++) recordAttr(<f64>ld(spec, k));
  }
  return out;
}

// ————————————————————————————————————————————————————————— indexSelect, indexAdd

const IX_SHAPE = memory.data(MAX_RANK * 4);

/** Products of the dims before and after `axis` (a rank-0 tensor counts as one element). */
function outerCount(x: i32, axis: i32): i32 {
  let n = 1;
  for (let k = 0; k < axis; k++) n *= dimOf(x, k);
  return n;
}
function innerCount(x: i32, axis: i32): i32 {
  let n = 1;
  for (let k = axis + 1; k < rankOf(x); k++) n *= dimOf(x, k);
  return n;
}

/**
 * torch.index_select: the slices of x at the int32 indices `idx` (in range: the host checked)
 * along `axis`, in the order given.
 */
export function indexSelect(x: i32, axis: i32, idx: i32): i32 {
  if (x == 0 || idx == 0) return 0;
  const rank = rankOf(x), m = numelOf(idx);
  copyShape(IX_SHAPE, shapePtr(x), rank);
  if (rank > 0) st(IX_SHAPE, axis, m);
  const out = newTensor(dtypeOf(x), rank, IX_SHAPE);
  if (out == 0) return 0;
  const size = <usize>itemSize(dtypeOf(x));
  const outer = outerCount(x, axis), n = rank > 0 ? dimOf(x, axis) : 1, inner = innerCount(x, axis);
  const px = dataOf(x), pi = dataOf(idx), row = <usize>inner * size;
  let po = dataOf(out);
  for (let o = 0; o < outer; o++) {
    const base = px + <usize>o * <usize>n * row;
    for (let j = 0; j < m; j++) {
      const src = base + <usize>load<i32>(pi + (<usize>j << 2)) * row;
      if (size == 4 && inner == 1) store<u32>(po, load<u32>(src));
      else memory.copy(po, src, row);
      po += row;
    }
  }
  if (recordOp(shouldRecord1(x), Op.indexSelect, out)) {
    recordInput(x); recordInput(idx); recordAttr(<f64>axis);
  }
  return out;
}

/** A non-recorded copy of x: the base that indexAdd and scatterAdd add into. */
function cloneOf(x: i32): i32 {
  copyShape(IX_SHAPE, shapePtr(x), rankOf(x));
  const out = newTensor(dtypeOf(x), rankOf(x), IX_SHAPE);
  if (out != 0) memory.copy(dataOf(out), dataOf(x), <usize>numelOf(x) * itemSize(dtypeOf(x)));
  return out;
}

/** dst[i] += alpha·src[i] for n elements (bool: logical or). */
function addRun<T>(dst: usize, src: usize, n: i32, alpha: f64): void {
  if (sizeof<T>() == 1) {
    for (let i = 0; i < n; i++) store<u8>(dst + <usize>i, load<u8>(dst + <usize>i) | load<u8>(src + <usize>i));
  } else {
    const size = sizeof<T>();
    const lanes = <i32>(16 / size);
    const va = v128.splat<T>(<T>alpha);
    let i = 0;
    for (; i + lanes <= n; i += lanes) {
      const p = dst + <usize>i * size;
      v128.store(p, v128.add<T>(v128.load(p), v128.mul<T>(v128.load(src + <usize>i * size), va)));
    }
    for (; i < n; i++) {
      const p = dst + <usize>i * size;
      store<T>(p, load<T>(p) + load<T>(src + <usize>i * size) * <T>alpha);
    }
  }
}

function indexAddKernel<T>(out: i32, axis: i32, idx: i32, src: i32, alpha: f64): void {
  const size = sizeof<T>();
  const outer = outerCount(out, axis), n = rankOf(out) > 0 ? dimOf(out, axis) : 1;
  const inner = innerCount(out, axis), m = numelOf(idx);
  const po = dataOf(out), pi = dataOf(idx), row = <usize>inner * size;
  let ps = dataOf(src);
  for (let o = 0; o < outer; o++) {
    const base = po + <usize>o * <usize>n * row;
    for (let j = 0; j < m; j++) {
      addRun<T>(base + <usize>load<i32>(pi + (<usize>j << 2)) * row, ps, inner, alpha);
      ps += row;
    }
  }
}

/**
 * torch.index_add: x with alpha·src's slices added at the indices `idx` along `axis`; repeated
 * indices accumulate, in index order. src has x's shape except len(idx) along `axis`.
 */
export function indexAdd(x: i32, axis: i32, idx: i32, src: i32, alpha: f64): i32 {
  if (x == 0 || idx == 0 || src == 0) return 0;
  const out = cloneOf(x);
  if (out == 0) return 0;
  const dt = dtypeOf(x);
  if (dt == DType.float32) indexAddKernel<f32>(out, axis, idx, src, alpha);
  else if (dt == DType.float64) indexAddKernel<f64>(out, axis, idx, src, alpha);
  else if (dt == DType.int32) indexAddKernel<i32>(out, axis, idx, src, alpha);
  else indexAddKernel<u8>(out, axis, idx, src, alpha);
  if (recordOp(shouldRecord2(x, src), Op.indexAdd, out)) {
    recordInput(x); recordInput(idx); recordInput(src); recordAttr(<f64>axis); recordAttr(alpha);
  }
  return out;
}

// ————————————————————————————————————————————————————————— gather, scatterAdd

const GS_XSTRIDE = memory.data(MAX_RANK * 4);
const GS_SSTRIDE = memory.data(MAX_RANK * 4);
const GS_IX = memory.data(MAX_RANK * 4);

/**
 * Walks the index tensor in row-major order. gather: out[p] = x[p with p_axis = idx[p]].
 * scatter-add: x[p with p_axis = idx[p]] += src[p] (src may be larger than idx: its own strides).
 */
function gatherScatter<T>(scatter: bool, x: i32, axis: i32, idx: i32, src: i32, out: i32): void {
  const size = sizeof<T>();
  const rank = rankOf(idx), total = numelOf(idx);
  contiguousStrides(shapePtr(x), rankOf(x), GS_XSTRIDE);
  if (scatter) contiguousStrides(shapePtr(src), rank, GS_SSTRIDE);
  memory.fill(GS_IX, 0, MAX_RANK * 4);
  const sa = rank > 0 ? ld(GS_XSTRIDE, axis) : 0;
  const px = scatter ? dataOf(out) : dataOf(x);
  const pi = dataOf(idx), ps = scatter ? dataOf(src) : dataOf(out);
  let xo = 0, so = 0;
  for (let i = 0; i < total; i++) {
    const p = px + <usize>(xo + load<i32>(pi + (<usize>i << 2)) * sa) * size;
    if (scatter) {
      const s = ps + <usize>so * size;
      if (size == 1) store<u8>(p, load<u8>(p) | load<u8>(s));
      else store<T>(p, load<T>(p) + load<T>(s));
    } else {
      store<T>(ps + <usize>i * size, load<T>(p));
    }
    for (let k = rank - 1; k >= 0; k--) {
      const c = ld(GS_IX, k) + 1, n = dimOf(idx, k);
      const xs = k == axis ? 0 : ld(GS_XSTRIDE, k), ss = scatter ? ld(GS_SSTRIDE, k) : 0;
      if (c < n) { st(GS_IX, k, c); xo += xs; so += ss; break; }
      st(GS_IX, k, 0);
      xo -= xs * (n - 1); so -= ss * (n - 1);
    }
  }
}

function gatherScatterFor(dt: i32, scatter: bool, x: i32, axis: i32, idx: i32, src: i32, out: i32): void {
  if (dt == DType.float32) gatherScatter<f32>(scatter, x, axis, idx, src, out);
  else if (dt == DType.float64) gatherScatter<f64>(scatter, x, axis, idx, src, out);
  else if (dt == DType.int32) gatherScatter<i32>(scatter, x, axis, idx, src, out);
  else gatherScatter<u8>(scatter, x, axis, idx, src, out);
}

/** torch.gather: out (shaped like idx) takes x at the index idx[p] along `axis`, p elsewhere. */
export function gather(x: i32, axis: i32, idx: i32): i32 {
  if (x == 0 || idx == 0) return 0;
  copyShape(IX_SHAPE, shapePtr(idx), rankOf(idx));
  const out = newTensor(dtypeOf(x), rankOf(idx), IX_SHAPE);
  if (out == 0) return 0;
  gatherScatterFor(dtypeOf(x), false, x, axis, idx, 0, out);
  if (recordOp(shouldRecord1(x), Op.gather, out)) {
    recordInput(x); recordInput(idx); recordAttr(<f64>axis);
  }
  return out;
}

/** torch.scatter_add: x with src[p] added at idx[p] along `axis` for every p in idx's shape. */
export function scatterAdd(x: i32, axis: i32, idx: i32, src: i32): i32 {
  if (x == 0 || idx == 0 || src == 0) return 0;
  const out = cloneOf(x);
  if (out == 0) return 0;
  gatherScatterFor(dtypeOf(x), true, x, axis, idx, src, out);
  if (recordOp(shouldRecord2(x, src), Op.scatterAdd, out)) {
    recordInput(x); recordInput(idx); recordInput(src); recordAttr(<f64>axis);
  }
  return out;
}

// ————————————————————————————————————————————————————————— concat

const CC_SHAPE = memory.data(MAX_RANK * 4);

/**
 * torch.cat of the `n` tensors whose ids are at `ids` along `axis`, into `shape` (rank dims).
 * An input of rank-1 is a slab of size 1 along `axis`: that is torch.stack, in one record.
 */
export function concat(ids: u32, n: i32, axis: i32, rank: i32, shape: u32): i32 {
  for (let t = 0; t < n; t++) if (ld(ids, t) == 0) return 0;
  copyShape(CC_SHAPE, shape, rank);
  const dt = dtypeOf(ld(ids, 0));
  const out = newTensor(dt, rank, CC_SHAPE);
  if (out == 0) return 0;
  let outer = 1;
  for (let k = 0; k < axis; k++) outer *= ld(CC_SHAPE, k);
  const size = <usize>itemSize(dt);
  let po = dataOf(out);
  if (numelOf(out) > 0) {
    for (let o = 0; o < outer; o++) {
      for (let t = 0; t < n; t++) {
        const x = ld(ids, t);
        const chunk = <usize>(numelOf(x) / outer) * size;
        memory.copy(po, dataOf(x) + <usize>o * chunk, chunk);
        po += chunk;
      }
    }
  }
  let record = false;
  for (let t = 0; t < n; t++) if (needsGrad(ld(ids, t))) record = true;
  if (recordOp(recordTarget(record), Op.concat, out)) {
    for (let t = 0; t < n; t++) recordInput(ld(ids, t));
    recordAttr(<f64>axis);
  }
  return out;
}

// ————————————————————————————————————————————————————————— VJP rules

const VJ_SPEC = memory.data(3 * MAX_RANK * 4);
const VJ_SHAPE = memory.data(MAX_RANK * 4);

/** Zeros of x's shape and dtype: the base a scattering rule adds into (a constant). */
function zerosLike(x: i32): i32 {
  copyShape(VJ_SHAPE, shapePtr(x), rankOf(x));
  const z = newTensor(dtypeOf(x), rankOf(x), VJ_SHAPE);
  if (z != 0) memory.fill(dataOf(z), 0, <usize>numelOf(z) * itemSize(dtypeOf(z)));
  return z;
}

/** A slice spec taking all of g except [start, start+count) along `axis`. */
function axisSpec(g: i32, axis: i32, start: i32, count: i32): u32 {
  for (let k = 0; k < rankOf(g); k++) {
    st(VJ_SPEC, 3 * k, k == axis ? start : 0);
    st(VJ_SPEC, 3 * k + 1, 1);
    st(VJ_SPEC, 3 * k + 2, k == axis ? count : dimOf(g, k));
  }
  return VJ_SPEC;
}

export function vjpShape(op: i32, r: u32, g: i32): void {
  const x = recInput(r, 0);
  switch (op) {
    case Op.reshape: { accumulate(x, reshapeLike(g, x)); return; }
    case Op.expand: { accumulate(x, sumTo(g, x)); return; }
    case Op.permute: {
      for (let k = 0; k < rankOf(x); k++) st(VJ_SPEC, <i32>recAttr(r, k), k);
      accumulate(x, permute(g, VJ_SPEC));
      return;
    }
    case Op.slice: {
      // Embed g into zeros at the sliced positions; a dropped (selected) dim comes back first.
      const rank = rankOf(x), drop = <i32>recAttr(r, 0);
      for (let k = 0; k < rank; k++) st(VJ_SHAPE, k, <i32>recAttr(r, 1 + 3 * k + 2));
      const full = drop >= 0 ? reshapeTo(g, rank, VJ_SHAPE) : g;
      for (let k = 0; k < rank; k++) {
        st(VJ_SPEC, 2 * k, <i32>recAttr(r, 1 + 3 * k));
        st(VJ_SPEC, 2 * k + 1, <i32>recAttr(r, 1 + 3 * k + 1));
      }
      // First order and not capturing: add g into x's adjoint at the sliced positions in place,
      // so N slices of x (unstack, split) cost O(|x|) in all instead of N full-size pads and adds.
      const a = dtypeOf(full) == dtypeOf(x) ? adjointToAddInto(x) : 0;
      if (a != 0) {
        const base = placeGeometry(full, VJ_SPEC, shapePtr(x));
        const fresh = takeFreshAdjoint(a); // the first contribution is copied, as pad + adoption would
        if (numelOf(full) > 0) {
          const size = itemSize(dtypeOf(x));
          if (fresh) stridedCopy(size, rank, dataOf(full), dataOf(a) + <usize>base * size);
          else if (dtypeOf(x) == DType.float32) stridedAddT<f32>(rank, dataOf(full), dataOf(a) + (<usize>base << 2));
          else stridedAddT<f64>(rank, dataOf(full), dataOf(a) + (<usize>base << 3));
        }
        return;
      }
      copyShape(VJ_SHAPE, shapePtr(x), rank);
      accumulate(x, pad(full, VJ_SHAPE, VJ_SPEC, 0));
      return;
    }
    case Op.pad: {
      const rank = rankOf(x);
      for (let k = 0; k < rank; k++) {
        st(VJ_SPEC, 3 * k, <i32>recAttr(r, 1 + 2 * k));
        st(VJ_SPEC, 3 * k + 1, <i32>recAttr(r, 2 + 2 * k));
        st(VJ_SPEC, 3 * k + 2, dimOf(x, k));
      }
      accumulate(x, slice(g, VJ_SPEC, -1));
      return;
    }
    case Op.indexSelect: {
      if (!needsGrad(x)) return;
      accumulate(x, indexAdd(zerosLike(x), <i32>recAttr(r, 0), recInput(r, 1), g, 1));
      return;
    }
    case Op.indexAdd: {
      const src = recInput(r, 2), alpha = recAttr(r, 1);
      accumulate(x, g);
      if (!needsGrad(src)) return;
      const picked = indexSelect(g, <i32>recAttr(r, 0), recInput(r, 1));
      accumulate(src, alpha == 1 ? picked : mulScalar(picked, alpha));
      return;
    }
    case Op.gather: {
      if (!needsGrad(x)) return;
      accumulate(x, scatterAdd(zerosLike(x), <i32>recAttr(r, 0), recInput(r, 1), g));
      return;
    }
    case Op.scatterAdd: {
      const idx = recInput(r, 1), src = recInput(r, 2);
      accumulate(x, g);
      if (!needsGrad(src)) return;
      const picked = gather(g, <i32>recAttr(r, 0), idx);
      if (numelOf(picked) == numelOf(src)) { accumulate(src, picked); return; }
      // src is larger than the index: its extra elements were not used.
      const rank = rankOf(src);
      for (let k = 0; k < rank; k++) { st(VJ_SPEC, 2 * k, 0); st(VJ_SPEC, 2 * k + 1, 1); }
      copyShape(VJ_SHAPE, shapePtr(src), rank);
      accumulate(src, pad(picked, VJ_SHAPE, VJ_SPEC, 0));
      return;
    }
    case Op.concat: {
      const n = recNumInputs(r), axis = <i32>recAttr(r, 0), rank = rankOf(g);
      let offset = 0;
      for (let t = 0; t < n; t++) {
        const xt = recInput(r, t);
        const stacked = rankOf(xt) < rank; // a torch.stack input: its dim comes back out
        const len = stacked ? 1 : dimOf(xt, axis);
        if (needsGrad(xt)) accumulate(xt, slice(g, axisSpec(g, axis, offset, len), stacked ? axis : -1));
        offset += len;
      }
      return;
    }
    default: fail(E_NO_RULE, op);
  }
}

const JV_SPEC = memory.data(3 * MAX_RANK * 4);
const JV_SHAPE = memory.data(MAX_RANK * 4);

/** The tangent of x, or zeros like x where x carries none (for ops that need every operand). */
function tangentOrZeros(x: i32): i32 { const t = tangentOf(x); return t != 0 ? t : zerosLike(x); }

/** Every shape op is linear: the tangent goes through the same op with the same attributes. */
export function jvpShape(op: i32, r: u32): void {
  const x = recInput(r, 0), out = recOut(r);
  const tx = tangentOf(x);
  switch (op) {
    case Op.reshape: { setTangent(out, reshapeLike(tx, out)); return; }
    case Op.expand: { setTangent(out, expandLike(tx, out)); return; }
    case Op.permute: {
      for (let k = 0; k < rankOf(x); k++) st(JV_SPEC, k, <i32>recAttr(r, k));
      setTangent(out, permute(tx, JV_SPEC));
      return;
    }
    case Op.slice: {
      for (let k = 0; k < 3 * rankOf(x); k++) st(JV_SPEC, k, <i32>recAttr(r, 1 + k));
      setTangent(out, slice(tx, JV_SPEC, <i32>recAttr(r, 0)));
      return;
    }
    case Op.pad: {
      const rank = rankOf(x);
      for (let k = 0; k < 2 * rank; k++) st(JV_SPEC, k, <i32>recAttr(r, 1 + k));
      copyShape(JV_SHAPE, shapePtr(out), rank);
      setTangent(out, pad(tx, JV_SHAPE, JV_SPEC, 0)); // the fill value is a constant
      return;
    }
    case Op.indexSelect: { setTangent(out, indexSelect(tx, <i32>recAttr(r, 0), recInput(r, 1))); return; }
    case Op.gather: { setTangent(out, gather(tx, <i32>recAttr(r, 0), recInput(r, 1))); return; }
    case Op.indexAdd:
    case Op.scatterAdd: {
      const src = recInput(r, 2), ts = tangentOf(src);
      if (ts == 0) { setTangent(out, tx); return; }
      const base = tangentOrZeros(x), axis = <i32>recAttr(r, 0), idx = recInput(r, 1);
      setTangent(out, op == Op.indexAdd ? indexAdd(base, axis, idx, ts, recAttr(r, 1)) : scatterAdd(base, axis, idx, ts));
      return;
    }
    case Op.concat: {
      const n = recNumInputs(r);
      const ids = scratch(n);
      if (ids == 0) return;
      for (let t = 0; t < n; t++) st(ids, t, tangentOrZeros(recInput(r, t)));
      copyShape(JV_SHAPE, shapePtr(out), rankOf(out));
      setTangent(out, concat(ids, n, <i32>recAttr(r, 0), rankOf(out), JV_SHAPE));
      return;
    }
    default: fail(E_NO_RULE, op);
  }
}
