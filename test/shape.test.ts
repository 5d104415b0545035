// Shape and indexing ops: forward values against small nested-array references written here,
// gradients by finite differences in float64, dtype passthrough, and error cases.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectNoLeak, rand64, uniform, expectError, runtimeWorks } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

// ————————————————————————————————————————— nested-array references

type Nested = any;
/** a[i0][i1]… */
const at = (a: Nested, idx: number[]): any => idx.reduce((v, i) => v[i], a);
/** The nested array of `shape` whose element at idx is f(idx). */
function build(shape: number[], f: (idx: number[]) => any, prefix: number[] = []): Nested {
  if (prefix.length === shape.length) return f(prefix);
  return Array.from({ length: shape[prefix.length] }, (_, i) => build(shape, f, [...prefix, i]));
}
/** Every multi-index of a shape, row-major. */
function indices(shape: number[]): number[][] {
  const out: number[][] = [];
  build(shape, (idx) => { out.push(idx); return 0; });
  return out;
}
const clone = (a: Nested): Nested => JSON.parse(JSON.stringify(a));
/** A nested array of shape with values 0, 1, 2, … (distinct, so misplaced elements show). */
const iota = (shape: number[], base = 0): Nested => {
  let n = base;
  return build(shape, () => n++);
};
const t64 = (a: Nested): Tensor => wg.tensor(a, { dtype: 'float64' });
/** Shape of a nested array (regular). */
const shapeOf = (a: Nested): number[] => (Array.isArray(a) ? [a.length, ...(a.length ? shapeOf(a[0]) : [])] : []);

/** Python's a[start:end:step] on range(n), by filtering (no index arithmetic shared with the code). */
function pyRange(n: number, start: number | null, end: number | null, step: number): number[] {
  const norm = (v: number) => (v < 0 ? v + n : v);
  const lo = start === null ? 0 : norm(start);
  const hi = end === null ? n : norm(end);
  return Array.from({ length: n }, (_, i) => i).filter((i) => i >= lo && i < hi && (i - Math.max(lo, 0)) % step === 0);
}


// ————————————————————————————————————————— permute, transpose

describe('permute and transpose', () => {
  const refPermute = (a: Nested, perm: number[]) => {
    const s = shapeOf(a);
    return build(perm.map((p) => s[p]), (idx) => {
      const src = new Array(perm.length);
      perm.forEach((p, k) => { src[p] = idx[k]; });
      return at(a, src);
    });
  };

  it('matches the reference for every permutation of a rank-3 tensor', () => {
    const a = iota([2, 3, 4]);
    for (const perm of [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]) {
      expect(t64(a).permute(perm).toArray()).toEqual(refPermute(a, perm));
      expect(t64(a).permute(...perm).toArray()).toEqual(refPermute(a, perm));
    }
    expect(t64(a).permute(-1, 0, -2).toArray()).toEqual(refPermute(a, [2, 0, 1]));
  });

  it('transposes large matrices (tiled SIMD path with edges) in every dtype', () => {
    for (const [R, C] of [[37, 53], [64, 64], [5, 130], [1, 9]]) {
      const a = iota([R, C]);
      const ref = refPermute(a, [1, 0]);
      expect(wg.tensor(a, { dtype: 'float32' }).t().toArray()).toEqual(ref);
      expect(wg.tensor(a, { dtype: 'float64' }).transpose(0, 1).toArray()).toEqual(ref);
      expect(wg.tensor(a, { dtype: 'int32' }).transpose().toArray()).toEqual(ref);
      const b = build([R, C], ([i, j]) => (i * 7 + j * 3) % 5 === 0);
      expect(wg.tensor(b).T.toArray()).toEqual(refPermute(b, [1, 0]));
    }
  });

  it('handles batched and rank-4 permutations against the reference', () => {
    const a = iota([3, 19, 21]);
    expect(t64(a).transpose(-1, -2).toArray()).toEqual(refPermute(a, [0, 2, 1]));
    expect(wg.tensor(a, { dtype: 'float32' }).permute(2, 1, 0).toArray()).toEqual(refPermute(a, [2, 1, 0]));
    const b = iota([2, 5, 3, 6]);
    for (const perm of [[3, 1, 0, 2], [0, 3, 2, 1], [2, 3, 0, 1], [1, 0, 3, 2]]) {
      expect(wg.tensor(b, { dtype: 'int32' }).permute(perm).toArray()).toEqual(refPermute(b, perm));
    }
    // .T reverses all dims, as PyTorch's (deprecated) .T on rank > 2
    expect(t64(a).T.toArray()).toEqual(refPermute(a, [2, 1, 0]));
  });

  it('keeps size-0, size-1 and rank-0 shapes', () => {
    expect(wg.zeros([2, 0, 3]).permute(2, 0, 1).shape).toEqual([3, 2, 0]);
    expect(t64(iota([1, 4, 1])).permute(2, 1, 0).toArray()).toEqual(refPermute(iota([1, 4, 1]), [2, 1, 0]));
    expect(wg.tensor(5).permute([]).item()).toBe(5);
    expect(wg.tensor([1, 2, 3]).t().toArray()).toEqual([1, 2, 3]);
  });

  it('float32 equals float64 exactly (a copy)', () => {
    const v = uniform(60, -1, 1, 3);
    const a32 = wg.tensor(v, { shape: [3, 4, 5] }).permute(1, 2, 0).toArray();
    const a64 = wg.tensor(v.map(Math.fround), { shape: [3, 4, 5], dtype: 'float64' }).permute(1, 2, 0).toArray();
    expect(a32).toEqual(a64);
  });

  it('gradients', () => {
    checkGrad((x) => x.permute(2, 0, 1), [rand64([2, 3, 4])]);
    checkGrad((x) => x.transpose(0, 2), [rand64([3, 1, 2], -1, 1, 2)]);
    checkGrad((x) => x.t(), [rand64([7, 5])]);
    checkGrad((x) => x.permute(1, 0), [rand64([0, 3])]);
    // broadcasting after the permute
    checkGrad((x, y) => x.permute(1, 0).mul(y), [rand64([3, 4]), rand64([3], -1, 1, 5)]);
  });

  it('errors: wrong length, repeated dim, out-of-range dim, transpose of rank 3 without dims', () => {
    const x = wg.zeros([2, 3, 4]);
    expectError(() => x.permute(0, 1), wg.AxisError, 'permute', '[0, 1]', 'rank 3');
    expectError(() => x.permute(0, 1, -3), wg.AxisError, 'permute', 'dim -3 appears more than once');
    expectError(() => x.permute(0, 1, 3), wg.AxisError, 'permute', 'dim 3', 'rank 3');
    expectError(() => x.transpose(0, 5), wg.AxisError, 'transpose', 'dim1 5', 'rank 3');
    expectError(() => x.t(), wg.ValueError, 't', 'rank 3');
    expectError(() => x.transpose(), wg.ValueError, 'transpose', 'rank 3');
  });
});

