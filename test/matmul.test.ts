// Matrix products: matmul (torch.matmul semantics), mm, bmm, dot, mv, outer, matmulT — forward
// values against a plain JS triple loop, gradients by finite differences, and errors.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectNoLeak, uniform, size, flat } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

interface Dense { data: number[]; shape: number[] }

/**
 * torch.matmul in plain JS. Each output element sums over k in increasing order starting from
 * 0, as the kernel does; `round` is applied after every operation (Math.fround for float32).
 */
function refMatmul(a: Dense, b: Dense, transA = false, transB = false, round = (x: number) => x): Dense {
  const ra = a.shape.length, rb = b.shape.length;
  const as = ra === 1 ? [1, a.shape[0]] : a.shape;
  const bs = rb === 1 ? [b.shape[0], 1] : b.shape;
  const [ar, ac] = as.slice(-2), [br, bc] = bs.slice(-2);
  const m = transA ? ac : ar, k = transA ? ar : ac, n = transB ? br : bc;
  const batchA = as.slice(0, -2), batchB = bs.slice(0, -2);
  const nb = Math.max(batchA.length, batchB.length);
  const pad = (s: number[]) => [...Array(nb - s.length).fill(1), ...s];
  const pa = pad(batchA), pb = pad(batchB);
  const batch = pa.map((d, i) => (d === 1 ? pb[i] : d));
  const out: number[] = [];
  const total = size(batch);
  for (let t = 0; t < total; t++) {
    // batch index → offsets of the (broadcast) operand matrices
    let rem = t, offA = 0, offB = 0, strideA = 1, strideB = 1;
    for (let d = nb - 1; d >= 0; d--) {
      const i = rem % batch[d]; rem = Math.floor(rem / batch[d]);
      if (pa[d] !== 1) offA += i * strideA;
      if (pb[d] !== 1) offB += i * strideB;
      strideA *= pa[d]; strideB *= pb[d];
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const x = a.data[offA * ar * ac + (transA ? q * ac + i : i * ac + q)];
          const y = b.data[offB * br * bc + (transB ? j * bc + q : q * bc + j)];
          s = round(s + round(x * y));
        }
        out.push(s);
      }
    }
  }
  const shape = [...batch, ...(ra > 1 ? [m] : []), ...(rb > 1 ? [n] : [])];
  return { data: out, shape };
}

// [a shape, b shape, what it covers]
const CASES: [number[], number[], string][] = [
  [[3], [3], '1-D · 1-D (dot)'],
  [[3], [3, 4], '1-D · 2-D'],
  [[2, 3], [3], '2-D · 1-D'],
  [[2, 3], [3, 4], '2-D · 2-D'],
  [[1, 1], [1, 1], '1×1 matrices'],
  [[3, 5], [5, 7], 'n = 7: a SIMD block and a tail'],
  [[4, 2, 3], [3, 5], 'batched · 2-D'],
  [[2, 3], [4, 3, 5], '2-D · batched'],
  [[2, 4, 3], [2, 3, 6], 'equal batches'],
  [[2, 1, 2, 3], [3, 3, 2], 'broadcast batches [2, 1] and [3]'],
  [[1, 3, 2, 3], [2, 1, 3, 2], 'broadcast batches [1, 3] and [2, 1]'],
  [[3], [2, 3, 4], '1-D · batched'],
  [[2, 3, 4], [4], 'batched · 1-D'],
  [[0, 3], [3, 4], 'm = 0'],
  [[2, 3], [3, 0], 'n = 0'],
  [[2, 0], [0, 3], 'k = 0 gives zeros'],
  [[0], [0], 'empty dot gives 0'],
  [[0, 2, 3], [3, 4], 'batch of size 0'],
  [[2, 2, 0], [1, 0, 5], 'k = 0, batched'],
  [[1, 2, 3], [0, 3, 2], 'batch 1 broadcast against 0'],
];

const dense = (shape: number[], seed: number): Dense => ({ data: uniform(size(shape), -1, 1, seed), shape });
const make = (d: Dense, dtype: 'float32' | 'float64'): Tensor => wg.tensor(d.data, { shape: d.shape, dtype });

