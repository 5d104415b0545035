// The MATLAB layer's dlarray functions on formatted input (src/matlab/dlarray.ts, dlnn.ts): each
// builds its formatted operands inside f with dlarray (reshape/permute, differentiable) and runs
// through the layout moves to the kernels and back, so the checks cover the whole path. The
// unformatted forms of fullyconnect, dltranspconv, crosschannelnorm and softmax have their entries
// with the PyTorch families (linear.ts, conv.ts, norm.ts, activation.ts). dims and finddim return
// JS values, not tensors.

import * as wg from '../../src/index.js';
import type { OpCase } from './types.js';
import { inputMaker } from './inputs.js';

const { x64, offZero, distinct } = inputMaker(4200);
const sscb = (x: wg.Tensor) => wg.dlarray(x, 'SSCB');

export const ops: OpCase[] = [
  {
    name: 'stripdims', kind: 'composite', notes: "a copy without the format; with a format, a permute ('SSCB' → 'BCSS')",
    make: () => ({ f: (x) => wg.stripdims(sscb(x), 'BCSS'), inputs: [x64([3, 2, 2, 2])] }),
  },
  {
    name: 'leakyrelu', kind: 'composite', aliasOf: 'leakyRelu', notes: "MATLAB's name; keeps the format",
    make: () => ({ f: (x) => wg.leakyrelu(wg.dlarray(x, 'CB'), 0.3), inputs: [offZero([3, 4])] }),
  },
  {
    name: 'add', kind: 'primitive', notes: "formatted operands matched by label: an 'SSCB' array plus a 'CB' bias (reshaped to [1, 1, C, B])",
    make: () => ({ f: (x, b) => wg.add(sscb(x), wg.dlarray(b, 'CB')), inputs: [x64([2, 3, 2, 2]), x64([2, 2])] }),
  },
  {
    name: 'fullyconnect', kind: 'composite', notes: "formatted 'SSCB' input: one product W·X[K, N] in MATLAB's layout",
    make: () => ({ f: (x, w, b) => wg.fullyconnect(sscb(x), w, b), inputs: [x64([2, 2, 3, 2]), x64([4, 12]), x64([4])] }),
  },
  {
    name: 'dlconv', kind: 'composite', notes: "conv2d on NCHW with OIHW weights (permuted from MATLAB's fh×fw×C×F); asymmetric padding padded explicitly",
    make: () => ({
      f: (x, w, b) => wg.dlconv(sscb(x), w, b, { Padding: [[1, 0], [0, 1]], Stride: [1, 2] }),
      inputs: [x64([4, 4, 2, 2]), x64([3, 2, 2, 3]), x64([3])],
    }),
  },
  {
    name: 'dltranspconv', kind: 'composite', notes: "convTranspose2d on NCHW (weights fh×fw×F×C), cropping by narrow",
    make: () => ({
      f: (x, w, b) => wg.dltranspconv(sscb(x), w, b, { Stride: 2, Cropping: [[1, 0], [0, 1]] }),
      inputs: [x64([3, 2, 2, 2]), x64([2, 3, 3, 2]), x64([3])],
    }),
  },
  {
    name: 'maxpool', kind: 'composite', notes: 'maxPool2d on [C·B, H, W] planes; MATLAB stride 1 by default',
    make: () => ({ f: (x) => wg.maxpool(sscb(x), 2), inputs: [distinct([3, 4, 2, 2])] }),
  },
  {
    name: 'avgpool', kind: 'composite', notes: "avgPool2d on [C·B, H, W] planes; 'same' padding (zeros counted)",
    make: () => ({ f: (x) => wg.avgpool(sscb(x), 2, { Stride: 2, Padding: 'same' }), inputs: [x64([3, 5, 2, 2])] }),
  },
  {
    name: 'batchnorm', kind: 'composite', notes: "batchNorm (training) on [B, C, S…]; Y only (the statistics are returned detached)",
    make: () => ({ f: (x, o, s) => wg.batchnorm(sscb(x), o, s)[0], inputs: [x64([2, 3, 2, 2]), x64([2]), x64([2], 0.5, 1.5)] }),
  },
  {
    name: 'crosschannelnorm', kind: 'composite', notes: "localResponseNorm on [B, C, S…] with MATLAB's K = 2",
    make: () => ({ f: (x) => wg.crosschannelnorm(sscb(x), 3, { alpha: 0.7 }), inputs: [x64([2, 2, 4, 2])] }),
  },
  {
    name: 'softmax', kind: 'primitive', notes: "over the 'C' dim in place (no layout move)",
    make: () => ({ f: (x) => wg.softmax(sscb(x)), inputs: [x64([2, 2, 3, 2])] }),
  },
];
