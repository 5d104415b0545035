// Scans and index computations: cumsum, cumprod and the linear recurrence their derivatives
// need (recording ops with VJP and JVP rules), and the non-recorded index kernels behind sort,
// argsort, topk, argmax/argmin and tril/triu masks.
//
// Every op here works on x viewed as [outer, n, inner] around one axis. Scans accumulate in
// float64 (PyTorch's CPU accumulate type for float32 cumsum/cumprod), with f64x2 lanes across
// `inner` when the axis is not the last one.
//
// Sort-like ops only compute indices; the host takes the values with the recording gather, so
// their gradient is gather's (scatter-add into the chosen positions), as PyTorch's sort/topk
// backward is. Ordering follows PyTorch: NaN compares larger than every number, ties keep their
// original order (stable), and argmax/argmin pick the first extremum or the first NaN.
//
// The rules are closed under differentiation: with linrec(a, b) the scan h_k = a_k·h_(k-1) + b_k
// (or h_k = a_k·h_(k+1) + b_k reversed), cumsum's adjoint is a reversed cumsum, cumprod's is
// y_(k-1) · linrec_rev(x_(k+1), g)_k (exact with zeros, no division), and linrec's own adjoint
// and tangent are linrecs again, so derivatives of any order exist.

import { Op, DType } from "../core/vocabulary";
import {
  newTensor, dtypeOf, rankOf, dimOf, dataOf, numelOf, shapePtr, MAX_RANK, fail, E_NO_RULE, E_OOM,
  needsGrad, releaseTensor,
} from "../core/tensor";
import { alloc, free } from "../core/alloc";
import {
  shouldRecord1, shouldRecord2, recordOp, recordInput, recordAttr, recAttr, recInput, recOut,
  accumulate,
} from "../engine/tape";
import { captureBegin, captureInput, captureAttr } from "../engine/accelerate";
import { tangentOf, setTangent } from "../engine/forward";
import { mul, add } from "./elementwise";
import { slice, pad } from "./shape";

@inline function ld(p: u32, k: i32): i32 { return load<i32>(p + (<u32>k << 2)); }
@inline function st(p: u32, k: i32, v: i32): void { store<i32>(p + (<u32>k << 2), v); }

const SHAPE_TMP = memory.data(MAX_RANK * 4);

/** Elements before, along and after `axis` (a rank-0 tensor is one element along a size-1 axis). */
function outerOf(x: i32, axis: i32): i32 { let n = 1; for (let k = 0; k < axis; k++) n *= dimOf(x, k); return n; }
function innerOf(x: i32, axis: i32): i32 { let n = 1; for (let k = axis + 1; k < rankOf(x); k++) n *= dimOf(x, k); return n; }
function lengthOf(x: i32, axis: i32): i32 { return rankOf(x) == 0 ? 1 : dimOf(x, axis); }

/** A new tensor of x's shape with dim `axis` set to `len` (x's shape when axis < 0). */
function newAlong(x: i32, dtype: i32, axis: i32, len: i32): i32 {
  const rank = rankOf(x);
  for (let k = 0; k < rank; k++) st(SHAPE_TMP, k, k == axis ? len : dimOf(x, k));
  return newTensor(dtype, rank, SHAPE_TMP);
}

// ————————————————————————————————————————————————————————— scan kernels

const SCAN_SUM = 0;
const SCAN_PROD = 1;
const SCAN_LINREC = 2; // h = a·h + b

@inline function scanStep(kind: i32, acc: f64, a: f64, b: f64): f64 {
  return kind == SCAN_SUM ? acc + a : kind == SCAN_PROD ? acc * a : a * acc + b;
}
@inline function scanStepV(kind: i32, acc: v128, a: v128, b: v128): v128 {
  return kind == SCAN_SUM ? f64x2.add(acc, a) : kind == SCAN_PROD ? f64x2.mul(acc, a) : f64x2.add(f64x2.mul(a, acc), b);
}

/**
 * One row of a scan across `inner` contiguous lanes: acc[i] = step(acc[i], a[i], b[i]) in float64,
 * out[i] = acc[i] rounded to T. f64x2 lanes (float32 promoted four at a time), scalar tail.
 */
