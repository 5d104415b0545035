// Attention: scaledDotProductAttention and multiHeadAttention against plain JS loops over
// PyTorch's definitions; masks (bool and float, both conventions), the causal flag, fully
// masked rows, dropout; gradients by finite differences; JVP against VJP; a Hessian-vector
// product; float32 vs float64; errors.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, uniform, size, flat, expectError } from './helpers.js';
import type { Tensor, SdpaOptions } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

interface Dense { data: number[]; shape: number[] }
const dense = (shape: number[], seed: number, scale = 1): Dense => ({ data: uniform(size(shape), -scale, scale, seed), shape });
const toT = (d: Dense, dtype: 'float32' | 'float64' = 'float64'): Tensor => wg.tensor(d.data, { shape: d.shape, dtype });
const boolT = (d: Dense): Tensor => wg.tensor(d.data.map((v) => v !== 0), { shape: d.shape });

/** d broadcast to `shape` (NumPy rules), as a flat row-major list. */
function expand(d: Dense, shape: number[]): number[] {
  const r = shape.length, pad = [...new Array(r - d.shape.length).fill(1), ...d.shape];
  const out: number[] = [];
  const idx = new Array(r).fill(0);
  for (let t = 0; t < size(shape); t++) {
    let rem = t;
    for (let k = r - 1; k >= 0; k--) { idx[k] = rem % shape[k]; rem = Math.floor(rem / shape[k]); }
    let off = 0;
    for (let k = 0; k < r; k++) off = off * pad[k] + (pad[k] === 1 ? 0 : idx[k]);
    out.push(d.data[off]);
  }
  return out;
}

/** softmax of one row; `safe`: an all −inf row gives zeros (PyTorch's _safe_softmax), else NaN. */
function softmaxRow(s: number[], safe: boolean): number[] {
  if (s.every((v) => v === -Infinity)) return s.map(() => (safe ? 0 : NaN));
  const m = Math.max(...s);
  const e = s.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

interface SdpaRef { mask?: Dense; maskBool?: boolean; causal?: boolean; scale?: number }

/** scaled_dot_product_attention by loops, batch dims broadcast. */
function refSdpa(q: Dense, k: Dense, v: Dense, o: SdpaRef = {}): Dense {
  const L = q.shape.at(-2)!, E = q.shape.at(-1)!, S = k.shape.at(-2)!, Ev = v.shape.at(-1)!;
  const bshape = (d: Dense) => d.shape.slice(0, -2);
  const r = Math.max(bshape(q).length, bshape(k).length, bshape(v).length);
  const padB = (s: number[]) => [...new Array(r - s.length).fill(1), ...s];
  const batch = padB(bshape(q)).map((_, i) => Math.max(padB(bshape(q))[i], padB(bshape(k))[i], padB(bshape(v))[i]));
  const B = size(batch);
  const qf = expand(q, [...batch, L, E]), kf = expand(k, [...batch, S, E]), vf = expand(v, [...batch, S, Ev]);
  const mf = o.mask ? expand(o.mask, [...batch, L, S]) : undefined;
  const scale = o.scale ?? 1 / Math.sqrt(E);
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < L; i++) {
      const s: number[] = [];
      for (let j = 0; j < S; j++) {
        let dot = 0;
        for (let e = 0; e < E; e++) dot += qf[(b * L + i) * E + e] * kf[(b * S + j) * E + e];
        let bias = 0;
        if (o.causal && j > i) bias = -Infinity;
        if (mf) { const m = mf[(b * L + i) * S + j]; bias = o.maskBool ? (m ? 0 : -Infinity) : m; }
        s.push(dot * scale + bias);
      }
      const p = softmaxRow(s, true);
      for (let c = 0; c < Ev; c++) {
        let acc = 0;
        for (let j = 0; j < S; j++) acc += p[j] * vf[(b * S + j) * Ev + c];
        out.push(acc);
      }
    }
  }
  return { data: out, shape: [...batch, L, Ev] };
}

/** <v, J·u> against <Jᵀ·v, u> for f of several float64 inputs returning one tensor. */
function checkJvpVjp(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], seed = 500): void {
  const us = xs.map((t, i) => wg.tensor(uniform(t.numel(), -1, 1, seed + i), { shape: t.shape, dtype: 'float64' }));
  const [y, ydot] = wg.jvp(f, xs, us) as [Tensor, Tensor];
  const v = wg.tensor(uniform(y.numel(), -1, 1, seed - 1), { shape: y.shape, dtype: 'float64' });
  const lhs = ydot.mul(v).sum().item() as number;
  const [, gs] = wg.valueAndGrad((...a: Tensor[]) => f(...a).mul(v).sum(), { argnums: xs.map((_, i) => i) })(...xs);
  const rhs = (gs as Tensor[]).reduce((acc, g, i) => acc + (g.mul(us[i]).sum().item() as number), 0);
  expectClose(lhs, rhs, 1e-10, 1e-12);
}

/** H·u by forward over reverse and by reverse over reverse, against differences of the gradient. */
function checkHvp(loss: (...xs: Tensor[]) => Tensor, xs: Tensor[], seed = 600): void {
  const argnums = xs.map((_, i) => i);
  const us = xs.map((t, i) => wg.tensor(uniform(t.numel(), -1, 1, seed + i), { shape: t.shape, dtype: 'float64' }));
  const g = (...a: Tensor[]) => wg.grad(loss, { argnums })(...a) as Tensor[];
  const [, hv] = wg.jvp(g, xs, us) as [Tensor[], Tensor[]];
  const eps = 1e-5;
  const plus = g(...xs.map((x, i) => x.add(us[i].mul(eps)))), minus = g(...xs.map((x, i) => x.sub(us[i].mul(eps))));
  xs.forEach((_, i) => {
    const m = flat(minus[i].toArray());
    expectClose(hv[i].toArray(), flat(plus[i].toArray()).map((p, j) => (p - m[j]) / (2 * eps)), 1e-6, 1e-7);
  });
  const dir = (...a: Tensor[]) => g(...a).reduce((acc: Tensor, gi, i) => acc.add(gi.mul(us[i]).sum()), wg.tensor(0, { dtype: 'float64' }));
  const hu = wg.grad(dir, { argnums })(...xs) as Tensor[];
  xs.forEach((_, i) => expectClose(hu[i].toArray(), hv[i].toArray(), 1e-9, 1e-10));
}


