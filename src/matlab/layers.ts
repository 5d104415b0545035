// MATLAB's layer constructors (Deep Learning Toolbox): featureInputLayer, imageInputLayer,
// convolution2dLayer, transposedConv2dLayer, batchNormalizationLayer, reluLayer, leakyReluLayer,
// tanhLayer, sigmoidLayer, maxPooling2dLayer, averagePooling2dLayer, fullyConnectedLayer,
// softmaxLayer, dropoutLayer, flattenLayer, and projectAndReshapeLayer (the custom layer MATLAB's
// GAN examples ship as a supporting file).
//
// A layer is a description (its MATLAB properties: Name, FilterSize, NumFilters, Stride, …);
// dlnetwork(layers) (src/matlab/dlnetwork.ts) infers the sizes from the input layer, makes the
// learnables in MATLAB's layouts and runs the layers. Options are one object or MATLAB's
// name-value pairs ('Padding', 'same', 'Name', 'conv1'), names matched case-insensitively.

import { Tensor } from '../tensor.js';
import { ValueError } from '../errors.js';
import { options, opt, describeValue, type OptionSchema, type SpecMap, type OptionsOf } from '../options.js';

// ————————————————————————————————————————————————————————— arguments

/**
 * @internal The options after the positional arguments: nothing, one object, or MATLAB's
 * name-value pairs (names matched to the schema's keys case-insensitively, as MATLAB).
 */
export function layerOptions<M extends SpecMap>(fn: string, schema: OptionSchema<M>, rest: readonly unknown[]): OptionsOf<M> {
  let n = rest.length;
  while (n > 0 && rest[n - 1] === undefined) n--;
  if (n === 0) return schema.parse(undefined, fn) as OptionsOf<M>;
  if (n === 1) {
    if (typeof rest[0] === 'string') throw new ValueError(`${fn}: option '${rest[0]}' has no value (options are one object or MATLAB name-value pairs)`);
    return schema.parse(rest[0], fn) as OptionsOf<M>;
  }
  if (n % 2 !== 0) throw new ValueError(`${fn}: name-value arguments come in pairs; ${describeValue(rest[n - 1])} has no value`);
  const pairs: Record<string, unknown> = {};
  for (let k = 0; k < n; k += 2) {
    const name = rest[k];
    if (typeof name !== 'string') throw new ValueError(`${fn}: expected an option name, got ${describeValue(name)} (options are one object or MATLAB name-value pairs)`);
    const key = schema.keys.find((o) => o === name) ?? schema.keys.find((o) => o.toLowerCase() === name.toLowerCase()) ?? name;
    if (Object.prototype.hasOwnProperty.call(pairs, key)) throw new ValueError(`${fn}: option '${key}' is given twice`);
    pairs[key] = rest[k + 1];
  }
  return schema.parse(pairs, fn) as OptionsOf<M>;
}

function positiveInts(fn: string, what: string, v: unknown, n: number): number[] {
  const list = typeof v === 'number' ? new Array<number>(n).fill(v) : Array.isArray(v) ? [...v] : undefined;
  if (list === undefined || list.length !== n || list.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(`${fn}: ${what} must be a positive integer or ${n} of them, got ${describeValue(v)}${Array.isArray(v) ? ` [${v.join(', ')}]` : ''}`);
  }
  return list;
}

function layerName(fn: string, v: unknown): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new ValueError(`${fn}: Name must be a string, got ${describeValue(v)}`);
  return v;
}

/**
 * MATLAB's 2-D Padding (or transposed convolution's Cropping): 'same', a number (all sides), [a b] (a top and bottom, b left and
 * right) or [t b l r]; returned as dlconv / maxpool take it ('same' or [[t, l], [b, r]]).
 */
function padding2d(fn: string, v: unknown, what = 'Padding'): 'same' | number[][] {
  if (v === undefined) return [[0, 0], [0, 0]];
  if (v === 'same') return 'same';
  const ok = (d: unknown) => Number.isInteger(d) && (d as number) >= 0;
  if (typeof v === 'number' && ok(v)) return [[v, v], [v, v]];
  if (Array.isArray(v) && v.every(ok)) {
    if (v.length === 2) return [[v[0], v[1]], [v[0], v[1]]];
    if (v.length === 4) return [[v[0], v[2]], [v[1], v[3]]];
  }
  throw new ValueError(`${fn}: ${what} must be 'same', a non-negative integer, [a b] or [t b l r], got ${describeValue(v)}${Array.isArray(v) ? ` [${v.join(', ')}]` : ''}`);
}

function numberIn(fn: string, what: string, v: unknown, dflt: number, ok: (x: number) => boolean, rule: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !ok(v)) throw new ValueError(`${fn}: ${what} must be ${rule}, got ${describeValue(v)}`);
  return v;
}

// ————————————————————————————————————————————————————————— layers

/** What every MATLAB layer has: its Name ('' until dlnetwork names it) and its kind. */
export abstract class Layer {
  /** the layer's name; '' gives MATLAB's default ('conv', 'conv_1', …) in dlnetwork */
  Name: string;
  /** @internal the default name's stem ('conv', 'fc', …) */
  abstract readonly _defaultName: string;
  /** @internal */
  constructor(name: string) { this.Name = name; }
  /** MATLAB's class name ('Convolution2DLayer', …) */
  abstract readonly Type: string;
  /** the layer's input ports (MATLAB's InputNames): 'in' for most layers, 'in1' … 'inN' for layers that merge, none for an input layer */
  get InputNames(): string[] { return ['in']; }
  /** the number of input ports (MATLAB's NumInputs) */
  get NumInputs(): number { return this.InputNames.length; }
  /** the layer's output ports (MATLAB's OutputNames): 'out' */
  get OutputNames(): string[] { return ['out']; }
  /** the number of output ports (MATLAB's NumOutputs) */
  get NumOutputs(): number { return 1; }
}

