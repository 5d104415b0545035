// The normalisation family's ops (format: README.md). kind: 'primitive' = kernel + VJP + JVP
// rules in wasm (assembly/ops/norm.ts); 'composite' = built from differentiable ops on the host.
// Input, weight and bias are all inputs.

import * as wg from '../../src/index.js';
import type { OpStatus } from './types.js';
import { inputMaker } from './inputs.js';

const { x64 } = inputMaker(900);
const works = { vjp: true, jvp: true, float32: true, float64: true } as const;

export const norm: OpStatus[] = [
  {
    name: 'batchNorm', kind: 'primitive', ...works,
    notes: 'normalize primitive (training) + per-channel affine; running stats updated in place, not differentiated',
    make: () => ({ f: (x, w, b) => wg.batchNorm(x, null, null, w, b, { training: true }), inputs: [x64([3, 2, 4]), x64([2]), x64([2])] }),
  },
  {
    name: 'layerNorm', kind: 'primitive', ...works,
    notes: 'fused op with the affine inside; gradients the fused ops layerNormBackward and layerNormWeightGrad, with rules of their own',
    make: () => ({ f: (x, w, b) => wg.layerNorm(x, [2, 3], w, b), inputs: [x64([2, 2, 3]), x64([2, 3]), x64([2, 3])] }),
  },
  {
    name: 'groupNorm', kind: 'primitive', ...works, notes: 'normalize primitive + per-channel affine',
    make: () => ({ f: (x, w, b) => wg.groupNorm(x, 2, w, b), inputs: [x64([2, 4, 3]), x64([4]), x64([4])] }),
  },
  {
    name: 'instanceNorm', kind: 'primitive', ...works, notes: 'normalize primitive + per-channel affine; optional running stats',
    make: () => ({ f: (x, w, b) => wg.instanceNorm(x, null, null, w, b), inputs: [x64([2, 2, 2, 3]), x64([2]), x64([2])] }),
  },
  {
    name: 'localResponseNorm', kind: 'composite', ...works,
    make: () => ({ f: (x) => wg.localResponseNorm(x, 3, { alpha: 0.5, beta: 0.75, k: 1 }), inputs: [x64([2, 4, 3])] }),
  },
  {
    name: 'crosschannelnorm', kind: 'composite', ...works, aliasOf: 'localResponseNorm',
    make: () => ({ f: (x) => wg.crosschannelnorm(x, 2, { alpha: 0.8 }), inputs: [x64([1, 3, 2, 2])] }),
  },
];
