// 3-D convolution (kernels and rules in assembly/ops/conv3d.ts): conv3d and convTranspose3d with
// PyTorch's semantics — NCDHW input (or unbatched CDHW), weight [out, in/groups, kD, kH, kW] for
// conv3d and [in, out/groups, kD, kH, kW] for convTranspose3d, stride, padding (numbers, triples,
// 'same', 'valid'), dilation, groups, outputPadding. The checks and sizes are conv.ts's, the same
// in every dimension; the bias is added by the broadcasting add.
//
// Each call is one primitive on a geometry of 22 words: [N, C, O, G, xD, xH, xW, yD, yH, yW, kD,
// kH, kW, sD, sH, sW, pD, pH, pW, dD, dH, dW], x the convolution's input side and y its output
// side (for a transposed convolution, y is the given input).

import { Tensor } from '../tensor.js';
import { wasm, argsI32 } from '../runtime.js';
import { Op, call } from './common.js';
import { convPlan, convTransposePlan, addBias, type ConvOptions, type ConvTransposeOptions, type ConvPlan } from './conv.js';
import { options, opt, checkArity } from '../options.js';
import type { Spatial } from './conv.js';

const CONV3D = options('conv3d', {
  /** step between windows: one number or [sD, sH, sW] (default 1) */
  stride: opt.any<Spatial>(),
  /** zeros on both sides per spatial dim, or 'valid' (none) or 'same' (output as large as the input; stride 1 only) */
  padding: opt.any<Spatial | 'same' | 'valid'>(),
  /** spacing between kernel taps (default 1) */
  dilation: opt.any<Spatial>(),
  /** channel groups (default 1) */
  groups: opt.any<number>(),
});
const CONV_TRANSPOSE3D = options('convTranspose3d', {
  stride: opt.any<Spatial>(),
  /** removes dilation·(k−1)−padding… from both sides of the output, as PyTorch's padding */
  padding: opt.any<Spatial>(),
  /** extra size on one side of the output (smaller than stride or dilation) */
  outputPadding: opt.any<Spatial>(),
  groups: opt.any<number>(),
  dilation: opt.any<Spatial>(),
});

function run(op: string, code: Op, a: Tensor, b: Tensor, plan: ConvPlan, geo: number[]): Tensor {
  const { outShape } = plan;
  return addBias(call(op, wasm.conv3dFamily(code, a.id, b.id, outShape.length, argsI32(outShape, 32), argsI32(geo, 0))), plan.bias, 3);
}

/** torch.nn.functional.conv3d: x [N, C, D, H, W] or [C, D, H, W], weight [out, C/groups, kD, kH, kW]. */
export function conv3d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: ConvOptions): Tensor {
  if (arguments.length > 4) checkArity('conv3d', arguments, 4, 'x, weight, bias?, options?');
  const p = convPlan('conv3d', 3, x, weight, bias, CONV3D.parse(opts));
  return run('conv3d', Op.conv3d, x, weight, p,
    [p.n, p.c, p.o, p.groups, ...p.space, ...p.out, ...p.kernel, ...p.stride, ...p.before, ...p.dilation]);
}

/** torch.nn.functional.conv_transpose3d: x [N, C, D, H, W] or [C, D, H, W], weight [C, out/groups, kD, kH, kW]. */
export function convTranspose3d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: ConvTransposeOptions): Tensor {
  if (arguments.length > 4) checkArity('convTranspose3d', arguments, 4, 'x, weight, bias?, options?');
  const p = convTransposePlan('convTranspose3d', 3, x, weight, bias, CONV_TRANSPOSE3D.parse(opts));
  // conv3d's input-side map: the output is the geometry's x side, the given input its y side.
  return run('convTranspose3d', Op.convTranspose3d, x, weight, p,
    [p.n, p.o, p.c, p.groups, ...p.out, ...p.space, ...p.kernel, ...p.stride, ...p.before, ...p.dilation]);
}

declare module '../tensor.js' {
  interface Tensor {
    /** 3-D convolution of this [N, C, D, H, W] (or [C, D, H, W]) with weight [out, C/groups, kD, kH, kW] (PyTorch: torch.nn.functional.conv3d). */
    conv3d(weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor;
    /** 3-D transposed convolution of this [N, C, D, H, W] with weight [C, out/groups, kD, kH, kW] (PyTorch: torch.nn.functional.conv_transpose3d). */
    convTranspose3d(weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.conv3d = function (weight, bias, options) {
  if (arguments.length > 3) checkArity('conv3d', arguments, 3, 'weight, bias?, options?');
  return conv3d(this, weight, bias, options);
};
P.convTranspose3d = function (weight, bias, options) {
  if (arguments.length > 3) checkArity('convTranspose3d', arguments, 3, 'weight, bias?, options?');
  return convTranspose3d(this, weight, bias, options);
};
