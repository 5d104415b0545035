// einsum: every common one- and two-operand form (and a chain of three) against a brute-force
// JS reference that loops over every assignment of the subscripts; explicit and implicit
// outputs, batch dims, outer products, diagonals and traces, '...', size-1 broadcasting;
// gradients by finite differences, JVP against VJP, second derivatives, float32 vs float64, and
// bad subscripts.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectNoLeak, rand64, flat, size, expectError, runtimeWorks, dot } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

/**
 * Brute-force einsum for letter-only equations: Σ over all subscript values of the product of
 * the operands' entries, into the output position. Implicit output: letters seen once, sorted.
 * A dim of size 1 is read at index 0 whatever the subscript's range (broadcasting).
 */
function refEinsum(eq: string, xs: { data: number[]; shape: number[] }[]): { data: number[]; shape: number[] } {
  const [lhs, rhs] = eq.split('->');
  const terms = lhs.split(',');
  const count = new Map<string, number>();
  terms.join('').split('').forEach((l) => count.set(l, (count.get(l) ?? 0) + 1));
  const out = rhs !== undefined ? rhs.split('') : [...count].filter(([, c]) => c === 1).map(([l]) => l).sort();
  const sizes = new Map<string, number>();
  terms.forEach((t, k) => t.split('').forEach((l, d) => {
    const prev = sizes.get(l);
    sizes.set(l, prev === undefined || prev === 1 ? xs[k].shape[d] : prev);
  }));
  const labels = [...sizes.keys()];
  const outShape = out.map((l) => sizes.get(l)!);
  const result = new Array(size(outShape)).fill(0);
  const at = new Map<string, number>();
  const visit = (j: number): void => {
    if (j === labels.length) {
      let p = 1;
      terms.forEach((t, k) => {
        let off = 0;
        t.split('').forEach((l, d) => { off = off * xs[k].shape[d] + (xs[k].shape[d] === 1 ? 0 : at.get(l)!); });
        p *= xs[k].data[off];
      });
      let o = 0;
      out.forEach((l, d) => { o = o * outShape[d] + at.get(l)!; });
      result[o] += p;
      return;
    }
    for (let i = 0; i < sizes.get(labels[j])!; i++) { at.set(labels[j], i); visit(j + 1); }
  };
  visit(0);
  return { data: result, shape: outShape };
}


/** [equation, operand shapes] of the forms users reach for. */
const FORMS: [string, number[][]][] = [
  ['ij,jk->ik', [[3, 4], [4, 5]]],
  ['ij,jk', [[3, 4], [4, 2]]],
  ['ij,kj->ik', [[3, 4], [5, 4]]],
  ['ji,jk->ik', [[4, 3], [4, 5]]],
  ['ji,kj->ik', [[4, 3], [5, 4]]],
  ['ij,jk->ki', [[3, 4], [4, 2]]],
  ['bij,bjk->bik', [[2, 3, 4], [2, 4, 5]]],
  ['bij,bkj->bik', [[2, 3, 4], [2, 5, 4]]],
  ['bij,jk->bik', [[2, 3, 4], [4, 5]]],
  ['ibj,bjk->bik', [[3, 2, 4], [2, 4, 5]]],
  ['i,j->ij', [[3], [4]]],
  ['i,j', [[3], [4]]],
  ['ij,k->ijk', [[2, 3], [4]]],
  ['i,i->', [[5], [5]]],
  ['i,i', [[5], [5]]],
  ['i,i->i', [[5], [5]]],
  ['ij,ij->ij', [[2, 3], [2, 3]]],
  ['ij,ij->', [[2, 3], [2, 3]]],
  ['bi,bi->b', [[3, 4], [3, 4]]],
  ['ij,j->i', [[3, 4], [4]]],
  ['i,ij->j', [[3], [3, 4]]],
  ['ijk,kl->ijl', [[2, 3, 4], [4, 5]]],
  ['ijk,jkl->il', [[2, 3, 4], [3, 4, 5]]],
  ['ij,kl->ijkl', [[2, 3], [2, 2]]],
  ['ij,jk->', [[2, 3], [3, 4]]],
  ['ab,bc->ac', [[2, 3], [3, 2]]],
  ['Ab,bC->AC', [[2, 3], [3, 2]]],
  ['bA,Cb', [[3, 2], [4, 3]]],
  ['ii,ij->j', [[3, 3], [3, 4]]],
  ['iij,jk->ik', [[3, 3, 2], [2, 4]]],
  ['ij,jk,kl->il', [[2, 3], [3, 4], [4, 2]]],
  ['i,i,i->', [[4], [4], [4]]],
  ['ij->ji', [[3, 4]]],
  ['ba', [[3, 4]]],
  ['ii->', [[4, 4]]],
  ['ii', [[4, 4]]],
  ['ii->i', [[4, 4]]],
  ['iji->j', [[3, 2, 3]]],
  ['ij->', [[3, 4]]],
  ['ij->i', [[3, 4]]],
  ['ij->j', [[3, 4]]],
  ['ijk->kji', [[2, 3, 4]]],
  ['ijk->ik', [[2, 3, 4]]],
  ['i->', [[5]]],
  ['i', [[5]]],
  ['bij,bjk->bik', [[1, 3, 4], [3, 4, 2]]], // size-1 batch broadcast
  ['i,i->', [[1], [3]]], // size-1 summed label broadcast
  ['ij,jk->ik', [[0, 4], [4, 3]]],
  ['ij,jk->ik', [[2, 0], [0, 3]]],
];

