import * as wg from '../../src/index.js';
import type { OptionCase } from './types.js';

const x = () => wg.tensor([[1, 2], [3, 4]]);
export const cases: OptionCase[] = [
  ...(['sum', 'prod', 'max', 'min', 'amax', 'amin', 'logsumexp', 'mean', 'var', 'std'] as const).map((name) => ({
    name, call: (o: any) => (wg as any)[name === 'var' ? 'variance' : name](x(), 0, o),
  })),
];