function scanRow<T>(kind: i32, pa: usize, pb: usize, acc: usize, po: usize, inner: i32): void {
  const size = sizeof<T>();
  let i = 0;
  if (size == 8) {
    for (; i + 2 <= inner; i += 2) {
      const o = <usize>i << 3;
      const b = kind == SCAN_LINREC ? v128.load(pb + o) : f64x2.splat(0);
      const h = scanStepV(kind, v128.load(acc + o), v128.load(pa + o), b);
      v128.store(acc + o, h);
      v128.store(po + o, h);
    }
  } else {
    for (; i + 4 <= inner; i += 4) {
      const o = <usize>i << 2, oa = <usize>i << 3;
      const va = v128.load(pa + o);
      const vb = kind == SCAN_LINREC ? v128.load(pb + o) : f32x4.splat(0);
      const h0 = scanStepV(kind, v128.load(acc + oa), f64x2.promote_low_f32x4(va), f64x2.promote_low_f32x4(vb));
      const h1 = scanStepV(kind, v128.load(acc + oa, 16),
        f64x2.promote_low_f32x4(i32x4.shuffle(va, va, 2, 3, 0, 1)), f64x2.promote_low_f32x4(i32x4.shuffle(vb, vb, 2, 3, 0, 1)));
      v128.store(acc + oa, h0);
      v128.store(acc + oa, h1, 16);
      v128.store(po + o, i32x4.shuffle(f32x4.demote_f64x2_zero(h0), f32x4.demote_f64x2_zero(h1), 0, 1, 4, 5));
    }
  }
  for (; i < inner; i++) {
    const o = <usize>i * size, oa = <usize>i << 3;
    const b = kind == SCAN_LINREC ? <f64>load<T>(pb + o) : 0;
    const h = scanStep(kind, load<f64>(acc + oa), <f64>load<T>(pa + o), b);
    store<f64>(acc + oa, h);
    store<T>(po + o, <T>h);
  }
}

/** The scan of a (and b, for linrec) along the middle dim of [outer, n, inner], forwards or reversed. */
function scanKernel<T>(kind: i32, a: i32, b: i32, out: i32, outer: i32, n: i32, inner: i32, reverse: bool, acc: usize): void {
  const size = sizeof<T>();
  const pa = dataOf(a), pb = b != 0 ? dataOf(b) : 0, po = dataOf(out);
  const init: f64 = kind == SCAN_PROD ? 1 : 0;
  const row = <usize>inner * size;
  for (let o = 0; o < outer; o++) {
    const base = <usize>o * <usize>n * row;
    if (inner == 1) {
      let h = init;
      for (let j = 0; j < n; j++) {
        const q = base + <usize>(reverse ? n - 1 - j : j) * size;
        h = scanStep(kind, h, <f64>load<T>(pa + q), kind == SCAN_LINREC ? <f64>load<T>(pb + q) : 0);
        store<T>(po + q, <T>h);
      }
      continue;
    }
    for (let i = 0; i < inner; i++) store<f64>(acc + (<usize>i << 3), init);
    for (let j = 0; j < n; j++) {
      const q = base + <usize>(reverse ? n - 1 - j : j) * row;
      scanRow<T>(kind, pa + q, pb + q, acc, po + q, inner);
    }
  }
}

/** int32 cumsum / cumprod, wrapping on overflow (never recorded). */
function scanInt(kind: i32, x: i32, out: i32, outer: i32, n: i32, inner: i32, reverse: bool): void {
  const px = dataOf(x), po = dataOf(out);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let h: i32 = kind == SCAN_PROD ? 1 : 0;
      for (let j = 0; j < n; j++) {
        const q = (<usize>(o * n + (reverse ? n - 1 - j : j)) * <usize>inner + <usize>i) << 2;
        h = kind == SCAN_SUM ? h + load<i32>(px + q) : h * load<i32>(px + q);
        store<i32>(po + q, h);
      }
    }
  }
}

/** Runs a scan into a new tensor shaped like a; returns 0 when memory runs out. */
function scan(kind: i32, a: i32, b: i32, axis: i32, reverse: bool): i32 {
  const dt = dtypeOf(a);
  const out = newAlong(a, dt, -1, 0);
  if (out == 0) return 0;
  const outer = outerOf(a, axis), n = lengthOf(a, axis), inner = innerOf(a, axis);
  if (dt == DType.int32) { scanInt(kind, a, out, outer, n, inner, reverse); return out; }
  let acc: usize = 0;
  if (inner > 1) {
    acc = alloc(<u32>inner << 3);
    if (acc == 0) { releaseTensor(out); fail(E_OOM, Op.cumsum + kind); return 0; }
  }
  if (dt == DType.float32) scanKernel<f32>(kind, a, b, out, outer, n, inner, reverse, acc);
  else scanKernel<f64>(kind, a, b, out, outer, n, inner, reverse, acc);
  if (acc != 0) free(acc);
  return out;
}

