// Normalisation, PyTorch's torch.nn.functional semantics: batchNorm, layerNorm, groupNorm,
// instanceNorm, localResponseNorm (MATLAB's crosschannelnorm).
//
// batch/group/instance norm share one fused wasm primitive (assembly/ops/norm.ts) that
// standardises x viewed as [a, b, c] over dims 0 and 2; the per-channel affine (weight, bias)
// is a composite on top. layerNorm is a fused op of its own with the affine inside, and its
// gradients are fused ops too (layerNormBackward, layerNormWeightGrad). Running statistics are state: updated in place in training mode (batch
// mean and UNBIASED variance, with momentum), read as constants in inference mode, never
// differentiated. localResponseNorm is a composite of squares, a padded window sum and pow.

import { Tensor, tensor } from '../tensor.js';
import { wasm, raise } from '../runtime.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { tidy } from '../scope.js';
import { idOf, floatOperand, disposeAll, call, requireInit } from './common.js';
import { rsqrt } from './elementwise.js';
import { reshape, pad, narrow } from './shape.js';
import { finiteNumber } from './options.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';

const product = (dims: readonly number[]): number => dims.reduce((p, d) => p * d, 1);

/** x viewed as [a, b, c], standardised over a and c (biased variance), as a recorded primitive. */
function standardise(op: string, x: Tensor, a: number, b: number, c: number, eps: number): Tensor {
  return call(op, wasm.normalize(x.id, a, b, c, eps));
}

/** An optional per-channel tensor (weight, bias, running stats): C elements of x's dtype. */
function channelTensor(op: string, t: Tensor | null | undefined, arg: string, x: Tensor, expected: readonly number[]): Tensor | undefined {
  if (t === undefined || t === null) return undefined;
  idOf(t, `${op} (${arg})`);
  if (t.dtype !== x.dtype) {
    throw new DTypeError(`${op}: ${arg} is ${t.dtype} but input is ${x.dtype}; they must have the same dtype`);
  }
  if (formatShape(t.dims) !== formatShape(expected)) {
    throw new ShapeError(`${op}: ${arg} has shape ${formatShape(t.dims)} but must have shape ${formatShape(expected)} ` +
      `(input has shape ${formatShape(x.dims)})`);
  }
  return t;
}

/** A per-channel vector [C] shaped to broadcast over [N, C, *spatial] (rank `rank`). */
const channelView = (t: Tensor, rank: number): Tensor => reshape(t, [t.numel(), ...new Array(Math.max(rank - 2, 0)).fill(1)]);

/** A copy that is never differentiated: running statistics are state, not parameters. */
const constant = (t: Tensor): Tensor => tensor(t.data() as Float32Array | Float64Array, { shape: t.dims, dtype: t.dtype });

function affine(y: Tensor, weight: Tensor | undefined, bias: Tensor | undefined, view: (t: Tensor) => Tensor): Tensor {
  let out = y;
  if (weight) out = out.mul(view(weight));
  if (bias) out = out.add(view(bias));
  return out;
}

function checkEps(op: string, eps: unknown): number {
  const e = finiteNumber(op, eps, 'eps');
  if (e < 0) throw new ValueError(`${op}: eps must be >= 0, got ${e}`);
  return e;
}

function checkMomentum(op: string, momentum: unknown): number {
  return finiteNumber(op, momentum, 'momentum');
}

function checkBool(op: string, v: unknown, arg: string): boolean {
  if (typeof v !== 'boolean') throw new ValueError(`${op}: ${arg} must be a boolean, got ${describeValue(v)}`);
  return v;
}

function floatInput(op: string, x: Tensor): [Tensor, Tensor[]] {
  requireInit(op);
  return floatOperand(op, x, 'input');
}

