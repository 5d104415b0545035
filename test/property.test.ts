// Property-based tests (fast-check, seeded): random shapes, axes and sizes, hostile ones included,
// over every op family. Each case either returns exactly what a plain JS reference computes, or
// throws a WasmgradError; after each case the live tensors and bytes are what they were, and the
// seed example is still exact. Values are small integers, so float32 sums and products are exact
// and the comparison can be bitwise.

import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { wg } from './helpers.js';
import type { Tensor } from '../src/index.js';

const SEED = 20261207;
fc.configureGlobal({ seed: SEED, numRuns: 150, endOnFailure: true });

beforeAll(async () => { await wg.init(); });

// ————————————————————————————————————————————————————————— references

const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
/** A size wasmgrad can hold: an integer from 0 to 2^31 − 1 (dims and counts are int32 in wasm, even where the product is 0). */
const isSize = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 2 ** 31 - 1;
const stridesOf = (s: readonly number[]): number[] => {
  const out = new Array(s.length).fill(1);
  for (let k = s.length - 2; k >= 0; k--) out[k] = out[k + 1] * s[k + 1];
  return out;
};
const unravel = (i: number, s: readonly number[]): number[] => {
  const idx = new Array(s.length);
  for (let k = s.length - 1; k >= 0; k--) { idx[k] = i % s[k]; i = Math.floor(i / s[k]); }
  return idx;
};
const ravel = (idx: readonly number[], s: readonly number[]): number => idx.reduce((a, v, k) => a * s[k] + v, 0);

