// Losses, PyTorch's torch.nn.functional semantics, each with reduction 'mean' | 'sum' | 'none'.
//
// crossEntropy (class indices or class probabilities, class weights, ignoreIndex, label
// smoothing), nllLoss, binaryCrossEntropy and its with-logits form, mseLoss, l1Loss, huberLoss,
// smoothL1Loss and klDiv are composites of differentiable ops, so their VJP, JVP and higher
// derivatives come for free. crossEntropy of [N, C] logits without class weights, and ctcLoss,
// are wasm primitives with rules of their own (assembly/ops/loss.ts). The camelCase names mean
// PyTorch; MATLAB's lowercase losses (mse, crossentropy, l1loss, l2loss, huber, ctc) with
// MATLAB's definitions are in src/matlab/losses.ts. indexcrossentropy (MATLAB's name, PyTorch's
// logits and 0-based indices) stays here.

import { Tensor, tensor, type NestedArray } from '../tensor.js';
import { wasm } from '../runtime.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { tidy } from '../scope.js';
import { idOf, floatOperand, disposeAll, call, requireInit, isFloat, broadcastShapes } from './common.js';
import { where, log, log1p, abs, exp, minimum, clamp, cast, mul, sub, eq } from './elementwise.js';
import { sum } from './reduce.js';
import { reshape, gather, indexSelect } from './shape.js';
import { rawInt32, guardIndexRange } from '../accelerate.js';
import { logSoftmax } from './activation.js';
import { finiteNumber } from './options.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';

/** How a loss reduces its per-element values: 'mean' (default), 'sum', or 'none' (PyTorch's reduction). */
export type Reduction = 'mean' | 'sum' | 'none';
/** Class indices: an int32 tensor, an Int32Array, nested JS arrays of integers, or one integer. */
export type TargetLike = Tensor | Int32Array | NestedArray;

const product = (dims: readonly number[]): number => dims.reduce((p, d) => p * d, 1);

function reductionOf(op: string, r: unknown, extra: readonly string[] = []): string {
  const allowed = ['mean', 'sum', 'none', ...extra];
  if (typeof r !== 'string' || !allowed.includes(r)) {
    const list = allowed.map((a) => `'${a}'`);
    throw new ValueError(`${op}: reduction must be ${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}, got ${typeof r === 'string' ? `'${r}'` : String(r)}`);
  }
  return r;
}

function reduce(loss: Tensor, reduction: string): Tensor {
  return reduction === 'none' ? loss : reduction === 'sum' ? loss.sum() : loss.mean();
}

/** The float input (int and bool tensors become float32) and the temporaries to dispose. */
function floatInput(op: string, x: Tensor, arg: string): [Tensor, Tensor[]] {
  requireInit(op);
  return floatOperand(op, x, arg);
}

/** A float tensor operand of the input's dtype (JS numbers allowed where a scalar fits). */
function sameDtype(op: string, t: Tensor | number, arg: string, x: Tensor): Tensor {
  if (typeof t === 'number') return tensor(t, { dtype: x.dtype });
  idOf(t, `${op} (${arg})`);
  if (t.dtype !== x.dtype) throw new DTypeError(`${op}: ${arg} is ${t.dtype} but input is ${x.dtype}; they must have the same dtype`);
  return t;
}

/** A pointwise loss of input and target (same shape as PyTorch requires, or broadcast when `broadcast`). */
function pointwise(op: string, input: Tensor, target: Tensor | number, reduction: string, broadcast: boolean,
  fn: (x: Tensor, t: Tensor) => Tensor): Tensor {
  const [x, temps] = floatInput(op, input, 'input');
  try {
    return tidy(() => {
      const t = sameDtype(op, target, 'target', x);
      if (broadcast) broadcastShapes(op, x.dims, t.dims, ['input', 'target']);
      else if (formatShape(t.dims) !== formatShape(x.dims)) {
        throw new ShapeError(`${op}: target has shape ${formatShape(t.dims)} but input has shape ${formatShape(x.dims)}; they must be the same`);
      }
      return reduce(fn(x, t), reduction);
    });
  } finally {
    disposeAll(temps);
  }
}

const reductionSpecs = {
  /** 'mean' (default) over the elements, 'sum', or 'none' for the loss per element */
  reduction: opt.any<Reduction>(),
};
const MSE_LOSS = options('mseLoss', reductionSpecs);
const L1_LOSS = options('l1Loss', reductionSpecs);
/** Options of mseLoss / l1Loss: reduction ('mean' default, 'sum', 'none'). */
export type ReductionOptions = OptionsOf<typeof reductionSpecs>;

/**
 * PyTorch's mse_loss: the mean squared error (x − t)², target broadcast. (MATLAB's mse, the half
 * mean squared error over observations, is mse in src/matlab/losses.ts.)
 */
export function mseLoss(input: Tensor, target: Tensor | number, opts?: ReductionOptions): Tensor {
  if (arguments.length > 3) checkArity('mseLoss', arguments, 3, 'input, target, { reduction }');
  const reduction = reductionOf('mseLoss', MSE_LOSS.parse(opts).reduction ?? 'mean');
  return pointwise('mseLoss', input, target, reduction, true, (x, t) => x.sub(t).square());
}

