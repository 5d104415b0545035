// MATLAB's deep-learning losses (Deep Learning Toolbox, dlarray functions), with MATLAB's
// definitions, options and defaults: crossentropy, mse, l1loss, l2loss, huber and ctc. The
// PyTorch losses of the same family keep their camelCase names and PyTorch semantics
// (crossEntropy, mseLoss, l1Loss, huberLoss, ctcLoss in src/ops/loss.ts); a lowercase MATLAB
// name always means MATLAB.
//
// What is followed (MathWorks documentation pages dlarray.crossentropy, dlarray.mse,
// dlarray.l1loss, dlarray.l2loss, dlarray.huber and dlarray.ctc, R2024b):
//
//   every loss first computes element-wise values loss_j over Y's elements, then (Reduction
//   'sum', the default) reduces them as  loss = (1/N) Σ_j m_j w_j loss_j  with m the Mask, w the
//   weights and N the NormalizationFactor:
//     'batch-size' (default)  the number of observations (the size of the 'B' dimension, 1 if none)
//     'all-elements'          the number of elements of Y
//     'mask-included'         per observation: that observation's sum divided by the number of
//                             elements the mask includes in it ("for each observation
//                             independently"); the observations' values are then averaged, so a
//                             full mask gives the same as 'all-elements' (the documentation does not
//                             spell out this last step; an observation the mask excludes entirely
//                             contributes 0)
//     'none'                  the sum itself
//   Reduction 'none' returns m ⊙ w ⊙ loss_j, the shape of Y.
//
//   crossentropy  Y holds probabilities (softmax or sigmoid output), not logits.
//                 single-label (ClassificationMode 'single-label', TargetCategories 'exclusive'):
//                   loss_j = −T_j·ln(Y_j)
//                 multilabel ('multilabel' / 'independent'):
//                   loss_j = −(T_j·ln(Y_j) + (1 − T_j)·ln(1 − Y_j))
//                 MATLAB keeps ln finite by bounding Y away from zero; the exact bound is not
//                 documented, so here Y (and 1 − Y) are clamped below at eps(class(Y)) — 2^−23 for
//                 float32 ('single'), 2^−52 for float64 ('double') — as MATLAB's classification
//                 layers do with eps. Inside (eps, 1] the values are exact.
//   mse           half mean squared error, Σ (Y − T)² / (2N) with N the observations. MATLAB's mse
//                 takes only DataFormat (no weights, Mask or NormalizationFactor: MATLAB recommends
//                 l2loss for those).
//   l1loss        loss_j = |Y_j − T_j|                  (default: Σ|Y − T| / N, "mean absolute error")
//   l2loss        loss_j = (Y_j − T_j)²                 (default: Σ(Y − T)² / N; no ½, unlike mse)
//   huber         loss_j = ½(Y_j − T_j)² where |Y_j − T_j| ≤ δ, else δ|Y_j − T_j| − ½δ²
//                 (TransitionPoint δ, default 1: smooth L1)
//   ctc           CTC loss of probabilities Y ('CBT') against padded targets [B, S] with masks
//                 YMask [B, T] and targetsMask [B, S]; BlankIndex 'first' (default) or 'last';
//                 Reduction 'mean' (default: the average over observations of −ln p(target | Y))
//                 or 'sum'. Built on ctcLoss (the wasm primitive) with log(Y) as log-probabilities;
//                 ctcLoss's gradient is PyTorch's (meant for log-softmax input), so a correction
//                 term of value zero makes the gradient with respect to Y itself exact.
//
// Layout. MATLAB's arrays are channels-first for observations: an unformatted C×B matrix holds
// one observation per column. wasmgrad tensors are row-major JS arrays, and a data format labels
// their dimensions in order: DataFormat 'CB' (the default for a rank-0, 1 or 2 input) means shape
// [C, B] — dim 0 the classes or responses, dim 1 the observations, so `[[y11, y12], [y21, y22]]`
// is two observations of two classes, exactly as the MATLAB matrix [y11 y12; y21 y22] — 'BC'
// means [B, C] (PyTorch's batch-first layout), 'SSCB' [H, W, C, B], 'CBT' [C, B, T]. Labels are S
// (spatial), C (channel), B (batch), T (time) and U (unspecified); C, B and T appear at most once.
// A format longer than the rank labels trailing singleton dimensions, as in MATLAB. Inputs of
// rank 3 and more need a DataFormat (ctc defaults to 'CBT'). Class indices (ctc's targets) are
// 0-based, as everywhere in wasmgrad.
//
// Every function takes its options as one object (`{ NormalizationFactor: 'all-elements' }`) or
// as MATLAB's name-value pairs (`'NormalizationFactor', 'all-elements'`); names are matched
// case-insensitively and text values too, as MATLAB does. Weights come as MATLAB's positional
// third argument (crossentropy, l1loss, l2loss, huber) or as the option Weights. All of them are
// composites of differentiable wasmgrad ops (ctc: first order only, as ctcLoss), so VJP, JVP and
// (except ctc) higher derivatives hold.

