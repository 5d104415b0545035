// Indexing ops: sort, argsort, topk, argmax/argmin, cumsum, cumprod, tril/triu, flip, roll,
// tile, repeat, repeatInterleave, oneHot, embedding. Forward values against plain JS references
// written here (line by line along an axis), PyTorch's documented outputs, NaN and tie rules,
// gradients by finite differences in float64, JVP against VJP, second derivatives, float32 vs
// float64, and bad inputs.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectNoLeak, rand64, uniform, size, flat, expectError, runtimeWorks, dot } from './helpers.js';
import type { Tensor } from '../src/index.js';
import { ops as registry } from './registry/indexing.js';

beforeAll(async () => { await wg.init(); });

// ————————————————————————————————————————— references and checks

const t64 = (a: any, shape?: number[]): Tensor => wg.tensor(a, { dtype: 'float64', shape });

/** Applies f to every line of (data, shape) along `axis`; lines may change length. */
function alongAxis(data: number[], shape: number[], axis: number, f: (line: number[]) => number[]): { data: number[]; shape: number[] } {
  const dims = shape.length === 0 ? [1] : shape;
  const k = axis < 0 ? axis + dims.length : axis;
  const outer = size(dims.slice(0, k)), n = dims[k], inner = size(dims.slice(k + 1));
  let m = -1;
  const lines: number[][] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const r = f(Array.from({ length: n }, (_, j) => data[(o * n + j) * inner + i]));
      m = r.length;
      lines.push(r);
    }
  }
  if (m < 0) m = f(new Array(n).fill(0)).length;
  const out = new Array<number>(outer * m * inner);
  lines.forEach((r, li) => {
    const o = Math.floor(li / inner), i = li % inner;
    r.forEach((v, j) => { out[(o * m + j) * inner + i] = v; });
  });
  const outShape = shape.length === 0 ? [] : dims.map((d, j) => (j === k ? m : d));
  return { data: out, shape: outShape };
}

/** PyTorch's order: NaN above every number; Array.prototype.sort is stable, so ties keep their order. */
function refOrder(line: number[], descending: boolean): number[] {
  const cmp = (i: number, j: number) => {
    const a = line[i], b = line[j];
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) === Number.isNaN(b) ? 0 : Number.isNaN(a) ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  const idx = line.map((_, i) => i);
  return descending ? idx.sort((i, j) => cmp(j, i)) : idx.sort(cmp);
}

const refArg = (line: number[], largest: boolean): number => {
  let best = 0;
  for (let j = 0; j < line.length; j++) {
    if (Number.isNaN(line[j])) return j;
    if (largest ? line[j] > line[best] : line[j] < line[best]) best = j;
  }
  return best;
};



/** ⟨v, J·u⟩ from wg.jvp equals ⟨Jᵀ·v, u⟩ from the reverse sweep, on random u, v (float64). */
function checkJvpVjp(f: (x: Tensor) => Tensor, x: Tensor, seed = 3): void {
  wg.tidy(() => {
    const u = rand64(x.shape, -1, 1, seed);
    const [y, ydot] = wg.jvp(f, [x], [u]);
    const v = rand64((y as Tensor).shape, -1, 1, seed + 1);
    const gx = wg.grad((t: Tensor) => f(t).mul(v).sum())(x);
    const lhs = dot(flat((ydot as Tensor).toArray()), flat(v.toArray()));
    const rhs = dot(flat(gx.toArray()), flat(u.toArray()));
    expectClose(lhs, rhs, 1e-10, 1e-12);
  });
}

/**
 * Second derivative of h(x) = Σ w·f(x)² (or Σ w·f(x) when `raw`, for nonlinear f): the
 * Hessian-vector product by forward-over-reverse and by reverse-over-reverse, both against
 * central differences of the gradient.
 */
function checkSecond(f: (x: Tensor) => Tensor, x: Tensor, raw = false): void {
  wg.tidy(() => {
    const yShape = wg.tidy(() => f(x).shape);
    const w = rand64(yShape, 0.5, 1.5, 11);
    const h = (t: Tensor) => (raw ? f(t) : f(t).square()).mul(w).sum();
    const v = rand64(x.shape, -1, 1, 12);
    const hv = flat(wg.hvp(h)(x, v).toArray());
    const rr = flat(wg.grad((t: Tensor) => wg.grad(h)(t).mul(v).sum())(x).toArray());
    const eps = 1e-5;
    const g = (s: number) => flat(wg.grad(h)(x.add(v.mul(s))).toArray());
    const gp = g(eps), gm = g(-eps);
    const fd = gp.map((p, i) => (p - gm[i]) / (2 * eps));
    expectClose(hv, fd, 1e-6, 1e-7);
    expectClose(rr, fd, 1e-6, 1e-7);
  });
}

/** float32 forward within `tol` (relative to the values' scale) of float64. */
function checkF32(f: (x: Tensor) => Tensor, x64: Tensor, tol = 1e-6): void {
  wg.tidy(() => {
    const a = flat(f(x64.to('float32')).toArray()), b = flat(f(x64).toArray());
    const scale = Math.max(1, ...b.filter(Number.isFinite).map(Math.abs));
    expectClose(a, b, 0, tol * scale);
  });
}

