// The linear-algebra ops (format: README.md): each entry is an exported function (and its Tensor
// method, if any), a wasm primitive (kernel + VJP + JVP in assembly/ops/linalg.ts) or a composite of
// differentiable ops. Matrices are diagonally dominant (x + n·I with |x| < 1), so they are
// well-conditioned with a positive determinant; symmetric positive definite ones are built
// inside f as m·mᵀ + n·I. Random matrices have distinct singular values and eigenvalues, where
// svd's and eigh's vector derivatives exist.

import * as wg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { OpStatus } from './types.js';
import { inputMaker, joined } from './inputs.js';

const { x64, offZero } = inputMaker(700);
const works = { vjp: true, jvp: true, float32: true, float64: true } as const;

/** [..., n, n] with values in (-1, 1) plus n on the diagonal. */
const dominant = (shape: number[]) => {
  const n = shape[shape.length - 1];
  return x64(shape).add(wg.eye(n, { dtype: 'float64' }).mul(n));
};
/** m·mᵀ + n·I: symmetric positive definite, for any m [..., n, n]. */
const spd = (m: Tensor) => wg.matmulT(m, m, { transB: true }).add(wg.eye(m.shape[m.rank - 1], { dtype: 'float64' }).mul(m.shape[m.rank - 1]));

