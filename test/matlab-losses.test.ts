// MATLAB's losses (src/matlab/losses.ts): crossentropy, mse, l1loss, l2loss, huber and ctc with
// MATLAB's definitions, layouts ('CB' by default: classes along dim 0, observations along dim 1)
// and options. Values against plain JS references written out per element; the issue's
// softmax-output case (MATLAB 0.31 where PyTorch's crossEntropy gives 0.74); gradients by central
// differences and JVP against VJP (the op-rules registry, test/registry/matlab-losses.ts, checks
// second derivatives); bad input named; nothing leaks.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, flat, uniform, expectNoLeak, expectSameBits } from './helpers.js';
import { checkJvpVjp, expectError } from './nn-helpers.js';
import { crossentropy, mse, l1loss, l2loss, huber, ctc } from '../src/matlab/losses.js';
import { dlarray } from '../src/matlab/dlarray.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const t64 = (v: number[], shape: number[]) => wg.tensor(v, { shape, dtype: 'float64' });
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

/** C×B probabilities (each column a softmax) and one-hot targets, as flat row-major [C, B] arrays. */
function classification(C: number, B: number, seed: number): { y: number[]; t: number[]; labels: number[] } {
  const z = uniform(C * B, -2, 2, seed);
  const y = new Array<number>(C * B), t = new Array<number>(C * B).fill(0);
  const labels = uniform(B, 0, C, seed + 1).map(Math.floor);
  for (let b = 0; b < B; b++) {
    const m = Math.max(...Array.from({ length: C }, (_, c) => z[c * B + b]));
    const e = Array.from({ length: C }, (_, c) => Math.exp(z[c * B + b] - m));
    const s = sum(e);
    for (let c = 0; c < C; c++) y[c * B + b] = e[c] / s;
    t[labels[b] * B + b] = 1;
  }
  return { y, t, labels };
}

/** expectError with the call in a tidy, so the arguments it makes are freed with it. */
const bad = (fn: () => unknown, cls: new (...a: any[]) => Error, parts: (string | RegExp)[]) => expectError(() => wg.tidy(fn), cls, parts);

/** [C, B] → [B, C] of a flat row-major array. */
const transposeFlat = (v: number[], C: number, B: number) => Array.from({ length: C * B }, (_, k) => v[(k % C) * B + Math.floor(k / C)]);

