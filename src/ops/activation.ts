// Activations, PyTorch's torch.nn.functional semantics. softmax, logSoftmax and gelu are fused
// wasm primitives (assembly/ops/activation.ts); the others are composites of differentiable elementwise
// ops, so their VJP, JVP and higher derivatives come for free. Where PyTorch's gradient differs
// from the composite's at a kink (hardtanh and hardsigmoid give 0 at the bounds), the composite
// is built so that they agree. relu, sigmoid and tanh live in src/ops/elementwise.ts.

import { Tensor } from '../tensor.js';
import { wasm } from '../runtime.js';
import { ValueError } from '../errors.js';
import { finiteNumber } from './options.js';
import { options, opt, checkArity, type OptionsOf } from '../options.js';
import { tidy } from '../scope.js';
import { floatOperand, normAxis, disposeAll, call, requireInit, Op } from './common.js';
import { where, tanh, sigmoid, softplus as softplusUnit, log1p, exp, expm1 } from './elementwise.js';

/** Runs a composite on x (made float) and frees its temporaries. */
function composite(op: string, x: Tensor, fn: (x: Tensor) => Tensor): Tensor {
  requireInit(op);
  const [y, temps] = floatOperand(op, x);
  try {
    return tidy(() => fn(y));
  } finally {
    disposeAll(temps);
  }
}

function softmaxOp(op: Op, name: string, x: Tensor, axis: number): Tensor {
  requireInit(name);
  const [y, temps] = floatOperand(name, x);
  try {
    const k = normAxis(name, axis, y.rank);
    return call(name, wasm.softmax(op, y.id, k));
  } finally {
    disposeAll(temps);
  }
}

/**
 * exp(x) / Σ exp(x) along `axis` (default: the last), stable for any magnitude (the slice's
 * max is subtracted first). A slice holding NaN or +inf gives NaN, as in PyTorch.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  if (arguments.length > 2) checkArity('softmax', arguments, 2, 'x, axis?');
  return softmaxOp(Op.softmax, 'softmax', x, axis);
}

/** x − logsumexp(x) along `axis` (default: the last), computed in one stable pass. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  if (arguments.length > 2) checkArity('logSoftmax', arguments, 2, 'x, axis?');
  return softmaxOp(Op.logSoftmax, 'logSoftmax', x, axis);
}

/** x where x > 0, else negativeSlope·x (PyTorch's default slope 0.01). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  if (arguments.length > 2) checkArity('leakyRelu', arguments, 2, 'x, negativeSlope?');
  finiteNumber('leakyRelu', negativeSlope, 'negativeSlope');
  return composite('leakyRelu', x, (v) => where(v.gt(0), v, v.mul(negativeSlope)));
}

/** x where x > 0, else alpha·(exp(x) − 1). */
export function elu(x: Tensor, alpha = 1): Tensor {
  if (arguments.length > 2) checkArity('elu', arguments, 2, 'x, alpha?');
  finiteNumber('elu', alpha, 'alpha');
  return composite('elu', x, (v) => where(v.gt(0), v, expm1(v).mul(alpha)));
}

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** scale·elu(x, alpha) with PyTorch's constants (alpha ≈ 1.6733, scale ≈ 1.0507). */
export function selu(x: Tensor): Tensor {
  return composite('selu', x, (v) => where(v.gt(0), v, expm1(v).mul(SELU_ALPHA)).mul(SELU_SCALE));
}

const GELU = options('gelu', {
  /** 'none' (default): the exact erf form; 'tanh': PyTorch's tanh approximation */
  approximate: opt.any<'none' | 'tanh'>(),
});
/** Options of gelu: approximate, 'none' (default, the exact erf form) or 'tanh'. */
export type GeluOptions = OptionsOf<typeof GELU>;

/**
 * x·Φ(x) = x/2·(1 + erf(x/√2)); with { approximate: 'tanh' } PyTorch's
 * x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 */
export function gelu(x: Tensor, opts?: GeluOptions): Tensor {
  if (arguments.length > 2) checkArity('gelu', arguments, 2, 'x, { approximate }');
  const approximate = GELU.parse(opts).approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ValueError(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
  }
  requireInit('gelu');
  const [y, temps] = floatOperand('gelu', x);
  try {
    return call('gelu', wasm.gelu(y.id, approximate === 'tanh' ? 1 : 0));
  } finally {
    disposeAll(temps);
  }
}

/** x·sigmoid(x) (alias swish). */
export function silu(x: Tensor): Tensor { return composite('silu', x, (v) => v.mul(sigmoid(v))); }
export const swish = (x: Tensor): Tensor => composite('swish', x, (v) => v.mul(sigmoid(v)));

/** x·tanh(softplus(x)). */
export function mish(x: Tensor): Tensor { return composite('mish', x, (v) => v.mul(tanh(softplusUnit(v)))); }

/** clamp(x, minVal, maxVal) with PyTorch's gradient: 0 at and beyond the bounds. */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  if (arguments.length > 3) checkArity('hardtanh', arguments, 3, 'x, minVal?, maxVal?');
  finiteNumber('hardtanh', minVal, 'minVal');
  finiteNumber('hardtanh', maxVal, 'maxVal');
  if (minVal > maxVal) throw new ValueError(`hardtanh: minVal (${minVal}) must not exceed maxVal (${maxVal})`);
  return composite('hardtanh', x, (v) => where(v.le(minVal), minVal, where(v.ge(maxVal), maxVal, v)));
}