/** y = x·α + β with α = weight·rsqrt(var + eps), β = bias − mean·α (PyTorch's inference formula). */
function fromStatistics(x: Tensor, mean: Tensor, variance: Tensor, weight: Tensor | undefined, bias: Tensor | undefined, eps: number): Tensor {
  const m = constant(mean), v = constant(variance);
  let alpha = rsqrt(v.add(eps));
  if (weight) alpha = alpha.mul(weight);
  let beta = m.mul(alpha).neg();
  if (bias) beta = beta.add(bias);
  return x.mul(channelView(alpha, x.rank)).add(channelView(beta, x.rank));
}

const epsSpecs = {
  /** added to the variance before the square root (default 1e-5) */
  eps: opt.any<number>(),
};
const momentumSpecs = {
  /** weight of the batch statistic in the running average (default 0.1) */
  momentum: opt.any<number>(),
};

const BATCH_NORM = options('batchNorm', {
  /** use batch statistics and update the running ones (default false, as F.batch_norm) */
  training: opt.any<boolean>(),
  ...momentumSpecs,
  ...epsSpecs,
});
/** Options of batchNorm: training (default false: use the running statistics), momentum (0.1), eps (1e-5). */
export type BatchNormOptions = OptionsOf<typeof BATCH_NORM>;

/**
 * Batch normalisation over [N, C, *] per channel C. Training mode normalises with the batch mean
 * and biased variance and moves runningMean / runningVar (when given) in place:
 * running = (1 − momentum)·running + momentum·batch statistic, with the unbiased variance.
 * Inference mode (the default, as PyTorch's functional form) uses the running statistics.
 */
export function batchNorm(input: Tensor, runningMean: Tensor | null | undefined, runningVar: Tensor | null | undefined,
  weight?: Tensor | null, bias?: Tensor | null, opts?: BatchNormOptions): Tensor {
  const op = 'batchNorm';
  if (arguments.length > 6) checkArity(op, arguments, 6, 'input, runningMean, runningVar, weight?, bias?, { training, momentum, eps }');
  const options = BATCH_NORM.parse(opts);
  const training = checkBool(op, options.training ?? false, 'training');
  const momentum = checkMomentum(op, options.momentum ?? 0.1);
  const eps = checkEps(op, options.eps ?? 1e-5);
  const [x, temps] = floatInput(op, input);
  try {
    if (x.rank < 2) throw new ShapeError(`${op}: input must have shape [N, C, *] (rank >= 2), got ${formatShape(x.dims)}`);
    const [N, C] = x.dims;
    const L = product(x.dims.slice(2));
    const rm = channelTensor(op, runningMean, 'runningMean', x, [C]);
    const rv = channelTensor(op, runningVar, 'runningVar', x, [C]);
    const w = channelTensor(op, weight, 'weight', x, [C]);
    const b = channelTensor(op, bias, 'bias', x, [C]);
    if (!training) {
      if (!rm || !rv) throw new ValueError(`${op}: runningMean and runningVar must be given in inference mode (training: false)`);
      return tidy(() => fromStatistics(x, rm, rv, w, b, eps));
    }
    if (N * L <= 1) {
      throw new ValueError(`${op}: expected more than 1 value per channel when training, got input of shape ${formatShape(x.dims)}`);
    }
    const out = tidy(() => affine(standardise(op, x, N, C, L, eps), w, b, (t) => channelView(t, x.rank)));
    if (rm || rv) {
      wasm.runningStatsUpdate(x.id, N, C, L, rm?.id ?? 0, rv?.id ?? 0, momentum);
      if (wasm.errorCode() !== 0) raise(op);
    }
    return out;
  } finally {
    disposeAll(temps);
  }
}

const LAYER_NORM = options('layerNorm', epsSpecs);
/** Options of layerNorm: eps (default 1e-5). */
export type LayerNormOptions = OptionsOf<typeof LAYER_NORM>;

