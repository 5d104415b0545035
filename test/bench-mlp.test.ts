// The benchmark's wasmgrad MLP training step (bench/lib/mlp.mjs) against a plain float64
// JavaScript forward pass and hand-written backpropagation: same loss, same updated params.

import { describe, it, expect, beforeAll } from 'vitest';
import * as wg from '../src/index.js';
import { uniform } from './helpers.js';
// @ts-expect-error: a plain ES module of the benchmark, without type declarations
import { sgdStep } from '../bench/lib/mlp.mjs';

type Matrix = number[][];

const matrix = (rows: number, cols: number, seed: number, lo = -1, hi = 1): Matrix => {
  const v = uniform(rows * cols, lo, hi, seed);
  return Array.from({ length: rows }, (_, i) => v.slice(i * cols, (i + 1) * cols));
};
const matmul = (a: Matrix, b: Matrix): Matrix =>
  a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const transpose = (a: Matrix): Matrix => a[0].map((_, j) => a.map((row) => row[j]));
const addRow = (a: Matrix, b: number[]): Matrix => a.map((row) => row.map((v, j) => v + b[j]));
const colSums = (a: Matrix): number[] => a[0].map((_, j) => a.reduce((s, row) => s + row[j], 0));

/** Loss and gradients of mean softmax cross-entropy of a relu MLP, by hand. */
function reference(x: Matrix, y: Matrix, w: Matrix[], b: number[][]) {
  const zs: Matrix[] = [];
  const hs: Matrix[] = [x];
  for (let k = 0; k < w.length; k++) {
    const z = addRow(matmul(hs[k], w[k]), b[k]);
    zs.push(z);
    hs.push(k < w.length - 1 ? z.map((r) => r.map((v) => Math.max(v, 0))) : z);
  }
  const logits = zs[zs.length - 1];
  const batch = x.length;
  let loss = 0;
  let dz: Matrix = logits.map((row, i) => {
    const m = Math.max(...row);
    const s = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
    const lse = m + Math.log(s);
    loss += (lse - row.reduce((acc, v, j) => acc + v * y[i][j], 0)) / batch;
    return row.map((v, j) => (Math.exp(v - lse) - y[i][j]) / batch);
  });
  const gw: Matrix[] = [], gb: number[][] = [];
  for (let k = w.length - 1; k >= 0; k--) {
    gw[k] = matmul(transpose(hs[k]), dz);
    gb[k] = colSums(dz);
    if (k > 0) dz = matmul(dz, transpose(w[k])).map((row, i) => row.map((v, j) => (zs[k - 1][i][j] > 0 ? v : 0)));
  }
  return { loss, gw, gb };
}

describe('bench: the wasmgrad MLP training step', () => {
  beforeAll(async () => { await wg.init(); });

  it('gives the loss and SGD update of a plain float64 computation', () => {
    const sizes = [6, 5, 4, 3], batch = 4, lr = 0.3;
    const x = matrix(batch, sizes[0], 1);
    const y = Array.from({ length: batch }, (_, i) => sizes.slice(-1).flatMap((c) => Array.from({ length: c }, (_, j) => (j === (i * 2) % c ? 1 : 0))));
    const w = sizes.slice(1).map((n, k) => matrix(sizes[k], n, 10 + k));
    const b = sizes.slice(1).map((n, k) => uniform(n, -0.5, 0.5, 20 + k));
    const ref = reference(x, y, w, b);

    const t = (m: number[] | Matrix) => wg.tensor(m as number[][], { dtype: 'float64' });
    const params: Record<string, wg.Tensor> = {};
    w.forEach((m, k) => { params[`w${k + 1}`] = t(m); params[`b${k + 1}`] = t(b[k]); });
    const before = wg.memory().liveTensors;
    const { loss, params: next } = sgdStep(wg, t(x), t(y), lr)(params);

    expect(loss.item()).toBeCloseTo(ref.loss, 12);
    w.forEach((m, k) => {
      const nw = next[`w${k + 1}`].toArray() as Matrix;
      const nb = next[`b${k + 1}`].toArray() as number[];
      m.forEach((row, i) => row.forEach((v, j) => expect(nw[i][j]).toBeCloseTo(v - lr * ref.gw[k][i][j], 12)));
      b[k].forEach((v, j) => expect(nb[j]).toBeCloseTo(v - lr * ref.gb[k][j], 12));
    });
    // the step leaves only what it returns (loss and the new params) alive, plus x and y
    expect(wg.memory().liveTensors).toBe(before + 2 + 1 + Object.keys(params).length);
  });
});
