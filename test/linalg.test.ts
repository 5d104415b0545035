// Linear algebra: solve, inv, det / slogdet / logdet, cholesky, qr, solveTriangular (primitives in
// assembly/ops/linalg.ts) and diag, matrixTrace, outer, norm / vectorNorm / matrixNorm (composites).
// Forward values against plain JS references (Gaussian elimination, cofactor expansion,
// substitution) and reconstruction identities; gradients by finite differences in float64; JVP
// against VJP; second derivatives against finite differences of the gradient; float32 against
// float64; every bad input with its message, and the runtime still working afterwards.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectNoLeak, uniform, size, flat } from './helpers.js';
import type { Tensor } from '../src/index.js';
import { linalgOps } from './registry/linalg.js';

beforeAll(async () => { await wg.init(); });

type Mat = number[][];
type DT = 'float32' | 'float64';

// ————————————————————————————————————————————————————————— plain JS references

const zerosMat = (r: number, c: number): Mat => Array.from({ length: r }, () => new Array(c).fill(0));
const identityMat = (n: number): Mat => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
const transposeMat = (a: Mat, cols = a[0]?.length ?? 0): Mat => Array.from({ length: cols }, (_, j) => a.map((row) => row[j]));
function mulMat(a: Mat, b: Mat, cols = b[0]?.length ?? 0): Mat {
  return a.map((row) => Array.from({ length: cols }, (_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

/** Gaussian elimination with partial pivoting on the augmented matrix [A | B]. */
function gaussSolve(A: Mat, B: Mat): Mat {
  const n = A.length, k = B[0]?.length ?? 0;
  const a = A.map((r, i) => [...r, ...B[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(a[i][c]) > Math.abs(a[p][c])) p = i;
    [a[c], a[p]] = [a[p], a[c]];
    for (let i = c + 1; i < n; i++) {
      const f = a[i][c] / a[c][c];
      for (let j = c; j < n + k; j++) a[i][j] -= f * a[c][j];
    }
  }
  const x = zerosMat(n, k);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = 0; j < k; j++) {
      let s = a[i][n + j];
      for (let q = i + 1; q < n; q++) s -= a[i][q] * x[q][j];
      x[i][j] = s / a[i][i];
    }
  }
  return x;
}

/** Laplace expansion along the first row: independent of any elimination. */
function detCofactor(A: Mat): number {
  const n = A.length;
  if (n === 0) return 1;
  if (n === 1) return A[0][0];
  let s = 0;
  for (let j = 0; j < n; j++) {
    const minor = A.slice(1).map((r) => r.filter((_, c) => c !== j));
    s += (j % 2 ? -1 : 1) * A[0][j] * detCofactor(minor);
  }
  return s;
}

function choleskyRef(A: Mat): Mat {
  const n = A.length, L = zerosMat(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i][j];
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      L[i][j] = i === j ? Math.sqrt(s) : s / L[j][j];
    }
  }
  return L;
}

/** Substitution for op(A)·X = B or X·op(A) = B, reading only the stated triangle of A. */
function triSolveRef(A: Mat, B: Mat, upper: boolean, left: boolean, unit: boolean): Mat {
  const n = A.length;
  const t = (i: number, j: number) => (i === j ? (unit ? 1 : A[i][i]) : (upper ? j > i : j < i) ? A[i][j] : 0);
  if (!left) { // X·A = B  ⇔  Aᵀ·Xᵀ = Bᵀ, and Aᵀ's triangle is the other one
    const At = transposeMat(A, n);
    return transposeMat(triSolveRef(At, transposeMat(B, B[0]?.length ?? 0), !upper, true, unit), B.length);
  }
  const k = B[0]?.length ?? 0, X = zerosMat(n, k);
  const order = upper ? [...Array(n).keys()].reverse() : [...Array(n).keys()];
  for (const i of order) {
    for (let j = 0; j < k; j++) {
      let s = B[i][j];
      for (let q = 0; q < n; q++) if (q !== i && t(i, q) !== 0) s -= t(i, q) * X[q][j];
      X[i][j] = s / t(i, i);
    }
  }
  return X;
}

// ————————————————————————————————————————————————————————— tensors and batches

const f64 = (data: unknown): Tensor => wg.tensor(data as number[], { dtype: 'float64' });

/** Random entries in [-1, 1) plus `shift` on each matrix's diagonal (shift = n: well conditioned). */
function randomMats(shape: number[], seed: number, shift = shape[shape.length - 1], dtype: DT = 'float64'): Tensor {
  const data = uniform(size(shape), -1, 1, seed);
  const [r, c] = shape.slice(-2);
  for (let i = 0; i < data.length; i++) {
    const within = i % (r * c);
    if (Math.floor(within / c) === within % c) data[i] += shift;
  }
  return wg.tensor(data, { shape, dtype });
}
const randomT = (shape: number[], seed: number, dtype: DT = 'float64'): Tensor =>
  wg.tensor(uniform(size(shape), -1, 1, seed), { shape, dtype });

/** The matrices of a [..., r, c] tensor, in batch order. */
function matsOf(t: Tensor): Mat[] {
  const [r, c] = t.dims.slice(-2);
  const d = Array.from(t.data());
  return Array.from({ length: size(t.dims.slice(0, -2)) }, (_, b) =>
    Array.from({ length: r }, (_, i) => d.slice(b * r * c + i * c, b * r * c + (i + 1) * c)));
}

/** The matrix of operand x at broadcast batch element t of `batch`. */
function matAt(x: Tensor, batch: number[], t: number): Mat {
  const xb = x.dims.slice(0, -2);
  let rem = t, off = 0, stride = 1;
  for (let d = batch.length - 1; d >= 0; d--) {
    const i = rem % batch[d]; rem = Math.floor(rem / batch[d]);
    const dx = d - (batch.length - xb.length);
    if (dx >= 0) { if (xb[dx] !== 1) off += i * stride; stride *= xb[dx]; }
  }
  return matsOf(x)[off];
}

const broadcastBatch = (a: number[], b: number[]): number[] => {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, k) => {
    const x = a[k - (r - a.length)] ?? 1, y = b[k - (r - b.length)] ?? 1;
    return x === 1 ? y : x;
  });
};

