// 3-D pooling (kernels and rules in assembly/ops/pool3d.ts) with PyTorch's semantics: maxPool3d
// (stride, padding, dilation, ceil mode, indices), avgPool3d (ceil mode, countIncludePad,
// divisorOverride), adaptiveAvgPool3d, adaptiveMaxPool3d. Inputs are NCDHW or unbatched CDHW; every leading dim is
// a volume of its own. The checks and output sizes are pool.ts's.
//
// Max pooling is a gather at the windows' argmax indices (flat per D·H·W volume, int32, as
// PyTorch's return_indices), so its gradient reaches the first maximal element of each window.

import { Tensor } from '../tensor.js';
import { wasm, argsI32 } from '../runtime.js';
import { ValueError } from '../errors.js';
import { Op, call, requireInit } from './common.js';
import { spatial, type Spatial } from './conv.js';
import { layout, checkFloat, outputSizes, adaptiveOutput, valuesAt, type MaxPoolOptions, type AvgPoolOptions, type AdaptiveMaxPoolOptions } from './pool.js';
import { options, opt, checkArity } from '../options.js';
import { show } from '../sizes.js';

const MAX_POOL3D = options('maxPool3d', {
  /** default: the kernel size */
  stride: opt.any<Spatial>(),
  /** implicit -inf on both sides, at most half the kernel */
  padding: opt.any<Spatial>(),
  dilation: opt.any<Spatial>(),
  /** ceil instead of floor for the output size (a window must start inside the input or left padding) */
  ceilMode: opt.boolean,
  /** also return the flat in-volume index (int32) of each maximum, as PyTorch's return_indices */
  returnIndices: opt.boolean,
});
const AVG_POOL3D = options('avgPool3d', {
  stride: opt.any<Spatial>(),
  /** implicit zeros on both sides, at most half the kernel */
  padding: opt.any<Spatial>(),
  ceilMode: opt.boolean,
  /** count the padding zeros in the divisor (default true, as PyTorch) */
  countIncludePad: opt.boolean,
  /** divide every window sum by this instead */
  divisorOverride: opt.any<number>(),
});

function maxPool3dImpl(op: string, x: Tensor, kernelSize: Spatial, options: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  requireInit(op);
  checkFloat(op, x);
  const { lead, planes, space } = layout(op, x, 3);
  const kernel = spatial(op, 'kernelSize', kernelSize, 3, 1, 1);
  const stride = options.stride === undefined ? kernel : spatial(op, 'stride', options.stride, 3, 1, 1);
  const padding = spatial(op, 'padding', options.padding, 3, 0, 0);
  const dilation = spatial(op, 'dilation', options.dilation, 3, 1, 1);
  const out = outputSizes(op, x, space, kernel, stride, padding, dilation, options.ceilMode ?? false);
  const outShape = [...lead, ...out];
  const geo = [planes, ...space, ...out, ...kernel, ...stride, ...padding, ...dilation];
  const idx = call(op, wasm.maxPool3dIndices(x.id, outShape.length, argsI32(outShape, 32), argsI32(geo)));
  return valuesAt(op, x, idx, planes, space, out, options.returnIndices ?? false);
}

function avgPool3dImpl(op: string, x: Tensor, kernelSize: Spatial, options: AvgPoolOptions): Tensor {
  requireInit(op);
  checkFloat(op, x);
  const { lead, planes, space } = layout(op, x, 3);
  const kernel = spatial(op, 'kernelSize', kernelSize, 3, 1, 1);
  const stride = options.stride === undefined ? kernel : spatial(op, 'stride', options.stride, 3, 1, 1);
  const padding = spatial(op, 'padding', options.padding, 3, 0, 0);
  const divisor = options.divisorOverride;
  if (divisor !== undefined && (typeof divisor !== 'number' || !Number.isInteger(divisor) || divisor === 0 || Math.abs(divisor) > 2 ** 31 - 1)) {
    throw new ValueError(`${op}: divisorOverride must be a non-zero integer, got ${show(divisor)}`);
  }
  const out = outputSizes(op, x, space, kernel, stride, padding, [1, 1, 1], options.ceilMode ?? false);
  const geo = [planes, ...space, ...out, ...kernel, ...stride, ...padding, options.countIncludePad === false ? 0 : 1, divisor ?? 0, 0];
  return avgCall(op, x, [...lead, ...out], geo);
}

function avgCall(op: string, x: Tensor, outShape: number[], geo: number[]): Tensor {
  return call(op, wasm.avgPool3dFamily(Op.avgPool3d, x.id, outShape.length, argsI32(outShape, 32), argsI32(geo)));
}

