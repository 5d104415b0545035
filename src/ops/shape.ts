// Shape and indexing ops (kernels and rules in assembly/shape.ts).

import { Tensor, validateShape, type Shape } from '../tensor.js';
import { wasm, argsI32 } from '../runtime.js';
import { ShapeError, formatShape } from '../errors.js';
import { idOf, call, requireInit } from './common.js';

/** x with a new shape of the same size; one size may be -1 (inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  requireInit('reshape');
  const id = idOf(x, 'reshape (x)');
  const dims = [...shape];
  const infer = dims.indexOf(-1);
  if (infer !== -1 && dims.indexOf(-1, infer + 1) !== -1) {
    throw new ShapeError(`reshape: only one size may be -1, got ${formatShape(shape)}`);
  }
  if (infer !== -1) {
    const rest = dims.reduce((a, d, k) => (k === infer ? a : a * d), 1);
    if (rest === 0 || x.size % rest !== 0) {
      throw new ShapeError(`reshape: cannot reshape a tensor of shape ${formatShape(x.dims)} (${x.size} elements) to ${formatShape(shape)}`);
    }
    dims[infer] = x.size / rest;
  }
  validateShape(dims, 'reshape');
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== x.size) {
    throw new ShapeError(`reshape: cannot reshape a tensor of shape ${formatShape(x.dims)} (${x.size} elements) to ${formatShape(shape)} (${n} elements)`);
  }
  return call('reshape', wasm.reshapeTo(id, dims.length, argsI32(dims)));
}

/** x broadcast to `shape` (NumPy rules; PyTorch's expand with -1 keeping a size). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  requireInit('broadcastTo');
  const id = idOf(x, 'broadcastTo (x)');
  const r = shape.length;
  if (r < x.rank) {
    throw new ShapeError(`broadcastTo: cannot broadcast shape ${formatShape(x.dims)} to ${formatShape(shape)}: the target has fewer dims`);
  }
  const dims = shape.map((d, k) => (d === -1 && k >= r - x.rank ? x.dims[k - (r - x.rank)] : d));
  validateShape(dims, 'broadcastTo');
  for (let k = 0; k < x.rank; k++) {
    const dx = x.dims[k], dt = dims[k + r - x.rank];
    if (dx !== dt && dx !== 1) {
      throw new ShapeError(`broadcastTo: cannot broadcast shape ${formatShape(x.dims)} to ${formatShape(shape)}: dim ${k} is ${dx}, target ${dt}`);
    }
  }
  return call('broadcastTo', wasm.expandTo(id, dims.length, argsI32(dims)));
}

declare module '../tensor.js' {
  interface Tensor {
    reshape(shape: Shape): Tensor;
    /** PyTorch's view: same as reshape (wasmgrad tensors are always contiguous). */
    view(shape: Shape): Tensor;
    broadcastTo(shape: Shape): Tensor;
    expand(shape: Shape): Tensor;
  }
}

Tensor.prototype.reshape = function (shape) { return reshape(this, shape); };
Tensor.prototype.view = function (shape) { return reshape(this, shape); };
Tensor.prototype.broadcastTo = function (shape) { return broadcastTo(this, shape); };
Tensor.prototype.expand = function (shape) { return broadcastTo(this, shape); };
