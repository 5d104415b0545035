// Layers with torch.nn's constructor arguments, parameter names, shapes and default
// initialisation, computing with the op library (linear, conv2d, maxPool2d, lstm, …) so that a
// layer's output and gradients are exactly the op's.

import { Tensor, tensor, type DTypeName } from '../tensor.js';
import { ValueError } from '../errors.js';
import { Module } from './module.js';
import * as init from './init.js';
import { linear } from '../ops/nn-linear.js';
import { conv1d, conv2d, convTranspose2d, type Spatial } from '../ops/conv.js';
import { maxPool2d, avgPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d } from '../ops/pool.js';
import { conv3d, convTranspose3d } from '../ops/conv3d.js';
import { maxPool3d, avgPool3d, adaptiveAvgPool3d, adaptiveMaxPool3d } from '../ops/pool3d.js';
import { embedding } from '../ops/indexing.js';
import { flatten } from '../ops/shape.js';
import { lstm, gru } from '../ops/recurrent.js';
import { multiHeadAttention } from '../ops/attention.js';
import { batchNorm, layerNorm, groupNorm } from '../ops/norm.js';
import { dropout } from '../ops/dropout.js';
import { ShapeError, formatShape } from '../errors.js';
import { writeData } from '../tensor.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';

const factorySpecs = {
  /** the parameters' dtype: 'float32' (default) or 'float64' */
  dtype: opt.any<DTypeName>(),
};
/** Options every layer takes: `dtype` of its parameters, 'float32' (default) or 'float64' (PyTorch: the dtype factory kwarg). */
export type FactoryOptions = OptionsOf<typeof factorySpecs>;

// Every setting is checked when the layer is made, with PyTorch's rules where PyTorch refuses a
// value (at construction or at its first forward): a bad layer fails where it is written, naming
// the layer, the setting and what it got.

/** A setting as a message shows it: a number or a list of numbers as written, anything else described. */
function shown(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return `[${v.join(', ')}]`;
  return describeValue(v);
}
function positiveInt(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValueError(`${layer}: ${name} must be an integer >= 1, got ${shown(v)}`);
  return v;
}
function integer(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ValueError(`${layer}: ${name} must be an integer, got ${shown(v)}`);
  return v;
}
/** A probability in [0, 1] (dropout rates, as PyTorch's 'dropout probability has to be between 0 and 1'). */
function probability(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ValueError(`${layer}: ${name} must be a probability in [0, 1], got ${shown(v)}`);
  return v;
}
/** eps of a normalisation: a finite number > 0. */
function positiveEps(layer: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) throw new ValueError(`${layer}: eps must be a finite number > 0, got ${shown(v)}`);
  return v;
}
/**
 * A per-dim integer setting (kernelSize, stride, padding, dilation, …): one integer >= `min`
 * for every spatial dim, or a list of `nd` of them.
 */
function spatialSetting(layer: string, name: string, v: unknown, nd: number, min: number): number[] {
  const list = typeof v === 'number' ? new Array<number>(nd).fill(v) : Array.isArray(v) ? [...v] : null;
  if (list === null || list.length !== nd || list.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < min)) {
    throw new ValueError(`${layer}: ${name} must be an integer >= ${min} or a list of ${nd === 1 ? 'one' : nd} such integers, got ${shown(v)}`);
  }
  return list;
}
function dtypeOf(layer: string, options: FactoryOptions): DTypeName {
  const d = options.dtype ?? 'float32';
  if (d !== 'float32' && d !== 'float64') throw new ValueError(`${layer}: dtype must be 'float32' or 'float64', got ${describeValue(d)}`);
  return d;
}
const show = (v: Spatial): string => (typeof v === 'number' ? String(v) : `(${v.join(', ')})`);

/** PyTorch's default for weights and biases: U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5). */
function defaultWeight(shape: number[], dtype: DTypeName): Tensor {
  return init.kaimingUniform(shape, { a: Math.sqrt(5), dtype });
}
function defaultBias(n: number, fanIn: number, dtype: DTypeName): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return init.uniformInit([n], -bound, bound, { dtype });
}

/** Returns its input. */
export class Identity extends Module {
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return x; }
}

const LINEAR_OPTIONS = options('nn.Linear', {
  /** learn an additive bias (default true) */
  bias: opt.boolean,
  ...factorySpecs,
});
/** Options of nn.Linear: `bias` (default true) and `dtype`. */
export type LinearOptions = OptionsOf<typeof LINEAR_OPTIONS>;

/**
 * y = x·Wᵀ + b; weight [out, in], bias [out], both ~ U(−1/√in, 1/√in) as PyTorch. x: [*, in] → [*, out]
 * (PyTorch: torch.nn.Linear; MATLAB: fullyConnectedLayer).
 *
 * @example
 * ```ts
 * const fc = new nn.Linear(784, 10);
 * const logits = fc.call(x);          // x: [N, 784] → [N, 10]
 * ```
 */