/** torch.nn.functional.max_pool3d on [N, C, D, H, W] or [C, D, H, W]; { returnIndices: true } → [values, indices]. */
export function maxPool3d(x: Tensor, kernelSize: Spatial, options?: MaxPoolOptions & { returnIndices?: false }): Tensor;
export function maxPool3d(x: Tensor, kernelSize: Spatial, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool3d(x: Tensor, kernelSize: Spatial, options?: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  if (arguments.length > 3) checkArity('maxPool3d', arguments, 3, 'x, kernelSize, options?');
  return maxPool3dImpl('maxPool3d', x, kernelSize, MAX_POOL3D.parse(options));
}

/** torch.nn.functional.avg_pool3d on [N, C, D, H, W] or [C, D, H, W]. */
export function avgPool3d(x: Tensor, kernelSize: Spatial, options?: AvgPoolOptions): Tensor {
  if (arguments.length > 3) checkArity('avgPool3d', arguments, 3, 'x, kernelSize, options?');
  return avgPool3dImpl('avgPool3d', x, kernelSize, AVG_POOL3D.parse(options));
}

/** torch.nn.functional.adaptive_avg_pool3d: windows [floor(i·In/out), ceil((i+1)·In/out)) per dim; a null size keeps that dim. */
export function adaptiveAvgPool3d(x: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  const op = 'adaptiveAvgPool3d';
  if (arguments.length > 2) checkArity(op, arguments, 2, 'x, outputSize');
  requireInit(op);
  checkFloat(op, x);
  const { lead, planes, space } = layout(op, x, 3);
  const out = adaptiveOutput(op, x, lead, space, outputSize);
  const geo = [planes, ...space, ...out, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1];
  return avgCall(op, x, [...lead, ...out], geo);
}

const ADAPTIVE_MAX_POOL3D = options('adaptiveMaxPool3d', {
  /** also return the flat in-volume index (int32) of each maximum, as PyTorch's return_indices */
  returnIndices: opt.boolean,
});

function adaptiveMaxPool3dImpl(op: string, x: Tensor, outputSize: number | readonly (number | null)[], options: AdaptiveMaxPoolOptions): Tensor | [Tensor, Tensor] {
  requireInit(op);
  checkFloat(op, x);
  const { lead, planes, space } = layout(op, x, 3);
  const out = adaptiveOutput(op, x, lead, space, outputSize);
  const outShape = [...lead, ...out];
  // kernel extents 0: adaptive windows along every dim (assembly/ops/pool3d.ts)
  const geo = [planes, ...space, ...out, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1];
  const idx = call(op, wasm.maxPool3dIndices(x.id, outShape.length, argsI32(outShape, 32), argsI32(geo)));
  return valuesAt(op, x, idx, planes, space, out, options.returnIndices ?? false);
}

/**
 * torch.nn.functional.adaptive_max_pool3d on [N, C, D, H, W] or [C, D, H, W]: the maximum of
 * each window [floor(i·In/out), ceil((i+1)·In/out)) per dim (a null size keeps that dim);
 * { returnIndices: true } → [values, int32 flat in-volume indices].
 */
export function adaptiveMaxPool3d(x: Tensor, outputSize: number | readonly (number | null)[], options?: AdaptiveMaxPoolOptions & { returnIndices?: false }): Tensor;
export function adaptiveMaxPool3d(x: Tensor, outputSize: number | readonly (number | null)[], options: AdaptiveMaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool3d(x: Tensor, outputSize: number | readonly (number | null)[], options?: AdaptiveMaxPoolOptions): Tensor | [Tensor, Tensor] {
  if (arguments.length > 3) checkArity('adaptiveMaxPool3d', arguments, 3, 'x, outputSize, options?');
  return adaptiveMaxPool3dImpl('adaptiveMaxPool3d', x, outputSize, ADAPTIVE_MAX_POOL3D.parse(options));
}

declare module '../tensor.js' {
  interface Tensor {
    /** 3-D max pooling of this [N, C, D, H, W] or [C, D, H, W] (PyTorch: torch.nn.functional.max_pool3d). */
    maxPool3d(kernelSize: Spatial, options?: MaxPoolOptions & { returnIndices?: false }): Tensor;
    /** 3-D max pooling returning [values, int32 flat in-volume indices] (PyTorch: max_pool3d with return_indices). */
    maxPool3d(kernelSize: Spatial, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
    /** 3-D average pooling of this [N, C, D, H, W] or [C, D, H, W] (PyTorch: torch.nn.functional.avg_pool3d). */
    avgPool3d(kernelSize: Spatial, options?: AvgPoolOptions): Tensor;
    /** Average pooling to a [D, H, W] output size; null keeps that input dim (PyTorch: torch.nn.functional.adaptive_avg_pool3d). */
    adaptiveAvgPool3d(outputSize: number | readonly (number | null)[]): Tensor;
    /** Max pooling to a [D, H, W] output size; null keeps that input dim (PyTorch: torch.nn.functional.adaptive_max_pool3d). */
    adaptiveMaxPool3d(outputSize: number | readonly (number | null)[], options?: AdaptiveMaxPoolOptions & { returnIndices?: false }): Tensor;
    /** Max pooling to a [D, H, W] output size, returning [values, int32 flat in-volume indices] (PyTorch: adaptive_max_pool3d with return_indices). */
    adaptiveMaxPool3d(outputSize: number | readonly (number | null)[], options: AdaptiveMaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
  }
}

const P = Tensor.prototype as any;
P.maxPool3d = function (this: Tensor, kernelSize: Spatial, options?: MaxPoolOptions) {
  if (arguments.length > 2) checkArity('maxPool3d', arguments, 2, 'kernelSize, options?');
  return maxPool3dImpl('maxPool3d', this, kernelSize, MAX_POOL3D.parse(options));
};
P.avgPool3d = function (this: Tensor, kernelSize: Spatial, options?: AvgPoolOptions) {
  if (arguments.length > 2) checkArity('avgPool3d', arguments, 2, 'kernelSize, options?');
  return avgPool3d(this, kernelSize, options);
};
P.adaptiveAvgPool3d = function (this: Tensor, outputSize: number | (number | null)[]) {
  if (arguments.length > 1) checkArity('adaptiveAvgPool3d', arguments, 1, 'outputSize');
  return adaptiveAvgPool3d(this, outputSize);
};
P.adaptiveMaxPool3d = function (this: Tensor, outputSize: number | (number | null)[], options?: AdaptiveMaxPoolOptions) {
  if (arguments.length > 2) checkArity('adaptiveMaxPool3d', arguments, 2, 'outputSize, options?');
  return adaptiveMaxPool3dImpl('adaptiveMaxPool3d', this, outputSize, ADAPTIVE_MAX_POOL3D.parse(options));
};