import { Tensor, tensor, type NestedArray } from '../tensor.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { tidy } from '../scope.js';
import { options, opt, describeValue, isPlainObject, type OptionSchema, type OptionsOf, type SpecMap } from '../options.js';
import { floatOperand, idOf, isFloat, requireInit, disposeAll, broadcastShapes } from '../ops/common.js';
import { abs, clamp, log, where } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { reshape, permute, broadcastTo } from '../ops/shape.js';
import { ctcLoss } from '../ops/loss.js';

/** A tensor, or (nested) JS numbers made into a tensor of the prediction's dtype. */
export type DataLike = Tensor | NestedArray;

// ————————————————————————————————————————————————————————— argument handling

/**
 * Splits the arguments after the required ones into up to `maxPositional` positional values
 * (anything that is neither a string nor a plain options object) and the options: one plain
 * object, or MATLAB's name-value pairs. Option names are matched to the schema's keys
 * case-insensitively; an unknown name is left as it is for the schema to reject (naming the
 * nearest key).
 */
export function splitArgs<M extends SpecMap>(fn: string, schema: OptionSchema<M>, rest: unknown[], firstArg: number,
  maxPositional: number): { positional: unknown[]; opts: ReturnType<OptionSchema<M>['parse']> } {
  while (rest.length > 0 && rest[rest.length - 1] === undefined) rest = rest.slice(0, -1);
  const positional: unknown[] = [];
  let i = 0;
  while (i < rest.length && positional.length < maxPositional && typeof rest[i] !== 'string' && !isPlainObject(rest[i])) {
    positional.push(rest[i++]);
  }
  const tail = rest.slice(i);
  let raw: unknown;
  if (tail.length === 1 && typeof tail[0] !== 'string') {
    raw = tail[0];
  } else if (tail.length > 0) {
    if (tail.length % 2 !== 0) {
      throw new ValueError(`${fn}: name-value arguments come in pairs; ${describeValue(tail[tail.length - 1])} has no value`);
    }
    const pairs: Record<string, unknown> = {};
    for (let k = 0; k < tail.length; k += 2) {
      const name = tail[k];
      if (typeof name !== 'string') {
        throw new ValueError(`${fn}: expected an option name at argument ${firstArg + i + k}, got ${describeValue(name)} ` +
          '(options are one object or MATLAB name-value pairs)');
      }
      pairs[name] = tail[k + 1];
    }
    raw = pairs;
  }
  if (isPlainObject(raw)) {
    const canonical: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) {
      const key = schema.keys.find((o) => o.toLowerCase() === k.toLowerCase()) ?? k;
      if (Object.prototype.hasOwnProperty.call(canonical, key)) throw new ValueError(`${fn}: option '${key}' is given twice`);
      canonical[key] = v;
    }
    raw = canonical;
  } else if (raw !== undefined && (raw instanceof Tensor || Array.isArray(raw))) {
    throw new ValueError(`${fn}: too many positional arguments: argument ${firstArg + i} is ${describeValue(raw)} ` +
      '(after them come the options, as one object or name-value pairs)');
  }
  return { positional, opts: schema.parse(raw, fn) };
}

/** A text option matched case-insensitively (as MATLAB's validatestring) against its allowed values. */
export function choice<V extends string>(fn: string, name: string, v: unknown, allowed: readonly V[], dflt: V): V {
  if (v === undefined) return dflt;
  const found = typeof v === 'string' ? allowed.find((a) => a.toLowerCase() === v.toLowerCase()) : undefined;
  if (found === undefined) {
    throw new ValueError(`${fn}: ${name} must be ${allowed.map((a) => `'${a}'`).join(', ').replace(/, ([^,]*)$/, ' or $1')}, ` +
      `got ${typeof v === 'string' ? `'${v}'` : describeValue(v)}`);
  }
  return found;
}

// ————————————————————————————————————————————————————————— data formats

/** A data format applied to a shape: the labels and the dims, padded with trailing singletons. */
export interface Layout {
  fmt: string;
  dims: number[];
  /** the index of the 'B' dim, or -1 */
  B: number;
  /** the index of the 'C' dim, or -1 */
  C: number;
}

/** Checks a MATLAB data format against a shape (rank <= format length; the rest are trailing singletons). */
export function layoutOf(fn: string, arg: string, fmt: unknown, shape: readonly number[]): Layout {
  if (typeof fmt !== 'string' || fmt.length === 0) {
    throw new ValueError(`${fn}: ${arg} must be a data format such as 'CB', 'BC', 'SSCB' or 'CBT', got ${describeValue(fmt)}`);
  }
  const bad = [...fmt].find((c) => !'SCBTU'.includes(c));
  if (bad !== undefined) {
    throw new ValueError(`${fn}: ${arg} '${fmt}' has the label '${bad}'; labels are S (spatial), C (channel), B (batch), T (time) and U (unspecified), in upper case`);
  }
  for (const once of 'CBT') {
    if ([...fmt].filter((c) => c === once).length > 1) throw new ValueError(`${fn}: ${arg} '${fmt}' has more than one '${once}' dimension`);
  }
  if (shape.length > fmt.length) {
    throw new ShapeError(`${fn}: ${arg} '${fmt}' labels ${fmt.length} dimension${fmt.length === 1 ? '' : 's'} but the array has shape ${formatShape(shape)} (rank ${shape.length}); ` +
      'give one label per dimension');
  }
  const dims = [...shape, ...new Array<number>(fmt.length - shape.length).fill(1)];
  return { fmt, dims, B: fmt.indexOf('B'), C: fmt.indexOf('C') };
}

