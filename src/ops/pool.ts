// Pooling (kernels and rules in assembly/ops/pool.ts) with PyTorch's semantics: maxPool1d/2d
// (stride, padding, dilation, ceil mode, indices), avgPool1d/2d (ceil mode, countIncludePad,
// divisorOverride), adaptiveAvgPool1d/2d, adaptiveMaxPool1d/2d, global pooling, maxUnpool2d. Inputs are NCL / NCHW or
// unbatched CL / CHW; every leading dim is a plane of its own.
//
// Max pooling is a gather at the windows' argmax indices (flat per plane, int32), so its
// gradient reaches the first maximal element of each window, as in PyTorch.

import { Tensor, dataPointer } from '../tensor.js';
import { wasm, argsI32, views, I32 } from '../runtime.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { Op, idOf, call, requireInit, isFloat } from './common.js';
import { spatial, type Spatial } from './conv.js';
import { options, opt, checkArity, type OptionsOf } from '../options.js';
import { checkNumel, checkExtent, integerProblem, show, showList, INT32_MAX } from '../sizes.js';

const maxPoolSpecs = {
  /** default: the kernel size */
  stride: opt.any<Spatial>(),
  /** implicit -inf on both sides, at most half the kernel */
  padding: opt.any<Spatial>(),
  dilation: opt.any<Spatial>(),
  /** ceil instead of floor for the output size (a window must start inside the input or left padding) */
  ceilMode: opt.boolean,
  /** also return the flat in-plane index (int32) of each maximum, for maxUnpool */
  returnIndices: opt.boolean,
};
const avgPool1dSpecs = {
  stride: opt.any<Spatial>(),
  /** implicit zeros on both sides, at most half the kernel */
  padding: opt.any<Spatial>(),
  ceilMode: opt.boolean,
  /** count the padding zeros in the divisor (default true, as PyTorch) */
  countIncludePad: opt.boolean,
};
const avgPool2dSpecs = {
  ...avgPool1dSpecs,
  /** divide every window sum by this instead (2-D only, as PyTorch) */
  divisorOverride: opt.any<number>(),
};
const maxUnpoolSpecs = {
  stride: opt.any<Spatial>(),
  padding: opt.any<Spatial>(),
  /** the spatial output size [H, W] (or the full shape); default (in−1)·stride − 2·padding + kernel */
  outputSize: opt.any<readonly number[]>(),
};
const adaptiveMaxPoolSpecs = {
  /** also return the flat in-plane index (int32) of each maximum, as PyTorch's return_indices */
  returnIndices: opt.boolean,
};
const MAX_POOL1D = options('maxPool1d', maxPoolSpecs);
const MAX_POOL2D = options('maxPool2d', maxPoolSpecs);
const AVG_POOL1D = options('avgPool1d', avgPool1dSpecs);
const AVG_POOL2D = options('avgPool2d', avgPool2dSpecs);
const MAX_UNPOOL2D = options('maxUnpool2d', maxUnpoolSpecs);
const ADAPTIVE_MAX_POOL1D = options('adaptiveMaxPool1d', adaptiveMaxPoolSpecs);
const ADAPTIVE_MAX_POOL2D = options('adaptiveMaxPool2d', adaptiveMaxPoolSpecs);

/** Options of maxPool1d / maxPool2d: stride (default the kernel size), padding (−inf, at most half the kernel), dilation, ceilMode, returnIndices. */
export type MaxPoolOptions = OptionsOf<typeof maxPoolSpecs>;
/** Options of avgPool1d / avgPool2d: stride (default the kernel size), padding (zeros), ceilMode, countIncludePad (default true), divisorOverride (2-D only). */
export type AvgPoolOptions = OptionsOf<typeof avgPool2dSpecs>;
/** Options of adaptiveMaxPool1d / 2d / 3d: returnIndices. */
export type AdaptiveMaxPoolOptions = OptionsOf<typeof adaptiveMaxPoolSpecs>;
/** Options of maxUnpool2d: stride (default the kernel size), padding, outputSize. */
export type MaxUnpoolOptions = OptionsOf<typeof maxUnpoolSpecs>;

/** A pooling input seen as planes: the leading dims, their product and the spatial dims. */
export interface Layout { lead: number[]; planes: number; space: number[] }

