// Reductions: sum, mean, max/min (amax/amin), prod, logsumexp, var, std — forward values against
// a plain JS reference over many axes combinations, gradients by finite differences, the exact
// tie and zero rules, empty reductions, float32 against float64, and bad input.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose, checkGrad, rand64, uniform, size, flat, expectNoLeak } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

type Axes = number | number[] | undefined;

// ———————————————————————————————————————————————— a plain scalar reference

/**
 * Reduces flat row-major `data` of `shape` over `axes` by calling `fold` on each slice's values
 * (in row-major order); returns the flat result and its shape.
 */
function reference(data: number[], shape: number[], axes: Axes, keepdims: boolean,
  fold: (values: number[]) => number): { values: number[]; shape: number[] } {
  const rank = shape.length;
  const reduced = reducedDims(shape, axes);
  const keptShape = shape.map((d, k) => (reduced.has(k) ? 1 : d));
  const slices: number[][] = Array.from({ length: size(keptShape) }, () => []);
  for (let i = 0; i < data.length; i++) {
    let rest = i, o = 0, stride = 1;
    for (let k = rank - 1; k >= 0; k--) {
      const idx = rest % shape[k];
      rest = Math.floor(rest / shape[k]);
      if (!reduced.has(k)) o += idx * stride;
      stride *= keptShape[k];
    }
    slices[o].push(data[i]);
  }
  const outShape = keepdims ? keptShape : shape.filter((_, k) => !reduced.has(k));
  return { values: slices.map(fold), shape: outShape };
}

const sumOf = (v: number[]) => v.reduce((a, b) => a + b, 0);
const varOf = (correction: number) => (v: number[]) => {
  const m = sumOf(v) / v.length;
  return sumOf(v.map((t) => (t - m) ** 2)) / Math.max(0, v.length - correction);
};
const folds: Record<string, (v: number[]) => number> = {
  sum: sumOf,
  mean: (v) => sumOf(v) / v.length,
  prod: (v) => v.reduce((a, b) => a * b, 1),
  max: (v) => Math.max(...v),
  min: (v) => Math.min(...v),
  amax: (v) => Math.max(...v),
  amin: (v) => Math.min(...v),
  logsumexp: (v) => Math.log(sumOf(v.map(Math.exp))), // naive: inputs here are small
  var: varOf(1),
  std: (v) => Math.sqrt(varOf(1)(v)),
};
type Reducer = (x: Tensor, axes?: Axes, options?: { keepdims?: boolean }) => Tensor;
const fns: Record<string, Reducer> = {
  sum: wg.sum, mean: wg.mean, prod: wg.prod, max: wg.max, min: wg.min, amax: wg.amax, amin: wg.amin,
  logsumexp: wg.logsumexp, var: wg.var, std: wg.std,
};
const methods: Record<string, (x: Tensor, axes?: Axes, options?: { keepdims?: boolean }) => Tensor> = {
  sum: (x, a, o) => x.sum(a, o), mean: (x, a, o) => x.mean(a, o), prod: (x, a, o) => x.prod(a, o),
  max: (x, a, o) => x.max(a, o), min: (x, a, o) => x.min(a, o), amax: (x, a, o) => x.amax(a, o),
  amin: (x, a, o) => x.amin(a, o), logsumexp: (x, a, o) => x.logsumexp(a, o),
  var: (x, a, o) => x.var(a, o), std: (x, a, o) => x.std(a, o),
};

const shapes: number[][] = [[2, 3, 4], [3, 10, 9], [1, 5], [0, 3], [4], []];
const axesFor = (rank: number): Axes[] => {
  if (rank === 0) return [undefined, 0, -1, []];
  const all: Axes[] = [undefined, 0, -1, [], [0]];
  if (rank >= 2) all.push(1, [0, 1], [-2], [rank - 1, 0]);
  if (rank >= 3) all.push([0, 2], [2, 0, 1], [-1, -3]);
  return all;
};
const reducedDims = (shape: number[], axes: Axes): Set<number> => {
  const list = axes === undefined || (Array.isArray(axes) && axes.length === 0)
    ? shape.map((_, k) => k) : (typeof axes === 'number' ? [axes] : axes);
  return new Set(list.map((a) => (shape.length === 0 ? 0 : (a + shape.length) % shape.length)));
};
/** The number of elements each output element of a reduction covers. */
const sliceSize = (shape: number[], axes: Axes): number => {
  const reduced = reducedDims(shape, axes);
  return shape.reduce((n, d, k) => (reduced.has(k) ? n * d : n), 1);
};
const emptyReduced = (shape: number[], axes: Axes) => sliceSize(shape, axes) === 0;