/** Normalises over the trailing dims given by normalizedShape; weight and bias have that shape. */
export function layerNorm(input: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null,
  bias?: Tensor | null, opts?: LayerNormOptions): Tensor {
  const op = 'layerNorm';
  if (arguments.length > 5) checkArity(op, arguments, 5, 'input, normalizedShape, weight?, bias?, { eps }');
  const eps = checkEps(op, LAYER_NORM.parse(opts).eps ?? 1e-5);
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ValueError(`${op}: normalizedShape must be a size or a list of sizes, got ${String(normalizedShape)}`);
  }
  if (shape.length === 0) {
    throw new ValueError(`${op}: expected normalizedShape to have at least one dim, got []`);
  }
  const [x, temps] = floatInput(op, input);
  try {
    const k = x.rank - shape.length;
    if (k < 0 || shape.some((d, i) => x.dims[k + i] !== d)) {
      throw new ShapeError(`${op}: given normalizedShape=${formatShape(shape)}, expected input with shape [*, ${shape.join(', ')}], ` +
        `but got input of shape ${formatShape(x.dims)}`);
    }
    const w = channelTensor(op, weight, 'weight', x, shape);
    const b = channelTensor(op, bias, 'bias', x, shape);
    return call(op, wasm.layerNorm(x.id, w?.id ?? 0, b?.id ?? 0, shape.length, eps));
  } finally {
    disposeAll(temps);
  }
}

const GROUP_NORM = options('groupNorm', epsSpecs);
/** Options of groupNorm: eps (default 1e-5). */
export type GroupNormOptions = OptionsOf<typeof GROUP_NORM>;

/** Normalises each of numGroups channel groups of every sample of [N, C, *]; weight, bias [C]. */
export function groupNorm(input: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null,
  opts?: GroupNormOptions): Tensor {
  const op = 'groupNorm';
  if (arguments.length > 5) checkArity(op, arguments, 5, 'input, numGroups, weight?, bias?, { eps }');
  const eps = checkEps(op, GROUP_NORM.parse(opts).eps ?? 1e-5);
  if (!Number.isInteger(numGroups) || numGroups <= 0) {
    throw new ValueError(`${op}: numGroups must be a positive integer, got ${String(numGroups)}`);
  }
  const [x, temps] = floatInput(op, input);
  try {
    if (x.rank < 2) throw new ShapeError(`${op}: input must have shape [N, C, *] (rank >= 2), got ${formatShape(x.dims)}`);
    const [N, C] = x.dims;
    if (C % numGroups !== 0) {
      throw new ValueError(`${op}: expected the number of channels in input to be divisible by numGroups, ` +
        `but got input of shape ${formatShape(x.dims)} and numGroups=${numGroups}`);
    }
    const w = channelTensor(op, weight, 'weight', x, [C]);
    const b = channelTensor(op, bias, 'bias', x, [C]);
    const inner = (C / numGroups) * product(x.dims.slice(2));
    return tidy(() => affine(standardise(op, x, 1, N * numGroups, inner, eps), w, b, (t) => channelView(t, x.rank)));
  } finally {
    disposeAll(temps);
  }
}

const INSTANCE_NORM = options('instanceNorm', {
  /** normalise with each instance's own statistics (default true); false uses the running ones */
  useInputStats: opt.any<boolean>(),
  ...momentumSpecs,
  ...epsSpecs,
});
/** Options of instanceNorm: useInputStats (default true), momentum (0.1), eps (1e-5). */
export type InstanceNormOptions = OptionsOf<typeof INSTANCE_NORM>;

/**
 * Normalises every (sample, channel) of [N, C, *] over its spatial dims. With running stats and
 * useInputStats they move in place by the batch average of the per-instance statistics
 * (unbiased variance), as PyTorch's F.instance_norm.
 */