export function layout(op: string, x: Tensor, nd: number, arg = 'x'): Layout {
  const r = x.rank;
  if (r !== nd + 1 && r !== nd + 2) {
    const names = nd === 1 ? ['(C, L)', '(N, C, L)'] : nd === 2 ? ['(C, H, W)', '(N, C, H, W)'] : ['(C, D, H, W)', '(N, C, D, H, W)'];
    throw new ShapeError(`${op}: ${arg} must have rank ${nd + 1} ${names[0]} or ${nd + 2} ${names[1]}, got shape ${formatShape(x.dims)}`);
  }
  const lead = x.dims.slice(0, r - nd);
  return { lead, planes: lead.reduce((a, b) => a * b, 1), space: x.dims.slice(r - nd) };
}

export function checkFloat(op: string, x: Tensor): void {
  idOf(x, `${op} (x)`);
  if (!isFloat(x.dtype)) {
    throw new DTypeError(`${op}: x is a ${x.dtype} tensor of shape ${formatShape(x.dims)}; pooling takes float32 or float64 tensors`);
  }
}

const fmt = (v: number[]): string => `[${v.join(', ')}]`;

/** PyTorch's pooling_output_shape, with its checks (pad ≤ kernel/2, output size ≥ 1). */
export function outputSizes(op: string, x: Tensor, space: number[], kernel: number[], stride: number[], padding: number[],
                     dilation: number[], ceil: boolean): number[] {
  padding.forEach((p, i) => {
    if (p > Math.floor(kernel[i] / 2)) {
      throw new ValueError(`${op}: padding ${fmt(padding)} must be at most half the kernel size ${fmt(kernel)}`);
    }
  });
  const out = space.map((s, i) => {
    const k = kernel[i], st = stride[i], p = padding[i], d = dilation[i];
    let o = Math.floor((s + 2 * p - d * (k - 1) - 1 + (ceil ? st - 1 : 0)) / st) + 1;
    if (ceil && (o - 1) * st >= s + p) o--;
    return o;
  });
  if (out.some((o) => o < 1)) {
    throw new ShapeError(`${op}: kernel ${fmt(kernel)}${dilation.some((d) => d > 1) ? ` with dilation ${fmt(dilation)}` : ''} is larger than ` +
      `the padded input: x ${formatShape(x.dims)}, padding ${fmt(padding)} give output size ${fmt(out)}`);
  }
  // The kernels index windows with i32s: the padded input and the dilated kernel must fit.
  space.forEach((s, i) => {
    checkExtent(op, `the padded extent of spatial dim ${i}`, s + 2 * padding[i], 'input plus padding on both sides');
    checkExtent(op, `the dilated kernel extent of spatial dim ${i}`, dilation[i] * (kernel[i] - 1) + 1, 'dilation·(kernel − 1) + 1');
  });
  checkNumel(op, [...x.dims.slice(0, x.rank - space.length), ...out], x.dtype);
  return out;
}

/** Spatial values as the kernels' 2-D words: a 1-D value is [fill, v]. */
const two = (v: number[], fill: number): number[] => (v.length === 1 ? [fill, v[0]] : v);

function maxPoolNd(op: string, nd: number, x: Tensor, kernelSize: Spatial, options: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  requireInit(op);
  checkFloat(op, x);
  const { lead, planes, space } = layout(op, x, nd);
  const kernel = spatial(op, 'kernelSize', kernelSize, nd, 1, 1);
  const stride = options.stride === undefined ? kernel : spatial(op, 'stride', options.stride, nd, 1, 1);
  const padding = spatial(op, 'padding', options.padding, nd, 0, 0);
  const dilation = spatial(op, 'dilation', options.dilation, nd, 1, 1);
  const out = outputSizes(op, x, space, kernel, stride, padding, dilation, options.ceilMode ?? false);
  const outShape = [...lead, ...out];
  const geo = [planes, ...two(space, 1), ...two(out, 1), ...two(kernel, 1), ...two(stride, 1), ...two(padding, 0), ...two(dilation, 1)];
  const idx = call(op, wasm.maxPoolIndices(x.id, outShape.length, argsI32(outShape, 32), argsI32(geo)));
  return valuesAt(op, x, idx, planes, space, out, options.returnIndices ?? false);
}