// ————————————————————————————————————————— sort, argsort, topk

describe('sort and argsort', () => {
  it('match a stable JS sort on every axis, both directions, with ties', () => {
    const shape = [3, 4, 5];
    // few distinct values: many ties
    const data = uniform(size(shape), 0, 4, 5).map(Math.floor);
    for (const axis of [0, 1, 2, -1]) {
      for (const descending of [false, true]) {
        const [v, i] = t64(data, shape).sort({ axis, descending });
        const refI = alongAxis(data, shape, axis, (line) => refOrder(line, descending));
        const refV = alongAxis(data, shape, axis, (line) => refOrder(line, descending).map((j) => line[j]));
        expect(flat(i.toArray())).toEqual(refI.data);
        expect(i.dtype).toBe('int32');
        expect(flat(v.toArray())).toEqual(refV.data);
        expect(v.shape).toEqual(shape);
        expect(flat(t64(data, shape).argsort({ axis, descending }).toArray())).toEqual(refI.data);
      }
    }
  });

  it('NaN sorts as the largest value (PyTorch)', () => {
    const x = t64([1, NaN, 0, NaN, -1]);
    const [v, i] = x.sort();
    expectClose(v.toArray(), [-1, 0, 1, NaN, NaN]);
    expect(i.toArray()).toEqual([4, 2, 0, 1, 3]);
    const [vd, id] = x.sort({ descending: true });
    expectClose(vd.toArray(), [NaN, NaN, 1, 0, -1]);
    expect(id.toArray()).toEqual([1, 3, 0, 2, 4]);
    // ±inf around NaN
    const [vi] = t64([Infinity, NaN, -Infinity, 2]).sort();
    expectClose(vi.toArray(), [-Infinity, 2, Infinity, NaN]);
  });

  it('sorts int32, bool, rank-0, size-1 and empty tensors', () => {
    const [vi, ii] = wg.tensor([3, -1, 2], { dtype: 'int32' }).sort();
    expect(vi.toArray()).toEqual([-1, 2, 3]);
    expect(vi.dtype).toBe('int32');
    expect(ii.toArray()).toEqual([1, 2, 0]);
    expect(wg.tensor([true, false, true]).sort()[0].toArray()).toEqual([false, true, true]);
    const [v0, i0] = t64(7).sort();
    expect(v0.toArray()).toBe(7);
    expect(i0.toArray()).toBe(0);
    expect(t64([[5]]).sort()[1].toArray()).toEqual([[0]]);
    const [ve, ie] = wg.zeros([2, 0], { dtype: 'float64' }).sort();
    expect(ve.shape).toEqual([2, 0]);
    expect(ie.shape).toEqual([2, 0]);
    // a long line (many merge passes)
    const long = uniform(1000, -5, 5, 9);
    expect(flat(t64(long).sort()[0].toArray())).toEqual([...long].sort((a, b) => a - b));
  });

  it('values: gradient scattered to the sorted positions (finite differences, float64)', () => {
    checkGrad((x) => x.sort()[0], [rand64([4, 5], -1, 1, 21)]);
    checkGrad((x) => x.sort({ axis: 0, descending: true })[0], [rand64([4, 5], -1, 1, 22)]);
    checkGrad((x) => x.sort()[0], [rand64([], -1, 1, 23)]);
    checkGrad((x) => x.sort({ axis: 1 })[0], [rand64([3, 1, 2], -1, 1, 24)]);
    checkGrad((x) => x.sort()[0], [rand64([2, 0], -1, 1, 24)]);
    // with ties each position gets exactly the gradient of the slot it moved to
    const g = wg.grad((x: Tensor) => x.sort()[0].mul(t64([1, 10, 100])).sum())(t64([2, 1, 2]));
    expect(g.toArray()).toEqual([10, 1, 100]);
  });

  it('JVP matches VJP; second derivatives; float32 matches float64', () => {
    checkJvpVjp((x) => x.sort({ axis: 0 })[0], rand64([4, 3], -1, 1, 25));
    checkSecond((x) => x.sort({ descending: true })[0], rand64([3, 4], -1, 1, 26));
    checkF32((x) => x.sort()[0], rand64([3, 7], -1, 1, 27), 1e-7);
    const x = rand64([3, 7], -1, 1, 27);
    expect(x.to('float32').argsort().toArray()).toEqual(x.argsort().toArray());
  });

  it('rejects bad axes and options', () => {
    expectError(() => t64([1, 2]).sort({ axis: 1 }), wg.AxisError, 'sort', 'axis 1', 'rank 1');
    expectError(() => wg.sort(t64([1]), 3 as any), wg.ValueError, 'sort: options');
    expectError(() => wg.argsort(null as any), wg.ValueError, 'argsort (x)');
  });
});