describe('crossentropy: MATLAB\'s, on probabilities', () => {
  it('the issue\'s case: a softmax output whose MATLAB crossentropy is 0.31 (PyTorch\'s crossEntropy on it: 0.74)', () => {
    expectNoLeak(() => wg.tidy(() => {
      // logits [1.7, 0, 0] for one observation of 3 classes, the first one right
      const e = Math.exp(1.7), p = [e / (e + 2), 1 / (e + 2), 1 / (e + 2)];
      const matlab = -Math.log(p[0]);
      const ep = p.map(Math.exp), torch = -Math.log(ep[0] / sum(ep)); // softmax applied again to probabilities
      expect(matlab).toBeCloseTo(0.3114, 4);
      expect(torch).toBeCloseTo(0.7415, 4);
      const Y = wg.softmax(t64([1.7, 0, 0], [3, 1]), 0);
      const T = t64([1, 0, 0], [3, 1]);
      expectClose(crossentropy(Y, T).item(), matlab, 1e-15, 0);
      expectClose(wg.crossEntropy(Y.t(), T.t()).item(), torch, 1e-15, 0);
      // the two agree when each gets what it expects: probabilities for MATLAB, logits for PyTorch
      expectClose(wg.crossEntropy(t64([1.7, 0, 0], [1, 3]), T.t()).item(), matlab, 1e-15, 0);
    }));
  });

  it('single-label: −Σ T·ln Y / N, N the observations (dim 1 of a \'CB\' array); \'BC\' and \'SSCB\' layouts', () => {
    const C = 4, B = 5;
    const { y, t, labels } = classification(C, B, 3);
    const ref = -sum(labels.map((c, b) => Math.log(y[c * B + b]))) / B;
    expectNoLeak(() => wg.tidy(() => {
      expectClose(crossentropy(t64(y, [C, B]), t64(t, [C, B])).item(), ref, 1e-14, 0);
      expectClose(crossentropy(t64(y, [C, B]), t64(t, [C, B]), { DataFormat: 'CB' }).item(), ref, 1e-14, 0);
      expectClose(crossentropy(t64(transposeFlat(y, C, B), [B, C]), t64(transposeFlat(t, C, B), [B, C]), { DataFormat: 'BC' }).item(), ref, 1e-14, 0);
      // targets as nested JS arrays
      const nestedT = Array.from({ length: C }, (_, c) => t.slice(c * B, (c + 1) * B));
      expectClose(crossentropy(t64(y, [C, B]), nestedT).item(), ref, 1e-14, 0);
      // one observation as a vector: 'CB' with a trailing singleton B
      expectClose(crossentropy(t64(y.filter((_, k) => k % B === 0), [C]), t.filter((_, k) => k % B === 0)).item(), -Math.log(y[labels[0] * B]), 1e-14, 0);
    }));
    // 'SSCB' [2, 1, C, 3]: every pixel a classification; N = 3 observations
    const H = 2, N = 3;
    const d = classification(C, H * N, 9); // [C, H·N], reordered to [H, 1, C, N]
    const ySS = new Array<number>(H * C * N), tSS = new Array<number>(H * C * N);
    for (let h = 0; h < H; h++) for (let c = 0; c < C; c++) for (let n = 0; n < N; n++) {
      ySS[(h * C + c) * N + n] = d.y[c * H * N + h * N + n];
      tSS[(h * C + c) * N + n] = d.t[c * H * N + h * N + n];
    }
    const refSS = -sum(d.labels.map((c, k) => Math.log(d.y[c * H * N + k]))) / N;
    expectNoLeak(() => wg.tidy(() => {
      expectClose(crossentropy(t64(ySS, [H, 1, C, N]), t64(tSS, [H, 1, C, N]), { DataFormat: 'SSCB' }).item(), refSS, 1e-14, 0);
    }));
  });

  it('multilabel (ClassificationMode, or TargetCategories \'independent\'): −Σ (T ln Y + (1 − T) ln(1 − Y)) / N', () => {
    const C = 3, B = 4;
    const y = uniform(C * B, 0.05, 0.95, 5), t = uniform(C * B, 0, 1, 6).map((v) => (v < 0.5 ? 0 : 1));
    const ref = -sum(y.map((p, k) => t[k] * Math.log(p) + (1 - t[k]) * Math.log(1 - p))) / B;
    expectNoLeak(() => wg.tidy(() => {
      const Y = t64(y, [C, B]), T = t64(t, [C, B]);
      expectClose(crossentropy(Y, T, { ClassificationMode: 'multilabel' }).item(), ref, 1e-14, 0);
      expectClose(crossentropy(Y, T, { TargetCategories: 'independent' }).item(), ref, 1e-14, 0);
      expectClose(crossentropy(Y, T, { TargetCategories: 'exclusive' }).item(), crossentropy(Y, T).item(), 0, 0);
      // MATLAB's name-value pairs, names and text values case-insensitive
      expectClose(crossentropy(Y, T, 'ClassificationMode', 'multilabel').item(), ref, 1e-14, 0);
      expectClose(crossentropy(Y, T, 'classificationmode', 'MultiLabel').item(), ref, 1e-14, 0);
    }));
  });

  it('NormalizationFactor: batch-size (default), all-elements, none, mask-included (per observation); Reduction \'none\'', () => {
    const C = 3, B = 4;
    const y = uniform(C * B, 0.05, 0.95, 7), t = uniform(C * B, 0, 1, 8);
    const mask = [1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0];
    const e = y.map((p, k) => -t[k] * Math.log(p));
    const total = sum(e), masked = e.map((v, k) => v * mask[k]);
    const perObs = Array.from({ length: B }, (_, b) => {
      const s = sum([0, 1, 2].map((c) => masked[c * B + b])), n = sum([0, 1, 2].map((c) => mask[c * B + b]));
      return s / n;
    });
    expectNoLeak(() => wg.tidy(() => {
      const Y = t64(y, [C, B]), T = t64(t, [C, B]);
      expectClose(crossentropy(Y, T, { NormalizationFactor: 'batch-size' }).item(), total / B, 1e-14, 0);
      expectClose(crossentropy(Y, T, { NormalizationFactor: 'all-elements' }).item(), total / (C * B), 1e-14, 0);
      expectClose(crossentropy(Y, T, { NormalizationFactor: 'none' }).item(), total, 1e-14, 0);
      expectClose(crossentropy(Y, T, { Mask: wg.tensor(mask.map(Boolean), { shape: [C, B], dtype: 'bool' }) }).item(), sum(masked) / B, 1e-14, 0);
      expectClose(crossentropy(Y, T, { Mask: t64(mask, [C, B]), NormalizationFactor: 'mask-included' }).item(), sum(perObs) / B, 1e-14, 0);
      // a full mask: mask-included is all-elements
      expectClose(crossentropy(Y, T, { Mask: 1, NormalizationFactor: 'mask-included' }).item(), total / (C * B), 1e-14, 0);
      // a mask broadcast along C (one flag per observation)
      expectClose(crossentropy(Y, T, { Mask: [[1, 0, 1, 1]] }).item(), sum(e.filter((_, k) => k % B !== 1)) / B, 1e-14, 0);
      const none = crossentropy(Y, T, { Reduction: 'none', Mask: t64(mask, [C, B]) });
      expect(none.shape).toEqual([C, B]);
      expectClose(flat(none.toArray()), masked, 1e-15, 0);
    }));
  });

  it('weights: class (along C), observation (along B), element; WeightsFormat; positional or the Weights option', () => {
    const C = 3, B = 4;
    const y = uniform(C * B, 0.05, 0.95, 9), t = uniform(C * B, 0, 1, 10);
    const e = y.map((p, k) => -t[k] * Math.log(p));
    const wc = [0.5, 2, 1], wb = [1, 0.25, 3, 2], we = uniform(C * B, 0.5, 1.5, 11);
    expectNoLeak(() => wg.tidy(() => {
      const Y = t64(y, [C, B]), T = t64(t, [C, B]);
      expectClose(crossentropy(Y, T, wc).item(), sum(e.map((v, k) => v * wc[Math.floor(k / B)])) / B, 1e-14, 0);
      expectClose(crossentropy(Y, T, t64(wb, [B])).item(), sum(e.map((v, k) => v * wb[k % B])) / B, 1e-14, 0);
      expectClose(crossentropy(Y, T, t64(we, [C, B])).item(), sum(e.map((v, k) => v * we[k])) / B, 1e-14, 0);
      expectClose(crossentropy(Y, T, { Weights: wc }).item(), crossentropy(Y, T, wc).item(), 0, 0);
      expectClose(crossentropy(Y, T, wc, { WeightsFormat: 'C' }).item(), crossentropy(Y, T, wc).item(), 0, 0);
      expectClose(crossentropy(Y, T, t64(wc, [C, 1]), 'WeightsFormat', 'CB').item(), crossentropy(Y, T, wc).item(), 0, 0);
      // 'BC' weights for a 'CB' Y: the labels, not the order, place them
      const w2 = uniform(B * C, 0.5, 1.5, 12); // [B, C]
      expectClose(crossentropy(Y, T, t64(w2, [B, C]), { WeightsFormat: 'BC' }).item(),
        sum(e.map((v, k) => v * w2[(k % B) * C + Math.floor(k / B)])) / B, 1e-14, 0);
      // C = B: a vector is ambiguous without WeightsFormat
      const Y3 = t64(y.slice(0, 9), [3, 3]), T3 = t64(t.slice(0, 9), [3, 3]);
      const e3 = e.slice(0, 0).concat(y.slice(0, 9).map((p, k) => -t[k] * Math.log(p)));
      expectClose(crossentropy(Y3, T3, wc, { WeightsFormat: 'B' }).item(), sum(e3.map((v, k) => v * wc[k % 3])) / 3, 1e-14, 0);
      expectClose(crossentropy(Y3, T3, wc, { WeightsFormat: 'C' }).item(), sum(e3.map((v, k) => v * wc[Math.floor(k / 3)])) / 3, 1e-14, 0);
    }));
  });

  it('Y is bounded away from 0 at eps(class(Y)) as MATLAB: ln(0) is never taken', () => {
    expectNoLeak(() => wg.tidy(() => {
      expectClose(crossentropy(t64([0, 1], [2, 1]), t64([1, 0], [2, 1])).item(), 52 * Math.LN2, 1e-15, 0);
      expectClose(crossentropy(wg.tensor([[0], [1]]), wg.tensor([[1], [0]])).item(), 23 * Math.LN2, 1e-6, 0);
      const g = wg.grad((y: Tensor) => crossentropy(y, t64([1, 0], [2, 1])))(t64([0, 1], [2, 1])) as Tensor;
      expect(flat(g.toArray()).every(Number.isFinite)).toBe(true);
      // multilabel at Y = 1 with T = 0: ln(1 − Y) bounded too
      expectClose(crossentropy(t64([1], [1, 1]), t64([0], [1, 1]), { ClassificationMode: 'multilabel' }).item(), 52 * Math.LN2, 1e-15, 0);
    }));
  });

  it('gradients by central differences (Y, targets, weights) and JVP against VJP; float32', () => {
    const C = 3, B = 4;
    const Y = t64(uniform(C * B, 0.05, 0.95, 13), [C, B]), T = t64(uniform(C * B, 0, 1, 14), [C, B]), w = t64([0.5, 2, 1], [C]);
    const mask = [[1, 0, 1, 1], [1, 1, 0, 1], [0, 1, 1, 0]];
    checkGrad((a, b, c) => crossentropy(a, b, c), [Y, T, w]);
    checkGrad((a, b) => crossentropy(a, b, { ClassificationMode: 'multilabel', Mask: mask, NormalizationFactor: 'mask-included' }), [Y, T]);
    checkGrad((a) => crossentropy(a, T, { Reduction: 'none' }), [Y]);
    checkJvpVjp((a) => crossentropy(a, T, w), Y);
    checkJvpVjp((a) => crossentropy(a, T, { ClassificationMode: 'multilabel' }), Y);
    wg.tidy(() => {
      const y32 = crossentropy(Y.to('float32'), T.to('float32'));
      expect(y32.dtype).toBe('float32');
      expectClose(y32.item(), crossentropy(Y, T).item(), 1e-6, 0);
    });
    wg.dispose([Y, T, w]);
  });
});