// ———————————————————————————————————————————————— forward values

describe('forward values against the scalar reference (float64)', () => {
  for (const name of Object.keys(fns)) {
    it(name, () => {
      let cases = 0;
      wg.tidy(() => {
        for (const shape of shapes) {
          const data = uniform(size(shape), -1.5, 1.5, 3 + shape.length);
          const x = wg.tensor(data, { shape, dtype: 'float64' });
          for (const axes of axesFor(shape.length)) {
            for (const keepdims of [false, true]) {
              const where = `${name} of ${JSON.stringify(shape)} over ${JSON.stringify(axes)}, keepdims ${keepdims}`;
              if ((name === 'max' || name === 'min' || name === 'amax' || name === 'amin') && emptyReduced(shape, axes)) {
                expect(() => fns[name](x, axes, { keepdims }), where).toThrow(wg.ShapeError);
                continue;
              }
              const ref = reference(data, shape, axes, keepdims, folds[name]);
              for (const y of [fns[name](x, axes, { keepdims }), methods[name](x, axes, { keepdims })]) {
                expect(y.shape, where).toEqual(ref.shape);
                expect(y.dtype).toBe('float64');
                try { expectClose(y.toArray(), ref.values, 1e-12, 1e-14); } catch (e) { throw new Error(`${where}: ${(e as Error).message}`); }
              }
              cases++;
            }
          }
        }
      });
      expect(cases).toBeGreaterThan(60);
    });
  }

  it('omitted axes and keepdims give a rank-0 result', () => {
    const x = wg.tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    expect(x.max().shape).toEqual([]);
    expect(x.max().item()).toBe(4);
    expect(x.min(null).item()).toBe(1);
    expect(x.prod().item()).toBe(24);
    expect(x.max(undefined, { keepdims: true }).shape).toEqual([1, 1]);
  });

  it('int and bool tensors are reduced as float32, as the other families do', () => {
    const y = wg.tensor([3, -1, 7], { dtype: 'int32' }).max();
    expect(y.dtype).toBe('float32');
    expect(y.item()).toBe(7);
    expect(wg.tensor([true, false, true]).sum().item()).toBe(2);
  });
});

