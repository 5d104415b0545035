// torch.masked_fill as a composite of where (so its derivatives are where's: the gradient reaches
// x where the mask is false, and a 0-d value tensor where it is true).

import { Tensor, tensor } from '../tensor.js';
import { DTypeError, ShapeError, ValueError, formatShape } from '../errors.js';
import { idOf, requireInit, broadcastShapes } from './common.js';
import { where } from './elementwise.js';
import { checkArity } from '../options.js';
import { show } from '../sizes.js';

/**
 * torch.masked_fill: x with `value` where the bool `mask` is true. mask and x broadcast (the
 * result has their broadcast shape, as PyTorch's out-of-place masked_fill); value is a number
 * (converted to x's dtype as PyTorch: truncated for int32) or a 0-d tensor.
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number | boolean | Tensor): Tensor {
  if (arguments.length > 3) checkArity('maskedFill', arguments, 3, 'x, mask, value');
  requireInit('maskedFill');
  idOf(x, 'maskedFill (x)');
  if (!(mask instanceof Tensor)) throw new ValueError(`maskedFill: mask must be a bool Tensor, got ${show(mask)}`);
  idOf(mask, 'maskedFill (mask)');
  if (mask.dtype !== 'bool') {
    throw new DTypeError(`maskedFill: mask must be a bool tensor, got ${mask.dtype} ${formatShape(mask.dims)} (compare it first, e.g. m.ne(0))`);
  }
  broadcastShapes('maskedFill', mask.dims, x.dims, ['mask', 'x']);
  if (value instanceof Tensor) {
    idOf(value, 'maskedFill (value)');
    if (value.rank !== 0) throw new ShapeError(`maskedFill: a tensor value must be 0-d, got shape ${formatShape(value.dims)}`);
    if (value.dtype !== x.dtype) throw new DTypeError(`maskedFill: value (${value.dtype}) and x (${x.dtype}) must have the same dtype`);
    return where(mask, value, x);
  }
  if (typeof value !== 'number' && typeof value !== 'boolean') {
    throw new ValueError(`maskedFill: value must be a number, a boolean or a 0-d Tensor, got ${show(value)}`);
  }
  const v = x.dtype === 'int32' ? Math.trunc(+value) : x.dtype === 'bool' ? +value !== 0 : +value;
  if (typeof v === 'number' && x.dtype === 'int32' && !(v >= -2147483648 && v <= 2147483647)) {
    throw new ValueError(`maskedFill: value ${show(value)} cannot be converted to int32 without overflow`);
  }
  const t = tensor([v as number], { shape: [], dtype: x.dtype });
  try { return where(mask, t, x); } finally { t.dispose(); }
}

declare module '../tensor.js' {
  interface Tensor {
    /** This tensor with `value` where the bool `mask` is true, broadcast (PyTorch: Tensor.masked_fill). */
    maskedFill(mask: Tensor, value: number | boolean | Tensor): Tensor;
  }
}

Tensor.prototype.maskedFill = function (mask, value) {
  if (arguments.length > 2) checkArity('maskedFill', arguments, 2, 'mask, value');
  return maskedFill(this, mask, value);
};