/** torch.cumsum along `axis` (reverse: from the end, the adjoint); float32/float64/int32. */
export function cumsum(x: i32, axis: i32, reverse: i32): i32 {
  if (x == 0) return 0;
  const out = scan(SCAN_SUM, x, 0, axis, reverse != 0);
  if (out != 0 && recordOp(shouldRecord1(x), Op.cumsum, out)) {
    recordInput(x); recordAttr(<f64>axis); recordAttr(<f64>reverse);
  }
  return out;
}

/** torch.cumprod along `axis`; float32/float64/int32. */
export function cumprod(x: i32, axis: i32): i32 {
  if (x == 0) return 0;
  const out = scan(SCAN_PROD, x, 0, axis, false);
  if (out != 0 && recordOp(shouldRecord1(x), Op.cumprod, out)) { recordInput(x); recordAttr(<f64>axis); }
  return out;
}

/**
 * h_k = a_k·h_(k-1) + b_k along `axis` from h_(-1) = 0, or h_k = a_k·h_(k+1) + b_k from the end
 * when `reverse`. a and b: one float dtype, one shape.
 */
export function linrec(a: i32, b: i32, axis: i32, reverse: i32): i32 {
  if (a == 0 || b == 0) return 0;
  const out = scan(SCAN_LINREC, a, b, axis, reverse != 0);
  if (out != 0 && recordOp(shouldRecord2(a, b), Op.linrec, out)) {
    recordInput(a); recordInput(b); recordAttr(<f64>axis); recordAttr(<f64>reverse);
  }
  return out;
}

// ————————————————————————————————————————————————————————— sort, topk, argmax

/** The value at element q of x as a float64 key (exact for every dtype). */
@inline function keyAt(dt: i32, p: usize, q: i32): f64 {
  if (dt == DType.float32) return <f64>load<f32>(p + (<usize>q << 2));
  if (dt == DType.float64) return load<f64>(p + (<usize>q << 3));
  if (dt == DType.int32) return <f64>load<i32>(p + (<usize>q << 2));
  return <f64>load<u8>(p + <usize>q);
}

/** Strictly before in the order: ascending with NaN last, or descending with NaN first. */
@inline function before(a: f64, b: f64, descending: bool): bool {
  const an = a != a, bn = b != b;
  return descending ? (an && !bn) || a > b : (bn && !an) || a < b;
}

/** A stable bottom-up merge sort of the positions idx[0..n) by keys[idx]; `tmp` holds n i32s. */
function mergeSort(keys: usize, idx: usize, tmp: usize, n: i32, descending: bool): void {
  let src = idx, dst = tmp;
  for (let width = 1; width < n; width <<= 1) {
    for (let lo = 0; lo < n; lo += width << 1) {
      const mid = min(lo + width, n), hi = min(lo + (width << 1), n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        const ri = ld(<u32>src, i), rj = ld(<u32>src, j);
        // The right run takes precedence only when strictly before: that keeps ties in order.
        if (before(load<f64>(keys + (<usize>rj << 3)), load<f64>(keys + (<usize>ri << 3)), descending)) { st(<u32>dst, k++, rj); j++; }
        else { st(<u32>dst, k++, ri); i++; }
      }
      while (i < mid) st(<u32>dst, k++, ld(<u32>src, i++));
      while (j < hi) st(<u32>dst, k++, ld(<u32>src, j++));
    }
    const t = src; src = dst; dst = t;
  }
  if (src != idx) memory.copy(idx, src, <usize>n << 2);
}

/**
 * The first k positions of the stable order (what mergeSort's first k would be), for k much
 * smaller than n: the best k so far are kept sorted in idx[0, k); each new position goes after
 * every kept one it is not strictly before (so ties keep their order), by binary search.
 * O(n·log k) comparisons and O(n·k) moves at worst, instead of sorting the whole line.
 */
