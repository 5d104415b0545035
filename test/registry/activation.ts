// The activation family's ops (format: README.md). kind: 'primitive' = kernel + VJP + JVP rules
// in wasm (assembly/ops/activation.ts); 'composite' = built from differentiable ops on the host.
// relu, sigmoid and tanh are elementwise primitives (listed with the core ops).

import * as wg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { OpStatus } from './types.js';
import { inputMaker, f64 } from './inputs.js';

const { x64, offZero } = inputMaker(300);
const works = { vjp: true, jvp: true, float32: true, float64: true } as const;

/** An activation of one float64 input. */
const act = (name: string, kind: OpStatus['kind'], f: (x: Tensor) => Tensor, input: () => Tensor, extra: Partial<OpStatus> = {}): OpStatus =>
  ({ name, kind, ...works, make: () => ({ f, inputs: [input()] }), ...extra });

/** Values on both sides of each bound and at least 0.1 from it. */
const around = (bounds: number[]) => () => f64(bounds.flatMap((b, i) => [b - 0.35 - 0.1 * i, b + 0.2 + 0.1 * i]).concat([0.15, -0.45]), [2, bounds.length + 1]);

export const activation: OpStatus[] = [
  act('softmax', 'primitive', (x) => wg.softmax(x, 0), () => x64([3, 4], -2, 2),
    { notes: 'float32 rows: SIMD passes with float32 sums, as PyTorch; the gradient is the fused op softmaxBackward, with rules of its own' }),
  act('logSoftmax', 'primitive', (x) => wg.logSoftmax(x), () => x64([2, 5], -2, 2),
    { notes: 'float32 rows: SIMD passes with float32 sums, as PyTorch; the gradient is the fused op logSoftmaxBackward, with rules of its own' }),
  act('leakyRelu', 'composite', (x) => wg.leakyRelu(x, 0.1), () => offZero([2, 4])),
  act('elu', 'composite', (x) => wg.elu(x, 1.5), () => offZero([2, 4])),
  act('selu', 'composite', (x) => wg.selu(x), () => offZero([2, 4])),
  act('gelu', 'primitive', (x) => wg.gelu(x).add(wg.gelu(x, { approximate: 'tanh' }).mul(2)), () => x64([2, 4], -3, 3),
    { notes: "approximate: 'none' (erf) or 'tanh'; one pass in float64 per element, the gradient the fused op geluBackward with rules of its own" }),
  act('silu', 'composite', (x) => wg.silu(x), () => x64([2, 4], -3, 3)),
  act('swish', 'composite', (x) => wg.swish(x), () => x64([2, 4], -3, 3), { aliasOf: 'silu' }),
  act('mish', 'composite', (x) => wg.mish(x), () => x64([2, 4], -3, 3)),
  // below, inside and above the bounds (the derivative is 0 outside, 1 inside)
  act('hardtanh', 'composite', (x) => wg.hardtanh(x, -0.5, 1), around([-0.5, 1])),
  act('hardsigmoid', 'composite', (x) => wg.hardsigmoid(x), around([-3, 3])),
  // beta·x > threshold (x > 1) is the linear region
  act('softplus', 'composite', (x) => wg.softplus(x, { beta: 2, threshold: 2 }), around([1, -1]),
    { notes: 'beta = 1, threshold = 20 is the elementwise softplus primitive' }),
  // re-seeded on every call, so each evaluation draws the same mask
  act('dropout', 'composite', (x) => { wg.manualSeed(7); return wg.dropout(x, 0.3); }, () => x64([3, 4]),
    { notes: 'x times a constant mask from the seeded generator' }),
];