describe('mse: MATLAB\'s half mean squared error', () => {
  it('Σ (Y − T)² / (2N), N the observations: \'CB\' by default, \'BC\', \'SSCB\' (MATLAB\'s example layout)', () => {
    const y = uniform(12, -1, 1, 20), t = uniform(12, -1, 1, 21);
    const sq = sum(y.map((v, i) => (v - t[i]) ** 2));
    expectNoLeak(() => wg.tidy(() => {
      expectClose(mse(t64(y, [4, 3]), t64(t, [4, 3])).item(), sq / 6, 1e-14, 0);
      expectClose(mse(t64(y, [4, 3]), t64(t, [4, 3]), { DataFormat: 'BC' }).item(), sq / 8, 1e-14, 0);
      expectClose(mse(t64(y, [4, 3]), t64(t, [4, 3]), 'DataFormat', 'BC').item(), sq / 8, 1e-14, 0);
      // MATLAB's example: one 6×6×1 observation against ones ('SSCB'): N = 1
      const img = uniform(36, 0, 1, 22);
      expectClose(mse(t64(img, [6, 6, 1, 1]), wg.ones([6, 6, 1, 1], { dtype: 'float64' }), { DataFormat: 'SSCB' }).item(),
        sum(img.map((v) => (v - 1) ** 2)) / 2, 1e-14, 0);
      // mse is half of l2loss
      expectClose(mse(t64(y, [4, 3]), t64(t, [4, 3])).item() * 2, l2loss(t64(y, [4, 3]), t64(t, [4, 3])).item(), 1e-15, 0);
      // a vector is one observation ('CB', B = 1); a scalar too
      expectClose(mse(t64(y, [12]), t64(t, [12])).item(), sq / 2, 1e-14, 0);
      expect(mse(t64([3], []), 1).item()).toBe(2);
    }));
  });

  it('the same bits as the old halfMse (Σ of (Y − T)²/(2N)) for a [B, C] array read as \'BC\' (the determinism program\'s case)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      wg.tidy(() => {
        const y = wg.tensor(uniform(40, -4, 4, 23), { shape: [8, 5], dtype }), t = wg.tensor(uniform(40, 0, 1, 24), { shape: [8, 5], dtype });
        const old = y.sub(t).square().div(16).sum();
        expectSameBits(mse(y, t, { DataFormat: 'BC' }).data() as ArrayLike<number>, old.data() as ArrayLike<number>, `mse ${dtype}`);
      });
    }
  });

  it('gradients by central differences, JVP against VJP', () => {
    const Y = t64(uniform(12, -1, 1, 25), [2, 2, 1, 3]), T = t64(uniform(12, -1, 1, 26), [2, 2, 1, 3]);
    checkGrad((a, b) => mse(a, b, { DataFormat: 'SSCB' }), [Y, T]);
    checkJvpVjp((a) => mse(a, T, { DataFormat: 'SSCB' }), Y);
    wg.dispose([Y, T]);
  });

  it('takes only DataFormat, as MATLAB (NormalizationFactor and weights are l2loss\'s)', () => {
    const Y = wg.ones([2, 3]), T = wg.zeros([2, 3]);
    expectError(() => mse(Y, T, { NormalizationFactor: 'all-elements' } as any), wg.ValueError, ['mse', "unknown option 'NormalizationFactor'", "valid keys: 'DataFormat'"]);
    expectError(() => (mse as any)(Y, T, T), wg.ValueError, ['mse', 'too many positional arguments', 'argument 3 is a Tensor']);
    wg.dispose([Y, T]);
  });
});