describe('PyTorch edge-case semantics', () => {
  it('empty reductions: sum 0, prod 1, mean NaN, logsumexp -inf, var NaN', () => {
    const e = wg.zeros([0, 3], { dtype: 'float64' });
    expect(e.sum(0).toArray()).toEqual([0, 0, 0]);
    expect(e.prod(0).toArray()).toEqual([1, 1, 1]);
    expect(flat(e.mean(0).toArray()).every(Number.isNaN)).toBe(true);
    expect(e.logsumexp(0).toArray()).toEqual([-Infinity, -Infinity, -Infinity]);
    expect(flat(e.var(0).toArray()).every(Number.isNaN)).toBe(true);
    expect(e.sum().item()).toBe(0);
    expect(e.prod().item()).toBe(1);
    expect(e.mean().item()).toBeNaN();
    expect(e.logsumexp().item()).toBe(-Infinity);
    // reducing the non-empty dim of an empty tensor is fine for max/min too: the result is empty
    expect(e.max(1).shape).toEqual([0]);
    expect(e.min(1, { keepdims: true }).shape).toEqual([0, 1]);
  });

  it('max/min propagate NaN (torch.amax)', () => {
    const x = wg.tensor([[1, NaN, 3], [4, 5, 6]], { dtype: 'float64' });
    const mx = flat(x.max(1).toArray()), mn = flat(x.min(1).toArray());
    expect(mx[0]).toBeNaN(); expect(mx[1]).toBe(6);
    expect(mn[0]).toBeNaN(); expect(mn[1]).toBe(4);
    expect(x.max(0).toArray()[1]).toBeNaN();
    // a NaN beyond the SIMD lanes and in the scalar tail, in float32 too
    for (const dtype of ['float32', 'float64'] as const) {
      for (const at of [0, 5, 8]) {
        const v = [1, 2, 3, 4, 5, 6, 7, 8, 9]; v[at] = NaN;
        expect(wg.tensor(v, { dtype }).max().item()).toBeNaN();
        expect(wg.tensor(v, { dtype }).min().item()).toBeNaN();
      }
    }
  });

  it('logsumexp is stable and handles infinities like PyTorch', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const tol = dtype === 'float32' ? 1e-6 : 1e-15;
      expectClose(wg.tensor([1000, 1000], { dtype }).logsumexp().item(), 1000 + Math.LN2, tol, 0);
      expectClose(wg.tensor([-1000, -1000], { dtype }).logsumexp().item(), -1000 + Math.LN2, tol, 0);
      expectClose(wg.tensor([[1000, 0], [-1e30, -1e30]], { dtype }).logsumexp(1).toArray(), [1000, -1e30 + Math.LN2], tol, 0);
      expect(wg.tensor([-Infinity, -Infinity, -Infinity], { dtype }).logsumexp().item()).toBe(-Infinity);
      expect(wg.tensor([1, Infinity, 2], { dtype }).logsumexp().item()).toBe(Infinity);
      expect(wg.tensor([-Infinity, Infinity], { dtype }).logsumexp().item()).toBe(Infinity);
      expectClose(wg.tensor([-Infinity, 0], { dtype }).logsumexp().item(), 0, 0, 0);
      expect(wg.tensor([1, NaN], { dtype }).logsumexp().item()).toBeNaN();
    }
  });

  it('var and std: unbiased by default, correction option (torch.var / torch.std values)', () => {
    const x = wg.tensor([1, 2, 3, 4], { dtype: 'float64' });
    expectClose(x.var().item(), 5 / 3, 1e-15, 0); // torch.var → 1.6667
    expectClose(x.std().item(), Math.sqrt(5 / 3), 1e-15, 0); // torch.std → 1.2910
    expectClose(x.var(0, { correction: 0 }).item(), 1.25, 1e-15, 0);
    expectClose(x.std(undefined, { correction: 0 }).item(), Math.sqrt(1.25), 1e-15, 0);
    expectClose(x.var(0, { correction: 2 }).item(), 2.5, 1e-15, 0);
    // N − correction <= 0: PyTorch divides by max(0, N − correction)
    expect(wg.tensor([3], { dtype: 'float64' }).var().item()).toBeNaN();
    expect(x.var(0, { correction: 5 }).item()).toBe(Infinity);
    const m = wg.tensor([[1, 2, 3], [2, 4, 9]], { dtype: 'float64' });
    expect(m.var(1, { keepdims: true }).shape).toEqual([2, 1]);
    expectClose(m.var(1).toArray(), [1, 13], 1e-15, 0);
    expectClose(m.std(0).toArray(), [Math.SQRT1_2, Math.SQRT2, 3 * Math.SQRT2], 1e-15, 0);
  });

  it('an empty axes list reduces every dim, as PyTorch dim=[]', () => {
    const x = wg.tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    expect(x.sum([]).item()).toBe(10);
    expect(x.max([]).item()).toBe(4);
    expect(x.mean([], { keepdims: true }).shape).toEqual([1, 1]);
  });
});

describe('float32 against float64', () => {
  for (const name of Object.keys(fns)) {
    it(`${name} within 2e-6 relative (1e-6 absolute)`, () => {
      wg.tidy(() => {
        const shape = [3, 10, 9];
        const data = uniform(size(shape), 0.5, 1.5, 11);
        const x64 = wg.tensor(data, { shape, dtype: 'float64' });
        const x32 = wg.tensor(data, { shape, dtype: 'float32' });
        for (const axes of [undefined, 0, 1, 2, [0, 2]] as Axes[]) {
          const a = fns[name](x32, axes), b = fns[name](x64, axes);
          expect(a.dtype).toBe('float32');
          // prod over 270 values in [0.5, 1.5) stays in range; float32 rounds each product once per run
          const rtol = name === 'prod' ? 2e-5 : 2e-6;
          expectClose(a.toArray(), flat(b.toArray()).map(Math.fround), rtol, 1e-6);
        }
      });
    });
  }
});