/**
 * The data format a tensor carries (`x.format`, set by the MATLAB layer's dlarray(X, fmt)), or
 * undefined. Read as a plain property, so these losses work the same with or without that layer.
 */
export function carriedFormat(x: unknown): string | undefined {
  const f = x instanceof Tensor ? (x as unknown as { format?: unknown }).format : undefined;
  return typeof f === 'string' && f.length > 0 ? f : undefined;
}

/** x without its format (a reshape to its own shape: the same values, differentiable, unformatted), or x itself. */
function unformatted(x: Tensor): Tensor {
  return carriedFormat(x) === undefined ? x : reshape(x, x.dims);
}

/**
 * Y's layout: Y's own format (a formatted dlarray; DataFormat may only repeat it), its
 * DataFormat, or 'CB' for rank <= 2 (MATLAB's unformatted matrix: one observation per column).
 */
function predictionLayout(fn: string, Y: Tensor, fmt: unknown, dflt?: string, own?: string): Layout {
  if (own !== undefined) {
    if (fmt !== undefined && fmt !== own) {
      throw new ValueError(`${fn}: Y is a formatted dlarray ('${own}'), so DataFormat ${typeof fmt === 'string' ? `'${fmt}'` : describeValue(fmt)} cannot apply; leave DataFormat out`);
    }
    return layoutOf(fn, 'the format of Y', own, Y.dims);
  }
  if (fmt === undefined) {
    if (Y.rank <= 2) return layoutOf(fn, 'DataFormat', 'CB', Y.dims);
    if (dflt !== undefined && Y.rank <= dflt.length) return layoutOf(fn, 'DataFormat', dflt, Y.dims);
    throw new ValueError(`${fn}: Y has shape ${formatShape(Y.dims)}; give its DataFormat (one label per dimension, such as 'SSCB' or 'CBT'); ` +
      "without one only rank 0, 1 and 2 are read, as 'CB'");
  }
  return layoutOf(fn, 'DataFormat', fmt, Y.dims);
}

/** A float operand of Y's dtype and shape (int and bool tensors are cast, JS numbers made into a tensor). */
function operandLike(fn: string, v: unknown, arg: string, Y: Tensor, sameShape: boolean, fmt?: string): Tensor {
  let t: Tensor;
  if (v instanceof Tensor) {
    idOf(v, `${fn} (${arg})`);
    const own = carriedFormat(v);
    if (own !== undefined && fmt !== undefined && own !== fmt) {
      throw new ValueError(`${fn}: ${arg} has the format '${own}' but Y's is '${fmt}'; a formatted ${arg} must have Y's format`);
    }
    const u = unformatted(v);
    if (isFloat(u.dtype) && u.dtype !== Y.dtype) {
      throw new DTypeError(`${fn}: ${arg} is ${u.dtype} but Y is ${Y.dtype}; they must have the same dtype (cast with .to('${Y.dtype}'))`);
    }
    t = u.dtype === Y.dtype ? u : u.to(Y.dtype);
  } else if (typeof v === 'number' || Array.isArray(v)) {
    t = tensor(v as NestedArray, { dtype: Y.dtype });
  } else {
    throw new ValueError(`${fn}: ${arg} must be a Tensor or (nested) arrays of numbers, got ${describeValue(v)}`);
  }
  if (sameShape && formatShape(t.dims) !== formatShape(Y.dims)) {
    throw new ShapeError(`${fn}: ${arg} has shape ${formatShape(t.dims)} but Y has shape ${formatShape(Y.dims)}; they must be the same`);
  }
  return t;
}

/**
 * Weights as a view broadcastable to the layout's dims. With WeightsFormat, the weights' labels
 * say which of Y's dimensions they run along; without one: Y's shape (element weights), the
 * same rank as Y and broadcastable to it, one element (a scalar), or a vector whose length is
 * the size of Y's 'C' dimension (class weights) or 'B' dimension (observation weights).
 */
