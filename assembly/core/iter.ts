// Strided iteration over an output shape with up to three operands broadcast onto it
// (NumPy rules: align on the right, size-1 dims stretch). Dims of size 1 are dropped and
// adjacent dims that are contiguous for every operand are merged, so the inner run is as long
// as possible and usually contiguous (stride 1) or constant (stride 0), where SIMD applies.

import { rankOf, dimOf, MAX_RANK } from "./tensor";

export const IT_SHAPE = memory.data(MAX_RANK * 4);
export const IT_STRIDE = memory.data(3 * MAX_RANK * 4); // [operand][dim], in elements
const IT_INDEX = memory.data(MAX_RANK * 4);
export const IT_OFFSET = memory.data(3 * 4); // current element offset of each operand
export let itRank: i32 = 0;
export let itInner: i32 = 1; // length of the innermost run
export let itOuter: i32 = 1; // number of runs
let itOperands: i32 = 0;

@inline function strideAt(op: i32, k: i32): i32 { return load<i32>(IT_STRIDE + (<u32>(op * MAX_RANK + k) << 2)); }
@inline function setStride(op: i32, k: i32, v: i32): void { store<i32>(IT_STRIDE + (<u32>(op * MAX_RANK + k) << 2), v); }
@inline export function itStride(op: i32): i32 { return itRank == 0 ? 0 : strideAt(op, itRank - 1); }
@inline export function itOffset(op: i32): i32 { return load<i32>(IT_OFFSET + (<u32>op << 2)); }

/**
 * Prepares iteration over the shape at `shape` (rank `rank`) for the operand ids in
 * (a, b, c); 0 marks an unused operand. Each operand broadcasts onto the shape.
 */
export function prepare(rank: i32, shape: u32, a: i32, b: i32, c: i32): void {
  itOperands = c != 0 ? 3 : b != 0 ? 2 : 1;
  let r = 0;
  for (let k = 0; k < rank; k++) {
    const n = load<i32>(shape + (<u32>k << 2));
    if (n == 1) continue;
    store<i32>(IT_SHAPE + (<u32>r << 2), n);
    for (let op = 0; op < itOperands; op++) {
      const x = op == 0 ? a : op == 1 ? b : c;
      setStride(op, r, contiguousStride(x, k - (rank - rankOf(x)), n));
    }
    r++;
  }
  // Merge dim k into k+1 where every operand walks them as one.
  let w = 0;
  for (let k = 0; k < r; k++) {
    const n = load<i32>(IT_SHAPE + (<u32>k << 2));
    if (w > 0) {
      let merge = true;
      for (let op = 0; op < itOperands; op++) {
        if (strideAt(op, w - 1) != strideAt(op, k) * n) { merge = false; break; }
      }
      if (merge) {
        store<i32>(IT_SHAPE + (<u32>(w - 1) << 2), load<i32>(IT_SHAPE + (<u32>(w - 1) << 2)) * n);
        for (let op = 0; op < itOperands; op++) setStride(op, w - 1, strideAt(op, k));
        continue;
      }
    }
    store<i32>(IT_SHAPE + (<u32>w << 2), n);
    for (let op = 0; op < itOperands; op++) setStride(op, w, strideAt(op, k));
    w++;
  }
  itRank = w;
  itInner = w == 0 ? 1 : load<i32>(IT_SHAPE + (<u32>(w - 1) << 2));
  let total: i64 = 1;
  for (let k = 0; k < w; k++) total *= <i64>load<i32>(IT_SHAPE + (<u32>k << 2));
  for (let k = 0; k < rank; k++) if (load<i32>(shape + (<u32>k << 2)) == 0) total = 0;
  itOuter = itInner == 0 ? 0 : <i32>(total / <i64>itInner);
  if (total == 0) { itOuter = 0; itInner = 0; }
  memory.fill(IT_INDEX, 0, MAX_RANK * 4);
  memory.fill(IT_OFFSET, 0, 3 * 4);
}

/** Element stride of operand `x` at its dim `kx` when broadcast onto a dim of size n. */
function contiguousStride(x: i32, kx: i32, n: i32): i32 {
  if (kx < 0 || dimOf(x, kx) == 1) return 0;
  let s = 1;
  for (let j = rankOf(x) - 1; j > kx; j--) s *= dimOf(x, j);
  return s;
}

/** Moves every operand's offset to the start of the next run. */
export function advance(): void {
  for (let k = itRank - 2; k >= 0; k--) {
    const i = load<i32>(IT_INDEX + (<u32>k << 2)) + 1;
    const n = load<i32>(IT_SHAPE + (<u32>k << 2));
    if (i < n) {
      store<i32>(IT_INDEX + (<u32>k << 2), i);
      for (let op = 0; op < itOperands; op++) {
        store<i32>(IT_OFFSET + (<u32>op << 2), itOffset(op) + strideAt(op, k));
      }
      return;
    }
    store<i32>(IT_INDEX + (<u32>k << 2), 0);
    for (let op = 0; op < itOperands; op++) {
      store<i32>(IT_OFFSET + (<u32>op << 2), itOffset(op) - strideAt(op, k) * (n - 1));
    }
  }
}
