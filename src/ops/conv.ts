// Convolution (kernels and rules in assembly/ops/conv.ts): conv1d, conv2d, convTranspose1d,
// convTranspose2d with PyTorch's semantics — NCL / NCHW inputs (or unbatched CL / CHW), weights
// [out, in/groups, k…] for conv and [in, out/groups, k…] for the transposed forms, stride,
// padding (numbers, pairs, 'same', 'valid'), dilation, groups, outputPadding. The bias is added
// by the ordinary broadcasting add, so its gradient comes from add's rule.
//
// Every call is one primitive on a geometry of 16 words: [N, C, O, G, xH, xW, yH, yW, kH, kW,
// sH, sW, pT, pL, dH, dW] where x is the convolution's input side and y its output side (for a
// transposed convolution, y is the given input). 1-D forms are the case xH = yH = kH = 1.

import { Tensor } from '../tensor.js';
import { wasm, argsI32 } from '../runtime.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { Op, idOf, call, requireInit, isFloat, disposeAll } from './common.js';
import { add, relu } from './elementwise.js';
import { reshape } from './shape.js';
import { options, opt, checkArity, type OptionsOf } from '../options.js';
import { checkNumel, checkExtent, integerProblem, show, showList, INT32_MAX } from '../sizes.js';

/** A per-spatial-dim setting (kernel size, stride, …): one number for every spatial dim, or one per dim. */
export type Spatial = number | readonly number[];

const convSpecs = {
  /** step between windows: one number or one per spatial dim (default 1) */
  stride: opt.any<Spatial>(),
  /** zeros added on both sides per spatial dim, or 'valid' (none) or 'same' (output as large as the input; stride 1 only) */
  padding: opt.any<Spatial | 'same' | 'valid'>(),
  /** spacing between kernel taps (default 1) */
  dilation: opt.any<Spatial>(),
  /** channel groups: input and output channels split into `groups` independent convolutions (default 1) */
  groups: opt.any<number>(),
  /** 'relu': relu(conv + bias) as one fused op, the same values and gradients as wg.relu of the convolution ('none', the default) */
  activation: opt.any<'none' | 'relu'>(),
};
const convTransposeSpecs = {
  stride: opt.any<Spatial>(),
  /** removes dilation·(k−1)−padding… from both sides of the output, as PyTorch's padding */
  padding: opt.any<Spatial>(),
  /** extra size on one side of the output (smaller than stride or dilation) */
  outputPadding: opt.any<Spatial>(),
  groups: opt.any<number>(),
  dilation: opt.any<Spatial>(),
};
const CONV1D = options('conv1d', convSpecs);
const CONV2D = options('conv2d', convSpecs);
const CONV_TRANSPOSE1D = options('convTranspose1d', convTransposeSpecs);
const CONV_TRANSPOSE2D = options('convTranspose2d', convTransposeSpecs);
const DLTRANSPCONV = options('dltranspconv', convTransposeSpecs);

/** Options of conv1d / conv2d: stride (1), padding (0, 'same' or 'valid'), dilation (1), groups (1), activation ('none'). */
export type ConvOptions = OptionsOf<typeof convSpecs>;
/** Options of convTranspose1d / convTranspose2d: stride (1), padding (0), outputPadding (0), groups (1), dilation (1). */
export type ConvTransposeOptions = OptionsOf<typeof convTransposeSpecs>;

/**
 * A per-dim integer option as `nd` numbers, each in [min, 2^31 − 1] (the kernels hold
 * geometry in i32s). Anything else is a ValueError naming the op, the option and the value.
 */
export function spatial(op: string, name: string, v: Spatial | undefined, nd: number, fallback: number, min: number): number[] {
  if (!Array.isArray(v) && typeof v !== 'number' && v !== undefined) {
    throw new ValueError(`${op}: ${name} must be a number or ${nd === 1 ? 'a list of 1 number' : `a list of ${nd} numbers`}, got ${show(v)}`);
  }
  const list = v === undefined ? new Array<number>(nd).fill(fallback) : typeof v === 'number' ? new Array<number>(nd).fill(v) : [...v];
  if (list.length !== nd) {
    throw new ValueError(`${op}: ${name} needs ${nd} value${nd === 1 ? '' : 's'} (one per spatial dim), got ${showList(list)}`);
  }
  if (list.some((d) => integerProblem(d, min, INT32_MAX) !== undefined)) {
    const what = min === 1 ? 'positive integers' : 'non-negative integers';
    throw new ValueError(`${op}: ${name} must be ${what}, got ${formatSpatial(v)} (each at most ${INT32_MAX}, as the kernels hold geometry in int32)`);
  }
  return list;
}