describe('matmul forward', () => {
  it.each(CASES)('%j · %j (%s): float64 equals the JS loop exactly', (sa, sb) => {
    const a = dense(sa, 1), b = dense(sb, 2);
    const ref = refMatmul(a, b);
    const c = wg.matmul(make(a, 'float64'), make(b, 'float64'));
    expect(c.shape).toEqual(ref.shape);
    expect(c.dtype).toBe('float64');
    expect(flat(c.toArray())).toEqual(ref.data);
  });

  it.each(CASES)('%j · %j (%s): float32 equals the float32 loop and is near float64', (sa, sb) => {
    const a = dense(sa, 3), b = dense(sb, 4);
    const a32 = { ...a, data: a.data.map(Math.fround) }, b32 = { ...b, data: b.data.map(Math.fround) };
    const c = wg.matmul(make(a, 'float32'), make(b, 'float32'));
    expect(c.dtype).toBe('float32');
    expect(c.shape).toEqual(refMatmul(a, b).shape);
    expect(flat(c.toArray())).toEqual(refMatmul(a32, b32, false, false, Math.fround).data);
    const c64 = wg.matmul(make(a, 'float64'), make(b, 'float64'));
    expectClose(c.toArray(), c64.toArray(), 0, 1e-6); // |entries| <= 1, k <= 7
  });

  it('k = 0 gives zeros of shape [m, n]', () => {
    const c = wg.matmul(wg.zeros([2, 0]), wg.zeros([0, 3]));
    expect(c.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(wg.matmul(wg.zeros([0]), wg.zeros([0])).toArray()).toBe(0);
  });

  it('gives PyTorch\'s documented shapes', () => {
    const shape = (sa: number[], sb: number[]) => wg.tidy(() => wg.matmul(wg.zeros(sa), wg.zeros(sb)).shape);
    // from the torch.matmul docs
    expect(shape([3], [3])).toEqual([]);
    expect(shape([3, 4], [4])).toEqual([3]);
    expect(shape([10, 3, 4], [4])).toEqual([10, 3]);
    expect(shape([10, 3, 4], [10, 4, 5])).toEqual([10, 3, 5]);
    expect(shape([10, 3, 4], [4, 5])).toEqual([10, 3, 5]);
    expect(shape([10, 1, 3, 4], [5, 4, 6])).toEqual([10, 5, 3, 6]);
    expect(shape([4], [10, 4, 5])).toEqual([10, 5]);
  });

  it('keeps NaN and Inf as values (no skipped zeros)', () => {
    const c = wg.matmul(wg.tensor([[0, 1]], { dtype: 'float64' }), wg.tensor([[Infinity], [2]], { dtype: 'float64' }));
    expect(c.item()).toBeNaN(); // 0·Inf is NaN, as in a dot product
  });

  it('matmulT reads transposed operands in place, for all four flag combinations', () => {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
      const sa = transA ? [2, 5, 3] : [2, 3, 5];
      const sb = transB ? [1, 7, 5] : [1, 5, 7];
      const a = dense(sa, 5), b = dense(sb, 6);
      const ref = refMatmul(a, b, transA, transB);
      const c = wg.matmulT(make(a, 'float64'), make(b, 'float64'), { transA, transB });
      expect(c.shape).toEqual([2, 3, 7]);
      expect(flat(c.toArray())).toEqual(ref.data);
      const a32 = { ...a, data: a.data.map(Math.fround) }, b32 = { ...b, data: b.data.map(Math.fround) };
      const c32 = wg.matmulT(make(a, 'float32'), make(b, 'float32'), { transA, transB });
      expect(flat(c32.toArray())).toEqual(refMatmul(a32, b32, transA, transB, Math.fround).data);
    }
  });

  it('mm, bmm, dot, mv, outer and the Tensor methods', () => {
    const a = dense([2, 3], 7), b = dense([3, 4], 8), v = dense([3], 9), w = dense([4], 10);
    const A = make(a, 'float64'), B = make(b, 'float64'), V = make(v, 'float64'), W = make(w, 'float64');
    const ab = refMatmul(a, b).data;
    expect(flat(wg.mm(A, B).toArray())).toEqual(ab);
    expect(flat(A.mm(B).toArray())).toEqual(ab);
    expect(flat(A.matmul(B).toArray())).toEqual(ab);
    expect(wg.dot(V, V).item()).toBe(refMatmul(v, v).data[0]);
    expect(V.dot(V).shape).toEqual([]);
    expect(flat(wg.mv(A, V).toArray())).toEqual(refMatmul(a, v).data);
    expect(flat(A.mv(V).toArray())).toEqual(refMatmul(a, v).data);
    const outer = wg.outer(V, W);
    expect(outer.shape).toEqual([3, 4]);
    expect(flat(outer.toArray())).toEqual(v.data.flatMap((x) => w.data.map((y) => x * y)));
    expect(flat(V.outer(W).toArray())).toEqual(flat(outer.toArray()));
    const p = dense([3, 2, 4], 11), q = dense([3, 4, 5], 12);
    const bmm = wg.bmm(make(p, 'float64'), make(q, 'float64'));
    expect(bmm.shape).toEqual([3, 2, 5]);
    expect(flat(bmm.toArray())).toEqual(refMatmul(p, q).data);
    expect(flat(make(p, 'float64').bmm(make(q, 'float64')).toArray())).toEqual(refMatmul(p, q).data);
    expect(flat(A.matmulT(A, { transB: true }).toArray())).toEqual(refMatmul(a, a, false, true).data);
  });

  it('matches a small product worked by hand', () => {
    const c = wg.matmul(wg.tensor([[1, 2, 3], [4, 5, 6]]), wg.tensor([[7, 8], [9, 10], [11, 12]]));
    expect(c.toArray()).toEqual([[58, 64], [139, 154]]);
  });

  it('leaves no temporaries behind (1-D operands are reshaped internally)', () => {
    const v = wg.tensor([1, 2, 3]), m = wg.ones([3, 2]), mt = wg.ones([2, 3]);
    expectNoLeak(() => {
      wg.matmul(v, m).dispose();
      wg.matmul(mt, v).dispose();
      wg.matmul(v, v).dispose();
      wg.outer(v, v).dispose();
    });
  });
});