/** min(max(x + 3, 0), 6) / 6 — 0 below −3, 1 above 3; gradient 1/6 strictly inside. */
export function hardsigmoid(x: Tensor): Tensor {
  return composite('hardsigmoid', x, (v) => where(v.le(-3), 0, where(v.ge(3), 1, v.add(3).div(6))));
}

const SOFTPLUS = options('softplus', {
  /** the slope factor (default 1) */
  beta: opt.any<number>(),
  /** where beta·x > threshold the result is x itself (default 20) */
  threshold: opt.any<number>(),
});
/** Options of softplus: beta (default 1) and threshold (default 20). */
export type SoftplusOptions = OptionsOf<typeof SOFTPLUS>;

/**
 * log(1 + exp(beta·x)) / beta, reverting to x where beta·x > threshold (PyTorch's defaults
 * beta = 1, threshold = 20).
 */
export function softplus(x: Tensor, opts?: SoftplusOptions): Tensor {
  if (arguments.length > 2) checkArity('softplus', arguments, 2, 'x, { beta, threshold }');
  const options = SOFTPLUS.parse(opts);
  const beta = finiteNumber('softplus', options.beta ?? 1, 'beta');
  if (beta === 0) throw new ValueError('softplus: beta must not be 0 (softplus divides by beta), got 0');
  const threshold = finiteNumber('softplus', options.threshold ?? 20, 'threshold');
  if (beta === 1 && threshold === 20) return softplusUnit(x);
  return composite('softplus', x, (v) => {
    const scaled = v.mul(beta);
    const linear = scaled.gt(threshold);
    // exp never sees the linear region, so its gradient there is 0, not 0·inf.
    const safe = where(linear, 0, scaled);
    return where(linear, v, log1p(exp(safe)).div(beta));
  });
}

declare module '../tensor.js' {
  interface Tensor {
    /** exp(x) / Σ exp(x) along `axis` (default −1), stable for any magnitude (PyTorch: Tensor.softmax; MATLAB: softmax). */
    softmax(axis?: number): Tensor;
    /** x − logsumexp(x) along `axis` (default −1), in one stable pass (PyTorch: Tensor.log_softmax). */
    logSoftmax(axis?: number): Tensor;
    /** x where x > 0, else negativeSlope·x (default 0.01) (PyTorch: torch.nn.functional.leaky_relu; MATLAB: leakyrelu). */
    leakyRelu(negativeSlope?: number): Tensor;
    /** x where x > 0, else alpha·(eˣ − 1) (alpha default 1) (PyTorch: torch.nn.functional.elu). */
    elu(alpha?: number): Tensor;
    /** scale·elu(x, alpha) with PyTorch's constants (alpha ≈ 1.6733, scale ≈ 1.0507) (PyTorch: torch.nn.functional.selu). */
    selu(): Tensor;
    /** x·Φ(x), exact (erf) or with `approximate: 'tanh'` (PyTorch: torch.nn.functional.gelu; MATLAB: gelu). */
    gelu(options?: GeluOptions): Tensor;
    /** x·σ(x) (PyTorch: torch.nn.functional.silu). */
    silu(): Tensor;
    /** x·σ(x), the same as silu (MATLAB: swish). */
    swish(): Tensor;
    /** x·tanh(softplus(x)) (PyTorch: torch.nn.functional.mish). */
    mish(): Tensor;
    /** x clamped to [minVal, maxVal] (default [−1, 1]), gradient 0 at and beyond the bounds (PyTorch: torch.nn.functional.hardtanh). */
    hardtanh(minVal?: number, maxVal?: number): Tensor;
    /** min(max(x + 3, 0), 6) / 6 (PyTorch: torch.nn.functional.hardsigmoid). */
    hardsigmoid(): Tensor;
    /** log(1 + e^(beta·x)) / beta, x itself where beta·x > threshold (defaults beta 1, threshold 20) (PyTorch: torch.nn.functional.softplus). */
    softplus(options?: SoftplusOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.softmax = function (axis) {
  if (arguments.length > 1) checkArity('Tensor.softmax', arguments, 1, 'axis?');
  return softmax(this, axis);
};
P.logSoftmax = function (axis) {
  if (arguments.length > 1) checkArity('Tensor.logSoftmax', arguments, 1, 'axis?');
  return logSoftmax(this, axis);
};
P.leakyRelu = function (negativeSlope) {
  if (arguments.length > 1) checkArity('Tensor.leakyRelu', arguments, 1, 'negativeSlope?');
  return leakyRelu(this, negativeSlope);
};
P.elu = function (alpha) {
  if (arguments.length > 1) checkArity('Tensor.elu', arguments, 1, 'alpha?');
  return elu(this, alpha);
};
P.selu = function () { return selu(this); };
P.gelu = function (options) {
  if (arguments.length > 1) checkArity('Tensor.gelu', arguments, 1, '{ approximate }');
  return gelu(this, options);
};
P.silu = function () { return silu(this); };
P.swish = function () { return swish(this); };
P.mish = function () { return mish(this); };
P.hardtanh = function (minVal, maxVal) {
  if (arguments.length > 2) checkArity('Tensor.hardtanh', arguments, 2, 'minVal?, maxVal?');
  return hardtanh(this, minVal, maxVal);
};
P.hardsigmoid = function () { return hardsigmoid(this); };
P.softplus = function (options?: SoftplusOptions) {
  if (arguments.length > 1) checkArity('Tensor.softplus', arguments, 1, '{ beta, threshold }');
  return softplus(this, options);
};