function selectFirst(keys: usize, idx: usize, n: i32, k: i32, descending: bool): void {
  let kept = 0;
  for (let j = 0; j < n; j++) {
    const key = load<f64>(keys + (<usize>j << 3));
    if (kept == k && !before(key, load<f64>(keys + (<usize>ld(<u32>idx, k - 1) << 3)), descending)) continue;
    let lo = 0, hi = kept;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(key, load<f64>(keys + (<usize>ld(<u32>idx, mid) << 3)), descending)) hi = mid; else lo = mid + 1;
    }
    const last = min(kept, k - 1);
    if (last > lo) memory.copy(idx + (<usize>(lo + 1) << 2), idx + (<usize>lo << 2), <usize>(last - lo) << 2);
    st(<u32>idx, lo, j);
    if (kept < k) kept++;
  }
}

/**
 * The int32 positions along `axis` that order each line of x (stable, NaN largest), keeping the
 * first `k` of each line: argsort for k = n, topk's indices for k < n.
 */
export function sortIndices(x: i32, axis: i32, descending: i32, k: i32): i32 {
  if (x == 0) return 0;
  if (rankOf(x) == 0) k = 1; // a rank-0 tensor is its own single-element line
  const out = newAlong(x, DType.int32, rankOf(x) == 0 ? -1 : axis, k);
  if (out == 0) return 0;
  if (captureBegin(Op.sortIndices, out)) {
    captureInput(x); captureAttr(<f64>axis); captureAttr(<f64>descending); captureAttr(<f64>k);
  }
  const outer = outerOf(x, axis), n = lengthOf(x, axis), inner = innerOf(x, axis);
  if (numelOf(out) == 0) return out;
  const buf = alloc(<u32>n * 16);
  if (buf == 0) { releaseTensor(out); fail(E_OOM, 0); return 0; }
  const keys = buf, idx = buf + (<usize>n << 3), tmp = idx + (<usize>n << 2);
  const dt = dtypeOf(x), px = dataOf(x), po = dataOf(out);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      for (let j = 0; j < n; j++) {
        store<f64>(keys + (<usize>j << 3), keyAt(dt, px, (o * n + j) * inner + i));
        st(<u32>idx, j, j);
      }
      if (<i64>k * 8 < <i64>n) selectFirst(keys, idx, n, k, descending != 0); // topk: only the first k kept
      else mergeSort(keys, idx, tmp, n, descending != 0);
      for (let j = 0; j < k; j++) st(<u32>po, (o * k + j) * inner + i, ld(<u32>idx, j));
    }
  }
  free(buf);
  return out;
}

/**
 * argmax (largest) or argmin along `axis`, or of the flattened tensor when axis < 0 (then
 * keepdims gives all dims size 1). The first extremum wins ties; a NaN beats every number and
 * the first NaN wins, as in PyTorch.
 */
export function argExtremum(x: i32, axis: i32, largest: i32, keepdims: i32): i32 {
  if (x == 0) return 0;
  const rank = rankOf(x);
  const flat = axis < 0 || rank == 0;
  let w = 0;
  for (let d = 0; d < rank; d++) {
    if (flat || d == axis) { if (keepdims != 0) st(SHAPE_TMP, w++, 1); }
    else st(SHAPE_TMP, w++, dimOf(x, d));
  }
  const out = newTensor(DType.int32, w, SHAPE_TMP);
  if (out == 0) return 0;
  if (captureBegin(Op.argExtremum, out)) {
    captureInput(x); captureAttr(<f64>axis); captureAttr(<f64>largest); captureAttr(<f64>keepdims);
  }
  const outer = flat ? 1 : outerOf(x, axis), n = flat ? numelOf(x) : lengthOf(x, axis);
  const inner = flat ? 1 : innerOf(x, axis);
  const dt = dtypeOf(x), px = dataOf(x), po = dataOf(out);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let best = 0, bv = keyAt(dt, px, base);
      for (let j = 1; j < n && bv == bv; j++) {
        const v = keyAt(dt, px, base + j * inner);
        if (v != v || (largest != 0 ? v > bv : v < bv)) { best = j; bv = v; }
      }
      st(<u32>po, o * inner + i, best);
    }
  }
  return out;
}

/** A bool [rows, cols] mask: col − row <= diagonal (tril), or >= diagonal when `upper` (triu). */
export function triMask(rows: i32, cols: i32, diagonal: i32, upper: i32): i32 {
  st(SHAPE_TMP, 0, rows);
  st(SHAPE_TMP, 1, cols);
  const out = newTensor(DType.bool, 2, SHAPE_TMP);
  if (out == 0) return 0;
  const p = dataOf(out);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const d = c - r;
      store<u8>(p + <usize>(r * cols + c), <u8>(upper != 0 ? d >= diagonal : d <= diagonal));
    }
  }
  return out;
}