export const linalgOps: OpStatus[] = [
  {
    name: 'solve', kind: 'primitive', ...works, method: 'solve',
    // batch dims broadcast: one B for both matrices
    make: () => ({ f: (a, b) => wg.solve(a, b), inputs: [dominant([2, 3, 3]), x64([3, 2])] }),
  },
  {
    name: 'inv', kind: 'composite', ...works, method: 'inv', notes: 'solve(A, I)',
    make: () => ({ f: (a) => wg.inv(a), inputs: [dominant([3, 3])] }),
  },
  {
    name: 'det', kind: 'primitive', ...works, method: 'det',
    make: () => ({ f: (a) => wg.det(a), inputs: [dominant([2, 3, 3])] }),
  },
  {
    name: 'slogdet', kind: 'primitive', ...works, method: 'slogdet', notes: 'logabsdet is the primitive; sign has no gradient',
    // the second matrix has its rows swapped: a negative determinant
    make: () => ({
      f: (a) => joined(...wg.slogdet(a.mul(wg.tensor([[[1]], [[-1]]], { dtype: 'float64' })))),
      inputs: [dominant([2, 3, 3])],
    }),
  },
  {
    name: 'logdet', kind: 'composite', ...works, method: 'logdet', notes: 'where(sign == -1, NaN, logabsdet)',
    make: () => ({ f: (a) => wg.logdet(a), inputs: [dominant([3, 3])] }),
  },
  {
    name: 'cholesky', kind: 'primitive', ...works, method: 'cholesky',
    make: () => ({ f: (m, n) => wg.cholesky(spd(m)).add(wg.cholesky(spd(n), { upper: true })), inputs: [x64([2, 3, 3]), x64([3, 3])] }),
  },
  {
    name: 'qr', kind: 'primitive', ...works, method: 'qr', notes: 'complete mode with m > n is not differentiable (as in PyTorch)',
    make: () => ({ f: (a, b) => joined(...wg.qr(a), ...wg.qr(b)), inputs: [x64([4, 3]), x64([2, 2, 3])] }),
  },
  {
    name: 'solveTriangular', kind: 'primitive', ...works, method: 'solveTriangular',
    make: () => ({
      f: (a, b, c) => wg.solveTriangular(a, b, { upper: true }).add(wg.solveTriangular(a, c, { upper: false, left: false }).t()),
      inputs: [dominant([3, 3]), x64([3, 2]), x64([2, 3])],
    }),
  },
  {
    name: 'triangularSolve', kind: 'primitive', ...works, aliasOf: 'solveTriangular',
    make: () => ({ f: (a, b) => wg.triangularSolve(a, b, { upper: false, unitriangular: true }), inputs: [x64([2, 3, 3]), x64([3, 4])] }),
  },
  {
    name: 'matrixTrace', kind: 'composite', ...works, method: 'trace', notes: 'torch.trace',
    make: () => ({ f: (x) => wg.matrixTrace(x), inputs: [x64([3, 4])] }),
  },
  {
    name: 'diag', kind: 'composite', ...works, method: 'diag',
    // a matrix's super-diagonal, and a vector onto a sub-diagonal
    make: () => ({ f: (m, v) => joined(wg.diag(m, 1), wg.diag(v, -1)), inputs: [x64([3, 4]), x64([3])] }),
  },
  {
    name: 'outer', kind: 'composite', ...works, method: 'outer', notes: 'on the matmul primitive (also in core.ts)',
    make: () => ({ f: (a, b) => wg.outer(a, b), inputs: [x64([2]), x64([3])] }),
  },
  {
    name: 'svd', kind: 'primitive', ...works, method: 'svd',
    notes: 'U, S, Vh; sign convention: the largest-magnitude entry of each column of U is positive. Vectors\' gradients are NaN where singular values repeat; a full U\'s extra columns get none (as PyTorch)',
    // tall (reduced), square (full, the default), wide and batched (reduced)
    make: () => ({
      f: (a, b, c) => joined(...wg.svd(a, { fullMatrices: false }), ...wg.svd(b), ...wg.svd(c, { fullMatrices: false })),
      inputs: [x64([4, 3]), x64([3, 3]), x64([2, 2, 3])],
    }),
  },
  {
    name: 'svdvals', kind: 'primitive', ...works, method: 'svdvals', notes: 'the svd op without U and V; its gradient U·diag(g)·Vh is defined everywhere',
    make: () => ({ f: (a, b) => joined(wg.svdvals(a), wg.svdvals(b)), inputs: [x64([2, 4, 3]), x64([2, 5])] }),
  },
  {
    name: 'eigh', kind: 'primitive', ...works, method: 'eigh',
    notes: 'reads one triangle (UPLO); sign convention: each eigenvector\'s largest-magnitude entry is positive. Vectors\' gradients are NaN where eigenvalues repeat',
    make: () => ({ f: (a, b) => joined(...wg.eigh(a), ...wg.eigh(b, { UPLO: 'U' })), inputs: [x64([4, 4]), x64([2, 3, 3])] }),
  },
  {
    name: 'eigvalsh', kind: 'primitive', ...works, method: 'eigvalsh', notes: 'the eigh op without vectors; its gradient is defined everywhere',
    make: () => ({ f: (a) => joined(wg.eigvalsh(a), wg.eigvalsh(a, { UPLO: 'U' })), inputs: [x64([2, 3, 3])] }),
  },
  {
    name: 'pinv', kind: 'primitive', ...works, method: 'pinv', notes: "PyTorch's atol / rtol defaults; the gradient is PyTorch's (constant rank)",
    make: () => ({
      f: (a, b) => joined(wg.pinv(a), wg.pinv(b, { hermitian: true })),
      inputs: [x64([2, 3, 4]), dominant([3, 3])],
    }),
  },
  {
    name: 'lstsq', kind: 'composite', ...works, method: 'lstsq', notes: "pinv(A)·B; driver 'gelsy' (default), 'gelsd', 'gelss', 'gels' with PyTorch's result shapes",
    make: () => ({
      f: (a, b) => { const r = wg.lstsq(a, b, { driver: 'gelsd' }); return joined(r.solution, r.residuals, r.singularValues); },
      inputs: [x64([5, 3]), x64([5, 2])],
    }),
  },
  {
    name: 'norm', kind: 'composite', ...works, method: 'norm', notes: "'nuc' and ±2 matrix norms through svdvals",
    make: () => ({
      f: (x, v) => wg.stack([wg.norm(x), wg.norm(v, 3), wg.norm(x, Infinity), wg.norm(x, 'nuc'), wg.norm(x, 2), wg.norm(x, -2)]),
      inputs: [offZero([3, 4]), offZero([4])],
    }),
  },
  {
    name: 'vectorNorm', kind: 'composite', ...works, method: 'vectorNorm',
    make: () => ({ f: (x) => wg.vectorNorm(x, 3, { axes: 0 }).add(wg.vectorNorm(x, 1.5, { axes: 0 })), inputs: [offZero([3, 4])] }),
  },
  {
    name: 'matrixNorm', kind: 'composite', ...works, method: 'matrixNorm', notes: "'nuc' and ±2 through svdvals",
    make: () => ({
      f: (x) => joined(wg.matrixNorm(x), wg.matrixNorm(x, 1), wg.matrixNorm(x, 'nuc'), wg.matrixNorm(x, 2),
        wg.matrixNorm(x, -2, { axes: [0, 2] })),
      inputs: [offZero([2, 3, 4])],
    }),
  },
];
