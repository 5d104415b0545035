// The matmul kernels path by path: the packed, cache-blocked micro-kernel and the direct
// (unpacked) kernels for small and skinny shapes, forced in turn through the runtime's test hook,
// each against a plain sequential-k reference with exact equality: every tile remainder, block
// boundaries, all four transpose forms, batches with broadcast, float32 and float64, and the
// bit identity of the two paths. Nothing here times anything.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { wg, uniform, matmulReference, expectSameBits } from './helpers.js';
import { wasm } from '../src/runtime.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });
afterEach(() => { wasm.setMatmulPath(0); });

type DT = 'float32' | 'float64';
const PATHS = [['auto', 0], ['direct', 1], ['packed', 2]] as const;
const FORMS = [[false, false], [true, false], [false, true], [true, true]] as const;
const formName = (tA: boolean, tB: boolean) => `${tA ? 'Aᵀ' : 'A'}·${tB ? 'Bᵀ' : 'B'}`;


/** Random values in [-1, 1), rounded to float32 when the tensor is float32. */
function values(count: number, seed: number, dtype: DT): Float64Array {
  const v = Float64Array.from(uniform(count, -1, 1, seed));
  return dtype === 'float32' ? v.map(Math.fround) : v;
}

const data = (t: Tensor): Float64Array => Float64Array.from(t.data() as ArrayLike<number>);

/** Runs op(A)·op(B) for one (m, k, n) under every path and compares with the reference. */
function checkShape(m: number, k: number, n: number, dtype: DT, transA: boolean, transB: boolean, seed: number): void {
  const av = values(m * k, seed, dtype), bv = values(k * n, seed + 1, dtype);
  const ref = matmulReference(av, bv, m, k, n, transA, transB, dtype === 'float32');
  const what = `${dtype} ${formName(transA, transB)} (M, K, N) = (${m}, ${k}, ${n})`;
  wg.tidy(() => {
    const a = wg.tensor(av, { shape: transA ? [k, m] : [m, k], dtype });
    const b = wg.tensor(bv, { shape: transB ? [n, k] : [k, n], dtype });
    for (const [path, mode] of PATHS) {
      wasm.setMatmulPath(mode);
      const c = wg.matmulT(a, b, { transA, transB });
      expect(c.shape).toEqual([m, n]);
      expectSameBits(data(c), ref, `${what}, ${path} path`);
    }
  });
}

// (M, K, N): the brief's combinations, sizes 1, 3, 17, 65, and shapes crossing every block edge.
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [3, 17, 65], [65, 3, 17], [17, 65, 3], [129, 257, 33],
  [1, 65, 17], [17, 1, 65], [65, 17, 1], [3, 3, 3], [17, 17, 17], [65, 65, 65],
  [1, 300, 40], [40, 300, 1], [2, 9, 31], [31, 9, 2],
  [130, 20, 70], // two M blocks in float32 (MC = 128), three in float64 (MC = 64)
  [5, 600, 9], // three K blocks (KC = 256) continue the chains stored in C
  [9, 7, 1030], // two N blocks in float32 (NC = 1024), three in float64 (NC = 512)
];

describe('matmul kernels: out of memory', () => {
  it('a packing buffer that does not fit is an OutOfMemoryError, and the runtime goes on', () => {
    // first in the file, while no packing buffer has been allocated yet
    // 1×256 · 256×1024 packs B into about 1 MiB while C is 4 KiB: leave room for C only.
    const a = wg.rand([1, 256]), b = wg.rand([256, 1024]);
    const limit = wasm.getPageLimit();
    wasm.setPageLimit(0); // clamps to the current memory size
    const filler = wg.zeros([Math.max(0, Math.floor((wasm.availableBytes() - 256 * 1024) / 4))]);
    wasm.setMatmulPath(2);
    try {
      expect(() => wg.matmul(a, b)).toThrow(wg.OutOfMemoryError);
      expect(() => wg.matmul(a, b)).toThrow(/^matmul: out of memory: requested \d+ bytes/);
    } finally {
      filler.dispose();
      wasm.setPageLimit(limit);
    }
    const c = wg.matmul(a, b);
    expectSameBits(data(c), matmulReference(data(a), data(b), 1, 256, 1024, false, false, true), 'after the failure');
    wg.dispose([a, b, c]);
  });
});

describe('matmul kernels: each path equals the sequential-k reference exactly', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [tA, tB] of FORMS) {
      it(`${dtype} ${formName(tA, tB)}: every tile remainder (M mod 4, N mod the tile width)`, () => {
        // M = 1..9 covers every row remainder; N = 1..17 every column remainder of the 8- and
        // 4-wide tiles and of the single vector; K = 5 and 11 are no multiple of a vector.
        let seed = 100;
        for (let m = 1; m <= 9; m++) {
          for (let n = 1; n <= 17; n++) checkShape(m, m % 2 ? 5 : 11, n, dtype, tA, tB, seed++);
        }
      });

      it.each(SHAPES)(`${dtype} ${formName(tA, tB)}: (M, K, N) = (%i, %i, %i)`, (m, k, n) => {
        checkShape(m, k, n, dtype, tA, tB, m * 7 + k * 11 + n);
      });
    }
  }
});