/** NumPy broadcasting of two shapes, or undefined where they do not broadcast. */
function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const n = Math.max(a.length, b.length), out: number[] = [];
  for (let k = 0; k < n; k++) {
    const x = a[a.length - n + k] ?? 1, y = b[b.length - n + k] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

function broadcastRead(v: number[], s: readonly number[], out: readonly number[], idx: readonly number[]): number {
  const off = out.length - s.length;
  return v[ravel(s.map((d, k) => (d === 1 ? 0 : idx[k + off])), s)];
}

// ————————————————————————————————————————————————————————— generators

const dim = fc.integer({ min: 0, max: 4 });
const shape = (maxRank = 4) => fc.array(dim, { minLength: 0, maxLength: maxRank });
const valuesFor = (s: readonly number[], seed: number): number[] =>
  Array.from({ length: sizeOf(s) }, (_, i) => ((i * 7 + seed * 13) % 11) - 5);
/** Numbers a careless or hostile caller passes where a size or an axis belongs. */
const hostileNumber = fc.oneof(
  fc.constantFrom(-1, -7, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53, 2 ** 60, -(2 ** 31), 1.5, -0.5, NaN, Infinity, -Infinity, 1e300),
  fc.integer({ min: -20, max: 20 }),
);
const hostileValue = fc.oneof(hostileNumber, fc.constantFrom(null, undefined, 'a', {}, [], true, Symbol('s'), 10n));

// ————————————————————————————————————————————————————————— the harness

let checks = 0;
/**
 * Runs a case: `run` computes with wasmgrad (inside tidy) and returns what it wants compared;
 * `expected` is the reference, or undefined where the call must throw a WasmgradError.
 */
function check(run: () => unknown, expected: unknown): void {
  const before = wg.memory();
  let got: unknown, error: unknown;
  try { got = wg.tidy(() => run()); } catch (e) { error = e; }
  if (expected === undefined) {
    if (error === undefined) throw new Error(`expected a WasmgradError, got a result ${JSON.stringify(got)}`);
    if (!(error instanceof wg.WasmgradError)) throw error;
  } else {
    if (error !== undefined) throw error;
    expect(got).toEqual(expected);
  }
  const after = wg.memory();
  expect(after.liveTensors).toBe(before.liveTensors);
  expect(after.liveBytes).toBe(before.liveBytes);
  expect(after.scopeDepth).toBe(0);
  if (++checks % 25 === 0) seedStillExact();
}

function seedStillExact(): void {
  wg.tidy(() => {
    const f = (a: Tensor, b: Tensor) => a.mul(a.square().add(b.square()).mul(-0.5).exp());
    const [y, [g1, g2]] = wg.valueAndGrad(f, { argnums: [0, 1] })(wg.tensor(2, { dtype: 'float64' }), wg.tensor(0.5, { dtype: 'float64' }));
    const e = Math.exp(-2.125);
    expect(y.item()).toBe(2 * e);
    expect(g1.item()).toBe(e - 4 * e);
    expect(g2.item()).toBe(-2 * 0.5 * e);
  });
}

const T = (s: readonly number[], seed = 1) => wg.tensor(valuesFor(s, seed), { shape: [...s] });
const flat = (t: Tensor): number[] => Array.from(t.data() as Float32Array);

// ————————————————————————————————————————————————————————— properties

describe('property: elementwise broadcasting', () => {
  it('add, mul, sub, maximum agree with the reference or refuse incompatible shapes', () => {
    const ops = { add: (x: number, y: number) => x + y, mul: (x: number, y: number) => x * y, sub: (x: number, y: number) => x - y, maximum: Math.max };
    fc.assert(fc.property(shape(), shape(), fc.constantFrom(...Object.keys(ops)), fc.boolean(), (sa, sb, op, trimB) => {
      // Half the time make b a suffix of a, so most cases broadcast.
      const b = trimB ? sa.slice(Math.floor(sa.length / 2)).map((d, k) => (k % 2 ? 1 : d)) : sb;
      const out = broadcastShapes(sa, b);
      const va = valuesFor(sa, 1), vb = valuesFor(b, 2);
      const expected = out && { shape: out, data: Array.from({ length: sizeOf(out) }, (_, i) => {
        const idx = unravel(i, out);
        return Math.fround((ops as any)[op](broadcastRead(va, sa, out, idx), broadcastRead(vb, b, out, idx)));
      }) };
      check(() => { const r = (wg as any)[op](T(sa, 1), T(b, 2)) as Tensor; return { shape: r.shape, data: flat(r) }; }, expected);
    }));
  });
});

describe('property: reductions', () => {
  it('sum and amax over random axes (hostile ones included) with keepdims', () => {
    fc.assert(fc.property(shape(), fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), hostileNumber), { maxLength: 3 }), fc.boolean(), fc.constantFrom('sum', 'amax'),
      (s, axesIn, keepdims, op) => {
        const norm = axesIn.map((a) => (Number.isInteger(a) && a >= -s.length && a < s.length ? (a + s.length) % s.length : NaN));
        const valid = (s.length > 0 || axesIn.every((a) => a === 0 || a === -1)) && norm.every((a) => !Number.isNaN(a)) && new Set(norm).size === norm.length;
        const rank0 = s.length === 0;
        const axes = axesIn.length === 0 || rank0 ? [...s.keys()] : norm;
        const emptyMax = op === 'amax' && axes.some((a) => s[a] === 0) ;
        let expected: unknown;
        if (valid && !(rank0 && axesIn.length > 0 && !axesIn.every((a) => a === 0 || a === -1)) && !emptyMax && !(op === 'amax' && rank0 === false && axesIn.length === 0 && sizeOf(s) === 0)) {
          const v = valuesFor(s, 3);
          const outShape = s.map((d, k) => (axes.includes(k) ? 1 : d));
          const acc = new Array(sizeOf(outShape)).fill(op === 'sum' ? 0 : -Infinity);
          v.forEach((x, i) => {
            const idx = unravel(i, s).map((d, k) => (axes.includes(k) ? 0 : d));
            const o = ravel(idx, outShape);
            acc[o] = op === 'sum' ? acc[o] + x : Math.max(acc[o], x);
          });
          expected = { shape: keepdims ? outShape : s.filter((_, k) => !axes.includes(k)), data: acc.map(Math.fround) };
        }
        check(() => {
          const r = (wg as any)[op](T(s, 3), axesIn.length === 1 ? axesIn[0] : axesIn, { keepdims }) as Tensor;
          return { shape: r.shape, data: flat(r) };
        }, expected);
      }));
  });
});