describe('matmul gradients', () => {
  it.each(CASES)('%j · %j (%s)', (sa, sb) => {
    checkGrad((a, b) => wg.matmul(a, b), [make(dense(sa, 13), 'float64'), make(dense(sb, 14), 'float64')]);
  });

  it.each([[false, false], [true, false], [false, true], [true, true]])(
    'matmulT transA=%s transB=%s with broadcast batches', (transA, transB) => {
      const sa = transA ? [2, 1, 4, 3] : [2, 1, 3, 4];
      const sb = transB ? [3, 5, 4] : [3, 4, 5];
      checkGrad((a, b) => wg.matmulT(a, b, { transA, transB }), [make(dense(sa, 15), 'float64'), make(dense(sb, 16), 'float64')]);
    });

  it('with only one operand differentiated', () => {
    const b = make(dense([3, 2], 17), 'float64');
    checkGrad((a) => wg.matmul(a, b), [make(dense([4, 3], 18), 'float64')]);
    const a = make(dense([4, 3], 19), 'float64');
    checkGrad((x) => wg.matmul(a, x), [make(dense([3, 2], 20), 'float64')]);
  });

  it('the same tensor on both sides (x·xᵀ)', () => {
    checkGrad((x) => wg.matmulT(x, x, { transB: true }), [make(dense([3, 4], 21), 'float64')]);
  });

  it('mm, bmm, dot, mv, outer', () => {
    const t = (s: number[], seed: number) => make(dense(s, seed), 'float64');
    checkGrad((a, b) => wg.mm(a, b), [t([2, 3], 22), t([3, 4], 23)]);
    checkGrad((a, b) => wg.bmm(a, b), [t([2, 2, 3], 24), t([2, 3, 4], 25)]);
    checkGrad((a, b) => wg.dot(a, b), [t([5], 26), t([5], 27)]);
    checkGrad((a, b) => wg.mv(a, b), [t([2, 5], 28), t([5], 29)]);
    checkGrad((a, b) => wg.outer(a, b), [t([3], 30), t([4], 31)]);
  });

  it('second order: the rule of every transposed product is differentiable again', () => {
    // The gradient of sum((op(A)·op(B))²) is itself made of transposed matmuls; checking it by
    // finite differences exercises every flag combination's rule on recorded sweeps.
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
      const sa = transA ? [2, 3] : [3, 2], sb = transB ? [4, 2] : [2, 4];
      const inner = (a: Tensor, b: Tensor) => wg.matmulT(a, b, { transA, transB }).square().sum();
      const gradA = (a: Tensor, b: Tensor) => wg.grad(inner, { argnums: [0, 1] })(a, b)[0] as Tensor;
      const gradB = (a: Tensor, b: Tensor) => wg.grad(inner, { argnums: [0, 1] })(a, b)[1] as Tensor;
      const a = make(dense(sa, 32), 'float64'), b = make(dense(sb, 33), 'float64');
      checkGrad(gradA, [a, b], { rtol: 1e-5, atol: 1e-6 });
      checkGrad(gradB, [a, b], { rtol: 1e-5, atol: 1e-6 });
    }
  });

  it('the gradient of a float32 product is float32 and near the float64 one', () => {
    const a = dense([2, 3, 4], 34), b = dense([4, 5], 35);
    const g = (dtype: 'float32' | 'float64') => wg.tidy(() => {
      const [ga, gb] = wg.grad((x: Tensor, y: Tensor) => x.matmul(y).sum(), { argnums: [0, 1] })(make(a, dtype), make(b, dtype)) as Tensor[];
      expect(ga.dtype).toBe(dtype);
      return [flat(ga.toArray()), flat(gb.toArray())];
    });
    const g32 = g('float32'), g64 = g('float64');
    expectClose(g32[0], g64[0], 0, 1e-5);
    expectClose(g32[1], g64[1], 0, 1e-5);
  });
});