const formatSpatial = (v: unknown): string => showList(v);

/**
 * Checks the geometry a kernel will index with i32s: the padded input extents (and, for
 * transposed convolutions, the uncropped output extents) and the im2col columns of one image
 * (C·kH·kW·outH·outW elements, which the kernels allocate).
 */
function checkGeometry(op: string, dtype: 'float32' | 'float64', padded: number[], columns: number): void {
  padded.forEach((p, i) => checkExtent(op, `the padded extent of spatial dim ${i}`, p, 'input plus padding, or the dilated kernel'));
  checkNumel(op, [columns], dtype, 'the im2col columns of one image');
}

function checkFloatPair(op: string, x: Tensor, w: Tensor): void {
  idOf(x, `${op} (x)`);
  idOf(w, `${op} (weight)`);
  for (const [t, name] of [[x, 'x'], [w, 'weight']] as const) {
    if (!isFloat(t.dtype)) {
      throw new DTypeError(`${op}: ${name} is a ${t.dtype} tensor of shape ${formatShape(t.dims)}; convolution takes float32 or float64 tensors`);
    }
  }
  if (x.dtype !== w.dtype) {
    throw new DTypeError(`${op}: cannot mix float32 and float64 (x is ${x.dtype} ${formatShape(x.dims)}, weight is ${w.dtype} ${formatShape(w.dims)}); ` +
      "cast one with .to('float32') or .to('float64')");
  }
}

function checkGroups(op: string, groups: number | undefined): number {
  const g = groups ?? 1;
  if (integerProblem(g, 1, INT32_MAX) !== undefined) throw new ValueError(`${op}: groups must be a positive integer, got ${show(groups)}`);
  return g;
}

/** The input's batch size and spatial dims; a rank nd+1 input is unbatched. */
function inputLayout(op: string, x: Tensor, nd: number): { batched: boolean; n: number; c: number; space: number[] } {
  const r = x.rank;
  if (r !== nd + 1 && r !== nd + 2) {
    const names = nd === 1 ? ['(C, L)', '(N, C, L)'] : nd === 2 ? ['(C, H, W)', '(N, C, H, W)'] : ['(C, D, H, W)', '(N, C, D, H, W)'];
    throw new ShapeError(`${op}: x must have rank ${nd + 1} ${names[0]} or ${nd + 2} ${names[1]}, got shape ${formatShape(x.dims)}`);
  }
  const batched = r === nd + 2;
  const d = x.dims;
  return { batched, n: batched ? d[0] : 1, c: d[batched ? 1 : 0], space: d.slice(r - nd) };
}

function checkWeightRank(op: string, w: Tensor, nd: number, layout: string): void {
  if (w.rank !== nd + 2) {
    throw new ShapeError(`${op}: weight must have rank ${nd + 2} ${layout}, got shape ${formatShape(w.dims)}`);
  }
}

function checkBias(op: string, bias: Tensor | null | undefined, channels: number, x: Tensor): Tensor | undefined {
  if (bias === undefined || bias === null) return undefined;
  idOf(bias, `${op} (bias)`);
  if (bias.rank !== 1 || bias.dims[0] !== channels) {
    throw new ShapeError(`${op}: bias must have shape [${channels}] (one value per output channel), got ${formatShape(bias.dims)}`);
  }
  if (bias.dtype !== x.dtype) {
    throw new DTypeError(`${op}: bias is ${bias.dtype} but x is ${x.dtype}; cast one with .to('float32') or .to('float64')`);
  }
  return bias;
}

/** Runs one primitive, then adds the bias broadcast over the spatial dims. */
function run(op: string, code: Op, a: Tensor, b: Tensor, outShape: number[], geo: number[], bias: Tensor | undefined, nd: number): Tensor {
  return addBias(call(op, wasm.convFamily(code, a.id, b.id, outShape.length, argsI32(outShape, 32), argsI32(geo, 0))), bias, nd);
}