const nameSpec = { /** the layer's name (default: MATLAB's, given by dlnetwork) */ Name: opt.string };

const normalizationSpecs = {
  ...nameSpec,
  /** 'none' (default here; MATLAB's default 'zerocenter' computes the mean from training data), 'zerocenter' or 'zscore' */
  Normalization: opt.oneOf('none', 'zerocenter', 'zscore'),
  /** the mean for 'zerocenter' / 'zscore': a Tensor or number (the input size, or one per channel) */
  Mean: opt.any<Tensor | number | number[]>(),
  /** the standard deviation for 'zscore' */
  StandardDeviation: opt.any<Tensor | number | number[]>(),
};

/** An input layer: the size of one observation and its format. */
export abstract class InputLayer extends Layer {
  /** the size of one observation ([h, w, c] or [n]) */
  abstract readonly InputSize: readonly number[];
  /** @internal the format of the layer's input ('SSCB', 'CB') */
  abstract readonly _format: string;
  /** the input normalisation ('none' default here) */
  readonly Normalization: 'none' | 'zerocenter' | 'zscore';
  /** the mean for 'zerocenter' / 'zscore' */
  readonly Mean: Tensor | number | number[] | undefined;
  /** the standard deviation for 'zscore' */
  readonly StandardDeviation: Tensor | number | number[] | undefined;
  /** an input layer has no input ports */
  get InputNames(): string[] { return []; }
  /** @internal */
  constructor(fn: string, o: OptionsOf<typeof normalizationSpecs>) {
    super(layerName(fn, o.Name));
    this.Normalization = o.Normalization ?? 'none';
    this.Mean = o.Mean;
    this.StandardDeviation = o.StandardDeviation;
    const value = (v: unknown) => v instanceof Tensor || typeof v === 'number' || (Array.isArray(v) && v.every((x) => typeof x === 'number'));
    if (this.Normalization !== 'none' && !value(this.Mean)) {
      throw new ValueError(`${fn}: Normalization '${this.Normalization}' needs the Mean option (a Tensor or numbers: wasmgrad does not compute it from training data), got ${describeValue(this.Mean)}`);
    }
    if (this.Normalization === 'zscore' && !value(this.StandardDeviation)) {
      throw new ValueError(`${fn}: Normalization 'zscore' needs the StandardDeviation option (a Tensor or numbers), got ${describeValue(this.StandardDeviation)}`);
    }
  }
}

const IMAGE_INPUT = options('imageInputLayer', normalizationSpecs);
const FEATURE_INPUT = options('featureInputLayer', normalizationSpecs);
const SEQUENCE_INPUT = options('sequenceInputLayer', normalizationSpecs);

/** MATLAB's ImageInputLayer: observations h × w × c, input 'SSCB'. */
export class ImageInputLayer extends InputLayer {
  readonly _defaultName = 'imageinput'; /** MATLAB's class name */ readonly Type = 'ImageInputLayer';
  readonly _format = 'SSCB';
  /** [h, w, c] */
  readonly InputSize: readonly number[];
  /** @internal use the function of the layer's name */
  constructor(inputSize: number[], o: OptionsOf<typeof normalizationSpecs>) {
    super('imageInputLayer', o);
    if (!Array.isArray(inputSize) || (inputSize.length !== 2 && inputSize.length !== 3)) {
      throw new ValueError(`imageInputLayer: inputSize must be [h w] or [h w c], got ${describeValue(inputSize)}`);
    }
    const s = positiveInts('imageInputLayer', 'inputSize', inputSize, inputSize.length);
    this.InputSize = s.length === 2 ? [...s, 1] : s;
  }
}

/** MATLAB's FeatureInputLayer: observations of numFeatures values, input 'CB'. */
export class FeatureInputLayer extends InputLayer {
  readonly _defaultName = 'input'; /** MATLAB's class name */ readonly Type = 'FeatureInputLayer';
  readonly _format = 'CB';
  /** [numFeatures] */
  readonly InputSize: readonly number[];
  /** @internal use the function of the layer's name */
  constructor(numFeatures: number, o: OptionsOf<typeof normalizationSpecs>) {
    super('featureInputLayer', o);
    this.InputSize = positiveInts('featureInputLayer', 'numFeatures', numFeatures, 1);
  }
}

/** MATLAB's SequenceInputLayer for vector sequences: observations of inputSize values at each time step, input 'CBT'. */
export class SequenceInputLayer extends InputLayer {
  readonly _defaultName = 'sequenceinput'; /** MATLAB's class name */ readonly Type = 'SequenceInputLayer';
  readonly _format = 'CBT';
  /** [inputSize] */
  readonly InputSize: readonly number[];
  /** @internal use the function of the layer's name */
  constructor(inputSize: number, o: OptionsOf<typeof normalizationSpecs>) {
    super('sequenceInputLayer', o);
    if (Array.isArray(inputSize)) {
      throw new ValueError(`sequenceInputLayer: inputSize must be the number of features of a vector sequence; wasmgrad does not take image sequences ([${inputSize.join(' ')}]) yet`);
    }
    this.InputSize = positiveInts('sequenceInputLayer', 'inputSize', inputSize, 1);
  }
}

/**
 * MATLAB's sequenceInputLayer(inputSize): vector sequences, the network's input 'CBT'
 * (inputSize × B × T; an unformatted input is labelled so). Normalization as featureInputLayer.
 */