describe('matmul errors', () => {
  const afterwards = () => expect(wg.matmul(wg.tensor([1, 2]), wg.tensor([3, 4])).item()).toBe(11);

  const expectError = (fn: () => unknown, cls: Function, message: string) => {
    expect(fn).toThrow(cls as any);
    expect(fn).toThrow(message);
    afterwards();
  };

  it('inner sizes that do not fit', () => {
    expectError(() => wg.matmul(wg.zeros([2, 3]), wg.zeros([4, 5])), wg.ShapeError,
      'matmul: shapes [2, 3] (a) and [4, 5] (b) do not fit: a has 3 columns, b has 4 rows');
    expectError(() => wg.matmul(wg.zeros([3]), wg.zeros([4])), wg.ShapeError,
      'matmul: shapes [3] (a) and [4] (b) do not fit: a has 3 elements, b has 4 elements');
    expectError(() => wg.matmul(wg.zeros([2, 3]), wg.zeros([4])), wg.ShapeError,
      'matmul: shapes [2, 3] (a) and [4] (b) do not fit: a has 3 columns, b has 4 elements');
    expectError(() => wg.zeros([3]).matmul(wg.zeros([2, 4, 5])), wg.ShapeError,
      'matmul: shapes [3] (a) and [2, 4, 5] (b) do not fit: a has 3 elements, b has 4 rows');
  });

  it('batch dims that cannot be broadcast', () => {
    expectError(() => wg.matmul(wg.zeros([2, 3, 4]), wg.zeros([3, 4, 5])), wg.ShapeError,
      'matmul: shapes [2, 3, 4] (a) and [3, 4, 5] (b) do not fit: batch dims [2] and [3] cannot be broadcast (2 vs 3)');
  });

  it('rank-0 operands, as PyTorch refuses them', () => {
    expectError(() => wg.matmul(wg.tensor(2), wg.zeros([3])), wg.ShapeError,
      'matmul: shapes [] (a) and [3] (b) do not fit: both arguments need at least 1 dim, got ranks 0 and 1');
  });

  it('dtypes: no float32 with float64, no int or bool', () => {
    expectError(() => wg.matmul(wg.zeros([2, 2]), wg.zeros([2, 2], { dtype: 'float64' })), wg.DTypeError,
      'matmul: cannot mix float32 and float64 (a is float32 [2, 2], b is float64 [2, 2])');
    expectError(() => wg.matmul(wg.zeros([2, 2], { dtype: 'int32' }), wg.zeros([2, 2])), wg.DTypeError,
      'matmul: a is a int32 tensor of shape [2, 2]; matrix products take float32 or float64 tensors');
  });

  it('mm, bmm, dot, mv, outer, matmulT check their ranks', () => {
    expectError(() => wg.mm(wg.zeros([2, 3, 4]), wg.zeros([4, 5])), wg.ShapeError,
      'mm: shapes [2, 3, 4] (a) and [4, 5] (b) do not fit: mm takes two 2-D matrices, got ranks 3 and 2');
    expectError(() => wg.mm(wg.zeros([2, 3]), wg.zeros([4, 5])), wg.ShapeError,
      'mm: shapes [2, 3] (a) and [4, 5] (b) do not fit: a has 3 columns, b has 4 rows');
    expectError(() => wg.bmm(wg.zeros([2, 3, 4]), wg.zeros([1, 4, 5])), wg.ShapeError,
      'bmm: shapes [2, 3, 4] (a) and [1, 4, 5] (b) do not fit: a has batch size 2, b has 1');
    expectError(() => wg.dot(wg.zeros([2, 3]), wg.zeros([3])), wg.ShapeError,
      'dot: shapes [2, 3] (a) and [3] (b) do not fit: dot takes two 1-D tensors, got ranks 2 and 1');
    expectError(() => wg.dot(wg.zeros([3]), wg.zeros([4])), wg.ShapeError,
      'dot: shapes [3] (a) and [4] (b) do not fit: a has 3 elements, b has 4 elements');
    expectError(() => wg.mv(wg.zeros([2, 3]), wg.zeros([3, 1])), wg.ShapeError,
      'mv: shapes [2, 3] (a) and [3, 1] (b) do not fit: mv takes a 2-D matrix and a 1-D vector, got ranks 2 and 2');
    expectError(() => wg.outer(wg.zeros([2, 3]), wg.zeros([3])), wg.ShapeError,
      'outer: shapes [2, 3] (a) and [3] (b) do not fit: outer takes two 1-D tensors, got ranks 2 and 1');
    expectError(() => wg.matmulT(wg.zeros([2, 3]), wg.zeros([2, 3])), wg.ShapeError,
      'matmulT: shapes [2, 3] (a) and [2, 3] (b) do not fit: a has 3 columns, b has 2 rows');
    expectError(() => wg.matmulT(wg.zeros([2, 3]), wg.zeros([4, 3]), { transA: true, transB: true }), wg.ShapeError,
      'matmulT: shapes [2, 3] (a) and [4, 3] (b) do not fit: aᵀ has 2 columns, bᵀ has 3 rows');
    expectError(() => wg.matmulT(wg.zeros([3]), wg.zeros([3, 2])), wg.ShapeError,
      'matmulT: shapes [3] (a) and [3, 2] (b) do not fit: matmulT takes tensors of rank >= 2, got ranks 1 and 2');
  });

  it('a disposed operand', () => {
    const a = wg.zeros([2, 2]);
    a.dispose();
    expectError(() => wg.matmul(a, wg.zeros([2, 2])), wg.DisposedError, 'matmul (a)');
  });

  it('a failed call inside valueAndGrad leaves the runtime working', () => {
    const x0 = wg.zeros([2, 3], { dtype: 'float64' });
    const before = wg.memory().liveTensors;
    expect(() => wg.valueAndGrad((x: Tensor) => x.matmul(wg.zeros([5, 2], { dtype: 'float64' })).sum())(x0))
      .toThrow('a has 3 columns, b has 5 rows');
    expect(wg.memory().liveTensors).toBe(before);
    const [y, g] = wg.valueAndGrad((x: Tensor) => x.matmul(wg.ones([3, 2], { dtype: 'float64' })).sum())(wg.ones([2, 3], { dtype: 'float64' }));
    expect(y.item()).toBe(12);
    expect(g.toArray()).toEqual([[2, 2, 2], [2, 2, 2]]);
  });
});
