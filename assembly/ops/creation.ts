// Numeric creation kernels: arange, linspace, eye. Each follows PyTorch's CPU kernel's formula
// and arithmetic type, so the values are PyTorch's.

import { DType } from "../core/vocabulary";
import { dataOf, numelOf, dimOf, dtypeOf, itemSize } from "../core/tensor";

// Each kernel fills a tensor the host made (so the host checks sizes and memory first).

/**
 * [start + i·step for i < n]. Floats compute in float64 and round once (PyTorch's accumulate
 * type on CPU); int32 takes integer start and step (the host truncated them, as PyTorch does).
 */
export function arangeFill(t: i32, start: f64, step: f64): void {
  const dtype = dtypeOf(t), n = numelOf(t), p = dataOf(t);
  if (dtype == DType.float32) {
    for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), <f32>(start + step * <f64>i));
  } else if (dtype == DType.float64) {
    for (let i = 0; i < n; i++) store<f64>(p + (<usize>i << 3), start + step * <f64>i);
  } else {
    const s = <i64>start, d = <i64>step;
    for (let i = 0; i < n; i++) store<i32>(p + (<usize>i << 2), <i32>(s + d * <i64>i));
  }
}

function linspaceFloat<T>(p: usize, steps: i32, start: T, end: T): void {
  const size = sizeof<T>();
  if (steps == 1) { store<T>(p, start); return; }
  const step = (end - start) / <T>(steps - 1);
  const half = steps / 2;
  for (let i = 0; i < steps; i++) {
    const v = i < half ? start + step * <T>i : end - step * <T>(steps - 1 - i);
    store<T>(p + <usize>i * size, v);
  }
}

/**
 * `steps` points from start to end. PyTorch's formula: step = (end - start) / (steps - 1),
 * start + i·step for the first half and end - (steps - 1 - i)·step for the rest, so both ends
 * are exact. Floats work in their own precision (as PyTorch's step_t); int32 takes a float64
 * step from truncated ends and truncates each value.
 */
export function linspaceFill(t: i32, start: f64, end: f64): void {
  const dtype = dtypeOf(t), steps = numelOf(t), p = dataOf(t);
  if (dtype == DType.float32) linspaceFloat<f32>(p, steps, <f32>start, <f32>end);
  else if (dtype == DType.float64) linspaceFloat<f64>(p, steps, start, end);
  else {
    const s = <f64><i64>start, e = <f64><i64>end;
    const step = steps > 1 ? (e - s) / <f64>(steps - 1) : 0;
    const half = steps / 2;
    for (let i = 0; i < steps; i++) {
      const v = steps == 1 ? s : i < half ? s + step * <f64>i : e - step * <f64>(steps - 1 - i);
      store<i32>(p + (<usize>i << 2), <i32>v);
    }
  }
}

/** Fills an n×m matrix with ones on the main diagonal and zeros elsewhere. */
export function eyeFill(t: i32): void {
  const dtype = dtypeOf(t), n = dimOf(t, 0), m = dimOf(t, 1), p = dataOf(t);
  const size = <usize>itemSize(dtype);
  memory.fill(p, 0, <usize>numelOf(t) * size);
  const diag = min(n, m);
  for (let i = 0; i < diag; i++) {
    const q = p + (<usize>i * <usize>m + <usize>i) * size;
    if (dtype == DType.float32) store<f32>(q, 1);
    else if (dtype == DType.float64) store<f64>(q, 1);
    else if (dtype == DType.int32) store<i32>(q, 1);
    else store<u8>(q, 1);
  }
}
