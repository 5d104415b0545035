// Recurrent layers: lstm and gru against a plain JS loop over PyTorch's cell equations, with
// multi-layer, bidirectional, batch-first and unbatched cases; gradients by finite differences
// for x, initial states and every weight; JVP against VJP; a Hessian-vector product; float32 vs
// float64; and errors.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, uniform, size, flat, expectError } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

type Kind = 'lstm' | 'gru';
interface Dense { data: number[]; shape: number[] }
interface Config { layers: number; dirs: number; batchFirst: boolean; bias: boolean }

const dense = (shape: number[], seed: number, scale = 1): Dense => ({ data: uniform(size(shape), -scale, scale, seed), shape });
const sig = (v: number): number => 1 / (1 + Math.exp(-v));

/** Weights of one configuration by PyTorch's names. */
function makeParams(kind: Kind, I: number, H: number, c: Config, seed = 100): Record<string, Dense> {
  const G = kind === 'lstm' ? 4 : 3;
  const out: Record<string, Dense> = {};
  let s = seed;
  for (let k = 0; k < c.layers; k++) {
    for (let d = 0; d < c.dirs; d++) {
      const sfx = `l${k}${d === 1 ? '_reverse' : ''}`;
      const inSize = k === 0 ? I : c.dirs * H;
      out[`weight_ih_${sfx}`] = dense([G * H, inSize], s++, 0.8);
      out[`weight_hh_${sfx}`] = dense([G * H, H], s++, 0.8);
      if (c.bias) {
        out[`bias_ih_${sfx}`] = dense([G * H], s++, 0.5);
        out[`bias_hh_${sfx}`] = dense([G * H], s++, 0.5);
      }
    }
  }
  return out;
}

/**
 * PyTorch's recurrence, one scalar at a time. x is [T, N, I] ([N, T, I] batch-first, [T, I]
 * unbatched); states [L·D, N, H] ([L·D, H] unbatched). Returns flat output, hN and cN.
 */
function refRnn(kind: Kind, x: Dense, h0: Dense | null, c0: Dense | null, P: Record<string, Dense>, c: Config) {
  const batched = x.shape.length === 3;
  const [T, N, I] = !batched ? [x.shape[0], 1, x.shape[1]] : c.batchFirst ? [x.shape[1], x.shape[0], x.shape[2]] : x.shape;
  const H = P.weight_hh_l0.shape[1];
  let input: number[][][] = Array.from({ length: T }, (_, t) => Array.from({ length: N }, (_, n) =>
    Array.from({ length: I }, (_, i) => x.data[batched ? (c.batchFirst ? (n * T + t) * I + i : (t * N + n) * I + i) : t * I + i])));
  const hN: number[][][] = [], cN: number[][][] = [];
  for (let k = 0; k < c.layers; k++) {
    const out = Array.from({ length: T }, () => Array.from({ length: N }, () => new Array(c.dirs * H).fill(0)));
    for (let d = 0; d < c.dirs; d++) {
      const sfx = `l${k}${d === 1 ? '_reverse' : ''}`;
      const wih = P[`weight_ih_${sfx}`], whh = P[`weight_hh_${sfx}`], bih = P[`bias_ih_${sfx}`], bhh = P[`bias_hh_${sfx}`];
      const inSize = wih.shape[1], idx = k * c.dirs + d;
      const state = (s: Dense | null) => Array.from({ length: N }, (_, n) => Array.from({ length: H }, (_, j) => (s ? s.data[(idx * N + n) * H + j] : 0)));
      let h = state(h0), cc = state(c0);
      for (let s = 0; s < T; s++) {
        const t = d === 1 ? T - 1 - s : s;
        const nh: number[][] = [], nc: number[][] = [];
        for (let n = 0; n < N; n++) {
          const rows = wih.shape[0];
          const gi = new Array(rows).fill(0), gh = new Array(rows).fill(0);
          for (let r = 0; r < rows; r++) {
            let a = bih ? bih.data[r] : 0, b = bhh ? bhh.data[r] : 0;
            for (let i = 0; i < inSize; i++) a += wih.data[r * inSize + i] * input[t][n][i];
            for (let q = 0; q < H; q++) b += whh.data[r * H + q] * h[n][q];
            gi[r] = a; gh[r] = b;
          }
          const hr: number[] = [], cr: number[] = [];
          for (let j = 0; j < H; j++) {
            if (kind === 'lstm') {
              const ig = sig(gi[j] + gh[j]), fg = sig(gi[H + j] + gh[H + j]);
              const gg = Math.tanh(gi[2 * H + j] + gh[2 * H + j]), og = sig(gi[3 * H + j] + gh[3 * H + j]);
              const cv = fg * cc[n][j] + ig * gg;
              cr.push(cv);
              hr.push(og * Math.tanh(cv));
            } else {
              const r = sig(gi[j] + gh[j]), z = sig(gi[H + j] + gh[H + j]);
              const nn = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
              hr.push((1 - z) * nn + z * h[n][j]);
            }
          }
          nh.push(hr); nc.push(cr);
          for (let j = 0; j < H; j++) out[t][n][d * H + j] = hr[j];
        }
        h = nh; cc = nc;
      }
      hN.push(h); cN.push(cc);
    }
    input = out;
  }
  const output: number[] = [];
  if (batched && c.batchFirst) {
    for (let n = 0; n < N; n++) for (let t = 0; t < T; t++) output.push(...input[t][n]);
  } else {
    for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) output.push(...input[t][n]);
  }
  return { output, hN: hN.flat(2), cN: cN.flat(2), T, N, H };
}