describe('topk', () => {
  it('matches the first k of a stable sort (largest and smallest), every axis', () => {
    const shape = [4, 6];
    const data = uniform(size(shape), 0, 3, 31).map(Math.floor);
    for (const axis of [0, 1]) {
      for (const largest of [true, false]) {
        for (const k of [0, 1, 3, shape[axis]]) {
          const [v, i] = t64(data, shape).topk(k, { axis, largest });
          const refI = alongAxis(data, shape, axis, (line) => refOrder(line, largest).slice(0, k));
          expect(i.shape).toEqual(refI.shape);
          expect(flat(i.toArray())).toEqual(refI.data);
          expect(flat(v.toArray())).toEqual(alongAxis(data, shape, axis, (line) => refOrder(line, largest).slice(0, k).map((j) => line[j])).data);
        }
      }
    }
  });

  it('counts NaN as the largest value; ties keep the first index first', () => {
    const [v, i] = t64([1, NaN, 3, 3, 2]).topk(3);
    expectClose(v.toArray(), [NaN, 3, 3]);
    expect(i.toArray()).toEqual([1, 2, 3]);
    const [vs, is] = t64([1, NaN, 3, 1, 2]).topk(2, { largest: false });
    expect(vs.toArray()).toEqual([1, 1]);
    expect(is.toArray()).toEqual([0, 3]);
    // PyTorch's docs: torch.topk(torch.arange(1., 6.), 3) → values [5, 4, 3], indices [4, 3, 2]
    const [dv, di] = wg.topk(wg.arange(1, 6, { dtype: 'float32' }), 3);
    expect(dv.toArray()).toEqual([5, 4, 3]);
    expect(di.toArray()).toEqual([4, 3, 2]);
  });

  it('values: gradients, JVP vs VJP, second derivatives, float32', () => {
    checkGrad((x) => x.topk(2)[0], [rand64([3, 5], -1, 1, 32)]);
    checkGrad((x) => x.topk(2, { axis: 0, largest: false })[0], [rand64([4, 3], -1, 1, 33)]);
    checkGrad((x) => x.topk(1)[0], [rand64([], -1, 1, 34)]);
    checkJvpVjp((x) => x.topk(3)[0], rand64([2, 6], -1, 1, 35));
    checkSecond((x) => x.topk(2)[0], rand64([2, 5], -1, 1, 36));
    checkF32((x) => x.topk(4)[0], rand64([3, 9], -1, 1, 37), 1e-7);
  });

  it('rejects k out of range, naming k and the dim size', () => {
    expectError(() => t64([[1, 2, 3]]).topk(4), wg.ValueError, 'topk', 'k (4)', 'size 3', '[1, 3]');
    expectError(() => t64([1, 2, 3]).topk(-1), wg.ValueError, 'topk', 'k (-1)');
    expectError(() => t64([1, 2, 3]).topk(1.5), wg.ValueError, 'topk: k must be an integer');
    expectError(() => t64([1, 2, 3]).topk(1, { axis: 2 }), wg.AxisError, 'topk', 'axis 2');
  });
});

// ————————————————————————————————————————— argmax, argmin

describe('argmax and argmin', () => {
  it('match a JS reference on every axis, with keepdims', () => {
    const shape = [3, 4, 2];
    const data = uniform(size(shape), 0, 3, 41).map(Math.floor); // ties
    for (const axis of [0, 1, 2, -2]) {
      for (const largest of [true, false]) {
        const ref = alongAxis(data, shape, axis, (line) => [refArg(line, largest)]);
        const fn = largest ? wg.argmax : wg.argmin;
        const r = fn(t64(data, shape), axis);
        expect(r.dtype).toBe('int32');
        expect(r.shape).toEqual(ref.shape.filter((_, j) => j !== (axis + 3) % 3));
        expect(flat(r.toArray())).toEqual(ref.data);
        const rk = fn(t64(data, shape), axis, { keepdims: true });
        expect(rk.shape).toEqual(ref.shape);
        expect(flat(rk.toArray())).toEqual(ref.data);
      }
    }
  });

  it('flat index without an axis; first occurrence on ties; a NaN wins (PyTorch)', () => {
    const x = t64([[1, 5, 2], [5, 0, 0]]);
    expect(x.argmax().toArray()).toBe(1);
    expect(x.argmax().shape).toEqual([]);
    expect(x.argmin().toArray()).toBe(4);
    expect(x.argmax(null, { keepdims: true }).shape).toEqual([1, 1]);
    expect(x.argmax(null, { keepdims: true }).toArray()).toEqual([[1]]);
    expect(t64([1, NaN, 3, NaN]).argmax().toArray()).toBe(1);
    expect(t64([1, NaN, 3, NaN]).argmin().toArray()).toBe(1);
    expect(t64([[0, NaN], [2, 1]]).argmax(0).toArray()).toEqual([1, 0]);
    expect(t64([-Infinity, -Infinity]).argmax().toArray()).toBe(0);
    expect(wg.tensor([3, 9, 9], { dtype: 'int32' }).argmax().toArray()).toBe(1);
    expect(wg.tensor([2, 5]).to('float32').argmin().toArray()).toBe(0);
    expect(t64(4).argmax().toArray()).toBe(0);
    expect(t64(4).argmax(0).toArray()).toBe(0);
    expect(t64(4).argmax(-1, { keepdims: true }).shape).toEqual([]);
  });

  it('reject empty reductions and bad axes', () => {
    expectError(() => wg.zeros([0, 3]).argmax(), wg.ShapeError, 'argmax', '[0, 3]');
    expectError(() => wg.zeros([2, 0]).argmin(1), wg.ShapeError, 'argmin', 'axis 1 of size 0');
    expect(wg.zeros([2, 0]).argmin(0).shape).toEqual([0]);
    expectError(() => t64([1, 2]).argmax(2), wg.AxisError, 'argmax', 'axis 2');
  });
});