// ———————————————————————————————————————————————— gradients

describe('gradients by central finite differences (float64)', () => {
  const gradCases: [number[], Axes, boolean][] = [
    [[2, 3, 4], undefined, false],
    [[2, 3, 4], 1, false],
    [[2, 3, 4], -1, true],
    [[2, 3, 4], [0, 2], false],
    [[2, 3, 4], [2, 0], true],
    [[3, 5], 0, false],
    [[1, 5], 1, true],
    [[1, 5], 0, false],
    [[0, 3], 1, false],
    [[], undefined, false],
    [[], 0, true],
  ];
  for (const name of Object.keys(fns)) {
    it(name, () => {
      for (const [shape, axes, keepdims] of gradCases) {
        // var/std over a single element divide by zero (NaN): skip those cases, not the op
        if ((name === 'var' || name === 'std') && sliceSize(shape, axes) === 1) continue;
        const x = rand64(shape, -1.5, 1.5, 5 + shape.length);
        try {
          checkGrad((t) => fns[name](t, axes, { keepdims }), [x]);
        } catch (e) {
          throw new Error(`${name} of ${JSON.stringify(shape)} over ${JSON.stringify(axes)}: ${(e as Error).message}`);
        }
      }
    });
  }

  it('through a broadcast and a chain (mean of logsumexp of x + b)', () => {
    checkGrad((x, b) => wg.logsumexp(x.add(b), 1).mean(), [rand64([3, 4], -1, 1, 2), rand64([4], -1, 1, 3)]);
    checkGrad((x) => x.max(0).mul(x.min(1, { keepdims: true })).std(), [rand64([3, 3], -1, 1, 4)]);
  });

  it('prod with zeros (multilinear, so finite differences are exact)', () => {
    const x = wg.tensor([[0.5, 0, -2, 1.5], [0, 3, 0, 1], [1, 2, 0.5, -1]], { dtype: 'float64' });
    for (const axes of [undefined, 0, 1] as Axes[]) checkGrad((t) => t.prod(axes), [x]);
  });
});