export function sequenceInputLayer(inputSize: number, ...opts: unknown[]): SequenceInputLayer {
  return new SequenceInputLayer(inputSize, layerOptions('sequenceInputLayer', SEQUENCE_INPUT, opts));
}

/**
 * MATLAB's imageInputLayer(inputSize): inputSize [h w c] (or [h w]: one channel); the network's
 * input is 'SSCB' (an unformatted input is labelled so). Normalization 'none' is the default here
 * (MATLAB's 'zerocenter' computes the mean from the training data); 'zerocenter' and 'zscore'
 * take the given Mean (and StandardDeviation): the input size or one value per channel.
 */
export function imageInputLayer(inputSize: number[], ...opts: unknown[]): ImageInputLayer {
  return new ImageInputLayer(inputSize, layerOptions('imageInputLayer', IMAGE_INPUT, opts));
}

/** MATLAB's featureInputLayer(numFeatures): input 'CB'; Normalization as imageInputLayer. */
export function featureInputLayer(numFeatures: number, ...opts: unknown[]): FeatureInputLayer {
  return new FeatureInputLayer(numFeatures, layerOptions('featureInputLayer', FEATURE_INPUT, opts));
}

const initSpecs = {
  /** 'glorot' (default), 'he', 'narrow-normal', 'zeros' or 'ones' */
  WeightsInitializer: opt.oneOf('glorot', 'he', 'narrow-normal', 'zeros', 'ones'),
  /** 'zeros' (default), 'ones' or 'narrow-normal' */
  BiasInitializer: opt.oneOf('zeros', 'ones', 'narrow-normal'),
};
/** How a layer's weights start (MATLAB's WeightsInitializer names). */
export type WeightsInitializer = 'glorot' | 'he' | 'narrow-normal' | 'zeros' | 'ones';
/** How a layer's bias starts (MATLAB's BiasInitializer names). */
export type BiasInitializer = 'zeros' | 'ones' | 'narrow-normal';

const CONV2D = options('convolution2dLayer', {
  ...nameSpec,
  ...initSpecs,
  /** step between windows: a number or [sh sw] (default 1) */
  Stride: opt.any<number | number[]>(),
  /** spacing of the filter taps: a number or [dh dw] (default 1) */
  DilationFactor: opt.any<number | number[]>(),
  /** 0 (default), 'same', a number, [a b] (top/bottom, left/right) or [t b l r] */
  Padding: opt.any<'same' | number | number[]>(),
});

/** MATLAB's Convolution2DLayer: Weights filterH × filterW × numChannels × numFilters, Bias 1 × 1 × numFilters. */
export class Convolution2DLayer extends Layer {
  readonly _defaultName = 'conv'; /** MATLAB's class name */ readonly Type = 'Convolution2DLayer';
  /** [filterH, filterW] */
  readonly FilterSize: readonly number[];
  /** the number of filters (output channels) */
  readonly NumFilters: number;
  /** [sh, sw] (default [1, 1]) */
  readonly Stride: readonly number[];
  /** [dh, dw] (default [1, 1]) */
  readonly DilationFactor: readonly number[];
  /** 'same' or [[top, left], [bottom, right]] */
  readonly Padding: 'same' | number[][];
  /** how the weights start ('glorot' default) */
  readonly WeightsInitializer: WeightsInitializer;
  /** how the bias starts ('zeros' default) */
  readonly BiasInitializer: BiasInitializer;
  /** set by dlnetwork from the input */
  NumChannels: number | 'auto' = 'auto';
  /** @internal use the function of the layer's name */
  constructor(filterSize: number | number[], numFilters: number, o: OptionsOf<typeof CONV2D.specs>) {
    const fn = 'convolution2dLayer';
    super(layerName(fn, o.Name));
    this.FilterSize = positiveInts(fn, 'filterSize', filterSize, 2);
    this.NumFilters = positiveInts(fn, 'numFilters', numFilters, 1)[0];
    this.Stride = positiveInts(fn, 'Stride', o.Stride ?? 1, 2);
    this.DilationFactor = positiveInts(fn, 'DilationFactor', o.DilationFactor ?? 1, 2);
    this.Padding = padding2d(fn, o.Padding);
    this.WeightsInitializer = o.WeightsInitializer ?? 'glorot';
    this.BiasInitializer = o.BiasInitializer ?? 'zeros';
  }
}

/**
 * MATLAB's convolution2dLayer(filterSize, numFilters): filterSize a number or [h w]; options
 * Stride, DilationFactor, Padding (0, 'same', a number, [a b], [t b l r]), WeightsInitializer
 * ('glorot'), BiasInitializer ('zeros'), Name. The number of channels comes from the input.
 */
export function convolution2dLayer(filterSize: number | number[], numFilters: number, ...opts: unknown[]): Convolution2DLayer {
  return new Convolution2DLayer(filterSize, numFilters, layerOptions('convolution2dLayer', CONV2D, opts));
}

const BATCHNORM_LAYER = options('batchNormalizationLayer', {
  ...nameSpec,
  /** added to the variance (default 1e-5) */
  Epsilon: opt.number,
  /** φ of the running mean's update (default 0.1) */
  MeanDecay: opt.number,
  /** φ of the running variance's update (default 0.1) */
  VarianceDecay: opt.number,
});