describe('l1loss, l2loss, huber: MATLAB\'s regression losses', () => {
  const C = 3, B = 4;
  const y = uniform(C * B, -2, 2, 30), t = uniform(C * B, -2, 2, 31);
  const d = y.map((v, i) => v - t[i]);
  const huberRef = (delta: number) => d.map((v) => (Math.abs(v) <= delta ? 0.5 * v * v : delta * Math.abs(v) - 0.5 * delta * delta));

  it('defaults: Σ|Y − T| / N, Σ (Y − T)² / N, Σ huber / N (TransitionPoint 1); N the observations', () => {
    expectNoLeak(() => wg.tidy(() => {
      const Y = t64(y, [C, B]), T = t64(t, [C, B]);
      expectClose(l1loss(Y, T).item(), sum(d.map(Math.abs)) / B, 1e-14, 0);
      expectClose(l2loss(Y, T).item(), sum(d.map((v) => v * v)) / B, 1e-14, 0);
      expectClose(huber(Y, T).item(), sum(huberRef(1)) / B, 1e-14, 0);
      expectClose(huber(Y, T, { TransitionPoint: 0.5 }).item(), sum(huberRef(0.5)) / B, 1e-14, 0);
      expectClose(huber(Y, T, 'TransitionPoint', 2.5, 'NormalizationFactor', 'all-elements').item(), sum(huberRef(2.5)) / (C * B), 1e-14, 0);
      // MATLAB's l2loss example: 10 responses × 12 observations, the mean over observations of the squared error
      const yy = uniform(120, 0, 1, 32), tt = uniform(120, 0, 1, 33);
      expectClose(l2loss(t64(yy, [10, 12]), t64(tt, [10, 12])).item(), sum(yy.map((v, i) => (v - tt[i]) ** 2)) / 12, 1e-14, 0);
    }));
  });

  it('weights, Mask, NormalizationFactor and Reduction \'none\', as crossentropy', () => {
    const w = [2, 0.5, 1];
    const mask = [1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1];
    expectNoLeak(() => wg.tidy(() => {
      const Y = t64(y, [C, B]), T = t64(t, [C, B]);
      const l1 = d.map((v, k) => Math.abs(v) * w[Math.floor(k / B)] * mask[k]);
      expectClose(l1loss(Y, T, w, { Mask: mask.length && t64(mask, [C, B]) }).item(), sum(l1) / B, 1e-14, 0);
      expectClose(l1loss(Y, T, w, { Mask: t64(mask, [C, B]), NormalizationFactor: 'none' }).item(), sum(l1), 1e-14, 0);
      const l2 = d.map((v, k) => v * v * mask[k]);
      const perObs = Array.from({ length: B }, (_, b) => sum([0, 1, 2].map((c) => l2[c * B + b])) / sum([0, 1, 2].map((c) => mask[c * B + b])));
      expectClose(l2loss(Y, T, { Mask: t64(mask, [C, B]), NormalizationFactor: 'mask-included' }).item(), sum(perObs) / B, 1e-14, 0);
      const none = huber(Y, T, w, { Reduction: 'none' });
      expect(none.shape).toEqual([C, B]);
      expectClose(flat(none.toArray()), huberRef(1).map((v, k) => v * w[Math.floor(k / B)]), 1e-15, 0);
    }));
  });

  it('gradients by central differences (Y, T, weights) and JVP against VJP', () => {
    // keep |Y − T| away from 0 (l1's kink) and from the transition points
    const Y = t64(y, [C, B]), T = t64(d.map((v, i) => y[i] - (Math.abs(v) < 0.2 ? v + 0.5 : v)), [C, B]);
    const w = t64([2, 0.5, 1, 1.5], [B]);
    checkGrad((a, b, c) => l1loss(a, b, c), [Y, T, w]);
    checkGrad((a, b, c) => l2loss(a, b, c, { NormalizationFactor: 'all-elements' }), [Y, T, w]);
    checkGrad((a, b) => huber(a, b, { TransitionPoint: 0.05 }), [Y, T]);
    checkJvpVjp((a) => l2loss(a, T, { Reduction: 'none' }), Y);
    checkJvpVjp((a) => huber(a, T, w), Y);
    wg.dispose([Y, T, w]);
  });
});