/** Mean absolute error |x − t| (gradient sign(x − t), 0 at a tie). */
export function l1Loss(input: Tensor, target: Tensor | number, opts?: ReductionOptions): Tensor {
  if (arguments.length > 3) checkArity('l1Loss', arguments, 3, 'input, target, { reduction }');
  const reduction = reductionOf('l1Loss', L1_LOSS.parse(opts).reduction ?? 'mean');
  return pointwise('l1Loss', input, target, reduction, true, (x, t) => abs(x.sub(t)));
}

const HUBER_LOSS = options('huberLoss', {
  ...reductionSpecs,
  /** where the loss turns from quadratic to linear (default 1) */
  delta: opt.any<number>(),
});
/** Options of huberLoss: reduction, delta (default 1). */
export type HuberOptions = OptionsOf<typeof HUBER_LOSS>;

/** ½d² where |d| < delta, else delta·(|d| − ½delta), d = x − t (PyTorch's huber_loss, delta = 1). */
export function huberLoss(input: Tensor, target: Tensor | number, opts?: HuberOptions): Tensor {
  if (arguments.length > 3) checkArity('huberLoss', arguments, 3, 'input, target, { reduction, delta }');
  const options = HUBER_LOSS.parse(opts);
  const reduction = reductionOf('huberLoss', options.reduction ?? 'mean');
  const delta = finiteNumber('huberLoss', options.delta ?? 1, 'delta');
  if (delta <= 0) throw new ValueError(`huberLoss: delta must be positive, got ${delta}`);
  return pointwise('huberLoss', input, target, reduction, true, (x, t) => {
    const d = x.sub(t), z = abs(d);
    return where(z.lt(delta), d.square().mul(0.5), z.sub(0.5 * delta).mul(delta));
  });
}

const SMOOTH_L1_LOSS = options('smoothL1Loss', {
  ...reductionSpecs,
  /** where the loss turns from quadratic to linear (default 1; 0 is l1Loss) */
  beta: opt.any<number>(),
});
/** Options of smoothL1Loss: reduction, beta (default 1). */
export type SmoothL1Options = OptionsOf<typeof SMOOTH_L1_LOSS>;

/** ½d²/beta where |d| < beta, else |d| − ½beta (PyTorch's smooth_l1_loss, beta = 1; beta = 0 is l1). */
export function smoothL1Loss(input: Tensor, target: Tensor | number, opts?: SmoothL1Options): Tensor {
  if (arguments.length > 3) checkArity('smoothL1Loss', arguments, 3, 'input, target, { reduction, beta }');
  const options = SMOOTH_L1_LOSS.parse(opts);
  const reduction = reductionOf('smoothL1Loss', options.reduction ?? 'mean');
  const beta = finiteNumber('smoothL1Loss', options.beta ?? 1, 'beta');
  if (beta < 0) throw new ValueError(`smoothL1Loss: beta must be >= 0, got ${beta}`);
  return pointwise('smoothL1Loss', input, target, reduction, true, (x, t) => {
    const d = x.sub(t), z = abs(d);
    if (beta === 0) return z;
    return where(z.lt(beta), d.square().mul(0.5 / beta), z.sub(0.5 * beta));
  });
}

const KL_DIV = options('klDiv', {
  /** 'mean' (default, over every element), 'batchmean' (the true KL divergence), 'sum' or 'none' */
  reduction: opt.any<Reduction | 'batchmean'>(),
  /** the target holds log-probabilities (default false) */
  logTarget: opt.any<boolean>(),
});
/** Options of klDiv: reduction ('mean', 'batchmean', 'sum', 'none'), logTarget (default false). */
export type KlDivOptions = OptionsOf<typeof KL_DIV>;

/**
 * PyTorch's kl_div(input, target): input holds log-probabilities; pointwise
 * target·(log target − input) (0 where target = 0), or exp(target)·(target − input) with
 * logTarget. Reductions: 'mean' (over every element, PyTorch's default), 'batchmean'
 * (sum / size of dim 0 — the true KL divergence), 'sum', 'none'.
 */
export function klDiv(input: Tensor, target: Tensor | number, opts?: KlDivOptions): Tensor {
  if (arguments.length > 3) checkArity('klDiv', arguments, 3, 'input, target, { reduction, logTarget }');
  const options = KL_DIV.parse(opts);
  const reduction = reductionOf('klDiv', options.reduction ?? 'mean', ['batchmean']);
  const logTarget = options.logTarget ?? false;
  if (typeof logTarget !== 'boolean') throw new ValueError(`klDiv: logTarget must be a boolean, got ${describeValue(logTarget)}`);
  const out = pointwise('klDiv', input, target, reduction === 'batchmean' ? 'sum' : reduction, true, (x, t) => {
    if (logTarget) return exp(t).mul(t.sub(x));
    const xlogy = where(t.eq(0), 0, t.mul(log(t))); // PyTorch's xlogy(t, t)
    return xlogy.sub(t.mul(x));
  });
  if (reduction !== 'batchmean' || input.rank === 0) return out;
  const r = out.div(input.dims[0]);
  out.dispose();
  return r;
}

// ————————————————————————————————————————————————————————— binary cross-entropy

const bceSpecs = {
  ...reductionSpecs,
  /** a rescaling weight per element, broadcast to the input's shape */
  weight: opt.any<Tensor | number | null>(),
};
const BCE = options('binaryCrossEntropy', bceSpecs);
/** Options of binaryCrossEntropy: reduction, weight (per element, broadcast). */
export type BceOptions = OptionsOf<typeof bceSpecs>;