/** Asserts the error class, message fragments, no leaked tensors, and that the runtime still works. */
function expectError(fn: () => unknown, cls: Function, ...fragments: string[]): Error {
  let err: unknown;
  expectNoLeak(() => wg.tidy(() => { try { fn(); } catch (e) { err = e; } }));
  expect(err, 'expected an error').toBeInstanceOf(cls);
  for (const f of fragments) expect((err as Error).message).toContain(f);
  wg.tidy(() => {
    const x = wg.solve(f64([[2, 0], [0, 4]]), f64([2, 2]));
    expect(x.toArray()).toEqual([1, 0.5]);
  });
  return err as Error;
}

/** ⟨v, J·u⟩ from jvp equals ⟨Jᵀ·v, u⟩ from grad, for random u, v (float64). */
function checkJvpVjp(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], seed = 11, tol = 1e-10): void {
  wg.tidy(() => {
    const us = xs.map((x, k) => randomT(x.shape, seed + k));
    const [y, ydot] = wg.jvp(f, xs, us) as [Tensor, Tensor];
    const v = randomT(y.shape, seed + 100);
    const lhs = ydot.mul(v).sum().item() as number;
    const grads = wg.grad((...a: Tensor[]) => f(...a).mul(v).sum(), { argnums: xs.map((_, k) => k) })(...xs) as Tensor[];
    const rhs = grads.reduce((s, g, k) => s + (g.mul(us[k]).sum().item() as number), 0);
    expectClose(lhs, rhs, tol, tol);
  });
}

/** H·v by forward-over-reverse (hvp) and by reverse-over-reverse, against central differences of the gradient. */
function checkSecondOrder(f: (x: Tensor) => Tensor, x: Tensor, seed = 21, tol = 1e-6): void {
  wg.tidy(() => {
    const v = randomT(x.shape, seed);
    const eps = 1e-5;
    const g = wg.grad(f);
    const numeric = flat(g(x.add(v.mul(eps))).sub(g(x.sub(v.mul(eps)))).div(2 * eps).toArray());
    expectClose(flat(wg.hvp(f)(x, v).toArray()), numeric, tol, tol);
    const reverse = wg.grad((t: Tensor) => g(t).mul(v).sum())(x);
    expectClose(flat(reverse.toArray()), numeric, tol, tol);
  });
}

// ————————————————————————————————————————————————————————— solve, inv

describe('solve', () => {
  // [A shape, B shape, left, what it covers]
  const CASES: [number[], number[], boolean, string][] = [
    [[3, 3], [3], true, 'vector B'],
    [[3, 3], [3, 2], true, 'matrix B'],
    [[1, 1], [1, 1], true, '1×1'],
    [[5, 5], [5, 7], true, 'k = 7: SIMD lanes and a tail'],
    [[6, 6], [6, 1], true, 'one column'],
    [[2, 4, 4], [4, 3], true, 'batched A, shared B'],
    [[4, 4], [3, 4, 2], true, 'shared A, batched B'],
    [[2, 1, 3, 3], [4, 3, 1], true, 'batch dims [2, 1] and [4] broadcast'],
    [[2, 3, 3], [2, 3], true, 'batch of vectors (B has A\'s dims but the last)'],
    [[2, 3, 3], [3], true, 'one vector for every matrix'],
    [[3, 3], [2, 3], false, 'left = false: X·A = B'],
    [[2, 4, 4], [2, 5, 4], false, 'left = false, batched'],
    [[0, 0], [0, 2], true, 'n = 0'],
    [[0, 3, 3], [3, 2], true, 'empty batch'],
  ];

  it.each(CASES)('%j, %j (left %s, %s): equals Gaussian elimination and A·X = B', (sa, sb, left) => {
    wg.tidy(() => {
      const A = randomMats(sa, 1), B = randomT(sb, 2);
      const X = wg.solve(A, B, { left });
      const vector = sb.length === 1 || (sb.length === sa.length - 1 && sb.join() === sa.slice(0, -1).join());
      const Bm = vector ? B.reshape([...sb, 1]) : B;
      const batch = broadcastBatch(sa.slice(0, -2), Bm.dims.slice(0, -2));
      const n = sa[sa.length - 1];
      const expectedShape = vector ? [...batch, n] : [...batch, ...Bm.dims.slice(-2)];
      expect(X.shape).toEqual(expectedShape);
      const Xm = vector ? X.reshape([...X.dims, 1]) : X;
      const nb = size(batch);
      for (let t = 0; t < nb; t++) {
        const a = matAt(A, batch, t), b = matAt(Bm, batch, t), x = matAt(Xm, batch, t);
        const ref = left ? gaussSolve(a, b) : transposeMat(gaussSolve(transposeMat(a, n), transposeMat(b, n)), b.length);
        expectClose(x, ref, 1e-12, 1e-13);
        const back = left ? mulMat(a, x, b[0]?.length ?? 0) : mulMat(x, a, n);
        expectClose(back, b, 1e-12, 1e-13);
      }
    });
  });

  it('needs pivoting: a zero in the top-left corner', () => {
    const X = wg.solve(f64([[0, 1], [1, 0]]), f64([3, 4]));
    expect(X.toArray()).toEqual([4, 3]);
    const Y = wg.solve(f64([[0, 2, 1], [1, 1, 0], [3, 0, 1]]), f64([[5], [2], [4]]));
    expectClose(Y.toArray(), gaussSolve([[0, 2, 1], [1, 1, 0], [3, 0, 1]], [[5], [2], [4]]), 1e-14, 1e-15);
  });

  it('float32 is within 1e-5 of float64', () => {
    wg.tidy(() => {
      const A = randomMats([2, 6, 6], 3), B = randomT([6, 5], 4);
      const x64 = wg.solve(A, B), x32 = wg.solve(A.to('float32'), B.to('float32'));
      expect(x32.dtype).toBe('float32');
      expectClose(x32.toArray(), x64.toArray(), 1e-5, 1e-6);
    });
  });

  it('gradients for A and B (matrix, vector, broadcast, left = false)', () => {
    checkGrad((a, b) => wg.solve(a, b), [randomMats([3, 3], 5), randomT([3, 2], 6)]);
    checkGrad((a, b) => wg.solve(a, b), [randomMats([4, 4], 7), randomT([4], 8)]);
    checkGrad((a, b) => wg.solve(a, b), [randomMats([2, 1, 3, 3], 9), randomT([3, 3, 2], 10)]);
    checkGrad((a, b) => wg.solve(a, b), [randomMats([2, 3, 3], 11), randomT([2, 3], 12)]);
    checkGrad((a, b) => wg.solve(a, b, { left: false }), [randomMats([2, 3, 3], 13), randomT([4, 3], 14)]);
    checkGrad((a, b) => wg.solve(a, b), [randomMats([1, 1], 15), randomT([1, 1], 16)]);
  });

  it('JVP agrees with VJP; second derivatives', () => {
    checkJvpVjp((a, b) => wg.solve(a, b), [randomMats([2, 3, 3], 17), randomT([3, 2], 18)]);
    checkJvpVjp((a, b) => wg.solve(a, b, { left: false }), [randomMats([3, 3], 19), randomT([2, 3], 20)]);
    const b = randomT([3, 2], 22);
    checkSecondOrder((a) => wg.solve(a, b).square().sum(), randomMats([3, 3], 23));
    const a = randomMats([3, 3], 24);
    checkSecondOrder((x) => wg.solve(a, x.square(), { left: false }).sum(), randomT([2, 3], 25));
  });
});