/** −ln Σ over every alignment of T frames that collapses to `target` of Π Y (probabilities), brute force. */
function ctcReference(prob: (t: number, c: number) => number, T: number, C: number, target: number[], blank: number): number {
  let total = 0;
  const path = new Array<number>(T).fill(0);
  const visit = (k: number, p: number): void => {
    if (k === T) {
      const out: number[] = [];
      path.forEach((c, i) => { if (c !== blank && (i === 0 || path[i - 1] !== c)) out.push(c); });
      if (out.length === target.length && out.every((c, i) => c === target[i])) total += p;
      return;
    }
    for (let c = 0; c < C; c++) { path[k] = c; visit(k + 1, p * prob(k, c)); }
  };
  visit(0, 1);
  return -Math.log(total);
}

describe('ctc: MATLAB\'s, on probabilities in \'CBT\' with masks', () => {
  const C = 4, B = 2, T = 5;
  // softmax over C of logits [C, B, T]
  const z = uniform(C * B * T, -2, 2, 40);
  const yv = new Array<number>(C * B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
    const e = Array.from({ length: C }, (_, c) => Math.exp(z[(c * B + b) * T + t]));
    const s = sum(e);
    for (let c = 0; c < C; c++) yv[(c * B + b) * T + t] = e[c] / s;
  }
  const prob = (b: number) => (t: number, c: number) => yv[(c * B + b) * T + t];
  const targets = [[1, 2, 1], [3, 0, 0]], tMask = [[1, 1, 1], [1, 0, 0]], yMask = [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]];
  const per = [ctcReference(prob(0), 5, C, [1, 2, 1], 0), ctcReference(prob(1), 4, C, [3], 0)];

  it('the average over observations of −ln p(target | Y) (Reduction \'mean\'), or the sum; BlankIndex \'last\'; other layouts', () => {
    expectNoLeak(() => wg.tidy(() => {
      const Y = t64(yv, [C, B, T]);
      expectClose(ctc(Y, targets, yMask, tMask).item(), sum(per) / B, 1e-12, 0);
      expectClose(ctc(Y, targets, yMask, tMask, { Reduction: 'sum' }).item(), sum(per), 1e-12, 0);
      expectClose(ctc(Y, wg.tensor(targets, { dtype: 'int32' }), wg.tensor(yMask, { dtype: 'bool' }), t64(tMask.flat(), [2, 3]), 'reduction', 'SUM').item(), sum(per), 1e-12, 0);
      // 'TBC' [T, B, C]
      const tbc = Array.from({ length: T * B * C }, (_, k) => { const c = k % C, b = Math.floor(k / C) % B, t = Math.floor(k / (B * C)); return yv[(c * B + b) * T + t]; });
      expectClose(ctc(t64(tbc, [T, B, C]), targets, yMask, tMask, { DataFormat: 'TBC' }).item(), sum(per) / B, 1e-12, 0);
      // BlankIndex 'last': move channel 0 to the end and relabel the targets
      const moved = Array.from({ length: C * B * T }, (_, k) => { const c = Math.floor(k / (B * T)), rest = k % (B * T); return yv[((c + 1) % C) * B * T + rest]; });
      expectClose(ctc(t64(moved, [C, B, T]), [[0, 1, 0], [2, 0, 0]], yMask, tMask, { BlankIndex: 'last' }).item(), sum(per) / B, 1e-12, 0);
    }));
  });

  it('the gradient with respect to Y itself is exact (finite differences), and through softmax; JVP against VJP', () => {
    const Y = t64(yv, [C, B, T]), Z = t64(z, [C, B, T]);
    checkGrad((y) => ctc(y, targets, yMask, tMask), [Y], { rtol: 1e-5, atol: 1e-7 });
    checkGrad((y) => ctc(y, targets, yMask, tMask, { Reduction: 'sum' }), [Y], { rtol: 1e-5, atol: 1e-7 });
    checkGrad((x) => ctc(wg.softmax(x, 0), targets, yMask, tMask), [Z], { rtol: 1e-5, atol: 1e-7 });
    checkJvpVjp((y) => ctc(y, targets, yMask, tMask), Y);
    wg.dispose([Y, Z]);
  });

  it('rejects a blank or out-of-range target, masks that are not prefixes or not [B, T] / [B, S], a format without C, B and T', () => {
    const Y = t64(yv, [C, B, T]);
    expectError(() => ctc(Y, [[0, 2, 1], [3, 0, 0]], yMask, tMask), wg.ValueError, ['ctc', 'targets[0, 0] = 0', 'other than the blank 0']);
    expectError(() => ctc(Y, [[1, 4, 1], [3, 0, 0]], yMask, tMask), wg.ValueError, ['ctc', 'targets[0, 1] = 4', '[0, 3]']);
    expectError(() => ctc(Y, targets, [[1, 0, 1, 1, 1], [1, 1, 1, 1, 0]], tMask), wg.ValueError, ['ctc', 'YMask row 0 is not a prefix']);
    expectError(() => ctc(Y, targets, [[1, 1, 1, 1, 1]], tMask), wg.ShapeError, ['ctc', 'YMask has shape [1, 5]', 'must be [2, 5]']);
    expectError(() => ctc(Y, [[1, 2, 1]], yMask, tMask), wg.ShapeError, ['ctc', 'targets has shape [1, 3]', '[2, S]']);
    expectError(() => ctc(Y, targets, yMask, tMask, { DataFormat: 'CBU' }), wg.ValueError, ['ctc', 'C, B and T', "'CBU'"]);
    expectError(() => ctc(Y, targets, yMask, tMask, { BlankIndex: 'middle' as any }), wg.ValueError, ['ctc', "BlankIndex must be 'first' or 'last'", "'middle'"]);
    Y.dispose();
  });
});