// ————————————————————————————————————————— cumsum, cumprod

const refCumsum = (line: number[]) => { let s = 0; return line.map((v) => (s += v)); };
const refCumprod = (line: number[]) => { let p = 1; return line.map((v) => (p *= v)); };

describe('cumsum and cumprod', () => {
  it('match JS running sums and products on every axis (contiguous and strided lines)', () => {
    const shape = [3, 5, 6];
    const data = uniform(size(shape), -1.5, 1.5, 51);
    for (const axis of [0, 1, 2, -1]) {
      expectClose(flat(t64(data, shape).cumsum(axis).toArray()), alongAxis(data, shape, axis, refCumsum).data, 1e-14, 1e-14);
      expectClose(flat(t64(data, shape).cumprod(axis).toArray()), alongAxis(data, shape, axis, refCumprod).data, 1e-14, 1e-14);
    }
    expect(wg.cumsum(t64([1, 2, 3]), 0).toArray()).toEqual([1, 3, 6]);
    expect(wg.cumprod(t64([1, 2, 3, 0, 4]), 0).toArray()).toEqual([1, 2, 6, 0, 0]);
  });

  it('int32 and bool inputs give int32 (PyTorch: int64); rank 0 and empty', () => {
    const ci = wg.tensor([1, 2, 3], { dtype: 'int32' }).cumsum(0);
    expect(ci.dtype).toBe('int32');
    expect(ci.toArray()).toEqual([1, 3, 6]);
    expect(wg.tensor([true, false, true]).cumsum(0).toArray()).toEqual([1, 1, 2]);
    expect(wg.tensor([[2, 3], [4, 5]], { dtype: 'int32' }).cumprod(0).toArray()).toEqual([[2, 3], [8, 15]]);
    expect(wg.tensor([1, 2], { dtype: 'int32' }).cumsum(0, { dtype: 'float64' }).dtype).toBe('float64');
    expect(t64(5).cumsum(0).toArray()).toBe(5);
    expect(t64(5).cumprod(-1).toArray()).toBe(5);
    expect(wg.zeros([0, 3]).cumsum(0).shape).toEqual([0, 3]);
    expect(wg.zeros([2, 0]).cumprod(1).shape).toEqual([2, 0]);
  });

  it('float32 accumulates in float64 (PyTorch CPU): 1e8 + 1 + 1 … stays exact per step', () => {
    const x = wg.tensor([1e8, 1, 1, 1, -1e8, 1], { dtype: 'float32' });
    // a float32 accumulator would lose the 1s next to 1e8; float64 keeps them: the last value is 4
    expect(x.cumsum(0).toArray()[5]).toBe(4);
    const long = uniform(3000, 0, 1, 52);
    const ref = refCumsum(long.map(Math.fround)).map(Math.fround);
    expect(flat(wg.tensor(long, { dtype: 'float32' }).cumsum(0).toArray())).toEqual(ref);
    // strided lines (the SIMD row path) too
    const rows = wg.tensor(long.slice(0, 3000), { shape: [500, 6], dtype: 'float32' }).cumsum(0);
    expect(flat(rows.toArray())).toEqual(alongAxis(long.map(Math.fround), [500, 6], 0, refCumsum).data.map(Math.fround));
    checkF32((t) => t.cumprod(1), rand64([4, 9], 0.5, 1.5, 53), 1e-6);
    checkF32((t) => t.cumprod(0), rand64([9, 7], 0.5, 1.5, 54), 1e-6);
  });

  it('gradients by finite differences, including zeros in cumprod', () => {
    checkGrad((x) => x.cumsum(1), [rand64([3, 4], -1, 1, 55)]);
    checkGrad((x) => x.cumsum(0), [rand64([4, 3, 2], -1, 1, 56)]);
    checkGrad((x) => x.cumsum(0), [rand64([], -1, 1, 57)]);
    checkGrad((x) => x.cumprod(1), [rand64([3, 5], -1.5, 1.5, 58)]);
    checkGrad((x) => x.cumprod(0), [rand64([5, 3], -1.5, 1.5, 59)]);
    checkGrad((x) => x.cumprod(0), [t64([2, 0, 3, 0, 5])]);
    checkGrad((x) => x.cumprod(1), [t64([[0, 2, 3], [1.5, 0, 2], [2, 3, 0], [0, 0, 1]])]);
    checkGrad((x) => x.cumprod(0), [t64([[0, 2, 3], [1.5, 0, 2], [2, 3, 0], [0, 0, 1]])]);
    checkGrad((x) => x.cumprod(0), [t64([[0.5, -2]])]);
  });

  it('cumprod gradient with zeros is exact: Σ_(j>=k) g_j Π_(i<=j, i≠k) x_i', () => {
    const x = [2, 0, 3, 0, 5], g = [1, 2, 3, 4, 5];
    const expected = x.map((_, k) => {
      let s = 0;
      for (let j = k; j < x.length; j++) s += g[j] * x.slice(0, j + 1).reduce((p, v, i) => (i === k ? p : p * v), 1);
      return s;
    });
    const got = wg.grad((t: Tensor) => t.cumprod(0).mul(t64(g)).sum())(t64(x));
    expect(got.toArray()).toEqual(expected);
    expect(expected).toEqual([1, 22, 0, 0, 0]); // by hand: 2·2 + 3·(2·3)
  });

  it('JVP matches VJP; second derivatives with and without zeros', () => {
    checkJvpVjp((x) => x.cumsum(1), rand64([3, 4], -1, 1, 61));
    checkJvpVjp((x) => x.cumprod(0), rand64([4, 3], -1, 1, 62));
    checkJvpVjp((x) => x.cumprod(0), t64([[0, 2], [1.5, 0], [2, 3], [0, 1]]));
    checkSecond((x) => x.cumsum(0), rand64([4, 2], -1, 1, 63));
    checkSecond((x) => x.cumprod(1), rand64([2, 5], -1.5, 1.5, 64), true);
    checkSecond((x) => x.cumprod(1), rand64([2, 5], -1.5, 1.5, 64));
    checkSecond((x) => x.cumprod(0), t64([1.5, 0, 2, 0, -1, 3]), true);
    checkSecond((x) => x.cumprod(0), t64([[0, 2], [1.5, 0], [2, 3], [0, 1]]));
  });

  it('cumprod Hessian at two zeros is exact (it is not identically zero there)', () => {
    // y_last = Π x: ∂²/∂x_1∂x_3 = Π_(i ≠ 1, 3) x_i, nonzero although x_1 = x_3 = 0
    const x = [2, 0, 3, 0, 5];
    const hessRow = (i: number) => x.map((_, j) => (i === j ? 0 : x.reduce((p, v, k) => (k === i || k === j ? p : p * v), 1)));
    const h = wg.grad((t: Tensor) => wg.grad((s: Tensor) => s.cumprod(0).select(0, 4))(t).select(0, 1))(t64(x));
    expect(h.toArray()).toEqual(hessRow(1));
    expect(hessRow(1)[3]).toBe(30);
  });

  it('reject bad axes', () => {
    expectError(() => t64([1, 2]).cumsum(1), wg.AxisError, 'cumsum', 'axis 1');
    expectError(() => (wg.cumprod as any)(t64([1, 2])), wg.ValueError, 'cumprod: axis must be an integer');
    expectError(() => t64([1, 2]).cumsum(0, { dtype: 'bool' }), wg.DTypeError, 'cumsum', 'bool');
  });
});

