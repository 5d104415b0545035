// The attention ops (src/ops/attention.ts; format: README.md). Composites get VJP, JVP and
// higher derivatives from the primitives they are built of; the fused op attention has rules of
// its own (assembly/ops/attention.ts).

import * as wg from '../../src/index.js';
import type { OpStatus } from './types.js';
import { inputMaker, joined } from './inputs.js';

const { x64 } = inputMaker(400);
const works = { vjp: true, jvp: true, float32: true, float64: true } as const;

export const ops: OpStatus[] = [
  {
    name: 'scaledDotProductAttention', kind: 'primitive', ...works,
    notes: 'without attnMask and dropout the fused ops attention and attentionBackward (blocks of query rows, no L×S matrix); with them a composite',
    // query, key, value and a float mask added to the scores; the fused causal and plain forms too
    make: () => ({
      f: (q, k, v, m) => joined(wg.scaledDotProductAttention(q, k, v, { attnMask: m }),
        wg.scaledDotProductAttention(q, k, v, { isCausal: true }), wg.scaledDotProductAttention(q, k, v, { scale: 0.7 })),
      inputs: [x64([2, 3, 4]), x64([2, 5, 4]), x64([2, 5, 3]), x64([3, 5])],
    }),
  },
  {
    name: 'multiHeadAttention', kind: 'composite', ...works,
    // query, key, value and every parameter; the output and the averaged weights joined
    make: () => ({
      f: (q, k, v, inW, inB, oW, oB) => {
        const [out, weights] = wg.multiHeadAttention(q, k, v,
          { in_proj_weight: inW, in_proj_bias: inB, 'out_proj.weight': oW, 'out_proj.bias': oB }, { numHeads: 2 });
        return joined(out, weights!);
      },
      inputs: [x64([2, 2, 4]), x64([3, 2, 4]), x64([3, 2, 4]), x64([12, 4]), x64([12]), x64([4, 4]), x64([4])],
    }),
  },
];
