// The indexing family's ops (src/ops/indexing.ts, assembly/ops/indexing.ts; format: README.md).
// differentiable: false marks ops whose outputs are integer positions (no derivative exists);
// sort and topk get distinct inputs, so no tie makes them kinked. test/indexing.test.ts backs
// every row.

import * as wg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { OpStatus } from './types.js';
import { inputMaker } from './inputs.js';

const { x64, distinct } = inputMaker(600);
const works = { vjp: true, jvp: true, float32: true, float64: true } as const;
/** integer output: no VJP or JVP to have */
const integral = { differentiable: false, vjp: false, jvp: false, float32: true, float64: true } as const;

const op = (name: string, kind: OpStatus['kind'], f: (x: Tensor) => Tensor, input: () => Tensor, extra: Partial<OpStatus> = {}): OpStatus =>
  ({ name, kind, ...works, make: () => ({ f, inputs: [input()] }), ...extra });

export const ops: OpStatus[] = [
  op('sort', 'composite', (x) => wg.sort(x, { axis: 0, descending: true })[0], () => distinct([4, 3]),
    { notes: 'indices by a stable wasm merge sort (not differentiable), values by the recording gather' }),
  op('argsort', 'primitive', (x) => wg.argsort(x, { descending: true }), () => distinct([3, 4]), { ...integral, notes: 'int32 indices' }),
  op('topk', 'composite', (x) => wg.topk(x, 2, { largest: false })[0], () => distinct([3, 5]), { notes: 'values differentiable, indices int32' }),
  op('argmax', 'primitive', (x) => wg.argmax(x, 1), () => distinct([3, 4]), { ...integral, notes: 'int32 result' }),
  op('argmin', 'primitive', (x) => wg.argmin(x, 0, { keepdims: true }), () => distinct([3, 4]), { ...integral, notes: 'int32 result' }),
  op('cumsum', 'primitive', (x) => wg.cumsum(x, 1), () => x64([3, 4])),
  op('cumprod', 'primitive', (x) => wg.cumprod(x, 0), () => x64([4, 3], -1.5, 1.5),
    { notes: 'rules via the linrec scan primitive: exact with zeros at every order' }),
  op('tril', 'composite', (x) => wg.tril(x, -1), () => x64([2, 3, 3])),
  op('triu', 'composite', (x) => wg.triu(x, 1), () => x64([3, 4])),
  op('flip', 'composite', (x) => wg.flip(x, [0, 2]), () => x64([2, 3, 2])),
  op('roll', 'composite', (x) => wg.roll(x, [1, -1], [0, 1]), () => x64([3, 4])),
  op('tile', 'composite', (x) => wg.tile(x, [2, 1, 2]), () => x64([2, 3])),
  op('repeat', 'composite', (x) => wg.repeat(x, 2, 1, 3), () => x64([2, 3])),
  op('repeatInterleave', 'composite', (x) => wg.repeatInterleave(x, [2, 0, 1], 0), () => x64([3, 2])),
  {
    name: 'oneHot', kind: 'composite', ...integral, float32: false, float64: false,
    notes: 'int32 output from int32 indices (PyTorch: int64)',
    make: () => ({ f: (i) => wg.oneHot(i, 4), inputs: [wg.tensor([[2, 0], [3, 3]], { dtype: 'int32' })] }),
  },
  {
    name: 'embedding', kind: 'composite', ...works, notes: 'gradient w.r.t. the table; paddingIdx row gets none',
    make: () => ({ f: (table) => wg.embedding([[0, 2, 1], [2, 2, 3]], table, { paddingIdx: 1 }), inputs: [x64([4, 3])] }),
  },
];
