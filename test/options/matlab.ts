// The MATLAB losses' and data helpers' options (MATLAB's names): one case per schema.
import * as wg from '../../src/index.js';
import { crossentropy, mse, l1loss, l2loss, huber, ctc } from '../../src/matlab/losses.js';
import { onehotencode, minibatchqueue } from '../../src/matlab/data.js';
import type { OptionCase } from './types.js';

/** [C, B] = [3, 2] probabilities and one-hot targets */
const Y = () => wg.tensor([[0.7, 0.2], [0.2, 0.5], [0.1, 0.3]]);
const T = () => wg.tensor([[1, 0], [0, 1], [0, 0]]);

export const cases: OptionCase[] = [
  { name: 'crossentropy', call: (o) => crossentropy(Y(), T(), o) },
  { name: 'mse', call: (o) => mse(Y(), T(), o) },
  { name: 'l1loss', call: (o) => l1loss(Y(), T(), o) },
  { name: 'l2loss', call: (o) => l2loss(Y(), T(), o) },
  { name: 'huber', call: (o) => huber(Y(), T(), o) },
  {
    name: 'ctc',
    call: (o) => ctc(wg.softmax(wg.tensor([[[0.1, 0.2, 0.3]], [[0.4, -0.2, 0]], [[0, 1, -1]]]), 0), [[1]], [[1, 1, 1]], [[1]], o),
  },
  { name: 'onehotencode', call: (o) => onehotencode(['b', 'a', 'b'], 0, o) },
  { name: 'minibatchqueue', call: (o) => minibatchqueue(wg.ones([5, 2]), o) },
];
