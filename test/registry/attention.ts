// Status of the attention ops (src/ops/attention.ts) for the shared op-registry test.
// Composites get VJP, JVP and higher derivatives from the primitives they are built of.

import type { OpStatus } from './recurrent.js';

export const ops: OpStatus[] = [
  { name: 'scaledDotProductAttention', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true },
  { name: 'multiHeadAttention', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true },
];

export default ops;