describe('formatted input (a tensor carrying MATLAB\'s format, as dlarray(X, fmt) makes)', () => {
  /** t labelled as the MATLAB layer labels it: the format is a property of the handle */
  const labelled = (t: Tensor, fmt: string): Tensor => Object.defineProperty(t, 'format', { value: fmt, configurable: true });

  it('Y\'s own format is its layout; DataFormat may only repeat it; a formatted target must carry the same', () => {
    const C = 3, B = 4;
    const { y, t, labels } = classification(C, B, 50);
    const ref = -sum(labels.map((c, b) => Math.log(y[c * B + b]))) / B;
    expectNoLeak(() => wg.tidy(() => {
      // stored [B, C] and labelled 'BC': read as 'BC' without a DataFormat
      const Y = labelled(t64(transposeFlat(y, C, B), [B, C]), 'BC'), T = t64(transposeFlat(t, C, B), [B, C]);
      expectClose(crossentropy(Y, T).item(), ref, 1e-14, 0);
      expectClose(crossentropy(Y, labelled(T, 'BC'), { DataFormat: 'BC' }).item(), ref, 1e-14, 0);
      expectClose(mse(Y, T).item(), sum(y.map((v, k) => (v - t[k]) ** 2)) / (2 * B), 1e-14, 0);
      const g = wg.grad((a: Tensor) => crossentropy(labelled(a.mul(1), 'BC'), T))(t64(transposeFlat(y, C, B), [B, C])) as Tensor;
      expect(g.shape).toEqual([B, C]);
      // dlarray(X, 'BC') stores the data in MATLAB's canonical order ('CB'); the loss is the same
      const D = dlarray(t64(transposeFlat(y, C, B), [B, C]), 'BC');
      expect(D.shape).toEqual([C, B]);
      expectClose(crossentropy(D, dlarray(T, 'BC')).item(), ref, 1e-14, 0);
      expectClose(crossentropy(D, t64(t, [C, B])).item(), ref, 1e-14, 0);
      const gd = wg.dlfeval((d: Tensor) => wg.dlgradient(crossentropy(d, t64(t, [C, B])), d), D) as Tensor;
      expectClose(flat(gd.toArray()), y.map((p, k) => -t[k] / p / B), 1e-14, 0);
    }));
    bad(() => crossentropy(labelled(t64(y, [C, B]), 'CB'), t64(t, [C, B]), { DataFormat: 'BC' }), wg.ValueError,
      ['crossentropy', "Y is a formatted dlarray ('CB')", "DataFormat 'BC' cannot apply"]);
    bad(() => l2loss(labelled(t64(y, [C, B]), 'CB'), labelled(t64(t, [C, B]), 'SB')), wg.ValueError,
      ['l2loss', "targets has the format 'SB' but Y's is 'CB'"]);
  });
});