describe('property: shapes', () => {
  it('reshape to random (and hostile) shapes: the same data, or an error', () => {
    fc.assert(fc.property(shape(), fc.array(fc.oneof(dim, fc.constant(-1), hostileNumber), { maxLength: 5 }), (s, target) => {
      const n = sizeOf(s);
      const minus = target.filter((d) => d === -1).length;
      const known = target.filter((d) => d !== -1);
      const fine = known.every((d) => Number.isInteger(d) && d >= 0) && minus <= 1;
      let expected: unknown;
      if (fine) {
        const p = sizeOf(known);
        if (minus === 0 && p === n) expected = target;
        if (minus === 1 && p > 0 && n % p === 0) expected = target.map((d) => (d === -1 ? n / p : d));
      }
      check(() => { const r = wg.reshape(T(s), target); expect(flat(r)).toEqual(valuesFor(s, 1).map(Math.fround)); return r.shape; }, expected);
    }));
  });

  it('permute by random (and broken) permutations moves every element where the reference does', () => {
    fc.assert(fc.property(shape(), fc.array(fc.oneof(fc.integer({ min: -4, max: 4 }), hostileNumber), { maxLength: 4 }), (s, perm) => {
      const norm = perm.map((p) => (Number.isInteger(p) && p >= -s.length && p < s.length ? (p + s.length) % s.length : NaN));
      const valid = perm.length === s.length && norm.every((p) => !Number.isNaN(p)) && new Set(norm).size === norm.length;
      let expected: unknown;
      if (valid) {
        const out = norm.map((p) => s[p]);
        const v = valuesFor(s, 4);
        expected = { shape: out, data: Array.from({ length: sizeOf(out) }, (_, i) => {
          const idx = unravel(i, out);
          const src = new Array(s.length);
          norm.forEach((p, k) => { src[p] = idx[k]; });
          return Math.fround(v[ravel(src, s)]);
        }) };
      }
      check(() => { const r = wg.permute(T(s, 4), perm); return { shape: r.shape, data: flat(r) }; }, expected);
    }));
  });

  it('narrow with random and hostile bounds', () => {
    fc.assert(fc.property(shape(3).filter((s) => s.length > 0), fc.integer({ min: -3, max: 3 }), fc.oneof(fc.integer({ min: -5, max: 5 }), hostileNumber), fc.oneof(fc.integer({ min: 0, max: 5 }), hostileNumber),
      (s, axis, start, length) => {
        const a = axis < 0 ? axis + s.length : axis;
        const st = Number.isInteger(start) && start < 0 ? start + s[a] : start;
        const valid = a >= 0 && a < s.length && Number.isInteger(start) && Number.isInteger(length) && st >= 0 && length >= 0 && st + length <= s[a];
        let expected: unknown;
        if (valid) {
          const out = s.map((d, k) => (k === a ? length : d));
          const v = valuesFor(s, 5);
          expected = { shape: out, data: Array.from({ length: sizeOf(out) }, (_, i) => {
            const idx = unravel(i, out);
            idx[a] += st;
            return Math.fround(v[ravel(idx, s)]);
          }) };
        }
        check(() => { const r = wg.narrow(T(s, 5), axis, start, length); return { shape: r.shape, data: flat(r) }; }, expected);
      }));
  });
});

describe('property: sizes', () => {
  it('zeros, ones, full, arange and linspace with hostile sizes: the right tensor or an error, never a crash', () => {
    fc.assert(fc.property(fc.array(fc.oneof(dim, hostileValue), { maxLength: 4 }), fc.constantFrom('zeros', 'ones'), (s, op) => {
      const valid = s.every(isSize) && sizeOf(s as number[]) <= 64;
      const big = s.every(isSize) && sizeOf(s as number[]) > 64;
      if (big) return; // a valid but large request is for the memory tests
      check(() => { const r = (wg as any)[op](s) as Tensor; return { shape: r.shape, data: flat(r) }; },
        valid ? { shape: s, data: new Array(sizeOf(s as number[])).fill(op === 'zeros' ? 0 : 1) } : undefined);
    }));
    // arange(end) as torch.arange: a finite end >= 0 (fractions included) gives 0, 1, … below it.
    fc.assert(fc.property(hostileValue, (n) => {
      const valid = typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 64;
      if (typeof n === 'number' && Number.isFinite(n) && n > 64 && n < 2 ** 31 - 1) return;
      check(() => flat(wg.arange(n as number)), valid ? Array.from({ length: Math.ceil(n as number) }, (_, i) => i) : undefined);
    }));
  });

  it('repeat, tile, repeatInterleave and oneHot with hostile counts: the reference or an error', () => {
    fc.assert(fc.property(shape(2), fc.array(fc.oneof(fc.integer({ min: 0, max: 3 }), hostileNumber), { minLength: 0, maxLength: 3 }), (s, reps) => {
      const valid = reps.length >= s.length && reps.every(isSize) && sizeOf(s) * sizeOf(reps) <= 4096;
      if (!valid && reps.length >= s.length && reps.every(isSize) && sizeOf(reps) * Math.max(1, sizeOf(s)) < 2 ** 24) return;
      let expected: unknown;
      if (valid) {
        const full = [...new Array(reps.length - s.length).fill(1), ...s];
        const out = full.map((d, k) => d * reps[k]);
        const v = valuesFor(s, 6);
        expected = { shape: out, data: Array.from({ length: sizeOf(out) }, (_, i) => Math.fround(v[ravel(unravel(i, out).map((x, k) => x % full[k]), full)])) };
      }
      check(() => { const r = wg.repeat(T(s, 6), reps); return { shape: r.shape, data: flat(r) }; }, expected);
    }));
    const hostileIndex = fc.constantFrom(-1, -7, 2 ** 31 - 1, -(2 ** 31));
    fc.assert(fc.property(fc.oneof(fc.integer({ min: 0, max: 4 }), hostileIndex), fc.oneof(fc.integer({ min: -1, max: 6 }), hostileNumber), (index, classes) => {
      const valid = Number.isInteger(index) && index >= 0 && index < 2 ** 31 && Number.isInteger(classes) &&
        (classes === -1 ? true : classes > index) && (classes === -1 ? index + 1 : classes) <= 64;
      const n = classes === -1 ? index + 1 : classes;
      if (!valid && Number.isInteger(index) && index >= 0 && Number.isInteger(classes) && (classes === -1 || classes > index) && n > 64 && n < 2 ** 24) return;
      check(() => {
        const r = wg.oneHot(wg.tensor([index], { dtype: 'int32' }), classes);
        return { shape: r.shape, data: Array.from(r.data() as Int32Array) };
      }, valid ? { shape: [1, n], data: Array.from({ length: n }, (_, k) => (k === index ? 1 : 0)) } : undefined);
    }));
  });

  it('conv2d and maxPool2d geometry: PyTorch output sizes or an error', () => {
    const geometry = fc.record({
      h: fc.integer({ min: 1, max: 6 }), w: fc.integer({ min: 1, max: 6 }), k: fc.integer({ min: 1, max: 3 }),
      stride: fc.oneof(fc.integer({ min: 1, max: 3 }), hostileNumber), padding: fc.oneof(fc.integer({ min: 0, max: 2 }), hostileNumber),
      dilation: fc.oneof(fc.integer({ min: 1, max: 2 }), hostileNumber),
    });
    fc.assert(fc.property(geometry, ({ h, w, k, stride, padding, dilation }) => {
      const ints = [stride, padding, dilation].every(Number.isInteger);
      const out = (n: number) => Math.floor((n + 2 * padding - dilation * (k - 1) - 1) / stride) + 1;
      const valid = ints && stride >= 1 && padding >= 0 && dilation >= 1 && out(h) >= 1 && out(w) >= 1 && padding < 2 ** 20 && stride < 2 ** 20 && dilation < 2 ** 20;
      if (!valid && ints && stride >= 1 && padding >= 0 && dilation >= 1 && out(h) >= 1 && out(w) >= 1) return; // large but valid: memory tests
      check(() => wg.conv2d(T([1, 1, h, w], 7), wg.ones([2, 1, k, k]), null, { stride, padding, dilation }).shape,
        valid ? [1, 2, out(h), out(w)] : undefined);
    }));
  });
});