/**
 * Max pooling's values: x gathered at the flat in-plane indices `idx` (planes × outPlane).
 * `idx` is returned beside them (PyTorch's return_indices) or disposed, also when the gather fails.
 */
export function valuesAt(op: string, x: Tensor, idx: Tensor, planes: number, space: number[], out: number[],
  returnIndices: boolean): Tensor | [Tensor, Tensor] {
  const inPlane = space.reduce((a, b) => a * b, 1), outPlane = out.reduce((a, b) => a * b, 1);
  try {
    const values = call(op, wasm.poolGather(x.id, idx.id, planes, inPlane, outPlane));
    if (returnIndices) return [values, idx];
    idx.dispose();
    return values;
  } catch (e) {
    idx.dispose();
    throw e;
  }
}

function avgPoolNd(op: string, nd: number, x: Tensor, kernelSize: Spatial, options: AvgPoolOptions): Tensor {
  requireInit(op);
  checkFloat(op, x);
  const { lead, planes, space } = layout(op, x, nd);
  const kernel = spatial(op, 'kernelSize', kernelSize, nd, 1, 1);
  const stride = options.stride === undefined ? kernel : spatial(op, 'stride', options.stride, nd, 1, 1);
  const padding = spatial(op, 'padding', options.padding, nd, 0, 0);
  const divisor = options.divisorOverride;
  if (divisor !== undefined && (typeof divisor !== 'number' || !Number.isInteger(divisor) || divisor === 0)) {
    throw new ValueError(`${op}: divisorOverride must be a non-zero integer, got ${String(divisor)}`);
  }
  const out = outputSizes(op, x, space, kernel, stride, padding, kernel.map(() => 1), options.ceilMode ?? false);
  const geo = [planes, ...two(space, 1), ...two(out, 1), ...two(kernel, 1), ...two(stride, 1), ...two(padding, 0),
    options.countIncludePad === false ? 0 : 1, divisor ?? 0, 0];
  return avgCall(op, x, [...lead, ...out], geo);
}

function avgCall(op: string, x: Tensor, outShape: number[], geo: number[]): Tensor {
  return call(op, wasm.avgPoolFamily(Op.avgPool, x.id, outShape.length, argsI32(outShape, 32), argsI32(geo)));
}

function adaptiveAvgPoolNd(op: string, nd: number, x: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  requireInit(op);
  checkFloat(op, x);
  const { lead, planes, space } = layout(op, x, nd);
  const out = adaptiveOutput(op, x, lead, space, outputSize);
  const geo = [planes, ...two(space, 1), ...two(out, 1), 1, 1, 1, 1, 0, 0, 1, 0, 1];
  return avgCall(op, x, [...lead, ...out], geo);
}

function adaptiveMaxPoolNd(op: string, nd: number, x: Tensor, outputSize: number | readonly (number | null)[],
  options: AdaptiveMaxPoolOptions): Tensor | [Tensor, Tensor] {
  requireInit(op);
  checkFloat(op, x);
  const { lead, planes, space } = layout(op, x, nd);
  const out = adaptiveOutput(op, x, lead, space, outputSize);
  const outShape = [...lead, ...out];
  // Kernel extents 0 ask the index kernel for adaptive windows (a 1-D input's row is a window of one).
  const geo = [planes, ...two(space, 1), ...two(out, 1), ...two(out.map(() => 0), 1), 1, 1, 0, 0, 1, 1];
  const idx = call(op, wasm.maxPoolIndices(x.id, outShape.length, argsI32(outShape, 32), argsI32(geo)));
  return valuesAt(op, x, idx, planes, space, out, options.returnIndices ?? false);
}

/** An adaptive pooling's output size, checked as PyTorch: one number, or one per dim (null keeps it). */
export function adaptiveOutput(op: string, x: Tensor, lead: number[], space: number[], outputSize: number | readonly (number | null)[]): number[] {
  const nd = space.length;
  const list = typeof outputSize === 'number' ? new Array<number>(nd).fill(outputSize) : Array.isArray(outputSize) ? [...outputSize] : null;
  if (list === null || list.length !== nd) {
    throw new ValueError(`${op}: outputSize must be a number or a list of ${nd} numbers (null keeps the input size), got ${formatSpatial(outputSize)}`);
  }
  // null keeps that dim's input size, as PyTorch's None.
  const out = list.map((o, i) => (o === null ? space[i] : o));
  if (out.some((o) => integerProblem(o, 1, INT32_MAX) !== undefined)) {
    throw new ValueError(`${op}: outputSize must be positive integers, got ${formatSpatial(outputSize)} (each at most ${INT32_MAX})`);
  }
  if (space.some((s) => s === 0)) {
    throw new ShapeError(`${op}: x ${formatShape(x.dims)} has an empty spatial dim; there is nothing to pool`);
  }
  checkNumel(op, [...lead, ...(out as number[])], x.dtype);
  return out as number[];
}