/** Every element of `t` lies in [0, 1] (NaN does not), as PyTorch checks. */
function checkProbabilities(op: string, t: Tensor, arg: string): void {
  const values = t.data();
  for (let i = 0; i < values.length; i++) {
    if (!(values[i] >= 0 && values[i] <= 1)) {
      throw new ValueError(`${op}: all elements of ${arg} should be between 0 and 1, got ${values[i]} at flat index ${i} (${arg} has shape ${formatShape(t.dims)})`);
    }
  }
}

/**
 * −w·(t·log x + (1 − t)·log(1 − x)) with each log clamped at −100 as PyTorch does, so x = 0 or 1
 * gives a finite loss. input and target hold probabilities and have the same shape.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor | number, opts?: BceOptions): Tensor {
  const op = 'binaryCrossEntropy';
  if (arguments.length > 3) checkArity(op, arguments, 3, 'input, target, { reduction, weight }');
  const options = BCE.parse(opts);
  const reduction = reductionOf(op, options.reduction ?? 'mean');
  const [x, temps] = floatInput(op, input, 'input');
  try {
    checkProbabilities(op, x, 'input');
    return tidy(() => {
      const t = sameDtype(op, target, 'target', x);
      if (formatShape(t.dims) !== formatShape(x.dims)) {
        throw new ShapeError(`${op}: target has shape ${formatShape(t.dims)} but input has shape ${formatShape(x.dims)}; they must be the same`);
      }
      checkProbabilities(op, t, 'target');
      const w = options.weight === undefined || options.weight === null ? undefined : sameDtype(op, options.weight, 'weight', x);
      if (w) broadcastShapes(op, w.dims, x.dims, ['weight', 'input']);
      const logX = clamp(log(x), -100), log1mX = clamp(log1p(x.neg()), -100);
      let loss = t.sub(1).mul(log1mX).sub(t.mul(logX));
      if (w) loss = loss.mul(w);
      return reduce(loss, reduction);
    });
  } finally {
    disposeAll(temps);
  }
}

const BCE_WITH_LOGITS = options('binaryCrossEntropyWithLogits', {
  ...bceSpecs,
  /** the weight of positive examples, broadcast to the input's shape (per class when [C]) */
  posWeight: opt.any<Tensor | number | null>(),
});
/** Options of binaryCrossEntropyWithLogits: reduction, weight, posWeight. */
export type BceWithLogitsOptions = OptionsOf<typeof BCE_WITH_LOGITS>;

/**
 * binaryCrossEntropy(sigmoid(x), t) computed stably from logits:
 * (1 − t)·x − (1 + (posWeight − 1)·t)·logsigmoid(x), times weight.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor | number, opts?: BceWithLogitsOptions): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  if (arguments.length > 3) checkArity(op, arguments, 3, 'input, target, { reduction, weight, posWeight }');
  const options = BCE_WITH_LOGITS.parse(opts);
  const reduction = reductionOf(op, options.reduction ?? 'mean');
  const [x, temps] = floatInput(op, input, 'input');
  try {
    return tidy(() => {
      const t = sameDtype(op, target, 'target', x);
      if (formatShape(t.dims) !== formatShape(x.dims)) {
        throw new ShapeError(`${op}: target size ${formatShape(t.dims)} must be the same as input size ${formatShape(x.dims)}`);
      }
      const w = options.weight === undefined || options.weight === null ? undefined : sameDtype(op, options.weight, 'weight', x);
      if (w) broadcastShapes(op, w.dims, x.dims, ['weight', 'input']);
      const pw = options.posWeight === undefined || options.posWeight === null ? undefined : sameDtype(op, options.posWeight, 'posWeight', x);
      if (pw) broadcastShapes(op, pw.dims, x.dims, ['posWeight', 'input']);
      // logsigmoid(x) = min(x, 0) − log1p(exp(−|x|)), exact for every x
      let logSigmoid = minimum(x, 0).sub(log1p(exp(abs(x).neg())));
      if (pw) logSigmoid = logSigmoid.mul(pw.sub(1).mul(t).add(1));
      let loss = t.neg().add(1).mul(x).sub(logSigmoid);
      if (w) loss = loss.mul(w);
      return reduce(loss, reduction);
    });
  } finally {
    disposeAll(temps);
  }
}

// ————————————————————————————————————————————————————————— nllLoss, crossEntropy

/**
 * Class-index targets read on the host: values, shape, and whether any equals ignoreIndex. While
 * accelerate captures, `tensor` is the target tensor itself: the indices and the ignore mask are
 * then computed from it by captured ops, so a replay uses the targets it is given.
 */
interface ClassTargets { values: Int32Array; shape: number[]; ignored: boolean; tensor?: Tensor }

