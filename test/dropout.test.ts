// Dropout: inverted dropout driven by the seeded generator (the mask is the generator's uniform
// stream compared with 1 − p), identity when not training, p = 1 gives zeros; gradients, JVP,
// a second derivative, float32, bad p.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, rand64, flat } from './helpers.js';
import { checkJvpVjp, checkSecondOrder, expectError } from './nn-helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

/** dropout with the global generator reseeded first, so that repeated calls draw one mask. */
const seeded = (p: number, s = 7) => (x: Tensor) => { wg.seed(s); return wg.dropout(x, p); };

describe('dropout', () => {
  it('keeps each element with probability 1 − p, scaled by 1/(1 − p), from the seeded stream', () => {
    wg.tidy(() => {
      for (const dtype of ['float64', 'float32'] as const) {
        const x = rand64([50, 40], -2, 2, 1).to(dtype);
        wg.seed(123);
        const u = flat(wg.rand([50, 40], { dtype }).toArray());
        wg.seed(123);
        const y = flat(wg.dropout(x, 0.3).toArray());
        const xv = flat(x.toArray());
        const scale = dtype === 'float64' ? 1 / 0.7 : Math.fround(1 / Math.fround(0.7));
        const keep = dtype === 'float64' ? 0.7 : Math.fround(0.7);
        const expected = xv.map((v, i) => (u[i] < keep ? (dtype === 'float64' ? v * scale : Math.fround(v * scale)) : v * 0));
        expect(y).toEqual(expected);
        const dropped = y.filter((v) => v === 0).length / y.length;
        expect(Math.abs(dropped - 0.3)).toBeLessThan(0.03);
      }
      // the same seed gives the same mask; the stream moves on otherwise
      const x = wg.ones([100], { dtype: 'float64' });
      wg.seed(5);
      const a = flat(x.dropout(0.5).toArray());
      wg.seed(5);
      const b = flat(wg.dropout(x).toArray());
      const c = flat(wg.dropout(x).toArray());
      expect(a).toEqual(b);
      expect(c).not.toEqual(b);
      expect(new Set(a)).toEqual(new Set([0, 2]));
    });
  });

  it('is the identity when not training or p = 0; p = 1 gives x·0', () => {
    wg.tidy(() => {
      const x = wg.tensor([1, -2, NaN], { dtype: 'float64' });
      expect(wg.dropout(x, 0.5, { training: false })).toBe(x);
      expect(wg.dropout(x, 0)).toBe(x);
      const z = flat(wg.dropout(x, 1).toArray());
      expect(z.slice(0, 2)).toEqual([0, -0]);
      expect(z[2]).toBeNaN();
      expect(wg.dropout(wg.zeros([0, 3]), 0.5).shape).toEqual([0, 3]);
    });
  });

  it('gradient is the scaled mask; JVP agrees with VJP; second derivative', () => {
    const x = rand64([4, 5], -2, 2, 2);
    checkGrad(seeded(0.4), [x]);
    checkGrad(seeded(1), [x]);
    checkJvpVjp(seeded(0.25), x);
    checkSecondOrder((v) => seeded(0.5)(v).square().sum(), x);
    wg.tidy(() => {
      const g = flat((wg.grad((v: Tensor) => seeded(0.4)(v).sum())(x) as Tensor).toArray());
      const y = flat(seeded(0.4)(x).toArray());
      expectClose(g, y.map((v) => (v === 0 ? 0 : 1 / 0.6)), 1e-15, 0);
    });
    x.dispose();
  });

  it('rejects a bad p and bad options', () => {
    const x = wg.ones([3]);
    expectError(() => wg.dropout(x, 1.5), wg.ValueError, ['dropout', 'between 0 and 1', '1.5']);
    expectError(() => wg.dropout(x, -0.1), wg.ValueError, ['dropout', '-0.1']);
    expectError(() => x.dropout(NaN), wg.ValueError, ['dropout', 'NaN']);
    expectError(() => wg.dropout(x, 0.5, { training: 'yes' as any }), wg.ValueError, ['dropout', 'training must be a boolean']);
    expectError(() => wg.dropout(null as any), wg.ValueError, ['dropout', 'expected a Tensor']);
    x.dispose();
  });
});