describe('exact gradient rules', () => {
  const g64 = (f: (t: Tensor) => Tensor, x: number[][] | number[]) =>
    wg.grad(f)(wg.tensor(x, { dtype: 'float64' })).toArray();

  it('max/min split the gradient evenly among ties', () => {
    expect(g64((t) => t.max(), [1, 5, 3, 5])).toEqual([0, 0.5, 0, 0.5]);
    expect(g64((t) => t.min(), [2, -1, -1, -1, 4])).toEqual([0, 1 / 3, 1 / 3, 1 / 3, 0]);
    expect(g64((t) => t.amax(), [[7, 7], [7, 7]])).toEqual([[0.25, 0.25], [0.25, 0.25]]);
    const w = () => wg.tensor([2, 3], { dtype: 'float64' });
    expect(g64((t) => t.max(1).mul(w()).sum(), [[2, 7, 7, 7], [1, 0, 1, -3]]))
      .toEqual([[0, 2 / 3, 2 / 3, 2 / 3], [1.5, 0, 1.5, 0]]);
    expect(g64((t) => t.min(0, { keepdims: true }).mul(w()).sum(), [[1, 5], [1, 4]]))
      .toEqual([[1, 0], [1, 3]]);
    // longer than the SIMD lanes, ties in the vector part and in the tail
    const v = [0, 9, 1, 2, 9, 3, 4, 5, 9];
    expect(g64((t) => t.max(), v)).toEqual(v.map((e) => (e === 9 ? 1 / 3 : 0)));
  });

  it('a NaN extremum gives NaN gradients for its slice (torch.amax backward)', () => {
    const g = g64((t) => t.max(1).sum(), [[1, NaN, 3], [4, 6, 5]]) as number[][];
    expect(g[0].every(Number.isNaN)).toBe(true);
    expect(g[1]).toEqual([0, 1, 0]);
  });

  it('prod with one zero and with two zeros', () => {
    expect(g64((t) => t.prod(), [2, 0, 3, 5])).toEqual([0, 30, 0, 0]);
    expect(g64((t) => t.prod(), [2, 0, 3, 0])).toEqual([0, 0, 0, 0]);
    expect(g64((t) => t.prod(1).sum(), [[2, 0, 3], [1, 4, 5], [0, 0, 7]])).toEqual([[0, 6, 0], [20, 5, 4], [0, 0, 0]]);
    expect(g64((t) => t.prod(0).sum(), [[2, 0], [0, 4], [5, 0]])).toEqual([[0, 0], [10, 0], [0, 0]]);
    expect(g64((t) => t.prod(0).sum(), [[2, 0], [3, 4], [5, 6]])).toEqual([[15, 24], [10, 0], [6, 0]]);
    // rank 0, even at infinity: the identity, as PyTorch's prod_backward returns grad
    expect(wg.grad((t: Tensor) => t.prod())(wg.tensor(Infinity, { dtype: 'float64' })).item()).toBe(1);
  });

  it('prod second derivatives are exact at one and two zeros (Hessian-vector products)', () => {
    // P = Π x: H_ij = Π_{k ≠ i, j} x_k for i ≠ j, H_ii = 0
    const hessian = (x: number[]) => x.map((_, i) => x.map((__, j) =>
      (i === j ? 0 : x.reduce((a, v, k) => (k === i || k === j ? a : a * v), 1))));
    const v = [0.5, -1, 2, 0.25];
    for (const x of [[2, 3, -1, 4], [2, 0, 3, 5], [2, 0, 3, 0], [0, 0, 0, 5]]) {
      const hv = wg.grad((t: Tensor) => wg.grad((s: Tensor) => s.prod())(t).mul(wg.tensor(v, { dtype: 'float64' })).sum())(
        wg.tensor(x, { dtype: 'float64' }));
      const expected = hessian(x).map((row) => row.reduce((a, h, j) => a + h * v[j], 0));
      expectClose(hv.toArray(), expected, 1e-15, 0);
    }
  });

  it('logsumexp: g·exp(x − out), a softmax; all -inf gives NaN as in PyTorch', () => {
    const g = flat(g64((t) => t.logsumexp(), [0, Math.log(3)]));
    expectClose(g, [0.25, 0.75], 1e-15, 0);
    const h = flat(g64((t) => t.logsumexp(), [-Infinity, -Infinity]));
    expect(h.every(Number.isNaN)).toBe(true);
    // second order: the Hessian of logsumexp is diag(p) − p pᵀ
    const p = [0.25, 0.75], v = [1, -2];
    const hv = wg.grad((t: Tensor) => wg.grad((s: Tensor) => s.logsumexp())(t).mul(wg.tensor(v, { dtype: 'float64' })).sum())(
      wg.tensor([0, Math.log(3)], { dtype: 'float64' }));
    const pv = p[0] * v[0] + p[1] * v[1];
    expectClose(hv.toArray(), p.map((pi, i) => pi * v[i] - pi * pv), 1e-14, 1e-15);
  });

  it('sum and mean: g spread over the reduced elements', () => {
    expect(g64((t) => t.sum(1).mul(wg.tensor([1, 2], { dtype: 'float64' })).sum(), [[1, 2, 3], [4, 5, 6]]))
      .toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(g64((t) => t.mean(), [1, 2, 3, 4])).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(g64((t) => t.mean(0).sum(), [[1, 2], [3, 4]])).toEqual([[0.5, 0.5], [0.5, 0.5]]);
  });

  it('std of a constant slice has gradient 0, not NaN (PyTorch masks it)', () => {
    expect(g64((t) => t.std(), [2, 2, 2])).toEqual([0, 0, 0]);
    const g = g64((t) => t.std(1).sum(), [[1, 1], [0, 2]]) as number[][];
    expect(g[0]).toEqual([0, 0]);
    expectClose(g[1], [-Math.SQRT1_2, Math.SQRT1_2], 1e-15, 0);
  });

  it('reductions inside valueAndGrad leave no tensors behind', () => {
    const x = rand64([3, 4]);
    expectNoLeak(() => {
      for (const name of Object.keys(fns)) {
        wg.tidy(() => { wg.valueAndGrad((t: Tensor) => fns[name](t, 1).sum())(x); });
      }
      wg.tidy(() => { wg.grad((t: Tensor) => t.prod())(wg.tensor([1, 0, 2], { dtype: 'float64' })); });
      wg.tidy(() => { wg.tensor([[1, 2], [3, 4]]).logsumexp(0); });
    });
  });
});