/** MATLAB's BatchNormalizationLayer: Offset and Scale (learnables), TrainedMean and TrainedVariance (state), one per channel. */
export class BatchNormalizationLayer extends Layer {
  readonly _defaultName = 'batchnorm'; /** MATLAB's class name */ readonly Type = 'BatchNormalizationLayer';
  /** added to the variance (default 1e-5) */
  readonly Epsilon: number;
  /** φ of the running mean's update (default 0.1) */
  readonly MeanDecay: number;
  /** φ of the running variance's update (default 0.1) */
  readonly VarianceDecay: number;
  /** set by dlnetwork from the input */
  NumChannels: number | 'auto' = 'auto';
  /** @internal use the function of the layer's name */
  constructor(o: OptionsOf<typeof BATCHNORM_LAYER.specs>) {
    const fn = 'batchNormalizationLayer';
    super(layerName(fn, o.Name));
    this.Epsilon = numberIn(fn, 'Epsilon', o.Epsilon, 1e-5, (x) => x > 0 && Number.isFinite(x), 'a positive number');
    this.MeanDecay = numberIn(fn, 'MeanDecay', o.MeanDecay, 0.1, (x) => x >= 0 && x <= 1, 'in [0, 1]');
    this.VarianceDecay = numberIn(fn, 'VarianceDecay', o.VarianceDecay, 0.1, (x) => x >= 0 && x <= 1, 'in [0, 1]');
  }
}

/** MATLAB's batchNormalizationLayer(): per channel, Offset 0, Scale 1, TrainedMean 0, TrainedVariance 1; options Epsilon, MeanDecay, VarianceDecay, Name. */
export function batchNormalizationLayer(...opts: unknown[]): BatchNormalizationLayer {
  return new BatchNormalizationLayer(layerOptions('batchNormalizationLayer', BATCHNORM_LAYER, opts));
}

const RELU_LAYER = options('reluLayer', nameSpec);
const LEAKY_RELU_LAYER = options('leakyReluLayer', nameSpec);
const SOFTMAX_LAYER = options('softmaxLayer', nameSpec);
const FLATTEN_LAYER = options('flattenLayer', nameSpec);
const DROPOUT_LAYER = options('dropoutLayer', nameSpec);

/** MATLAB's ReLULayer. */
export class ReLULayer extends Layer { readonly _defaultName = 'relu'; /** MATLAB's class name */ readonly Type = 'ReLULayer'; }
/** MATLAB's LeakyReLULayer: x for x > 0, Scale·x otherwise. */
export class LeakyReLULayer extends Layer {
  readonly _defaultName = 'leakyrelu'; /** MATLAB's class name */ readonly Type = 'LeakyReLULayer';
  /** the slope for x < 0 */
  readonly Scale: number;
  /** @internal use leakyReluLayer(scale) */
  constructor(name: string, scale: number) { super(name); this.Scale = scale; }
}
/** MATLAB's SoftmaxLayer: softmax over 'C'. */
export class SoftmaxLayer extends Layer { readonly _defaultName = 'softmax'; /** MATLAB's class name */ readonly Type = 'SoftmaxLayer'; }
/** MATLAB's FlattenLayer: the 'S' and 'C' dims into one 'C' dim. */
export class FlattenLayer extends Layer { readonly _defaultName = 'flatten'; /** MATLAB's class name */ readonly Type = 'FlattenLayer'; }
/** MATLAB's DropoutLayer: drops with Probability while training (forward), the identity in predict. */
export class DropoutLayer extends Layer {
  readonly _defaultName = 'dropout'; /** MATLAB's class name */ readonly Type = 'DropoutLayer';
  /** the probability of dropping an element */
  readonly Probability: number;
  /** @internal use dropoutLayer(p) */
  constructor(name: string, p: number) { super(name); this.Probability = p; }
}

/** MATLAB's reluLayer(). */
export function reluLayer(...opts: unknown[]): ReLULayer {
  return new ReLULayer(layerName('reluLayer', layerOptions('reluLayer', RELU_LAYER, opts).Name));
}

/** MATLAB's leakyReluLayer(scale = 0.01). */
export function leakyReluLayer(...args: unknown[]): LeakyReLULayer {
  const fn = 'leakyReluLayer';
  const scale = typeof args[0] === 'number' ? args.shift() as number : 0.01;
  if (!Number.isFinite(scale)) throw new ValueError(`${fn}: scale must be a finite number, got ${scale}`);
  return new LeakyReLULayer(layerName(fn, layerOptions(fn, LEAKY_RELU_LAYER, args).Name), scale);
}

/** MATLAB's softmaxLayer(). */
export function softmaxLayer(...opts: unknown[]): SoftmaxLayer {
  return new SoftmaxLayer(layerName('softmaxLayer', layerOptions('softmaxLayer', SOFTMAX_LAYER, opts).Name));
}

/** MATLAB's flattenLayer(): h × w × c × B ('SSCB') to (h·w·c) × B ('CB'), flattened row-major as fullyconnect's weights. */
export function flattenLayer(...opts: unknown[]): FlattenLayer {
  return new FlattenLayer(layerName('flattenLayer', layerOptions('flattenLayer', FLATTEN_LAYER, opts).Name));
}

/** MATLAB's dropoutLayer(probability = 0.5). */
export function dropoutLayer(...args: unknown[]): DropoutLayer {
  const fn = 'dropoutLayer';
  const p = typeof args[0] === 'number' ? args.shift() as number : 0.5;
  if (!(p >= 0 && p < 1)) throw new ValueError(`${fn}: probability must be in [0, 1), got ${p}`);
  return new DropoutLayer(layerName(fn, layerOptions(fn, DROPOUT_LAYER, args).Name), p);
}