// ————————————————————————————————————————— squeeze, unsqueeze, flatten, reshape

describe('squeeze, unsqueeze, flatten', () => {
  it('produce PyTorch shapes and keep the data', () => {
    const a = iota([1, 3, 1, 2]);
    const x = t64(a);
    const data = a.flat(3);
    const check = (y: Tensor, shape: number[]) => { expect(y.shape).toEqual(shape); expect(Array.from(y.data())).toEqual(data); };
    check(x.squeeze(), [3, 2]);
    check(x.squeeze(0), [3, 1, 2]);
    check(x.squeeze(1), [1, 3, 1, 2]); // a dim that is not 1 is left alone, as in PyTorch
    check(x.squeeze([0, -2]), [3, 2]);
    check(x.unsqueeze(0), [1, 1, 3, 1, 2]);
    check(x.unsqueeze(-1), [1, 3, 1, 2, 1]);
    check(x.unsqueeze(4), [1, 3, 1, 2, 1]);
    check(x.unsqueeze(-5), [1, 1, 3, 1, 2]);
    check(x.flatten(), [6]);
    check(x.flatten(1), [1, 6]);
    check(x.flatten(1, 2), [1, 3, 2]);
    check(x.flatten(-2, -1), [1, 3, 2]);
    expect(wg.tensor(7).unsqueeze(0).toArray()).toEqual([7]);
    expect(wg.tensor(7).unsqueeze(-1).shape).toEqual([1]);
    expect(wg.tensor(7).flatten().toArray()).toEqual([7]);
    expect(wg.tensor(7).squeeze().shape).toEqual([]);
    expect(wg.tensor([[true], [false]]).squeeze(1).toArray()).toEqual([true, false]);
    expect(wg.zeros([0, 1, 2]).squeeze().shape).toEqual([0, 2]);
  });

  it('gradients (rank 0, size 0, size 1)', () => {
    checkGrad((x) => x.unsqueeze(0).mul(x.unsqueeze(0)), [rand64([])]);
    checkGrad((x) => x.reshape([1, 1]), [rand64([])]);
    checkGrad((x) => x.squeeze().square(), [rand64([1, 3, 1])]);
    checkGrad((x) => x.unsqueeze(1).mul(x), [rand64([3])]); // broadcast [3,1] · [3]
    checkGrad((x) => x.flatten(0, 1), [rand64([2, 3, 2])]);
    checkGrad((x) => x.flatten(), [rand64([2, 0])]);
  });

  it('errors', () => {
    const x = wg.zeros([2, 1]);
    expectError(() => x.squeeze(2), wg.AxisError, 'squeeze', 'axis 2', 'rank 2');
    expectError(() => x.unsqueeze(3), wg.AxisError, 'unsqueeze', 'axis 3', 'rank 3');
    expectError(() => x.flatten(1, 0), wg.ValueError, 'flatten', 'startDim 1', 'endDim 0');
    expectError(() => x.flatten(0, 2), wg.AxisError, 'flatten', 'endDim 2');
  });
});