function weightsView(fn: string, w: Tensor, wfmt: unknown, Y: Tensor, L: Layout): Tensor {
  if (wfmt !== undefined) {
    const W = layoutOf(fn, 'WeightsFormat', wfmt, w.dims);
    const target = new Array<number>(L.dims.length).fill(1);
    const place: number[] = [];
    const seen: Record<string, number> = {};
    [...W.fmt].forEach((label, j) => {
      const k = seen[label] ?? 0;
      seen[label] = k + 1;
      let p = -1;
      for (let i = 0, n = 0; i < L.fmt.length; i++) if (L.fmt[i] === label && n++ === k) { p = i; break; }
      if (p < 0) {
        throw new ValueError(`${fn}: WeightsFormat '${W.fmt}' has ${k + 1 > 1 ? `a ${k + 1}th ` : 'a '}'${label}' dimension but Y's format '${L.fmt}' has ${k === 0 ? 'none' : `only ${k}`}`);
      }
      if (W.dims[j] !== 1 && W.dims[j] !== L.dims[p]) {
        throw new ShapeError(`${fn}: weights of shape ${formatShape(w.dims)} ('${W.fmt}') have ${W.dims[j]} along '${label}' but Y (${formatShape(Y.dims)}, '${L.fmt}') has ${L.dims[p]}`);
      }
      target[p] = W.dims[j];
      place.push(p);
    });
    const order = place.map((p, j) => [p, j]).sort((a, b) => a[0] - b[0]).map(([, j]) => j);
    const padded = w.rank === W.dims.length ? w : reshape(w, W.dims);
    const ordered = order.every((j, i) => j === i) ? padded : permute(padded, order);
    return reshape(ordered, target);
  }
  if (w.numel() === 1) return reshape(w, []);
  if (formatShape(w.dims) === formatShape(Y.dims)) return reshape(w, L.dims);
  if (w.rank === Y.rank && w.rank > 1) {
    broadcastShapes(fn, w.dims, Y.dims, ['weights', 'Y']);
    if (w.dims.every((d, i) => d === 1 || d === Y.dims[i])) return reshape(w, [...w.dims, ...new Array<number>(L.dims.length - w.rank).fill(1)]);
  }
  const nonSingleton = w.dims.filter((d) => d !== 1);
  if (nonSingleton.length === 1) {
    const n = nonSingleton[0];
    const isC = L.C >= 0 && L.dims[L.C] === n, isB = L.B >= 0 && L.dims[L.B] === n;
    if (isC && isB) {
      throw new ValueError(`${fn}: weights of shape ${formatShape(w.dims)} could be class weights ('C') or observation weights ('B'): Y (${formatShape(Y.dims)}, '${L.fmt}') has ${n} of each; ` +
        "say which with WeightsFormat 'C' or 'B'");
    }
    if (isC || isB) {
      const target = new Array<number>(L.dims.length).fill(1);
      target[isC ? L.C : L.B] = n;
      return reshape(w, target);
    }
  }
  throw new ShapeError(`${fn}: weights of shape ${formatShape(w.dims)} fit neither Y's shape ${formatShape(Y.dims)} ('${L.fmt}') nor its 'C' or 'B' dimension; ` +
    'give element weights of Y\'s shape, class weights of the size of C, observation weights of the size of B, or a WeightsFormat');
}

/** The mask as 0/1 of Y's dtype, broadcastable to the layout's dims (MATLAB: logical or 0/1 numeric). */
function maskView(fn: string, m: unknown, Y: Tensor, L: Layout): Tensor {
  let t: Tensor;
  if (m instanceof Tensor) {
    idOf(m, `${fn} (Mask)`);
    const u = unformatted(m);
    t = u.dtype === Y.dtype ? u : u.to(Y.dtype);
  } else if (typeof m === 'boolean' || typeof m === 'number' || Array.isArray(m)) {
    t = tensor(m as NestedArray, { dtype: Y.dtype });
  } else {
    throw new ValueError(`${fn}: Mask must be a Tensor or (nested) arrays of 0/1 or booleans, got ${describeValue(m)}`);
  }
  const values = t.data();
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== 0 && values[i] !== 1) {
      throw new ValueError(`${fn}: Mask must hold 0 and 1 (or booleans), got ${values[i]} at flat index ${i} (Mask has shape ${formatShape(t.dims)})`);
    }
  }
  const padded = t.rank === Y.rank && t.rank < L.dims.length;
  const dims = padded ? [...t.dims, ...new Array<number>(L.dims.length - t.rank).fill(1)] : t.dims;
  const out = broadcastShapes(fn, dims, L.dims, ['Mask', 'Y']);
  if (formatShape(out) !== formatShape(L.dims)) {
    throw new ShapeError(`${fn}: Mask of shape ${formatShape(t.dims)} does not fit Y of shape ${formatShape(Y.dims)}: it must be Y's shape or broadcast to it`);
  }
  return padded ? reshape(t, dims) : t;
}

const NORMALIZATIONS = ['batch-size', 'all-elements', 'mask-included', 'none'] as const;
type Normalization = typeof NORMALIZATIONS[number];