const poolSpecs = {
  ...nameSpec,
  /** step between windows: a number or [sh sw] (default 1, as MATLAB) */
  Stride: opt.any<number | number[]>(),
  /** 0 (default), 'same', a number, [a b] or [t b l r] */
  Padding: opt.any<'same' | number | number[]>(),
};
const MAXPOOL_LAYER = options('maxPooling2dLayer', poolSpecs);
const AVGPOOL_LAYER = options('averagePooling2dLayer', poolSpecs);

/** MATLAB's MaxPooling2DLayer and AveragePooling2DLayer. */
export class Pooling2DLayer extends Layer {
  readonly _defaultName: string;
  /** [poolH, poolW] */
  readonly PoolSize: readonly number[];
  /** [sh, sw] (default [1, 1]) */
  readonly Stride: readonly number[];
  /** 'same' or [[top, left], [bottom, right]] */
  readonly Padding: 'same' | number[][];
  /** 'max' or 'average' */
  readonly Mode: 'max' | 'average';
  /** 'MaxPooling2DLayer' or 'AveragePooling2DLayer' */
  readonly Type: string;
  /** @internal use maxPooling2dLayer / averagePooling2dLayer */
  constructor(fn: string, mode: 'max' | 'average', poolSize: number | number[], o: OptionsOf<typeof poolSpecs>) {
    super(layerName(fn, o.Name));
    this.Mode = mode;
    this.Type = mode === 'max' ? 'MaxPooling2DLayer' : 'AveragePooling2DLayer';
    this._defaultName = mode === 'max' ? 'maxpool' : 'avgpool';
    this.PoolSize = positiveInts(fn, 'poolSize', poolSize, 2);
    this.Stride = positiveInts(fn, 'Stride', o.Stride ?? 1, 2);
    this.Padding = padding2d(fn, o.Padding);
  }

}

/** MATLAB's maxPooling2dLayer(poolSize): options Stride (default 1, as MATLAB), Padding, Name. */
export function maxPooling2dLayer(poolSize: number | number[], ...opts: unknown[]): Pooling2DLayer {
  return new Pooling2DLayer('maxPooling2dLayer', 'max', poolSize, layerOptions('maxPooling2dLayer', MAXPOOL_LAYER, opts));
}

/** MATLAB's averagePooling2dLayer(poolSize): options Stride (default 1), Padding (zeros counted in the mean), Name. */
export function averagePooling2dLayer(poolSize: number | number[], ...opts: unknown[]): Pooling2DLayer {
  return new Pooling2DLayer('averagePooling2dLayer', 'average', poolSize, layerOptions('averagePooling2dLayer', AVGPOOL_LAYER, opts));
}

const FC_LAYER = options('fullyConnectedLayer', { ...nameSpec, ...initSpecs });

/** MATLAB's FullyConnectedLayer: Weights outputSize × inputSize, Bias outputSize × 1. */
export class FullyConnectedLayer extends Layer {
  readonly _defaultName = 'fc'; /** MATLAB's class name */ readonly Type = 'FullyConnectedLayer';
  /** the number of outputs */
  readonly OutputSize: number;
  /** how the weights start ('glorot' default) */
  readonly WeightsInitializer: WeightsInitializer;
  /** how the bias starts ('zeros' default) */
  readonly BiasInitializer: BiasInitializer;
  /** set by dlnetwork from the input (the product of its 'S' and 'C' sizes) */
  InputSize: number | 'auto' = 'auto';
  /** @internal use the function of the layer's name */
  constructor(outputSize: number, o: OptionsOf<typeof FC_LAYER.specs>) {
    const fn = 'fullyConnectedLayer';
    super(layerName(fn, o.Name));
    this.OutputSize = positiveInts(fn, 'outputSize', outputSize, 1)[0];
    this.WeightsInitializer = o.WeightsInitializer ?? 'glorot';
    this.BiasInitializer = o.BiasInitializer ?? 'zeros';
  }
}

/**
 * MATLAB's fullyConnectedLayer(outputSize): Weights [outputSize, inputSize] with inputSize the
 * product of the input's 'S' and 'C' sizes (flattened row-major, as fullyconnect reads them);
 * options WeightsInitializer ('glorot'), BiasInitializer ('zeros'), Name.
 */
export function fullyConnectedLayer(outputSize: number, ...opts: unknown[]): FullyConnectedLayer {
  return new FullyConnectedLayer(outputSize, layerOptions('fullyConnectedLayer', FC_LAYER, opts));
}

const TRANSPOSED_CONV2D = options('transposedConv2dLayer', {
  ...nameSpec,
  ...initSpecs,
  /** upsampling factor: a number or [sh sw] (default 1) */
  Stride: opt.any<number | number[]>(),
  /** output cropping: 0 (default), 'same' (output = input·Stride), a number, [a b] (top/bottom, left/right) or [t b l r] */
  Cropping: opt.any<'same' | number | number[]>(),
});

/**
 * MATLAB's TransposedConvolution2DLayer: Weights filterH × filterW × numFilters × numChannels
 * (MATLAB's order for transposed convolution: filters before channels), Bias 1 × 1 × numFilters.
 */
