import * as wg from '../../src/index.js';
import type { OptionCase } from './types.js';

export const cases: OptionCase[] = [
  { name: 'randint', call: (o) => wg.randint(0, 4, [3], o) },
  { name: 'multinomial', call: (o) => wg.multinomial(wg.tensor([1, 2, 3]), 2, o) },
];
