// MATLAB's sequence layers (src/matlab/layers.ts, src/matlab/dlnetwork.ts): sequenceInputLayer,
// lstmLayer and gruLayer on 'CBT' data, against the recurrences of MATLAB's documentation
// written out here in plain JavaScript from the layers' own learnables (MATLAB's layout:
// InputWeights [W_i; W_f; W_g; W_o] for the LSTM, [W_r; W_z; W_h̃] for the GRU, one Bias, the
// GRU's RecurrentBias), for OutputMode 'sequence' and 'last', the three ResetGateModes, the
// HiddenState / CellState that forward returns and the network keeps, MATLAB's initialisers,
// gradients against central differences, and the errors, named.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose } from './helpers.js';
import { expectError } from './nn-helpers.js';
import { expectLearnableGradients } from './matlab-helpers.js';
import { sequenceInputLayer, lstmLayer, gruLayer, fullyConnectedLayer, imageInputLayer } from '../src/matlab/layers.js';
import { dlnetwork, forward, predict, resetState, type DlNetwork } from '../src/matlab/dlnetwork.js';
import { dlarray } from '../src/matlab/dlarray.js';
import { copyInto } from '../src/nn/module.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

type M = number[][];
const sig = (v: number) => 1 / (1 + Math.exp(-v));
/** rows k·H … (k+1)·H − 1 of W times v (W's rows are the stacked gates) */
const gate = (W: M, k: number, H: number, v: number[]) => Array.from({ length: H }, (_, i) => W[k * H + i].reduce((s, w, j) => s + w * v[j], 0));
const col = (X: number[][][], b: number, t: number) => X.map((c) => c[b][t]);

/** MATLAB's LSTM equations, observation by observation: Y [H][B][T], and the last h and c. */
function lstmRef(X: number[][][], W: M, R: M, bias: number[], h0: M, c0: M) {
  const H = R[0].length, B = X[0].length, T = X[0][0].length;
  const Y = Array.from({ length: H }, () => Array.from({ length: B }, () => new Array<number>(T).fill(0)));
  const hs: M = [], cs: M = [];
  for (let b = 0; b < B; b++) {
    let h = h0.map((r) => r[r.length === 1 ? 0 : b]), c = c0.map((r) => r[r.length === 1 ? 0 : b]);
    for (let t = 0; t < T; t++) {
      const x = col(X, b, t);
      const pre = (k: number) => gate(W, k, H, x).map((v, i) => v + gate(R, k, H, h)[i] + bias[k * H + i]);
      const i = pre(0).map(sig), f = pre(1).map(sig), g = pre(2).map(Math.tanh), o = pre(3).map(sig);
      c = c.map((cv, j) => f[j] * cv + i[j] * g[j]);
      h = c.map((cv, j) => o[j] * Math.tanh(cv));
      h.forEach((v, j) => { Y[j][b][t] = v; });
    }
    hs.push(h); cs.push(c);
  }
  const T2 = (m: M) => m[0].map((_, j) => m.map((r) => r[j])); // [B][H] → [H][B]
  return { Y, h: T2(hs), c: T2(cs) };
}

/** MATLAB's GRU equations for each ResetGateMode (RB the RecurrentBias, zeros when the mode has none). */
function gruRef(X: number[][][], W: M, R: M, bias: number[], RB: number[], mode: string, h0: M) {
  const H = R[0].length, B = X[0].length, T = X[0][0].length;
  const Y = Array.from({ length: H }, () => Array.from({ length: B }, () => new Array<number>(T).fill(0)));
  const hs: M = [];
  for (let b = 0; b < B; b++) {
    let h = h0.map((r) => r[r.length === 1 ? 0 : b]);
    for (let t = 0; t < T; t++) {
      const x = col(X, b, t);
      const wx = (k: number) => gate(W, k, H, x).map((v, i) => v + bias[k * H + i]);
      const rh = (k: number, v: number[]) => gate(R, k, H, v).map((u, i) => u + RB[k * H + i]);
      const r = wx(0).map((v, i) => sig(v + rh(0, h)[i]));
      const z = wx(1).map((v, i) => sig(v + rh(1, h)[i]));
      const cand = mode === 'before-multiplication'
        ? wx(2).map((v, i) => Math.tanh(v + rh(2, h.map((hv, j) => r[j] * hv))[i]))
        : wx(2).map((v, i) => Math.tanh(v + r[i] * rh(2, h)[i]));
      h = h.map((hv, i) => (1 - z[i]) * cand[i] + z[i] * hv);
      h.forEach((v, j) => { Y[j][b][t] = v; });
    }
    hs.push(h);
  }
  return { Y, h: hs[0].map((_, j) => hs.map((r) => r[j])) };
}

