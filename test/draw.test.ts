// randint and multinomial: seeded integer draws (same integers for the same seed), in range,
// with the right frequencies, PyTorch's rules for the distribution, and named errors.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg } from './helpers.js';

beforeAll(async () => { await wg.init(); });

const ints = (t: { data(): unknown }) => Array.from(t.data() as Int32Array);

describe('randint', () => {
  it('integers in [low, high) with the shape asked, the same for the same seed', () => {
    wg.tidy(() => {
      wg.seed(5);
      const a = wg.randint(3, 9, [4, 500]);
      expect(a.dtype).toBe('int32');
      expect(a.shape).toEqual([4, 500]);
      const v = ints(a);
      expect(Math.min(...v)).toBe(3);
      expect(Math.max(...v)).toBe(8);
      // each of the 6 values about 1/6 of 2000 draws
      for (let k = 3; k < 9; k++) expect(Math.abs(v.filter((x) => x === k).length - 2000 / 6)).toBeLessThan(80);
      wg.seed(5);
      expect(ints(wg.randint(3, 9, [4, 500]))).toEqual(v);
      const b = wg.randint(10, 7);
      expect(b.shape).toEqual([7]);
      expect(ints(b).every((x) => x >= 0 && x < 10)).toBe(true);
      expect(wg.randint(-2, 2, [3], { dtype: 'float64' }).dtype).toBe('float64');
    });
  });

  it('bad bounds, shapes and options are named errors', () => {
    expect(() => wg.randint(5, 5, [2])).toThrow(/randint: high \(5\) must be greater than low \(5\)/);
    expect(() => wg.randint(1.5 as any, [2])).toThrow(/randint: low and high must be integers/);
    expect(() => wg.randint(4, [-1])).toThrow(wg.ValueError);
    expect(() => wg.randint(4, [2], { dtyp: 'int32' } as any)).toThrow(/unknown option 'dtyp'. Did you mean 'dtype'/);
  });
});

describe('multinomial', () => {
  it('with replacement: frequencies follow the weights; a zero weight is never drawn', () => {
    wg.tidy(() => {
      wg.seed(11);
      const w = wg.tensor([1, 0, 3, 6], { dtype: 'float64' });
      const s = ints(wg.multinomial(w, 4000, { replacement: true }));
      expect(s.length).toBe(4000);
      expect(s.filter((x) => x === 1).length).toBe(0);
      const want = [0.1, 0, 0.3, 0.6];
      for (const k of [0, 2, 3]) expect(Math.abs(s.filter((x) => x === k).length / 4000 - want[k])).toBeLessThan(0.03);
      wg.seed(11);
      expect(ints(wg.multinomial(w, 4000, { replacement: true }))).toEqual(s);
    });
  });

  it('without replacement: distinct categories per row, rows of a 2-D input independent, shapes [N, S]', () => {
    wg.tidy(() => {
      wg.seed(2);
      const w = wg.tensor([[1, 1, 1, 1, 1], [0, 5, 0, 1, 2]]);
      const out = wg.multinomial(w, 3);
      expect(out.shape).toEqual([2, 3]);
      const rows = (out.toArray() as number[][]);
      for (const r of rows) expect(new Set(r).size).toBe(3);
      expect(rows[1].every((k) => k === 1 || k === 3 || k === 4)).toBe(true);
      expect(wg.multinomial(wg.tensor([0, 2, 0]), 1).toArray()).toEqual([1]);
    });
  });

  it("PyTorch's checks: invalid distributions, too many samples without replacement, wrong dtype or rank", () => {
    const before = wg.memory().liveTensors;
    wg.tidy(() => {
      expect(() => wg.multinomial(wg.tensor([1, -1]), 1)).toThrow(/multinomial: invalid distribution: weight -1 at row 0, category 1/);
      expect(() => wg.multinomial(wg.tensor([0, 0]), 1)).toThrow(/row 0 sums to 0/);
      expect(() => wg.multinomial(wg.tensor([1, NaN]), 1)).toThrow(/invalid distribution/);
      expect(() => wg.multinomial(wg.tensor([1, 0, 2]), 3)).toThrow(/cannot draw 3 samples without replacement from row 0, which has 2 categories/);
      expect(() => wg.multinomial(wg.tensor([1, 2], { dtype: 'int32' }), 1)).toThrow(wg.DTypeError);
      expect(() => wg.multinomial(wg.ones([2, 2, 2]), 1)).toThrow(wg.ShapeError);
      expect(() => wg.multinomial(wg.tensor([1, 2]), 0)).toThrow(/numSamples must be an integer >= 1/);
      expect(() => wg.multinomial(wg.tensor([1, 2]), 1, { replace: true } as any)).toThrow(/Did you mean 'replacement'/);
    });
    expect(wg.memory().liveTensors).toBe(before);
  });
});