export class TransposedConvolution2DLayer extends Layer {
  readonly _defaultName = 'transconv'; /** MATLAB's class name */ readonly Type = 'TransposedConvolution2DLayer';
  /** [filterH, filterW] */
  readonly FilterSize: readonly number[];
  /** the number of filters (output channels) */
  readonly NumFilters: number;
  /** [sh, sw] (default [1, 1]) */
  readonly Stride: readonly number[];
  /** 'same' or [[top, left], [bottom, right]] */
  readonly Cropping: 'same' | number[][];
  /** 'same' when Cropping is 'same', 'manual' otherwise (MATLAB's CroppingMode) */
  readonly CroppingMode: 'same' | 'manual';
  /** how the weights start ('glorot' default) */
  readonly WeightsInitializer: WeightsInitializer;
  /** how the bias starts ('zeros' default) */
  readonly BiasInitializer: BiasInitializer;
  /** set by dlnetwork from the input */
  NumChannels: number | 'auto' = 'auto';
  /** @internal use the function of the layer's name */
  constructor(filterSize: number | number[], numFilters: number, o: OptionsOf<typeof TRANSPOSED_CONV2D.specs>) {
    const fn = 'transposedConv2dLayer';
    super(layerName(fn, o.Name));
    this.FilterSize = positiveInts(fn, 'filterSize', filterSize, 2);
    this.NumFilters = positiveInts(fn, 'numFilters', numFilters, 1)[0];
    this.Stride = positiveInts(fn, 'Stride', o.Stride ?? 1, 2);
    this.Cropping = padding2d(fn, o.Cropping, 'Cropping');
    this.CroppingMode = this.Cropping === 'same' ? 'same' : 'manual';
    this.WeightsInitializer = o.WeightsInitializer ?? 'glorot';
    this.BiasInitializer = o.BiasInitializer ?? 'zeros';
  }
}

/**
 * MATLAB's transposedConv2dLayer(filterSize, numFilters): upsamples 'SSCB' data (the transpose
 * of convolution2dLayer's map); each output is (input − 1)·Stride + filterSize − the cropping.
 * Options Stride, Cropping (0, 'same': output = input·Stride, a number, [a b] or [t b l r]),
 * WeightsInitializer ('glorot'), BiasInitializer ('zeros'), Name.
 */
export function transposedConv2dLayer(filterSize: number | number[], numFilters: number, ...opts: unknown[]): TransposedConvolution2DLayer {
  return new TransposedConvolution2DLayer(filterSize, numFilters, layerOptions('transposedConv2dLayer', TRANSPOSED_CONV2D, opts));
}

const TANH_LAYER = options('tanhLayer', nameSpec);
const SIGMOID_LAYER = options('sigmoidLayer', nameSpec);

/** MATLAB's TanhLayer: tanh, elementwise. */
export class TanhLayer extends Layer { readonly _defaultName = 'tanh'; /** MATLAB's class name */ readonly Type = 'TanhLayer'; }
/** MATLAB's SigmoidLayer: 1 / (1 + e^−x), elementwise. */
export class SigmoidLayer extends Layer { readonly _defaultName = 'sigmoid'; /** MATLAB's class name */ readonly Type = 'SigmoidLayer'; }

/** MATLAB's tanhLayer(). */
export function tanhLayer(...opts: unknown[]): TanhLayer {
  return new TanhLayer(layerName('tanhLayer', layerOptions('tanhLayer', TANH_LAYER, opts).Name));
}

/** MATLAB's sigmoidLayer(). */
export function sigmoidLayer(...opts: unknown[]): SigmoidLayer {
  return new SigmoidLayer(layerName('sigmoidLayer', layerOptions('sigmoidLayer', SIGMOID_LAYER, opts).Name));
}

const PROJECT_RESHAPE = options('projectAndReshapeLayer', nameSpec);

/**
 * The projectAndReshapeLayer of MATLAB's GAN examples (a custom layer in their supporting
 * files): fullyconnect to prod(OutputSize) values, then MATLAB's column-major reshape to
 * OutputSize(1) × OutputSize(2) × OutputSize(3) × B, labelled 'SSCB'. Weights
 * prod(OutputSize) × numChannels (Glorot), Bias prod(OutputSize) × 1 (zeros).
 */
export class ProjectAndReshapeLayer extends Layer {
  readonly _defaultName = 'proj'; /** the custom layer's Type */ readonly Type = 'Project and Reshape';
  /** [h, w, c] */
  readonly OutputSize: readonly number[];
  /** the custom layer's Description */
  readonly Description: string;
  /** set by dlnetwork from the input (its 'C' size) */
  NumChannels: number | 'auto' = 'auto';
  /** @internal use projectAndReshapeLayer(outputSize) */
  constructor(outputSize: number[], o: OptionsOf<typeof PROJECT_RESHAPE.specs>) {
    const fn = 'projectAndReshapeLayer';
    super(layerName(fn, o.Name));
    if (!Array.isArray(outputSize) || outputSize.length !== 3) {
      throw new ValueError(`${fn}: outputSize must be [h w c] (three positive integers), got ${describeValue(outputSize)}${Array.isArray(outputSize) ? ` [${outputSize.join(', ')}]` : ''}`);
    }
    this.OutputSize = positiveInts(fn, 'outputSize', outputSize, 3);
    this.Description = `Project and reshape to size ${this.OutputSize.join(' ')}`;
  }
}

/**
 * projectAndReshapeLayer(outputSize) of MATLAB's GAN examples: projects 'CB' input (a noise
 * vector per observation) with a fully connected map and reshapes it to outputSize [h w c] per
 * observation, 'SSCB' out. Option: Name (the custom layer has no other).
 */
export function projectAndReshapeLayer(outputSize: number[], ...opts: unknown[]): ProjectAndReshapeLayer {
  return new ProjectAndReshapeLayer(outputSize, layerOptions('projectAndReshapeLayer', PROJECT_RESHAPE, opts));
}

// ————————————————————————————————————————————————————————— layers that merge branches

const mergeSpecs = { ...nameSpec };
const ADDITION_LAYER = options('additionLayer', mergeSpecs);
const CONCATENATION_LAYER = options('concatenationLayer', mergeSpecs);
const DEPTH_CONCATENATION_LAYER = options('depthConcatenationLayer', mergeSpecs);