// ————————————————————————————————————————— slice, narrow, select

describe('slice', () => {
  it('follows Python slicing (values known from Python)', () => {
    const r = wg.tensor(Array.from({ length: 10 }, (_, i) => i));
    expect(r.slice(0, -3).toArray()).toEqual([7, 8, 9]);
    expect(r.slice(0, null, null, 3).toArray()).toEqual([0, 3, 6, 9]);
    expect(r.slice(0, 2, 100, 4).toArray()).toEqual([2, 6]);
    expect(r.slice(0, 5, 2).toArray()).toEqual([]);
    expect(r.slice(0, -100, 3).toArray()).toEqual([0, 1, 2]);
    expect(r.slice(0, 1, -1, 2).toArray()).toEqual([1, 3, 5, 7]);
    expect(r.slice(0, 10).toArray()).toEqual([]);
    expect(r.slice([[-2, null, 5]]).toArray()).toEqual([8]);
  });

  it('matches the filtering reference on a rank-3 tensor', () => {
    const shape = [5, 6, 7];
    const a = iota(shape);
    const cases: [number | null, number | null, number][][] = [
      [[1, 4, 2], [null, null, 1], [-5, -1, 3]],
      [[null, null, 4], [5, 1, 1], [0, 7, 7]],
      [[-1, null, 1], [-100, 100, 5], [2, 3, 1]],
      [[0, 5, 1], [1, 6, 2], [6, 100, 2]],
    ];
    for (const spec of cases) {
      const ranges = spec.map(([s, e, st], k) => pyRange(shape[k], s, e, st));
      const ref = build(ranges.map((r) => r.length), (idx) => at(a, idx.map((i, k) => ranges[k][i])));
      expect(t64(a).slice(spec).toArray()).toEqual(ref);
      expect(wg.tensor(a, { dtype: 'int32' }).slice(spec).toArray()).toEqual(ref);
    }
    // missing trailing ranges and null entries take whole dims
    expect(t64(a).slice([null, [2, 4]]).toArray()).toEqual(build([5, 2, 7], ([i, j, k]) => at(a, [i, j + 2, k])));
    expect(t64(a).slice(-1, 1, 6, 2).toArray()).toEqual(build([5, 6, 3], ([i, j, k]) => at(a, [i, j, 1 + 2 * k])));
  });

  it('works on bool tensors and float32 matches float64', () => {
    const b = build([4, 3], ([i, j]) => (i + j) % 2 === 0);
    expect(wg.tensor(b).slice([[1, null, 2], [0, 2]]).toArray()).toEqual([[false, true], [false, true]]);
    const v = uniform(24, -1, 1, 9);
    const s32 = wg.tensor(v, { shape: [4, 6] }).slice([[1, 4, 2], [null, null, 3]]).toArray();
    const s64 = wg.tensor(v.map(Math.fround), { shape: [4, 6], dtype: 'float64' }).slice([[1, 4, 2], [null, null, 3]]).toArray();
    expect(s32).toEqual(s64);
  });

  it('narrow and select', () => {
    const a = iota([3, 4]);
    expect(t64(a).narrow(1, 1, 2).toArray()).toEqual(a.map((row: number[]) => row.slice(1, 3)));
    expect(t64(a).narrow(0, -2, 2).toArray()).toEqual(a.slice(1));
    expect(t64(a).select(0, 1).toArray()).toEqual(a[1]);
    expect(t64(a).select(1, -1).toArray()).toEqual(a.map((row: number[]) => row[3]));
    expect(t64([4, 5]).select(0, 1).shape).toEqual([]);
    expect(wg.tensor(a, { dtype: 'int32' }).select(1, 2).toArray()).toEqual([2, 6, 10]);
  });

  it('gradients (steps, empty results, size 1, select to rank 0)', () => {
    checkGrad((x) => x.slice([[1, null, 2], [-3, null, 1]]), [rand64([5, 4])]);
    checkGrad((x) => x.slice(1, null, null, 3).square(), [rand64([2, 7, 2])]);
    checkGrad((x) => x.slice(0, 3, 1), [rand64([4])]);
    checkGrad((x) => x.slice(0, 0, 1), [rand64([1, 3])]);
    checkGrad((x) => x.select(1, -1), [rand64([3, 4])]);
    checkGrad((x) => x.select(0, 1).mul(x.select(0, 0)), [rand64([2])]);
    checkGrad((x) => x.narrow(2, 1, 2), [rand64([2, 2, 4])]);
    // one input used twice with overlapping slices and broadcasting
    checkGrad((x, y) => x.slice(0, 0, 3).mul(x.slice(0, 1, 4)).mul(y), [rand64([4, 3]), rand64([1, 3], -1, 1, 4)]);
  });

  it('second derivatives flow through slice and its pad rule', () => {
    // Mixed partials ∂/∂y (Σ c·∂f/∂x) with f = Σ s(x)²·s(y), s = odd positions: 2·c_i·x_i at odd i.
    const x0 = [0.5, -2, 1.5, 3, -1], y0 = [1, 2, -1, 0.5, 4], c = [1, 2, 3, 4, 5];
    const s = (t: Tensor) => t.slice(0, 1, null, 2);
    const d2 = wg.dlfeval((x: Tensor, y: Tensor) => {
      const d = wg.dlgradient(s(x).square().mul(s(y)).sum(), x, { EnableHigherDerivatives: true });
      return wg.dlgradient(d.mul(t64(c)).sum(), y);
    }, t64(x0), t64(y0));
    expectClose(d2.toArray(), x0.map((v, i) => (i % 2 === 1 ? 2 * c[i] * v : 0)), 1e-12, 1e-12);
  });

  it('errors: step <= 0, bad ranges, out-of-range select', () => {
    const x = wg.zeros([3, 4]);
    expectError(() => x.slice(0, 0, 3, 0), wg.ValueError, 'slice', 'step 0', 'greater than zero');
    expectError(() => x.slice(1, null, null, -1), wg.ValueError, 'slice', 'step -1', 'greater than zero');
    expectError(() => x.slice([null, null, null]), wg.AxisError, 'slice', '3 ranges', 'rank 2');
    expectError(() => x.slice(2, 0, 1), wg.AxisError, 'slice', 'axis 2', 'rank 2');
    expectError(() => x.slice(0, 0.5), wg.ValueError, 'slice', 'start (dim 0)', '0.5');
    expectError(() => x.select(1, 4), wg.ValueError, 'select', 'index 4', 'dim 1 of size 4');
    expectError(() => x.select(0, -4), wg.ValueError, 'select', 'index -4', 'size 3');
    expectError(() => wg.tensor(1).select(0, 0), wg.AxisError, 'select', 'rank-0');
    expectError(() => x.narrow(1, 2, 3), wg.ValueError, 'narrow', 'start 2', 'length 3', 'size 4');
  });
});

