// The linear-algebra ops (format: README.md): each entry is an exported function (and its Tensor
// method, if any), a wasm primitive (kernel + VJP + JVP in assembly/ops/linalg.ts) or a composite of
// differentiable ops. Matrices are diagonally dominant (x + n·I with |x| < 1), so they are
// well-conditioned with a positive determinant; symmetric positive definite ones are built
// inside f as m·mᵀ + n·I.

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
    name: 'norm', kind: 'composite', ...works, method: 'norm', notes: "'nuc' and ±2 matrix norms (SVD) are not supported",
    make: () => ({
      f: (x, v) => wg.stack([wg.norm(x), wg.norm(v, 3), wg.norm(x, Infinity)]),
      inputs: [offZero([3, 4]), offZero([4])],
    }),
  },
  {
    name: 'vectorNorm', kind: 'composite', ...works, method: 'vectorNorm',
    make: () => ({ f: (x) => wg.vectorNorm(x, 3, { axes: 0 }).add(wg.vectorNorm(x, 1.5, { axes: 0 })), inputs: [offZero([3, 4])] }),
  },
  {
    name: 'matrixNorm', kind: 'composite', ...works, method: 'matrixNorm', notes: "'nuc' and ±2 (SVD) are not supported",
    make: () => ({ f: (x) => wg.matrixNorm(x).add(wg.matrixNorm(x, 1)), inputs: [offZero([2, 3, 4])] }),
  },
];