describe('scaledDotProductAttention', () => {
  const q = dense([2, 3, 4], 1), k = dense([2, 5, 4], 2), v = dense([2, 5, 6], 3);
  const boolMask = dense([3, 5], 4); // > 0 takes part
  boolMask.data = boolMask.data.map((x, i) => (x > 0 || i % 5 === 0 ? 1 : 0));

  const cases: [string, Dense, Dense, Dense, SdpaRef, (x: Tensor[]) => Tensor][] = [
    ['no mask', q, k, v, {}, ([a, b, c]) => wg.scaledDotProductAttention(a, b, c)],
    ['explicit scale', q, k, v, { scale: 0.3 }, ([a, b, c]) => wg.scaledDotProductAttention(a, b, c, { scale: 0.3 })],
    ['bool mask (true takes part), broadcast over the batch', q, k, v, { mask: boolMask, maskBool: true },
      ([a, b, c]) => wg.scaledDotProductAttention(a, b, c, { attnMask: boolT(boolMask) })],
    ['float mask added to the scores', q, k, v, { mask: dense([2, 3, 5], 5, 2) },
      ([a, b, c]) => wg.scaledDotProductAttention(a, b, c, { attnMask: toT(dense([2, 3, 5], 5, 2)) })],
    ['causal with L < S (top-left aligned)', q, k, v, { causal: true }, ([a, b, c]) => wg.scaledDotProductAttention(a, b, c, { isCausal: true })],
    ['causal with L > S', dense([4, 3], 6), dense([2, 3], 7), dense([2, 2], 8), { causal: true },
      ([a, b, c]) => wg.scaledDotProductAttention(a, b, c, { isCausal: true })],
    ['broadcast batch dims', dense([2, 1, 3, 4], 9), dense([3, 5, 4], 10), dense([1, 3, 5, 2], 11), {},
      ([a, b, c]) => a.scaledDotProductAttention(b, c)],
    ['S = 0 gives zeros', dense([2, 3], 12), dense([0, 3], 13), dense([0, 4], 14), {}, ([a, b, c]) => wg.scaledDotProductAttention(a, b, c)],
  ];
  for (const [what, a, b, c, ref, f] of cases) {
    it(`forward matches the definition: ${what}`, () => {
      wg.tidy(() => {
        const y = f([toT(a), toT(b), toT(c)]);
        const r = refSdpa(a, b, c, ref);
        expect(y.shape).toEqual(r.shape);
        expectClose(y.toArray(), r.data, 1e-12, 1e-14);
      });
    });
  }

  it('a fully masked row gives zeros and a zero gradient (PyTorch >= 2.5, _safe_softmax), not NaN', () => {
    const m = { data: [1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1], shape: [3, 4] }; // row 1 takes part nowhere
    const qq = dense([3, 2], 20), kk = dense([4, 2], 21), vv = dense([4, 3], 22);
    wg.tidy(() => {
      const y = wg.scaledDotProductAttention(toT(qq), toT(kk), toT(vv), { attnMask: boolT(m) });
      expectClose(y.toArray(), refSdpa(qq, kk, vv, { mask: m, maskBool: true }).data, 1e-12, 1e-14);
      expect(y.toArray()[1]).toEqual([0, 0, 0]);
      // the same through a float mask of −inf
      const fm = wg.tensor(m.data.map((x) => (x ? 0.25 : -Infinity)), { shape: [3, 4], dtype: 'float64' });
      expect(wg.scaledDotProductAttention(toT(qq), toT(kk), toT(vv), { attnMask: fm }).toArray()[1]).toEqual([0, 0, 0]);
      const gq = wg.grad((x: Tensor) => wg.scaledDotProductAttention(x, toT(kk), toT(vv), { attnMask: boolT(m) }).sum())(toT(qq));
      const rows = gq.toArray() as number[][];
      expect(rows[1]).toEqual([0, 0]);
      expect(flat(rows).every(Number.isFinite)).toBe(true);
    });
  });

  it('gradients for q, k, v and a float mask match finite differences', () => {
    wg.tidy(() => {
      const mask = toT(dense([3, 5], 30));
      checkGrad((a, b, c, m) => wg.scaledDotProductAttention(a, b, c, { attnMask: m }), [toT(q), toT(k), toT(v), mask]);
      checkGrad((a, b, c) => wg.scaledDotProductAttention(a, b, c, { isCausal: true, scale: 0.7 }), [toT(q), toT(k), toT(v)]);
      checkGrad((a, b, c) => wg.scaledDotProductAttention(a, b, c, { attnMask: boolT(boolMask) }), [toT(q), toT(k), toT(v)]);
    });
  });

  it('JVP agrees with VJP, and a Hessian-vector product with finite differences', () => {
    wg.tidy(() => {
      const m = toT(dense([3, 5], 31));
      checkJvpVjp((a, b, c, mm) => wg.scaledDotProductAttention(a, b, c, { attnMask: mm }), [toT(q), toT(k), toT(v), m]);
      checkJvpVjp((a, b, c) => wg.scaledDotProductAttention(a, b, c, { isCausal: true }), [toT(q), toT(k), toT(v)]);
      const small = [toT(dense([2, 3], 40)), toT(dense([3, 3], 41)), toT(dense([3, 2], 42))];
      checkHvp((a, b, c) => wg.scaledDotProductAttention(a, b, c, { isCausal: true }).square().sum(), small);
    });
  });

  it('float32 agrees with float64', () => {
    wg.tidy(() => {
      const y32 = wg.scaledDotProductAttention(toT(q, 'float32'), toT(k, 'float32'), toT(v, 'float32'), { attnMask: boolT(boolMask) });
      expect(y32.dtype).toBe('float32');
      expectClose(y32.toArray(), refSdpa(q, k, v, { mask: boolMask, maskBool: true }).data, 1e-5, 1e-6);
    });
  });

  it('the fused op (no mask, no dropout) agrees with the composite (the same causal mask as a float mask), values and gradients', () => {
    const qq = dense([2, 2, 6, 5], 50), kk = dense([2, 2, 7, 5], 51), vv = dense([2, 2, 7, 3], 52);
    const causalMask = wg.tensor(Array.from({ length: 42 }, (_, t) => (t % 7 <= Math.floor(t / 7) ? 0 : -Infinity)), { shape: [6, 7], dtype: 'float64' });
    const fused = (a: Tensor, b: Tensor, c: Tensor) => wg.scaledDotProductAttention(a, b, c, { isCausal: true });
    const composite = (a: Tensor, b: Tensor, c: Tensor) => wg.scaledDotProductAttention(a, b, c, { attnMask: causalMask });
    wg.tidy(() => {
      const args = [toT(qq), toT(kk), toT(vv)];
      expectClose(flat(fused(...(args as [Tensor, Tensor, Tensor])).toArray()), flat(composite(...(args as [Tensor, Tensor, Tensor])).toArray()), 1e-13, 1e-15);
      const w = toT(dense([2, 2, 6, 3], 53));
      const loss = (f: typeof fused) => (a: Tensor, b: Tensor, c: Tensor) => f(a, b, c).mul(w).sum();
      const gf = wg.grad(loss(fused), { argnums: [0, 1, 2] })(...args) as Tensor[];
      const gc = wg.grad(loss(composite), { argnums: [0, 1, 2] })(...args) as Tensor[];
      gf.forEach((g, i) => expectClose(flat(g.toArray()), flat(gc[i].toArray()), 1e-12, 1e-14));
    });
    causalMask.dispose();
  });

  it('the fused op in float32 (SIMD rows, lengths off the lane width) agrees with float64', () => {
    const qq = dense([3, 9, 7], 60), kk = dense([3, 11, 7], 61), vv = dense([3, 11, 6], 62);
    for (const isCausal of [false, true]) {
      wg.tidy(() => {
        const f = (a: Tensor, b: Tensor, c: Tensor) => wg.scaledDotProductAttention(a, b, c, { isCausal, scale: 1.3 });
        const y32 = f(toT(qq, 'float32'), toT(kk, 'float32'), toT(vv, 'float32'));
        expect(y32.dtype).toBe('float32');
        expectClose(flat(y32.toArray()), refSdpa(qq, kk, vv, { causal: isCausal, scale: 1.3 }).data, 2e-6, 1e-6);
        const w = dense([3, 9, 6], 63);
        const g = (dt: 'float32' | 'float64') => wg.grad((a: Tensor) => f(a, toT(kk, dt), toT(vv, dt)).mul(toT(w, dt)).sum())(toT(qq, dt));
        expectClose(flat(g('float32').toArray()), flat(g('float64').toArray()), 2e-5, 1e-6);
      });
    }
  });

  it('an accelerated step replays the fused op with the eager bits', () => {
    const qq = toT(dense([2, 5, 4], 70), 'float32'), kk = toT(dense([2, 5, 4], 71), 'float32'), vv = toT(dense([2, 5, 4], 72), 'float32');
    const step = (a: Tensor, b: Tensor, c: Tensor) => wg.valueAndGrad((x: Tensor) => wg.scaledDotProductAttention(x, b, c, { isCausal: true }).square().sum())(a);
    const fast = wg.accelerate(step);
    const eager = wg.tidy(() => { const [y, g] = step(qq, kk, vv); return [y.item(), ...(g.data() as Float32Array)]; });
    for (let i = 0; i < 2; i++) {
      const [y, g] = fast(qq, kk, vv);
      expect([y.item(), ...(g.data() as Float32Array)]).toEqual(eager);
    }
    expect(fast.hits).toBe(1);
    fast.clearCache();
    wg.dispose([qq, kk, vv]);
  });

  it('dropout keeps weights scaled by 1/(1 − p) or zeroes them, from the seeded generator', () => {
    wg.tidy(() => {
      const qq = dense([4, 3], 50), kk = dense([6, 3], 51);
      const eye = wg.eye(6, { dtype: 'float64' }); // v = I: the output is the weight matrix itself
      const weights = refSdpa(qq, kk, { data: flat(eye.toArray()), shape: [6, 6] }).data;
      wg.seed(7);
      const y = flat(wg.scaledDotProductAttention(toT(qq), toT(kk), eye, { dropoutP: 0.5 }).toArray());
      wg.seed(7);
      const again = flat(wg.scaledDotProductAttention(toT(qq), toT(kk), eye, { dropoutP: 0.5 }).toArray());
      expect(again).toEqual(y);
      let kept = 0;
      y.forEach((val, i) => {
        if (val === 0) return;
        kept++;
        expectClose(val, 2 * weights[i], 1e-12, 1e-14);
      });
      expect(kept).toBeGreaterThan(4);
      expect(kept).toBeLessThan(20);
      expect(flat(wg.scaledDotProductAttention(toT(qq), toT(kk), eye, { dropoutP: 1 }).toArray()).every((x) => x === 0)).toBe(true);
    });
  });

  it('rejects bad input with clear errors', () => {
    const Q = () => toT(q), K = () => toT(k), V = () => toT(v);
    expectError(() => wg.scaledDotProductAttention(Q(), toT(dense([2, 5, 3], 1)), V()), wg.ShapeError,
      /^scaledDotProductAttention: query \[2, 3, 4\] and key \[2, 5, 3\] must have the same last dim \(embedding size\), got 4 and 3$/);
    expectError(() => wg.scaledDotProductAttention(Q(), K(), toT(dense([2, 4, 6], 1))), wg.ShapeError,
      /^scaledDotProductAttention: key \[2, 5, 4\] and value \[2, 4, 6\] must have the same source length \(dim -2\), got 5 and 4$/);
    expectError(() => wg.scaledDotProductAttention(Q(), toT(dense([3, 5, 4], 1)), V()), wg.ShapeError,
      /^scaledDotProductAttention: shapes \[2\] \(query batch dims\) and \[3\] \(key batch dims\) cannot be broadcast/);
    expectError(() => wg.scaledDotProductAttention(Q(), K(), V(), { attnMask: boolT(boolMask), isCausal: true }), wg.ValueError,
      /^scaledDotProductAttention: attnMask must not be given with isCausal: true/);
    expectError(() => wg.scaledDotProductAttention(Q(), K(), V(), { attnMask: wg.zeros([3, 4], { dtype: 'bool' }) }), wg.ShapeError,
      /^scaledDotProductAttention: shapes \[3, 4\] \(attnMask\) and \[2, 3, 5\] \(scores \[\.\.\., L, S\]\) cannot be broadcast/);
    expectError(() => wg.scaledDotProductAttention(Q(), K(), V(), { attnMask: wg.zeros([4, 2, 3, 5], { dtype: 'bool' }) }), wg.ShapeError,
      /^scaledDotProductAttention: attnMask of shape \[4, 2, 3, 5\] must broadcast to the scores' shape \[2, 3, 5\], not enlarge it to \[4, 2, 3, 5\]$/);
    expectError(() => wg.scaledDotProductAttention(Q(), K(), V(), { attnMask: wg.zeros([3, 5], { dtype: 'int32' }) }), wg.DTypeError,
      /^scaledDotProductAttention: attnMask is int32 \[3, 5\]; it must be a bool mask or a float mask of query's dtype \(float64\)$/);
    expectError(() => wg.scaledDotProductAttention(toT(q, 'float32'), K(), V()), wg.DTypeError, /must have one dtype/);
    expectError(() => wg.scaledDotProductAttention(toT(dense([4], 1)), K(), V()), wg.ShapeError,
      /^scaledDotProductAttention: query has shape \[4\]; it needs at least 2 dims/);
    expectError(() => wg.scaledDotProductAttention(Q(), K(), V(), { dropoutP: -0.1 }), wg.ValueError,
      /^scaledDotProductAttention: dropoutP must be a probability in \[0, 1\], got -0.1$/);
  });
});

// ————————————————————————————————————————————————————————— the fused backward

const torchFixture = JSON.parse(readFileSync(new URL('./fixtures/attention.json', import.meta.url), 'utf8'));
/** make_attention.py's values(n, seed): the same IEEE operations, so the same doubles. */
const fixtureValues = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => ((i * 37 + seed * 101) % 211) / 105.5 - 1);
type Float = 'float32' | 'float64';

/** The float mask the composite path takes for the fused causal (or plain) attention. */
const maskFor = (L: number, S: number, causal: boolean, dtype: Float): Tensor =>
  wg.tensor(Array.from({ length: L * S }, (_, t) => (causal && t % S > Math.floor(t / S) ? -Infinity : 0)), { shape: [L, S], dtype });

describe('attentionBackward (the fused gradient, in blocks of query rows)', () => {
  // q, k, v shapes, causal, scale: L ≠ S both ways, batches and heads, lengths off the lane widths
  const shapes: [number[], number[], number[], boolean, number | undefined][] = [
    [[2, 3, 6, 5], [2, 3, 6, 5], [2, 3, 6, 5], true, undefined],
    [[3, 7, 9], [3, 11, 9], [3, 11, 6], false, undefined],
    [[2, 2, 5, 3], [2, 2, 9, 3], [2, 2, 9, 7], true, 0.6],
    [[4, 10, 4], [4, 3, 4], [4, 3, 2], true, undefined],
    [[1, 1, 17, 13], [1, 1, 17, 13], [1, 1, 17, 11], true, 1.2],
    // several blocks of rows: 16-row causal blocks, and plain blocks of 16384 scores (32 rows of 500)
    [[2, 37, 5], [2, 30, 5], [2, 30, 3], true, undefined],
    [[1, 40, 3], [1, 500, 3], [1, 500, 2], false, undefined],
  ];

  it('values and gradients as PyTorch 1.13 (softmax(q·kᵀ·scale + mask)·v written out), float64 and float32', () => {
    for (const c of torchFixture.cases) {
      for (const dtype of ['float64', 'float32'] as Float[]) {
        wg.tidy(() => {
          const [q, k, v] = ([[c.q, 1], [c.k, 2], [c.v, 3]] as [number[], number][])
            .map(([shape, seed]) => wg.tensor(fixtureValues(size(shape), seed), { shape, dtype }));
          const f = (a: Tensor, b: Tensor, cc: Tensor) => wg.scaledDotProductAttention(a, b, cc, { isCausal: c.causal, scale: c.scale ?? undefined });
          const y = f(q, k, v);
          const gy = wg.tensor(fixtureValues(y.numel(), 4), { shape: y.shape, dtype });
          const [, grads] = wg.valueAndGrad((a: Tensor, b: Tensor, cc: Tensor) => f(a, b, cc).mul(gy).sum(), { argnums: [0, 1, 2] })(q, k, v);
          const want = c[dtype];
          const [rtol, atol] = dtype === 'float64' ? [1e-12, 1e-14] : [2e-5, 2e-6];
          try {
            expectClose(flat(y.toArray()), want.y, rtol, atol);
            (grads as Tensor[]).forEach((g, i) => expectClose(flat(g.toArray()), want[['dq', 'dk', 'dv'][i]], rtol, atol));
          } catch (e) { throw new Error(`${c.name} (${dtype}): ${(e as Error).message}`); }
        });
      }
    }
  });

  it('values and gradients agree with the composite (the causal mask as a float mask): float64 to 1e-12, float32 to rounding', () => {
    shapes.forEach(([qs, ks, vs, causal, scale], n) => {
      for (const dtype of ['float64', 'float32'] as Float[]) {
        wg.tidy(() => {
          const [q, k, v] = [qs, ks, vs].map((s, i) => toT(dense(s, 80 + 3 * n + i), dtype));
          const mask = maskFor(qs.at(-2)!, ks.at(-2)!, causal, dtype);
          const w = toT(dense([...qs.slice(0, -1), vs.at(-1)!], 90 + n), dtype);
          const loss = (opts: SdpaOptions) => (a: Tensor, b: Tensor, c: Tensor) => wg.scaledDotProductAttention(a, b, c, { scale, ...opts }).mul(w).sum();
          const fused = wg.grad(loss({ isCausal: causal }), { argnums: [0, 1, 2] })(q, k, v) as Tensor[];
          const composite = wg.grad(loss({ attnMask: mask }), { argnums: [0, 1, 2] })(q, k, v) as Tensor[];
          const [rtol, atol] = dtype === 'float64' ? [1e-12, 1e-14] : [1e-5, 1e-6];
          const value = (opts: SdpaOptions) => flat(wg.scaledDotProductAttention(q, k, v, { scale, ...opts }).toArray());
          expectClose(value({ isCausal: causal }), value({ attnMask: mask }), rtol, atol);
          fused.forEach((g, i) => expectClose(flat(g.toArray()), flat(composite[i].toArray()), rtol, atol));
        });
      }
    });
  });

  it('empty lengths and widths (L, S, E or Ev of 0) give the composite\'s values and gradients', () => {
    for (const [L, S, E, Ev] of [[0, 3, 2, 2], [3, 0, 2, 2], [3, 4, 0, 2], [3, 4, 2, 0]]) {
      for (const isCausal of [false, true]) {
        wg.tidy(() => {
          const [q, k, v] = [[2, L, E], [2, S, E], [2, S, Ev]].map((s, i) => toT(dense(s, 150 + i)));
          // scale given: E = 0 would make the default 1/√E infinite (NaN scores)
          const loss = (opts: SdpaOptions) => (a: Tensor, b: Tensor, c: Tensor) => wg.scaledDotProductAttention(a, b, c, { scale: 0.5, ...opts }).square().sum();
          const mask = maskFor(L, S, isCausal, 'float64');
          const [yf, gf] = wg.valueAndGrad(loss({ isCausal }), { argnums: [0, 1, 2] })(q, k, v);
          const [yc, gc] = wg.valueAndGrad(loss({ attnMask: mask }), { argnums: [0, 1, 2] })(q, k, v);
          expect(wg.scaledDotProductAttention(q, k, v, { isCausal }).shape).toEqual([2, L, Ev]);
          expectClose(yf.item(), yc.item());
          (gf as Tensor[]).forEach((g, i) => { expect(g.shape).toEqual((gc as Tensor[])[i].shape); expectClose(flat(g.toArray()), flat((gc as Tensor[])[i].toArray())); });
        });
      }
    }
  });

  it('float64 gradients match central differences; JVP agrees with VJP; second order (forward-over-reverse, reverse-over-reverse) matches differences of the gradient', () => {
    shapes.slice(0, 4).forEach(([qs, ks, vs, causal, scale], n) => {
      wg.tidy(() => {
        const small = (s: number[]) => [...s.slice(0, -3).map(() => 1), ...s.slice(-3).map((d, i) => (i === 0 ? Math.min(d, 2) : Math.min(d, 4)))];
        const [q, k, v] = [qs, ks, vs].map((s, i) => toT(dense(small(s), 100 + 3 * n + i)));
        const f = (a: Tensor, b: Tensor, c: Tensor) => wg.scaledDotProductAttention(a, b, c, { isCausal: causal, scale });
        checkGrad(f, [q, k, v]);
        checkJvpVjp(f, [q, k, v]);
        checkHvp((a, b, c) => f(a, b, c).square().sum(), [q, k, v]);
        // the cotangent as an input too: the backward op's gradient in g (attention's JVP)
        const w = toT(dense(f(q, k, v).shape, 110 + n));
        checkHvp((a, b, c, ww) => f(a, b, c).mul(ww).sum().add(f(a, b, c).mul(a.sum()).sum()), [q, k, v, w]);
      });
    });
  });

  it('grad of grad through the fused backward matches central differences of the gradient', () => {
    wg.tidy(() => {
      const [q, k, v] = [[2, 4, 3], [2, 5, 3], [2, 5, 2]].map((s, i) => toT(dense(s, 120 + i)));
      const f = (a: Tensor, b: Tensor, c: Tensor) => wg.scaledDotProductAttention(a, b, c, { isCausal: true }).square().sum();
      const u = [q, k, v].map((t, i) => toT(dense(t.shape, 130 + i)));
      // h = ⟨u, ∇f⟩, a scalar of the first gradient; its gradient is H·u
      const h = (a: Tensor, b: Tensor, c: Tensor) => (wg.grad(f, { argnums: [0, 1, 2] })(a, b, c) as Tensor[])
        .reduce((acc: Tensor, g, i) => acc.add(g.mul(u[i]).sum()), wg.tensor(0, { dtype: 'float64' }));
      checkGrad(h, [q, k, v], { rtol: 1e-6, atol: 1e-8 });
    });
  });

  it('an accelerated step replays the fused backward with the eager bits (plain and causal, float32 and float64)', () => {
    for (const dtype of ['float32', 'float64'] as Float[]) {
      for (const isCausal of [false, true]) {
        const [q, k, v] = [[2, 5, 4], [2, 7, 4], [2, 7, 3]].map((s, i) => toT(dense(s, 140 + i), dtype));
        const step = (a: Tensor, b: Tensor, c: Tensor) => wg.valueAndGrad((x: Tensor, y: Tensor, z: Tensor) =>
          wg.scaledDotProductAttention(x, y, z, { isCausal }).square().sum(), { argnums: [0, 1, 2] })(a, b, c);
        const bits = (y: Tensor, g: Tensor[]) => [y.item(), ...g.flatMap((t) => flat(t.toArray()))];
        const eager = wg.tidy(() => { const [y, g] = step(q, k, v); return bits(y, g as Tensor[]); });
        const fast = wg.accelerate(step);
        for (let i = 0; i < 2; i++) wg.tidy(() => { const [y, g] = fast(q, k, v); expect(bits(y, g as Tensor[])).toEqual(eager); });
        expect(fast.hits).toBe(1);
        fast.clearCache();
        wg.dispose([q, k, v]);
      }
    }
  });
});

// ————————————————————————————————————————————————————————— multiHeadAttention

interface MhaParams { inW?: Dense; qW?: Dense; kW?: Dense; vW?: Dense; inB?: Dense; outW: Dense; outB?: Dense }
interface MhaRef {
  heads: number; batchFirst?: boolean; kpm?: Dense; kpmBool?: boolean; mask?: Dense; maskBool?: boolean;
  needWeights?: boolean; average?: boolean;
}

/** F.multi_head_attention_forward by loops. Returns flat output and weights in PyTorch's layouts. */
function refMha(query: Dense, key: Dense, value: Dense, P: MhaParams, o: MhaRef) {
  const batched = query.shape.length === 3;
  const at = (d: Dense, len: number, N: number, F: number) => (l: number, n: number, f: number) =>
    d.data[!batched ? l * F + f : o.batchFirst ? (n * len + l) * F + f : (l * N + n) * F + f];
  const E = query.shape.at(-1)!, kdim = key.shape.at(-1)!, vdim = value.shape.at(-1)!;
  const L = batched ? query.shape[o.batchFirst ? 1 : 0] : query.shape[0];
  const S = batched ? key.shape[o.batchFirst ? 1 : 0] : key.shape[0];
  const N = batched ? query.shape[o.batchFirst ? 0 : 1] : 1;
  const H = o.heads, hd = E / H;
  const qa = at(query, L, N, E), ka = at(key, S, N, kdim), va = at(value, S, N, vdim);
  const W = (part: number, F: number) => (r: number, c: number) =>
    P.inW ? P.inW.data[(part * E + r) * E + c] : [P.qW!, P.kW!, P.vW!][part].data[r * F + c];
  const bias = (part: number, r: number) => (P.inB ? P.inB.data[part * E + r] : 0);
  const project = (get: (l: number, n: number, f: number) => number, len: number, F: number, part: number) =>
    Array.from({ length: len }, (_, l) => Array.from({ length: N }, (_, n) => Array.from({ length: E }, (_, r) => {
      let s = bias(part, r);
      for (let c = 0; c < F; c++) s += W(part, F)(r, c) * get(l, n, c);
      return s;
    })));
  const q = project(qa, L, E, 0), k = project(ka, S, kdim, 1), v = project(va, S, vdim, 2);
  const attn = Array.from({ length: L }, () => Array.from({ length: N }, () => new Array(E).fill(0)));
  const weights: number[][][][] = Array.from({ length: N }, () => Array.from({ length: H }, () => []));
  const needWeights = o.needWeights ?? true;
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < L; i++) {
        const s: number[] = [];
        for (let j = 0; j < S; j++) {
          let dot = 0;
          for (let d = 0; d < hd; d++) dot += q[i][n][h * hd + d] * k[j][n][h * hd + d];
          let b = 0;
          if (o.mask) {
            const m = o.mask.shape.length === 2 ? o.mask.data[i * S + j] : o.mask.data[((n * H + h) * L + i) * S + j];
            b += o.maskBool ? (m ? -Infinity : 0) : m;
          }
          if (o.kpm) { const m = o.kpm.data[n * S + j]; b += o.kpmBool ? (m ? -Infinity : 0) : m; }
          s.push(dot / Math.sqrt(hd) + b);
        }
        const p = softmaxRow(s, !needWeights);
        weights[n][h].push(p);
        for (let d = 0; d < hd; d++) {
          let acc = 0;
          for (let j = 0; j < S; j++) acc += p[j] * v[j][n][h * hd + d];
          attn[i][n][h * hd + d] = acc;
        }
      }
    }
  }
  const out: number[] = [];
  const outAt = (l: number, n: number) => {
    for (let r = 0; r < E; r++) {
      let s = P.outB ? P.outB.data[r] : 0;
      for (let c = 0; c < E; c++) s += P.outW.data[r * E + c] * attn[l][n][c];
      out.push(s);
    }
  };
  if (batched && o.batchFirst) { for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) outAt(l, n); }
  else { for (let l = 0; l < L; l++) for (let n = 0; n < N; n++) outAt(l, n); }
  const w = (o.average ?? true)
    ? weights.map((perHead) => perHead[0].map((row, i) => row.map((_, j) => perHead.reduce((a, hw) => a + hw[i][j], 0) / H)))
    : weights;
  return { out, weights: flat(w) };
}