// ————————————————————————————————————————— pad

describe('pad', () => {
  /** F.pad reference: out[i] = x[i - before] where in range, else value (negative pads crop). */
  const refPad = (a: Nested, pads: number[], value: any) => {
    const s = shapeOf(a);
    const before = s.map(() => 0), after = s.map(() => 0);
    for (let i = 0; i < pads.length / 2; i++) { before[s.length - 1 - i] = pads[2 * i]; after[s.length - 1 - i] = pads[2 * i + 1]; }
    return build(s.map((d, k) => d + before[k] + after[k]), (idx) => {
      const src = idx.map((i, k) => i - before[k]);
      return src.every((i, k) => i >= 0 && i < s[k]) ? at(a, src) : value;
    });
  };

  it('matches the reference, PyTorch order (last dim first), with negative pads', () => {
    const a = iota([2, 3, 4], 1);
    for (const [pads, value] of [
      [[1, 2], 0], [[0, 0, 1, 1], -1], [[2, 1, 0, 1, 1, 0], 7.5], [[-1, 2], 0], [[1, -2, -1, 0], 3],
      [[-1, -1, -1, -1], 0], [[0, 0], 0],
    ] as [number[], number][]) {
      expect(t64(a).pad(pads, value).toArray()).toEqual(refPad(a, pads, value));
    }
    // a known PyTorch result: F.pad(torch.tensor([[1., 2.]]), (1, 1, 1, 0))
    expect(wg.pad(wg.tensor([[1, 2]]), [1, 1, 1, 0]).toArray()).toEqual([[0, 0, 0, 0], [0, 1, 2, 0]]);
  });

  it('pads int32 and bool tensors, size-0 and rank-0 inputs', () => {
    const a = iota([2, 2]);
    expect(wg.tensor(a, { dtype: 'int32' }).pad([1, 0], 9).toArray()).toEqual(refPad(a, [1, 0], 9));
    expect(wg.tensor([true, false]).pad([1, 1], 1).toArray()).toEqual([true, true, false, true]);
    expect(wg.zeros([0, 2]).pad([0, 0, 1, 1], 4).toArray()).toEqual([[4, 4], [4, 4]]);
    expect(wg.tensor(3).pad([]).item()).toBe(3);
    expect(wg.tensor([1, 2, 3]).pad([-2, -1]).shape).toEqual([0]);
  });

  it('gradients (positive, negative and mixed pads)', () => {
    checkGrad((x) => x.pad([1, 2, 0, 1], 0.5), [rand64([2, 3])]);
    checkGrad((x) => x.pad([-1, 2]), [rand64([2, 4])]);
    checkGrad((x) => x.pad([1, -1, -1, 1]).square(), [rand64([3, 3])]);
    checkGrad((x) => x.pad([1, 1]), [rand64([2, 0])]);
    checkGrad((x, y) => x.pad([0, 1]).mul(y), [rand64([3, 2]), rand64([3], -1, 1, 8)]);
  });

  it('errors', () => {
    const x = wg.zeros([2, 3]);
    expectError(() => x.pad([1]), wg.ValueError, 'pad', 'even length');
    expectError(() => x.pad([1, 1, 1, 1, 1, 1]), wg.ValueError, 'pad', '3 dims', 'rank 2');
    expectError(() => x.pad([-2, -2]), wg.ShapeError, 'pad', 'dim 1 of size 3', '-2 and -2', 'negative size');
    expectError(() => x.pad([0.5, 1]), wg.ValueError, 'pad', 'pads[0]');
    expectError(() => wg.pad(x, [1, 1], 0, 'symmetric' as 'constant'), wg.ValueError, 'pad', 'mode', 'symmetric', "'reflect'");
  });
});