const L = (net: DlNetwork, layer: string, p: string): Tensor => net.Learnables.find((r) => r.Layer === layer && r.Parameter === p)!.Value;
const arr = (t: Tensor) => t.toArray() as number[][];
const flat1 = (t: Tensor) => Array.from(t.data() as Float32Array | Float64Array);

describe('sequenceInputLayer and lstmLayer', () => {
  it("MATLAB's layout and initialisers: InputWeights 4H×C (Glorot), RecurrentWeights 4H×H (orthogonal), Bias 4H×1 (unit forget gate), State H×1", () => {
    wg.seed(1);
    const net = dlnetwork([sequenceInputLayer(3), lstmLayer(4)]);
    expect(net.Layers.map((l) => `${l.Name} ${l.Type}`)).toEqual(['sequenceinput SequenceInputLayer', 'lstm LSTMLayer']);
    expect(net.Learnables.map((r) => `${r.Parameter} ${r.Value.shape.join('×')}`)).toEqual(['InputWeights 16×3', 'RecurrentWeights 16×4', 'Bias 16×1']);
    expect(net.State.map((r) => `${r.Parameter} ${r.Value.shape.join('×')}`)).toEqual(['HiddenState 4×1', 'CellState 4×1']);
    expect(flat1(L(net, 'lstm', 'Bias'))).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const R = arr(L(net, 'lstm', 'RecurrentWeights'));
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) {
      expect(Math.abs(R.reduce((s, row) => s + row[a] * row[b], 0) - (a === b ? 1 : 0))).toBeLessThan(1e-5); // RᵀR = I
    }
    const w = flat1(L(net, 'lstm', 'InputWeights'));
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / (3 + 16)));
    expect((net.Layers[1] as any).InputSize).toBe(3);
    net.dispose();
  });

  it("OutputMode 'sequence' ('CBT') and 'last' ('CB') equal MATLAB's recurrence; forward's state is the last step, which the network then starts from", () => {
    wg.seed(2);
    const net = dlnetwork([sequenceInputLayer(3), lstmLayer(4, 'Name', 'seq'), lstmLayer(2, 'OutputMode', 'last', 'Name', 'last')]);
    wg.tidy(() => {
      for (const r of net.Learnables) if (r.Parameter === 'Bias') copyInto(r.Value, wg.rand(r.Value.shape).sub(0.5));
      const X = dlarray(wg.randn([3, 2, 5]), 'CBT');
      const x = X.toArray() as number[][][];
      const [Y1, Y2, state] = forward(net, X, { Outputs: ['seq', 'last'] }) as [Tensor, Tensor, { Layer: string; Parameter: string; Value: Tensor }[]];
      expect([Y1.format, Y1.shape, Y2.format, Y2.shape]).toEqual(['CBT', [4, 2, 5], 'CB', [2, 2]]);
      const z4 = [[0], [0], [0], [0]], z2 = [[0], [0]];
      const r1 = lstmRef(x, arr(L(net, 'seq', 'InputWeights')), arr(L(net, 'seq', 'RecurrentWeights')), flat1(L(net, 'seq', 'Bias')), z4, z4);
      expectClose(Y1.data(), r1.Y.flat(2), 1e-5, 1e-5);
      const r2 = lstmRef(Y1.toArray() as number[][][], arr(L(net, 'last', 'InputWeights')), arr(L(net, 'last', 'RecurrentWeights')), flat1(L(net, 'last', 'Bias')), z2, z2);
      expectClose(Y2.data(), r2.h.flat(), 1e-5, 1e-5);
      expect(state.map((r) => `${r.Layer}/${r.Parameter} ${r.Value.shape.join('×')}`)).toEqual(['seq/HiddenState 4×2', 'seq/CellState 4×2', 'last/HiddenState 2×2', 'last/CellState 2×2']);
      expectClose(state[0].Value.data(), r1.h.flat(), 1e-5, 1e-5);
      expectClose(state[1].Value.data(), r1.c.flat(), 1e-5, 1e-5);
      // the network keeps that state: the next sequence continues from it, one column per observation
      net.State = state;
      const X2 = dlarray(wg.randn([3, 2, 3]), 'CBT');
      const [Y3] = predict(net, X2, { Outputs: ['seq'] });
      const r3 = lstmRef(X2.toArray() as number[][][], arr(L(net, 'seq', 'InputWeights')), arr(L(net, 'seq', 'RecurrentWeights')), flat1(L(net, 'seq', 'Bias')), r1.h, r1.c);
      expectClose(Y3.data(), r3.Y.flat(2), 1e-5, 1e-5);
      return undefined;
    });
    // a batch of another size needs resetState (MATLAB's), which puts the zero H × 1 state back
    const X3 = dlarray(wg.randn([3, 3, 2]), 'CBT');
    expectError(() => predict(net, X3), wg.ShapeError, ["layer 'seq'", 'HiddenState has 2 columns', '3 observations', 'resetState']);
    expect(resetState(net)).toBe(net);
    expect(net.State.map((r) => r.Value.shape.join('×'))).toEqual(['4×1', '4×1', '2×1', '2×1']);
    expect(Math.max(...flat1(net.State[0].Value).map(Math.abs))).toBe(0);
    wg.tidy(() => {
      // from the zero state again, on an unformatted input (labelled 'CBT' by the input layer)
      const x = wg.randn([3, 3, 2]);
      const ref = lstmRef(x.toArray() as number[][][], arr(L(net, 'seq', 'InputWeights')), arr(L(net, 'seq', 'RecurrentWeights')), flat1(L(net, 'seq', 'Bias')), [[0], [0], [0], [0]], [[0], [0], [0], [0]]);
      expectClose(predict(net, x, { Outputs: 'seq' }).data(), ref.Y.flat(2), 1e-5, 1e-5);
      return undefined;
    });
    X3.dispose();
    net.dispose();
    const one = dlnetwork([lstmLayer(2)], dlarray(wg.randn([3, 4]), 'CB'));
    wg.tidy(() => {
      const X = dlarray(wg.randn([3, 4]), 'CB');
      const Y = predict(one, X);
      expect([Y.format, Y.shape]).toEqual(['CB', [2, 4]]);
      const ref = lstmRef((X.toArray() as number[][]).map((r) => r.map((v) => [v])), arr(L(one, 'lstm', 'InputWeights')), arr(L(one, 'lstm', 'RecurrentWeights')), flat1(L(one, 'lstm', 'Bias')), [[0], [0]], [[0], [0]]);
      expectClose(Y.data(), ref.h.flat(), 1e-5, 1e-5);
      return undefined;
    });
    one.dispose();
  });
});

