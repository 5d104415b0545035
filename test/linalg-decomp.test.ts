// The spectral decompositions: svd, svdvals, eigh, eigvalsh (one-sided and cyclic Jacobi in
// assembly/ops/decomp.ts), pinv, lstsq, and matrixNorm / norm with ords 2, -2 and 'nuc'.
// Reconstruction and orthogonality in float64 and float32 over edge shapes; PyTorch 1.13's values
// (test/fixtures/linalg-decomp.json, from make_linalg_decomp.py) with its vectors put in
// wasmgrad's sign convention; gradients and tangents against central finite differences; the
// documented NaN where singular values or eigenvalues repeat; every bad input named, and the
// runtime still working afterwards. Second derivatives: test/op-rules.test.ts (registry/linalg.ts).

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectError, expectSameBits, uniform, size, flat } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

type DT = 'float32' | 'float64';
type Mat = number[][];

const fixture = JSON.parse(readFileSync(new URL('./fixtures/linalg-decomp.json', import.meta.url), 'utf8'));

const randomT = (shape: number[], seed: number, dtype: DT = 'float64'): Tensor =>
  wg.tensor(uniform(size(shape), -1, 1, seed), { shape, dtype });
const f64 = (v: unknown, shape?: number[]): Tensor => wg.tensor(v as number[], { dtype: 'float64', ...(shape ? { shape } : {}) });

/** The matrices of a [..., r, c] tensor, in batch order, as float64 arrays. */
function matsOf(t: Tensor): Mat[] {
  const [r, c] = t.dims.slice(-2);
  const d = Array.from(t.data() as Float64Array | Float32Array);
  return Array.from({ length: size(t.dims.slice(0, -2)) }, (_, b) =>
    Array.from({ length: r }, (_, i) => d.slice(b * r * c + i * c, b * r * c + (i + 1) * c)));
}
const vecsOf = (t: Tensor): number[][] => {
  const k = t.dims[t.rank - 1];
  const d = Array.from(t.data() as Float64Array);
  return Array.from({ length: size(t.dims.slice(0, -1)) }, (_, b) => d.slice(b * k, (b + 1) * k));
};
const mul = (a: Mat, b: Mat): Mat => a.map((row) => (b[0] ?? []).map((_, j) => row.reduce((s, v, q) => s + v * b[q][j], 0)));
const tr = (a: Mat, cols = a[0]?.length ?? 0): Mat => Array.from({ length: cols }, (_, j) => a.map((row) => row[j]));
const eyeMat = (n: number): Mat => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
const fro = (a: Mat): number => Math.sqrt(a.flat().reduce((s, v) => s + v * v, 0));

/** The largest-magnitude entry (the first such) of every column is positive. */
function expectSignConvention(m: Mat, what: string): void {
  const cols = m[0]?.length ?? 0;
  for (let c = 0; c < cols; c++) {
    let pick = 0;
    for (let i = 1; i < m.length; i++) if (Math.abs(m[i][c]) > Math.abs(m[pick][c])) pick = i;
    expect(m[pick][c], `${what}: column ${c}`).toBeGreaterThan(0);
  }
}

/** Central differences of f (a float64 tensor function) at x along u, against jvp's tangent. */
function checkJvp(f: (x: Tensor) => Tensor, x: Tensor, seed = 31, tol = 1e-6): void {
  wg.tidy(() => {
    const u = randomT(x.shape, seed);
    const [, tangent] = wg.jvp(f, [x], [u]) as [Tensor, Tensor];
    const h = 1e-6;
    const numeric = flat(f(x.add(u.mul(h))).sub(f(x.sub(u.mul(h)))).div(2 * h).toArray());
    expectClose(flat(tangent.toArray()), numeric, tol, tol);
  });
}

// ————————————————————————————————————————————————————————— svd

