// The loss family's ops and their status (checked by the shared registry test).
// kind: 'primitive' = kernel + VJP + JVP rules in wasm (assembly/loss.ts); 'composite' = built
// from differentiable ops on the host (crossEntropy's logSoftmax is the fused primitive).

import type { OpStatus } from './norm.js';

const composite = { kind: 'composite', vjp: true, jvp: true, float32: true, float64: true } as const;

export const loss: OpStatus[] = [
  { name: 'crossEntropy', ...composite },
  { name: 'indexcrossentropy', ...composite, aliasOf: 'crossEntropy', note: 'class-index targets only' },
  { name: 'nllLoss', ...composite },
  { name: 'binaryCrossEntropy', ...composite },
  { name: 'binaryCrossEntropyWithLogits', ...composite },
  { name: 'mse', ...composite },
  { name: 'mseLoss', ...composite, aliasOf: 'mse' },
  { name: 'halfMse', ...composite, note: "MATLAB's mse: sum of squared errors / (2·N)" },
  { name: 'l1Loss', ...composite },
  { name: 'huberLoss', ...composite },
  { name: 'smoothL1Loss', ...composite },
  { name: 'klDiv', ...composite },
  { name: 'ctcLoss', kind: 'primitive', vjp: true, jvp: true, float32: true, float64: true,
    note: "PyTorch's gradient formula (assumes log-softmax input); no second derivative, as in PyTorch" },
];

export default loss;