/** The shared reduction: m ⊙ w ⊙ loss, then Reduction and NormalizationFactor (see the file comment). */
function reduceLoss(fn: string, elementwise: Tensor, Y: Tensor, L: Layout, o: {
  weights?: Tensor; mask?: Tensor; reduction: 'sum' | 'none'; normalization: Normalization;
}): Tensor {
  let loss = elementwise;
  if (o.weights) loss = loss.mul(o.weights);
  if (o.mask) loss = loss.mul(o.mask);
  if (o.reduction === 'none') return reshape(formatShape(loss.dims) === formatShape(L.dims) ? loss : broadcastTo(loss, L.dims), Y.dims);
  const N = L.B >= 0 ? L.dims[L.B] : 1;
  switch (o.normalization) {
    case 'none': return loss.sum();
    case 'all-elements': return loss.sum().div(Y.numel());
    case 'batch-size': return loss.sum().div(N);
    case 'mask-included': {
      if (!o.mask) throw new ValueError(`${fn}: NormalizationFactor 'mask-included' needs a Mask`);
      const others = L.dims.map((_, i) => i).filter((i) => i !== L.B);
      const full = formatShape(loss.dims) === formatShape(L.dims) ? loss : broadcastTo(loss, L.dims);
      const perObservation = others.length ? sum(full, others) : full;
      const fullMask = broadcastTo(o.mask, L.dims);
      const counts = others.length ? sum(fullMask, others) : fullMask;
      return perObservation.div(clamp(counts, 1)).sum().div(N);
    }
  }
}

/**
 * Y as an unformatted float tensor (int and bool cast to float32), the temporaries to dispose,
 * and the format Y carried (a formatted dlarray), if any.
 */
function prediction(fn: string, Y: unknown): [Tensor, Tensor[], string | undefined] {
  requireInit(fn);
  if (!(Y instanceof Tensor)) throw new ValueError(`${fn}: Y (the predictions) must be a Tensor, got ${describeValue(Y)}`);
  const own = carriedFormat(Y);
  const [y, temps] = floatOperand(fn, Y, 'Y');
  if (own === undefined) return [y, temps, undefined];
  const plain = reshape(y, y.dims);
  return [plain, [...temps, plain], own];
}

// ————————————————————————————————————————————————————————— option schemas

const dataFormatSpec = {
  /** the labels of Y's dimensions, such as 'CB' (the default for rank <= 2), 'BC', 'SSCB' or 'CBT' */
  DataFormat: opt.any<string>(),
};
const reducedSpecs = {
  ...dataFormatSpec,
  /** 'sum' (default: the reduced, normalized scalar) or 'none' (the element-wise loss, Y's shape) */
  Reduction: opt.any<'sum' | 'none'>(),
  /** 'batch-size' (default), 'all-elements', 'mask-included' or 'none' */
  NormalizationFactor: opt.any<Normalization>(),
  /** 0/1 (or boolean) of Y's shape, or broadcastable to it: the elements to include */
  Mask: opt.any<DataLike | boolean>(),
  /** weights (also MATLAB's positional third argument): element weights of Y's shape, class weights along 'C' or observation weights along 'B' */
  Weights: opt.any<DataLike>(),
  /** the labels of the weights' dimensions, such as 'C', 'B' or 'CB' */
  WeightsFormat: opt.any<string>(),
};

const CROSSENTROPY = options('crossentropy', {
  ...reducedSpecs,
  /** 'single-label' (default: one class per observation) or 'multilabel' (independent classes, binary cross-entropy) */
  ClassificationMode: opt.any<'single-label' | 'multilabel'>(),
  /** MATLAB's older name for ClassificationMode: 'exclusive' (single-label) or 'independent' (multilabel) */
  TargetCategories: opt.any<'exclusive' | 'independent'>(),
});
/** Options of crossentropy: DataFormat, Reduction ('sum' default, 'none'), NormalizationFactor, Mask, Weights, WeightsFormat, ClassificationMode, TargetCategories (MATLAB's name-value arguments). */
export type CrossentropyOptions = OptionsOf<typeof CROSSENTROPY>;

const MSE = options('mse', dataFormatSpec);
/** Options of mse: DataFormat. */
export type MseOptions = OptionsOf<typeof MSE>;

const L1LOSS = options('l1loss', reducedSpecs);
const L2LOSS = options('l2loss', reducedSpecs);
/** Options of l1loss: DataFormat, Reduction ('sum' default, 'none'), NormalizationFactor, Mask, Weights, WeightsFormat. */
export type L1lossOptions = OptionsOf<typeof L1LOSS>;
/** Options of l2loss: DataFormat, Reduction ('sum' default, 'none'), NormalizationFactor, Mask, Weights, WeightsFormat. */
export type L2lossOptions = OptionsOf<typeof L2LOSS>;

const HUBER = options('huber', {
  ...reducedSpecs,
  /** δ, where the loss turns from quadratic to linear (default 1) */
  TransitionPoint: opt.any<number>(),
});
/** Options of huber: TransitionPoint (δ, default 1) and l1loss's options. */
export type MatlabHuberOptions = OptionsOf<typeof HUBER>;

