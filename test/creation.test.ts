// Creation: arange, linspace, eye, zerosLike / onesLike / fullLike — PyTorch's documented
// outputs, the kernels' formulas in plain JS, dtypes, and errors.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg } from './helpers.js';

beforeAll(async () => { await wg.init(); });

const values = (t: { data(): ArrayLike<number> }): number[] => Array.from(t.data());

describe('arange', () => {
  it("gives PyTorch's documented outputs", () => {
    const a = wg.arange(5);
    expect(a.toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(a.dtype).toBe('int32'); // PyTorch's int64
    expect(wg.arange(1, 4).toArray()).toEqual([1, 2, 3]);
    const b = wg.arange(1, 2.5, 0.5);
    expect(b.toArray()).toEqual([1, 1.5, 2]);
    expect(b.dtype).toBe('float32');
  });

  it('length ceil((end - start) / step), values start + i·step (float64 exact, float32 rounded once)', () => {
    const cases: [number, number, number][] = [[0, 1, 0.1], [-3, 7.5, 0.7], [5, 0, -1.5], [0.25, 0.3, 0.01], [1e8, 1e8 + 3, 0.5], [0, 0.5, 1]];
    for (const [s, e, d] of cases) {
      const n = Math.ceil((e - s) / d);
      const expected = Array.from({ length: n }, (_, i) => s + d * i);
      const x64 = wg.arange(s, e, d, { dtype: 'float64' });
      expect(x64.shape).toEqual([n]);
      expect(values(x64)).toEqual(expected);
      expect(values(wg.arange(s, e, d, { dtype: 'float32' }))).toEqual(expected.map(Math.fround));
    }
    expect(wg.arange(0, 1, 0.1).numel()).toBe(10);
    expect(values(wg.arange(5, 0, -1.5))).toEqual([5, 3.5, 2, 0.5]);
  });

  it('integer arguments give int32; integer steps count like PyTorch', () => {
    expect(wg.arange(10, 0, -3).toArray()).toEqual([10, 7, 4, 1]);
    expect(wg.arange(-2, 3, 2).toArray()).toEqual([-2, 0, 2]);
    expect(wg.arange(3, 3).numel()).toBe(0);
    expect(wg.arange(0).shape).toEqual([0]);
    expect(wg.arange(4, { dtype: 'float64' }).toArray()).toEqual([0, 1, 2, 3]);
    expect(wg.arange(4, { dtype: 'float64' }).dtype).toBe('float64');
    // an int32 arange of float arguments truncates them first, as PyTorch's integer path does
    const t = wg.arange(0.5, 5.9, 2.2, { dtype: 'int32' });
    expect(t.dtype).toBe('int32');
    expect(t.toArray()).toEqual([0, 2, 4]);
  });

  it('rejects step 0, a step of the wrong sign, infinite bounds, and then still works', () => {
    const check = (fn: () => unknown, message: string) => {
      expect(fn).toThrow(wg.ValueError);
      expect(fn).toThrow(message);
      expect(wg.arange(3).toArray()).toEqual([0, 1, 2]);
    };
    check(() => wg.arange(0, 5, 0), 'arange: step must be nonzero');
    check(() => wg.arange(0, 5, 0.5, { dtype: 'int32' }), 'arange: step 0.5 truncates to 0 for dtype int32; step must be nonzero');
    check(() => wg.arange(5, 1), 'arange: upper bound and lower bound inconsistent with step sign (start 5, end 1, step 1)');
    check(() => wg.arange(0, 5, -1), 'arange: upper bound and lower bound inconsistent with step sign (start 0, end 5, step -1)');
    check(() => wg.arange(0, Infinity), 'arange: unsupported range: 0 -> Infinity');
    check(() => wg.arange(NaN), 'arange: end must be a number, got NaN');
    check(() => wg.arange(), 'arange: expects (end), (start, end) or (start, end, step), got 0 numbers');
    expect(() => wg.arange(3, { dtype: 'bool' })).toThrow(wg.DTypeError);
  });
});

describe('linspace', () => {
  it("gives PyTorch's documented outputs", () => {
    expect(values(wg.linspace(3, 10, 5))).toEqual([3, 4.75, 6.5, 8.25, 10]);
    expect(values(wg.linspace(-10, 10, 5))).toEqual([-10, -5, 0, 5, 10]);
    expect(values(wg.linspace(-10, 10, 1))).toEqual([-10]);
    expect(wg.linspace(0, 1, 0).shape).toEqual([0]);
    expect(wg.linspace(0, 1, 3).dtype).toBe('float32');
  });

  it('start + i·step for the first half, end - (steps-1-i)·step after: both ends exact', () => {
    const reference = (s: number, e: number, n: number, round: (x: number) => number) => {
      const rs = round(s), re = round(e);
      const step = round(round(re - rs) / round(n - 1));
      return Array.from({ length: n }, (_, i) => (i < Math.floor(n / 2) ? round(rs + round(step * i)) : round(re - round(step * (n - 1 - i)))));
    };
    for (const [s, e, n] of [[0, 1, 7], [-3.3, 2.9, 10], [1, -1, 11], [0.1, 0.7, 2], [5, 5, 4], [0, 1, 1000]]) {
      const x64 = values(wg.linspace(s, e, n, { dtype: 'float64' }));
      expect(x64).toEqual(reference(s, e, n, (x) => x));
      expect(x64[n - 1]).toBe(e);
      expect(values(wg.linspace(s, e, n))).toEqual(reference(s, e, n, Math.fround));
    }
  });

  it('int32 truncates each value computed with a float64 step', () => {
    const t = wg.linspace(0, 10, 4, { dtype: 'int32' });
    expect(t.dtype).toBe('int32');
    expect(t.toArray()).toEqual([0, 3, 6, 10]); // 0, 3.33, 6.67, 10
  });

  it('rejects negative or fractional step counts, and then still works', () => {
    const check = (fn: () => unknown, message: string) => {
      expect(fn).toThrow(wg.ValueError);
      expect(fn).toThrow(message);
      expect(values(wg.linspace(0, 1, 3))).toEqual([0, 0.5, 1]);
    };
    check(() => wg.linspace(0, 1, -1), 'linspace: number of steps must be non-negative, got -1');
    check(() => wg.linspace(0, 1, 2.5), 'linspace: steps must be an integer, got 2.5');
    check(() => wg.linspace(0, NaN, 3), 'linspace: end must be a number, got NaN');
  });
});

describe('eye', () => {
  it('square and rectangular, in every dtype', () => {
    expect(wg.eye(3).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(wg.eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(wg.eye(3, 2).toArray()).toEqual([[1, 0], [0, 1], [0, 0]]);
    expect(wg.eye(0).shape).toEqual([0, 0]);
    expect(wg.eye(2, 0).shape).toEqual([2, 0]);
    expect(wg.eye(2).dtype).toBe('float32');
    const d = wg.eye(2, { dtype: 'float64' });
    expect(d.dtype).toBe('float64');
    expect(d.toArray()).toEqual([[1, 0], [0, 1]]);
    expect(wg.eye(2, 2, { dtype: 'int32' }).toArray()).toEqual([[1, 0], [0, 1]]);
    expect(wg.eye(2, 2, { dtype: 'bool' }).toArray()).toEqual([[true, false], [false, true]]);
  });

  it('rejects negative or fractional sizes, and then still works', () => {
    expect(() => wg.eye(-1)).toThrow(wg.ValueError);
    expect(() => wg.eye(-1)).toThrow('eye: n must be a non-negative integer, got -1');
    expect(() => wg.eye(2, 1.5)).toThrow('eye: m must be a non-negative integer, got 1.5');
    expect(wg.eye(1).toArray()).toEqual([[1]]);
  });
});

describe('zerosLike, onesLike, fullLike', () => {
  it("take x's shape and dtype unless told otherwise", () => {
    const x = wg.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' });
    const z = wg.zerosLike(x);
    expect(z.shape).toEqual([2, 3]);
    expect(z.dtype).toBe('float64');
    expect(z.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(wg.onesLike(x, { dtype: 'int32' }).toArray()).toEqual([[1, 1, 1], [1, 1, 1]]);
    expect(wg.onesLike(x, { dtype: 'int32' }).dtype).toBe('int32');
    const f = wg.fullLike(wg.tensor(2), 7.5);
    expect(f.shape).toEqual([]);
    expect(f.item()).toBe(7.5);
    expect(wg.zerosLike(wg.zeros([0, 4])).shape).toEqual([0, 4]);
  });

  it('reject a disposed tensor, and then still work', () => {
    const x = wg.zeros([2]);
    x.dispose();
    expect(() => wg.onesLike(x)).toThrow(wg.DisposedError);
    expect(() => wg.onesLike(x)).toThrow('onesLike (x)');
    expect(wg.onesLike(wg.zeros([2])).toArray()).toEqual([1, 1]);
  });
});