// ————————————————————————————————————————— tril, triu

describe('tril and triu', () => {
  const refTri = (data: number[], shape: number[], d: number, upper: boolean) => {
    const [r, c] = shape.slice(-2);
    return data.map((v, i) => { const row = Math.floor(i / c) % r, col = i % c; return (upper ? col - row >= d : col - row <= d) ? v : 0; });
  };

  it('match a JS reference for every diagonal offset, batched and non-square', () => {
    for (const shape of [[4, 4], [3, 5], [5, 3], [2, 3, 4]]) {
      const data = uniform(size(shape), -1, 1, 71);
      for (const d of [-6, -2, -1, 0, 1, 2, 6]) {
        expect(flat(t64(data, shape).tril(d).toArray())).toEqual(refTri(data, shape, d, false));
        expect(flat(wg.triu(t64(data, shape), d).toArray())).toEqual(refTri(data, shape, d, true));
      }
    }
    expect(wg.tensor([[1, 2], [3, 4]], { dtype: 'int32' }).tril().toArray()).toEqual([[1, 0], [3, 4]]);
    expect(wg.tensor([[true, true], [true, true]]).triu(1).toArray()).toEqual([[false, true], [false, false]]);
    expect(wg.zeros([0, 3]).tril().shape).toEqual([0, 3]);
  });

  it('gradients, JVP vs VJP, second derivatives, float32', () => {
    checkGrad((x) => x.tril(-1), [rand64([2, 3, 3], -1, 1, 72)]);
    checkGrad((x) => x.triu(1), [rand64([3, 4], -1, 1, 73)]);
    checkJvpVjp((x) => x.triu(), rand64([4, 3], -1, 1, 74));
    checkSecond((x) => x.tril(), rand64([3, 3], -1, 1, 75));
    checkF32((x) => x.tril(1), rand64([5, 4], -1, 1, 76), 1e-7);
  });

  it('reject tensors of rank < 2 and non-integer diagonals', () => {
    expectError(() => t64([1, 2, 3]).tril(), wg.ShapeError, 'tril', 'at least 2 dims', '[3]');
    expectError(() => t64([[1]]).triu(0.5), wg.ValueError, 'triu: diagonal must be an integer');
  });
});