export class Linear extends Module {
  /**
   * @param inFeatures - the size of each input's last dim
   * @param outFeatures - the size of each output's last dim
   * @param opts - `bias` (default true), `dtype` (default 'float32')
   */
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    if (arguments.length > 3) checkArity('nn.Linear', arguments, 3, 'inFeatures, outFeatures, { bias, dtype }');
    const options = LINEAR_OPTIONS.parse(opts);
    positiveInt('nn.Linear', 'inFeatures', inFeatures);
    positiveInt('nn.Linear', 'outFeatures', outFeatures);
    const dtype = dtypeOf('nn.Linear', options);
    this.registerParameter('weight', defaultWeight([outFeatures, inFeatures], dtype));
    this.registerParameter('bias', options.bias ?? true ? defaultBias(outFeatures, inFeatures, dtype) : null);
  }
  /** the weight parameter (the differentiated stand-in inside valueAndGrad) */
  get weight(): Tensor { return this.param('weight')!; }
  /** the bias parameter, or undefined when made with `bias: false` */
  get bias(): Tensor | undefined { return this.param('bias'); }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return linear(x, this.weight, this.bias); }
  extraRepr(): string { return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this._parameters.get('bias') !== null}`; }
}

const convSpecs = {
  /** the step between windows (default 1) */
  stride: opt.any<Spatial>(),
  /** zeros added on each side, or 'same' / 'valid' (default 0) */
  padding: opt.any<Spatial | 'same' | 'valid'>(),
  /** the spacing of the kernel's taps (default 1) */
  dilation: opt.any<Spatial>(),
  /** blocked connections from input to output channels (default 1) */
  groups: opt.any<number>(),
  /** learn an additive bias (default true) */
  bias: opt.boolean,
  ...factorySpecs,
};
/** Options of nn.Conv1d / nn.Conv2d: stride, padding, dilation, groups, bias, dtype (PyTorch's Conv2d keyword arguments). */
export type ConvLayerOptions = OptionsOf<typeof convSpecs>;
const CONV1D_OPTIONS = options('nn.Conv1d', convSpecs);
const CONV2D_OPTIONS = options('nn.Conv2d', convSpecs);
const CONV3D_OPTIONS = options('nn.Conv3d', convSpecs);

abstract class ConvNd extends Module {
  /** blocked connections from input to output channels (options.groups, default 1) */
  readonly groups: number;
  /**
   * @param inChannels - channels of the input (C)
   * @param outChannels - channels of the output
   * @param kernelSize - the kernel's size, one number or one per spatial dim
   * @param options - the layer's options as given
   */
  constructor(layer: string, readonly inChannels: number, readonly outChannels: number, readonly kernelSize: Spatial, nd: number,
    readonly options: ConvLayerOptions, transposed: boolean) {
    super();
    positiveInt(layer, 'inChannels', inChannels);
    positiveInt(layer, 'outChannels', outChannels);
    this.groups = positiveInt(layer, 'groups', options.groups ?? 1);
    if (inChannels % this.groups !== 0) throw new ValueError(`${layer}: inChannels (${inChannels}) must be divisible by groups (${this.groups})`);
    if (outChannels % this.groups !== 0) throw new ValueError(`${layer}: outChannels (${outChannels}) must be divisible by groups (${this.groups})`);
    const k = spatialSetting(layer, 'kernelSize', kernelSize, nd, 1);
    // PyTorch refuses these in the convolution itself; here at construction.
    const stride = spatialSetting(layer, 'stride', options.stride ?? 1, nd, 1);
    const dilation = spatialSetting(layer, 'dilation', options.dilation ?? 1, nd, 1);
    const padding = options.padding ?? 0;
    if (transposed) {
      if (typeof padding === 'string') throw new ValueError(`${layer}: padding must be an integer >= 0 or a list of ${nd} such integers ('same' and 'valid' are for convolutions), got ${shown(padding)}`);
      spatialSetting(layer, 'padding', padding, nd, 0);
      const outputPadding = spatialSetting(layer, 'outputPadding', (options as ConvTransposeLayerOptions).outputPadding ?? 0, nd, 0);
      outputPadding.forEach((p, i) => {
        if (p >= stride[i] && p >= dilation[i]) {
          throw new ValueError(`${layer}: outputPadding must be smaller than either stride or dilation (as PyTorch), got outputPadding ${shown((options as ConvTransposeLayerOptions).outputPadding)}, stride ${shown(options.stride ?? 1)}, dilation ${shown(options.dilation ?? 1)}`);
        }
      });
    } else if (padding === 'same') {
      if (stride.some((v) => v !== 1)) throw new ValueError(`${layer}: padding 'same' is not supported for strided convolutions (as PyTorch), got stride ${shown(options.stride)}`);
    } else if (padding !== 'valid') {
      if (typeof padding === 'string') throw new ValueError(`${layer}: padding must be 'same', 'valid', an integer >= 0 or a list of ${nd} such integers, got ${shown(padding)}`);
      spatialSetting(layer, 'padding', padding, nd, 0);
    }
    const dtype = dtypeOf(layer, options);
    // weight [out, in/groups, *k] (transposed: [in, out/groups, *k]); fan_in from dims 1…
    const shape = transposed ? [inChannels, outChannels / this.groups, ...k] : [outChannels, inChannels / this.groups, ...k];
    this.registerParameter('weight', defaultWeight(shape, dtype));
    const [fanIn] = init.fanInAndOut(layer, shape);
    this.registerParameter('bias', options.bias ?? true ? defaultBias(outChannels, fanIn, dtype) : null);
  }
  /** the weight parameter (the differentiated stand-in inside valueAndGrad) */
  get weight(): Tensor { return this.param('weight')!; }
  /** the bias parameter, or undefined when made with `bias: false` */
  get bias(): Tensor | undefined { return this.param('bias'); }
  extraRepr(): string {
    const o = this.options;
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernelSize=${show(this.kernelSize)}`];
    if (o.stride !== undefined) parts.push(`stride=${show(o.stride)}`);
    if (o.padding !== undefined) parts.push(`padding=${typeof o.padding === 'string' ? o.padding : show(o.padding)}`);
    if (o.dilation !== undefined) parts.push(`dilation=${show(o.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this._parameters.get('bias') === null) parts.push('bias=false');
    return parts.join(', ');
  }
}

/** 1-D convolution over [N, C, L] (or unbatched [C, L]). */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Spatial, options: ConvLayerOptions = {}) {
    if (arguments.length > 4) checkArity('nn.Conv1d', arguments, 4, 'inChannels, outChannels, kernelSize, options?');
    super('nn.Conv1d', inChannels, outChannels, kernelSize, 1, CONV1D_OPTIONS.parse(options), false);
  }
  forward(x: Tensor): Tensor {
    this._checkAlive('forward');
    const { stride, padding, dilation } = this.options;
    return conv1d(x, this.weight, this.bias, { stride, padding, dilation, groups: this.groups });
  }
}

/** 2-D convolution over [N, C, H, W] (or unbatched [C, H, W]). */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Spatial, options: ConvLayerOptions = {}) {
    if (arguments.length > 4) checkArity('nn.Conv2d', arguments, 4, 'inChannels, outChannels, kernelSize, options?');
    super('nn.Conv2d', inChannels, outChannels, kernelSize, 2, CONV2D_OPTIONS.parse(options), false);
  }
  forward(x: Tensor): Tensor {
    this._checkAlive('forward');
    const { stride, padding, dilation } = this.options;
    return conv2d(x, this.weight, this.bias, { stride, padding, dilation, groups: this.groups });
  }
}

/** 3-D convolution over [N, C, D, H, W] (or unbatched [C, D, H, W]); weight [out, in/groups, kD, kH, kW]. */
export class Conv3d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Spatial, options: ConvLayerOptions = {}) {
    if (arguments.length > 4) checkArity('nn.Conv3d', arguments, 4, 'inChannels, outChannels, kernelSize, options?');
    super('nn.Conv3d', inChannels, outChannels, kernelSize, 3, CONV3D_OPTIONS.parse(options), false);
  }
  forward(x: Tensor): Tensor {
    this._checkAlive('forward');
    const { stride, padding, dilation } = this.options;
    return conv3d(x, this.weight, this.bias, { stride, padding, dilation, groups: this.groups });
  }
}

const convTransposeSpecs = {
  /** the step between the input's positions in the output (default 1) */
  stride: opt.any<Spatial>(),
  /** dilation·(kernelSize − 1) − padding zeros on each side of the input (default 0) */
  padding: opt.any<Spatial>(),
  /** extra size added to one side of the output (default 0) */
  outputPadding: opt.any<Spatial>(),
  /** the spacing of the kernel's taps (default 1) */
  dilation: opt.any<Spatial>(),
  /** blocked connections from input to output channels (default 1) */
  groups: opt.any<number>(),
  /** learn an additive bias (default true) */
  bias: opt.boolean,
  ...factorySpecs,
};
const CONV_TRANSPOSE2D_OPTIONS = options('nn.ConvTranspose2d', convTransposeSpecs);
const CONV_TRANSPOSE3D_OPTIONS = options('nn.ConvTranspose3d', convTransposeSpecs);
/** Options of nn.ConvTranspose2d / nn.ConvTranspose3d: stride, padding, outputPadding, dilation, groups, bias, dtype. */
export type ConvTransposeLayerOptions = OptionsOf<typeof convTransposeSpecs>;

/** 2-D transposed convolution; weight [in, out/groups, kH, kW]. */
export class ConvTranspose2d extends ConvNd {
  /**
   * @param inChannels - channels of the input
   * @param outChannels - channels of the output
   * @param kernelSize - the kernel's size, one number or [kH, kW]
   * @param transposeOptions - stride, padding, outputPadding, dilation, groups, bias, dtype
   */
  constructor(inChannels: number, outChannels: number, kernelSize: Spatial, readonly transposeOptions: ConvTransposeLayerOptions = {}) {
    if (arguments.length > 4) checkArity('nn.ConvTranspose2d', arguments, 4, 'inChannels, outChannels, kernelSize, options?');
    super('nn.ConvTranspose2d', inChannels, outChannels, kernelSize, 2, CONV_TRANSPOSE2D_OPTIONS.parse(transposeOptions) as ConvLayerOptions, true);
  }
  forward(x: Tensor): Tensor {
    this._checkAlive('forward');
    const { stride, padding, outputPadding, dilation } = this.transposeOptions;
    return convTranspose2d(x, this.weight, this.bias, { stride, padding, outputPadding, dilation, groups: this.groups });
  }
}

/** 3-D transposed convolution; weight [in, out/groups, kD, kH, kW]. */
export class ConvTranspose3d extends ConvNd {
  /**
   * @param inChannels - channels of the input
   * @param outChannels - channels of the output
   * @param kernelSize - the kernel's size, one number or [kD, kH, kW]
   * @param transposeOptions - stride, padding, outputPadding, dilation, groups, bias, dtype
   */
  constructor(inChannels: number, outChannels: number, kernelSize: Spatial, readonly transposeOptions: ConvTransposeLayerOptions = {}) {
    if (arguments.length > 4) checkArity('nn.ConvTranspose3d', arguments, 4, 'inChannels, outChannels, kernelSize, options?');
    super('nn.ConvTranspose3d', inChannels, outChannels, kernelSize, 3, CONV_TRANSPOSE3D_OPTIONS.parse(transposeOptions) as ConvLayerOptions, true);
  }
  forward(x: Tensor): Tensor {
    this._checkAlive('forward');
    const { stride, padding, outputPadding, dilation } = this.transposeOptions;
    return convTranspose3d(x, this.weight, this.bias, { stride, padding, outputPadding, dilation, groups: this.groups });
  }
}

const maxPoolLayerSpecs = {
  /** the step between windows (default: the kernel size) */
  stride: opt.any<Spatial>(),
  /** implicit −∞ padding on each side (default 0) */
  padding: opt.any<Spatial>(),
  /** the spacing of the window's elements (default 1) */
  dilation: opt.any<Spatial>(),
  /** round the output size up instead of down (default false) */
  ceilMode: opt.boolean,
};
const MAX_POOL2D_OPTIONS = options('nn.MaxPool2d', maxPoolLayerSpecs);
const MAX_POOL3D_OPTIONS = options('nn.MaxPool3d', maxPoolLayerSpecs);
/** Options of nn.MaxPool2d / nn.MaxPool3d: stride (default the kernel size), padding, dilation, ceilMode. */
export type MaxPoolLayerOptions = OptionsOf<typeof maxPoolLayerSpecs>;

/** A pool's padding: integers >= 0, at most half the kernel size (PyTorch: 'pad should be at most half of kernel size'). */
function poolPadding(layer: string, padding: unknown, kernel: number[], kernelSize: Spatial): void {
  const pad = spatialSetting(layer, 'padding', padding ?? 0, kernel.length, 0);
  if (pad.some((p, i) => p > Math.floor(kernel[i] / 2))) {
    throw new ValueError(`${layer}: padding must be at most half the kernel size (as PyTorch), got padding ${shown(padding)} with kernelSize ${shown(kernelSize)}`);
  }
}

abstract class MaxPoolNd extends Module {
  /** the window's size, one number or one per spatial dim */
  readonly kernelSize: Spatial;
  /** stride (default kernelSize), padding, dilation, ceilMode, as given */
  readonly options: MaxPoolLayerOptions;
  constructor(layer: string, nd: number, kernelSize: Spatial, options: MaxPoolLayerOptions) {
    super();
    this.kernelSize = kernelSize;
    this.options = options;
    const kernel = spatialSetting(layer, 'kernelSize', kernelSize, nd, 1);
    spatialSetting(layer, 'stride', options.stride ?? kernelSize, nd, 1);
    spatialSetting(layer, 'dilation', options.dilation ?? 1, nd, 1);
    poolPadding(layer, options.padding, kernel, kernelSize);
  }
  extraRepr(): string { return `kernelSize=${show(this.kernelSize)}, stride=${show(this.options.stride ?? this.kernelSize)}, padding=${show(this.options.padding ?? 0)}`; }
}

/** 2-D max pooling (stride defaults to the kernel size). */
export class MaxPool2d extends MaxPoolNd {
  /**
   * @param kernelSize - the window's size, one number or [kH, kW]
   * @param options - stride (default kernelSize), padding, dilation, ceilMode
   */
  constructor(kernelSize: Spatial, options: MaxPoolLayerOptions = {}) {
    if (arguments.length > 2) checkArity('nn.MaxPool2d', arguments, 2, 'kernelSize, options?');
    super('nn.MaxPool2d', 2, kernelSize, MAX_POOL2D_OPTIONS.parse(options));
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return maxPool2d(x, this.kernelSize, { ...this.options }); }
}

/** 3-D max pooling over [N, C, D, H, W] (stride defaults to the kernel size). */
export class MaxPool3d extends MaxPoolNd {
  /**
   * @param kernelSize - the window's size, one number or [kD, kH, kW]
   * @param options - stride (default kernelSize), padding, dilation, ceilMode
   */
  constructor(kernelSize: Spatial, options: MaxPoolLayerOptions = {}) {
    if (arguments.length > 2) checkArity('nn.MaxPool3d', arguments, 2, 'kernelSize, options?');
    super('nn.MaxPool3d', 3, kernelSize, MAX_POOL3D_OPTIONS.parse(options));
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return maxPool3d(x, this.kernelSize, { ...this.options }); }
}

const avgPoolLayerSpecs = {
  /** the step between windows (default: the kernel size) */
  stride: opt.any<Spatial>(),
  /** implicit zero padding on each side (default 0) */
  padding: opt.any<Spatial>(),
  /** round the output size up instead of down (default false) */
  ceilMode: opt.boolean,
  /** count the padding zeros in the divisor (default true) */
  countIncludePad: opt.boolean,
  /** divide by this instead of the window size */
  divisorOverride: opt.any<number>(),
};
const AVG_POOL2D_OPTIONS = options('nn.AvgPool2d', avgPoolLayerSpecs);
const AVG_POOL3D_OPTIONS = options('nn.AvgPool3d', avgPoolLayerSpecs);
/** Options of nn.AvgPool2d / nn.AvgPool3d: stride (default the kernel size), padding, ceilMode, countIncludePad, divisorOverride. */
export type AvgPoolLayerOptions = OptionsOf<typeof avgPoolLayerSpecs>;

abstract class AvgPoolNd extends Module {
  /** the window's size, one number or one per spatial dim */
  readonly kernelSize: Spatial;
  /** stride (default kernelSize), padding, ceilMode, countIncludePad, divisorOverride, as given */
  readonly options: AvgPoolLayerOptions;
  constructor(layer: string, nd: number, kernelSize: Spatial, options: AvgPoolLayerOptions) {
    super();
    this.kernelSize = kernelSize;
    this.options = options;
    const kernel = spatialSetting(layer, 'kernelSize', kernelSize, nd, 1);
    spatialSetting(layer, 'stride', options.stride ?? kernelSize, nd, 1);
    poolPadding(layer, options.padding, kernel, kernelSize);
    const divisor = options.divisorOverride;
    if (divisor !== undefined && (typeof divisor !== 'number' || !Number.isInteger(divisor) || divisor === 0)) {
      throw new ValueError(`${layer}: divisorOverride must be a non-zero integer, got ${shown(divisor)}`);
    }
  }
  extraRepr(): string { return `kernelSize=${show(this.kernelSize)}, stride=${show(this.options.stride ?? this.kernelSize)}, padding=${show(this.options.padding ?? 0)}`; }
}

/** 2-D average pooling. */
export class AvgPool2d extends AvgPoolNd {
  /**
   * @param kernelSize - the window's size, one number or [kH, kW]
   * @param options - stride (default kernelSize), padding, ceilMode, countIncludePad, divisorOverride
   */
  constructor(kernelSize: Spatial, options: AvgPoolLayerOptions = {}) {
    if (arguments.length > 2) checkArity('nn.AvgPool2d', arguments, 2, 'kernelSize, options?');
    super('nn.AvgPool2d', 2, kernelSize, AVG_POOL2D_OPTIONS.parse(options));
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return avgPool2d(x, this.kernelSize, { ...this.options }); }
}

/** 3-D average pooling over [N, C, D, H, W]. */
export class AvgPool3d extends AvgPoolNd {
  /**
   * @param kernelSize - the window's size, one number or [kD, kH, kW]
   * @param options - stride (default kernelSize), padding, ceilMode, countIncludePad, divisorOverride
   */
  constructor(kernelSize: Spatial, options: AvgPoolLayerOptions = {}) {
    if (arguments.length > 2) checkArity('nn.AvgPool3d', arguments, 2, 'kernelSize, options?');
    super('nn.AvgPool3d', 3, kernelSize, AVG_POOL3D_OPTIONS.parse(options));
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return avgPool3d(x, this.kernelSize, { ...this.options }); }
}

abstract class AdaptivePoolNd extends Module {
  /** the output's spatial size, one number or one per dim (null keeps that input size) */
  readonly outputSize: number | readonly (number | null)[];
  constructor(layer: string, nd: number, outputSize: number | readonly (number | null)[]) {
    super();
    this.outputSize = outputSize;
    const list = typeof outputSize === 'number' ? new Array<number>(nd).fill(outputSize) : Array.isArray(outputSize) ? outputSize : null;
    if (list === null || list.length !== nd || list.some((o) => o !== null && (typeof o !== 'number' || !Number.isInteger(o) || o < 1))) {
      throw new ValueError(`${layer}: outputSize must be an integer >= 1 or a list of ${nd} (null keeps that input size), got ${shown(outputSize)}`);
    }
  }
  extraRepr(): string { return `outputSize=${JSON.stringify(this.outputSize)}`; }
}

/** Average pooling to a fixed output size (null keeps that dim). */
export class AdaptiveAvgPool2d extends AdaptivePoolNd {
  /** @param outputSize - [H, W] of the output, or one number for both; null keeps that input size */
  constructor(outputSize: number | readonly (number | null)[]) {
    if (arguments.length > 1) checkArity('nn.AdaptiveAvgPool2d', arguments, 1, 'outputSize');
    super('nn.AdaptiveAvgPool2d', 2, outputSize);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return adaptiveAvgPool2d(x, this.outputSize); }
}

/** 3-D average pooling to a fixed output size (null keeps that dim). */
export class AdaptiveAvgPool3d extends AdaptivePoolNd {
  /** @param outputSize - [D, H, W] of the output, or one number for all three; null keeps that input size */
  constructor(outputSize: number | readonly (number | null)[]) {
    if (arguments.length > 1) checkArity('nn.AdaptiveAvgPool3d', arguments, 1, 'outputSize');
    super('nn.AdaptiveAvgPool3d', 3, outputSize);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return adaptiveAvgPool3d(x, this.outputSize); }
}

/** Max pooling to a fixed output size (null keeps that dim); PyTorch's nn.AdaptiveMaxPool2d without return_indices. */
export class AdaptiveMaxPool2d extends AdaptivePoolNd {
  /** @param outputSize - [H, W] of the output, or one number for both; null keeps that input size */
  constructor(outputSize: number | readonly (number | null)[]) {
    if (arguments.length > 1) checkArity('nn.AdaptiveMaxPool2d', arguments, 1, 'outputSize');
    super('nn.AdaptiveMaxPool2d', 2, outputSize);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return adaptiveMaxPool2d(x, this.outputSize); }
}

/** 3-D max pooling to a fixed output size (null keeps that dim); PyTorch's nn.AdaptiveMaxPool3d without return_indices. */
export class AdaptiveMaxPool3d extends AdaptivePoolNd {
  /** @param outputSize - [D, H, W] of the output, or one number for all three; null keeps that input size */
  constructor(outputSize: number | readonly (number | null)[]) {
    if (arguments.length > 1) checkArity('nn.AdaptiveMaxPool3d', arguments, 1, 'outputSize');
    super('nn.AdaptiveMaxPool3d', 3, outputSize);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return adaptiveMaxPool3d(x, this.outputSize); }
}

/** Flattens dims startDim…endDim (default 1…−1, keeping the batch). */
export class Flatten extends Module {
  /**
   * @param startDim - the first dim flattened (default 1, keeping the batch dim)
   * @param endDim - the last dim flattened (default −1)
   */
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
    if (arguments.length > 2) checkArity('nn.Flatten', arguments, 2, 'startDim?, endDim?');
    integer('nn.Flatten', 'startDim', startDim);
    integer('nn.Flatten', 'endDim', endDim);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return flatten(x, this.startDim, this.endDim); }
  extraRepr(): string { return `startDim=${this.startDim}, endDim=${this.endDim}`; }
}

const EMBEDDING_OPTIONS = options('nn.Embedding', {
  /** this row is zero and gets no gradient (default null: none) */
  paddingIdx: opt.any<number | null>(),
  ...factorySpecs,
});
/** Options of nn.Embedding: paddingIdx (default none) and dtype. */
export type EmbeddingLayerOptions = OptionsOf<typeof EMBEDDING_OPTIONS>;

/** A lookup table [numEmbeddings, embeddingDim] ~ N(0, 1), the paddingIdx row zero. */
export class Embedding extends Module {
  /** the row that is zero and gets no gradient (negative indices normalised), or null */
  readonly paddingIdx: number | null;
  /**
   * @param numEmbeddings - the number of rows (the vocabulary size)
   * @param embeddingDim - the size of each row
   * @param opts - paddingIdx (default none), dtype
   */
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: EmbeddingLayerOptions = {}) {
    super();
    if (arguments.length > 3) checkArity('nn.Embedding', arguments, 3, 'numEmbeddings, embeddingDim, options?');
    const options = EMBEDDING_OPTIONS.parse(opts);
    positiveInt('nn.Embedding', 'numEmbeddings', numEmbeddings);
    positiveInt('nn.Embedding', 'embeddingDim', embeddingDim);
    let p = options.paddingIdx ?? null;
    if (p !== null) {
      // PyTorch: 'Padding_idx must be within num_embeddings'
      if (typeof p !== 'number' || !Number.isInteger(p) || p < -numEmbeddings || p >= numEmbeddings) throw new ValueError(`nn.Embedding: paddingIdx must be an integer within [${-numEmbeddings}, ${numEmbeddings - 1}], got ${shown(p)}`);
      if (p < 0) p += numEmbeddings;
    }
    this.paddingIdx = p;
    const dtype = dtypeOf('nn.Embedding', options);
    const w = init.normalInit([numEmbeddings, embeddingDim], 0, 1, { dtype });
    if (p !== null) {
      const data = w.data() as Float32Array | Float64Array;
      data.fill(0, p * embeddingDim, (p + 1) * embeddingDim);
      w.dispose();
      this.registerParameter('weight', tensor(data, { shape: [numEmbeddings, embeddingDim], dtype }));
    } else {
      this.registerParameter('weight', w);
    }
  }
  /** the table [numEmbeddings, embeddingDim] */
  get weight(): Tensor { return this.param('weight')!; }
  forward(indices: Tensor): Tensor { this._checkAlive('forward'); return embedding(indices, this.weight, { paddingIdx: this.paddingIdx }); }
  extraRepr(): string { return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, paddingIdx=${this.paddingIdx}` : ''}`; }
}

const rnnSpecs = {
  /** stacked recurrent layers (default 1) */
  numLayers: opt.any<number>(),
  /** learn the bias_ih and bias_hh vectors (default true) */
  bias: opt.boolean,
  /** input and output are [N, L, H] instead of [L, N, H] (default false) */
  batchFirst: opt.boolean,
  /** dropout on every layer's output but the last, when training (default 0) */
  dropout: opt.any<number>(),
  /** run each layer both ways and concatenate (default false) */
  bidirectional: opt.boolean,
  ...factorySpecs,
};
/** Options of nn.LSTM / nn.GRU: numLayers, bias, batchFirst, dropout, bidirectional, dtype (PyTorch's keyword arguments). */
export type RnnLayerOptions = OptionsOf<typeof rnnSpecs>;
const LSTM_OPTIONS = options('nn.LSTM', rnnSpecs);
const GRU_OPTIONS = options('nn.GRU', rnnSpecs);

abstract class RNNBase extends Module {
  /** stacked recurrent layers (default 1) */
  readonly numLayers: number;
  /** each layer runs both ways, outputs concatenated (default false) */
  readonly bidirectional: boolean;
  /** input and output are [N, L, H] instead of [L, N, H] (default false) */
  readonly batchFirst: boolean;
  /** dropout probability on every layer's output but the last, when training (default 0) */
  readonly dropout: number;
  protected readonly names: string[] = [];
  /**
   * @param inputSize - features of each input step (Hin)
   * @param hiddenSize - features of the hidden state (H)
   * @param options - numLayers, bias, batchFirst, dropout, bidirectional, dtype
   */
  constructor(layer: string, gates: number, readonly inputSize: number, readonly hiddenSize: number, options: RnnLayerOptions) {
    super();
    positiveInt(layer, 'inputSize', inputSize);
    positiveInt(layer, 'hiddenSize', hiddenSize);
    this.numLayers = positiveInt(layer, 'numLayers', options.numLayers ?? 1);
    this.bidirectional = !!options.bidirectional;
    this.batchFirst = !!options.batchFirst;
    this.dropout = probability(layer, 'dropout', options.dropout ?? 0);
    const dtype = dtypeOf(layer, options);
    const dirs = this.bidirectional ? 2 : 1;
    const bound = 1 / Math.sqrt(hiddenSize);
    // PyTorch: every weight and bias ~ U(−1/√hidden, 1/√hidden), in flat-weights order.
    for (let k = 0; k < this.numLayers; k++) {
      for (let d = 0; d < dirs; d++) {
        const sfx = `l${k}${d === 1 ? '_reverse' : ''}`;
        const inSize = k === 0 ? inputSize : hiddenSize * dirs;
        const shapes: [string, number[]][] = [[`weight_ih_${sfx}`, [gates * hiddenSize, inSize]], [`weight_hh_${sfx}`, [gates * hiddenSize, hiddenSize]]];
        if (options.bias ?? true) shapes.push([`bias_ih_${sfx}`, [gates * hiddenSize]], [`bias_hh_${sfx}`, [gates * hiddenSize]]);
        for (const [name, shape] of shapes) {
          this.registerParameter(name, init.uniformInit(shape, -bound, bound, { dtype }));
          this.names.push(name);
        }
      }
    }
  }
  protected params(): Record<string, Tensor> {
    return Object.fromEntries(this.names.map((n) => [n, this.param(n)!]));
  }
  protected rnnOptions() {
    return { numLayers: this.numLayers, bidirectional: this.bidirectional, batchFirst: this.batchFirst, dropout: this.dropout, training: this.training };
  }
  extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}` + (this.numLayers !== 1 ? `, numLayers=${this.numLayers}` : '') +
      (this.batchFirst ? ', batchFirst=true' : '') + (this.dropout ? `, dropout=${this.dropout}` : '') + (this.bidirectional ? ', bidirectional=true' : '');
  }
}