/** y plus the bias broadcast over its nd spatial dims (y itself without a bias). */
export function addBias(y: Tensor, bias: Tensor | undefined, nd: number): Tensor {
  if (bias === undefined) return y;
  const temps = [y];
  try {
    const b2 = reshape(bias, [bias.dims[0], ...new Array<number>(nd).fill(1)]);
    temps.push(b2);
    return add(y, b2);
  } finally {
    disposeAll(temps);
  }
}

/** A convolution's checked sizes (every spatial list has nd entries; `before` is the leading padding). */
export interface ConvPlan {
  batched: boolean; n: number; c: number; o: number; groups: number; space: number[]; out: number[]; kernel: number[];
  stride: number[]; before: number[]; dilation: number[]; outShape: number[]; bias: Tensor | undefined;
}

function convNd(op: string, nd: number, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvOptions): Tensor {
  const activation = options.activation ?? 'none';
  if (activation !== 'none' && activation !== 'relu') {
    throw new ValueError(`${op}: activation must be 'none' or 'relu', got ${show(activation)}`);
  }
  const { batched, n, c, o, groups, space, out, kernel, stride, before, dilation, outShape, bias: b } = convPlan(op, nd, x, weight, bias, options);
  const two = (v: number[], one: number): number[] => (nd === 1 ? [one, v[0]] : v);
  const geo = [n, c, o, groups, ...two(space, 1), ...two(out, 1), ...two(kernel, 1), ...two(stride, 1),
    ...two(before, 0), ...two(dilation, 1)];
  if (activation === 'none') return run(op, Op.conv, x, weight, outShape, geo, b, nd);
  if (b === undefined) {
    const y = run(op, Op.conv, x, weight, outShape, geo, undefined, nd);
    try { return relu(y); } finally { y.dispose(); }
  }
  // One op: the bias add and the relu happen as the convolution is stored.
  return call(op, wasm.convBiasRelu(x.id, weight.id, b.id, outShape.length, argsI32(outShape, 32), argsI32(geo, 0), batched ? 1 : 0));
}

/** PyTorch's checks and sizes of an nd-dim convolution (conv1d, conv2d, conv3d). */
export function convPlan(op: string, nd: number, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvOptions): ConvPlan {
  requireInit(op);
  checkFloatPair(op, x, weight);
  const layout = nd === 1 ? '(out, in/groups, k)' : nd === 2 ? '(out, in/groups, kH, kW)' : '(out, in/groups, kD, kH, kW)';
  const { batched, n, c, space } = inputLayout(op, x, nd);
  checkWeightRank(op, weight, nd, layout);
  const groups = checkGroups(op, options.groups);
  const [o, cg] = weight.dims;
  const kernel = weight.dims.slice(2);
  if (c % groups !== 0) {
    throw new ShapeError(`${op}: groups ${groups} must divide the input channels, but x ${formatShape(x.dims)} has ${c}`);
  }
  if (o % groups !== 0) {
    throw new ShapeError(`${op}: groups ${groups} must divide the output channels, but weight ${formatShape(weight.dims)} has ${o}`);
  }
  if (cg * groups !== c) {
    throw new ShapeError(`${op}: x ${formatShape(x.dims)} has ${c} channels, but weight ${formatShape(weight.dims)} with groups ${groups} ` +
      `expects ${cg * groups} (weight dim 1 × groups = ${cg} × ${groups})`);
  }
  const b = checkBias(op, bias, o, x);
  const stride = spatial(op, 'stride', options.stride, nd, 1, 1);
  const dilation = spatial(op, 'dilation', options.dilation, nd, 1, 1);
  const padding = options.padding ?? 0;
  let before: number[], after: number[];
  if (padding === 'valid') {
    before = after = new Array<number>(nd).fill(0);
  } else if (padding === 'same') {
    if (stride.some((s) => s !== 1)) {
      throw new ValueError(`${op}: padding 'same' needs stride 1 (as in PyTorch), got stride ${formatSpatial(options.stride)}`);
    }
    // PyTorch: the total dilation·(k−1) is split with the odd one out on the right/bottom.
    const total = kernel.map((k, i) => dilation[i] * (k - 1));
    before = total.map((t) => Math.floor(t / 2));
    after = total.map((t, i) => t - before[i]);
  } else if (typeof padding === 'string') {
    throw new ValueError(`${op}: padding must be a number, a list of numbers, 'same' or 'valid', got '${padding}'`);
  } else {
    before = after = spatial(op, 'padding', padding, nd, 0, 0);
  }
  // Sizes in float (exact: every term is an int32), checked before any i32 sees them.
  const padded = space.map((s, i) => s + before[i] + after[i]);
  const reach = kernel.map((k, i) => dilation[i] * (k - 1) + 1);
  const out = space.map((s, i) => {
    if (reach[i] > padded[i]) {
      throw new ShapeError(`${op}: kernel ${kernel.join('×')} (dilated ${reach.join('×')}) is larger than ` +
        `the padded input ${padded.join('×')} (x ${formatShape(x.dims)}, padding ${formatSpatial(options.padding ?? 0)})`);
    }
    return Math.floor((padded[i] - reach[i]) / stride[i]) + 1;
  });
  const outShape = [...(batched ? [n] : []), o, ...out];
  checkNumel(op, outShape, x.dtype as 'float32' | 'float64');
  checkGeometry(op, x.dtype as 'float32' | 'float64', [...padded, ...reach], c * kernel.reduce((a, k) => a * k, 1) * out.reduce((a, d) => a * d, 1));
  return { batched, n, c, o, groups, space, out, kernel, stride, before, dilation, outShape, bias: b };
}