describe('inv', () => {
  it.each([[[3, 3]], [[1, 1]], [[5, 5]], [[2, 3, 4, 4]], [[0, 0]]])('%j: A·inv(A) = I and equals Gauss-Jordan', (shape) => {
    wg.tidy(() => {
      const A = randomMats(shape, 30);
      const X = wg.inv(A);
      expect(X.shape).toEqual(shape);
      const n = shape[shape.length - 1];
      const as = matsOf(A), xs = matsOf(X);
      if (n === 0) { expect(X.numel()).toBe(0); return; }
      as.forEach((a, t) => {
        expectClose(xs[t], gaussSolve(a, identityMat(n)), 1e-12, 1e-13);
        expectClose(mulMat(a, xs[t], n), identityMat(n), 1e-12, 1e-13);
      });
    });
  });

  it('known inverse: [[4, 7], [2, 6]]⁻¹ = [[0.6, -0.7], [-0.2, 0.4]]', () => {
    expectClose(wg.inv(f64([[4, 7], [2, 6]])).toArray(), [[0.6, -0.7], [-0.2, 0.4]], 1e-15, 1e-15);
  });

  it('gradient -A⁻ᵀ·G·A⁻ᵀ, JVP, second derivative, float32', () => {
    checkGrad((a) => wg.inv(a), [randomMats([3, 3], 31)]);
    checkGrad((a) => wg.inv(a), [randomMats([2, 2, 2], 32)]);
    checkJvpVjp((a) => wg.inv(a), [randomMats([3, 3], 33)]);
    checkSecondOrder((a) => wg.inv(a).sum(), randomMats([3, 3], 34));
    wg.tidy(() => {
      const A = randomMats([4, 4], 35);
      expectClose(wg.inv(A.to('float32')).toArray(), wg.inv(A).toArray(), 1e-5, 1e-6);
    });
  });
});

// ————————————————————————————————————————————————————————— determinants

describe('det, slogdet, logdet', () => {
  it.each([[[1, 1]], [[2, 2]], [[3, 3]], [[4, 4]], [[5, 5]], [[2, 3, 3, 3]]])('%j: equals cofactor expansion', (shape) => {
    wg.tidy(() => {
      const A = randomMats(shape, 40, 0.5);
      const d = wg.det(A);
      expect(d.shape).toEqual(shape.slice(0, -2));
      const refs = matsOf(A).map(detCofactor);
      expectClose(flat(d.toArray()), refs, 1e-12, 1e-14);
      const [sign, logabs] = wg.slogdet(A);
      expect(flat(sign.toArray())).toEqual(refs.map(Math.sign));
      expectClose(flat(logabs.toArray()), refs.map((v) => Math.log(Math.abs(v))), 1e-12, 1e-13);
      expectClose(flat(wg.logdet(A).toArray()), refs.map((v) => (v < 0 ? NaN : Math.log(v))), 1e-12, 1e-13);
    });
  });

  it('known values: exact small determinants, permutations, singular and empty matrices', () => {
    expect(wg.det(f64([[1, 2], [3, 4]])).item()).toBe(-2);
    expect(wg.det(f64([[0, 1], [1, 0]])).item()).toBe(-1);
    expect(wg.det(f64([[0, 0, 1], [1, 0, 0], [0, 1, 0]])).item()).toBe(1);
    expect(wg.det(f64([[2, 0, 0], [0, 3, 0], [0, 0, 4]])).item()).toBe(24);
    expect(Math.abs(wg.det(f64([[1, 2], [2, 4]])).item() as number)).toBe(0); // singular: no error
    expect(wg.det(wg.zeros([0, 0], { dtype: 'float64' })).item()).toBe(1);
    expect(wg.det(wg.zeros([3, 0, 0])).toArray()).toEqual([1, 1, 1]);
    const [sign, logabs] = wg.slogdet(f64([[1, 2], [2, 4]]));
    expect(sign.item()).toBe(0);
    expect(logabs.item()).toBe(-Infinity);
    expect(wg.logdet(f64([[1, 2], [2, 4]])).item()).toBe(-Infinity);
    expect(wg.logdet(f64([[0, 1], [1, 0]])).item()).toBeNaN(); // det -1: PyTorch gives NaN
    const [s2, l2] = wg.slogdet(f64([[-2, 0], [0, 3]]));
    expect([s2.item(), l2.item()]).toEqual([-1, Math.log(6)]);
  });

  it('gradients: det·A⁻ᵀ, A⁻ᵀ, and zero where logdet is NaN', () => {
    checkGrad((a) => wg.det(a), [randomMats([3, 3], 41)]);
    checkGrad((a) => wg.det(a), [randomMats([2, 4, 4], 42, 1)]);
    checkGrad((a) => wg.slogdet(a)[1], [randomMats([2, 3, 3], 43, 0.3)]);
    checkGrad((a) => wg.logdet(a), [randomMats([3, 3], 44)]);
    checkGrad((a) => wg.det(a), [randomMats([1, 1], 45)]);
    wg.tidy(() => {
      // d log det / dA = A⁻ᵀ exactly; where det < 0 the NaN branch takes no gradient (PyTorch's where)
      const A = f64([[2, 1], [1, 3]]);
      expectClose(wg.grad((a: Tensor) => wg.logdet(a))(A).toArray(), [[0.6, -0.2], [-0.2, 0.4]], 1e-15, 1e-15);
      expect(wg.grad((a: Tensor) => wg.logdet(a))(f64([[0, 1], [1, 0]])).toArray()).toEqual([[0, 0], [0, 0]]);
    });
  });

  it('at exactly singular matrices the gradient is the cofactor matrix (as PyTorch), to every order', () => {
    wg.tidy(() => {
      expect(wg.grad((a: Tensor) => wg.det(a))(f64([[1, 2], [2, 4]])).toArray()).toEqual([[4, -2], [-2, 1]]);
      const singular = f64([[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[2, 0, 1], [0, 1, 0], [1, 0, 3]], [[0, 0, 0], [0, 0, 0], [0, 0, 1]]]);
      checkGrad((a) => wg.det(a), [singular]);
      checkGrad((a) => wg.det(a), [f64([[0]])]);
      checkJvpVjp((a) => wg.det(a), [singular]);
      checkSecondOrder((a) => wg.det(a).sum(), singular);
    });
  });

  it('JVP agrees with VJP; Hessian of logdet against finite differences', () => {
    checkJvpVjp((a) => wg.det(a), [randomMats([2, 3, 3], 46)]);
    checkJvpVjp((a) => wg.slogdet(a)[1], [randomMats([3, 3], 47)]);
    checkSecondOrder((a) => wg.logdet(a), randomMats([3, 3], 48));
    checkSecondOrder((a) => wg.det(a), randomMats([3, 3], 49));
    wg.tidy(() => {
      // the full Hessian of log det at A: ∂²/∂A_ij∂A_kl = −(A⁻¹)_jk (A⁻¹)_li
      const A = randomMats([3, 3], 50);
      const H = flat(wg.hessian((a: Tensor) => wg.logdet(a))(A).toArray());
      const Ai = gaussSolve(matsOf(A)[0], identityMat(3));
      const ref: number[] = [];
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) for (let l = 0; l < 3; l++) ref.push(-Ai[j][k] * Ai[l][i]);
      expectClose(H, ref, 1e-12, 1e-13);
    });
  });

  it('float32 is near float64', () => {
    wg.tidy(() => {
      const A = randomMats([2, 5, 5], 51);
      expectClose(wg.det(A.to('float32')).toArray(), wg.det(A).toArray(), 1e-5, 0);
      expectClose(wg.slogdet(A.to('float32'))[1].toArray(), wg.slogdet(A)[1].toArray(), 1e-5, 1e-6);
    });
  });
});