/** torch.nn.LSTM: forward(x, [h0, c0]?) → [output, [hN, cN]]. */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RnnLayerOptions = {}) {
    if (arguments.length > 3) checkArity('nn.LSTM', arguments, 3, 'inputSize, hiddenSize, options?');
    super('nn.LSTM', 4, inputSize, hiddenSize, LSTM_OPTIONS.parse(options));
  }
  forward(x: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] { this._checkAlive('forward'); return lstm(x, hx, this.params(), this.rnnOptions()); }
}

/** torch.nn.GRU: forward(x, h0?) → [output, hN]. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RnnLayerOptions = {}) {
    if (arguments.length > 3) checkArity('nn.GRU', arguments, 3, 'inputSize, hiddenSize, options?');
    super('nn.GRU', 3, inputSize, hiddenSize, GRU_OPTIONS.parse(options));
  }
  forward(x: Tensor, h0?: Tensor | null): [Tensor, Tensor] { this._checkAlive('forward'); return gru(x, h0, this.params(), this.rnnOptions()); }
}

const MHA_OPTIONS = options('nn.MultiheadAttention', {
  /** dropout on the attention weights when training (default 0) */
  dropout: opt.any<number>(),
  /** learn in_proj_bias and out_proj.bias (default true) */
  bias: opt.boolean,
  /** the keys' size (default embedDim) */
  kdim: opt.any<number>(),
  /** the values' size (default embedDim) */
  vdim: opt.any<number>(),
  /** query, key, value and output are [N, L, E] instead of [L, N, E] (default false) */
  batchFirst: opt.boolean,
  ...factorySpecs,
});
/** Options of nn.MultiheadAttention: dropout, bias, kdim, vdim, batchFirst, dtype. */
export type MultiheadAttentionLayerOptions = OptionsOf<typeof MHA_OPTIONS>;

