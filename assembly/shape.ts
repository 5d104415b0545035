// Shape and indexing ops: reshape, permute, expand, slice, pad, indexSelect / indexAdd, concat —
// kernels and VJP rules. Every tensor owns contiguous row-major data, so these ops copy.

import { Op, DType } from "./vocabulary";
import {
  newTensor, dtypeOf, rankOf, dimOf, dataOf, numelOf, shapePtr, MAX_RANK, itemSize, fail, E_NO_RULE,
} from "./tensor";
import { prepare, advance, itInner, itOuter, itOffset, itStride } from "./iter";
import { shouldRecord1, recordOp, recordInput, recordAttr, recAttr, recInput, recOut, accumulate } from "./tape";
import { sumTo } from "./reduce";

/** x with a new shape of the same size (a recording op). */
export function reshapeTo(x: i32, rank: i32, shape: u32): i32 {
  if (x == 0) return 0;
  const out = newTensor(dtypeOf(x), rank, shape);
  if (out == 0) return 0;
  memory.copy(dataOf(out), dataOf(x), <usize>numelOf(x) * itemSize(dtypeOf(x)));
  if (shouldRecord1(x)) { if (recordOp(Op.reshape, out)) recordInput(x); }
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
  const out = newTensor(dtypeOf(x), rank, shape);
  if (out == 0) return 0;
  expandKernel(x, out);
  if (shouldRecord1(x)) { if (recordOp(Op.expand, out)) recordInput(x); }
  return out;
}

export function expandLike(x: i32, like: i32): i32 { return expandTo(x, rankOf(like), shapePtr(like)); }

export function vjpShape(op: i32, r: u32, g: i32): void {
  const x = recInput(r, 0);
  switch (op) {
    case Op.reshape: { accumulate(x, reshapeLike(g, x)); return; }
    case Op.expand: { accumulate(x, sumTo(g, x)); return; }
    default: fail(E_NO_RULE, op);
  }
}