// ————————————————————————————————————————— indexSelect, indexAdd

describe('indexSelect and indexAdd', () => {
  const refIndexSelect = (a: Nested, axis: number, ind: number[]) => {
    const s = shapeOf(a);
    return build(s.map((d, k) => (k === axis ? ind.length : d)), (idx) => at(a, idx.map((i, k) => (k === axis ? ind[i] : i))));
  };
  const refIndexAdd = (a: Nested, axis: number, ind: number[], src: Nested, alpha: number) => {
    const out = clone(a);
    for (const idx of indices(shapeOf(src))) {
      const dst = idx.map((i, k) => (k === axis ? ind[i] : i));
      const parent = at(out, dst.slice(0, -1));
      parent[dst[dst.length - 1]] += alpha * at(src, idx);
    }
    return out;
  };

  it('indexSelect matches the reference with repeats, on every axis and index form', () => {
    const a = iota([3, 4, 2]);
    const ind = [2, 0, 2, 1];
    expect(t64(a).indexSelect(0, ind).toArray()).toEqual(refIndexSelect(a, 0, ind));
    expect(t64(a).indexSelect(1, new Int32Array([3, 3, 0])).toArray()).toEqual(refIndexSelect(a, 1, [3, 3, 0]));
    expect(t64(a).indexSelect(-1, wg.tensor([1, 0], { dtype: 'int32' })).toArray()).toEqual(refIndexSelect(a, 2, [1, 0]));
    expect(t64(a).indexSelect(1, []).shape).toEqual([3, 0, 2]);
    expect(t64(a).indexSelect(0, 1).toArray()).toEqual(refIndexSelect(a, 0, [1])); // 0-d index keeps the dim
    expect(wg.tensor(a, { dtype: 'int32' }).indexSelect(2, [1]).toArray()).toEqual(refIndexSelect(a, 2, [1]));
    const b = build([2, 3], ([i, j]) => i === j);
    expect(wg.tensor(b).indexSelect(1, [2, 1]).toArray()).toEqual(refIndexSelect(b, 1, [2, 1]));
    expect(wg.tensor(5).indexSelect(0, [0]).shape).toEqual([]);
  });

  it('indexAdd accumulates duplicates, with alpha, in float and int32', () => {
    const a = iota([4, 3]);
    const src = iota([3, 3], 10);
    const ind = [1, 3, 1];
    expect(t64(a).indexAdd(0, ind, t64(src)).toArray()).toEqual(refIndexAdd(a, 0, ind, src, 1));
    expect(t64(a).indexAdd(0, ind, t64(src), { alpha: -2 }).toArray()).toEqual(refIndexAdd(a, 0, ind, src, -2));
    const srcT = iota([4, 2]);
    expect(wg.tensor(a, { dtype: 'int32' }).indexAdd(1, [2, 2], wg.tensor(srcT, { dtype: 'int32' })).toArray())
      .toEqual(refIndexAdd(a, 1, [2, 2], srcT, 1));
    // a known PyTorch example (index_add_ docs): ones(5,3).index_add_(0, [0,4,2], [[1,2,3],[4,5,6],[7,8,9]])
    const doc = wg.ones([5, 3]).indexAdd(0, [0, 4, 2], wg.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])).toArray();
    expect(doc).toEqual([[2, 3, 4], [1, 1, 1], [8, 9, 10], [1, 1, 1], [5, 6, 7]]);
  });

  it('gradients: indexSelect (rule indexAdd, duplicates accumulate) and indexAdd (rule indexSelect)', () => {
    checkGrad((x) => x.indexSelect(0, [2, 0, 2, 2]), [rand64([3, 2])]);
    checkGrad((x) => x.indexSelect(1, [1, 1]).square(), [rand64([2, 3, 2])]);
    checkGrad((x) => x.indexSelect(0, []), [rand64([2, 2])]);
    checkGrad((x, s) => x.indexAdd(1, [0, 2, 0], s, { alpha: 1.5 }), [rand64([2, 3]), rand64([2, 3], -1, 1, 3)]);
    checkGrad((x, s) => x.indexAdd(0, [1], s).mul(s.sum()), [rand64([2, 2]), rand64([1, 2], -1, 1, 3)]);
    // second order (mixed partials): f = Σ sel(x)²·sel(y) with sel = indexSelect [0, 0, 1], so
    // ∂/∂y_j (Σ c·∂f/∂x) = count_j · 2·c_j·x_j with counts [2, 1]
    const sel = (t: Tensor) => t.indexSelect(0, [0, 0, 1]);
    const d2 = wg.dlfeval((x: Tensor, y: Tensor) => {
      const d = wg.dlgradient(sel(x).square().mul(sel(y)).sum(), x, { EnableHigherDerivatives: true });
      return wg.dlgradient(d.mul(t64([3, 5])).sum(), y);
    }, t64([0.5, -2]), t64([1.5, 4]));
    expectClose(d2.toArray(), [2 * 2 * 3 * 0.5, 1 * 2 * 5 * -2], 1e-12, 1e-12);
  });

  it('errors: out-of-range, negative, float index; wrong source shape', () => {
    const x = wg.zeros([2, 3]);
    expectError(() => x.indexSelect(1, [0, 3]), wg.ValueError, 'indexSelect', 'index 3', 'dim 1 of size 3', '[2, 3]');
    expectError(() => x.indexSelect(0, [-1]), wg.ValueError, 'indexSelect', 'index -1', 'dim 0 of size 2');
    expectError(() => x.indexSelect(0, wg.tensor([0])), wg.DTypeError, 'indexSelect', 'int32', 'float32');
    expectError(() => x.indexSelect(0, [0.5]), wg.ValueError, 'indexSelect', 'integers', '0.5');
    expectError(() => x.indexSelect(2, [0]), wg.AxisError, 'indexSelect', 'axis 2', 'rank 2');
    expectError(() => x.indexSelect(0, [[0]]), wg.ShapeError, 'indexSelect', '0-d or 1-d');
    expectError(() => x.indexAdd(0, [0], wg.zeros([2, 3])), wg.ShapeError, 'indexAdd', 'source has shape [2, 3]', 'must have shape [1, 3]');
    expectError(() => x.indexAdd(0, [0], wg.zeros([1, 3], { dtype: 'float64' })), wg.DTypeError, 'indexAdd', 'float32', 'float64');
  });
});