// ————————————————————————————————————————————————————————— cholesky

/** MᵀM + n·I: symmetric positive-definite, differentiable in M (so finite differences are valid). */
const spd = (m: Tensor): Tensor => {
  const n = m.dims[m.rank - 1];
  return wg.matmulT(m, m, { transA: true }).add(wg.eye(n, { dtype: m.dtype }).mul(n));
};

describe('cholesky', () => {
  it.each([[[1, 1]], [[3, 3]], [[6, 6]], [[2, 3, 5, 5]], [[0, 0]]])('%j: L·Lᵀ = A, L lower, equals the JS reference', (shape) => {
    wg.tidy(() => {
      const A = spd(randomT(shape, 60));
      const L = wg.cholesky(A);
      const U = wg.cholesky(A, { upper: true });
      expect(L.shape).toEqual(shape);
      const n = shape[shape.length - 1];
      if (n === 0) return;
      const as = matsOf(A), ls = matsOf(L), us = matsOf(U);
      as.forEach((a, t) => {
        expectClose(ls[t], choleskyRef(a), 1e-13, 1e-14);
        expectClose(mulMat(ls[t], transposeMat(ls[t], n), n), a, 1e-13, 1e-13);
        expect(ls[t].every((row, i) => row.every((v, j) => j <= i || v === 0))).toBe(true);
        expect(us[t]).toEqual(transposeMat(ls[t], n));
      });
    });
  });

  it('known factor, and only the lower (upper) triangle is read', () => {
    expectClose(wg.cholesky(f64([[4, 2], [2, 3]])).toArray(), [[2, 0], [1, Math.SQRT2]], 1e-15, 1e-15);
    expect(wg.cholesky(f64([[4, 999], [2, 3]])).toArray()).toEqual(wg.cholesky(f64([[4, 2], [2, 3]])).toArray());
    expect(wg.cholesky(f64([[4, 2], [999, 3]]), { upper: true }).toArray())
      .toEqual(wg.cholesky(f64([[4, 2], [2, 3]]), { upper: true }).toArray());
  });

  it('gradients through MᵀM + nI, lower and upper; JVP; second derivative; float32', () => {
    checkGrad((m) => wg.cholesky(spd(m)), [randomT([3, 3], 61)]);
    checkGrad((m) => wg.cholesky(spd(m), { upper: true }), [randomT([2, 4, 4], 62)]);
    checkGrad((m) => wg.cholesky(spd(m)), [randomT([1, 1], 63)]);
    checkJvpVjp((m) => wg.cholesky(spd(m)), [randomT([2, 3, 3], 64)]);
    checkJvpVjp((m) => wg.cholesky(spd(m), { upper: true }), [randomT([4, 4], 65)]);
    checkSecondOrder((m) => wg.cholesky(spd(m)).square().sum(), randomT([3, 3], 66));
    wg.tidy(() => {
      // PyTorch's gradient is symmetric: for G = ones, it is L⁻ᵀ·Φ(Lᵀ·G)·L⁻¹ with Φ symmetrised
      const A = f64([[4, 2], [2, 3]]);
      const g = wg.grad((a: Tensor) => wg.cholesky(a).sum())(A).toArray() as Mat;
      expectClose(g[0][1], g[1][0], 1e-15, 1e-15);
      const A32 = spd(randomT([5, 5], 67));
      expectClose(wg.cholesky(A32.to('float32')).toArray(), wg.cholesky(A32).toArray(), 1e-5, 1e-6);
    });
  });
});