describe('property: matmul', () => {
  it('random (and mismatched) shapes: the reference product or a ShapeError', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), (m, k, k2, n) => {
      const a = valuesFor([m, k], 8), b = valuesFor([k2, n], 9);
      const expected = k !== k2 ? undefined : { shape: [m, n], data: Array.from({ length: m * n }, (_, i) => {
        const r = Math.floor(i / n), c = i % n;
        let s = 0;
        for (let j = 0; j < k; j++) s += a[r * k + j] * b[j * n + c];
        return Math.fround(s);
      }) };
      check(() => { const r = wg.matmul(T([m, k], 8), T([k2, n], 9)); return { shape: r.shape, data: flat(r) }; }, expected);
    }));
  });
});

describe('property: wrong types anywhere', () => {
  it('a hostile value in any argument position of common ops is a WasmgradError, never a TypeError', () => {
    const calls: [string, (v: any) => unknown][] = [
      ['sum axes', (v) => wg.sum(T([2, 3]), v)],
      ['mean x', (v) => wg.mean(v)],
      ['reshape shape', (v) => wg.reshape(T([2, 3]), v)],
      ['zeros shape', (v) => wg.zeros(v)],
      ['tensor data', (v) => wg.tensor(v)],
      ['tensor options', (v) => wg.tensor([1], v)],
      ['transpose dims', (v) => wg.transpose(T([2, 3]), v, 0)],
      ['add b', (v) => wg.add(T([2]), v)],
      ['matmul b', (v) => wg.matmul(T([2, 2]), v)],
      ['softmax axis', (v) => wg.softmax(T([2, 3]), v)],
      ['gather index', (v) => wg.gather(T([2, 3]), 1, v)],
      ['cat tensors', (v) => wg.concat(v)],
      ['unsqueeze axis', (v) => wg.unsqueeze(T([2]), v)],
    ];
    fc.assert(fc.property(fc.constantFrom(...calls), hostileValue, ([, call], v) => {
      const before = wg.memory().liveTensors;
      try { wg.tidy(() => { call(v); }); } catch (e) {
        if (!(e instanceof wg.WasmgradError)) throw e;
      }
      expect(wg.memory().liveTensors).toBe(before);
    }), { numRuns: 300 });
    seedStillExact();
  });
});
