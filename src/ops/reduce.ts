// Reductions (kernels and rules in assembly/reduce.ts): sum, mean, max, min, prod, logsumexp,
// var — over any set of axes, with keepdims, following PyTorch's defaults.

import { Tensor } from '../tensor.js';
import { wasm } from '../runtime.js';
import { Op, axesMask, floatOperand, disposeAll, call, requireInit } from './common.js';

export type Axes = number | readonly number[] | null | undefined;

export interface ReduceOptions { keepdims?: boolean }

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  requireInit('sum');
  const [y, temps] = floatOperand('sum', x);
  const mask = axesMask('sum', axes, y.rank);
  const r = call('sum', wasm.sum(y.id, mask, options.keepdims ? 1 : 0));
  disposeAll(temps);
  return r;
}

/** The number of elements `axes` covers. */
export function countOver(x: Tensor, mask: number): number {
  let n = 1;
  x.dims.forEach((d, k) => { if (mask & (1 << k)) n *= d; });
  return n;
}

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: Axes, options: ReduceOptions = {}): Tensor {
  requireInit('mean');
  x.use('mean (x)');
  const mask = axesMask('mean', axes, x.rank);
  const s = sum(x, axes, options);
  const r = s.mul(1 / countOver(x, mask));
  s.dispose();
  return r;
}

declare module '../tensor.js' {
  interface Tensor {
    sum(axes?: Axes, options?: ReduceOptions): Tensor;
    mean(axes?: Axes, options?: ReduceOptions): Tensor;
  }
}

Tensor.prototype.sum = function (axes, options) { return sum(this, axes, options); };
Tensor.prototype.mean = function (axes, options) { return mean(this, axes, options); };

export { Op };