const inputs = (shapes: number[][], seed: number): Tensor[] => shapes.map((s, k) => rand64(s, -1, 1, seed + k));

describe('einsum forward', () => {
  it.each(FORMS)("'%s' matches the brute-force reference", (eq, shapes) => {
    const xs = inputs(shapes, 1);
    const y = wg.einsum(eq, ...xs);
    const ref = refEinsum(eq, xs.map((x) => ({ data: flat(x.toArray()), shape: x.shape })));
    expect(y.shape).toEqual(ref.shape);
    expectClose(flat(y.toArray()), ref.data, 1e-13, 1e-13);
    expect(y.dtype).toBe('float64');
  });

  it('takes the operands as an array too, and works as a Tensor method', () => {
    const [a, b] = inputs([[2, 3], [3, 4]], 2);
    expectClose(flat(wg.einsum('ij,jk->ik', [a, b]).toArray()), flat(a.matmul(b).toArray()), 1e-15, 1e-15);
    expectClose(flat(a.einsum('ij,jk->ik', b).toArray()), flat(a.matmul(b).toArray()), 1e-15, 1e-15);
  });

  it('known values: trace, diagonal, transpose, outer product, matrix product', () => {
    const m = wg.tensor([[1, 2], [3, 4]]);
    expect(wg.einsum('ii', m).toArray()).toBe(5);
    expect(wg.einsum('ii->i', m).toArray()).toEqual([1, 4]);
    expect(wg.einsum('ji', m).toArray()).toEqual([[1, 3], [2, 4]]); // implicit output 'ij': the transpose (NumPy, PyTorch)
    expect(wg.einsum('ij', m).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(wg.einsum('ij->ji', m).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(wg.einsum('i,j->ij', wg.tensor([1, 2]), wg.tensor([3, 4, 5])).toArray()).toEqual([[3, 4, 5], [6, 8, 10]]);
    expect(wg.einsum('ij,jk', m, m).toArray()).toEqual([[7, 10], [15, 22]]);
  });

  it("'...' stands for the unnamed dims, broadcast, and leads an implicit output", () => {
    const [a, b] = inputs([[2, 3, 4, 5], [2, 3, 5, 2]], 3);
    const ref = wg.einsum('xyij,xyjk->xyik', a, b);
    expectClose(flat(wg.einsum('...ij,...jk->...ik', a, b).toArray()), flat(ref.toArray()), 1e-14, 1e-14);
    expectClose(flat(wg.einsum('...ij,...jk', a, b).toArray()), flat(ref.toArray()), 1e-14, 1e-14);
    const [c, d] = inputs([[3, 4, 5], [5, 2]], 4);
    expectClose(flat(wg.einsum('...j,jk->...k', c, d).toArray()), flat(wg.einsum('abj,jk->abk', c, d).toArray()), 1e-14, 1e-14);
    const [e] = inputs([[2, 3, 4]], 5);
    expect(wg.einsum('...ij->...ji', e).shape).toEqual([2, 4, 3]);
    expect(wg.einsum('i...->...', e).shape).toEqual([3, 4]);
    expectClose(flat(wg.einsum('i...->...', e).toArray()), flat(e.sum(0).toArray()), 1e-14, 1e-14);
    // broadcasting of '...' between a batch of 1 and of 3
    const [f, g] = inputs([[1, 2, 3], [4, 3, 2]], 6);
    expectClose(flat(wg.einsum('...ij,...jk->...ik', f, g).toArray()), flat(f.matmul(g).toArray()), 1e-14, 1e-14);
  });

  it('float32 matches float64 within float32 rounding', () => {
    for (const [eq, shapes] of FORMS.slice(0, 12)) {
      const xs = inputs(shapes, 7);
      const y64 = flat(wg.einsum(eq, ...xs).toArray());
      const y32 = flat(wg.einsum(eq, ...xs.map((x) => x.to('float32'))).toArray());
      expectClose(y32, y64, 0, 2e-6);
    }
  });

  it('frees its temporaries', () => {
    const [a, b, c] = inputs([[3, 3, 2], [2, 4], [4, 3]], 8);
    expectNoLeak(() => {
      for (const [eq, ops] of [['iij,jk->ik', [a, b]], ['iij,jk,ki->', [a, b, c]], ['iij->j', [a]], ['ijk->ijk', [a]]] as const) {
        wg.dispose(wg.einsum(eq, ...ops));
      }
    });
  });
});

describe('einsum derivatives', () => {
  const DIFF = FORMS.filter(([, shapes]) => shapes.every((s) => size(s) > 0));

  it.each(DIFF)("'%s': gradients of every operand by finite differences", (eq, shapes) => {
    checkGrad((...xs) => wg.einsum(eq, ...xs), inputs(shapes, 11));
  });

  it('JVP matches VJP (in every operand) and second derivatives match differences of the gradient', () => {
    for (const [eq, shapes] of [['ij,jk->ik', [[3, 4], [4, 2]]], ['bij,bkj->bik', [[2, 3, 4], [2, 5, 4]]], ['ii,ij->j', [[3, 3], [3, 2]]],
      ['i,j->ij', [[3], [2]]], ['ij,jk,kl->il', [[2, 3], [3, 2], [2, 2]]], ['iji->j', [[2, 3, 2]]]] as [string, number[][]][]) {
      const xs = inputs(shapes, 21);
      for (let k = 0; k < xs.length; k++) {
        wg.tidy(() => {
          const f = (t: Tensor) => wg.einsum(eq, ...xs.map((x, j) => (j === k ? t : x)));
          const u = rand64(xs[k].shape, -1, 1, 22);
          const [y, ydot] = wg.jvp(f, [xs[k]], [u]);
          const v = rand64((y as Tensor).shape, -1, 1, 23);
          const g = wg.grad((t: Tensor) => f(t).mul(v).sum())(xs[k]);
          expectClose(dot(flat((ydot as Tensor).toArray()), flat(v.toArray())), dot(flat(g.toArray()), flat(u.toArray())), 1e-12, 1e-12);
          // h = Σ f³: nonzero second derivative in each operand
          const h = (t: Tensor) => f(t).pow(3).sum();
          const w = rand64(xs[k].shape, -1, 1, 24);
          const eps = 1e-5;
          const gp = flat(wg.grad(h)(xs[k].add(w.mul(eps))).toArray()), gm = flat(wg.grad(h)(xs[k].sub(w.mul(eps))).toArray());
          const fd = gp.map((p, i) => (p - gm[i]) / (2 * eps));
          expectClose(flat(wg.hvp(h)(xs[k], w).toArray()), fd, 1e-6, 1e-7);
          expectClose(flat(wg.grad((t: Tensor) => wg.grad(h)(t).mul(w).sum())(xs[k]).toArray()), fd, 1e-6, 1e-7);
        });
      }
    }
  });
});

describe('einsum errors', () => {
  let a: Tensor, b: Tensor;
  beforeAll(() => { a = wg.keep(rand64([2, 3], -1, 1, 31)); b = wg.keep(rand64([3, 4], -1, 1, 32)); });

  it('rejects bad subscripts with the equation in the message', () => {
    expectError(() => wg.einsum('ij,jk->ik', a), wg.ValueError, 'einsum', '2 operand term(s)', '1 operand(s)');
    expectError(() => wg.einsum('i1,jk->ik', a, b), wg.ValueError, 'einsum', "invalid subscript '1'", 'i1,jk->ik');
    expectError(() => wg.einsum('ij,jk->iz', a, b), wg.ValueError, 'einsum', "output subscript 'z'", 'does not appear');
    expectError(() => wg.einsum('ij,jk->ii', a, b), wg.ValueError, 'einsum', "output subscript 'i' appears more than once");
    expectError(() => wg.einsum('ij,jk->i->k', a, b), wg.ValueError, 'einsum', "more than one '->'");
    expectError(() => wg.einsum('i..j,jk->ik', a, b), wg.ValueError, 'einsum', "'...'");
    expectError(() => wg.einsum('i-j', a), wg.ValueError, 'einsum', "invalid subscript '-'");
    expectError(() => wg.einsum(3 as any, a), wg.ValueError, 'einsum: equation must be a string');
  });

  it('rejects operands that do not fit their terms', () => {
    expectError(() => wg.einsum('ijk,jk->i', a, b), wg.ShapeError, 'einsum', "term 'ijk'", '3 subscript(s)', 'operand 0 has 2 dim(s)', '[2, 3]');
    expectError(() => wg.einsum('ij,ik->jk', a, b), wg.ShapeError, 'einsum', "subscript 'i' has size 2", '3 in operand 1', '[3, 4]');
    expectError(() => wg.einsum('ii->i', a), wg.ShapeError, 'einsum', "subscript 'i' is repeated", 'sizes 2 and 3');
    expectError(() => wg.einsum('ii->i', wg.tensor([[1, 2]], { dtype: 'float64' })), wg.ShapeError, 'einsum', 'sizes 1 and 2');
    expectError(() => wg.einsum('...ijk->i', a), wg.ShapeError, 'einsum', 'at least 3 dim(s)');
    expectError(() => wg.einsum('ij,jk->ik', a, b.to('float32')), wg.DTypeError, 'einsum', 'float32', 'float64');
    expectError(() => wg.einsum('ij->i', wg.tensor([[1]], { dtype: 'int32' })), wg.DTypeError, 'einsum', 'int32');
    expectError(() => wg.einsum('i->'), wg.ValueError, 'einsum', 'at least one operand');
  });
});