describe('gruLayer', () => {
  for (const mode of ['after-multiplication', 'before-multiplication', 'recurrent-bias-after-multiplication'] as const) {
    it(`ResetGateMode '${mode}': MATLAB's recurrence, the sequence and the state`, () => {
      wg.seed(3);
      const net = dlnetwork([sequenceInputLayer(3), gruLayer(4, 'ResetGateMode', mode)]);
      const rb = mode === 'recurrent-bias-after-multiplication';
      expect(net.Learnables.map((r) => `${r.Parameter} ${r.Value.shape.join('×')}`)).toEqual(
        ['InputWeights 12×3', 'RecurrentWeights 12×4', 'Bias 12×1', ...(rb ? ['RecurrentBias 12×1'] : [])]);
      expect(net.State.map((r) => `${r.Parameter} ${r.Value.shape.join('×')}`)).toEqual(['HiddenState 4×1']);
      wg.tidy(() => {
        for (const r of net.Learnables) if (r.Parameter.endsWith('Bias')) copyInto(r.Value, wg.rand(r.Value.shape).sub(0.5));
        const h0 = wg.rand([4, 1]).sub(0.5);
        net.State = [{ Layer: 'gru', Parameter: 'HiddenState', Value: wg.clone(h0) }];
        const X = dlarray(wg.randn([3, 2, 4]), 'CBT');
        const [Y, state] = forward(net, X);
        const ref = gruRef(X.toArray() as number[][][], arr(L(net, 'gru', 'InputWeights')), arr(L(net, 'gru', 'RecurrentWeights')), flat1(L(net, 'gru', 'Bias')),
          rb ? flat1(L(net, 'gru', 'RecurrentBias')) : new Array<number>(12).fill(0), mode, arr(h0));
        expect([Y.format, Y.shape]).toEqual(['CBT', [4, 2, 4]]);
        expectClose(Y.data(), ref.Y.flat(2), 1e-5, 1e-5);
        expectClose(state[0].Value.data(), ref.h.flat(), 1e-5, 1e-5);
        return undefined;
      });
      net.dispose();
    });
  }
});