const MHA_CALL_OPTIONS = options('nn.MultiheadAttention.forward', {
  /** [N, S] (or [S] unbatched): bool true = ignore that key, or a float bias */
  keyPaddingMask: opt.any<Tensor | null>(),
  /** also return the attention weights (default true) */
  needWeights: opt.any<boolean>(),
  /** [L, S] or [N·numHeads, L, S]: bool true = not allowed to attend, or a float bias */
  attnMask: opt.any<Tensor | null>(),
  /** average the returned weights over heads (default true) */
  averageAttnWeights: opt.any<boolean>(),
});
/** Options of nn.MultiheadAttention's forward: keyPaddingMask, needWeights, attnMask, averageAttnWeights. */
export type MultiheadAttentionCallOptions = OptionsOf<typeof MHA_CALL_OPTIONS>;

/**
 * torch.nn.MultiheadAttention: in_proj_weight [3E, E] (xavier_uniform) or q/k/v_proj_weight when
 * kdim / vdim differ, in_proj_bias [3E] (zeros), out_proj (a Linear, bias zeroed).
 * forward(query, key, value, options) → [output, weights | null].
 */
export class MultiheadAttention extends Module {
  /** the keys' feature size (default embedDim) */
  readonly kdim: number;
  /** the values' feature size (default embedDim) */
  readonly vdim: number;
  /** dropout probability on the attention weights, when training (default 0) */
  readonly dropout: number;
  /** inputs and output are [N, L, E] instead of [L, N, E] (default false) */
  readonly batchFirst: boolean;
  private readonly sameDim: boolean;
  /** the output projection, registered as 'out_proj' (PyTorch's name) */
  get outProj(): Linear { return this._modules.get('out_proj') as Linear; }
  /**
   * @param embedDim - the model's feature size E
   * @param numHeads - parallel heads; must divide embedDim
   * @param opts - dropout, bias, kdim, vdim, batchFirst, dtype
   */
  constructor(readonly embedDim: number, readonly numHeads: number, opts: MultiheadAttentionLayerOptions = {}) {
    super();
    if (arguments.length > 3) checkArity('nn.MultiheadAttention', arguments, 3, 'embedDim, numHeads, options?');
    const options = MHA_OPTIONS.parse(opts);
    positiveInt('nn.MultiheadAttention', 'embedDim', embedDim);
    positiveInt('nn.MultiheadAttention', 'numHeads', numHeads);
    if (embedDim % numHeads !== 0) throw new ValueError(`nn.MultiheadAttention: embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    this.kdim = positiveInt('nn.MultiheadAttention', 'kdim', options.kdim ?? embedDim);
    this.vdim = positiveInt('nn.MultiheadAttention', 'vdim', options.vdim ?? embedDim);
    this.dropout = probability('nn.MultiheadAttention', 'dropout', options.dropout ?? 0);
    this.batchFirst = !!options.batchFirst;
    this.sameDim = this.kdim === embedDim && this.vdim === embedDim;
    const dtype = dtypeOf('nn.MultiheadAttention', options);
    const bias = options.bias ?? true;
    if (this.sameDim) {
      this.registerParameter('in_proj_weight', init.xavierUniform([3 * embedDim, embedDim], 1, { dtype }));
    } else {
      this.registerParameter('q_proj_weight', init.xavierUniform([embedDim, embedDim], 1, { dtype }));
      this.registerParameter('k_proj_weight', init.xavierUniform([embedDim, this.kdim], 1, { dtype }));
      this.registerParameter('v_proj_weight', init.xavierUniform([embedDim, this.vdim], 1, { dtype }));
    }
    this.registerParameter('in_proj_bias', bias ? init.zeros([3 * embedDim], { dtype }) : null);
    this.registerModule('out_proj', new Linear(embedDim, embedDim, { bias, dtype }));
    if (bias) this.outProj.registerParameter('bias', init.zeros([embedDim], { dtype }));
  }
  forward(query: Tensor, key: Tensor, value: Tensor, opts: MultiheadAttentionCallOptions = {}): [Tensor, Tensor | null] {
    this._checkAlive('forward');
    if (arguments.length > 4) checkArity('nn.MultiheadAttention.forward', arguments, 4, 'query, key, value, options?');
    const options = MHA_CALL_OPTIONS.parse(opts);
    const params: Record<string, Tensor> = { 'out_proj.weight': this.outProj.weight };
    for (const n of ['in_proj_weight', 'q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'in_proj_bias']) {
      const t = this.param(n);
      if (t) params[n] = t;
    }
    if (this.outProj.bias) params['out_proj.bias'] = this.outProj.bias;
    return multiHeadAttention(query, key, value, params as any, {
      numHeads: this.numHeads, batchFirst: this.batchFirst, dropout: this.dropout, training: this.training, ...options,
    });
  }
  extraRepr(): string { return `embedDim=${this.embedDim}, numHeads=${this.numHeads}` + (this.dropout ? `, dropout=${this.dropout}` : ''); }
}

const batchNormSpecs = {
  /** added to the variance (default 1e-5) */
  eps: opt.any<number>(),
  /** weight of the batch statistic in the running average (default 0.1); null: a cumulative average */
  momentum: opt.any<number | null>(),
  /** learn a per-channel weight and bias (default true) */
  affine: opt.boolean,
  /** keep running_mean and running_var for eval mode (default true) */
  trackRunningStats: opt.boolean,
  ...factorySpecs,
};
/** Options of nn.BatchNorm1d / nn.BatchNorm2d: eps (1e-5), momentum (0.1; null: cumulative average), affine, trackRunningStats, dtype. */
export type BatchNormLayerOptions = OptionsOf<typeof batchNormSpecs>;
const BATCH_NORM1D_OPTIONS = options('nn.BatchNorm1d', batchNormSpecs);
const BATCH_NORM2D_OPTIONS = options('nn.BatchNorm2d', batchNormSpecs);

abstract class BatchNormBase extends Module {
  /** added to the variance (default 1e-5) */
  readonly eps: number;
  /** weight of the batch statistic in the running average (default 0.1); null: a cumulative average */
  readonly momentum: number | null;
  /** learns a per-channel weight (ones) and bias (zeros) (default true) */
  readonly affine: boolean;
  /** keeps running_mean / running_var buffers for eval mode (default true) */
  readonly trackRunningStats: boolean;
  /**
   * @param numFeatures - the channels C
   * @param options - eps, momentum, affine, trackRunningStats, dtype
   */
  constructor(private readonly layer: string, private readonly ranks: number[], readonly numFeatures: number, options: BatchNormLayerOptions) {
    super();
    positiveInt(layer, 'numFeatures', numFeatures);
    this.eps = positiveEps(layer, options.eps ?? 1e-5);
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (this.momentum !== null && (typeof this.momentum !== 'number' || !(this.momentum >= 0 && this.momentum <= 1))) {
      throw new ValueError(`${layer}: momentum must be a number in [0, 1] or null (a cumulative average), got ${shown(this.momentum)}`);
    }
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const dtype = dtypeOf(layer, options);
    this.registerParameter('weight', this.affine ? init.ones([numFeatures], { dtype }) : null);
    this.registerParameter('bias', this.affine ? init.zeros([numFeatures], { dtype }) : null);
    this.registerBuffer('running_mean', this.trackRunningStats ? init.zeros([numFeatures], { dtype }) : null);
    this.registerBuffer('running_var', this.trackRunningStats ? init.ones([numFeatures], { dtype }) : null);
    this.registerBuffer('num_batches_tracked', this.trackRunningStats ? init.zeros([], { dtype: 'int32' }) : null);
  }
  forward(x: Tensor): Tensor {
    this._checkAlive('forward');
    if (!(x instanceof Tensor) || !this.ranks.includes(x.rank)) {
      throw new ShapeError(`${this.layer}: expected ${this.ranks.map((r) => `${r}D`).join(' or ')} input, got ${x instanceof Tensor ? `shape ${formatShape(x.dims)}` : typeof x}`);
    }
    const mean = this.buffer('running_mean'), variance = this.buffer('running_var');
    let momentum = this.momentum ?? 0;
    if (this.training && this.trackRunningStats) {
      const count = this.buffer('num_batches_tracked')!;
      const n = (count.item() as number) + 1;
      writeData(count, [n]);
      if (this.momentum === null) momentum = 1 / n; // a cumulative moving average
    }
    const useBatch = this.training || (!mean && !variance);
    return batchNorm(x, mean, variance, this.param('weight'), this.param('bias'), { training: useBatch, momentum, eps: this.eps });
  }
  extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Batch normalisation over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    if (arguments.length > 2) checkArity('nn.BatchNorm1d', arguments, 2, 'numFeatures, options?');
    super('nn.BatchNorm1d', [2, 3], numFeatures, BATCH_NORM1D_OPTIONS.parse(options));
  }
}

/** Batch normalisation over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    if (arguments.length > 2) checkArity('nn.BatchNorm2d', arguments, 2, 'numFeatures, options?');
    super('nn.BatchNorm2d', [4], numFeatures, BATCH_NORM2D_OPTIONS.parse(options));
  }
}

const LAYER_NORM_OPTIONS = options('nn.LayerNorm', {
  /** added to the variance (default 1e-5) */
  eps: opt.any<number>(),
  /** learn a weight (and a bias) of normalizedShape (default true) */
  elementwiseAffine: opt.boolean,
  /** learn the bias too (default true) */
  bias: opt.boolean,
  ...factorySpecs,
});
/** Options of nn.LayerNorm: eps (1e-5), elementwiseAffine (true), bias (true), dtype. */
export type LayerNormLayerOptions = OptionsOf<typeof LAYER_NORM_OPTIONS>;

/** Normalises over the trailing normalizedShape dims; weight (ones) and bias (zeros) of that shape. */
export class LayerNorm extends Module {
  /** the trailing dims normalised over */
  readonly normalizedShape: number[];
  /** added to the variance (default 1e-5) */
  readonly eps: number;
  constructor(normalizedShape: number | readonly number[], opts: LayerNormLayerOptions = {}) {
    super();
    if (arguments.length > 2) checkArity('nn.LayerNorm', arguments, 2, 'normalizedShape, options?');
    const options = LAYER_NORM_OPTIONS.parse(opts);
    if (typeof normalizedShape !== 'number' && !(Array.isArray(normalizedShape) && normalizedShape.length > 0)) {
      throw new ValueError(`nn.LayerNorm: normalizedShape must be an integer >= 1 or a non-empty list of them, got ${shown(normalizedShape)}`);
    }
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.normalizedShape.forEach((d) => positiveInt('nn.LayerNorm', 'normalizedShape', d));
    this.eps = positiveEps('nn.LayerNorm', options.eps ?? 1e-5);
    const dtype = dtypeOf('nn.LayerNorm', options);
    const affine = options.elementwiseAffine ?? true;
    this.registerParameter('weight', affine ? init.ones(this.normalizedShape, { dtype }) : null);
    this.registerParameter('bias', affine && (options.bias ?? true) ? init.zeros(this.normalizedShape, { dtype }) : null);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return layerNorm(x, this.normalizedShape, this.param('weight'), this.param('bias'), { eps: this.eps }); }
  extraRepr(): string { return `[${this.normalizedShape.join(', ')}], eps=${this.eps}, elementwiseAffine=${this._parameters.get('weight') !== null}`; }
}

const GROUP_NORM_OPTIONS = options('nn.GroupNorm', {
  /** added to the variance (default 1e-5) */
  eps: opt.any<number>(),
  /** learn a per-channel weight and bias (default true) */
  affine: opt.boolean,
  ...factorySpecs,
});
/** Options of nn.GroupNorm: eps (1e-5), affine (true), dtype. */
export type GroupNormLayerOptions = OptionsOf<typeof GROUP_NORM_OPTIONS>;

/** Normalises numGroups groups of channels per sample; weight (ones) and bias (zeros) [C]. */
export class GroupNorm extends Module {
  /** added to the variance (default 1e-5) */
  readonly eps: number;
  /**
   * @param numGroups - groups the channels are split into; must divide numChannels
   * @param numChannels - the channels C of the input [N, C, *]
   * @param opts - eps, affine, dtype
   */
  constructor(readonly numGroups: number, readonly numChannels: number, opts: GroupNormLayerOptions = {}) {
    super();
    if (arguments.length > 3) checkArity('nn.GroupNorm', arguments, 3, 'numGroups, numChannels, options?');
    const options = GROUP_NORM_OPTIONS.parse(opts);
    positiveInt('nn.GroupNorm', 'numGroups', numGroups);
    positiveInt('nn.GroupNorm', 'numChannels', numChannels);
    if (numChannels % numGroups !== 0) throw new ValueError(`nn.GroupNorm: numChannels (${numChannels}) must be divisible by numGroups (${numGroups})`);
    this.eps = positiveEps('nn.GroupNorm', options.eps ?? 1e-5);
    const dtype = dtypeOf('nn.GroupNorm', options);
    const affine = options.affine ?? true;
    this.registerParameter('weight', affine ? init.ones([numChannels], { dtype }) : null);
    this.registerParameter('bias', affine ? init.zeros([numChannels], { dtype }) : null);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return groupNorm(x, this.numGroups, this.param('weight'), this.param('bias'), { eps: this.eps }); }
  extraRepr(): string { return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}`; }
}

/** Zeroes elements with probability p and scales the rest by 1/(1 − p) while training; identity in eval. */
export class Dropout extends Module {
  /** @param p - the probability of zeroing each element, in [0, 1] (default 0.5) */
  constructor(readonly p = 0.5) {
    super();
    if (arguments.length > 1) checkArity('nn.Dropout', arguments, 1, 'p?');
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(`nn.Dropout: dropout probability has to be between 0 and 1, but got ${shown(p)}`);
  }
  forward(x: Tensor): Tensor { this._checkAlive('forward'); return dropout(x, this.p, { training: this.training }); }
  extraRepr(): string { return `p=${this.p}`; }
}

/** Modules run one after another; children are named '0', '1', … (or by the object's keys). */
export class Sequential extends Module {
  constructor(...modules: (Module | Record<string, Module>)[]) {
    super();
    if (modules.length === 1 && !(modules[0] instanceof Module) && modules[0] !== null && typeof modules[0] === 'object') {
      for (const [name, m] of Object.entries(modules[0])) this.registerModule(name, m);
    } else {
      modules.forEach((m, i) => {
        if (!(m instanceof Module)) throw new ValueError(`nn.Sequential: argument ${i} is not a Module (got ${describeValue(m)})`);
        this.registerModule(String(i), m);
      });
    }
  }
  /** Appends a module (named by its position). */
  append(m: Module): this { this.registerModule(String(this._modules.size), m); return this; }
  /** the number of child modules */
  get length(): number { return this._modules.size; }
  /** The i-th child module; negative i counts from the end. */
  at(i: number): Module {
    integer('Sequential.at', 'index', i);
    const list = this.children();
    const m = list[i < 0 ? i + list.length : i];
    if (!m) throw new ValueError(`Sequential: index ${i} is out of range for ${list.length} modules`);
    return m;
  }
  /** Each module's forward on the previous one's result, typed for the usual chain of tensor layers (a chain that ends in another value can cast). */
  forward(x: Tensor): Tensor {
    this._checkAlive('forward');
    for (const m of this._modules.values()) x = m.forward(x) as Tensor;
    return x;
  }
}