// ————————————————————————————————————————— gather, scatterAdd

describe('gather and scatterAdd', () => {
  const refGather = (a: Nested, axis: number, index: Nested) =>
    build(shapeOf(index), (idx) => at(a, idx.map((i, k) => (k === axis ? at(index, idx) : i))));
  const refScatterAdd = (a: Nested, axis: number, index: Nested, src: Nested) => {
    const out = clone(a);
    for (const idx of indices(shapeOf(index))) {
      const dst = idx.map((i, k) => (k === axis ? at(index, idx) : i));
      at(out, dst.slice(0, -1))[dst[dst.length - 1]] += at(src, idx);
    }
    return out;
  };

  it('gather matches the reference and the PyTorch docs example', () => {
    expect(wg.tensor([[1, 2], [3, 4]]).gather(1, [[0, 0], [1, 0]]).toArray()).toEqual([[1, 1], [4, 3]]);
    const a = iota([3, 4, 2]);
    const index = [[[2, 0], [1, 1]], [[0, 0], [2, 1]]]; // shape [2, 2, 2], smaller than x off the axis
    expect(t64(a).gather(0, index).toArray()).toEqual(refGather(a, 0, index));
    const index1 = [[[3, 0]], [[1, 2]], [[0, 0]]];
    expect(wg.tensor(a, { dtype: 'int32' }).gather(1, index1).toArray()).toEqual(refGather(a, 1, index1));
    expect(wg.tensor(3).gather(0, 0).item()).toBe(3);
  });

  it('scatterAdd matches the reference (duplicates accumulate, larger src)', () => {
    const a = iota([3, 4]);
    const index = [[0, 1, 2, 0], [0, 0, 0, 0]];
    const src = iota([2, 4], 100);
    expect(t64(a).scatterAdd(0, index, t64(src)).toArray()).toEqual(refScatterAdd(a, 0, index, src));
    const srcBig = iota([3, 5], 50);
    const index1 = [[1, 1], [3, 0]];
    expect(wg.tensor(a, { dtype: 'int32' }).scatterAdd(1, index1, wg.tensor(srcBig, { dtype: 'int32' })).toArray())
      .toEqual(refScatterAdd(a, 1, index1, srcBig));
  });

  it('gradients', () => {
    checkGrad((x) => x.gather(1, [[0, 0, 2], [1, 2, 2]]), [rand64([2, 3])]);
    checkGrad((x) => x.gather(0, [[1], [1]]).square(), [rand64([2, 2])]);
    checkGrad((x, s) => x.scatterAdd(0, [[1, 0], [1, 1]], s), [rand64([2, 2]), rand64([2, 2], -1, 1, 6)]);
    checkGrad((x, s) => x.scatterAdd(1, [[0, 0]], s).square(), [rand64([1, 3]), rand64([2, 3], -1, 1, 6)]);
  });

  it('errors', () => {
    const x = wg.zeros([2, 3]);
    expectError(() => x.gather(1, [[0, 3]]), wg.ValueError, 'gather', 'index 3', 'dim 1 of size 3');
    expectError(() => x.gather(1, [0, 1]), wg.ShapeError, 'gather', 'rank 1', 'rank 2');
    expectError(() => x.gather(1, [[0], [0], [0]]), wg.ShapeError, 'gather', 'size 3 in dim 0', 'only 2');
    expect(x.gather(0, [[1], [0], [1]]).shape).toEqual([3, 1]); // the gathered dim may be larger, as in PyTorch
    expectError(() => x.scatterAdd(0, [[0, 0]], wg.zeros([1, 1])), wg.ShapeError, 'scatterAdd', 'index [1, 2]', 'src [1, 1]');
  });
});

