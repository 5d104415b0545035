// Status of the linear-layer family (src/ops/nn-linear.ts): composites over the batched matmul
// with transpose flags, so VJP and JVP come from matmul, reshape, permute, indexSelect and sum.
// Tests in test/linear.test.ts and test/einsum.test.ts back every row.

import type { OpStatus } from './indexing.js';

export const ops: OpStatus[] = [
  { name: 'linear', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true, aliases: ['fullyconnect'] },
  { name: 'einsum', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true },
];

export default ops;