const CTC = options('ctc', {
  ...dataFormatSpec,
  /** where the blank class is along 'C': 'first' (default, channel 0) or 'last' */
  BlankIndex: opt.any<'first' | 'last'>(),
  /** 'mean' (default: the average over observations) or 'sum' */
  Reduction: opt.any<'mean' | 'sum'>(),
});
/** Options of ctc: DataFormat, BlankIndex ('first' default, 'last'), Reduction ('mean' default, 'sum'). */
export type MatlabCtcOptions = OptionsOf<typeof CTC>;

type Reduced = OptionsOf<typeof reducedSpecs>;

/** The common part of crossentropy, l1loss, l2loss and huber: checks, weights, mask, reduction. */
function reduced<M extends SpecMap>(fn: string, schema: OptionSchema<M>, Yin: unknown, targets: unknown, rest: unknown[],
  elementwise: (Y: Tensor, T: Tensor, o: ReturnType<OptionSchema<M>['parse']>) => Tensor): Tensor {
  const [Y, temps, own] = prediction(fn, Yin);
  try {
    const { positional, opts } = splitArgs(fn, schema, rest, 3, 1);
    const o = opts as unknown as Reduced;
    if (positional.length > 0 && o.Weights !== undefined) throw new ValueError(`${fn}: weights are given twice (as argument 3 and as the option Weights)`);
    const reduction = choice(fn, 'Reduction', o.Reduction, ['sum', 'none'] as const, 'sum');
    const normalization = choice(fn, 'NormalizationFactor', o.NormalizationFactor, NORMALIZATIONS, 'batch-size');
    return tidy(() => {
      const L = predictionLayout(fn, Y, o.DataFormat, undefined, own);
      const T = operandLike(fn, targets, 'targets', Y, true, L.fmt);
      const w = positional[0] ?? o.Weights;
      const weights = w === undefined ? undefined
        : weightsView(fn, operandLike(fn, w, 'weights', Y, false), o.WeightsFormat ?? carriedFormat(w), Y, L);
      if (w === undefined && o.WeightsFormat !== undefined) throw new ValueError(`${fn}: WeightsFormat is given but there are no weights`);
      const mask = o.Mask === undefined ? undefined : maskView(fn, o.Mask, Y, L);
      const Yl = Y.rank === L.dims.length ? Y : reshape(Y, L.dims);
      const Tl = T.rank === L.dims.length ? T : reshape(T, L.dims);
      return reduceLoss(fn, elementwise(Yl, Tl, opts), Y, L, { weights, mask, reduction, normalization });
    });
  } finally {
    disposeAll(temps);
  }
}

// ————————————————————————————————————————————————————————— the losses

/** eps(class(Y)): the spacing of floating-point numbers at 1 (MATLAB's eps('single') and eps('double')). */
const epsOf = (dtype: string): number => (dtype === 'float64' ? 2 ** -52 : 2 ** -23);

/**
 * MATLAB's crossentropy(Y, targets) of probabilities Y (softmax output for single-label, sigmoid
 * output for multilabel) against one-hot or binary targets of Y's shape:
 *   single-label  −Σ T·ln(Y) / N
 *   multilabel    −Σ (T·ln(Y) + (1 − T)·ln(1 − Y)) / N
 * with N the observations by default (NormalizationFactor). Call forms: crossentropy(Y, T),
 * crossentropy(Y, T, weights), and either followed by an options object or name-value pairs.
 */
export function crossentropy(Y: Tensor, targets: DataLike, options?: CrossentropyOptions): Tensor;
export function crossentropy(Y: Tensor, targets: DataLike, weights: DataLike, options?: CrossentropyOptions): Tensor;
export function crossentropy(Y: Tensor, targets: DataLike, ...nameValue: unknown[]): Tensor;
export function crossentropy(Y: Tensor, targets: DataLike, ...rest: unknown[]): Tensor {
  const fn = 'crossentropy';
  return reduced(fn, CROSSENTROPY, Y, targets, rest, (y, t, o) => {
    const mode = crossentropyMode(fn, o.ClassificationMode, o.TargetCategories);
    const eps = epsOf(y.dtype);
    const logY = log(clamp(y, eps));
    if (mode === 'single-label') return t.mul(logY).neg();
    const log1mY = log(clamp(y.neg().add(1), eps));
    return t.mul(logY).add(t.neg().add(1).mul(log1mY)).neg();
  });
}

function crossentropyMode(fn: string, mode: unknown, categories: unknown): 'single-label' | 'multilabel' {
  const m = mode === undefined ? undefined : choice(fn, 'ClassificationMode', mode, ['single-label', 'multilabel'] as const, 'single-label');
  const c = categories === undefined ? undefined
    : choice(fn, 'TargetCategories', categories, ['exclusive', 'independent'] as const, 'exclusive') === 'exclusive' ? 'single-label' : 'multilabel';
  if (m !== undefined && c !== undefined && m !== c) {
    throw new ValueError(`${fn}: ClassificationMode '${m}' and TargetCategories '${String(categories)}' disagree; give one of them`);
  }
  return m ?? c ?? 'single-label';
}