// ———————————————————————————————————————————————— bad input

describe('bad input', () => {
  /** The error is thrown, nothing leaks, and the runtime still computes afterwards. */
  const expectError = (fn: () => unknown, cls: new (...a: any[]) => Error, message: RegExp) => {
    expectNoLeak(() => {
      let caught: unknown;
      try { fn(); } catch (e) { caught = e; }
      expect(caught).toBeInstanceOf(cls);
      expect((caught as Error).message).toMatch(message);
    });
    wg.tidy(() => { expect(wg.tensor([1, 4, 2]).max().item()).toBe(4); });
  };
  const x = () => wg.zeros([2, 3, 4], { dtype: 'float64' });

  it('an axis out of range is an AxisError naming the op, the axis and the rank', () => {
    const t = x();
    expectError(() => t.max(3), wg.AxisError, /^max: axis 3 is out of range for a tensor of rank 3 \(expected \[-3, 2\]\)$/);
    expectError(() => wg.logsumexp(t, [0, -4]), wg.AxisError, /^logsumexp: axis -4 is out of range for a tensor of rank 3/);
    expectError(() => t.var(1.5), wg.AxisError, /^var: axis 1.5 is out of range/);
    const r0 = wg.tensor(3);
    expectError(() => r0.prod(1), wg.AxisError, /^prod: axis 1 is out of range for a tensor of rank 0/);
    expectError(() => t.mean(7), wg.AxisError, /^mean: axis 7/);
  });

  it('a duplicated axis is an AxisError', () => {
    const t = x();
    expectError(() => t.min([1, -2]), wg.AxisError, /^min: axis -2 appears more than once in \[1, -2\]$/);
    expectError(() => t.std([0, 0]), wg.AxisError, /^var: axis 0 appears more than once in \[0, 0\]$/);
    expectError(() => t.sum([2, 2]), wg.AxisError, /^sum: axis 2 appears more than once/);
  });

  it('max/min over an empty dim is a ShapeError naming op and shape', () => {
    const e = wg.zeros([0, 3]), f = wg.zeros([2, 0]);
    expectError(() => e.max(0), wg.ShapeError, /^max: cannot reduce over axis 0 of size 0 \(x has shape \[0, 3\]\)/);
    expectError(() => e.amin(), wg.ShapeError, /^amin: cannot reduce over axis 0 of size 0 \(x has shape \[0, 3\]\)/);
    expectError(() => wg.min(f, [-1], { keepdims: true }), wg.ShapeError, /^min: cannot reduce over axis 1 of size 0 \(x has shape \[2, 0\]\)/);
  });

  it('bad options, a non-tensor and a disposed tensor', () => {
    const t = x();
    expectError(() => t.var(0, { correction: 'one' as unknown as number }), wg.ValueError, /^var: correction must be a finite number, got the string "one"$/);
    expectError(() => t.max(0, null as unknown as {}), wg.ValueError, /^max: options must be an object/);
    expectError(() => wg.prod([1, 2] as unknown as Tensor), wg.ValueError, /^prod \(x\): expected a Tensor, got Array$/);
    const d = wg.tensor([1, 2]);
    d.dispose();
    expectError(() => d.logsumexp(), wg.DisposedError, /^logsumexp \(x\): tensor \(id \d+\) was disposed/);
  });
});