describe('bad input is named (function, argument, shapes); nothing leaks', () => {
  const Y = () => wg.tensor([[0.7, 0.2], [0.2, 0.5], [0.1, 0.3]]);
  const T = () => wg.tensor([[1, 0], [0, 1], [0, 0]]);

  it('shapes, formats and dtypes', () => {
    bad(() => crossentropy(Y(), wg.ones([2, 3])), wg.ShapeError, ['crossentropy', 'targets has shape [2, 3]', 'Y has shape [3, 2]']);
    bad(() => l2loss(Y(), T(), { DataFormat: 42 as any }), wg.ValueError, ['l2loss', "DataFormat must be a data format such as 'CB'", 'the number 42']);
    // a format longer than the rank labels trailing singletons (MATLAB): 'SCB' on [3, 2] is one observation
    wg.tidy(() => expectClose(l2loss(Y(), T(), { DataFormat: 'SCB' }).item(), l2loss(Y(), T(), { NormalizationFactor: 'none' }).item(), 1e-7, 0));
    bad(() => l1loss(wg.ones([2, 2, 2]), wg.ones([2, 2, 2])), wg.ValueError, ['l1loss', 'Y has shape [2, 2, 2]', 'give its DataFormat']);
    bad(() => huber(Y(), T(), { DataFormat: 'C' }), wg.ShapeError, ['huber', "DataFormat 'C' labels 1 dimension", 'shape [3, 2]']);
    bad(() => mse(Y(), T(), { DataFormat: 'cb' }), wg.ValueError, ['mse', "the label 'c'", 'in upper case']);
    bad(() => mse(Y(), T(), { DataFormat: 'BB' }), wg.ValueError, ['mse', "more than one 'B'"]);
    bad(() => crossentropy(Y(), T().to('float64')), wg.DTypeError, ['crossentropy', 'targets is float64', 'Y is float32']);
    bad(() => crossentropy([[0.5]] as any, T()), wg.ValueError, ['crossentropy', 'Y (the predictions) must be a Tensor', 'an array']);
  });

  it('weights and masks', () => {
    bad(() => crossentropy(Y(), T(), [1, 2, 3, 4]), wg.ShapeError, ['crossentropy', 'weights of shape [4]', "nor its 'C' or 'B' dimension"]);
    bad(() => crossentropy(wg.ones([2, 2]), wg.ones([2, 2]), [1, 2]), wg.ValueError, ['crossentropy', 'could be class weights', "WeightsFormat 'C' or 'B'"]);
    bad(() => crossentropy(Y(), T(), [1, 2, 3], { WeightsFormat: 'B' }), wg.ShapeError, ['crossentropy', "have 3 along 'B'", 'has 2']);
    bad(() => crossentropy(Y(), T(), [1, 2], { WeightsFormat: 'T' }), wg.ValueError, ['crossentropy', "WeightsFormat 'T'", "format 'CB' has none"]);
    bad(() => crossentropy(Y(), T(), [1, 2, 3], { Weights: [1, 2, 3] }), wg.ValueError, ['crossentropy', 'weights are given twice']);
    bad(() => crossentropy(Y(), T(), { WeightsFormat: 'C' }), wg.ValueError, ['crossentropy', 'WeightsFormat is given but there are no weights']);
    bad(() => l2loss(Y(), T(), { Mask: [[1, 2], [0, 1], [1, 1]] }), wg.ValueError, ['l2loss', 'Mask must hold 0 and 1', 'got 2']);
    bad(() => l2loss(Y(), T(), { Mask: [[1, 0, 1]] }), wg.ShapeError, ['l2loss', '[1, 3] (Mask)', '[3, 2] (Y)']);
    bad(() => l2loss(Y(), T(), { NormalizationFactor: 'mask-included' }), wg.ValueError, ['l2loss', "'mask-included' needs a Mask"]);
  });

  it('options: values, unknown names, name-value pairs, conflicts', () => {
    bad(() => l1loss(Y(), T(), { NormalizationFactor: 'mean' as any }), wg.ValueError, ['l1loss', "NormalizationFactor must be 'batch-size', 'all-elements', 'mask-included' or 'none'", "'mean'"]);
    bad(() => l1loss(Y(), T(), { Reduction: 'mean' as any }), wg.ValueError, ['l1loss', "Reduction must be 'sum' or 'none'"]);
    bad(() => huber(Y(), T(), { TransitionPoint: 0 }), wg.ValueError, ['huber', 'TransitionPoint must be a positive finite number', 'the number 0']);
    bad(() => crossentropy(Y(), T(), { Normalization: 'none' } as any), wg.ValueError, ['crossentropy', "unknown option 'Normalization'", "Did you mean 'NormalizationFactor'?"]);
    bad(() => crossentropy(Y(), T(), 'DataFormat'), wg.ValueError, ['crossentropy', 'name-value arguments come in pairs']);
    bad(() => crossentropy(Y(), T(), 'DataFormat', 'CB', 3, 4), wg.ValueError, ['crossentropy', 'expected an option name at argument 5', 'the number 3']);
    bad(() => crossentropy(Y(), T(), { ClassificationMode: 'multilabel', TargetCategories: 'exclusive' }), wg.ValueError,
      ['crossentropy', "ClassificationMode 'multilabel' and TargetCategories 'exclusive' disagree"]);
    bad(() => crossentropy(Y(), T(), { DataFormat: 'CB', dataformat: 'BC' } as any), wg.ValueError, ['crossentropy', "option 'DataFormat' is given twice"]);
  });

  it('a whole training step leaves nothing behind', () => {
    expectNoLeak(() => {
      const W = wg.tensor([[0.1, -0.2], [0.3, 0.1], [-0.1, 0.2]], { dtype: 'float64' });
      const X = wg.tensor([[1, 0.5], [-0.5, 2]], { dtype: 'float64' });
      const Tt = wg.tensor([[1, 0], [0, 1], [0, 0]], { dtype: 'float64' });
      const [loss, g] = wg.valueAndGrad((w: Tensor) => crossentropy(wg.softmax(w.matmul(X), 0), Tt)
        .add(l2loss(w.matmul(X), Tt)).add(huber(w.matmul(X), Tt)).add(l1loss(w.matmul(X), Tt)).add(mse(w.matmul(X), Tt)))(W);
      expect(Number.isFinite(loss.item())).toBe(true);
      expect(g.shape).toEqual([3, 2]);
      wg.dispose([W, X, Tt, loss, g]);
    });
  });
});