// ————————————————————————————————————————————————————————— qr

describe('qr', () => {
  // [shape, mode]
  const CASES: [number[], 'reduced' | 'complete'][] = [
    [[3, 2], 'reduced'], [[3, 2], 'complete'], [[2, 3], 'reduced'], [[2, 3], 'complete'], [[4, 4], 'reduced'],
    [[1, 1], 'reduced'], [[7, 5], 'reduced'], [[5, 9], 'complete'], [[2, 3, 6, 4], 'reduced'], [[2, 6, 4], 'complete'],
    [[0, 3], 'reduced'], [[3, 0], 'complete'],
  ];

  it.each(CASES)('%j %s: QᵀQ = I, Q·R = A, R upper-triangular', (shape, mode) => {
    wg.tidy(() => {
      const A = randomT(shape, 70);
      const [Q, R] = wg.qr(A, { mode });
      const [m, n] = shape.slice(-2);
      const k = mode === 'complete' ? m : Math.min(m, n);
      expect(Q.shape).toEqual([...shape.slice(0, -2), m, k]);
      expect(R.shape).toEqual([...shape.slice(0, -2), k, n]);
      if (m * n === 0) return;
      const as = matsOf(A), qs = matsOf(Q), rs = matsOf(R);
      as.forEach((a, t) => {
        expectClose(mulMat(transposeMat(qs[t], k), qs[t], k), identityMat(k), 1e-14, 1e-14);
        expectClose(mulMat(qs[t], rs[t], n), a, 1e-14, 1e-14);
        expect(rs[t].every((row, i) => row.every((v, j) => j >= i || v === 0))).toBe(true);
      });
    });
  });

  it('LAPACK\'s signs (what PyTorch returns): numpy/torch values for [[1, 2], [3, 4], [5, 6]]', () => {
    // R[0, 0] = −sign(a00)·‖a0‖ = −√35, R[0, 1] = −44/√35; Q's first column = −a0/√35
    const [Q, R] = wg.qr(f64([[1, 2], [3, 4], [5, 6]]));
    const s = Math.sqrt(35);
    const r11 = Math.sqrt(4 + 16 + 36 - (44 / s) ** 2);
    expectClose(R.toArray(), [[-s, -44 / s], [0, r11]], 1e-14, 1e-14);
    expectClose((Q.toArray() as Mat).map((r) => r[0]), [-1 / s, -3 / s, -5 / s], 1e-14, 1e-15);
    // A column already zero below the diagonal is not reflected: an upper-triangular A gives Q = I, R = A
    const [Q2, R2] = wg.qr(f64([[-2, 1], [0, 3]]));
    expect(Q2.toArray()).toEqual([[1, 0], [0, 1]]);
    expect(R2.toArray()).toEqual([[-2, 1], [0, 3]]);
    // a negative pivot reflects to a positive diagonal
    const [, R3] = wg.qr(f64([[-3], [4]]));
    expectClose(R3.toArray(), [[5]], 1e-15, 1e-15);
  });

  it('gradients of Q and R (tall, square, wide, complete with m <= n, batched)', () => {
    checkGrad((a) => wg.qr(a)[0], [randomT([4, 3], 71)]);
    checkGrad((a) => wg.qr(a)[1], [randomT([4, 3], 72)]);
    checkGrad((a) => { const [q, r] = wg.qr(a); return q.sum().add(r.mul(r).sum()); }, [randomT([3, 3], 73)]);
    checkGrad((a) => wg.qr(a)[0], [randomT([2, 4], 74)]);
    checkGrad((a) => wg.qr(a)[1], [randomT([2, 4], 75)]);
    checkGrad((a) => wg.qr(a, { mode: 'complete' })[1], [randomT([2, 3], 76)]);
    checkGrad((a) => { const [q, r] = wg.qr(a); return q.sum().add(r.sum()); }, [randomT([2, 3, 2], 77)]);
  });

  it('JVP agrees with VJP; second derivatives; float32', () => {
    checkJvpVjp((a) => wg.qr(a)[0], [randomT([4, 3], 78)]);
    checkJvpVjp((a) => wg.qr(a)[1], [randomT([2, 4, 3], 79)]);
    checkJvpVjp((a) => wg.qr(a)[0], [randomT([3, 5], 80)]);
    checkJvpVjp((a) => wg.qr(a)[1], [randomT([3, 5], 81)]);
    checkSecondOrder((a) => { const [q, r] = wg.qr(a); return q.sum().add(r.square().sum()); }, randomT([4, 3], 82));
    checkSecondOrder((a) => wg.qr(a)[1].sum(), randomT([2, 3], 83));
    wg.tidy(() => {
      const A = randomT([6, 4], 84);
      const [q32, r32] = wg.qr(A.to('float32')), [q64, r64] = wg.qr(A);
      expectClose(q32.toArray(), q64.toArray(), 0, 1e-5);
      expectClose(r32.toArray(), r64.toArray(), 0, 1e-5);
    });
  });
});

// ————————————————————————————————————————————————————————— solveTriangular