export function instanceNorm(input: Tensor, runningMean?: Tensor | null, runningVar?: Tensor | null,
  weight?: Tensor | null, bias?: Tensor | null, opts?: InstanceNormOptions): Tensor {
  const op = 'instanceNorm';
  if (arguments.length > 6) checkArity(op, arguments, 6, 'input, runningMean?, runningVar?, weight?, bias?, { useInputStats, momentum, eps }');
  const options = INSTANCE_NORM.parse(opts);
  const useInputStats = checkBool(op, options.useInputStats ?? true, 'useInputStats');
  const momentum = checkMomentum(op, options.momentum ?? 0.1);
  const eps = checkEps(op, options.eps ?? 1e-5);
  const [x, temps] = floatInput(op, input);
  try {
    if (x.rank < 3) throw new ShapeError(`${op}: input must have shape [N, C, *spatial] (rank >= 3), got ${formatShape(x.dims)}`);
    const [N, C] = x.dims;
    const L = product(x.dims.slice(2));
    const rm = channelTensor(op, runningMean, 'runningMean', x, [C]);
    const rv = channelTensor(op, runningVar, 'runningVar', x, [C]);
    const w = channelTensor(op, weight, 'weight', x, [C]);
    const b = channelTensor(op, bias, 'bias', x, [C]);
    if (!useInputStats) {
      if (!rm || !rv) throw new ValueError(`${op}: runningMean and runningVar must be given when useInputStats is false`);
      return tidy(() => fromStatistics(x, rm, rv, w, b, eps));
    }
    if (L <= 1) {
      throw new ValueError(`${op}: expected more than 1 spatial element when training, got input of shape ${formatShape(x.dims)}`);
    }
    const out = tidy(() => affine(standardise(op, x, 1, N * C, L, eps), w, b, (t) => channelView(t, x.rank)));
    if ((rm || rv) && N > 0) {
      wasm.runningStatsUpdate(x.id, 1, N * C, L, rm?.id ?? 0, rv?.id ?? 0, momentum);
      if (wasm.errorCode() !== 0) raise(op);
    }
    return out;
  } finally {
    disposeAll(temps);
  }
}

const lrnSpecs = {
  /** the multiplicative factor (default 1e-4) */
  alpha: opt.any<number>(),
  /** the exponent (default 0.75) */
  beta: opt.any<number>(),
  /** the additive factor (default 1) */
  k: opt.any<number>(),
};
const LOCAL_RESPONSE_NORM = options('localResponseNorm', lrnSpecs);
const CROSSCHANNELNORM = options('crosschannelnorm', lrnSpecs);
/** Options of localResponseNorm / crosschannelnorm: alpha (1e-4), beta (0.75), k (1). */
export type LocalResponseNormOptions = OptionsOf<typeof lrnSpecs>;

/**
 * x / (k + alpha/size · Σ x²)^beta, the sum over a window of `size` neighbouring channels
 * (zero-padded: size/2 before, (size−1)/2 after), PyTorch's defaults alpha = 1e-4,
 * beta = 0.75, k = 1. Input [N, C, *] with rank >= 3.
 */
export function localResponseNorm(input: Tensor, size: number, opts?: LocalResponseNormOptions): Tensor {
  if (arguments.length > 3) checkArity('localResponseNorm', arguments, 3, 'input, size, { alpha, beta, k }');
  return lrn('localResponseNorm', input, size, LOCAL_RESPONSE_NORM.parse(opts));
}

/** MATLAB's crosschannelnorm(X, windowChannelSize, ...): localResponseNorm in PyTorch's layout. */
export function crosschannelnorm(input: Tensor, size: number, opts?: LocalResponseNormOptions): Tensor {
  if (arguments.length > 3) checkArity('crosschannelnorm', arguments, 3, 'input, size, { alpha, beta, k }');
  return lrn('localResponseNorm', input, size, CROSSCHANNELNORM.parse(opts));
}

function lrn(op: string, input: Tensor, size: number, options: LocalResponseNormOptions): Tensor {
  if (!Number.isInteger(size) || size <= 0) throw new ValueError(`${op}: size must be a positive integer, got ${String(size)}`);
  const alpha = finiteNumber(op, options.alpha ?? 1e-4, 'alpha');
  const beta = finiteNumber(op, options.beta ?? 0.75, 'beta');
  const k = finiteNumber(op, options.k ?? 1, 'k');
  const [x, temps] = floatInput(op, input);
  try {
    if (x.rank < 3) throw new ShapeError(`${op}: expected 3D or higher dimensional input, got shape ${formatShape(x.dims)}`);
    const [N, C] = x.dims;
    return tidy(() => {
      const squares = reshape(x.mul(x), [N, C, product(x.dims.slice(2))]);
      const padded = pad(squares, [0, 0, Math.floor(size / 2), Math.floor((size - 1) / 2)]);
      let window = narrow(padded, 1, 0, C);
      for (let j = 1; j < size; j++) window = window.add(narrow(padded, 1, j, C));
      const div = window.div(size).mul(alpha).add(k).pow(beta);
      return x.div(reshape(div, x.dims));
    });
  } finally {
    disposeAll(temps);
  }
}