/**
 * MATLAB's mse(Y, targets): the half mean squared error Σ (Y − T)² / (2N), N the number of
 * observations (the size of the 'B' dimension; 1 when there is none). Options: DataFormat only,
 * as in MATLAB (use l2loss for weights, masks and other normalizations). Not PyTorch's mse_loss:
 * that is mseLoss.
 */
export function mse(Y: Tensor, targets: DataLike, options?: MseOptions): Tensor;
export function mse(Y: Tensor, targets: DataLike, ...nameValue: unknown[]): Tensor;
export function mse(Y: Tensor, targets: DataLike, ...rest: unknown[]): Tensor {
  const fn = 'mse';
  const [y, temps, own] = prediction(fn, Y);
  try {
    const { opts } = splitArgs(fn, MSE, rest, 3, 0);
    return tidy(() => {
      const L = predictionLayout(fn, y, opts.DataFormat, undefined, own);
      const t = operandLike(fn, targets, 'targets', y, true, L.fmt);
      const N = L.B >= 0 ? L.dims[L.B] : 1;
      return y.sub(t).square().sum().div(2 * N);
    });
  } finally {
    disposeAll(temps);
  }
}

/** MATLAB's l1loss(Y, targets[, weights]): Σ w·|Y − T| / N (N the observations by default: the mean absolute error). */
export function l1loss(Y: Tensor, targets: DataLike, options?: L1lossOptions): Tensor;
export function l1loss(Y: Tensor, targets: DataLike, weights: DataLike, options?: L1lossOptions): Tensor;
export function l1loss(Y: Tensor, targets: DataLike, ...nameValue: unknown[]): Tensor;
export function l1loss(Y: Tensor, targets: DataLike, ...rest: unknown[]): Tensor {
  return reduced('l1loss', L1LOSS, Y, targets, rest, (y, t) => abs(y.sub(t)));
}

/** MATLAB's l2loss(Y, targets[, weights]): Σ w·(Y − T)² / N (N the observations by default; no ½, unlike mse). */
export function l2loss(Y: Tensor, targets: DataLike, options?: L2lossOptions): Tensor;
export function l2loss(Y: Tensor, targets: DataLike, weights: DataLike, options?: L2lossOptions): Tensor;
export function l2loss(Y: Tensor, targets: DataLike, ...nameValue: unknown[]): Tensor;
export function l2loss(Y: Tensor, targets: DataLike, ...rest: unknown[]): Tensor {
  return reduced('l2loss', L2LOSS, Y, targets, rest, (y, t) => y.sub(t).square());
}

/**
 * MATLAB's huber(Y, targets[, weights]): element-wise ½d² where |d| ≤ δ, else δ|d| − ½δ²
 * (d = Y − T, δ = TransitionPoint, default 1), reduced as the other losses (Σ / N by default).
 */
export function huber(Y: Tensor, targets: DataLike, options?: MatlabHuberOptions): Tensor;
export function huber(Y: Tensor, targets: DataLike, weights: DataLike, options?: MatlabHuberOptions): Tensor;
export function huber(Y: Tensor, targets: DataLike, ...nameValue: unknown[]): Tensor;
export function huber(Y: Tensor, targets: DataLike, ...rest: unknown[]): Tensor {
  const fn = 'huber';
  return reduced(fn, HUBER, Y, targets, rest, (y, t, o) => {
    const delta = o.TransitionPoint ?? 1;
    if (typeof delta !== 'number' || !Number.isFinite(delta) || delta <= 0) {
      throw new ValueError(`${fn}: TransitionPoint must be a positive finite number, got ${describeValue(delta)}`);
    }
    const d = y.sub(t), a = abs(d);
    return where(a.le(delta), d.square().mul(0.5), a.mul(delta).sub(0.5 * delta * delta));
  });
}

/** Row lengths of a [B, L] 0/1 mask whose rows are prefixes (ones, then zeros). */
function maskLengths(fn: string, arg: string, m: unknown, B: number, width: number, what: string): number[] {
  let values: ArrayLike<number | boolean>, shape: number[];
  if (m instanceof Tensor) {
    idOf(m, `${fn} (${arg})`);
    values = m.data() as ArrayLike<number>;
    shape = m.shape;
  } else if (Array.isArray(m)) {
    const t = tensor(m as NestedArray, { dtype: 'float64' });
    values = t.data() as Float64Array;
    shape = t.shape;
    t.dispose();
  } else {
    throw new ValueError(`${fn}: ${arg} must be a Tensor or nested arrays of 0/1, got ${describeValue(m)}`);
  }
  if (shape.length !== 2 || shape[0] !== B || shape[1] !== width) {
    throw new ShapeError(`${fn}: ${arg} has shape ${formatShape(shape)} but must be [${B}, ${width}] (observations × ${what})`);
  }
  return Array.from({ length: B }, (_, b) => {
    let n = 0;
    for (let s = 0; s < width; s++) {
      const v = Number(values[b * width + s]);
      if (v !== 0 && v !== 1) throw new ValueError(`${fn}: ${arg} must hold 0 and 1, got ${v} at [${b}, ${s}]`);
      if (v === 1) {
        if (n !== s) throw new ValueError(`${fn}: ${arg} row ${b} is not a prefix (ones, then zeros): it includes position ${s} after excluding ${n}; only right padding is supported`);
        n++;
      }
    }
    return n;
  });
}