const portNames = (n: number): string[] => Array.from({ length: n }, (_, k) => `in${k + 1}`);

function numInputsArg(fn: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 2) throw new ValueError(`${fn}: numInputs must be an integer of at least 2, got ${describeValue(v)}`);
  return v as number;
}

/** A layer with inputs 'in1' … 'inN' (MATLAB's addition and concatenation layers). */
export abstract class MergeLayer extends Layer {
  /** @internal */ readonly _numInputs: number;
  /** @internal */
  constructor(name: string, numInputs: number) { super(name); this._numInputs = numInputs; }
  /** 'in1' … 'inN' */
  get InputNames(): string[] { return portNames(this._numInputs); }
}

/** MATLAB's AdditionLayer: the elementwise sum of its inputs, which have one size and format. */
export class AdditionLayer extends MergeLayer { readonly _defaultName = 'addition'; /** MATLAB's class name */ readonly Type = 'AdditionLayer'; }

/** MATLAB's ConcatenationLayer: its inputs joined along Dim (0-based, as every wasmgrad dim). */
export class ConcatenationLayer extends MergeLayer {
  readonly _defaultName = 'concat'; /** MATLAB's class name */ readonly Type = 'ConcatenationLayer';
  /** the dim to concatenate along, 0-based (MATLAB counts from 1) */
  readonly Dim: number;
  /** @internal use concatenationLayer(dim, numInputs) */
  constructor(name: string, dim: number, numInputs: number) { super(name, numInputs); this.Dim = dim; }
}

/** MATLAB's DepthConcatenationLayer: its inputs joined along 'C'. */
export class DepthConcatenationLayer extends MergeLayer { readonly _defaultName = 'depthcat'; /** MATLAB's class name */ readonly Type = 'DepthConcatenationLayer'; }

/**
 * MATLAB's additionLayer(numInputs): adds its inputs 'in1' … 'inN' elementwise (one size and
 * format). Connect them with connectLayers(lgraph, 'src', 'addition/in2').
 */
export function additionLayer(numInputs: number, ...opts: unknown[]): AdditionLayer {
  const fn = 'additionLayer';
  const n = numInputsArg(fn, numInputs);
  return new AdditionLayer(layerName(fn, layerOptions(fn, ADDITION_LAYER, opts).Name), n);
}

/**
 * MATLAB's concatenationLayer(dim, numInputs): joins its inputs along dim, **0-based** (MATLAB's
 * concatenationLayer(3, 2) on 'SSCB' data, the channels, is concatenationLayer(2, 2) here); the
 * other dims and the formats must agree.
 */
export function concatenationLayer(dim: number, numInputs: number, ...opts: unknown[]): ConcatenationLayer {
  const fn = 'concatenationLayer';
  if (!Number.isInteger(dim) || dim < 0) throw new ValueError(`${fn}: dim must be a non-negative integer (0-based), got ${describeValue(dim)}`);
  const n = numInputsArg(fn, numInputs);
  return new ConcatenationLayer(layerName(fn, layerOptions(fn, CONCATENATION_LAYER, opts).Name), dim, n);
}

/** MATLAB's depthConcatenationLayer(numInputs): joins its inputs along the 'C' (channel) dim. */
export function depthConcatenationLayer(numInputs: number, ...opts: unknown[]): DepthConcatenationLayer {
  const fn = 'depthConcatenationLayer';
  const n = numInputsArg(fn, numInputs);
  return new DepthConcatenationLayer(layerName(fn, layerOptions(fn, DEPTH_CONCATENATION_LAYER, opts).Name), n);
}

// ————————————————————————————————————————————————————————— recurrent layers

/** How recurrent layers' input weights start (MATLAB's InputWeightsInitializer names). */
export type RecurrentWeightsInitializer = 'glorot' | 'he' | 'orthogonal' | 'narrow-normal' | 'zeros' | 'ones';
const weightsKinds = ['glorot', 'he', 'orthogonal', 'narrow-normal', 'zeros', 'ones'] as const;
const recurrentSpecs = {
  ...nameSpec,
  /** 'sequence' (default: the output at every time step, 'CBT') or 'last' (the last step's, 'CB') */
  OutputMode: opt.oneOf('sequence', 'last'),
  /** 'glorot' (default), 'he', 'orthogonal', 'narrow-normal', 'zeros' or 'ones' */
  InputWeightsInitializer: opt.oneOf(...weightsKinds),
  /** 'orthogonal' (default), 'glorot', 'he', 'narrow-normal', 'zeros' or 'ones' */
  RecurrentWeightsInitializer: opt.oneOf(...weightsKinds),
};
const LSTM_LAYER = options('lstmLayer', {
  ...recurrentSpecs,
  /** 'unit-forget-gate' (default: the forget gate's bias 1, the others 0), 'narrow-normal', 'ones' or 'zeros' */
  BiasInitializer: opt.oneOf('unit-forget-gate', 'narrow-normal', 'ones', 'zeros'),
});
const GRU_LAYER = options('gruLayer', {
  ...recurrentSpecs,
  /** 'zeros' (default), 'narrow-normal' or 'ones' */
  BiasInitializer: opt.oneOf('zeros', 'narrow-normal', 'ones'),
  /** where the reset gate acts on the candidate: 'after-multiplication' (default), 'before-multiplication' or 'recurrent-bias-after-multiplication' */
  ResetGateMode: opt.oneOf('after-multiplication', 'before-multiplication', 'recurrent-bias-after-multiplication'),
});