function readClassTargets(op: string, target: TargetLike, x: Tensor, ignoreIndex: number): ClassTargets {
  const classDim = x.rank === 1 ? 0 : 1;
  const C = x.dims[classDim];
  const expected = x.rank === 1 ? [] : [x.dims[0], ...x.dims.slice(2)];
  let values: Int32Array, shape: number[];
  if (target instanceof Tensor) {
    idOf(target, `${op} (target)`);
    if (target.dtype !== 'int32') {
      throw new DTypeError(`${op}: class-index target must be an int32 tensor, got ${target.dtype} ${formatShape(target.dims)}` +
        (isFloat(target.dtype) ? ` (float targets are class probabilities and must have the input's shape ${formatShape(x.dims)})` : ''));
    }
    // Under accelerate the targets may change on every replay: they are validated here for this
    // call, and guards recorded below make a replay with invalid targets (or a different
    // presence of ignoreIndex, which shapes the computation) capture again — which runs this
    // check and throws this error.
    values = wasm.capturing() ? rawInt32(target) : target.data() as Int32Array;
    shape = target.shape;
  } else if (target instanceof Int32Array) {
    values = target;
    shape = [target.length];
  } else {
    const bad = (v: unknown): boolean => (Array.isArray(v) ? v.some(bad) : typeof v !== 'number' || !Number.isInteger(v));
    if (!Array.isArray(target) && typeof target !== 'number') {
      throw new ValueError(`${op}: target must be a Tensor, an Int32Array, an integer or an array of integers, got ${describeValue(target)}`);
    }
    if (bad(target)) throw new ValueError(`${op}: class-index targets must be integers`);
    const t = tensor(target as NestedArray, { dtype: 'int32' });
    values = t.data() as Int32Array;
    shape = t.shape;
    t.dispose();
  }
  if (formatShape(shape) !== formatShape(expected)) {
    throw new ShapeError(`${op}: target has shape ${formatShape(shape)} but input of shape ${formatShape(x.dims)} needs a target of shape ${formatShape(expected)}`);
  }
  let ignored = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === ignoreIndex) { ignored = true; continue; }
    if (v < 0 || v >= C) {
      throw new ValueError(`${op}: target ${v} (at flat index ${i}) is out of range for ${C} classes; expected 0 <= target < ${C} or ignoreIndex (${ignoreIndex})`);
    }
  }
  if (target instanceof Tensor && wasm.capturing()) {
    tidy(() => {
      const isIgnored = target.eq(ignoreIndex);
      wasm.captureGuard(isIgnored.id, ignored ? 1 : 0);
      guardIndexRange(where(isIgnored, 0, target), C);
    });
    return { values, shape, ignored, tensor: target };
  }
  return { values, shape, ignored };
}

/** The class indices with ignored targets replaced by 0 (a host array, or captured ops on the target tensor). */
function safeIndices(t: ClassTargets, ignoreIndex: number, shape: number[]): Tensor {
  if (t.tensor) return reshape(t.ignored ? where(t.tensor.eq(ignoreIndex), 0, t.tensor) : t.tensor, shape);
  const safe = t.ignored ? t.values.map((v) => (v === ignoreIndex ? 0 : v)) : t.values;
  return tensor(safe, { shape, dtype: 'int32' });
}

/** 1 where the target is not ignoreIndex, 0 where it is, in `dtype` and the target's shape. */
function keepMask(t: ClassTargets, ignoreIndex: number, dtype: 'float32' | 'float64'): Tensor {
  if (t.tensor) return cast(t.tensor.ne(ignoreIndex), dtype);
  return tensor(Array.from(t.values, (v) => (v === ignoreIndex ? 0 : 1)), { shape: t.shape, dtype });
}

function classWeight(op: string, weight: Tensor | null | undefined, x: Tensor, C: number): Tensor | undefined {
  if (weight === undefined || weight === null) return undefined;
  idOf(weight, `${op} (weight)`);
  if (weight.dtype !== x.dtype) throw new DTypeError(`${op}: weight is ${weight.dtype} but input is ${x.dtype}; they must have the same dtype`);
  if (weight.rank !== 1 || weight.dims[0] !== C) {
    throw new ShapeError(`${op}: weight must have shape [${C}] (one entry per class), got ${formatShape(weight.dims)}`);
  }
  return weight;
}

/**
 * The per-element NLL −w[y]·logp[y] (0 where ignored) and the per-element weights w[y] (0 where
 * ignored), both shaped like the target.
 */
function nllTerms(logp: Tensor, t: ClassTargets, weight: Tensor | undefined, ignoreIndex: number): [Tensor, Tensor | undefined] {
  const classDim = logp.rank === 1 ? 0 : 1;
  const indexShape = logp.rank === 1 ? [1] : [t.shape[0], 1, ...t.shape.slice(1)];
  const picked = reshape(gather(logp, classDim, safeIndices(t, ignoreIndex, indexShape)), t.shape);
  const mask = t.ignored ? keepMask(t, ignoreIndex, logp.dtype as 'float32' | 'float64') : undefined;
  let w: Tensor | undefined;
  if (weight) {
    w = reshape(indexSelect(weight, 0, safeIndices(t, ignoreIndex, [t.values.length])), t.shape);
    if (mask) w = w.mul(mask);
  } else {
    w = mask;
  }
  return [(w ? picked.mul(w) : picked).neg(), w];
}

/** Σ of the per-element weights: the denominator of a weighted mean (the count when unweighted). */
const weightTotal = (w: Tensor | undefined, count: number): Tensor | number => (w ? w.sum() : count);

function reduceClassLoss(perElement: Tensor, w: Tensor | undefined, reduction: string): Tensor {
  if (reduction === 'none') return perElement;
  const total = perElement.sum();
  return reduction === 'sum' ? total : total.div(weightTotal(w, perElement.numel()));
}