describe('solveTriangular', () => {
  const FLAGS: [boolean, boolean, boolean][] = [];
  for (const upper of [true, false]) for (const left of [true, false]) for (const unit of [false, true]) FLAGS.push([upper, left, unit]);

  it.each(FLAGS)('upper %s, left %s, unitriangular %s: equals substitution, other triangle never read', (upper, left, unit) => {
    wg.tidy(() => {
      const A = randomMats([2, 1, 5, 5], 90), B = randomT(left ? [3, 5, 6] : [3, 6, 5], 91);
      const X = wg.solveTriangular(A, B, { upper, left, unitriangular: unit });
      expect(X.shape).toEqual([2, 3, ...B.dims.slice(-2)]);
      const batch = [2, 3];
      for (let t = 0; t < 6; t++) {
        expectClose(matAt(X, batch, t), triSolveRef(matAt(A, batch, t), matAt(B, batch, t), upper, left, unit), 1e-12, 1e-13);
      }
      // garbage in the unread triangle (and on the diagonal when unitriangular) changes nothing
      const mask = wg.tensor(Array.from({ length: 25 }, (_, i) => {
        const r = Math.floor(i / 5), c = i % 5;
        return (upper ? c < r : c > r) || (unit && r === c) ? 1 : 0;
      }), { shape: [5, 5], dtype: 'float64' });
      const noisy = A.add(mask.mul(1e3));
      expect(wg.solveTriangular(noisy, B, { upper, left, unitriangular: unit }).toArray()).toEqual(X.toArray());
    });
  });

  it('gradients (only the read triangle gets one), JVP, second derivative, alias, float32', () => {
    for (const [upper, left, unit] of FLAGS) {
      checkGrad((a, b) => wg.solveTriangular(a, b, { upper, left, unitriangular: unit }),
        [randomMats([2, 3, 3], 92), randomT(left ? [3, 2] : [2, 3], 93)]);
      checkJvpVjp((a, b) => wg.solveTriangular(a, b, { upper, left, unitriangular: unit }),
        [randomMats([3, 3], 94), randomT(left ? [2, 3, 4] : [2, 4, 3], 95)]);
    }
    wg.tidy(() => {
      const g = wg.grad((a: Tensor) => wg.solveTriangular(a, f64([[1], [2]]), { upper: true }).sum())(f64([[2, 1], [5, 4]]));
      expect((g.toArray() as Mat)[1][0]).toBe(0);
      const b = randomT([3, 2], 96);
      checkSecondOrder((a) => wg.solveTriangular(a, b, { upper: false }).square().sum(), randomMats([3, 3], 97));
      expect(wg.triangularSolve).toBe(wg.solveTriangular);
      const A = randomMats([4, 4], 98), B = randomT([4, 3], 99);
      expectClose(wg.solveTriangular(A.to('float32'), B.to('float32'), { upper: true }).toArray(),
        wg.solveTriangular(A, B, { upper: true }).toArray(), 1e-5, 1e-6);
    });
  });
});

// ————————————————————————————————————————————————————————— diag, trace, outer

