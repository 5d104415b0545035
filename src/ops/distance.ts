// Distances as composites of recording ops (so VJP, JVP and higher derivatives come for free):
// cdist (torch.cdist) and hypot (torch.hypot). atan2 is an elementwise primitive (src/ops/elementwise.ts),
// computed in wasm.

import { Tensor } from '../tensor.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { idOf, requireInit, isFloat, broadcastShapes } from './common.js';
import { abs, maximum, minimum, div, mul, sqrt, square, add, eq, ne, where, sub } from './elementwise.js';
import { unsqueeze } from './shape.js';
import { vectorNorm } from './linalg-composite.js';
import { tidy } from '../scope.js';
import { checkArity } from '../options.js';
import { show } from '../sizes.js';

/**
 * torch.cdist: the p-norm distances between the rows of x1 (…, P, M) and x2 (…, R, M), as
 * (…, P, R), the batch dims broadcast. p >= 0: 0 (count of differing coordinates), 1, 2
 * (default), inf, or any other. Computed directly from the differences (PyTorch's exact path;
 * it switches to a matrix product for p = 2 on large inputs). As in PyTorch, the gradient at a
 * zero distance is 0.
 */
export function cdist(x1: Tensor, x2: Tensor, p = 2): Tensor {
  if (arguments.length > 3) checkArity('cdist', arguments, 3, 'x1, x2, p?');
  requireInit('cdist');
  idOf(x1, 'cdist (x1)');
  idOf(x2, 'cdist (x2)');
  for (const [name, x] of [['x1', x1], ['x2', x2]] as const) {
    if (!isFloat(x.dtype)) throw new DTypeError(`cdist: ${name} must be a float32 or float64 tensor, got ${x.dtype} ${formatShape(x.dims)}`);
    if (x.rank < 2) throw new ShapeError(`cdist: ${name} must have at least 2 dims (…, rows, M), got shape ${formatShape(x.dims)}`);
  }
  if (x1.dtype !== x2.dtype) throw new DTypeError(`cdist: x1 (${x1.dtype}) and x2 (${x2.dtype}) must have the same dtype`);
  const m1 = x1.dims[x1.rank - 1], m2 = x2.dims[x2.rank - 1];
  if (m1 !== m2) {
    throw new ShapeError(`cdist: x1 and x2 must have the same number of columns, got x1 ${formatShape(x1.dims)} (${m1}) and x2 ${formatShape(x2.dims)} (${m2})`);
  }
  if (typeof p !== 'number' || Number.isNaN(p) || p < 0) throw new ValueError(`cdist: p must be a non-negative number (inf included), got ${show(p)}`);
  broadcastShapes('cdist', x1.dims.slice(0, -2), x2.dims.slice(0, -2), ['x1 batch dims', 'x2 batch dims']);
  // no coordinates (M = 0): every distance is 0, the 1-norm of an empty vector (p = inf included)
  return tidy(() => vectorNorm(sub(unsqueeze(x1, -2), unsqueeze(x2, -3)), m1 === 0 ? 1 : p, { axes: -1 }));
}

/**
 * torch.hypot: √(a² + b²) elementwise (broadcast), computed as max·√(1 + (min/max)²) with
 * max = max(|a|, |b|), so it neither overflows nor underflows where the result does not; +inf
 * where either is infinite. The gradient is PyTorch's g·a/hypot and g·b/hypot: NaN at the origin
 * (0/0) and for an infinite coordinate (∞/∞), 0 for a finite one beside an infinity. Only where
 * the other coordinate is NaN does an infinite one get 0 (PyTorch: NaN).
 */
export function hypot(a: Tensor, b: Tensor): Tensor {
  if (arguments.length > 2) checkArity('hypot', arguments, 2, 'a, b');
  requireInit('hypot');
  idOf(a, 'hypot (a)');
  idOf(b, 'hypot (b)');
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new ValueError('hypot: a and b must be Tensors');
  for (const [name, x] of [['a', a], ['b', b]] as const) {
    if (!isFloat(x.dtype)) throw new DTypeError(`hypot: ${name} must be a float32 or float64 tensor, got ${x.dtype} ${formatShape(x.dims)}`);
  }
  if (a.dtype !== b.dtype) throw new DTypeError(`hypot: a (${a.dtype}) and b (${b.dtype}) must have the same dtype`);
  broadcastShapes('hypot', a.dims, b.dims);
  return tidy(() => {
    const aa = abs(a), ab = abs(b);
    const zero = where(eq(aa, 0), eq(ab, 0), false);
    const inf = where(eq(aa, Infinity), true, eq(ab, Infinity));
    const nan = where(ne(a, a), true, ne(b, b));
    // At the origin and at infinities without a NaN, √(a² + b²) as written has the value (0, ∞)
    // and PyTorch's gradient a/h (0/0 = NaN, ∞/∞ = NaN, finite/∞ = 0). Each branch sees 1 where
    // it is not taken, so that its zero gradient there stays 0 and not 0·∞.
    const plainAt = where(zero, true, where(nan, false, inf));
    const plain = sqrt(add(square(where(plainAt, a, 1)), square(where(plainAt, b, 1))));
    const special = where(zero, true, inf);
    const sa = where(special, 1, aa), sb = where(special, 1, ab);
    const hi = maximum(sa, sb), lo = minimum(sa, sb);
    const r = mul(hi, sqrt(add(square(div(lo, hi)), 1)));
    return where(plainAt, plain, where(special, Infinity, r));
  });
}

declare module '../tensor.js' {
  interface Tensor {
    /** √(this² + other²) elementwise with broadcasting, without overflow (PyTorch: Tensor.hypot; MATLAB: hypot). */
    hypot(other: Tensor): Tensor;
  }
}

Tensor.prototype.hypot = function (other) {
  if (arguments.length > 1) checkArity('hypot', arguments, 1, 'other');
  return hypot(this, other);
};