const nllSpecs = {
  ...reductionSpecs,
  /** a weight per class [C] */
  weight: opt.any<Tensor | null>(),
  /** a target value that is ignored: it adds nothing to the loss or to the 'mean' divisor (default -100) */
  ignoreIndex: opt.any<number>(),
};
const NLL_LOSS = options('nllLoss', nllSpecs);
/** Options of nllLoss: reduction, weight (per class [C]), ignoreIndex (default −100). */
export type NllOptions = OptionsOf<typeof nllSpecs>;

function checkIgnoreIndex(op: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`${op}: ignoreIndex must be an integer, got ${String(v)}`);
  return v;
}

/** The input's class dim and size: [N, C], [C] or [N, C, d1, ...]. */
function classesOf(op: string, x: Tensor): number {
  if (x.rank === 0) throw new ShapeError(`${op}: input must have shape [C], [N, C] or [N, C, d1, ...], got a rank-0 tensor`);
  return x.dims[x.rank === 1 ? 0 : 1];
}

/**
 * Negative log-likelihood of log-probabilities input ([N, C], [C] or [N, C, d1, ...]) at
 * class-index targets. 'mean' divides by Σ weight[target] over non-ignored targets (the count
 * without weights), so an all-ignored batch gives NaN, as in PyTorch.
 */
export function nllLoss(input: Tensor, target: TargetLike, opts?: NllOptions): Tensor {
  const op = 'nllLoss';
  if (arguments.length > 3) checkArity(op, arguments, 3, 'input, target, { reduction, weight, ignoreIndex }');
  const options = NLL_LOSS.parse(opts);
  const reduction = reductionOf(op, options.reduction ?? 'mean');
  const ignoreIndex = checkIgnoreIndex(op, options.ignoreIndex ?? -100);
  const [x, temps] = floatInput(op, input, 'input');
  try {
    const C = classesOf(op, x);
    const weight = classWeight(op, options.weight, x, C);
    const t = readClassTargets(op, target, x, ignoreIndex);
    return tidy(() => {
      const [perElement, w] = nllTerms(x, t, weight, ignoreIndex);
      return reduceClassLoss(perElement, w, reduction);
    });
  } finally {
    disposeAll(temps);
  }
}

const crossEntropySpecs = {
  ...nllSpecs,
  /** ε in [0, 1]: the target is mixed with the uniform distribution, (1 − ε)·t + ε/C (default 0) */
  labelSmoothing: opt.any<number>(),
};
const CROSS_ENTROPY = options('crossEntropy', crossEntropySpecs);
const INDEXCROSSENTROPY = options('indexcrossentropy', crossEntropySpecs);
/** Options of crossEntropy: reduction, weight (per class [C]), ignoreIndex (default −100), labelSmoothing (default 0). */
export type CrossEntropyOptions = OptionsOf<typeof crossEntropySpecs>;

/** The fused crossEntropy op's reduction attribute. */
const REDUCTION_CODE: Record<string, number> = { none: 0, sum: 1, mean: 2 };

/**
 * Cross-entropy of logits input ([N, C], [C] or [N, C, d1, ...]) against class indices (int32
 * tensor or JS integers, shape [N, d1, ...]) or class probabilities (a float tensor of the
 * input's shape). logSoftmax over the class dim, then PyTorch's weighting, ignoreIndex (class
 * indices only) and label smoothing:
 *   indices: (1 − ε)·nll + ε/C·Σ_c −w_c·logp_c, both 'mean'-reduced by Σ w[target]
 *   probabilities: −Σ_c w_c·logp_c·((1 − ε)·t_c + ε/C), 'mean' divides by N·d1·…
 */
export function crossEntropy(input: Tensor, target: TargetLike, opts?: CrossEntropyOptions): Tensor {
  const op = 'crossEntropy';
  if (arguments.length > 3) checkArity(op, arguments, 3, 'input, target, { reduction, weight, ignoreIndex, labelSmoothing }');
  const options = CROSS_ENTROPY.parse(opts);
  const reduction = reductionOf(op, options.reduction ?? 'mean');
  const ignoreIndex = checkIgnoreIndex(op, options.ignoreIndex ?? -100);
  const eps = finiteNumber(op, options.labelSmoothing ?? 0, 'labelSmoothing');
  if (eps < 0 || eps > 1) throw new ValueError(`${op}: labelSmoothing must be between 0.0 and 1.0, got ${eps}`);
  const [x, temps] = floatInput(op, input, 'input');
  try {
    const C = classesOf(op, x);
    const classDim = x.rank === 1 ? 0 : 1;
    const weight = classWeight(op, options.weight, x, C);
    const weightView = (w: Tensor): Tensor => (x.rank <= 2 ? w : reshape(w, [C, ...new Array(x.rank - 2).fill(1)]));
    // [N, C] and [C] without class weights: the fused op, one pass over each row (assembly/ops/loss.ts).
    // Class weights (whose gradient and weighted 'mean' the composite gets from its ops) and
    // [N, C, d1, ...] take the composite below.
    const fused = !weight && x.rank <= 2 && x.numel() > 0 && ignoreIndex === (ignoreIndex | 0);
    const fusedLoss = (t: Tensor): Tensor =>
      call(op, wasm.crossEntropy(x.id, t.id, call(op, wasm.logSumExpRows(x.id)).id, REDUCTION_CODE[reduction], ignoreIndex, eps));
    if (target instanceof Tensor && isFloat(target.dtype)) {
      idOf(target, `${op} (target)`);
      if (target.dtype !== x.dtype) throw new DTypeError(`${op}: target is ${target.dtype} but input is ${x.dtype}; they must have the same dtype`);
      if (formatShape(target.dims) !== formatShape(x.dims)) {
        throw new ShapeError(`${op}: probability target has shape ${formatShape(target.dims)} but input has shape ${formatShape(x.dims)}; ` +
          'they must be the same (class-index targets are int32)');
      }
      if (fused) return tidy(() => fusedLoss(target));
      return tidy(() => {
        const logp = logSoftmax(x, classDim);
        const t = eps > 0 ? target.mul(1 - eps).add(eps / C) : target;
        let terms = logp.mul(t);
        if (weight) terms = terms.mul(weightView(weight));
        if (reduction === 'none') return sum(terms, classDim).neg();
        const total = terms.sum().neg();
        return reduction === 'sum' ? total : total.div(x.numel() / C);
      });
    }
    const t = readClassTargets(op, target, x, ignoreIndex);
    // an int32 target tensor is passed as it is (readClassTargets has checked it); JS indices become one
    if (fused) return tidy(() => fusedLoss(target instanceof Tensor ? target : tensor(t.values, { shape: t.shape, dtype: 'int32' })));
    return tidy(() => {
      const logp = logSoftmax(x, classDim);
      const [nll, w] = nllTerms(logp, t, weight, ignoreIndex);
      if (eps === 0) return reduceClassLoss(nll, w, reduction);
      let smooth = sum(weight ? logp.mul(weightView(weight)) : logp, classDim).neg();
      if (t.ignored) smooth = smooth.mul(keepMask(t, ignoreIndex, x.dtype as 'float32' | 'float64'));
      if (reduction === 'none') return nll.mul(1 - eps).add(smooth.mul(eps / C));
      const denominator = reduction === 'mean' ? weightTotal(w, nll.numel()) : 1;
      return nll.sum().div(denominator).mul(1 - eps).add(smooth.sum().div(denominator).mul(eps / C));
    });
  } finally {
    disposeAll(temps);
  }
}

