// The recurrent ops (src/ops/recurrent.ts; format: README.md). Composites get VJP, JVP and higher
// derivatives from the primitives they are built of. Inputs: the sequence, the initial states
// and every weight (in PyTorch's flat-weights order); the outputs are joined into one vector.

import * as wg from '../../src/index.js';
import type { OpStatus } from './types.js';
import { inputMaker, joined } from './inputs.js';

const { x64 } = inputMaker(1000);
const works = { vjp: true, jvp: true, float32: true, float64: true } as const;
/** w_ih, w_hh, b_ih, b_hh of one layer and direction with `gates`·H rows. */
const cell = (gates: number, inSize: number, H: number) => [x64([gates * H, inSize]), x64([gates * H, H]), x64([gates * H]), x64([gates * H])];

export const ops: OpStatus[] = [
  {
    name: 'lstm', kind: 'composite', ...works,
    // one bidirectional layer: T 3, N 2, input 2, hidden 2
    make: () => ({
      f: (x, h0, c0, ...ws) => { const [out, [h, c]] = wg.lstm(x, [h0, c0], ws, { bidirectional: true }); return joined(out, h, c); },
      inputs: [x64([3, 2, 2]), x64([2, 2, 2]), x64([2, 2, 2]), ...cell(4, 2, 2), ...cell(4, 2, 2)],
    }),
  },
  {
    name: 'gru', kind: 'composite', ...works,
    // two stacked layers, batch-first: N 2, T 3, input 3, hidden 2
    make: () => ({
      f: (x, h0, ...ws) => { const [out, h] = wg.gru(x, h0, ws, { numLayers: 2, batchFirst: true }); return joined(out, h); },
      inputs: [x64([2, 3, 3]), x64([2, 2, 2]), ...cell(3, 3, 2), ...cell(3, 2, 2)],
    }),
  },
];