describe('diag, matrixTrace, outer', () => {
  it.each([0, 1, 2, -1, -3, 5])('diag of a [3, 4] matrix and of a vector, offset %i', (k) => {
    wg.tidy(() => {
      const x = randomT([3, 4], 100);
      const m = x.toArray() as Mat;
      const ref: number[] = [];
      for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) if (j - i === k) ref.push(m[i][j]);
      expect(wg.diag(x, k).toArray()).toEqual(ref);
      const v = randomT([3], 101);
      const N = 3 + Math.abs(k);
      const vs = v.toArray() as number[];
      const refM = Array.from({ length: N }, (_, i) => Array.from({ length: N }, (_, j) => (j - i === k ? vs[k >= 0 ? i : j] : 0)));
      expect(v.diag(k).toArray()).toEqual(refM);
      if (k < 4) checkGrad((a) => wg.diag(a, k), [randomT([3, 4], 102)]);
      checkGrad((a) => wg.diag(a, k), [randomT([3], 103)]);
    });
  });

  it('edge sizes: empty vectors and matrices, int tensors', () => {
    expect(wg.diag(wg.zeros([0])).shape).toEqual([0, 0]);
    expect(wg.diag(wg.zeros([0]), 2).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(wg.diag(wg.zeros([0, 3])).shape).toEqual([0]);
    expect(wg.diag(wg.tensor([[1, 2], [3, 4]], { dtype: 'int32' })).toArray()).toEqual([1, 4]);
    expect(wg.diag(wg.tensor([[1, 2], [3, 4]]), -1).toArray()).toEqual([3]);
  });

  it('matrixTrace (torch.trace) and Tensor.trace; gradient eye', () => {
    expect(wg.matrixTrace(f64([[1, 2, 3], [4, 5, 6]])).item()).toBe(6);
    expect(f64([[1, 2], [3, 4]]).trace().item()).toBe(5);
    expect(wg.matrixTrace(wg.zeros([0, 2])).item()).toBe(0);
    wg.tidy(() => {
      expect(wg.grad((x: Tensor) => wg.matrixTrace(x))(randomT([2, 3], 104)).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
      checkGrad((x) => wg.matrixTrace(x.square()), [randomT([3, 3], 105)]);
      checkJvpVjp((x) => wg.matrixTrace(x.square()), [randomT([3, 4], 106)]);
      checkJvpVjp((x) => wg.diag(x, 1), [randomT([4], 107)]);
      checkSecondOrder((x) => wg.matrixTrace(wg.matmul(x, x)), randomT([3, 3], 108));
    });
  });

  it('outer: forward, gradient, JVP, second derivative', () => {
    wg.tidy(() => {
      const a = randomT([3], 110), b = randomT([4], 111);
      const as = a.toArray() as number[], bs = b.toArray() as number[];
      expect(wg.outer(a, b).toArray()).toEqual(as.map((x) => bs.map((y) => x * y)));
      checkGrad((x, y) => wg.outer(x, y), [a, b]);
      checkJvpVjp((x, y) => wg.outer(x, y), [a, b]);
      checkSecondOrder((x) => wg.outer(x, x).square().sum(), a);
    });
  });
});

// ————————————————————————————————————————————————————————— norms

describe('norm, vectorNorm, matrixNorm', () => {
  const vecRef = (xs: number[], p: number): number => {
    const a = xs.map(Math.abs);
    if (p === Infinity) return Math.max(...a);
    if (p === -Infinity) return Math.min(...a);
    if (p === 0) return a.filter((v) => v !== 0).length;
    return a.reduce((s, v) => s + v ** p, 0) ** (1 / p);
  };

  it.each([2, 1, 3, 0.5, 0, Infinity, -Infinity, -1.5])('vector %s-norm over all elements and over one axis', (p) => {
    wg.tidy(() => {
      const x = randomT([3, 4], 120);
      const rows = x.toArray() as Mat;
      expectClose(wg.vectorNorm(x, p).item(), vecRef(rows.flat(), p), 1e-14, 1e-14);
      expectClose(wg.vectorNorm(x, p, { axes: -1 }).toArray(), rows.map((r) => vecRef(r, p)), 1e-14, 1e-14);
      expectClose(wg.norm(x, p, { axes: 1, keepdims: true }).toArray(), rows.map((r) => [vecRef(r, p)]), 1e-14, 1e-14);
      if (p !== 0) {
        checkGrad((t) => wg.vectorNorm(t, p, { axes: 0 }), [randomT([3, 4], 121)]);
        checkJvpVjp((t) => wg.norm(t, p, { axes: -1 }), [randomT([2, 5], 122)]);
      }
    });
  });

  it('torch.linalg.norm defaults: flattened 2-norm, Frobenius, and matrix orders', () => {
    wg.tidy(() => {
      const x = randomT([2, 3, 4], 123);
      const all = flat(x.toArray());
      expectClose(wg.norm(x).item(), Math.hypot(...all), 1e-14, 0);
      expect(wg.norm(x, null, { keepdims: true }).shape).toEqual([1, 1, 1]);
      const mats = matsOf(x);
      const absSums = (m: Mat, byRow: boolean) => (byRow ? m.map((r) => r.reduce((s, v) => s + Math.abs(v), 0))
        : m[0].map((_, j) => m.reduce((s, r) => s + Math.abs(r[j]), 0)));
      const cases: [number | 'fro', (m: Mat) => number][] = [
        ['fro', (m) => Math.hypot(...m.flat())],
        [1, (m) => Math.max(...absSums(m, false))], [-1, (m) => Math.min(...absSums(m, false))],
        [Infinity, (m) => Math.max(...absSums(m, true))], [-Infinity, (m) => Math.min(...absSums(m, true))],
      ];
      for (const [ord, ref] of cases) {
        expectClose(wg.matrixNorm(x, ord).toArray(), mats.map(ref), 1e-14, 1e-14);
        expectClose(wg.norm(x, ord, { axes: [-2, -1], keepdims: true }).toArray(), mats.map((m) => [[ref(m)]]), 1e-14, 1e-14);
        expectClose(wg.norm(x.select(0, 1), ord).item(), ref(mats[1]), 1e-14, 1e-14); // 2-D with ord, no axes
        checkGrad((t) => wg.matrixNorm(t, ord), [randomT([2, 3, 4], 124)]);
        checkJvpVjp((t) => wg.norm(t, ord, { axes: [0, 2] }), [randomT([3, 2, 4], 125)]);
      }
      expectClose(wg.norm(f64([3, 4])).item(), 5, 0, 0);
      expect(wg.norm(f64([[1, -2], [3, 4]]), 'fro').item()).toBe(Math.sqrt(30));
    });
  });

  it('the gradient at zero is the subgradient 0 (as PyTorch); second derivative; float32', () => {
    wg.tidy(() => {
      for (const p of [2, 1, 3, 0.5, 1.5, Infinity]) {
        const g = wg.grad((t: Tensor) => wg.vectorNorm(t, p))(wg.zeros([3], { dtype: 'float64' }));
        expect(g.toArray()).toEqual([0, 0, 0]);
      }
      // a zero entry in a nonzero vector: PyTorch's masked formulas give 0 there, finite elsewhere
      const g = wg.grad((t: Tensor) => wg.vectorNorm(t, 0.5))(f64([0, 4]));
      expect(g.toArray()).toEqual([0, 1]);
      expectClose(wg.grad((t: Tensor) => wg.norm(t))(f64([3, 4])).toArray(), [0.6, 0.8], 1e-15, 0);
      checkSecondOrder((t) => wg.norm(t), randomT([5], 126));
      checkSecondOrder((t) => wg.vectorNorm(t, 3), randomT([4], 127));
      const x = randomT([4, 5], 128);
      expectClose(wg.norm(x.to('float32')).item(), wg.norm(x).item(), 1e-6, 0);
      expectClose(wg.matrixNorm(x.to('float32'), 1).item(), wg.matrixNorm(x, 1).item(), 1e-6, 0);
    });
  });
});

// ————————————————————————————————————————————————————————— bad input

describe('bad input', () => {
  const sq = () => f64([[1, 2], [3, 4]]);
  const rect = () => f64([[1, 2, 3], [4, 5, 6]]);

  it('non-square matrices name the op and the shape', () => {
    expectError(() => wg.inv(rect()), wg.ShapeError, 'inv', '[2, 3]', 'not square');
    expectError(() => wg.det(rect()), wg.ShapeError, 'det', '[2, 3]', 'not square');
    expectError(() => wg.slogdet(rect()), wg.ShapeError, 'slogdet', '[2, 3]');
    expectError(() => wg.logdet(rect()), wg.ShapeError, 'logdet', '[2, 3]');
    expectError(() => wg.solve(rect(), f64([1, 2])), wg.ShapeError, 'solve', 'A of shape [2, 3]', 'not square');
    expectError(() => wg.cholesky(rect()), wg.ShapeError, 'cholesky', '[2, 3]', 'not square');
    expectError(() => wg.solveTriangular(rect(), sq(), { upper: true }), wg.ShapeError, 'solveTriangular', '[2, 3]');
    expectError(() => wg.inv(f64([1, 2])), wg.ShapeError, 'inv', '[2]', 'not a matrix');
    expectError(() => wg.qr(f64([1, 2])), wg.ShapeError, 'qr', '[2]', 'not a matrix');
  });

  it('shapes of A and B that do not fit', () => {
    expectError(() => wg.solve(sq(), f64([1, 2, 3])), wg.ShapeError, 'solve', '[2, 2] (A) and [3] (B)', 'A is 2×2, B has 3 elements');
    expectError(() => wg.solve(sq(), f64([[1], [2], [3]])), wg.ShapeError, 'solve', 'B has 3 rows');
    expectError(() => wg.solve(sq(), rect(), { left: false }), wg.ShapeError, 'solve', 'B has 3 columns');
    expectError(() => wg.solve(randomMats([2, 2, 2], 1), randomT([3, 2, 1], 2)), wg.ShapeError, 'solve', 'batch dims [2] and [3]');
    expectError(() => wg.solve(sq(), f64([1, 2]), { left: false }), wg.ValueError, 'solve', 'left=false');
    expectError(() => wg.solve(sq(), wg.tensor(1, { dtype: 'float64' })), wg.ShapeError, 'solve', 'rank-0');
    expectError(() => wg.solveTriangular(sq(), rect().reshape([3, 2]), { upper: true }), wg.ShapeError, 'solveTriangular', 'B has 3 rows');
    expectError(() => wg.solveTriangular(sq(), f64([1, 2]), { upper: true }), wg.ShapeError, 'solveTriangular', 'B of shape [2]');
    expectError(() => wg.solveTriangular(randomMats([2, 2, 2], 3), randomT([3, 2, 2], 4), { upper: false }), wg.ShapeError, 'batch dims [2] and [3]');
  });

  it('dtypes: ints and mixed float32 / float64', () => {
    const ints = wg.tensor([[1, 0], [0, 1]], { dtype: 'int32' });
    expectError(() => wg.inv(ints), wg.DTypeError, 'inv', 'int32', 'float32 or float64');
    expectError(() => wg.det(ints), wg.DTypeError, 'det', 'int32');
    expectError(() => wg.solve(sq(), wg.tensor([1, 2], { dtype: 'int32' })), wg.DTypeError, 'solve', 'B is a int32');
    expectError(() => wg.solve(sq(), wg.tensor([1, 2])), wg.DTypeError, 'solve', 'float64', 'float32');
    expectError(() => wg.solveTriangular(sq(), wg.tensor([[1], [2]]), { upper: true }), wg.DTypeError, 'solveTriangular');
    expectError(() => wg.norm(ints), wg.DTypeError, 'norm', 'int32');
  });

  it('singular matrices to solve and inv raise LinAlgError with the batch element', () => {
    let e = expectError(() => wg.solve(f64([[1, 2], [2, 4]]), f64([1, 1])), wg.LinAlgError,
      'solve: the solver failed because the input matrix A is singular', '[2, 2]');
    expect(e).toBeInstanceOf(wg.WasmgradError);
    const batch = f64([[[1, 0], [0, 1]], [[1, 2], [2, 4]], [[0, 0], [0, 0]]]);
    e = expectError(() => wg.solve(batch, f64([1, 1])), wg.LinAlgError, 'solve: (batch element 1): the solver failed');
    expect([(e as any).batch, (e as any).index]).toEqual([1, 2]);
    e = expectError(() => wg.inv(batch), wg.LinAlgError, 'inv: (batch element 1): the diagonal element 2 is zero',
      'input matrix is singular', '[3, 2, 2]');
    expectError(() => wg.inv(wg.zeros([3, 3], { dtype: 'float64' })), wg.LinAlgError, 'inv: the diagonal element 1 is zero');
    // inside a differentiated function too
    expectError(() => wg.grad((a: Tensor) => wg.inv(a).sum())(f64([[1, 1], [1, 1]])), wg.LinAlgError, 'inv');
  });

  it('cholesky of a matrix that is not positive-definite raises LinAlgError naming the minor', () => {
    expectError(() => wg.cholesky(f64([[1, 2], [2, 1]])), wg.LinAlgError,
      'cholesky: the factorization could not be completed because the input is not positive-definite',
      'leading minor of order 2');
    const e = expectError(() => wg.cholesky(f64([[[1, 0], [0, 1]], [[-1, 0], [0, 1]]]), { upper: true }), wg.LinAlgError,
      'cholesky: (batch element 1):', 'order 1');
    expect([(e as any).batch, (e as any).index]).toEqual([1, 1]);
    expectError(() => wg.cholesky(f64([[NaN]])), wg.LinAlgError, 'order 1');
  });

  it('options, modes and orders', () => {
    expectError(() => wg.qr(sq(), { mode: 'r' as any }), wg.ValueError, 'qr', "'reduced' or 'complete'", '"r"');
    expectError(() => wg.solveTriangular(sq(), sq(), {} as any), wg.ValueError, 'solveTriangular', 'upper');
    expectError(() => wg.matrixNorm(sq(), 3), wg.ValueError, 'matrixNorm', 'order 3 is not a matrix norm');
    expectError(() => wg.norm(sq(), 'fro', { axes: 0 }), wg.ValueError, 'norm', 'one axis');
    expectError(() => wg.norm(sq(), 'max' as any), wg.ValueError, 'norm', "'fro' or 'nuc'", '"max"');
    expectError(() => wg.norm(randomT([2, 2, 2], 5), 1), wg.ShapeError, 'norm', '1-D or 2-D', '[2, 2, 2]');
    expectError(() => wg.norm(sq(), 2, { axes: [0, 1, 0] }), wg.ValueError, 'norm');
    expectError(() => wg.norm(sq(), 2, { axes: 2 }), wg.AxisError, 'norm', 'axis 2');
    expectError(() => wg.matrixNorm(f64([1, 2])), wg.ShapeError, 'matrixNorm', '[2]');
    expectError(() => wg.vectorNorm(wg.zeros([0, 2], { dtype: 'float64' }), Infinity, { axes: 0 }), wg.ShapeError,
      'vectorNorm', 'inf norm', 'size 0');
    expectError(() => wg.diag(randomT([2, 2, 2], 6)), wg.ShapeError, 'diag', '[2, 2, 2]');
    expectError(() => wg.diag(sq(), 0.5), wg.ValueError, 'diag', 'offset');
    expectError(() => wg.matrixTrace(f64([1, 2])), wg.ShapeError, 'matrixTrace', '[2]');
  });

  it('qr in complete mode with m > n has no derivative (as in PyTorch)', () => {
    expectError(() => wg.grad((a: Tensor) => wg.qr(a, { mode: 'complete' })[0].sum())(randomT([3, 2], 7)),
      wg.NotDifferentiableError, "'qr'");
  });
});

// ————————————————————————————————————————————————————————— registry

describe('registry', () => {
  it('lists every linear-algebra op as an exported function and a Tensor method where it has one', () => {
    for (const entry of linalgOps) {
      expect(typeof (wg as any)[entry.name], entry.name).toBe('function');
      if (entry.aliasOf) expect((wg as any)[entry.name], entry.name).toBe((wg as any)[entry.aliasOf]);
      if (entry.method) expect(typeof (wg.tensor([1]) as any)[entry.method], entry.method).toBe('function');
      expect(entry.vjp && entry.jvp && entry.float32 && entry.float64, entry.name).toBe(true);
    }
  });
});
