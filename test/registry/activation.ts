// The activation family's ops and their status (checked by the shared registry test).
// kind: 'primitive' = kernel + VJP + JVP rules in wasm (assembly/activation.ts); 'composite' =
// built from differentiable ops on the host. relu, sigmoid and tanh are elementwise primitives
// (listed with the elementwise family).

import type { OpStatus } from './norm.js';

const fused = { kind: 'primitive', vjp: true, jvp: true, float32: true, float64: true } as const;
const composite = { kind: 'composite', vjp: true, jvp: true, float32: true, float64: true } as const;

export const activation: OpStatus[] = [
  { name: 'softmax', ...fused },
  { name: 'logSoftmax', ...fused },
  { name: 'leakyRelu', ...composite },
  { name: 'elu', ...composite },
  { name: 'selu', ...composite },
  { name: 'gelu', ...composite, note: "approximate: 'none' (erf) or 'tanh'" },
  { name: 'silu', ...composite },
  { name: 'swish', ...composite, aliasOf: 'silu' },
  { name: 'mish', ...composite },
  { name: 'hardtanh', ...composite },
  { name: 'hardsigmoid', ...composite },
  { name: 'softplus', ...composite, note: 'beta = 1, threshold = 20 is the elementwise softplus primitive' },
  { name: 'dropout', ...composite, note: 'x times a constant mask from the seeded generator' },
];

export default activation;