const toT = (d: Dense, dtype: 'float32' | 'float64' = 'float64'): Tensor => wg.tensor(d.data, { shape: d.shape, dtype });
const toParams = (P: Record<string, Dense>, dtype: 'float32' | 'float64' = 'float64'): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(P).map(([k, v]) => [k, toT(v, dtype)]));

const CONFIGS: [string, Config, number[]][] = [
  ['1 layer, batched', { layers: 1, dirs: 1, batchFirst: false, bias: true }, [4, 3, 3]],
  ['2 layers, bidirectional', { layers: 2, dirs: 2, batchFirst: false, bias: true }, [3, 2, 3]],
  ['batchFirst, bidirectional, no biases', { layers: 1, dirs: 2, batchFirst: true, bias: false }, [2, 5, 3]],
  ['3 layers, unbatched', { layers: 3, dirs: 1, batchFirst: false, bias: true }, [4, 3]],
  ['batch size 1, T = 1', { layers: 1, dirs: 2, batchFirst: false, bias: true }, [1, 1, 2]],
];

const H = 3;

function stateShape(c: Config, xShape: number[]): number[] {
  const batched = xShape.length === 3;
  const N = batched ? xShape[c.batchFirst ? 0 : 1] : 0;
  return batched ? [c.layers * c.dirs, N, H] : [c.layers * c.dirs, H];
}

function options(c: Config) {
  return { numLayers: c.layers, bidirectional: c.dirs === 2, batchFirst: c.batchFirst };
}