describe('svd and svdvals', () => {
  const SHAPES: number[][] = [[1, 1], [3, 5], [5, 3], [4, 4], [2, 3, 4, 2], [7, 1], [1, 6], [2, 2, 3], [0, 3], [3, 0], [0, 2, 2], [2, 0, 0]];

  for (const dtype of ['float64', 'float32'] as DT[]) {
    const tol = dtype === 'float64' ? 1e-13 : 2e-6;
    it.each(SHAPES)(`${dtype} %j: U·diag(S)·Vh = A, orthonormal U and Vh, S descending, the sign convention`, (...shape) => {
      wg.tidy(() => {
        const A = randomT(shape, 100 + shape.length * 7 + shape[shape.length - 1], dtype);
        const [m, n] = shape.slice(-2);
        const k = Math.min(m, n);
        const batch = shape.slice(0, -2);
        for (const full of [true, false]) {
          const [U, S, Vh] = wg.svd(A, { fullMatrices: full });
          const uc = full ? m : k, vr = full ? n : k;
          expect(U.shape).toEqual([...batch, m, uc]);
          expect(S.shape).toEqual([...batch, k]);
          expect(Vh.shape).toEqual([...batch, vr, n]);
          expect([U.dtype, S.dtype, Vh.dtype]).toEqual([dtype, dtype, dtype]);
          const as = matsOf(A), us = matsOf(U), vs = matsOf(Vh), ss = vecsOf(S);
          as.forEach((a, t) => {
            const s = ss[t] ?? [];
            for (let i = 1; i < k; i++) expect(s[i - 1]).toBeGreaterThanOrEqual(s[i]);
            for (const v of s) expect(v).toBeGreaterThanOrEqual(0);
            const usv = mul(us[t].map((row) => row.slice(0, k).map((v, c) => v * s[c])), vs[t].slice(0, k));
            const scale = Math.max(1, fro(a));
            expectClose(usv.flat(), a.flat(), 0, tol * scale * 4);
            expectClose(mul(tr(us[t], uc), us[t]).flat(), eyeMat(uc).flat(), 0, tol * 4);
            expectClose(mul(vs[t], tr(vs[t], n)).flat(), eyeMat(vr).flat(), 0, tol * 4);
            if (m > 0) expectSignConvention(us[t], 'U');
            if (full && n > m) expectSignConvention(tr(vs[t].slice(m), n), "Vh's extra rows");
          });
        }
        // svdvals: the same bits as svd's S (the rotations do not depend on U and V being kept)
        const [, S] = wg.svd(A);
        expectSameBits(wg.svdvals(A).data() as Float64Array, S.data() as Float64Array, 'svdvals');
        expect(wg.svdvals(A).shape).toEqual([...batch, k]);
      });
    });
  }

  it('PyTorch references: U, S, Vh (in the sign convention), svdvals, the gradient of a sign-invariant loss', () => {
    for (const c of fixture.svd) {
      wg.tidy(() => {
        const A = f64(c.A, c.shape);
        const [U, S, Vh] = wg.svd(A);
        expectClose(flat(S.toArray()), c.S, 1e-13, 1e-14);
        // a full U's (Vh's) extra columns (rows) are unique up to sign only when there is one:
        // more are any orthonormal basis of the complement (their orthonormality is tested above)
        const [m, n] = c.shape.slice(-2);
        const k = Math.min(m, n);
        const uCols = m - k <= 1 ? m : k, vRows = n - k <= 1 ? n : k;
        const pick = (values: number[], rows: number, cols: number, keep: (i: number, j: number) => boolean) =>
          values.filter((_, e) => keep(Math.floor((e % (rows * cols)) / cols), e % cols));
        expectClose(pick(flat(U.toArray()), m, m, (_, j) => j < uCols), pick(c.U, m, m, (_, j) => j < uCols), 1e-12, 1e-12);
        expectClose(pick(flat(Vh.toArray()), n, n, (i) => i < vRows), pick(c.Vh, n, n, (i) => i < vRows), 1e-12, 1e-12);
        const [Ur, , Vhr] = wg.svd(A, { fullMatrices: false });
        expectClose(flat(Ur.toArray()), c.Ureduced, 1e-12, 1e-12);
        expectClose(flat(Vhr.toArray()), c.Vhreduced, 1e-12, 1e-12);
        expectClose(flat(wg.svdvals(A).toArray()), c.svdvals, 1e-13, 1e-14);
        const wu = f64(c.wu, Ur.shape), wv = f64(c.wv, Vhr.shape), ws = f64(c.ws, wg.svdvals(A).shape);
        const loss = (a: Tensor) => {
          const [u, s, vh] = wg.svd(a, { fullMatrices: false });
          return u.square().mul(wu).sum().add(vh.square().mul(wv).sum()).add(s.mul(ws).sum());
        };
        const [value, grad] = wg.valueAndGrad(loss)(A) as [Tensor, Tensor];
        expectClose(value.item(), c.loss, 1e-12, 1e-12);
        expectClose(flat(grad.toArray()), c.grad, 1e-9, 1e-10);
      });
    }
  });

  it('edge values: the zero matrix (U = I, Vh = I as PyTorch), rank-deficient, 1×1 negative, diagonal', () => {
    wg.tidy(() => {
      const [U, S, Vh] = wg.svd(wg.zeros([3, 2], { dtype: 'float64' }));
      expect(U.toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
      expect(S.toArray()).toEqual([0, 0]);
      expect(Vh.toArray()).toEqual([[1, 0], [0, 1]]);
      // rank 1: one zero singular value; U still orthonormal, the reconstruction exact
      const a = f64([[1, 2], [2, 4], [3, 6]]);
      const [u, s, vh] = wg.svd(a);
      expectClose(flat(s.toArray()), [Math.sqrt(70), 0], 1e-15, 1e-14);
      const us = matsOf(u)[0];
      expectClose(mul(tr(us, 3), us).flat(), eyeMat(3).flat(), 0, 1e-14);
      expectClose(mul(us.map((r) => r.slice(0, 2).map((v, c) => v * flat(s.toArray())[c])), matsOf(vh)[0]).flat(), matsOf(a)[0].flat(), 0, 1e-14);
      // 1×1: S = |a|, U = 1, Vh = sign(a)
      const [u1, s1, v1] = wg.svd(f64([[-3]]));
      expect([u1.toArray(), s1.toArray(), v1.toArray()]).toEqual([[[1]], [3], [[-1]]]);
      // a diagonal matrix: sorted values, permutation vectors
      const [ud, sd, vd] = wg.svd(f64([[1, 0, 0], [0, -5, 0], [0, 0, 3]]));
      expect(sd.toArray()).toEqual([5, 3, 1]);
      expect(ud.toArray()).toEqual([[0, 0, 1], [1, 0, 0], [0, 1, 0]]);
      expect(vd.toArray()).toEqual([[0, -1, 0], [0, 0, 1], [1, 0, 0]]);
      // huge and tiny scales: balanced by powers of two, exact
      for (const scale of [1e200, 1e-200]) {
        const big = f64([[3, 0], [4, 0]]).mul(scale);
        expectClose(flat(wg.svdvals(big).toArray()), [5 * scale, 0], 1e-15, 0);
      }
    });
  });

  it('the sign convention is deterministic under negation of A, and svd of Aᵀ swaps U and V', () => {
    wg.tidy(() => {
      const A = randomT([4, 3], 140);
      const [U, S, Vh] = wg.svd(A);
      const [U2, S2, Vh2] = wg.svd(A.neg());
      expectSameBits(S2.data() as Float64Array, S.data() as Float64Array, 'S of −A');
      expectClose(flat(U2.toArray()), flat(U.toArray()), 0, 1e-14);
      expectClose(flat(Vh2.toArray()), flat(Vh.neg().toArray()), 0, 1e-14);
      const [Ut, St] = wg.svd(A.t(), { fullMatrices: false });
      expectClose(flat(St.toArray()), flat(S.toArray()), 1e-14, 0);
      expectClose(flat(Ut.abs().toArray()), flat(Vh.t().abs().toArray()), 0, 1e-13);
    });
  });

  it('gradients of U, S and Vh (tall, wide, square, batched, full matrices) by central differences', () => {
    const parts = (i: 0 | 1 | 2, full = false) => (a: Tensor) => wg.svd(a, { fullMatrices: full })[i];
    for (const [shape, seed] of [[[4, 3], 150], [[3, 5], 151], [[3, 3], 152], [[2, 3, 2], 153]] as [number[], number][]) {
      for (const i of [0, 1, 2] as const) checkGrad(parts(i), [randomT(shape, seed)]);
    }
    // full matrices, square: the same function
    checkGrad(parts(0, true), [randomT([3, 3], 154)]);
    checkGrad((a) => wg.svdvals(a), [randomT([2, 4, 3], 155)]);
    checkGrad((a) => wg.svdvals(a), [randomT([3, 5], 156)]);
  });

  it('tangents (jvp) by central differences', () => {
    for (const [shape, seed] of [[[4, 3], 160], [[3, 5], 161], [[3, 3], 162]] as [number[], number][]) {
      for (const i of [0, 1, 2]) checkJvp((a) => wg.svd(a, { fullMatrices: false })[i], randomT(shape, seed));
      checkJvp((a) => wg.svdvals(a), randomT(shape, seed + 10));
    }
  });

  it('repeated singular values: NaN gradient where U or Vh is used, finite where only S is (documented policy)', () => {
    wg.tidy(() => {
      const I = wg.eye(3, { dtype: 'float64' });
      const gU = wg.grad((a: Tensor) => wg.svd(a)[0].mul(f64([1, 2, 3])).sum())(I);
      expect(flat(gU.toArray()).every(Number.isNaN)).toBe(true);
      const gV = wg.grad((a: Tensor) => wg.svd(a)[2].sum())(f64([[2, 0], [0, 2], [0, 0]]));
      expect(flat(gV.toArray()).every(Number.isNaN)).toBe(true);
      // only S used: U·diag(gS)·Vh, finite (and svdvals' always is)
      expect(wg.grad((a: Tensor) => wg.svd(a)[1].sum())(I).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
      expect(wg.grad((a: Tensor) => wg.svdvals(a).sum())(I).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
      // a batch: only the matrix with the repeated value gets NaN
      const two = wg.stack([I, f64([[3, 0, 0], [0, 2, 0], [0, 0, 1]])]);
      const g2 = matsOf(wg.grad((a: Tensor) => wg.svd(a)[0].mul(f64([1, 2, 3])).sum())(two));
      expect(g2[0].flat().every(Number.isNaN)).toBe(true);
      expect(g2[1].flat().every(Number.isFinite)).toBe(true);
      // the tangent of U is NaN too, S's stays finite
      const [, dU] = wg.jvp((a: Tensor) => wg.svd(a)[0], [I], [randomT([3, 3], 170)]) as [Tensor, Tensor];
      expect(flat(dU.toArray()).every(Number.isNaN)).toBe(true);
      const [, dS] = wg.jvp((a: Tensor) => wg.svd(a)[1], [I], [randomT([3, 3], 170)]) as [Tensor, Tensor];
      expect(flat(dS.toArray()).every(Number.isFinite)).toBe(true);
    });
  });

  it('full matrices with m ≠ n: the extra columns of U (rows of Vh) get no gradient and a zero tangent (as PyTorch)', () => {
    wg.tidy(() => {
      const A = randomT([4, 2], 180);
      const extra = wg.grad((a: Tensor) => wg.svd(a)[0].narrow(1, 2, 2).sum())(A);
      expect(flat(extra.toArray()).every((v) => v === 0)).toBe(true);
      const both = wg.grad((a: Tensor) => wg.svd(a)[0].sum())(A);
      const reduced = wg.grad((a: Tensor) => wg.svd(a, { fullMatrices: false })[0].sum())(A);
      expectClose(flat(both.toArray()), flat(reduced.toArray()), 1e-14, 1e-14);
      const [, dU] = wg.jvp((a: Tensor) => wg.svd(a)[0], [A], [randomT([4, 2], 181)]) as [Tensor, Tensor];
      expect(matsOf(dU)[0].flatMap((r) => r.slice(2)).every((v) => v === 0)).toBe(true);
      const B = randomT([2, 4], 182);
      const [, dVh] = wg.jvp((a: Tensor) => wg.svd(a)[2], [B], [randomT([2, 4], 183)]) as [Tensor, Tensor];
      expect(matsOf(dVh)[0].slice(2).flat().every((v) => v === 0)).toBe(true);
    });
  });
});

// ————————————————————————————————————————————————————————— eigh

describe('eigh and eigvalsh', () => {
  const sym = (shape: number[], seed: number, dtype: DT = 'float64') => {
    const b = randomT(shape, seed, dtype);
    return b.add(b.transpose(-2, -1));
  };

  for (const dtype of ['float64', 'float32'] as DT[]) {
    const tol = dtype === 'float64' ? 1e-13 : 2e-6;
    it.each([[1, 1], [2, 2], [5, 5], [3, 4, 4], [0, 0], [0, 3, 3], [12, 12]])(`${dtype} %j: V·diag(L)·Vᵀ = A, VᵀV = I, L ascending, the sign convention`, (...shape) => {
      wg.tidy(() => {
        const A = sym(shape, 200 + shape.length + shape[shape.length - 1], dtype);
        const n = shape[shape.length - 1];
        const [L, V] = wg.eigh(A);
        expect(L.shape).toEqual(shape.slice(0, -1));
        expect(V.shape).toEqual(shape);
        const as = matsOf(A), vs = matsOf(V), ls = vecsOf(L);
        as.forEach((a, t) => {
          const l = ls[t];
          for (let i = 1; i < n; i++) expect(l[i]).toBeGreaterThanOrEqual(l[i - 1]);
          const scale = Math.max(1, fro(a));
          expectClose(mul(vs[t].map((r) => r.map((v, c) => v * l[c])), tr(vs[t])).flat(), a.flat(), 0, tol * scale * 4);
          expectClose(mul(tr(vs[t]), vs[t]).flat(), eyeMat(n).flat(), 0, tol * 4);
          if (n > 0) expectSignConvention(vs[t], 'V');
        });
        expectSameBits(wg.eigvalsh(A).data() as Float64Array, L.data() as Float64Array, 'eigvalsh');
      });
    });
  }

  it('PyTorch references (UPLO L and U, with the other triangle garbage), gradients through B + Bᵀ, hermitian pinv', () => {
    for (const c of fixture.eigh) {
      wg.tidy(() => {
        const shape = [...c.batch, c.n, c.n];
        for (const [input, uplo] of [[c.A, 'L'], [c.garbageLower, 'L'], [c.garbageUpper, 'U']] as [number[], 'L' | 'U'][]) {
          const [L, V] = wg.eigh(f64(input, shape), { UPLO: uplo });
          expectClose(flat(L.toArray()), c.L, 1e-13, 1e-13);
          expectClose(flat(V.toArray()), c.V, 1e-12, 1e-12);
          expectClose(flat(wg.eigvalsh(f64(input, shape), { UPLO: uplo }).toArray()), c.eigvalsh, 1e-13, 1e-13);
        }
        const wv = f64(c.wv, [c.n, c.n]), wl = f64(c.wl, [c.n]);
        const loss = (b: Tensor) => {
          const [l, v] = wg.eigh(b.add(b.transpose(-2, -1)));
          return v.square().mul(wv).sum().add(l.mul(wl).sum());
        };
        const [value, grad] = wg.valueAndGrad(loss)(f64(c.B, shape)) as [Tensor, Tensor];
        expectClose(value.item(), c.loss, 1e-12, 1e-12);
        expectClose(flat(grad.toArray()), c.grad, 1e-9, 1e-10);
        expectClose(flat(wg.pinv(f64(c.garbageLower, shape), { hermitian: true }).toArray()), c.pinvHermitian, 1e-11, 1e-12);
      });
    }
  });

  it('gradients are the derivative of what is read: by central differences on A itself (upper triangle 0 for L)', () => {
    const A = randomT([4, 4], 210);
    const grads = checkGrad((a) => wg.eigh(a)[1], [A]);
    const g = grads[0];
    for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) expect(g[i * 4 + j]).toBe(0);
    checkGrad((a) => wg.eigh(a)[0], [randomT([2, 3, 3], 211)]);
    checkGrad((a) => wg.eigh(a, { UPLO: 'U' })[1], [randomT([3, 3], 212)]);
    checkGrad((a) => wg.eigvalsh(a, { UPLO: 'U' }), [randomT([2, 3, 3], 213)]);
    checkJvp((a) => wg.eigh(a)[1], randomT([4, 4], 214));
    checkJvp((a) => wg.eigh(a, { UPLO: 'U' })[0], randomT([3, 3], 215));
    checkJvp((a) => wg.eigvalsh(a), randomT([2, 3, 3], 216));
  });

  it('repeated eigenvalues: NaN gradient where V is used, finite for the eigenvalues (documented policy)', () => {
    wg.tidy(() => {
      const A = f64([[2, 0, 0], [0, 2, 0], [0, 0, 5]]);
      // NaN on the triangle read (the lower one), zero above it (never read)
      const gV = matsOf(wg.grad((a: Tensor) => wg.eigh(a)[1].mul(f64([1, 2, 3])).sum())(A))[0];
      gV.forEach((row, i) => row.forEach((v, j) => (j <= i ? expect(v).toBeNaN() : expect(v).toBe(0))));
      expect(wg.grad((a: Tensor) => wg.eigh(a)[0].sum())(A).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
      expect(wg.grad((a: Tensor) => wg.eigvalsh(a).sum())(A).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    });
  });
});

// ————————————————————————————————————————————————————————— pinv, lstsq

describe('pinv and lstsq', () => {
  it('PyTorch references: pinv with default, relative and absolute tolerances; pinv and its gradient per svd case', () => {
    // the second case keeps a singular value of 1e-9 (cond ≈ 1e9): both results are within their
    // backward error (ε·‖A‖ on that value), which is 1e-6 relative on A⁺'s entries of 3e8
    fixture.pinv.forEach((c: any, i: number) => {
      wg.tidy(() => expectClose(flat(wg.pinv(f64(c.A, c.shape), c.options).toArray()), c.out, i === 1 ? 1e-5 : 1e-7, 1e-9));
    });
    for (const c of fixture.svd) {
      wg.tidy(() => {
        const A = f64(c.A, c.shape);
        expectClose(flat(wg.pinv(A).toArray()), c.pinv, 1e-11, 1e-12);
        const N = size(c.shape); // torch.linspace(-1, 1, N) in A's shape, transposed to A⁺'s
        const w = f64(Array.from({ length: N }, (_, i) => (N === 1 ? -1 : -1 + 2 * i / (N - 1))), c.shape).transpose(-2, -1);
        const g = wg.grad((a: Tensor) => wg.pinv(a).mul(w).sum())(A);
        expect(g.shape).toEqual(c.shape);
        expectClose(flat(g.toArray()), c.gradPinv, 1e-9, 1e-10);
      });
    }
  });

  it('pinv: Moore–Penrose conditions on tall, wide and rank-deficient matrices; A⁺ of I is I with a finite gradient', () => {
    wg.tidy(() => {
      for (const a of [randomT([5, 3], 300), randomT([3, 5], 301), wg.matmul(randomT([4, 2], 302), randomT([2, 3], 303))]) {
        const p = wg.pinv(a);
        expectClose(flat(wg.matmul(wg.matmul(a, p), a).toArray()), flat(a.toArray()), 0, 1e-13);
        expectClose(flat(wg.matmul(wg.matmul(p, a), p).toArray()), flat(p.toArray()), 0, 1e-12);
        const ap = wg.matmul(a, p), pa = wg.matmul(p, a);
        expectClose(flat(ap.toArray()), flat(ap.t().toArray()), 0, 1e-13);
        expectClose(flat(pa.toArray()), flat(pa.t().toArray()), 0, 1e-13);
      }
      const I = wg.eye(3, { dtype: 'float64' });
      expect(wg.pinv(I).toArray()).toEqual(I.toArray());
      expectClose(flat(wg.grad((a: Tensor) => wg.pinv(a).sum())(I).toArray()), Array(9).fill(-1), 0, 1e-15);
      expect(wg.pinv(wg.zeros([2, 0, 3], { dtype: 'float64' })).shape).toEqual([2, 3, 0]);
      expect(wg.pinv(wg.zeros([2, 3], { dtype: 'float64' })).toArray()).toEqual([[0, 0], [0, 0], [0, 0]]);
    });
  });

  it('pinv gradients and tangents by central differences (general and hermitian)', () => {
    checkGrad((a) => wg.pinv(a), [randomT([4, 3], 310)]);
    checkGrad((a) => wg.pinv(a), [randomT([2, 2, 4], 311)]);
    checkGrad((a) => wg.pinv(a, { hermitian: true }), [randomT([3, 3], 312).add(wg.eye(3, { dtype: 'float64' }).mul(3))]);
    checkJvp((a) => wg.pinv(a), randomT([3, 5], 313));
    checkJvp((a) => wg.pinv(a, { hermitian: true }), randomT([3, 3], 314).add(wg.eye(3, { dtype: 'float64' }).mul(3)));
  });

  it('lstsq: PyTorch references for every driver (shapes of the empty results too), broadcast batches, vectors', () => {
    for (const c of fixture.lstsq) {
      wg.tidy(() => {
        const r = wg.lstsq(f64(c.A, c.shapeA), f64(c.B, c.shapeB), { driver: c.driver });
        const what = `${c.driver} ${JSON.stringify(c.shapeA)} ${JSON.stringify(c.shapeB)}`;
        expect(r.solution.shape, what).toEqual(c.solutionShape);
        expectClose(flat(r.solution.toArray()), c.solution, 1e-10, 1e-11);
        expect(r.residuals.shape, what).toEqual(c.residualsShape);
        expectClose(flat(r.residuals.toArray()), c.residuals, 1e-10, 1e-12);
        expect(r.rank.shape, what).toEqual(c.rankShape);
        expect(r.rank.dtype).toBe('int32');
        expect(flat(r.rank.toArray()), what).toEqual(c.rank);
        expect(r.singularValues.shape, what).toEqual(c.singularValuesShape);
        expectClose(flat(r.singularValues.toArray()).slice(0, c.singularValues.length), c.singularValues, 1e-12, 1e-13);
      });
    }
  });

  it('lstsq gradients (solution and residuals, A and B) by central differences; the method form', () => {
    checkGrad((a, b) => wg.lstsq(a, b).solution, [randomT([5, 3], 320), randomT([5, 2], 321)]);
    checkGrad((a, b) => wg.lstsq(a, b, { driver: 'gelsd' }).residuals, [randomT([5, 3], 322), randomT([5, 2], 323)]);
    checkGrad((a, b) => wg.lstsq(a, b).solution, [randomT([3, 4], 324), randomT([3], 325)]);
    wg.tidy(() => {
      const a = randomT([4, 2], 326), b = randomT([4, 1], 327);
      expectSameBits(a.lstsq(b).solution.data() as Float64Array, wg.lstsq(a, b).solution.data() as Float64Array, 'method');
    });
  });
});

// ————————————————————————————————————————————————————————— matrix norms

describe("matrixNorm and norm with ords 2, -2 and 'nuc'", () => {
  it('PyTorch references and gradients', () => {
    for (const c of fixture.svd) {
      wg.tidy(() => {
        const A = f64(c.A, c.shape);
        expectClose(flat(wg.matrixNorm(A, 2).toArray()), c.norm2, 1e-13, 1e-14);
        expectClose(flat(wg.matrixNorm(A, -2).toArray()), c.normNeg2, 1e-13, 1e-14);
        expectClose(flat(wg.matrixNorm(A, 'nuc').toArray()), c.nuc, 1e-13, 1e-14);
        expectClose(flat(wg.grad((a: Tensor) => wg.matrixNorm(a, 'nuc').sum())(A).toArray()), c.gradNuc, 1e-10, 1e-11);
        expectClose(flat(wg.grad((a: Tensor) => wg.matrixNorm(a, 2).sum())(A).toArray()), c.grad2, 1e-10, 1e-11);
        if (c.shape.length === 2) {
          expectClose(wg.norm(A, 2).item(), c.norm2[0], 1e-13, 1e-14);
          expectClose(wg.norm(A, 'nuc').item(), c.nuc[0], 1e-13, 1e-14);
          expectClose(A.norm(-2).item(), c.normNeg2[0], 1e-13, 1e-14);
        }
      });
    }
  });

  it('axes and keepdims; empty matrices; gradients by central differences; defined at repeated values', () => {
    wg.tidy(() => {
      const x = randomT([3, 2, 4], 400);
      const moved = wg.matrixNorm(x, 2, { axes: [0, 2], keepdims: true });
      expect(moved.shape).toEqual([1, 2, 1]);
      expectClose(flat(moved.toArray()), flat(wg.matrixNorm(x.permute([1, 0, 2]), 2).toArray()), 0, 0);
      expectClose(flat(wg.norm(x, 'nuc', { axes: [2, 0] }).toArray()), flat(wg.matrixNorm(x.permute([1, 2, 0]), 'nuc').toArray()), 0, 0);
      expect(wg.matrixNorm(wg.zeros([2, 0, 3], { dtype: 'float64' }), 'nuc').toArray()).toEqual([0, 0]);
      // at the identity every singular value is 1: a subgradient, finite
      expect(wg.grad((a: Tensor) => wg.matrixNorm(a, 'nuc'))(wg.eye(3, { dtype: 'float64' })).toArray())
        .toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
      expect(flat(wg.grad((a: Tensor) => wg.matrixNorm(a, 2))(wg.eye(2, { dtype: 'float64' })).toArray()).every(Number.isFinite)).toBe(true);
    });
    checkGrad((a) => wg.matrixNorm(a, 2), [randomT([2, 3, 4], 410)]);
    checkGrad((a) => wg.matrixNorm(a, -2), [randomT([4, 3], 411)]);
    checkGrad((a) => wg.matrixNorm(a, 'nuc', { axes: [0, 1] }), [randomT([3, 4, 2], 412)]);
    checkJvp((a) => wg.matrixNorm(a, 'nuc'), randomT([2, 3, 3], 413));
  });
});

// ————————————————————————————————————————————————————————— accelerate, determinism

describe('accelerated', () => {
  it('an accelerated gradient through svd, eigh, pinv gives the eager bits', () => {
    const f = (a: Tensor) => {
      const [u, s] = wg.svd(a, { fullMatrices: false });
      const [l, v] = wg.eigh(wg.matmul(a.t(), a));
      return u.square().sum().add(s.sum()).add(l.sum()).add(v.square().mul(l).sum()).add(wg.pinv(a).sum());
    };
    const vg = wg.valueAndGrad(f);
    const fast = wg.accelerate(vg);
    for (const seed of [500, 501, 502]) {
      wg.tidy(() => {
        const a = randomT([4, 3], seed);
        const [v1, g1] = vg(a) as [Tensor, Tensor];
        const [v2, g2] = fast(a) as [Tensor, Tensor];
        expectSameBits(v2.data() as Float64Array, v1.data() as Float64Array, 'value');
        expectSameBits(g2.data() as Float64Array, g1.data() as Float64Array, 'gradient');
      });
    }
    fast.dispose();
  });
});

// ————————————————————————————————————————————————————————— bad input

describe('bad input', () => {
  const rect = () => f64([[1, 2, 3], [4, 5, 6]]);
  const ints = () => wg.tensor([[1, 0], [0, 1]], { dtype: 'int32' });

  it('shapes: rank < 2, non-square eigh / eigvalsh / hermitian pinv', () => {
    expectError(() => wg.svd(f64([1, 2])), wg.ShapeError, 'svd', '[2]', 'not a matrix');
    expectError(() => wg.svdvals(f64(3)), wg.ShapeError, 'svdvals', 'not a matrix');
    expectError(() => wg.pinv(f64([1, 2])), wg.ShapeError, 'pinv', 'not a matrix');
    expectError(() => wg.eigh(rect()), wg.ShapeError, 'eigh', '[2, 3]', 'not square');
    expectError(() => wg.eigvalsh(rect()), wg.ShapeError, 'eigvalsh', 'not square');
    expectError(() => wg.pinv(rect(), { hermitian: true }), wg.ShapeError, 'pinv', 'not square');
    expectError(() => wg.lstsq(rect(), f64([1, 2, 3])), wg.ShapeError, 'lstsq', 'A has 2 rows, B has 3 elements');
    expectError(() => wg.lstsq(rect(), f64([[1], [2], [3]])), wg.ShapeError, 'lstsq', 'B has 3 rows');
    expectError(() => wg.lstsq(randomT([2, 2, 3], 1), f64([1, 2])), wg.ShapeError, 'lstsq', "A's rank");
    expectError(() => wg.lstsq(randomT([2, 2, 3], 1), randomT([3, 2, 1], 2)), wg.ShapeError, 'lstsq', 'batch dims [2] and [3]');
  });

  it('dtypes: integer and mixed', () => {
    expectError(() => wg.svd(ints()), wg.DTypeError, 'svd', 'int32', 'float32 or float64');
    expectError(() => wg.svdvals(ints()), wg.DTypeError, 'svdvals', 'int32');
    expectError(() => wg.eigh(ints()), wg.DTypeError, 'eigh', 'int32');
    expectError(() => wg.eigvalsh(ints()), wg.DTypeError, 'eigvalsh', 'int32');
    expectError(() => wg.pinv(ints()), wg.DTypeError, 'pinv', 'int32');
    expectError(() => wg.lstsq(ints(), f64([1, 2])), wg.DTypeError, 'lstsq', 'int32');
    expectError(() => wg.lstsq(rect(), wg.tensor([1, 2], { dtype: 'int32' })), wg.DTypeError, 'lstsq', 'B is a int32');
    expectError(() => wg.lstsq(rect(), wg.tensor([1, 2])), wg.DTypeError, 'lstsq', 'float64', 'float32');
    expectError(() => wg.matrixNorm(ints(), 'nuc'), wg.DTypeError, 'matrixNorm', 'int32');
  });

  it('options: unknown keys (with the nearest), bad values, drivers that do not exist', () => {
    expectError(() => wg.svd(rect(), { full_matrices: false } as any), wg.ValueError, 'svd', 'full_matrices', 'fullMatrices');
    expectError(() => wg.svd(rect(), { fullMatrices: 1 } as any), wg.ValueError, 'svd', 'fullMatrices');
    expectError(() => wg.eigh(f64([[1, 0], [0, 1]]), { uplo: 'L' } as any), wg.ValueError, 'eigh', 'uplo', 'UPLO');
    expectError(() => wg.eigh(f64([[1, 0], [0, 1]]), { UPLO: 'X' } as any), wg.ValueError, 'eigh', "'L' or 'U'", '"X"');
    expectError(() => wg.eigvalsh(f64([[1, 0], [0, 1]]), { UPLO: 'l' } as any), wg.ValueError, 'eigvalsh', "'L' or 'U'");
    expectError(() => wg.pinv(rect(), { rcond: 1e-3 } as any), wg.ValueError, 'pinv', 'rcond', 'rtol');
    expectError(() => wg.pinv(rect(), { atol: 'big' } as any), wg.ValueError, 'pinv', 'atol must be a number', '"big"');
    expectError(() => wg.pinv(rect(), { rtol: NaN }), wg.ValueError, 'pinv', 'rtol');
    expectError(() => wg.lstsq(rect(), f64([1, 2]), { driver: 'gelsx' } as any), wg.ValueError, 'lstsq',
      "'gels', 'gelsy', 'gelsd', 'gelss'", '"gelsx"');
    expectError(() => wg.lstsq(rect(), f64([1, 2]), { rcond: '1' } as any), wg.ValueError, 'lstsq', 'rcond');
    expectError(() => wg.lstsq(rect(), f64([1, 2]), { drivers: 'gelsd' } as any), wg.ValueError, 'lstsq', 'drivers', 'driver');
    expectError(() => wg.matrixNorm(wg.zeros([0, 3], { dtype: 'float64' }), 2), wg.ShapeError, 'matrixNorm', 'no elements');
    expectError(() => (wg.svd as any)(rect(), {}, 3), wg.ValueError, 'svd');
  });

  it('non-finite input raises LinAlgError naming the batch element (as PyTorch), in a gradient too', () => {
    const bad = () => wg.svd(f64([[[1, 0], [0, 1]], [[NaN, 0], [0, 1]]]));
    expectError(bad, wg.LinAlgError,
      'svd: (batch element 1): the algorithm failed to converge because the input matrix contained non-finite values', '[2, 2, 2]');
    let e: any;
    wg.tidy(() => { try { bad(); } catch (err) { e = err; } });
    expect([e.batch, e.index]).toEqual([1, 1]);
    expectError(() => wg.svdvals(f64([[Infinity, 0]])), wg.LinAlgError, 'svdvals: the algorithm failed');
    expectError(() => wg.eigh(f64([[1, 0], [NaN, 1]])), wg.LinAlgError, 'eigh: the algorithm failed');
    expectError(() => wg.eigvalsh(f64([[1, NaN], [0, 1]]), { UPLO: 'U' }), wg.LinAlgError, 'eigvalsh');
    expectError(() => wg.pinv(f64([[1, NaN]])), wg.LinAlgError, 'pinv');
    expectError(() => wg.grad((a: Tensor) => wg.svdvals(a).sum())(f64([[NaN]])), wg.LinAlgError, 'svdvals');
    // the triangle not read may hold anything
    expect(wg.tidy(() => wg.eigvalsh(f64([[1, NaN], [0, 2]])).toArray())).toEqual([1, 2]);
  });
});

// ————————————————————————————————————————————————————————— registry

describe('registry', () => {
  it('lists the decompositions with their Tensor methods', () => {
    for (const name of ['svd', 'svdvals', 'eigh', 'eigvalsh', 'pinv', 'lstsq']) {
      expect(typeof (wg as any)[name], name).toBe('function');
      expect(typeof (wg.tensor([1]) as any)[name], name).toBe('function');
    }
  });
});