// ————————————————————————————————————————— concat, stack, unstack, split

describe('concat, stack, unstack, split, chunk', () => {
  const refConcat = (as: Nested[], axis: number) => {
    const shapes = as.map(shapeOf);
    const out = [...shapes[0]];
    out[axis] = shapes.reduce((s, sh) => s + sh[axis], 0);
    return build(out, (idx) => {
      let i = idx[axis], t = 0;
      while (i >= shapes[t][axis]) { i -= shapes[t][axis]; t++; }
      return at(as[t], idx.map((v, k) => (k === axis ? i : v)));
    });
  };
  const refStack = (as: Nested[], axis: number) => {
    const s = [...shapeOf(as[0])];
    s.splice(axis, 0, as.length);
    return build(s, (idx) => at(as[idx[axis]], idx.filter((_, k) => k !== axis)));
  };

  it('concat matches the reference on every axis, with size-0 pieces and legacy [0] tensors', () => {
    const a = iota([2, 3, 2]), b = iota([2, 1, 2], 100);
    expect(wg.concat([t64(a), t64(b), wg.zeros([2, 0, 2], { dtype: 'float64' })], 1).toArray()).toEqual(refConcat([a, b], 1));
    const d = iota([1, 3, 2], 50);
    expect(wg.cat([t64(a), t64(d)]).toArray()).toEqual(refConcat([a, d], 0));
    const e = iota([2, 3, 1], 70);
    expect(wg.concat([wg.tensor(a, { dtype: 'int32' }), wg.tensor(e, { dtype: 'int32' })], -1).toArray()).toEqual(refConcat([a, e], 2));
    expect(wg.concat([t64(a), wg.zeros([0], { dtype: 'float64' })], 2).toArray()).toEqual(a);
    expect(wg.concat([wg.tensor([true]), wg.tensor([false, true])]).toArray()).toEqual([true, false, true]);
    // int32 with float32 promotes to float32, as torch.cat does
    const mixed = wg.concat([wg.tensor([1], { dtype: 'int32' }), wg.tensor([2.5])]);
    expect(mixed.dtype).toBe('float32');
    expect(mixed.toArray()).toEqual([1, 2.5]);
  });

  it('stack and unstack match the reference', () => {
    const as = [iota([2, 3]), iota([2, 3], 10), iota([2, 3], 20)];
    for (const axis of [0, 1, 2, -1]) {
      const k = axis < 0 ? axis + 3 : axis;
      const s = wg.stack(as.map(t64), axis);
      expect(s.toArray()).toEqual(refStack(as, k));
      const parts = s.unstack(axis);
      expect(parts.map((p) => p.toArray())).toEqual(as);
    }
    expect(wg.stack([wg.tensor(1), wg.tensor(2)]).toArray()).toEqual([1, 2]);
    const m = iota([2, 3]);
    expect(t64(m).unbind(1).map((p) => p.toArray())).toEqual([0, 1, 2].map((j) => m.map((r: number[]) => r[j])));
    expect(wg.tensor([[true, false]]).unstack(1).map((p) => p.itemBool())).toEqual([true, false]);
  });

  it('split and chunk as PyTorch', () => {
    const r = wg.tensor([0, 1, 2, 3, 4, 5, 6]);
    expect(r.split(3).map((p) => p.toArray())).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(r.split([1, 0, 6]).map((p) => p.toArray())).toEqual([[0], [], [1, 2, 3, 4, 5, 6]]);
    expect(r.chunk(3).map((p) => p.toArray())).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(wg.tensor([0, 1, 2, 3, 4, 5]).chunk(4).map((p) => p.toArray())).toEqual([[0, 1], [2, 3], [4, 5]]);
    const m = iota([2, 5]);
    expect(t64(m).split(2, 1).map((p) => p.toArray())).toEqual([[0, 2], [2, 4], [4, 5]].map(([s, e]) => m.map((row: number[]) => row.slice(s, e))));
  });

  it('gradients: concat (rule slices of g), stack, unstack, split', () => {
    checkGrad((x, y) => wg.concat([x, y, x], 1), [rand64([2, 3]), rand64([2, 1], -1, 1, 2)]);
    checkGrad((x, y) => wg.concat([x, y]), [rand64([0, 2]), rand64([3, 2], -1, 1, 2)]);
    checkGrad((x, y) => wg.stack([x, y, x], 1).square(), [rand64([2, 2]), rand64([2, 2], -1, 1, 2)]);
    checkGrad((x, y) => wg.stack([x, y]), [rand64([]), rand64([], -1, 1, 2)]);
    checkGrad((x) => { const [a, b, c] = x.unstack(1); return a.mul(b).add(c); }, [rand64([2, 3])]);
    checkGrad((x) => { const [a, b] = x.split([1, 2]); return b.mul(a); }, [rand64([3, 2])]); // broadcasting
    checkGrad((x, y) => wg.concat([x, y.broadcastTo([2, 2])], 0), [rand64([1, 2]), rand64([2], -1, 1, 4)]);
  });

  it('errors', () => {
    const a = wg.zeros([2, 3]), b = wg.zeros([2, 4]);
    expectError(() => wg.concat([a, a, b]), wg.ShapeError, 'concat', 'tensor 2 has shape [2, 4]', 'tensor 0 has shape [2, 3]', 'dim 1 is 4 vs 3');
    expectError(() => wg.concat([a, wg.zeros([2])], 0), wg.ShapeError, 'concat', 'tensor 1 has rank 1');
    expectError(() => wg.concat([a, b], 2), wg.AxisError, 'concat', 'axis 2', 'rank 2');
    expectError(() => wg.concat([]), wg.ValueError, 'concat', 'non-empty');
    expectError(() => wg.concat([wg.tensor(1), wg.tensor(2)]), wg.ShapeError, 'concat', 'rank 0');
    expectError(() => wg.concat([a, wg.zeros([2, 3], { dtype: 'float64' })]), wg.DTypeError, 'concat', 'float32 and float64');
    expectError(() => wg.stack([a, b]), wg.ShapeError, 'stack', 'tensor 1 has shape [2, 4]');
    expectError(() => wg.stack([a, a], 3), wg.AxisError, 'stack', 'axis 3', 'rank 3');
    expectError(() => wg.tensor(3).unstack(), wg.AxisError, 'unstack', 'rank-0');
    expectError(() => a.split([1, 2]), wg.ValueError, 'split', 'add up to 3', 'size 2');
    expectError(() => a.split(0), wg.ValueError, 'split', 'positive');
  });
});