for (const kind of ['lstm', 'gru'] as const) {
  describe(kind, () => {
    for (const [what, c, xShape] of CONFIGS) {
      it(`forward matches the cell equations: ${what}`, () => {
        const x = dense(xShape, 1), I = xShape[xShape.length - 1];
        const P = makeParams(kind, I, H, c);
        const h0 = dense(stateShape(c, xShape), 2), c0 = dense(stateShape(c, xShape), 3);
        const ref = refRnn(kind, x, h0, kind === 'lstm' ? c0 : null, P, c);
        wg.tidy(() => {
          const params = toParams(P);
          const [out, hN, cN] = kind === 'lstm'
            ? (([o, [h, cc]]) => [o, h, cc])(wg.lstm(toT(x), [toT(h0), toT(c0)], params, options(c)))
            : [...wg.gru(toT(x), toT(h0), params, options(c)), null];
          const batched = xShape.length === 3;
          const outShape = batched ? (c.batchFirst ? [ref.N, ref.T, c.dirs * H] : [ref.T, ref.N, c.dirs * H]) : [ref.T, c.dirs * H];
          expect(out!.shape).toEqual(outShape);
          expect(hN!.shape).toEqual(stateShape(c, xShape));
          expectClose(out!.toArray(), ref.output, 1e-12, 1e-13);
          expectClose(hN!.toArray(), ref.hN, 1e-12, 1e-13);
          if (kind === 'lstm') {
            expect(cN!.shape).toEqual(stateShape(c, xShape));
            expectClose(cN!.toArray(), ref.cN, 1e-12, 1e-13);
          }
        });
      });
    }

    it('omitted states are zeros; params also as a list in flat-weights order', () => {
      const c: Config = { layers: 2, dirs: 2, batchFirst: false, bias: true };
      const x = dense([3, 2, 2], 5);
      const P = makeParams(kind, 2, H, c, 40);
      const ref = refRnn(kind, x, null, null, P, c);
      wg.tidy(() => {
        const list = Object.values(toParams(P)); // insertion order is PyTorch's flat-weights order
        const [out, hN] = kind === 'lstm' ? (([o, [h]]) => [o, h])(wg.lstm(toT(x), null, list, options(c))) : wg.gru(toT(x), undefined, list, options(c));
        expectClose(out.toArray(), ref.output, 1e-12, 1e-13);
        expectClose(hN.toArray(), ref.hN, 1e-12, 1e-13);
        // the method form gives the same
        const again = kind === 'lstm' ? toT(x).lstm(null, list, options(c))[0] : toT(x).gru(null, list, options(c))[0];
        expectClose(again.toArray(), out.toArray(), 0, 0);
      });
    });

    it('batch size 0 gives empty outputs of the right shapes', () => {
      const c: Config = { layers: 1, dirs: 2, batchFirst: false, bias: true };
      wg.tidy(() => {
        const params = toParams(makeParams(kind, 3, H, c));
        const x = wg.zeros([4, 0, 3], { dtype: 'float64' });
        const [out, hN] = kind === 'lstm' ? (([o, [h]]) => [o, h])(wg.lstm(x, null, params, options(c))) : wg.gru(x, null, params, options(c));
        expect(out.shape).toEqual([4, 0, 2 * H]);
        expect(hN.shape).toEqual([2, 0, H]);
      });
    });

    it('float32 agrees with float64', () => {
      const c: Config = { layers: 2, dirs: 2, batchFirst: true, bias: true };
      const x = dense([2, 4, 3], 8), P = makeParams(kind, 3, H, c, 60);
      const h0 = dense([4, 2, H], 9), c0 = dense([4, 2, H], 10);
      wg.tidy(() => {
        const run = (dtype: 'float32' | 'float64') => {
          const ps = toParams(P, dtype);
          return kind === 'lstm' ? wg.lstm(toT(x, dtype), [toT(h0, dtype), toT(c0, dtype)], ps, options(c))[0] : wg.gru(toT(x, dtype), toT(h0, dtype), ps, options(c))[0];
        };
        const y32 = run('float32');
        expect(y32.dtype).toBe('float32');
        expectClose(y32.toArray(), run('float64').toArray(), 1e-5, 1e-6);
      });
    });

    // Gradients: x, the initial state(s) and every weight of a 2-layer bidirectional network.
    const gc: Config = { layers: 2, dirs: 2, batchFirst: false, bias: true };
    const gx = dense([3, 2, 2], 11), gP = makeParams(kind, 2, 2, gc, 80);
    const gh0 = dense([4, 2, 2], 12), gc0 = dense([4, 2, 2], 13);
    const names = Object.keys(gP);
    /** All outputs (output, hN[, cN]) flattened into one vector, as a function of every input. */
    const everything = (x: Tensor, h0: Tensor, c0: Tensor, ...ws: Tensor[]): Tensor => {
      const params = Object.fromEntries(names.map((n, i) => [n, ws[i]]));
      if (kind === 'lstm') {
        const [o, [h, cc]] = wg.lstm(x, [h0, c0], params, options(gc));
        return wg.concat([o.reshape([-1]), h.reshape([-1]), cc.reshape([-1])]);
      }
      const [o, h] = wg.gru(x, h0.add(c0.mul(0)), params, options(gc)); // c0 unused by gru
      return wg.concat([o.reshape([-1]), h.reshape([-1])]);
    };
    const inputs = () => [toT(gx), toT(gh0), toT(gc0), ...names.map((n) => toT(gP[n]))];

    it('gradients for x, initial states and every weight match finite differences', () => {
      wg.tidy(() => { checkGrad(everything, inputs()); });
    });

    it('JVP agrees with VJP: <v, J·u> = <Jᵀ·v, u>', () => {
      wg.tidy(() => {
        const xs = inputs();
        const us = xs.map((t, i) => wg.tensor(uniform(t.numel(), -1, 1, 300 + i), { shape: t.shape, dtype: 'float64' }));
        const [y, ydot] = wg.jvp(everything, xs, us) as [Tensor, Tensor];
        const v = wg.tensor(uniform(y.numel(), -1, 1, 299), { shape: y.shape, dtype: 'float64' });
        const lhs = ydot.mul(v).sum().item() as number;
        const [, gs] = wg.valueAndGrad((...a: Tensor[]) => everything(...a).mul(v).sum(), { argnums: xs.map((_, i) => i) })(...xs);
        const rhs = (gs as Tensor[]).reduce((acc, g, i) => acc + (g.mul(us[i]).sum().item() as number), 0);
        expectClose(lhs, rhs, 1e-10, 1e-12);
      });
    });

    it('second derivative: a Hessian-vector product matches finite differences of the gradient', () => {
      wg.tidy(() => {
        const xs = inputs();
        // scalar loss of x and weight_hh_l0 (the others fixed); its Hessian in (x, W) directions
        const loss = (x: Tensor, w: Tensor) => everything(x, xs[1], xs[2], xs[3], w, ...xs.slice(5)).square().sum();
        const x = xs[0], w = xs[4];
        const ux = wg.tensor(uniform(x.numel(), -1, 1, 400), { shape: x.shape, dtype: 'float64' });
        const uw = wg.tensor(uniform(w.numel(), -1, 1, 401), { shape: w.shape, dtype: 'float64' });
        const g = (a: Tensor, b: Tensor) => wg.grad(loss, { argnums: [0, 1] })(a, b) as Tensor[];
        const [, hv] = wg.jvp((a: Tensor, b: Tensor) => g(a, b), [x, w], [ux, uw]) as [Tensor[], Tensor[]];
        const eps = 1e-5;
        const plus = g(x.add(ux.mul(eps)), w.add(uw.mul(eps))), minus = g(x.sub(ux.mul(eps)), w.sub(uw.mul(eps)));
        for (let i = 0; i < 2; i++) {
          const fd = flat(plus[i].toArray()).map((p, j) => (p - flat(minus[i].toArray())[j]) / (2 * eps));
          expectClose(hv[i].toArray(), fd, 1e-6, 1e-7);
        }
        // and grad of a grad-based scalar (reverse over reverse) agrees with it
        const dir = (a: Tensor, b: Tensor) => { const [ga, gb] = g(a, b); return ga.mul(ux).sum().add(gb.mul(uw).sum()); };
        const hu = wg.grad(dir, { argnums: [0, 1] })(x, w) as Tensor[];
        for (let i = 0; i < 2; i++) expectClose(hu[i].toArray(), hv[i].toArray(), 1e-9, 1e-10);
      });
    });
  });
}