describe('matmul kernels: direct and packed paths give the same bits', () => {
  it.each(['float32', 'float64'] as const)('%s: square and skinny shapes, all forms, with zeros of both signs and Inf', (dtype) => {
    const shapes: [number, number, number][] = [[16, 16, 16], [33, 70, 20], [64, 64, 64], [1, 100, 50], [50, 100, 1], [7, 300, 5]];
    let seed = 500;
    for (const [m, k, n] of shapes) {
      for (const [tA, tB] of FORMS) {
        const av = values(m * k, seed++, dtype), bv = values(k * n, seed++, dtype);
        // a row of A and a column of B whose products are all -0: the chain from +0 keeps +0
        for (let q = 0; q < k; q++) { av[tA ? q * m : q] = -0; bv[tB ? q : q * n] = 0; }
        if (m > 1 && n > 1) av[tA ? m + 1 : k + 1] = Infinity; // one Inf, so one NaN in C (Inf·±x, Inf + -Inf)
        const out = wg.tidy(() => {
          const a = wg.tensor(av, { shape: tA ? [k, m] : [m, k], dtype });
          const b = wg.tensor(bv, { shape: tB ? [n, k] : [k, n], dtype });
          return [1, 2].map((mode) => { wasm.setMatmulPath(mode); return data(wg.matmulT(a, b, { transA: tA, transB: tB })); });
        });
        const what = `${dtype} ${formName(tA, tB)} (${m}, ${k}, ${n})`;
        expectSameBits(out[1], out[0], `${what}: packed vs direct`);
        expect(Object.is(out[0][0], 0), `${what}: C[0, 0] is +0`).toBe(true);
        expectSameBits(out[0], matmulReference(av, bv, m, k, n, tA, tB, dtype === 'float32'), `${what}: direct vs reference`);
      }
    }
  });
});

describe('matmul kernels: batches with broadcast, zero sizes', () => {
  /** Broadcast batched product checked matrix by matrix against the reference. */
  function checkBatched(batchA: number[], batchB: number[], m: number, k: number, n: number, tA: boolean, tB: boolean, dtype: DT) {
    const nb = Math.max(batchA.length, batchB.length);
    const pad = (s: number[]) => [...Array(nb - s.length).fill(1), ...s];
    const pa = pad(batchA), pb = pad(batchB);
    const batch = pa.map((d, i) => Math.max(d, pb[i]));
    const matA = m * k, matB = k * n;
    const countA = batchA.reduce((x, y) => x * y, 1), countB = batchB.reduce((x, y) => x * y, 1);
    const av = values(countA * matA, 900 + m, dtype), bv = values(countB * matB, 901 + n, dtype);
    const total = batch.reduce((x, y) => x * y, 1);
    const expected: number[] = [];
    for (let t = 0; t < total; t++) {
      let rem = t, offA = 0, offB = 0, strideA = 1, strideB = 1;
      for (let d = nb - 1; d >= 0; d--) {
        const i = rem % batch[d]; rem = Math.floor(rem / batch[d]);
        if (pa[d] !== 1) offA += i * strideA;
        if (pb[d] !== 1) offB += i * strideB;
        strideA *= pa[d]; strideB *= pb[d];
      }
      expected.push(...matmulReference(av.subarray(offA * matA, (offA + 1) * matA), bv.subarray(offB * matB, (offB + 1) * matB),
        m, k, n, tA, tB, dtype === 'float32'));
    }
    wg.tidy(() => {
      const a = wg.tensor(av, { shape: [...batchA, ...(tA ? [k, m] : [m, k])], dtype });
      const b = wg.tensor(bv, { shape: [...batchB, ...(tB ? [n, k] : [k, n])], dtype });
      for (const [path, mode] of PATHS) {
        wasm.setMatmulPath(mode);
        const c = wg.matmulT(a, b, { transA: tA, transB: tB });
        expect(c.shape).toEqual([...batch, m, n]);
        expectSameBits(data(c), expected, `${dtype} ${formName(tA, tB)} [${batchA}]·[${batchB}] (${m}, ${k}, ${n}), ${path} path`);
      }
    });
  }

  for (const dtype of ['float32', 'float64'] as const) {
    for (const [tA, tB] of FORMS) {
      it(`${dtype} ${formName(tA, tB)}: batch dims [2, 1] · [3] and [4] · [] (B shared)`, () => {
        checkBatched([2, 1], [3], 5, 6, 9, tA, tB, dtype); // small matrices
        checkBatched([2, 1], [3], 19, 40, 21, tA, tB, dtype); // packed by default
        checkBatched([4], [], 3, 17, 65, tA, tB, dtype);
        checkBatched([], [3], 65, 3, 17, tA, tB, dtype);
      });
    }
  }

  it.each(['float32', 'float64'] as const)('%s: M, N or K = 0 on every path (K = 0 gives zeros)', (dtype) => {
    for (const [, mode] of PATHS) {
      wasm.setMatmulPath(mode);
      for (const [tA, tB] of FORMS) {
        const mk = (rows: number, cols: number, t: boolean) => wg.full(t ? [cols, rows] : [rows, cols], 3, { dtype });
        wg.tidy(() => {
          expect(wg.matmulT(mk(0, 4, tA), mk(4, 5, tB), { transA: tA, transB: tB }).shape).toEqual([0, 5]);
          expect(wg.matmulT(mk(3, 4, tA), mk(4, 0, tB), { transA: tA, transB: tB }).shape).toEqual([3, 0]);
          // large enough for the packed path when K is not 0, and written over stale memory
          wg.full([40, 40], 7, { dtype }).dispose();
          const c = wg.matmulT(mk(20, 0, tA), mk(0, 20, tB), { transA: tA, transB: tB });
          expect(c.shape).toEqual([20, 20]);
          expect(Array.from(c.data() as ArrayLike<number>).every((x) => Object.is(x, 0))).toBe(true);
        });
      }
    }
  });
});