function mhaParams(P: MhaParams, dtype: 'float32' | 'float64' = 'float64') {
  const p: Record<string, Tensor> = { 'out_proj.weight': toT(P.outW, dtype) };
  if (P.inW) p.in_proj_weight = toT(P.inW, dtype);
  if (P.qW) { p.q_proj_weight = toT(P.qW, dtype); p.k_proj_weight = toT(P.kW!, dtype); p.v_proj_weight = toT(P.vW!, dtype); }
  if (P.inB) p.in_proj_bias = toT(P.inB, dtype);
  if (P.outB) p['out_proj.bias'] = toT(P.outB, dtype);
  return p as any;
}

const packed = (E: number, seed: number): MhaParams => ({ inW: dense([3 * E, E], seed, 0.7), inB: dense([3 * E], seed + 1, 0.3), outW: dense([E, E], seed + 2, 0.7), outB: dense([E], seed + 3, 0.3) });

describe('multiHeadAttention', () => {
  it('self-attention, seq-first, averaged weights', () => {
    const x = dense([3, 2, 4], 1), P = packed(4, 10);
    const r = refMha(x, x, x, P, { heads: 2 });
    wg.tidy(() => {
      const xt = toT(x);
      const [out, w] = wg.multiHeadAttention(xt, xt, xt, mhaParams(P), { numHeads: 2 });
      expect(out.shape).toEqual([3, 2, 4]);
      expect(w!.shape).toEqual([2, 3, 3]);
      expectClose(out.toArray(), r.out, 1e-12, 1e-14);
      expectClose(w!.toArray(), r.weights, 1e-12, 1e-14);
      // the same values from distinct (equal) tensors, which take the three-product path
      const [out2] = xt.multiHeadAttention(toT(x), toT(x), mhaParams(P), { numHeads: 2 });
      expectClose(out2.toArray(), r.out, 1e-12, 1e-14);
    });
  });

  it('cross-attention, batchFirst, bool key padding and attention masks (true = masked out), per-head weights', () => {
    const q = dense([2, 2, 6], 2), kv = dense([2, 4, 6], 3), P = packed(6, 20);
    const kpm = { data: [0, 0, 1, 0, 1, 0, 0, 0], shape: [2, 4] };
    const mask = { data: [0, 1, 0, 0, 0, 0, 0, 1], shape: [2, 4] };
    const o: MhaRef = { heads: 3, batchFirst: true, kpm, kpmBool: true, mask, maskBool: true, average: false };
    const r = refMha(q, kv, kv, P, o);
    wg.tidy(() => {
      const kvT = toT(kv);
      const [out, w] = wg.multiHeadAttention(toT(q), kvT, kvT, mhaParams(P),
        { numHeads: 3, batchFirst: true, keyPaddingMask: boolT(kpm), attnMask: boolT(mask), averageAttnWeights: false });
      expect(out.shape).toEqual([2, 2, 6]);
      expect(w!.shape).toEqual([2, 3, 2, 4]);
      expectClose(out.toArray(), r.out, 1e-12, 1e-14);
      expectClose(w!.toArray(), r.weights, 1e-12, 1e-14);
    });
  });

  it('separate q/k/v projections (kdim, vdim), unbatched, 3-D float mask, no biases', () => {
    const q = dense([3, 4], 4), key = dense([5, 3], 5), value = dense([5, 2], 6);
    const P: MhaParams = { qW: dense([4, 4], 7), kW: dense([4, 3], 8), vW: dense([4, 2], 9), outW: dense([4, 4], 10) };
    const mask = dense([2, 3, 5], 11, 2);
    const r = refMha(q, key, value, P, { heads: 2, mask });
    wg.tidy(() => {
      const [out, w] = wg.multiHeadAttention(toT(q), toT(key), toT(value), mhaParams(P), { numHeads: 2, attnMask: toT(mask) });
      expect(out.shape).toEqual([3, 4]);
      expect(w!.shape).toEqual([3, 5]);
      expectClose(out.toArray(), r.out, 1e-12, 1e-14);
      expectClose(w!.toArray(), r.weights, 1e-12, 1e-14);
    });
  });

  it('needWeights: false returns null weights and the same output (through scaledDotProductAttention)', () => {
    const q = dense([2, 3, 4], 12), kv = dense([5, 3, 4], 13), P = packed(4, 30);
    const kpm = dense([3, 5], 14);
    const r = refMha(q, kv, kv, P, { heads: 4, kpm, needWeights: false });
    wg.tidy(() => {
      const kvT = toT(kv);
      const [out, w] = wg.multiHeadAttention(toT(q), kvT, kvT, mhaParams(P), { numHeads: 4, keyPaddingMask: toT(kpm), needWeights: false });
      expect(w).toBeNull();
      expectClose(out.toArray(), r.out, 1e-12, 1e-14);
    });
  });

  it('a fully masked batch element: NaN with needWeights (plain softmax), out_proj.bias without (as PyTorch)', () => {
    const q = dense([2, 2, 4], 15), kv = dense([3, 2, 4], 16), P = packed(4, 40);
    const kpm = { data: [1, 1, 1, 0, 1, 0], shape: [2, 3] }; // batch element 0 ignores every key
    wg.tidy(() => {
      const kvT = toT(kv), opts = { numHeads: 2, keyPaddingMask: boolT(kpm) };
      const [out, w] = wg.multiHeadAttention(toT(q), kvT, kvT, mhaParams(P), opts);
      const r = refMha(q, kv, kv, P, { heads: 2, kpm, kpmBool: true });
      expectClose(out.toArray(), r.out, 1e-12, 1e-14); // NaN where the reference has NaN
      const o = out.toArray() as number[][][];
      expect(o[0][0].every(Number.isNaN) && o[1][0].every(Number.isNaN)).toBe(true);
      expect(flat(o.map((row) => row[1])).every(Number.isFinite)).toBe(true);
      expect(flat((w!.toArray() as number[][][])[0]).every(Number.isNaN)).toBe(true);
      const [out2] = wg.multiHeadAttention(toT(q), kvT, kvT, mhaParams(P), { ...opts, needWeights: false });
      const o2 = out2.toArray() as number[][][];
      expectClose(o2[0][0], P.outB!.data, 1e-15, 1e-15);
      expectClose(o2[1][0], P.outB!.data, 1e-15, 1e-15);
      expectClose(out2.toArray(), refMha(q, kv, kv, P, { heads: 2, kpm, kpmBool: true, needWeights: false }).out, 1e-12, 1e-14);
    });
  });

  const q = dense([2, 2, 4], 60), key = dense([3, 2, 4], 61), value = dense([3, 2, 4], 62), P = packed(4, 63);
  const floatMask = dense([2, 3], 64);
  /** output and weights flattened, as a function of every input and parameter */
  const mhaAll = (needWeights: boolean) => (qq: Tensor, kk: Tensor, vv: Tensor, inW: Tensor, inB: Tensor, oW: Tensor, oB: Tensor, m: Tensor): Tensor => {
    const [out, w] = wg.multiHeadAttention(qq, kk, vv, { in_proj_weight: inW, in_proj_bias: inB, 'out_proj.weight': oW, 'out_proj.bias': oB },
      { numHeads: 2, attnMask: m, needWeights });
    return w ? wg.concat([out.reshape([-1]), w.reshape([-1])]) : out;
  };
  const all = () => [toT(q), toT(key), toT(value), toT(P.inW!), toT(P.inB!), toT(P.outW), toT(P.outB!), toT(floatMask)];

  it('gradients for query, key, value, every parameter and a float mask match finite differences', () => {
    wg.tidy(() => {
      checkGrad(mhaAll(true), all());
      checkGrad(mhaAll(false), all());
      // self-attention: one tensor feeds all three roles
      checkGrad((x, w, b, ow) => wg.multiHeadAttention(x, x, x, { in_proj_weight: w, in_proj_bias: b, 'out_proj.weight': ow }, { numHeads: 4, batchFirst: true })[0],
        [toT(q), toT(P.inW!), toT(P.inB!), toT(P.outW)]);
    });
  });

  it('JVP agrees with VJP, and a Hessian-vector product with finite differences', () => {
    wg.tidy(() => {
      checkJvpVjp(mhaAll(true), all());
      const fixed = all();
      checkHvp((qq: Tensor, w: Tensor) => mhaAll(false)(qq, fixed[1], fixed[2], w, ...(fixed.slice(4) as [Tensor, Tensor, Tensor, Tensor])).square().sum(),
        [fixed[0], fixed[3]]);
    });
  });

  it('float32 agrees with float64', () => {
    const r = refMha(q, key, value, P, { heads: 2, mask: floatMask });
    wg.tidy(() => {
      const [out, w] = wg.multiHeadAttention(toT(q, 'float32'), toT(key, 'float32'), toT(value, 'float32'), mhaParams(P, 'float32'),
        { numHeads: 2, attnMask: toT(floatMask, 'float32') });
      expect(out.dtype).toBe('float32');
      expectClose(out.toArray(), r.out, 1e-5, 1e-6);
      expectClose(w!.toArray(), r.weights, 1e-5, 1e-6);
    });
  });

  it('rejects bad input with clear errors', () => {
    const Q = () => toT(q), K = () => toT(key), V = () => toT(value);
    expectError(() => wg.multiHeadAttention(Q(), K(), V(), mhaParams(P), { numHeads: 3 }), wg.ValueError,
      /^multiHeadAttention: embed_dim 4 \(the last dim of query \[2, 2, 4\]\) is not divisible by numHeads 3$/);
    expectError(() => wg.multiHeadAttention(Q(), K(), V(), { ...mhaParams(P), in_proj_weight: wg.zeros([12, 3], { dtype: 'float64' }) }, { numHeads: 2 }), wg.ShapeError,
      /^multiHeadAttention: in_proj_weight has shape \[12, 3\] but must be \[12, 4\] \(3·embed_dim rows, embed_dim 4 from query\)$/);
    expectError(() => wg.multiHeadAttention(Q(), K(), V(), mhaParams(P), { numHeads: 2, keyPaddingMask: wg.zeros([3, 2], { dtype: 'bool' }) }), wg.ShapeError,
      /^multiHeadAttention: keyPaddingMask has shape \[3, 2\] but must be \[2, 3\] \(batch size 2, source length 3\)$/);
    expectError(() => wg.multiHeadAttention(Q(), K(), V(), mhaParams(P), { numHeads: 2, attnMask: wg.zeros([2, 2, 3], { dtype: 'bool' }) }), wg.ShapeError,
      /^multiHeadAttention: attnMask has shape \[2, 2, 3\] but must be \[4, 2, 3\] \(3-D: batch size 2 · numHeads 2, target length 2, source length 3\)$/);
    expectError(() => wg.multiHeadAttention(Q(), toT(dense([3, 1, 4], 1)), V(), mhaParams(P), { numHeads: 2 }), wg.ShapeError,
      /^multiHeadAttention: batch sizes differ: query \[2, 2, 4\], key \[3, 1, 4\], value \[3, 2, 4\]/);
    expectError(() => wg.multiHeadAttention(Q(), K(), toT(dense([4, 2, 4], 1)), mhaParams(P), { numHeads: 2 }), wg.ShapeError,
      /^multiHeadAttention: key \[3, 2, 4\] and value \[4, 2, 4\] must have the same source length, got 3 and 4$/);
    expectError(() => wg.multiHeadAttention(Q(), K(), V(), { ...mhaParams(P), bias_k: K() }, { numHeads: 2 }), wg.ValueError,
      /^multiHeadAttention: params has unexpected entries bias_k;/);
    expectError(() => wg.multiHeadAttention(Q(), toT(dense([3, 4], 1)), V(), mhaParams(P), { numHeads: 2 }), wg.ShapeError,
      /^multiHeadAttention: query has shape \[2, 2, 4\] \(batched, 3-D\) so key must be 3-D too, got shape \[3, 4\]$/);
  });
});