describe('exact values', () => {
  it('lstm with zero weights: every gate is σ(b) or tanh(b) (hand-derived)', () => {
    // weights 0, bias_ih's g-gate 1, all else 0: i = f = o = 1/2, g = tanh(1)
    wg.tidy(() => {
      const bih = new Array(4).fill(0); bih[2] = 1; // H = 1: gates i, f, g, o
      const params = {
        weight_ih_l0: wg.zeros([4, 2], { dtype: 'float64' }), weight_hh_l0: wg.zeros([4, 1], { dtype: 'float64' }),
        bias_ih_l0: wg.tensor(bih, { dtype: 'float64' }), bias_hh_l0: wg.zeros([4], { dtype: 'float64' }),
      };
      const [out, [hN, cN]] = wg.lstm(wg.ones([2, 1, 2], { dtype: 'float64' }), null, params);
      const c1 = 0.5 * Math.tanh(1), h1 = 0.5 * Math.tanh(c1);
      const c2 = 0.5 * c1 + 0.5 * Math.tanh(1), h2 = 0.5 * Math.tanh(c2);
      expectClose(out.toArray(), [[[h1]], [[h2]]], 1e-15, 1e-15);
      expectClose(hN.toArray(), [[[h2]]], 1e-15, 1e-15);
      expectClose(cN.toArray(), [[[c2]]], 1e-15, 1e-15);
    });
  });

  it('gru with zero weights and z-gate bias +inf-like keeps h0 (z = 1)', () => {
    wg.tidy(() => {
      const bih = [0, 40, 0]; // σ(40) = 1 in float64 to within 4e-18
      const params = {
        weight_ih_l0: wg.zeros([3, 1], { dtype: 'float64' }), weight_hh_l0: wg.zeros([3, 1], { dtype: 'float64' }),
        bias_ih_l0: wg.tensor(bih, { dtype: 'float64' }), bias_hh_l0: wg.zeros([3], { dtype: 'float64' }),
      };
      const [out, hN] = wg.gru(wg.ones([3, 1], { dtype: 'float64' }), wg.tensor([[0.75]], { dtype: 'float64' }), params);
      expectClose(out.toArray(), [[0.75], [0.75], [0.75]], 1e-15, 1e-15);
      expectClose(hN.toArray(), [[0.75]], 1e-15, 1e-15);
    });
  });
});