function convTransposeNd(op: string, nd: number, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvTransposeOptions): Tensor {
  const { n, c, o, groups, space, out, kernel, stride, before, dilation, outShape, bias: b } = convTransposePlan(op, nd, x, weight, bias, options);
  const two = (v: number[], one: number): number[] => (nd === 1 ? [one, v[0]] : v);
  // The transposed convolution is conv's input-side map: its output is the geometry's x side.
  const geo = [n, o, c, groups, ...two(out, 1), ...two(space, 1), ...two(kernel, 1), ...two(stride, 1),
    ...two(before, 0), ...two(dilation, 1)];
  return run(op, Op.convTranspose, x, weight, outShape, geo, b, nd);
}

/**
 * PyTorch's checks and sizes of an nd-dim transposed convolution: `space` is the given input's
 * extent, `out` the output's, `o` its channels and `before` the padding cropped from each side.
 */
export function convTransposePlan(op: string, nd: number, x: Tensor, weight: Tensor, bias: Tensor | null | undefined,
                                  options: ConvTransposeOptions): ConvPlan {
  requireInit(op);
  checkFloatPair(op, x, weight);
  const layout = nd === 1 ? '(in, out/groups, k)' : nd === 2 ? '(in, out/groups, kH, kW)' : '(in, out/groups, kD, kH, kW)';
  const { batched, n, c, space } = inputLayout(op, x, nd);
  checkWeightRank(op, weight, nd, layout);
  const groups = checkGroups(op, options.groups);
  const [cin, cgOut] = weight.dims;
  const kernel = weight.dims.slice(2);
  if (c !== cin) {
    throw new ShapeError(`${op}: x ${formatShape(x.dims)} has ${c} channels, but weight ${formatShape(weight.dims)} expects ${cin} (weight dim 0)`);
  }
  if (c % groups !== 0) {
    throw new ShapeError(`${op}: groups ${groups} must divide the input channels, but x ${formatShape(x.dims)} has ${c}`);
  }
  const cout = cgOut * groups;
  const b = checkBias(op, bias, cout, x);
  const stride = spatial(op, 'stride', options.stride, nd, 1, 1);
  const dilation = spatial(op, 'dilation', options.dilation, nd, 1, 1);
  if (typeof options.padding === 'string') {
    throw new ValueError(`${op}: padding must be a number or a list of numbers, got '${options.padding}'`);
  }
  const padding = spatial(op, 'padding', options.padding, nd, 0, 0);
  const outputPadding = spatial(op, 'outputPadding', options.outputPadding, nd, 0, 0);
  outputPadding.forEach((p, i) => {
    if (p >= stride[i] && p >= dilation[i]) {
      throw new ValueError(`${op}: outputPadding ${formatSpatial(options.outputPadding)} must be smaller than stride ${formatSpatial(stride)} ` +
        `or dilation ${formatSpatial(dilation)} in each dim`);
    }
  });
  // Sizes in float (exact: every term is an int32), checked before any i32 sees them.
  const full = space.map((s, i) => (s - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + outputPadding[i] + 1);
  const out = full.map((f, i) => f - 2 * padding[i]);
  if (out.some((s) => s < 1)) {
    throw new ShapeError(`${op}: the output size ${out.join('×')} is not positive (x ${formatShape(x.dims)}, weight ${formatShape(weight.dims)}, ` +
      `stride ${formatSpatial(stride)}, padding ${formatSpatial(padding)}, dilation ${formatSpatial(dilation)})`);
  }
  const outShape = [...(batched ? [n] : []), cout, ...out];
  checkNumel(op, outShape, x.dtype as 'float32' | 'float64');
  // The columns are [cout/groups·k…, input positions] per group: cout·kH·kW·inH·inW per image.
  checkGeometry(op, x.dtype as 'float32' | 'float64', full, cout * kernel.reduce((a, k) => a * k, 1) * space.reduce((a, d) => a * d, 1));
  return { batched, n, c, o: cout, groups, space, out, kernel, stride, before: padding, dilation, outShape, bias: b };
}

/** torch.nn.functional.conv1d: x [N, C, L] or [C, L], weight [out, C/groups, k]. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor {
  if (arguments.length > 4) checkArity('conv1d', arguments, 4, 'x, weight, bias?, options?');
  return convNd('conv1d', 1, x, weight, bias, CONV1D.parse(options));
}

/** torch.nn.functional.conv2d: x [N, C, H, W] or [C, H, W], weight [out, C/groups, kH, kW]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor {
  if (arguments.length > 4) checkArity('conv2d', arguments, 4, 'x, weight, bias?, options?');
  return convNd('conv2d', 2, x, weight, bias, CONV2D.parse(options));
}

/** torch.nn.functional.conv_transpose1d: x [N, C, L] or [C, L], weight [C, out/groups, k]. */
export function convTranspose1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor {
  if (arguments.length > 4) checkArity('convTranspose1d', arguments, 4, 'x, weight, bias?, options?');
  return convTransposeNd('convTranspose1d', 1, x, weight, bias, CONV_TRANSPOSE1D.parse(options));
}

/** torch.nn.functional.conv_transpose2d: x [N, C, H, W] or [C, H, W], weight [C, out/groups, kH, kW]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor {
  if (arguments.length > 4) checkArity('convTranspose2d', arguments, 4, 'x, weight, bias?, options?');
  return convTransposeNd('convTranspose2d', 2, x, weight, bias, CONV_TRANSPOSE2D.parse(options));
}

/** MATLAB's dltranspconv, with PyTorch's layouts (see convTranspose2d). */
export function dltranspconv(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor {
  if (arguments.length > 4) checkArity('dltranspconv', arguments, 4, 'x, weight, bias?, options?');
  return convTransposeNd('dltranspconv', 2, x, weight, bias, DLTRANSPCONV.parse(options));
}

declare module '../tensor.js' {
  interface Tensor {
    /** 1-D convolution of this [N, C, L] (or [C, L]) with weight [out, C/groups, k] (PyTorch: torch.nn.functional.conv1d; MATLAB: dlconv). */
    conv1d(weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor;
    /** 2-D convolution of this [N, C, H, W] (or [C, H, W]) with weight [out, C/groups, kH, kW] (PyTorch: torch.nn.functional.conv2d; MATLAB: dlconv). */
    conv2d(weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor;
    /** 1-D transposed convolution of this [N, C, L] with weight [C, out/groups, k] (PyTorch: torch.nn.functional.conv_transpose1d). */
    convTranspose1d(weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor;
    /** 2-D transposed convolution of this [N, C, H, W] with weight [C, out/groups, kH, kW] (PyTorch: torch.nn.functional.conv_transpose2d; MATLAB: dltranspconv). */
    convTranspose2d(weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.conv1d = function (weight, bias, options) {
  if (arguments.length > 3) checkArity('conv1d', arguments, 3, 'weight, bias?, options?');
  return conv1d(this, weight, bias, options);
};
P.conv2d = function (weight, bias, options) {
  if (arguments.length > 3) checkArity('conv2d', arguments, 3, 'weight, bias?, options?');
  return conv2d(this, weight, bias, options);
};
P.convTranspose1d = function (weight, bias, options) {
  if (arguments.length > 3) checkArity('convTranspose1d', arguments, 3, 'weight, bias?, options?');
  return convTranspose1d(this, weight, bias, options);
};
P.convTranspose2d = function (weight, bias, options) {
  if (arguments.length > 3) checkArity('convTranspose2d', arguments, 3, 'weight, bias?, options?');
  return convTranspose2d(this, weight, bias, options);
};
