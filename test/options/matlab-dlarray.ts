// The MATLAB layer's dlarray functions (src/matlab/dlnn.ts): one case per schema, each on
// formatted input. dltranspconv and crosschannelnorm have their cases with the PyTorch forms
// (ops-conv-index-shape.ts, ops-activation-norm-loss.ts); dlarray's options are tensor()'s.
import * as wg from '../../src/index.js';
import type { OptionCase } from './types.js';

const img = () => wg.dlarray(wg.ones([4, 4, 2, 1]), 'SSCB');

export const cases: OptionCase[] = [
  { name: 'fullyconnect', call: (o) => wg.fullyconnect(img(), wg.ones([3, 32]), wg.zeros([3]), o) },
  { name: 'dlconv', call: (o) => wg.dlconv(img(), wg.ones([3, 3, 2, 2]), 0, o) },
  { name: 'maxpool', call: (o) => wg.maxpool(img(), 2, o) },
  { name: 'avgpool', call: (o) => wg.avgpool(img(), 2, o) },
  { name: 'batchnorm', call: (o) => wg.batchnorm(img(), wg.zeros([2]), wg.ones([2]), o)[0] },
  { name: 'softmax', call: (o) => wg.softmax(img(), o) },
];
