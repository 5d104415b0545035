// Seeded float64 inputs at smooth points, for the registry files' make() functions.

import * as wg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { uniform, size } from '../helpers.js';

/** Input makers drawing their seeds from one counter starting at `firstSeed`. */
export function inputMaker(firstSeed: number) {
  let seed = firstSeed;
  /** A float64 tensor with seeded uniform values in [lo, hi). */
  const x64 = (shape: number[], lo = -1, hi = 1) => wg.tensor(uniform(size(shape), lo, hi, seed++), { shape, dtype: 'float64' });
  /** Values with |v| in [0.2, 1) and random signs: away from the kink at 0. */
  const offZero = (shape: number[]) => {
    const mag = uniform(size(shape), 0.2, 1, seed++), sgn = uniform(size(shape), -1, 1, seed++);
    return wg.tensor(mag.map((m, i) => (sgn[i] < 0 ? -m : m)), { shape, dtype: 'float64' });
  };
  /** a and b = a ± [0.2, 0.8): no ties between them. */
  const apart = (shape: number[]): [Tensor, Tensor] => {
    const a = uniform(size(shape), -1, 1, seed++), d = uniform(size(shape), -0.8, 0.8, seed++);
    return [wg.tensor(a, { shape, dtype: 'float64' }),
      wg.tensor(a.map((v, i) => v + (d[i] < 0 ? d[i] - 0.2 : d[i] + 0.2)), { shape, dtype: 'float64' })];
  };
  /** Distinct values (a permutation of spread-out levels plus small noise): no ties anywhere. */
  const distinct = (shape: number[]) => {
    const n = size(shape), noise = uniform(n, 0, 0.05, seed++);
    const order = uniform(n, 0, 1, seed++).map((v, i) => [v, i]).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
    const values = new Array<number>(n);
    order.forEach((i, rank) => { values[i] = -1 + (2 * rank) / n + noise[i]; });
    return wg.tensor(values, { shape, dtype: 'float64' });
  };
  return { x64, offZero, apart, distinct };
}

/** Exact float64 values. */
export const f64 = (values: number[], shape: number[]) => wg.tensor(values, { shape, dtype: 'float64' });

/** Weights telling the pieces of a multi-output op apart when they are joined again. */
export const weighted = (parts: Tensor[]) => parts.map((p, i) => p.mul(i + 1));

/** Several outputs as one vector, each piece weighted differently. */
export const joined = (...parts: Tensor[]) => wg.concat(weighted(parts.map((p) => p.reshape([-1]))), 0);