// ————————————————————————————————————————— flip, roll

describe('flip and roll', () => {
  it('flip matches PyTorch\'s doc example and a reference on any dims', () => {
    expect(wg.arange(8).reshape([2, 2, 2]).flip([0, 1]).toArray()).toEqual([[[6, 7], [4, 5]], [[2, 3], [0, 1]]]);
    const shape = [2, 3, 4];
    const data = uniform(size(shape), -1, 1, 81);
    for (const dims of [[0], [1], [2], [-1, 0], [0, 1, 2]]) {
      let ref = data;
      for (const d of dims) ref = alongAxis(ref, shape, d, (line) => [...line].reverse()).data;
      expect(flat(t64(data, shape).flip(dims).toArray())).toEqual(ref);
    }
    expect(t64(3).flip([]).toArray()).toBe(3);
    expect(t64([1, 2]).flip(0).toArray()).toEqual([2, 1]);
  });

  it('roll matches PyTorch\'s doc examples', () => {
    const x = wg.tensor([1, 2, 3, 4, 5, 6, 7, 8]).reshape([4, 2]);
    expect(x.roll(1).toArray()).toEqual([[8, 1], [2, 3], [4, 5], [6, 7]]);
    expect(x.roll(1, 0).toArray()).toEqual([[7, 8], [1, 2], [3, 4], [5, 6]]);
    expect(x.roll(-1, 0).toArray()).toEqual([[3, 4], [5, 6], [7, 8], [1, 2]]);
    expect(x.roll([2, 1], [0, 1]).toArray()).toEqual([[6, 5], [8, 7], [2, 1], [4, 3]]);
    expect(x.roll(9, 0).toArray()).toEqual(x.roll(1, 0).toArray());
    expect(x.roll(-17).toArray()).toEqual(x.roll(-1).toArray());
    expect(wg.zeros([0, 2]).roll(1).shape).toEqual([0, 2]);
  });

  it('gradients, JVP vs VJP, second derivatives, float32', () => {
    checkGrad((t) => t.flip([0, 2]), [rand64([2, 3, 2], -1, 1, 82)]);
    checkGrad((t) => t.roll(2), [rand64([3, 3], -1, 1, 83)]);
    checkGrad((t) => t.roll([1, -1], [0, 1]), [rand64([3, 4], -1, 1, 84)]);
    checkJvpVjp((t) => t.roll(1, 1), rand64([2, 5], -1, 1, 85));
    checkJvpVjp((t) => t.flip(1), rand64([2, 5], -1, 1, 86));
    checkSecond((t) => t.flip(0).roll(1), rand64([3, 2], -1, 1, 87));
    checkF32((t) => t.roll(3).flip(0), rand64([4, 3], -1, 1, 88), 1e-7);
  });

  it('reject repeated dims and misaligned shifts', () => {
    expectError(() => t64([[1]]).flip([0, 0]), wg.AxisError, 'flip', 'dim 0 appears more than once');
    expectError(() => t64([[1]]).flip([2]), wg.AxisError, 'flip', 'dim 2');
    expectError(() => t64([[1]]).roll([1, 2], [0]), wg.ValueError, 'roll', '2 shift(s)', '1 dim(s)');
    expectError(() => t64([[1]]).roll([1, 2]), wg.ValueError, 'roll', 'without dims');
  });
});

// ————————————————————————————————————————— tile, repeat, repeatInterleave

