// The linear-layer family (src/ops/nn-linear.ts; format: README.md): composites over the batched
// matmul with transpose flags, so VJP and JVP come from matmul, reshape, permute, indexSelect and
// sum. test/linear.test.ts and test/einsum.test.ts back every row.

import * as wg from '../../src/index.js';
import type { OpStatus } from './types.js';
import { inputMaker } from './inputs.js';

const { x64 } = inputMaker(1100);
const works = { vjp: true, jvp: true, float32: true, float64: true } as const;

export const ops: OpStatus[] = [
  {
    name: 'linear', kind: 'composite', ...works,
    make: () => ({ f: (x, w, b) => wg.linear(x, w, b), inputs: [x64([2, 3, 4]), x64([2, 4]), x64([2])] }),
  },
  {
    name: 'fullyconnect', kind: 'composite', ...works, aliasOf: 'linear', notes: "MATLAB's name, PyTorch's layouts",
    make: () => ({ f: (x, w, b) => wg.fullyconnect(x, w, b), inputs: [x64([3, 4]), x64([2, 4]), x64([2])] }),
  },
  {
    name: 'einsum', kind: 'composite', ...works,
    // a batched contraction with a broadcast operand, a diagonal and a sum over a free index
    make: () => ({ f: (a, b, c) => wg.einsum('bij,jk,bkk->bi', a, b, c), inputs: [x64([2, 2, 3]), x64([3, 4]), x64([2, 4, 4])] }),
  },
];