// ————————————————————————————————————————————————————————— VJP and JVP rules

const SH_SPEC = memory.data(3 * MAX_RANK * 4);
const SH_PAD = memory.data(2 * MAX_RANK * 4);
const SH_SHAPE = memory.data(MAX_RANK * 4);

/**
 * x moved one step along `axis` with recording slice + pad: toEnd gives y_k = x_(k-1), else
 * y_k = x_(k+1); the vacated end holds `fill`. An empty axis returns x.
 */
function shift(x: i32, axis: i32, toEnd: bool, fill: f64): i32 {
  const rank = rankOf(x), n = dimOf(x, axis);
  if (n == 0) return x;
  for (let k = 0; k < rank; k++) {
    const along = k == axis;
    st(SH_SPEC, 3 * k, along && !toEnd ? 1 : 0);
    st(SH_SPEC, 3 * k + 1, 1);
    st(SH_SPEC, 3 * k + 2, along ? n - 1 : dimOf(x, k));
    st(SH_PAD, 2 * k, along && toEnd ? 1 : 0);
    st(SH_PAD, 2 * k + 1, 1);
    st(SH_SHAPE, k, dimOf(x, k));
  }
  const s = slice(x, SH_SPEC, -1);
  return pad(s, SH_SHAPE, SH_PAD, fill);
}

export function vjpIndexing(op: i32, r: u32, g: i32): void {
  const x = recInput(r, 0);
  const axis = <i32>recAttr(r, 0);
  switch (op) {
    case Op.cumsum: {
      accumulate(x, cumsum(g, axis, recAttr(r, 1) != 0 ? 0 : 1));
      return;
    }
    case Op.cumprod: {
      if (!needsGrad(x)) return;
      if (lengthOf(x, axis) <= 1) { accumulate(x, g); return; }
      // dx_k = Σ_(j>=k) g_j Π_(i<=j, i≠k) x_i = y_(k-1) · S_k with S_k = g_k + x_(k+1)·S_(k+1)
      const before = shift(recOut(r), axis, true, 1);
      const s = linrec(shift(x, axis, false, 0), g, axis, 1);
      accumulate(x, mul(before, s));
      return;
    }
    case Op.linrec: {
      // λ_k = g_k + a_(k±1)·λ_(k±1): the same recurrence run the other way; db = λ, da = λ·h_(k∓1)
      const b = recInput(r, 1), rev = recAttr(r, 1) != 0;
      if (!needsGrad(x) && !needsGrad(b)) return;
      const lambda = linrec(shift(x, axis, rev, 0), g, axis, rev ? 0 : 1);
      if (needsGrad(x)) accumulate(x, mul(lambda, shift(recOut(r), axis, !rev, 0)));
      accumulate(b, lambda); // last: an adopted adjoint may be added into in place later
      return;
    }
    default: fail(E_NO_RULE, op);
  }
}

export function jvpIndexing(op: i32, r: u32): void {
  const x = recInput(r, 0), out = recOut(r);
  const axis = <i32>recAttr(r, 0);
  const tx = tangentOf(x);
  switch (op) {
    case Op.cumsum: { setTangent(out, cumsum(tx, axis, <i32>recAttr(r, 1))); return; }
    case Op.cumprod: {
      if (lengthOf(x, axis) <= 1) { setTangent(out, tx); return; }
      // ẏ_k = x_k·ẏ_(k-1) + ẋ_k·y_(k-1)
      setTangent(out, linrec(x, mul(tx, shift(out, axis, true, 1)), axis, 0));
      return;
    }
    case Op.linrec: {
      // ḣ_k = a_k·ḣ_(k∓1) + ȧ_k·h_(k∓1) + ḃ_k
      const rev = <i32>recAttr(r, 1);
      const tb = tangentOf(recInput(r, 1));
      const fromA = tx != 0 ? mul(tx, shift(out, axis, rev == 0, 0)) : 0;
      const drive = fromA == 0 ? tb : tb == 0 ? fromA : add(fromA, tb);
      setTangent(out, linrec(x, drive, axis, rev));
      return;
    }
    default: fail(E_NO_RULE, op);
  }
}