describe('tile, repeat and repeatInterleave', () => {
  it('repeat and tile match PyTorch\'s doc examples', () => {
    const x = wg.tensor([1, 2, 3]);
    expect(x.repeat(4, 2).toArray()).toEqual(Array(4).fill([1, 2, 3, 1, 2, 3]));
    expect(x.repeat([4, 2, 1]).shape).toEqual([4, 2, 3]);
    expect(x.tile([2]).toArray()).toEqual([1, 2, 3, 1, 2, 3]);
    const y = wg.tensor([[1, 2], [3, 4]]);
    expect(wg.tile(y, [2, 2]).toArray()).toEqual([[1, 2, 1, 2], [3, 4, 3, 4], [1, 2, 1, 2], [3, 4, 3, 4]]);
    expect(y.tile(2).toArray()).toEqual([[1, 2, 1, 2], [3, 4, 3, 4]]); // fewer reps: leading 1s
    expect(y.repeat(1, 1).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(y.repeat(0, 2).shape).toEqual([0, 4]);
    expect(t64(5).repeat(2, 3).toArray()).toEqual([[5, 5, 5], [5, 5, 5]]);
  });

  it('repeat matches a JS reference on a rank-3 tensor', () => {
    const shape = [2, 3, 2], reps = [2, 1, 3];
    const data = uniform(size(shape), -1, 1, 91);
    const out = t64(data, shape).repeat(reps);
    const oshape = shape.map((d, j) => d * reps[j]);
    expect(out.shape).toEqual(oshape);
    const ref: number[] = [];
    for (let a = 0; a < oshape[0]; a++) for (let b = 0; b < oshape[1]; b++) for (let c = 0; c < oshape[2]; c++) {
      ref.push(data[((a % 2) * 3 + (b % 3)) * 2 + (c % 2)]);
    }
    expect(flat(out.toArray())).toEqual(ref);
  });

  it('repeatInterleave matches PyTorch\'s doc examples', () => {
    expect(wg.tensor([1, 2, 3]).repeatInterleave(2).toArray()).toEqual([1, 1, 2, 2, 3, 3]);
    const y = wg.tensor([[1, 2], [3, 4]]);
    expect(wg.repeatInterleave(y, 2).toArray()).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    expect(y.repeatInterleave(3, 1).toArray()).toEqual([[1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4]]);
    expect(y.repeatInterleave([1, 2], 0).toArray()).toEqual([[1, 2], [3, 4], [3, 4]]);
    expect(y.repeatInterleave(wg.tensor([0, 2], { dtype: 'int32' }), 1).toArray()).toEqual([[2, 2], [4, 4]]);
    expect(t64(7).repeatInterleave(3, 0).toArray()).toEqual([7, 7, 7]);
    expect(t64(7).repeatInterleave(2).toArray()).toEqual([7, 7]);
  });

  it('gradients, JVP vs VJP, second derivatives, float32', () => {
    checkGrad((t) => t.repeat(2, 1, 3), [rand64([2, 3], -1, 1, 92)]);
    checkGrad((t) => t.tile([3]), [rand64([2, 2], -1, 1, 93)]);
    checkGrad((t) => t.repeatInterleave([2, 0, 1], 0), [rand64([3, 2], -1, 1, 94)]);
    checkJvpVjp((t) => t.repeat(2, 2), rand64([2, 3], -1, 1, 95));
    checkJvpVjp((t) => t.repeatInterleave(2), rand64([2, 3], -1, 1, 96));
    checkSecond((t) => t.tile([2, 1]), rand64([2, 2], -1, 1, 97));
    checkF32((t) => t.repeat(2, 2).repeatInterleave(2, 1), rand64([2, 3], -1, 1, 98), 1e-7);
  });

  it('reject too few repeats, negative counts and mismatched repeat lists', () => {
    expectError(() => wg.tensor([[1, 2]]).repeat(2), wg.ShapeError, 'repeat', '1 repeats', 'rank 2', '[1, 2]');
    expectError(() => wg.tensor([1]).repeat(-1), wg.ValueError, 'repeat', 'repeats[0] is -1');
    expectError(() => wg.tensor([1, 2]).repeatInterleave([1, 2, 3], 0), wg.ShapeError, 'repeatInterleave', '3 entries', 'size 2');
    expectError(() => wg.tensor([1, 2]).repeatInterleave([1, -2], 0), wg.ValueError, 'repeatInterleave', 'repeats[1] is -2');
  });
});

// ————————————————————————————————————————— oneHot, embedding

describe('oneHot', () => {
  it('matches PyTorch\'s doc examples (int32 here, int64 in PyTorch)', () => {
    const idx = wg.tensor([0, 1, 2, 0, 1], { dtype: 'int32' });
    const r = wg.oneHot(idx);
    expect(r.dtype).toBe('int32');
    expect(r.toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]]);
    expect(idx.oneHot(5).toArray()).toEqual([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [1, 0, 0, 0, 0], [0, 1, 0, 0, 0]]);
    expect(wg.oneHot([[0, 2], [1, 1]]).toArray()).toEqual([[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 1, 0]]]);
    expect(wg.oneHot(wg.tensor([], { dtype: 'int32' }), 4).shape).toEqual([0, 4]);
  });

  it('rejects negative, out-of-range and non-integer indices', () => {
    expectError(() => wg.oneHot([0, 3], 3), wg.ValueError, 'oneHot', 'index 3', '3 classes');
    expectError(() => wg.oneHot([0, -1]), wg.ValueError, 'oneHot', 'index -1', 'negative');
    expectError(() => wg.oneHot(wg.tensor([0.5])), wg.DTypeError, 'oneHot', 'int32', 'float32');
    expectError(() => wg.oneHot(wg.tensor([], { dtype: 'int32' })), wg.ValueError, 'oneHot', 'cannot infer');
  });
});