/**
 * MATLAB's name for cross-entropy with integer class indices. Unlike MATLAB's indexcrossentropy
 * (softmax probabilities, 1-based indices) it takes logits and 0-based indices, as crossEntropy.
 */
export function indexcrossentropy(input: Tensor, target: TargetLike, opts?: CrossEntropyOptions): Tensor {
  if (arguments.length > 3) checkArity('indexcrossentropy', arguments, 3, 'input, target, { reduction, weight, ignoreIndex, labelSmoothing }');
  const options = INDEXCROSSENTROPY.parse(opts);
  if (target instanceof Tensor && target.isAlive && isFloat(target.dtype)) {
    throw new DTypeError(`indexcrossentropy: targets must be class indices (int32), got a ${target.dtype} tensor; use crossEntropy for probability targets`);
  }
  return crossEntropy(input, target, options);
}

// ————————————————————————————————————————————————————————— ctcLoss

const CTC_LOSS = options('ctcLoss', {
  ...reductionSpecs,
  /** the blank class (default 0) */
  blank: opt.any<number>(),
  /** impossible alignments give a loss and a gradient of 0 instead of inf (default false) */
  zeroInfinity: opt.any<boolean>(),
});
/** Options of ctcLoss: reduction, blank (default 0), zeroInfinity (default false). */
export type CtcOptions = OptionsOf<typeof CTC_LOSS>;

type LengthsLike = Tensor | Int32Array | readonly number[] | number;

function readInts(op: string, v: LengthsLike | TargetLike, arg: string): { values: Int32Array; shape: number[] } {
  if (v instanceof Tensor) {
    idOf(v, `${op} (${arg})`);
    if (v.dtype !== 'int32') throw new DTypeError(`${op}: ${arg} must be int32, got ${v.dtype} ${formatShape(v.dims)}`);
    return { values: v.data() as Int32Array, shape: v.shape };
  }
  if (v instanceof Int32Array) return { values: v, shape: [v.length] };
  const bad = (u: unknown): boolean => (Array.isArray(u) ? u.some(bad) : typeof u !== 'number' || !Number.isInteger(u));
  if ((!Array.isArray(v) && typeof v !== 'number') || bad(v)) {
    throw new ValueError(`${op}: ${arg} must be an int32 tensor, an Int32Array, an integer or an array of integers`);
  }
  const t = tensor(v as NestedArray, { dtype: 'int32' });
  const out = { values: t.data() as Int32Array, shape: t.shape };
  t.dispose();
  return out;
}

/**
 * The CTC loss of log-probabilities [T, N, C] (or [T, C] unbatched; normally logSoftmax output)
 * for targets [N, S] (padded) or 1-D (concatenated, Σ targetLengths long), with per-sample input
 * and target lengths. 'mean' divides each loss by its target length (at least 1) and averages
 * over the batch, as PyTorch. zeroInfinity turns impossible alignments' infinite losses (and
 * their gradients) into zeros. Its gradient is PyTorch's, which assumes logProbs are
 * log-softmax outputs; CTC has no second derivative (as in PyTorch).
 */