const formatSpatial = (v: unknown): string => showList(v);

/** torch.nn.functional.max_pool1d on [N, C, L] or [C, L]. */
export function maxPool1d(x: Tensor, kernelSize: Spatial, options?: MaxPoolOptions & { returnIndices?: false }): Tensor;
export function maxPool1d(x: Tensor, kernelSize: Spatial, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool1d(x: Tensor, kernelSize: Spatial, options?: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  if (arguments.length > 3) checkArity('maxPool1d', arguments, 3, 'x, kernelSize, options?');
  return maxPoolNd('maxPool1d', 1, x, kernelSize, MAX_POOL1D.parse(options));
}

/** torch.nn.functional.max_pool2d on [N, C, H, W] or [C, H, W]; { returnIndices: true } → [values, indices]. */
export function maxPool2d(x: Tensor, kernelSize: Spatial, options?: MaxPoolOptions & { returnIndices?: false }): Tensor;
export function maxPool2d(x: Tensor, kernelSize: Spatial, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool2d(x: Tensor, kernelSize: Spatial, options?: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  if (arguments.length > 3) checkArity('maxPool2d', arguments, 3, 'x, kernelSize, options?');
  return maxPoolNd('maxPool2d', 2, x, kernelSize, MAX_POOL2D.parse(options));
}

/** torch.nn.functional.avg_pool1d on [N, C, L] or [C, L]. */
export function avgPool1d(x: Tensor, kernelSize: Spatial, options?: Omit<AvgPoolOptions, 'divisorOverride'>): Tensor {
  if (arguments.length > 3) checkArity('avgPool1d', arguments, 3, 'x, kernelSize, options?');
  return avgPoolNd('avgPool1d', 1, x, kernelSize, AVG_POOL1D.parse(options));
}

/** torch.nn.functional.avg_pool2d on [N, C, H, W] or [C, H, W]. */
export function avgPool2d(x: Tensor, kernelSize: Spatial, options?: AvgPoolOptions): Tensor {
  if (arguments.length > 3) checkArity('avgPool2d', arguments, 3, 'x, kernelSize, options?');
  return avgPoolNd('avgPool2d', 2, x, kernelSize, AVG_POOL2D.parse(options));
}

/** torch.nn.functional.adaptive_avg_pool1d: windows [floor(i·L/out), ceil((i+1)·L/out)). */
export function adaptiveAvgPool1d(x: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  if (arguments.length > 2) checkArity('adaptiveAvgPool1d', arguments, 2, 'x, outputSize');
  return adaptiveAvgPoolNd('adaptiveAvgPool1d', 1, x, outputSize);
}

/** torch.nn.functional.adaptive_avg_pool2d; a null size keeps that input dim. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  if (arguments.length > 2) checkArity('adaptiveAvgPool2d', arguments, 2, 'x, outputSize');
  return adaptiveAvgPoolNd('adaptiveAvgPool2d', 2, x, outputSize);
}

/**
 * torch.nn.functional.adaptive_max_pool1d on [N, C, L] or [C, L]: the maximum of each window
 * [floor(i·L/out), ceil((i+1)·L/out)); { returnIndices: true } → [values, int32 indices].
 */
export function adaptiveMaxPool1d(x: Tensor, outputSize: number | readonly (number | null)[], options?: AdaptiveMaxPoolOptions & { returnIndices?: false }): Tensor;
export function adaptiveMaxPool1d(x: Tensor, outputSize: number | readonly (number | null)[], options: AdaptiveMaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool1d(x: Tensor, outputSize: number | readonly (number | null)[], options?: AdaptiveMaxPoolOptions): Tensor | [Tensor, Tensor] {
  if (arguments.length > 3) checkArity('adaptiveMaxPool1d', arguments, 3, 'x, outputSize, options?');
  return adaptiveMaxPoolNd('adaptiveMaxPool1d', 1, x, outputSize, ADAPTIVE_MAX_POOL1D.parse(options));
}

/**
 * torch.nn.functional.adaptive_max_pool2d on [N, C, H, W] or [C, H, W] (a null size keeps that
 * input dim); { returnIndices: true } → [values, int32 flat in-plane indices] for maxUnpool2d.
 * Each window's first maximum in row-major order (the last NaN, if any) is taken, as PyTorch.
 */
export function adaptiveMaxPool2d(x: Tensor, outputSize: number | readonly (number | null)[], options?: AdaptiveMaxPoolOptions & { returnIndices?: false }): Tensor;
export function adaptiveMaxPool2d(x: Tensor, outputSize: number | readonly (number | null)[], options: AdaptiveMaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool2d(x: Tensor, outputSize: number | readonly (number | null)[], options?: AdaptiveMaxPoolOptions): Tensor | [Tensor, Tensor] {
  if (arguments.length > 3) checkArity('adaptiveMaxPool2d', arguments, 3, 'x, outputSize, options?');
  return adaptiveMaxPoolNd('adaptiveMaxPool2d', 2, x, outputSize, ADAPTIVE_MAX_POOL2D.parse(options));
}

/** The mean of each H×W plane, shaped [N, C, 1, 1] (adaptive_avg_pool2d(x, 1); MATLAB's avgpool 'global'). */
export function globalAvgPool2d(x: Tensor): Tensor {
  return adaptiveAvgPoolNd('globalAvgPool2d', 2, x, 1);
}

/** The maximum of each H×W plane, shaped [N, C, 1, 1]; its gradient goes to the first maximum. */
export function globalMaxPool2d(x: Tensor): Tensor {
  requireInit('globalMaxPool2d');
  checkFloat('globalMaxPool2d', x);
  const { space } = layout('globalMaxPool2d', x, 2);
  return maxPoolNd('globalMaxPool2d', 2, x, space, {}) as Tensor;
}

/**
 * torch.nn.functional.max_unpool2d: zeros of the unpooled size with each value of x written at
 * its index (flat per H×W plane, from maxPool2d with returnIndices).
 */
export function maxUnpool2d(x: Tensor, indices: Tensor, kernelSize: Spatial, opts?: MaxUnpoolOptions): Tensor {
  const op = 'maxUnpool2d';
  if (arguments.length > 4) checkArity(op, arguments, 4, 'x, indices, kernelSize, options?');
  requireInit(op);
  const options = MAX_UNPOOL2D.parse(opts);
  checkFloat(op, x);
  idOf(indices, `${op} (indices)`);
  const { lead, planes, space } = layout(op, x, 2);
  if (indices.dtype !== 'int32') {
    throw new DTypeError(`${op}: indices must be an int32 tensor (as maxPool2d returns), got ${indices.dtype}`);
  }
  if (formatShape(indices.dims) !== formatShape(x.dims)) {
    throw new ShapeError(`${op}: indices ${formatShape(indices.dims)} must have the shape of x ${formatShape(x.dims)}`);
  }
  const kernel = spatial(op, 'kernelSize', kernelSize, 2, 1, 1);
  const stride = options.stride === undefined ? kernel : spatial(op, 'stride', options.stride, 2, 1, 1);
  const padding = spatial(op, 'padding', options.padding, 2, 0, 0);
  const defaults = space.map((s, i) => (s - 1) * stride[i] - 2 * padding[i] + kernel[i]);
  let out = defaults;
  if (options.outputSize !== undefined) {
    if (!Array.isArray(options.outputSize)) {
      throw new ValueError(`${op}: outputSize must be an array of 2 or ${x.rank} sizes, got ${formatSpatial(options.outputSize)}`);
    }
    const given = [...options.outputSize];
    if (given.length !== 2 && given.length !== x.rank) {
      throw new ValueError(`${op}: outputSize must have 2 or ${x.rank} entries, got ${formatSpatial(given)}`);
    }
    out = given.slice(given.length - 2);
    out.forEach((o, i) => {
      // PyTorch accepts sizes strictly between default − stride and default + stride.
      const lo = defaults[i] - stride[i], hi = defaults[i] + stride[i];
      if (typeof o !== 'number' || !Number.isInteger(o) || o <= lo || o >= hi) {
        throw new ValueError(`${op}: invalid outputSize ${formatSpatial(given)}: dim ${i} must be between ${lo} and ${hi} (exclusive), got ${show(o)}`);
      }
    });
  }
  if (out.some((o) => o < 1)) throw new ShapeError(`${op}: the output size ${fmt(out)} is not positive (x ${formatShape(x.dims)})`);
  checkNumel(op, [...lead, ...out], x.dtype);
  const outPlane = out[0] * out[1], inPlane = space[0] * space[1];
  checkIndices(op, indices, outPlane, out);
  const outShape = [...lead, ...out];
  return call(op, wasm.poolScatter(x.id, indices.id, outShape.length, argsI32(outShape), planes, outPlane, inPlane, 0));
}

function checkIndices(op: string, indices: Tensor, outPlane: number, out: number[]): void {
  const base = dataPointer(indices);
  views();
  for (let i = 0, n = indices.numel(); i < n; i++) {
    const v = I32[(base >>> 2) + i];
    if (v < 0 || v >= outPlane) {
      throw new ValueError(`${op}: index ${v} (indices element ${i}) is outside the output plane of ${out.join('×')} = ${outPlane} values`);
    }
  }
}

declare module '../tensor.js' {
  interface Tensor {
    /** 1-D max pooling of this [N, C, L] or [C, L] (PyTorch: torch.nn.functional.max_pool1d; MATLAB: maxpool). */
    maxPool1d(kernelSize: Spatial, options?: MaxPoolOptions & { returnIndices?: false }): Tensor;
    /** 1-D max pooling returning [values, int32 in-plane indices] (PyTorch: max_pool1d with return_indices). */
    maxPool1d(kernelSize: Spatial, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
    /** 2-D max pooling of this [N, C, H, W] or [C, H, W] (PyTorch: torch.nn.functional.max_pool2d; MATLAB: maxpool). */
    maxPool2d(kernelSize: Spatial, options?: MaxPoolOptions & { returnIndices?: false }): Tensor;
    /** 2-D max pooling returning [values, int32 flat in-plane indices] for maxUnpool2d (PyTorch: max_pool2d with return_indices). */
    maxPool2d(kernelSize: Spatial, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
    /** 1-D average pooling of this [N, C, L] or [C, L] (PyTorch: torch.nn.functional.avg_pool1d; MATLAB: avgpool). */
    avgPool1d(kernelSize: Spatial, options?: Omit<AvgPoolOptions, 'divisorOverride'>): Tensor;
    /** 2-D average pooling of this [N, C, H, W] or [C, H, W] (PyTorch: torch.nn.functional.avg_pool2d; MATLAB: avgpool). */
    avgPool2d(kernelSize: Spatial, options?: AvgPoolOptions): Tensor;
    /** Average pooling to `outputSize` positions, windows [floor(i·L/out), ceil((i+1)·L/out)) (PyTorch: torch.nn.functional.adaptive_avg_pool1d). */
    adaptiveAvgPool1d(outputSize: number | readonly (number | null)[]): Tensor;
    /** Average pooling to an [H, W] output size; null keeps that input dim (PyTorch: torch.nn.functional.adaptive_avg_pool2d). */
    adaptiveAvgPool2d(outputSize: number | readonly (number | null)[]): Tensor;
    /** Max pooling to `outputSize` positions (PyTorch: torch.nn.functional.adaptive_max_pool1d). */
    adaptiveMaxPool1d(outputSize: number | readonly (number | null)[], options?: AdaptiveMaxPoolOptions & { returnIndices?: false }): Tensor;
    /** Max pooling to `outputSize` positions, returning [values, int32 indices] (PyTorch: adaptive_max_pool1d with return_indices). */
    adaptiveMaxPool1d(outputSize: number | readonly (number | null)[], options: AdaptiveMaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
    /** Max pooling to an [H, W] output size; null keeps that input dim (PyTorch: torch.nn.functional.adaptive_max_pool2d). */
    adaptiveMaxPool2d(outputSize: number | readonly (number | null)[], options?: AdaptiveMaxPoolOptions & { returnIndices?: false }): Tensor;
    /** Max pooling to an [H, W] output size, returning [values, int32 flat in-plane indices] (PyTorch: adaptive_max_pool2d with return_indices). */
    adaptiveMaxPool2d(outputSize: number | readonly (number | null)[], options: AdaptiveMaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
    /** The mean of each H×W plane, [N, C, 1, 1] (MATLAB: avgpool 'global'; PyTorch: adaptive_avg_pool2d(x, 1)). */
    globalAvgPool2d(): Tensor;
    /** The maximum of each H×W plane, [N, C, 1, 1]; the gradient goes to the first maximum (MATLAB: maxpool 'global'). */
    globalMaxPool2d(): Tensor;
    /** Zeros of the unpooled size with each value written at its index from maxPool2d's returnIndices (PyTorch: torch.nn.functional.max_unpool2d; MATLAB: maxunpool). */
    maxUnpool2d(indices: Tensor, kernelSize: Spatial, options?: MaxUnpoolOptions): Tensor;
  }
}

const P = Tensor.prototype as any;
P.maxPool1d = function (this: Tensor, kernelSize: Spatial, options?: MaxPoolOptions) {
  if (arguments.length > 2) checkArity('maxPool1d', arguments, 2, 'kernelSize, options?');
  return maxPoolNd('maxPool1d', 1, this, kernelSize, MAX_POOL1D.parse(options));
};
P.maxPool2d = function (this: Tensor, kernelSize: Spatial, options?: MaxPoolOptions) {
  if (arguments.length > 2) checkArity('maxPool2d', arguments, 2, 'kernelSize, options?');
  return maxPoolNd('maxPool2d', 2, this, kernelSize, MAX_POOL2D.parse(options));
};
P.avgPool1d = function (this: Tensor, kernelSize: Spatial, options?: AvgPoolOptions) {
  if (arguments.length > 2) checkArity('avgPool1d', arguments, 2, 'kernelSize, options?');
  return avgPool1d(this, kernelSize, options);
};
P.avgPool2d = function (this: Tensor, kernelSize: Spatial, options?: AvgPoolOptions) {
  if (arguments.length > 2) checkArity('avgPool2d', arguments, 2, 'kernelSize, options?');
  return avgPool2d(this, kernelSize, options);
};
P.adaptiveAvgPool1d = function (this: Tensor, outputSize: number | (number | null)[]) {
  if (arguments.length > 1) checkArity('adaptiveAvgPool1d', arguments, 1, 'outputSize');
  return adaptiveAvgPool1d(this, outputSize);
};
P.adaptiveAvgPool2d = function (this: Tensor, outputSize: number | (number | null)[]) {
  if (arguments.length > 1) checkArity('adaptiveAvgPool2d', arguments, 1, 'outputSize');
  return adaptiveAvgPool2d(this, outputSize);
};
P.adaptiveMaxPool1d = function (this: Tensor, outputSize: number | (number | null)[], options?: AdaptiveMaxPoolOptions) {
  if (arguments.length > 2) checkArity('adaptiveMaxPool1d', arguments, 2, 'outputSize, options?');
  return adaptiveMaxPoolNd('adaptiveMaxPool1d', 1, this, outputSize, ADAPTIVE_MAX_POOL1D.parse(options));
};
P.adaptiveMaxPool2d = function (this: Tensor, outputSize: number | (number | null)[], options?: AdaptiveMaxPoolOptions) {
  if (arguments.length > 2) checkArity('adaptiveMaxPool2d', arguments, 2, 'outputSize, options?');
  return adaptiveMaxPoolNd('adaptiveMaxPool2d', 2, this, outputSize, ADAPTIVE_MAX_POOL2D.parse(options));
};
P.globalAvgPool2d = function (this: Tensor) { return globalAvgPool2d(this); };
P.globalMaxPool2d = function (this: Tensor) { return globalMaxPool2d(this); };
P.maxUnpool2d = function (this: Tensor, indices: Tensor, kernelSize: Spatial, options?: MaxUnpoolOptions) {
  if (arguments.length > 3) checkArity('maxUnpool2d', arguments, 3, 'indices, kernelSize, options?');
  return maxUnpool2d(this, indices, kernelSize, options);
};