describe('embedding', () => {
  const table = () => rand64([5, 3], -1, 1, 101);

  it('picks the rows of the table, shaped [...indices, dim]', () => {
    const w = table();
    const rows = w.toArray() as number[][];
    const idx = [[4, 0, 4], [2, 2, 1]];
    const out = wg.embedding(idx, w);
    expect(out.shape).toEqual([2, 3, 3]);
    expect(out.toArray()).toEqual(idx.map((r) => r.map((i) => rows[i])));
    expect(wg.tensor([1, 3], { dtype: 'int32' }).embedding(w).toArray()).toEqual([rows[1], rows[3]]);
    expect(wg.embedding(wg.tensor(2, { dtype: 'int32' }), w).toArray()).toEqual(rows[2]);
    // the padding row's values are still returned
    expect(wg.embedding([0, 1], w, { paddingIdx: 0 }).toArray()).toEqual([rows[0], rows[1]]);
  });

  it('gradient: scattered into rows, repeated indices accumulate, paddingIdx gets none', () => {
    const idx = [[4, 0, 4], [2, 4, 1]];
    checkGrad((w) => wg.embedding(idx, w), [table()]);
    const g = wg.grad((w: Tensor) => wg.embedding(idx, w).sum())(table());
    expect(g.toArray()).toEqual([[1, 1, 1], [1, 1, 1], [1, 1, 1], [0, 0, 0], [3, 3, 3]]);
    const gp = wg.grad((w: Tensor) => wg.embedding(idx, w, { paddingIdx: 4 }).sum())(table());
    expect(gp.toArray()).toEqual([[1, 1, 1], [1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0]]);
    const gn = wg.grad((w: Tensor) => wg.embedding(idx, w, { paddingIdx: -5 }).sum())(table());
    expect(gn.toArray()).toEqual([[0, 0, 0], [1, 1, 1], [1, 1, 1], [0, 0, 0], [3, 3, 3]]);
  });

  it('JVP vs VJP, second derivatives, float32', () => {
    checkJvpVjp((w) => wg.embedding([3, 3, 0], w), table());
    checkJvpVjp((w) => wg.embedding([3, 3, 0], w, { paddingIdx: 3 }), table());
    checkSecond((w) => wg.embedding([[1, 1], [0, 4]], w), table());
    checkF32((w) => wg.embedding([1, 2, 1], w), table(), 1e-7);
  });

  it('rejects out-of-range indices naming the index and the table size', () => {
    expectError(() => wg.embedding([0, 7], table()), wg.ValueError, 'embedding', 'index 7', '5 rows', '[5, 3]');
    expectError(() => wg.embedding([-1], table()), wg.ValueError, 'embedding', 'index -1');
    expectError(() => wg.embedding([0], table(), { paddingIdx: 5 }), wg.ValueError, 'embedding', 'paddingIdx 5');
    expectError(() => wg.embedding([0], t64([1, 2])), wg.ShapeError, 'embedding', '2-D', '[2]');
    expectError(() => wg.embedding(wg.tensor([0.0]), table()), wg.DTypeError, 'embedding', 'int32');
  });
});

// ————————————————————————————————————————— memory and registry

describe('memory and the op registry', () => {
  it('composites free their temporaries (outside any scope, only the result survives)', () => {
    const x = rand64([3, 4], -1, 1, 111);
    expectNoLeak(() => {
      for (const f of [
        (t: Tensor) => t.sort(), (t: Tensor) => t.topk(2), (t: Tensor) => t.argmax(1), (t: Tensor) => t.cumprod(1),
        (t: Tensor) => t.tril(), (t: Tensor) => t.flip([0, 1]), (t: Tensor) => t.roll(1), (t: Tensor) => t.roll([1], [1]),
        (t: Tensor) => t.repeat(2, 1, 2), (t: Tensor) => t.tile([2]), (t: Tensor) => t.repeatInterleave(2),
        (t: Tensor) => wg.embedding([[0, 1]], t, { paddingIdx: 1 }), () => wg.oneHot([1, 2]),
      ]) wg.dispose(f(x));
      // grad drops the value without disposing it (outside a scope), hence the tidy here
      wg.tidy(() => { wg.grad((t: Tensor) => t.cumprod(0).sort()[0].sum())(x); });
    });
  });

  it('lists every exported op of the family, each with its function and Tensor method', () => {
    for (const op of registry) {
      expect(typeof (wg as any)[op.name], op.name).toBe('function');
      expect(typeof (wg.Tensor.prototype as any)[op.name], op.name).toBe('function');
      if (op.differentiable !== false) expect(op.vjp && op.jvp && op.float64, op.name).toBe(true);
    }
  });
});

describe('topk by partial selection (k much smaller than the line)', () => {
  it('topk by selection equals the stable sort prefix, ties and NaN included', () => {
    let s = 7;
    const r = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(r() * 300), k = 1 + Math.floor(r() * Math.min(n, 20));
      const v = Array.from({ length: n }, () => { const u = r(); return u < 0.05 ? NaN : Math.floor(u * 10); });
      for (const largest of [true, false]) {
        wg.tidy(() => {
          const x = wg.tensor(v, { dtype: 'float64' });
          const [vals, idx] = wg.topk(x, k, { largest }) as any;
          const full = wg.argsort(x, { descending: largest, stable: true }) as any;
          expect(Array.from(idx.data())).toEqual(Array.from(full.data()).slice(0, k));
        });
      }
    }
  });
});