describe('errors', () => {
  const mk = (kind: Kind, I = 3, Hh = 2, c: Config = { layers: 1, dirs: 1, batchFirst: false, bias: true }) => toParams(makeParams(kind, I, Hh, c));


  it('wrong input size names weight_ih and the shapes', () => {
    const params = mk('lstm');
    expectError(() => wg.lstm(wg.zeros([2, 1, 4], { dtype: 'float64' }), null, params), wg.ShapeError,
      /^lstm: weight_ih_l0 has shape \[8, 3\] but must be \[8, 4\] \(4·hidden_size rows with hidden_size 2; input_size 4 from x of shape \[2, 1, 4\]\)$/);
  });

  it('mismatched hidden sizes between layers', () => {
    const params = mk('gru', 3, 2, { layers: 2, dirs: 1, batchFirst: false, bias: true });
    params.weight_hh_l1 = wg.zeros([9, 3], { dtype: 'float64' });
    expectError(() => wg.gru(wg.zeros([2, 1, 3], { dtype: 'float64' }), null, params, { numLayers: 2 }), wg.ShapeError,
      /^gru: weight_hh_l1 has shape \[9, 3\] but must be \[6, 2\]/);
  });

  it('initial state with the wrong batch size', () => {
    const params = mk('lstm');
    const h0 = wg.zeros([1, 5, 2], { dtype: 'float64' }), c0 = wg.zeros([1, 3, 2], { dtype: 'float64' });
    expectError(() => wg.lstm(wg.zeros([2, 3, 3], { dtype: 'float64' }), [h0, c0], params), wg.ShapeError,
      /^lstm: h0 has shape \[1, 5, 2\] but must be \[1, 3, 2\] \(numLayers·directions = 1, batch size 3 from x of shape \[2, 3, 3\], hidden_size 2\)$/);
  });

  it('a sequence of length 0', () => {
    expectError(() => wg.gru(wg.zeros([0, 2, 3], { dtype: 'float64' }), null, mk('gru')), wg.ShapeError,
      /^gru: x has shape \[0, 2, 3\], a sequence of length 0; the sequence length must be larger than 0$/);
  });

  it('x of rank 4, and dtype mixes', () => {
    expectError(() => wg.lstm(wg.zeros([2, 2, 2, 3], { dtype: 'float64' }), null, mk('lstm')), wg.ShapeError, /^lstm: x must be 2-D .* got shape \[2, 2, 2, 3\]$/);
    expectError(() => wg.lstm(wg.zeros([2, 2, 3]), null, mk('lstm')), wg.DTypeError,
      /^lstm: weight_ih_l0 is float64 \[8, 3\] but x is float32 \[2, 2, 3\]; all weights must have x's dtype$/);
  });

  it('missing, unexpected or miscounted params', () => {
    const x = () => wg.zeros([2, 1, 3], { dtype: 'float64' });
    const params = mk('lstm');
    expectError(() => wg.lstm(x(), null, params, { bidirectional: true }), wg.ValueError,
      /^lstm: params is missing weight_ih_l0_reverse, weight_hh_l0_reverse, bias_ih_l0_reverse, bias_hh_l0_reverse \(with numLayers 1, bidirectional true/);
    expectError(() => wg.lstm(x(), null, { ...params, weight_ih_0: params.weight_ih_l0 }), wg.ValueError, /^lstm: params has unexpected entries weight_ih_0;/);
    expectError(() => wg.lstm(x(), null, Object.values(params).slice(0, 3)), wg.ValueError, /^lstm: params has 3 tensors; .* has 4 \(with biases\) or 2 \(without\)$/);
    expectError(() => wg.lstm(x(), [params.bias_ih_l0] as any, params), wg.ValueError, /^lstm: hx must be \[h0, c0\]/);
    expectError(() => wg.lstm(x(), [wg.zeros([1, 1, 2], { dtype: 'float64' }), undefined] as any, params), wg.ValueError,
      /^lstm: hx must be \[h0, c0\] \(two tensors\) or omitted for zero states, got an array of 2 \(Tensor, undefined\)$/);
  });

  it('bad options', () => {
    const x = () => wg.zeros([2, 1, 3], { dtype: 'float64' });
    expectError(() => wg.gru(x(), null, mk('gru'), { numLayers: 0 }), wg.ValueError, /^gru: numLayers must be an integer >= 1, got 0$/);
    expectError(() => wg.gru(x(), null, mk('gru'), { dropout: 1.5 }), wg.ValueError, /^gru: dropout must be a probability in \[0, 1\], got 1.5$/);
  });
});

describe('dropout between layers', () => {
  it('is off for training: false and zeroes the next layer input for p = 1', () => {
    const c: Config = { layers: 2, dirs: 1, batchFirst: false, bias: true };
    const x = dense([3, 2, 2], 21), P = makeParams('gru', 2, H, c, 90);
    wg.tidy(() => {
      const params = toParams(P);
      const ref = refRnn('gru', x, null, null, P, c);
      expectClose(wg.gru(toT(x), null, params, { numLayers: 2, dropout: 1, training: false })[0].toArray(), ref.output, 1e-12, 1e-13);
      // p = 1: layer 1 sees zeros, which is the reference on layer 1 alone with a zero input
      const [out] = wg.gru(toT(x), null, params, { numLayers: 2, dropout: 1 });
      const layer1 = Object.fromEntries(Object.entries(P).filter(([k]) => k.endsWith('l1')).map(([k, v]) => [k.replace('l1', 'l0'), v]));
      const zeroIn = refRnn('gru', { data: new Array(3 * 2 * H).fill(0), shape: [3, 2, H] }, null, null, layer1, { ...c, layers: 1 });
      expectClose(out.toArray(), zeroIn.output, 1e-12, 1e-13);
    });
  });
});