declare module '../tensor.js' {
  interface Tensor {
    /** Batch normalisation of this [N, C, *] per channel, with running statistics [C] (PyTorch: torch.nn.functional.batch_norm; MATLAB: batchnorm). */
    batchNorm(runningMean: Tensor | null | undefined, runningVar: Tensor | null | undefined, weight?: Tensor | null,
      bias?: Tensor | null, options?: BatchNormOptions): Tensor;
    /** Normalises over the trailing `normalizedShape` dims; weight and bias have that shape (PyTorch: torch.nn.functional.layer_norm; MATLAB: layernorm). */
    layerNorm(normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, options?: LayerNormOptions): Tensor;
    /** Normalises each of numGroups channel groups of every sample of this [N, C, *]; weight, bias [C] (PyTorch: torch.nn.functional.group_norm; MATLAB: groupnorm). */
    groupNorm(numGroups: number, weight?: Tensor | null, bias?: Tensor | null, options?: GroupNormOptions): Tensor;
    /** Normalises every (sample, channel) of this [N, C, *] over its spatial dims (PyTorch: torch.nn.functional.instance_norm; MATLAB: instancenorm). */
    instanceNorm(runningMean?: Tensor | null, runningVar?: Tensor | null, weight?: Tensor | null, bias?: Tensor | null,
      options?: InstanceNormOptions): Tensor;
    /** x / (k + alpha/size · Σ x²)^beta over `size` neighbouring channels of this [N, C, *] (PyTorch: torch.nn.functional.local_response_norm). */
    localResponseNorm(size: number, options?: LocalResponseNormOptions): Tensor;
    /** MATLAB's crosschannelnorm: localResponseNorm in PyTorch's layout [N, C, *]. */
    crosschannelnorm(size: number, options?: LocalResponseNormOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.batchNorm = function (runningMean, runningVar, weight, bias, options) {
  if (arguments.length > 5) checkArity('Tensor.batchNorm', arguments, 5, 'runningMean, runningVar, weight?, bias?, { training, momentum, eps }');
  return batchNorm(this, runningMean, runningVar, weight, bias, options);
};
P.layerNorm = function (normalizedShape, weight, bias, options) {
  if (arguments.length > 4) checkArity('Tensor.layerNorm', arguments, 4, 'normalizedShape, weight?, bias?, { eps }');
  return layerNorm(this, normalizedShape, weight, bias, options);
};
P.groupNorm = function (numGroups, weight, bias, options) {
  if (arguments.length > 4) checkArity('Tensor.groupNorm', arguments, 4, 'numGroups, weight?, bias?, { eps }');
  return groupNorm(this, numGroups, weight, bias, options);
};
P.instanceNorm = function (runningMean, runningVar, weight, bias, options) {
  if (arguments.length > 5) checkArity('Tensor.instanceNorm', arguments, 5, 'runningMean?, runningVar?, weight?, bias?, { useInputStats, momentum, eps }');
  return instanceNorm(this, runningMean, runningVar, weight, bias, options);
};
P.localResponseNorm = function (size, options) {
  if (arguments.length > 2) checkArity('Tensor.localResponseNorm', arguments, 2, 'size, { alpha, beta, k }');
  return localResponseNorm(this, size, options);
};
P.crosschannelnorm = function (size, options) {
  if (arguments.length > 2) checkArity('Tensor.crosschannelnorm', arguments, 2, 'size, { alpha, beta, k }');
  return crosschannelnorm(this, size, options);
};