/**
 * MATLAB's ctc(Y, targets, YMask, targetsMask): the connectionist temporal classification loss of
 * probabilities Y (softmax over 'C'; DataFormat 'CBT' by default for rank 3: shape [C, B, T])
 * against padded target sequences [B, S] of 0-based class indices (never the blank), with YMask
 * [B, T] and targetsMask [B, S] marking the valid (leading) steps. BlankIndex 'first' (channel 0,
 * default) or 'last'; Reduction 'mean' (default, the average over observations of −ln p) or
 * 'sum'. Not PyTorch's ctcLoss: that takes log-probabilities [T, N, C], and its 'mean' divides by
 * target lengths. First derivatives only, as ctcLoss.
 */
export function ctc(Y: Tensor, targets: DataLike, YMask: DataLike, targetsMask: DataLike, options?: MatlabCtcOptions): Tensor;
export function ctc(Y: Tensor, targets: DataLike, YMask: DataLike, targetsMask: DataLike, ...nameValue: unknown[]): Tensor;
export function ctc(Y: Tensor, targets: DataLike, YMask: DataLike, targetsMask: DataLike, ...rest: unknown[]): Tensor {
  const fn = 'ctc';
  const [y, temps, own] = prediction(fn, Y);
  try {
    const { opts } = splitArgs(fn, CTC, rest, 5, 0);
    const blankAt = choice(fn, 'BlankIndex', opts.BlankIndex, ['first', 'last'] as const, 'first');
    const reduction = choice(fn, 'Reduction', opts.Reduction, ['mean', 'sum'] as const, 'mean');
    const L = predictionLayout(fn, y, opts.DataFormat, 'CBT', own);
    const [c, b, t] = ['C', 'B', 'T'].map((k) => L.fmt.indexOf(k));
    if (c < 0 || b < 0 || t < 0 || L.fmt.length !== 3) {
      throw new ValueError(`${fn}: the DataFormat of Y must have exactly the labels C, B and T (such as 'CBT' or 'TBC'), got '${L.fmt}'`);
    }
    const [C, B, T] = [L.dims[c], L.dims[b], L.dims[t]];
    const blank = blankAt === 'first' ? 0 : C - 1;
    // targets [B, S] of class indices on the host
    let tv: Float64Array, tshape: number[];
    if (targets instanceof Tensor) {
      idOf(targets, `${fn} (targets)`);
      tv = Float64Array.from(targets.data() as ArrayLike<number>);
      tshape = targets.shape;
    } else if (Array.isArray(targets)) {
      const tt = tensor(targets as NestedArray, { dtype: 'float64' });
      tv = tt.data() as Float64Array;
      tshape = tt.shape;
      tt.dispose();
    } else {
      throw new ValueError(`${fn}: targets must be a Tensor or nested arrays of class indices, got ${describeValue(targets)}`);
    }
    if (tshape.length !== 2 || tshape[0] !== B) {
      throw new ShapeError(`${fn}: targets has shape ${formatShape(tshape)} but must be [${B}, S] (one padded target sequence per observation of Y ${formatShape(y.dims)}, '${L.fmt}')`);
    }
    const S = tshape[1];
    const inputLengths = maskLengths(fn, 'YMask', YMask, B, T, 'time steps of Y');
    const targetLengths = maskLengths(fn, 'targetsMask', targetsMask, B, S, 'target positions');
    const padded: number[] = [];
    for (let i = 0; i < B; i++) {
      for (let s = 0; s < S; s++) {
        const v = tv[i * S + s];
        if (s < targetLengths[i]) {
          if (!Number.isInteger(v) || v < 0 || v >= C || v === blank) {
            throw new ValueError(`${fn}: targets[${i}, ${s}] = ${v} is not a class: expected an integer in [0, ${C - 1}] other than the blank ${blank} (BlankIndex '${blankAt}', 0-based)`);
          }
          padded.push(v);
        } else {
          padded.push(v >= 0 && v < C && Number.isInteger(v) && v !== blank ? v : (blank === 0 ? 1 : 0));
        }
      }
    }
    return tidy(() => {
      // [T, B, C] log-probabilities; Y clamped at the dtype's smallest normal number so ln stays finite
      const yTBC = permute(y, [t, b, c]);
      const yc = clamp(yTBC, y.dtype === 'float64' ? 2.2250738585072014e-308 : 1.1754943508222875e-38);
      const perObservation = ctcLoss(log(yc), tensor(padded, { shape: [B, S], dtype: 'int32' }), inputLengths, targetLengths, { reduction: 'none', blank });
      // ctcLoss's VJP and JVP are the true derivatives of its forward, so d/dY is exact for any use of Y.
      return reduction === 'mean' ? perObservation.sum().div(B) : perObservation.sum();
    });
  } finally {
    disposeAll(temps);
  }
}