export function ctcLoss(logProbs: Tensor, targets: TargetLike, inputLengths: LengthsLike, targetLengths: LengthsLike,
  opts?: CtcOptions): Tensor {
  const op = 'ctcLoss';
  if (arguments.length > 5) checkArity(op, arguments, 5, 'logProbs, targets, inputLengths, targetLengths, { reduction, blank, zeroInfinity }');
  const options = CTC_LOSS.parse(opts);
  const reduction = reductionOf(op, options.reduction ?? 'mean');
  const blank = options.blank ?? 0;
  const zeroInfinity = options.zeroInfinity ?? false;
  if (typeof zeroInfinity !== 'boolean') throw new ValueError(`${op}: zeroInfinity must be a boolean, got ${describeValue(zeroInfinity)}`);
  const [lp, temps] = floatInput(op, logProbs, 'logProbs');
  try {
    if (lp.rank !== 3 && lp.rank !== 2) {
      throw new ShapeError(`${op}: logProbs must have shape [T, N, C] or [T, C], got ${formatShape(lp.dims)}`);
    }
    const batched = lp.rank === 3;
    const [T, N, C] = batched ? lp.dims : [lp.dims[0], 1, lp.dims[1]];
    if (!Number.isInteger(blank) || blank < 0 || blank >= C) {
      throw new ValueError(`${op}: blank ${String(blank)} is out of range for ${C} classes (expected 0 <= blank < ${C})`);
    }
    const il = readInts(op, inputLengths, 'inputLengths');
    const tl = readInts(op, targetLengths, 'targetLengths');
    const tg = readInts(op, targets, 'targets');
    for (const [name, l] of [['inputLengths', il], ['targetLengths', tl]] as const) {
      if (l.values.length !== N || (batched ? l.shape.length !== 1 : l.shape.length > 1)) {
        throw new ShapeError(`${op}: ${name} has shape ${formatShape(l.shape)} but logProbs ${formatShape(lp.dims)} needs ` +
          (batched ? `[${N}] (one length per sample)` : 'one length'));
      }
    }
    il.values.forEach((v, b) => {
      if (v < 0 || v > T) throw new ValueError(`${op}: inputLengths[${b}] = ${v} is out of range: expected 0 <= length <= ${T} (the T of logProbs ${formatShape(lp.dims)})`);
    });
    // Targets as [N, S], padded.
    let padded: Int32Array, S: number;
    const total = tl.values.reduce((a, v) => a + v, 0);
    if (batched && tg.shape.length === 2) {
      if (tg.shape[0] !== N) throw new ShapeError(`${op}: targets has shape ${formatShape(tg.shape)} but the batch size is ${N}`);
      S = tg.shape[1];
      padded = tg.values;
    } else if (tg.shape.length === 1) {
      if (tg.values.length !== total && !(!batched && tg.values.length >= total)) {
        throw new ShapeError(`${op}: concatenated targets have ${tg.values.length} entries but targetLengths sum to ${total}`);
      }
      S = Math.max(0, ...tl.values);
      padded = new Int32Array(N * S);
      let pos = 0;
      tl.values.forEach((len, b) => { padded.set(tg.values.subarray(pos, pos + Math.max(len, 0)), b * S); pos += len; });
    } else {
      throw new ShapeError(`${op}: targets must be ${batched ? '[N, S] (padded) or 1-D (concatenated)' : '1-D'}, got shape ${formatShape(tg.shape)}`);
    }
    tl.values.forEach((len, b) => {
      if (len < 0 || len > S) throw new ValueError(`${op}: targetLengths[${b}] = ${len} is out of range: expected 0 <= length <= ${S} (the target length available)`);
      for (let s = 0; s < len; s++) {
        const v = padded[b * S + s];
        if (v < 0 || v >= C || v === blank) {
          throw new ValueError(`${op}: target ${v} (sample ${b}, position ${s}) is out of range for ${C} classes: expected 0 <= target < ${C} and target != blank (${blank})`);
        }
      }
    });
    return tidy(() => {
      const lp3 = batched ? lp : reshape(lp, [T, 1, C]);
      const targetsT = tensor(padded, { shape: [N, S], dtype: 'int32' });
      const loss = call(op, wasm.ctcLoss(lp3.id, targetsT.id, tensor(il.values).id, tensor(tl.values).id, blank, zeroInfinity ? 1 : 0));
      // The primitive's rule is PyTorch's formula, exp(lp) − γ, which is the gradient only when a
      // log-softmax comes first; the derivative of this forward with respect to lp is −γ. Adding
      // E − detach(E), E_n = Σ over sample n's valid frames of exp(lp) (exactly 0, so the values
      // keep their bits), takes exp(lp) off the VJP and the JVP: both are the true derivatives.
      // A sample zeroed by zeroInfinity keeps its zero gradient.
      const valid = tensor(Array.from({ length: T * N }, (_, k) => (Math.floor(k / N) < il.values[k % N] ? 1 : 0)), { shape: [T, N, 1], dtype: lp3.dtype });
      let e = sum(mul(exp(lp3), valid), [0, 2]);
      if (zeroInfinity) {
        // the samples zeroInfinity zeroed are those whose loss is infinite before zeroing
        const raw = call(op, wasm.ctcLoss(lp3.id, targetsT.id, tensor(il.values).id, tensor(tl.values).id, blank, 0)).detach();
        e = where(eq(abs(raw), Infinity), 0, e);
      }
      const exact = sub(loss, sub(e, e.detach()));
      const perSample = batched ? exact : reshape(exact, []);
      if (reduction === 'none') return perSample;
      if (reduction === 'sum') return perSample.sum();
      const lengths = tensor(Array.from(tl.values, (v) => Math.max(v, 1)), { shape: batched ? [N] : [], dtype: lp.dtype });
      return perSample.div(lengths).mean();
    });
  } finally {
    disposeAll(temps);
  }
}

