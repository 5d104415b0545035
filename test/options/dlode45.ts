// dlode45's options (MATLAB's names): one case, a two-point decay solve.
import * as wg from '../../src/index.js';
import { dlode45 } from '../../src/matlab/ode.js';
import type { OptionCase } from './types.js';

export const cases: OptionCase[] = [
  {
    name: 'dlode45',
    call: (o) => dlode45((_t: number, y: wg.Tensor) => y.neg(), [0, 1], wg.tensor([1, 2], { dtype: 'float64' }), null, o),
  },
];
