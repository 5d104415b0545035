// Dropout, driven by wasmgrad's seeded generator (assembly/ops/random.ts): in training each element
// is kept with probability 1 − p and scaled by 1 / (1 − p) (inverted dropout, as PyTorch), so
// the same seed gives the same mask on every engine. A composite: x times a constant mask, so
// the gradient is the mask and JVP and higher derivatives come for free.

import { Tensor } from '../tensor.js';
import { ValueError } from '../errors.js';
import { tidy } from '../scope.js';
import { rand } from '../random.js';
import { idOf, floatOperand, disposeAll, requireInit } from './common.js';
import './elementwise.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';

const DROPOUT = options('dropout', {
  /** drop elements (default true); false is the identity */
  training: opt.any<boolean>(),
});
/** Options of dropout: training (default true; false is the identity). */
export type DropoutOptions = OptionsOf<typeof DROPOUT>;

/**
 * Zeroes each element with probability p and scales the rest by 1/(1 − p) while training
 * (PyTorch's F.dropout; p = 1 gives x·0). Not training, p = 0 or an empty x: x itself.
 */
export function dropout(x: Tensor, p = 0.5, opts?: DropoutOptions): Tensor {
  if (arguments.length > 3) checkArity('dropout', arguments, 3, 'x, p?, { training }');
  requireInit('dropout');
  const options = DROPOUT.parse(opts);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new ValueError(`dropout: dropout probability has to be between 0 and 1, but got ${String(p)}`);
  }
  const training = options.training ?? true;
  if (typeof training !== 'boolean') throw new ValueError(`dropout: training must be a boolean, got ${describeValue(training)}`);
  idOf(x, 'dropout (x)');
  if (!training || p === 0 || x.numel() === 0) return x;
  const [y, temps] = floatOperand('dropout', x, 'x');
  try {
    if (p === 1) return y.mul(0);
    return tidy(() => {
      // PyTorch's noise: bernoulli(1 − p), then divided by 1 − p in the input's dtype
      const noise = rand(y.dims, { dtype: y.dtype }).lt(1 - p).to(y.dtype).div(1 - p);
      return y.mul(noise);
    });
  } finally {
    disposeAll(temps);
  }
}

declare module '../tensor.js' {
  interface Tensor {
    /** Zeroes each element with probability p (default 0.5) and scales the rest by 1/(1 − p) while training (PyTorch: torch.nn.functional.dropout). */
    dropout(p?: number, options?: DropoutOptions): Tensor;
  }
}

Tensor.prototype.dropout = function (p, options) {
  if (arguments.length > 2) checkArity('Tensor.dropout', arguments, 2, 'p?, { training }');
  return dropout(this, p, options);
};