// ————————————————————————————————————————— memory

describe('memory', () => {
  it('gradients through every op leave no tensors behind', () => {
    const x = rand64([3, 4]);
    const f = (t: Tensor) => {
      const parts = [
        t.permute(1, 0).flatten(), t.slice([[0, null, 2]]).flatten(), t.pad([1, -1]).flatten(),
        t.indexSelect(1, [3, 3]).flatten(), t.gather(0, [[2, 1, 0, 0]]).flatten(),
        wg.stack(t.unstack(1), 0).flatten(), ...t.split(2, 0).map((p) => p.flatten()),
        t.indexAdd(0, [1, 1], t.slice(0, 0, 2)).flatten(), t.scatterAdd(0, [[1, 1, 1, 1]], t).flatten(),
      ];
      return wg.concat(parts).square().sum();
    };
    wg.tidy(() => { wg.valueAndGrad(f)(x); }); // warm up lazily grown buffers
    expectNoLeak(() => { wg.tidy(() => { wg.valueAndGrad(f)(x); }); });
  });
});

describe('the gradient of many slices (unstack, split) adds each piece into its region', () => {
  it('exact for 300 pieces, repeated pieces and overlapping narrows, first and second order', () => {
    wg.tidy(() => {
      const v = Array.from({ length: 1200 }, (_, i) => Math.sin(i) * 3);
      const x = wg.tensor(v, { shape: [300, 4], dtype: 'float64' });
      const g = wg.grad((t: Tensor) => t.unstack(0).reduce((s, r) => s.add(r.square().sum()), wg.tensor(0, { dtype: 'float64' })))(x) as Tensor;
      expect(Array.from(g.data() as Float64Array)).toEqual(v.map((a) => 2 * a));
      // a piece used twice and two narrows that overlap: the contributions add up
      const h = wg.grad((t: Tensor) => {
        const [a] = t.unstack(0);
        return a.sum().add(a.sum()).add(t.narrow(0, 0, 2).sum()).add(t.narrow(0, 1, 2).sum());
      })(x) as Tensor;
      const want = Array.from({ length: 1200 }, (_, i) => (i < 4 ? 3 : i < 8 ? 2 : i < 12 ? 1 : 0));
      expect(Array.from(h.data() as Float64Array)).toEqual(want);
      // second order records the sweep: the padded path, same values
      const gg = wg.grad((t: Tensor) => (wg.grad((u: Tensor) => u.unstack(0).reduce((s, r) => s.add(r.pow(3).sum()), wg.tensor(0, { dtype: 'float64' })), { higherOrder: true })(t) as Tensor).sum())(x) as Tensor;
      expect(Array.from(gg.data() as Float64Array)).toEqual(v.map((a) => 6 * a));
    });
  });
});