declare module '../tensor.js' {
  interface Tensor {
    /** Cross-entropy of these logits [N, C] (or [C], [N, C, d1, …]) against class indices or probabilities (PyTorch: torch.nn.functional.cross_entropy; MATLAB: crossentropy). */
    crossEntropy(target: TargetLike, options?: CrossEntropyOptions): Tensor;
    /** crossEntropy with 0-based class indices, under MATLAB's name (MATLAB: indexcrossentropy, which takes probabilities and 1-based indices). */
    indexcrossentropy(target: TargetLike, options?: CrossEntropyOptions): Tensor;
    /** Negative log-likelihood of these log-probabilities [N, C] at class-index targets (PyTorch: torch.nn.functional.nll_loss). */
    nllLoss(target: TargetLike, options?: NllOptions): Tensor;
    /** −(t·log x + (1 − t)·log(1 − x)) of these probabilities, logs clamped at −100 (PyTorch: torch.nn.functional.binary_cross_entropy). */
    binaryCrossEntropy(target: Tensor | number, options?: BceOptions): Tensor;
    /** binaryCrossEntropy(sigmoid(x), t) computed stably from these logits (PyTorch: torch.nn.functional.binary_cross_entropy_with_logits). */
    binaryCrossEntropyWithLogits(target: Tensor | number, options?: BceWithLogitsOptions): Tensor;
    /** The mean squared error (x − t)², target broadcast (PyTorch: torch.nn.functional.mse_loss). */
    mseLoss(target: Tensor | number, options?: ReductionOptions): Tensor;
    /** The mean absolute error |x − t| (PyTorch: torch.nn.functional.l1_loss; MATLAB: l1loss). */
    l1Loss(target: Tensor | number, options?: ReductionOptions): Tensor;
    /** ½d² where |d| < delta, else delta·(|d| − ½delta), d = x − t (PyTorch: torch.nn.functional.huber_loss; MATLAB: huber). */
    huberLoss(target: Tensor | number, options?: HuberOptions): Tensor;
    /** ½d²/beta where |d| < beta, else |d| − ½beta (PyTorch: torch.nn.functional.smooth_l1_loss). */
    smoothL1Loss(target: Tensor | number, options?: SmoothL1Options): Tensor;
    /** KL divergence with these log-probabilities as input: target·(log target − input) (PyTorch: torch.nn.functional.kl_div). */
    klDiv(target: Tensor | number, options?: KlDivOptions): Tensor;
    /** The CTC loss of these log-probabilities [T, N, C] for targets with per-sample lengths (PyTorch: torch.nn.functional.ctc_loss; MATLAB: ctc). */
    ctcLoss(targets: TargetLike, inputLengths: LengthsLike, targetLengths: LengthsLike, options?: CtcOptions): Tensor;
  }
}

const P = Tensor.prototype;
const TARGET_OPTS = 'target, options?';
P.crossEntropy = function (target, options) {
  if (arguments.length > 2) checkArity('Tensor.crossEntropy', arguments, 2, TARGET_OPTS);
  return crossEntropy(this, target, options);
};
P.indexcrossentropy = function (target, options) {
  if (arguments.length > 2) checkArity('Tensor.indexcrossentropy', arguments, 2, TARGET_OPTS);
  return indexcrossentropy(this, target, options);
};
P.nllLoss = function (target, options) {
  if (arguments.length > 2) checkArity('Tensor.nllLoss', arguments, 2, TARGET_OPTS);
  return nllLoss(this, target, options);
};
P.binaryCrossEntropy = function (target, options) {
  if (arguments.length > 2) checkArity('Tensor.binaryCrossEntropy', arguments, 2, TARGET_OPTS);
  return binaryCrossEntropy(this, target, options);
};
P.binaryCrossEntropyWithLogits = function (target, options) {
  if (arguments.length > 2) checkArity('Tensor.binaryCrossEntropyWithLogits', arguments, 2, TARGET_OPTS);
  return binaryCrossEntropyWithLogits(this, target, options);
};
P.mseLoss = function (target, options) {
  if (arguments.length > 2) checkArity('Tensor.mseLoss', arguments, 2, TARGET_OPTS);
  return mseLoss(this, target, options);
};
P.l1Loss = function (target, options) {
  if (arguments.length > 2) checkArity('Tensor.l1Loss', arguments, 2, TARGET_OPTS);
  return l1Loss(this, target, options);
};
P.huberLoss = function (target, options) {
  if (arguments.length > 2) checkArity('Tensor.huberLoss', arguments, 2, TARGET_OPTS);
  return huberLoss(this, target, options);
};
P.smoothL1Loss = function (target, options) {
  if (arguments.length > 2) checkArity('Tensor.smoothL1Loss', arguments, 2, TARGET_OPTS);
  return smoothL1Loss(this, target, options);
};
P.klDiv = function (target, options) {
  if (arguments.length > 2) checkArity('Tensor.klDiv', arguments, 2, TARGET_OPTS);
  return klDiv(this, target, options);
};
P.ctcLoss = function (targets, inputLengths, targetLengths, options) {
  if (arguments.length > 4) checkArity('Tensor.ctcLoss', arguments, 4, 'targets, inputLengths, targetLengths, options?');
  return ctcLoss(this, targets, inputLengths, targetLengths, options);
};