/** What MATLAB's LSTM and GRU layers share. */
export abstract class RecurrentLayer extends Layer {
  /** the number of hidden units H */
  readonly NumHiddenUnits: number;
  /** 'sequence' ('CBT' out) or 'last' ('CB' out) */
  readonly OutputMode: 'sequence' | 'last';
  /** how the input weights start ('glorot' default) */
  readonly InputWeightsInitializer: RecurrentWeightsInitializer;
  /** how the recurrent weights start ('orthogonal' default) */
  readonly RecurrentWeightsInitializer: RecurrentWeightsInitializer;
  /** the state's activation: 'tanh' (the only one wasmgrad has) */
  readonly StateActivationFunction = 'tanh';
  /** the gates' activation: 'sigmoid' (the only one wasmgrad has) */
  readonly GateActivationFunction = 'sigmoid';
  /** how the bias starts */
  abstract readonly BiasInitializer: string;
  /** set by dlnetwork from the input (its 'C' size) */
  InputSize: number | 'auto' = 'auto';
  /** @internal */
  constructor(fn: string, numHiddenUnits: number, o: OptionsOf<typeof recurrentSpecs>) {
    super(layerName(fn, o.Name));
    this.NumHiddenUnits = positiveInts(fn, 'numHiddenUnits', numHiddenUnits, 1)[0];
    this.OutputMode = o.OutputMode ?? 'sequence';
    this.InputWeightsInitializer = o.InputWeightsInitializer ?? 'glorot';
    this.RecurrentWeightsInitializer = o.RecurrentWeightsInitializer ?? 'orthogonal';
  }
}

/**
 * MATLAB's LSTMLayer: InputWeights 4H × C, RecurrentWeights 4H × H and Bias 4H × 1, the gates
 * stacked as MATLAB (and PyTorch) stack them: input i, forget f, cell candidate g, output o.
 * State: HiddenState and CellState, H × 1 (zeros) until forward returns them for a batch.
 */
export class LSTMLayer extends RecurrentLayer {
  readonly _defaultName = 'lstm'; /** MATLAB's class name */ readonly Type = 'LSTMLayer';
  /** how the bias starts ('unit-forget-gate' default) */
  readonly BiasInitializer: 'unit-forget-gate' | 'narrow-normal' | 'ones' | 'zeros';
  /** @internal use lstmLayer(numHiddenUnits) */
  constructor(numHiddenUnits: number, o: OptionsOf<typeof LSTM_LAYER.specs>) {
    super('lstmLayer', numHiddenUnits, o);
    this.BiasInitializer = o.BiasInitializer ?? 'unit-forget-gate';
  }
}

/**
 * MATLAB's GRULayer: InputWeights 3H × C, RecurrentWeights 3H × H and Bias 3H × 1 (and
 * RecurrentBias 3H × 1 with ResetGateMode 'recurrent-bias-after-multiplication'), stacked reset
 * r, update z, candidate h̃. State: HiddenState, H × 1.
 */
export class GRULayer extends RecurrentLayer {
  readonly _defaultName = 'gru'; /** MATLAB's class name */ readonly Type = 'GRULayer';
  /** how the bias starts ('zeros' default) */
  readonly BiasInitializer: 'zeros' | 'narrow-normal' | 'ones';
  /** where the reset gate acts ('after-multiplication' default) */
  readonly ResetGateMode: 'after-multiplication' | 'before-multiplication' | 'recurrent-bias-after-multiplication';
  /** @internal use gruLayer(numHiddenUnits) */
  constructor(numHiddenUnits: number, o: OptionsOf<typeof GRU_LAYER.specs>) {
    super('gruLayer', numHiddenUnits, o);
    this.BiasInitializer = o.BiasInitializer ?? 'zeros';
    this.ResetGateMode = o.ResetGateMode ?? 'after-multiplication';
  }
}

/**
 * MATLAB's lstmLayer(numHiddenUnits): over the 'T' dim of 'CBT' data (a 'CB' input is one
 * time step), with MATLAB's equations
 *   i = σ(W_i x + R_i h + b_i), f = σ(W_f x + R_f h + b_f), g = tanh(W_g x + R_g h + b_g),
 *   o = σ(W_o x + R_o h + b_o), c = f ⊙ c + i ⊙ g, h = o ⊙ tanh(c),
 * starting from the layer's state. Options OutputMode ('sequence' | 'last'),
 * InputWeightsInitializer ('glorot'), RecurrentWeightsInitializer ('orthogonal'),
 * BiasInitializer ('unit-forget-gate'), Name.
 */
export function lstmLayer(numHiddenUnits: number, ...opts: unknown[]): LSTMLayer {
  return new LSTMLayer(numHiddenUnits, layerOptions('lstmLayer', LSTM_LAYER, opts));
}

/**
 * MATLAB's gruLayer(numHiddenUnits): r = σ(W_r x + R_r h + b_r), z = σ(W_z x + R_z h + b_z),
 * the candidate h̃ = tanh(W_h̃ x + b_h̃ + r ⊙ (R_h̃ h)) ('after-multiplication', the default),
 * tanh(W_h̃ x + b_h̃ + R_h̃ (r ⊙ h)) ('before-multiplication') or tanh(W_h̃ x + b_h̃ + r ⊙ (R_h̃ h +
 * b_Rh̃)) with a RecurrentBias added to every gate ('recurrent-bias-after-multiplication'), and
 * h = (1 − z) ⊙ h̃ + z ⊙ h. Options as lstmLayer (BiasInitializer 'zeros'), and ResetGateMode.
 */
export function gruLayer(numHiddenUnits: number, ...opts: unknown[]): GRULayer {
  return new GRULayer(numHiddenUnits, layerOptions('gruLayer', GRU_LAYER, opts));
}