describe('gradients and errors', () => {
  it('an LSTM → GRU (before-multiplication) → fullyconnect network: gradients match central differences (float64)', () => {
    wg.seed(4);
    const net = dlnetwork([sequenceInputLayer(2), lstmLayer(3), gruLayer(2, 'ResetGateMode', 'before-multiplication', 'OutputMode', 'last'), fullyConnectedLayer(1)]);
    net.to('float64');
    const X = dlarray(wg.randn([2, 3, 4], { dtype: 'float64' }), 'CBT');
    const lossOf = (n: DlNetwork) => forward(n, X)[0].square().mean();
    const g = wg.dlfeval((n: DlNetwork) => wg.dlgradient(lossOf(n), n.Learnables), net) as { Value: Tensor }[];
    expectLearnableGradients(net, lossOf, g, (n) => [0, Math.floor(n / 2), n - 1]);
    wg.dispose([g.map((r) => r.Value), X]);
    net.dispose();
  });

  it('bad input is named: sizes, options, formats', () => {
    expectError(() => lstmLayer(0), wg.ValueError, ['lstmLayer', 'numHiddenUnits']);
    expectError(() => lstmLayer(3, 'OutputMode', 'all'), wg.ValueError, ['lstmLayer', 'OutputMode', '"all"']);
    expectError(() => gruLayer(3, 'ResetGateMode', 'after'), wg.ValueError, ['gruLayer', 'ResetGateMode']);
    expectError(() => gruLayer(3, 'ResetGateMod', 'after-multiplication'), wg.ValueError, ['gruLayer', "'ResetGateMod'", "Did you mean 'ResetGateMode'?"]);
    expectError(() => lstmLayer(3, 'BiasInitializer', 'unit-forget'), wg.ValueError, ['lstmLayer', 'BiasInitializer']);
    expectError(() => sequenceInputLayer([28, 28, 1] as unknown as number), wg.ValueError, ['sequenceInputLayer', 'image sequences']);
    expectError(() => dlnetwork([imageInputLayer([4, 4, 1]), lstmLayer(2)]), wg.ValueError, ["layer 'lstm'", "'SSCB'", "'CBT'"]);
    const net = dlnetwork([sequenceInputLayer(3), lstmLayer(2)]);
    const X4 = dlarray(wg.randn([4, 2, 3]), 'CBT');
    expectError(() => predict(net, X4), wg.ShapeError, ['predict', "'sequenceinput'", '3']);
    X4.dispose();
    wg.tidy(() => { expect(predict(net, wg.randn([3, 2, 3])).shape).toEqual([2, 2, 3]); return undefined; });
    net.dispose();
  });
});
