// The linear-algebra ops and their status, for the shared registry test: each entry is an
// exported function (and its Tensor method, if any), whether it is a wasm primitive (kernel +
// VJP + JVP in assembly/linalg.ts) or a composite of differentiable ops, and what works.

export interface OpStatus {
  name: string;
  kind: 'primitive' | 'composite';
  vjp: boolean;
  jvp: boolean;
  float32: boolean;
  float64: boolean;
  method?: string;
  aliases?: string[];
  notes?: string;
}

export const linalgOps: OpStatus[] = [
  { name: 'solve', kind: 'primitive', vjp: true, jvp: true, float32: true, float64: true, method: 'solve' },
  { name: 'inv', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true, method: 'inv', notes: 'solve(A, I)' },
  { name: 'det', kind: 'primitive', vjp: true, jvp: true, float32: true, float64: true, method: 'det' },
  { name: 'slogdet', kind: 'primitive', vjp: true, jvp: true, float32: true, float64: true, method: 'slogdet', notes: 'logabsdet is the primitive; sign has no gradient' },
  { name: 'logdet', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true, method: 'logdet', notes: 'where(sign == -1, NaN, logabsdet)' },
  { name: 'cholesky', kind: 'primitive', vjp: true, jvp: true, float32: true, float64: true, method: 'cholesky' },
  { name: 'qr', kind: 'primitive', vjp: true, jvp: true, float32: true, float64: true, method: 'qr', notes: "complete mode with m > n is not differentiable (as in PyTorch)" },
  { name: 'solveTriangular', kind: 'primitive', vjp: true, jvp: true, float32: true, float64: true, method: 'solveTriangular', aliases: ['triangularSolve'] },
  { name: 'matrixTrace', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true, method: 'trace', notes: 'torch.trace' },
  { name: 'diag', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true, method: 'diag' },
  { name: 'outer', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true, method: 'outer', notes: 'on the matmul primitive' },
  { name: 'norm', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true, method: 'norm', notes: "'nuc' and ±2 matrix norms (SVD) are not supported" },
  { name: 'vectorNorm', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true, method: 'vectorNorm' },
  { name: 'matrixNorm', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true, method: 'matrixNorm', notes: "'nuc' and ±2 (SVD) are not supported" },
];

export default linalgOps;
