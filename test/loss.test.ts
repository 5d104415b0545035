// Losses: crossEntropy (class indices incl. K-dim, probabilities, weights, ignoreIndex, label
// smoothing; the fused [N, C] op against PyTorch 1.13 fixtures and the composite's bits), nllLoss, binaryCrossEntropy (+ with logits), mseLoss, l1Loss, huberLoss,
// smoothL1Loss, klDiv and ctcLoss, each with every reduction. Forward values against plain JS
// references (CTC against a brute-force sum over all alignments) and PyTorch's known values;
// gradients by central differences in float64 for every differentiable input; JVP against VJP;
// second derivatives; float32 vs float64; bad inputs.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, rand64, flat, size, uniform } from './helpers.js';
import { checkJvpVjp, checkSecondOrder, expectError, checkFloat32 } from './nn-helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const t64 = (v: number[], shape: number[]) => wg.tensor(v, { shape, dtype: 'float64' });
const i32 = (v: number[], shape: number[]) => wg.tensor(v, { shape, dtype: 'int32' });
const REDUCTIONS = ['mean', 'sum', 'none'] as const;

function reduceRef(v: number[], reduction: string): number[] {
  if (reduction === 'none') return v;
  const s = v.reduce((a, b) => a + b, 0);
  return [reduction === 'sum' ? s : s / v.length];
}

/** log-softmax over the class dim of [N, C, ...rest] (or [C]); returns lsm(p, c) for position p. */
function logSoftmaxRef(x: number[], shape: number[]): { positions: number; C: number; at: (p: number, c: number) => number; raw: (p: number, c: number) => number } {
  const unbatched = shape.length === 1;
  const C = unbatched ? shape[0] : shape[1];
  const N = unbatched ? 1 : shape[0];
  const inner = unbatched ? 1 : shape.slice(2).reduce((a, b) => a * b, 1);
  const raw = (p: number, c: number) => x[(Math.floor(p / inner) * C + c) * inner + (p % inner)];
  const lse = Array.from({ length: N * inner }, (_, p) => {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, raw(p, c));
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(raw(p, c) - m);
    return m + Math.log(s);
  });
  return { positions: N * inner, C, at: (p, c) => raw(p, c) - lse[p], raw };
}

interface CeOptions { weight?: number[]; ignoreIndex?: number; reduction?: string; labelSmoothing?: number; logProbs?: boolean }

/** PyTorch's cross_entropy / nll_loss with class indices, written out per position. */
function classLossRef(x: number[], shape: number[], target: number[], o: CeOptions = {}): number[] {
  const { positions, C, at, raw } = logSoftmaxRef(x, shape);
  const lp = o.logProbs ? raw : at;
  const ignore = o.ignoreIndex ?? -100, eps = o.labelSmoothing ?? 0, w = (c: number) => (o.weight ? o.weight[c] : 1);
  const nll: number[] = [], wt: number[] = [], smooth: number[] = [];
  for (let p = 0; p < positions; p++) {
    const y = target[p];
    if (y === ignore) { nll.push(0); wt.push(0); smooth.push(0); continue; }
    nll.push(-w(y) * lp(p, y));
    wt.push(w(y));
    let s = 0;
    for (let c = 0; c < C; c++) s -= w(c) * lp(p, c);
    smooth.push(s);
  }
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
  const r = o.reduction ?? 'mean';
  if (r === 'none') return nll.map((v, p) => (1 - eps) * v + (eps / C) * smooth[p]);
  const d = r === 'sum' ? 1 : sum(wt);
  return [(1 - eps) * (sum(nll) / d) + (eps / C) * (sum(smooth) / d)];
}

/** PyTorch's cross_entropy with probability targets. */
function probLossRef(x: number[], shape: number[], target: number[], o: CeOptions = {}): number[] {
  const { positions, C, at } = logSoftmaxRef(x, shape);
  const eps = o.labelSmoothing ?? 0, w = (c: number) => (o.weight ? o.weight[c] : 1);
  const inner = shape.length === 1 ? 1 : shape.slice(2).reduce((a, b) => a * b, 1);
  const t = (p: number, c: number) => target[(Math.floor(p / inner) * C + c) * inner + (p % inner)] * (1 - eps) + eps / C;
  const per = Array.from({ length: positions }, (_, p) => {
    let s = 0;
    for (let c = 0; c < C; c++) s -= w(c) * at(p, c) * t(p, c);
    return s;
  });
  const r = o.reduction ?? 'mean';
  if (r === 'none') return per;
  const s = per.reduce((a, b) => a + b, 0);
  return [r === 'sum' ? s : s / positions];
}

describe('crossEntropy and nllLoss', () => {
  const x = uniform(4 * 5, -3, 3, 1);
  const target = [2, 0, 4, 1];
  const weight = [0.5, 1, 2, 1.5, 0.8];

  it('match PyTorch on a known value', () => {
    wg.tidy(() => {
      // F.cross_entropy([[1, 2, 3]], [2]) = log(e + e² + e³) − 3
      expectClose(wg.crossEntropy(t64([1, 2, 3], [1, 3]), [2]).item(), 0.40760596444438013, 4e-15, 0);
      expectClose(wg.crossEntropy(t64([1, 2, 3], [3]), 2).item(), 0.40760596444438013, 4e-15, 0); // unbatched
    });
  });

  it('class indices: every reduction, weights, ignoreIndex and label smoothing', () => {
    wg.tidy(() => {
      const xt = t64(x, [4, 5]);
      for (const reduction of REDUCTIONS) {
        for (const o of [{}, { weight }, { labelSmoothing: 0.2 }, { weight, labelSmoothing: 0.1 }] as CeOptions[]) {
          const w = o.weight ? t64(o.weight, [5]) : undefined;
          const got = wg.crossEntropy(xt, i32(target, [4]), { ...o, weight: w, reduction });
          expectClose(flat(got.toArray()), classLossRef(x, [4, 5], target, { ...o, reduction }), 1e-13, 1e-14);
          const nll = wg.nllLoss(wg.logSoftmax(xt, 1), target, { weight: w, reduction });
          expectClose(flat(nll.toArray()), classLossRef(x, [4, 5], target, { weight: o.weight, reduction }), 1e-13, 1e-14);
        }
        // ignoreIndex (default −100, and a custom one): ignored rows count nowhere, weighted mean denominator
        const withIgnore = [2, -100, 4, 1];
        expectClose(flat(xt.crossEntropy(withIgnore, { weight: t64(weight, [5]), reduction, labelSmoothing: 0.3 }).toArray()),
          classLossRef(x, [4, 5], withIgnore, { weight, reduction, labelSmoothing: 0.3 }), 1e-13, 1e-14);
        expectClose(flat(xt.nllLoss([2, 3, 3, 1], { ignoreIndex: 3, reduction }).toArray()),
          classLossRef(x, [4, 5], [2, 3, 3, 1], { ignoreIndex: 3, reduction, logProbs: true }), 1e-13, 1e-14);
      }
      // every target ignored: 'mean' is 0/0 = NaN, as PyTorch
      expect(wg.crossEntropy(xt, [-100, -100, -100, -100]).item()).toBeNaN();
      // indexcrossentropy is the class-index form
      expectClose(wg.indexcrossentropy(xt, target).item(), classLossRef(x, [4, 5], target)[0], 1e-14, 0);
      expectClose(xt.indexcrossentropy(target).item(), classLossRef(x, [4, 5], target)[0], 1e-14, 0);
    });
  });

  it('K-dim inputs [N, C, d1, d2] and probability targets', () => {
    wg.tidy(() => {
      const shape = [2, 3, 2, 2];
      const xv = uniform(size(shape), -2, 2, 2);
      const tv = [0, 2, 1, -100, 2, 2, 0, 1];
      for (const reduction of REDUCTIONS) {
        const got = wg.crossEntropy(t64(xv, shape), i32(tv, [2, 2, 2]), { reduction, weight: t64([1, 2, 0.5], [3]), labelSmoothing: 0.1 });
        expectClose(flat(got.toArray()), classLossRef(xv, shape, tv, { reduction, weight: [1, 2, 0.5], labelSmoothing: 0.1 }), 1e-13, 1e-14);
        if (reduction === 'none') expect(got.shape).toEqual([2, 2, 2]);
        const probs = uniform(size(shape), 0, 1, 3);
        for (const o of [{}, { weight: [1, 2, 0.5] }, { labelSmoothing: 0.25 }] as CeOptions[]) {
          const p = wg.crossEntropy(t64(xv, shape), t64(probs, shape), { reduction, weight: o.weight ? t64(o.weight, [3]) : undefined, labelSmoothing: o.labelSmoothing });
          expectClose(flat(p.toArray()), probLossRef(xv, shape, probs, { ...o, reduction }), 1e-13, 1e-14);
        }
      }
      // one-hot probabilities equal class indices
      const oneHot = [0, 0, 1, 1, 0, 0, 0, 1, 0].map((v) => v);
      expectClose(wg.crossEntropy(t64(x.slice(0, 9), [3, 3]), t64(oneHot, [3, 3])).item(),
        wg.crossEntropy(t64(x.slice(0, 9), [3, 3]), [2, 0, 1]).item(), 1e-14, 0);
    });
  });

  it('gradients for logits, weights and probability targets; JVP; second derivative; float32', () => {
    const xt = rand64([4, 5], -2, 2, 4), w = rand64([5], 0.5, 2, 5), probs = rand64([4, 5], 0, 1, 6);
    const x4 = rand64([2, 3, 2], -2, 2, 7);
    checkGrad((v, wi) => wg.crossEntropy(v, [2, -100, 4, 1], { weight: wi, labelSmoothing: 0.2 }), [xt, w]);
    checkGrad((v) => wg.crossEntropy(v, target, { reduction: 'none' }), [xt]);
    checkGrad((v, t) => wg.crossEntropy(v, t, { labelSmoothing: 0.1, reduction: 'sum' }), [xt, probs]);
    checkGrad((v) => wg.crossEntropy(v, i32([0, 2, 1, 1], [2, 2])), [x4]);
    checkGrad((v) => wg.nllLoss(v, [1, 1, 0, 4], { weight: w }), [xt]);
    checkJvpVjp((v) => wg.crossEntropy(v, target, { reduction: 'none', weight: w, labelSmoothing: 0.1 }), xt);
    checkJvpVjp((v) => wg.crossEntropy(xt, v), probs);
    checkJvpVjp((v) => wg.nllLoss(v, [1, -100, 0, 4], { weight: w, reduction: 'none' }), xt);
    checkFloat32((v) => wg.nllLoss(v, [1, 3, 0, 4], { weight: w.to(v.dtype) }), xt, 1e-5, 1e-6);
    checkSecondOrder((v) => wg.crossEntropy(v, target, { weight: w }), xt);
    checkSecondOrder((v) => wg.crossEntropy(v, probs, { labelSmoothing: 0.3 }), xt);
    checkFloat32((v) => wg.crossEntropy(v, target, { reduction: 'none' }), xt, 1e-5, 1e-6);
    wg.dispose([xt, w, probs, x4]);
  });

  it('reject bad input', () => {
    const xt = wg.ones([4, 5]), w3 = wg.ones([3]), p = wg.ones([4, 3]), xd = wg.ones([4, 5], { dtype: 'float64' }), s = wg.ones([]);
    expectError(() => wg.crossEntropy(xt, [2, 0, 5, 1]), wg.ValueError, ['crossEntropy', 'target 5', 'out of range for 5 classes', 'ignoreIndex (-100)']);
    expectError(() => wg.crossEntropy(xt, [2, 0, -1, 1]), wg.ValueError, ['crossEntropy', 'target -1', '5 classes']);
    wg.nllLoss(xt, [7, 0, 0, 0], { ignoreIndex: 7, reduction: 'sum' }).dispose(); // 7 is ignored, so in range
    expectError(() => wg.crossEntropy(xt, [1, 2, 3]), wg.ShapeError, ['crossEntropy', 'target has shape [3]', 'needs a target of shape [4]']);
    expectError(() => wg.crossEntropy(xt, [1.5, 2, 3, 0]), wg.ValueError, ['crossEntropy', 'must be integers']);
    expectError(() => wg.crossEntropy(xt, p), wg.ShapeError, ['crossEntropy', 'probability target has shape [4, 3]', 'input has shape [4, 5]']);
    expectError(() => wg.crossEntropy(xt, [0, 1, 2, 3], { weight: w3 }), wg.ShapeError, ['crossEntropy', 'weight must have shape [5]', '[3]']);
    expectError(() => wg.crossEntropy(xt, [0, 1, 2, 3], { reduction: 'avg' as any }), wg.ValueError, ['crossEntropy', "reduction must be 'mean', 'sum' or 'none'", "'avg'"]);
    expectError(() => wg.crossEntropy(xt, [0, 1, 2, 3], { labelSmoothing: 1.5 }), wg.ValueError, ['crossEntropy', 'labelSmoothing', '1.5']);
    expectError(() => wg.crossEntropy(xt, xd), wg.DTypeError, ['crossEntropy', 'target is float64', 'input is float32']);
    expectError(() => wg.crossEntropy(s, 0), wg.ShapeError, ['crossEntropy', 'rank-0']);
    expectError(() => wg.indexcrossentropy(xt, xt), wg.DTypeError, ['indexcrossentropy', 'class indices']);
    wg.dispose([xt, w3, p, xd, s]);
  });
});

// ————————————————————————————————————————————————————————— pointwise losses

const SIGMOID = (v: number) => 1 / (1 + Math.exp(-v));
const logSigmoidRef = (v: number) => Math.min(v, 0) - Math.log1p(Math.exp(-Math.abs(v)));

interface PointCase {
  name: string;
  f: (x: Tensor, t: Tensor, reduction: 'mean' | 'sum' | 'none') => Tensor;
  ref: (x: number, t: number) => number;
  x: [number, number]; // input range
  t: [number, number]; // target range
}

const pointCases: PointCase[] = [
  { name: 'mseLoss', f: (x, t, reduction) => wg.mseLoss(x, t, { reduction }), ref: (x, t) => (x - t) ** 2, x: [-2, 2], t: [-2, 2] },
  { name: 'Tensor.mseLoss', f: (x, t, reduction) => x.mseLoss(t, { reduction }), ref: (x, t) => (x - t) ** 2, x: [-2, 2], t: [-2, 2] },
  { name: 'l1Loss', f: (x, t, reduction) => wg.l1Loss(x, t, { reduction }), ref: (x, t) => Math.abs(x - t), x: [-2, 2], t: [-2, 2] },
  { name: 'huberLoss', f: (x, t, reduction) => wg.huberLoss(x, t, { reduction }), ref: (x, t) => { const z = Math.abs(x - t); return z < 1 ? 0.5 * z * z : z - 0.5; }, x: [-2, 2], t: [-2, 2] },
  { name: 'huberLoss delta 0.5', f: (x, t, reduction) => x.huberLoss(t, { reduction, delta: 0.5 }), ref: (x, t) => { const z = Math.abs(x - t); return z < 0.5 ? 0.5 * z * z : 0.5 * (z - 0.25); }, x: [-2, 2], t: [-2, 2] },
  { name: 'smoothL1Loss', f: (x, t, reduction) => wg.smoothL1Loss(x, t, { reduction }), ref: (x, t) => { const z = Math.abs(x - t); return z < 1 ? 0.5 * z * z : z - 0.5; }, x: [-2, 2], t: [-2, 2] },
  { name: 'smoothL1Loss beta 0.4', f: (x, t, reduction) => x.smoothL1Loss(t, { reduction, beta: 0.4 }), ref: (x, t) => { const z = Math.abs(x - t); return z < 0.4 ? 0.5 * z * z / 0.4 : z - 0.2; }, x: [-2, 2], t: [-2, 2] },
  { name: 'smoothL1Loss beta 0 (l1)', f: (x, t, reduction) => x.smoothL1Loss(t, { reduction, beta: 0 }), ref: (x, t) => Math.abs(x - t), x: [-2, 2], t: [-2, 2] },
  { name: 'binaryCrossEntropy', f: (x, t, reduction) => wg.binaryCrossEntropy(x, t, { reduction }), ref: (x, t) => -(t * Math.log(x) + (1 - t) * Math.log(1 - x)), x: [0.05, 0.95], t: [0, 1] },
  { name: 'binaryCrossEntropyWithLogits', f: (x, t, reduction) => wg.binaryCrossEntropyWithLogits(x, t, { reduction }), ref: (x, t) => -(t * Math.log(SIGMOID(x)) + (1 - t) * Math.log(1 - SIGMOID(x))), x: [-4, 4], t: [0, 1] },
  { name: 'klDiv', f: (x, t, reduction) => wg.klDiv(x, t, { reduction }), ref: (x, t) => t * (Math.log(t) - x), x: [-3, 0], t: [0.1, 1] },
  { name: 'klDiv logTarget', f: (x, t, reduction) => x.klDiv(t, { reduction, logTarget: true }), ref: (x, t) => Math.exp(t) * (t - x), x: [-3, 0], t: [-3, 0] },
];

interface CeFixtureCase {
  dtype: 'float32' | 'float64'; kind: 'indices' | 'probabilities'; x: string; target: string; weighted: boolean;
  options: { reduction: 'mean' | 'sum' | 'none'; labelSmoothing: number; ignoreIndex?: number };
  y: number[]; yShape: number[]; gy: number[]; gradX: number[]; gradTarget: number[] | null;
}
const ceFixture = JSON.parse(readFileSync(new URL('./fixtures/cross-entropy.json', import.meta.url), 'utf8')) as {
  inputs: Record<string, number | number[] | number[][]>; cases: CeFixtureCase[];
};

/** A result's tensors as dtype, shape and raw bytes (-0 and last bits count). */
const bits = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(bits) : [(v as Tensor).dtype, (v as Tensor).shape, [...new Uint8Array((v as Tensor).data().buffer)]]);

describe('crossEntropy: the fused op ([N, C] and [C] without class weights)', () => {
  const shapeOf = (v: unknown): number[] => (Array.isArray(v) ? [v.length, ...shapeOf(v[0])] : []);
  const input = (name: string, dtype: 'float32' | 'float64') => {
    const v = ceFixture.inputs[name];
    return wg.tensor(flat(v), { shape: shapeOf(v), dtype });
  };

  it(`matches PyTorch 1.13 (${ceFixture.cases.length} cases: indices and probabilities, every reduction, label smoothing, ignoreIndex, weights, float32 and float64)`, () => {
    for (const c of ceFixture.cases) {
      wg.tidy(() => {
        const x = input(c.x, c.dtype);
        const target = c.kind === 'indices' ? wg.tensor(ceFixture.inputs[c.target] as number[], { dtype: 'int32' }) : input(c.target, c.dtype);
        const weight = c.weighted ? input('weight', c.dtype) : undefined;
        const gy = wg.tensor(c.gy, { shape: c.yShape, dtype: c.dtype });
        const f = (xv: Tensor, tv: Tensor) => wg.crossEntropy(xv, c.kind === 'indices' ? target : tv, { ...c.options, weight }).mul(gy).sum();
        const y = wg.crossEntropy(x, target, { ...c.options, weight });
        const [gx, gt] = wg.grad(f, { argnums: [0, 1] })(x, target.dtype === 'int32' ? x : target) as Tensor[];
        // float32: a few ulps of the row's largest terms (softmax − target cancels near 1)
        const [rtol, atol] = c.dtype === 'float64' ? [1e-13, 1e-15] : [3e-6, 1e-6];
        const what = `${c.dtype} ${c.kind} ${c.x} ${JSON.stringify(c.options)}${c.weighted ? ' weighted' : ''}`;
        try {
          expect(y.shape).toEqual(c.yShape);
          expectClose(flat(y.toArray()), c.y, rtol, atol);
          expectClose(flat(gx.toArray()), c.gradX, rtol, atol);
          if (c.gradTarget) expectClose(flat(gt.toArray()), c.gradTarget, rtol, atol);
        } catch (e) { throw new Error(`${what}: ${(e as Error).message}`); }
      });
    }
  });

  it('without smoothing: the composite\'s bits (class indices: values and gradients; probabilities: gradients)', () => {
    // an all-ones class weight takes the composite path, whose values are the same real numbers
    for (const dtype of ['float32', 'float64'] as const) {
      wg.tidy(() => {
        const x = wg.tensor(uniform(7 * 37, -6, 6, 21), { shape: [7, 37], dtype });
        const ones = wg.ones([37], { dtype });
        const gy = wg.tensor(uniform(7, 0.5, 1.5, 22), { dtype });
        for (const reduction of REDUCTIONS) {
          for (const target of [[3, 0, 36, 5, 5, 17, 1], [3, -100, 36, 5, -100, 17, 1]]) {
            const t = i32(target, [7]);
            const run = (weight?: Tensor) => {
              const f = (v: Tensor) => wg.crossEntropy(v, t, { reduction, weight }).mul(reduction === 'none' ? gy : 1.5).sum();
              const [y, g] = wg.valueAndGrad(f)(x);
              return [Array.from(wg.crossEntropy(x, t, { reduction, weight }).data()), Array.from(y.data()), Array.from(g.data())].map((a) => a.map((v) => (v === 0 ? 0 : v)));
            };
            expect(run(), `${dtype} ${reduction}`).toEqual(run(ones));
          }
        }
        // probabilities: the same gradient bits; the values sum each row first (to rounding)
        const probs = wg.softmax(wg.tensor(uniform(7 * 37, -2, 2, 23), { shape: [7, 37], dtype }));
        for (const reduction of REDUCTIONS) {
          const f = (weight?: Tensor) => (v: Tensor) => wg.crossEntropy(v, probs, { reduction, weight }).mul(reduction === 'none' ? gy : 1.5).sum();
          expect(Array.from(wg.grad(f())(x).data()), `${dtype} ${reduction}`).toEqual(Array.from(wg.grad(f(ones))(x).data()));
          expectClose(flat(wg.crossEntropy(x, probs, { reduction }).toArray()), flat(wg.crossEntropy(x, probs, { reduction, weight: ones }).toArray()),
            dtype === 'float32' ? 1e-6 : 1e-15, 0);
        }
      });
    }
  });

  it('gradients by central differences; JVP against VJP; second order (forward-over-reverse and reverse-over-reverse)', () => {
    const xt = rand64([4, 5], -2, 2, 41), probs = wg.softmax(rand64([4, 5], -1, 1, 42)), row = rand64([5], -2, 2, 43);
    const gy = rand64([4], 0.5, 1.5, 44);
    const target = [2, -100, 4, 1];
    for (const reduction of REDUCTIONS) {
      const red = (y: Tensor) => (reduction === 'none' ? y.mul(gy).sum() : y);
      checkGrad((v) => red(wg.crossEntropy(v, target, { reduction, labelSmoothing: 0.2 })), [xt]);
      checkGrad((v, t) => red(wg.crossEntropy(v, t, { reduction, labelSmoothing: 0.1 })), [xt, probs]);
      checkJvpVjp((v) => wg.crossEntropy(v, target, { reduction, labelSmoothing: 0.2 }), xt);
      checkJvpVjp((v) => wg.crossEntropy(xt, v, { reduction, labelSmoothing: 0.1 }), probs);
      checkJvpVjp((v) => wg.crossEntropy(v, probs, { reduction }), xt);
      // the square makes each row's adjoint differ, so crossEntropyBackward's own rules are exercised
      checkSecondOrder((v) => red(wg.crossEntropy(v, target, { reduction, labelSmoothing: 0.2 })).square(), xt);
      checkSecondOrder((v) => red(wg.crossEntropy(v, probs, { reduction, labelSmoothing: 0.3 })).square(), xt);
      // the probability target's own second derivative, and the mixed one through x
      checkSecondOrder((v) => red(wg.crossEntropy(xt.mul(v.sum()), v, { reduction })).square(), probs);
    }
    checkGrad((v) => wg.crossEntropy(v, 3, { labelSmoothing: 0.1 }), [row]); // [C] with a class index
    checkSecondOrder((v) => wg.crossEntropy(v, wg.softmax(row), { reduction: 'sum' }).square(), row);
    wg.dispose([xt, probs, row, gy]);
  });

  it('under accelerate: values and gradients replay bit for bit with new targets (ignoreIndex and probabilities too)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = (seed: number) => wg.tensor(uniform(5 * 9, -3, 3, seed), { shape: [5, 9], dtype });
      const idx = (v: number[]) => wg.tensor(v, { dtype: 'int32' });
      const byIndex = wg.valueAndGrad((v: Tensor, t: Tensor) => wg.crossEntropy(v, t, { ignoreIndex: 0, labelSmoothing: 0.1 }));
      const fast = wg.accelerate(byIndex);
      for (const [seed, t] of [[1, [1, 0, 8, 2, 3]], [2, [0, 7, 0, 4, 4]], [3, [8, 8, 0, 1, 2]]] as const) {
        const [xv, tv] = [x(seed), idx([...t])];
        expect(bits(fast(xv, tv))).toEqual(wg.tidy(() => bits(byIndex(xv, tv))));
      }
      expect(fast.hits).toBe(2);
      fast.clearCache();
      const byProb = wg.valueAndGrad((v: Tensor, p: Tensor) => wg.crossEntropy(v, p, { reduction: 'sum' }), { argnums: [0, 1] });
      const fastProb = wg.accelerate(byProb);
      for (const seed of [4, 5, 6]) {
        const [xv, p] = [x(seed), wg.softmax(x(seed + 10))];
        expect(bits(fastProb(xv, p))).toEqual(wg.tidy(() => bits(byProb(xv, p))));
      }
      expect(fastProb.hits).toBe(2);
      fastProb.clearCache();
    }
  });
});

describe('pointwise losses', () => {
  const shape = [3, 4];
  for (const c of pointCases) {
    it(`${c.name}: every reduction, gradients for input and target, JVP, float32`, () => {
      const xv = uniform(12, c.x[0], c.x[1], 10), tv = uniform(12, c.t[0], c.t[1], 11);
      wg.tidy(() => {
        const x = t64(xv, shape), t = t64(tv, shape);
        for (const reduction of REDUCTIONS) {
          expectClose(flat(c.f(x, t, reduction).toArray()), reduceRef(xv.map((v, i) => c.ref(v, tv[i])), reduction), 1e-13, 1e-14);
        }
        expect(c.f(x, t, 'none').shape).toEqual(shape);
        expect(c.f(t64([], [0]), t64([], [0]), 'sum').item()).toBe(0);
        expect(c.f(t64([], [0]), t64([], [0]), 'mean').item()).toBeNaN();
      });
      const x = t64(xv, shape), t = t64(tv, shape);
      checkGrad((a, b) => c.f(a, b, 'mean'), [x, t]);
      checkGrad((a) => c.f(a, t, 'none'), [x]);
      checkJvpVjp((a) => c.f(a, t, 'none'), x);
      checkJvpVjp((b) => c.f(x, b, 'sum'), t);
      checkFloat32((a) => c.f(a, t.to(a.dtype), 'none'), x, 1e-5, 1e-6);
      wg.dispose([x, t]);
    });
  }

  it('broadcast the target where PyTorch does (mseLoss, l1, huber, smoothL1, klDiv)', () => {
    wg.tidy(() => {
      const xv = uniform(6, -2, 2, 12);
      expectClose(flat(wg.mseLoss(t64(xv, [2, 3]), t64([1, 0, -1], [3]), { reduction: 'none' }).toArray()),
        xv.map((v, i) => (v - [1, 0, -1][i % 3]) ** 2), 1e-15, 0);
      expectClose(wg.l1Loss(t64(xv, [2, 3]), 0.5).item(), xv.reduce((a, v) => a + Math.abs(v - 0.5), 0) / 6, 1e-14, 0);
      const x = t64(xv, [2, 3]), t = t64([1, 0, -1], [3]);
      checkGrad((a, b) => wg.huberLoss(a, b), [x, t]);
    });
  });

  it('huber and smooth-L1 gradients at a tie are 0; l1 uses sign', () => {
    wg.tidy(() => {
      const g = (f: (a: Tensor) => Tensor) => flat((wg.grad(f)(t64([1, 3, -2], [3])) as Tensor).toArray());
      const t = t64([1, 1, 1], [3]);
      expect(g((a) => wg.l1Loss(a, t, { reduction: 'sum' }))).toEqual([0, 1, -1]);
      expect(g((a) => wg.huberLoss(a, t, { reduction: 'sum', delta: 1 }))).toEqual([0, 1, -1]);
      expect(g((a) => wg.smoothL1Loss(a, t, { reduction: 'sum', beta: 2 }))).toEqual([0, 1, -1]);
    });
  });

  it('second derivatives (huber inside its quadratic zone, BCE, KL)', () => {
    const x = rand64([6], 0.1, 0.9, 13), t = rand64([6], 0, 1, 14);
    checkSecondOrder((a) => wg.binaryCrossEntropy(a, t), x);
    checkSecondOrder((a) => wg.binaryCrossEntropyWithLogits(a, t, { posWeight: 2 }), x);
    checkSecondOrder((a) => wg.klDiv(a, t, { reduction: 'batchmean' }), x);
    checkSecondOrder((a) => wg.huberLoss(a, t, { delta: 5 }), x);
    wg.dispose([x, t]);
  });

  it('binaryCrossEntropy clamps its logs at −100; with weights', () => {
    wg.tidy(() => {
      expectClose(flat(wg.binaryCrossEntropy(t64([0, 1, 0, 1], [4]), t64([0, 1, 1, 0], [4]), { reduction: 'none' }).toArray()), [0, 0, 100, 100], 0, 0);
      const xv = uniform(6, 0.1, 0.9, 17), tv = uniform(6, 0, 1, 18), wv = [0.5, 2, 1];
      const ref = xv.map((v, i) => -wv[i % 3] * (tv[i] * Math.log(v) + (1 - tv[i]) * Math.log(1 - v)));
      expectClose(flat(wg.binaryCrossEntropy(t64(xv, [2, 3]), t64(tv, [2, 3]), { weight: t64(wv, [3]), reduction: 'none' }).toArray()), ref, 1e-13, 1e-15);
      const x = t64(xv, [2, 3]), t = t64(tv, [2, 3]);
      checkGrad((a, b) => wg.binaryCrossEntropy(a, b, { weight: t64(wv, [3]) }), [x, t]);
    });
  });

  it('binaryCrossEntropyWithLogits is stable for large logits; posWeight and weight', () => {
    wg.tidy(() => {
      expectClose(flat(wg.binaryCrossEntropyWithLogits(t64([100, -100, 800, -800], [4]), t64([0, 1, 1, 0], [4]), { reduction: 'none' }).toArray()),
        [100, 100, 0, 0], 1e-15, 0);
      const xv = uniform(6, -3, 3, 19), tv = uniform(6, 0, 1, 20), pw = [1.5, 0.5, 3], wv = [2, 1, 0.5];
      const ref = xv.map((v, i) => wv[i % 3] * ((1 - tv[i]) * v - (1 + (pw[i % 3] - 1) * tv[i]) * logSigmoidRef(v)));
      const x = t64(xv, [2, 3]), t = t64(tv, [2, 3]), p = t64(pw, [3]), w = t64(wv, [3]);
      expectClose(flat(wg.binaryCrossEntropyWithLogits(x, t, { posWeight: p, weight: w, reduction: 'none' }).toArray()), ref, 1e-13, 1e-15);
      checkGrad((a, b, c) => wg.binaryCrossEntropyWithLogits(a, b, { posWeight: c, weight: w }), [x, t, p]);
      // PyTorch's gradient: (σ(x)·lw − t·pw... ) reduces to σ(x) − t without weights
      const g = wg.grad((a: Tensor) => wg.binaryCrossEntropyWithLogits(a, t, { reduction: 'sum' }))(x) as Tensor;
      expectClose(flat(g.toArray()), xv.map((v, i) => SIGMOID(v) - tv[i]), 1e-14, 1e-15);
    });
  });

  it('klDiv: batchmean divides by the batch size; target 0 contributes 0', () => {
    wg.tidy(() => {
      const xv = uniform(6, -3, 0, 21), tv = [0.2, 0, 0.5, 0.3, 0.1, 0];
      const per = xv.map((v, i) => (tv[i] === 0 ? 0 : tv[i] * (Math.log(tv[i]) - v)));
      const sum = per.reduce((a, b) => a + b, 0);
      expectClose(wg.klDiv(t64(xv, [2, 3]), t64(tv, [2, 3]), { reduction: 'batchmean' }).item(), sum / 2, 1e-14, 0);
      expectClose(wg.klDiv(t64(xv, [2, 3]), t64(tv, [2, 3])).item(), sum / 6, 1e-14, 0);
      expectClose(flat(wg.klDiv(t64(xv, [2, 3]), t64(tv, [2, 3]), { reduction: 'none' }).toArray()), per, 1e-14, 0);
      checkGrad((a) => wg.klDiv(a, t64(tv, [2, 3]), { reduction: 'batchmean' }), [t64(xv, [2, 3])]);
    });
  });

  it('reject bad input', () => {
    const x = wg.ones([2, 3]), t2 = wg.ones([2, 2]), half = wg.full([2, 3], 0.5), big = wg.full([2, 3], 1.5), xd = wg.ones([2, 3], { dtype: 'float64' });
    expectError(() => wg.mseLoss(x, t2), wg.ShapeError, ['mseLoss', '[2, 3] (input)', '[2, 2] (target)']);
    expectError(() => wg.mseLoss(x, xd), wg.DTypeError, ['mseLoss', 'target is float64', 'input is float32']);
    expectError(() => wg.binaryCrossEntropy(big, half), wg.ValueError, ['binaryCrossEntropy', 'input should be between 0 and 1', '1.5']);
    expectError(() => wg.binaryCrossEntropy(half, big), wg.ValueError, ['binaryCrossEntropy', 'target should be between 0 and 1']);
    expectError(() => wg.binaryCrossEntropy(half, t2), wg.ShapeError, ['binaryCrossEntropy', 'target has shape [2, 2]', 'input has shape [2, 3]']);
    expectError(() => wg.binaryCrossEntropyWithLogits(x, t2), wg.ShapeError, ['binaryCrossEntropyWithLogits', 'target size [2, 2]', 'input size [2, 3]']);
    expectError(() => wg.huberLoss(x, x, { delta: 0 }), wg.ValueError, ['huberLoss', 'delta must be positive', '0']);
    expectError(() => wg.smoothL1Loss(x, x, { beta: -1 }), wg.ValueError, ['smoothL1Loss', 'beta must be >= 0']);
    expectError(() => wg.klDiv(x, x, { reduction: 'avg' as any }), wg.ValueError, ['klDiv', "'batchmean'", "'avg'"]);
    expectError(() => wg.l1Loss(x, x, { reduction: 'batchmean' as any }), wg.ValueError, ['l1Loss', "reduction must be 'mean', 'sum' or 'none'"]);
    wg.dispose([x, t2, half, big, xd]);
  });
});

// ————————————————————————————————————————————————————————— CTC

/** −log Σ over every alignment path of T frames that collapses to `target` (brute force). */
function ctcBruteForce(lp: (t: number, c: number) => number, T: number, C: number, target: number[], blank = 0): number {
  let total = 0;
  const path = new Array(T).fill(0);
  const visit = (t: number): void => {
    if (t === T) {
      const collapsed: number[] = [];
      let prev = -1;
      for (const c of path) { if (c !== prev && c !== blank) collapsed.push(c); prev = c; }
      if (collapsed.length === target.length && collapsed.every((c, i) => c === target[i])) {
        total += Math.exp(path.reduce((s, c, k) => s + lp(k, c), 0));
      }
      return;
    }
    for (let c = 0; c < C; c++) { path[t] = c; visit(t + 1); }
  };
  visit(0);
  return -Math.log(total);
}

describe('ctcLoss', () => {
  const T = 5, N = 3, C = 4;
  const raw = uniform(T * N * C, -2, 2, 30);
  /** log-softmax over C of raw [T, N, C] */
  const logProbs = (() => {
    const out = raw.slice();
    for (let r = 0; r < T * N; r++) {
      const row = raw.slice(r * C, (r + 1) * C);
      const m = Math.max(...row), lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      for (let c = 0; c < C; c++) out[r * C + c] = row[c] - lse;
    }
    return out;
  })();
  const targets = [[1, 2, 0], [3, 3, 0], [2, 0, 0]]; // sample 1 repeats a label: needs a blank between
  const targetLengths = [2, 2, 1], inputLengths = [5, 4, 3];
  const nllRef = (lpv: number[], b: number, blank = 0) =>
    ctcBruteForce((t, c) => lpv[(t * N + b) * C + c], inputLengths[b], C, targets[b].slice(0, targetLengths[b]), blank);

  it('matches a brute-force sum over alignments, every reduction, padded and concatenated targets', () => {
    wg.tidy(() => {
      const lp = t64(logProbs, [T, N, C]);
      const per = [0, 1, 2].map((b) => nllRef(logProbs, b));
      const padded = i32(targets.flat(), [3, 3]);
      expectClose(flat(wg.ctcLoss(lp, padded, inputLengths, targetLengths, { reduction: 'none' }).toArray()), per, 1e-13, 0);
      expectClose(wg.ctcLoss(lp, padded, inputLengths, targetLengths, { reduction: 'sum' }).item(), per.reduce((a, b) => a + b), 1e-13, 0);
      // 'mean' divides by the target lengths, then averages over the batch (PyTorch)
      const mean = per.reduce((a, v, b) => a + v / targetLengths[b], 0) / 3;
      expectClose(wg.ctcLoss(lp, padded, inputLengths, targetLengths).item(), mean, 1e-13, 0);
      const concatenated = [1, 2, 3, 3, 2];
      expectClose(lp.ctcLoss(concatenated, i32(inputLengths, [3]), i32(targetLengths, [3])).item(), mean, 1e-13, 0);
      // another blank
      const per2 = [0, 1, 2].map((b) => ctcBruteForce((t, c) => logProbs[(t * N + b) * C + c], inputLengths[b], C,
        [[1, 2], [3, 3], [2]][b], 0));
      expectClose(flat(wg.ctcLoss(lp, [[1, 2, 0], [3, 3, 0], [2, 0, 0]], inputLengths, targetLengths, { reduction: 'none' }).toArray()), per2, 1e-13, 0);
      const blank3 = ctcBruteForce((t, c) => logProbs[t * N * C + c], 5, C, [1, 2, 1], 3);
      expectClose(wg.ctcLoss(lp.slice(1, 0, 1), [[1, 2, 1]], [5], [3], { blank: 3, reduction: 'sum' }).item(), blank3, 1e-13, 0);
    });
  });

  it('unbatched [T, C], empty targets, impossible alignments and zeroInfinity', () => {
    wg.tidy(() => {
      const lp2 = t64(logProbs.filter((_, i) => Math.floor(i / C) % N === 0), [T, C]);
      const ref = ctcBruteForce((t, c) => logProbs[t * N * C + c], 5, C, [1, 2]);
      const loss = wg.ctcLoss(lp2, [1, 2], 5, 2, { reduction: 'none' });
      expect(loss.shape).toEqual([]);
      expectClose(loss.item(), ref, 1e-13, 0);
      // an empty target: only all-blank paths
      const empty = wg.ctcLoss(lp2, [], 5, 0, { reduction: 'none' }).item() as number;
      expectClose(empty, -[0, 1, 2, 3, 4].reduce((s, t) => s + logProbs[t * N * C], 0), 1e-13, 0);
      // [3, 3] in 2 frames is impossible: inf, or 0 (and a zero gradient) with zeroInfinity
      const lp = t64(logProbs, [T, N, C]);
      expect(wg.ctcLoss(lp.slice(1, 0, 1), [[3, 3]], [2], [2], { reduction: 'sum' }).item()).toBe(Infinity);
      const args = [[[3, 3], [1, 0], [2, 0]], [2, 5, 3], [2, 1, 1]] as const;
      expect(flat(wg.ctcLoss(lp, args[0] as any, args[1] as any, args[2] as any, { reduction: 'none', zeroInfinity: true }).toArray())[0]).toBe(0);
      const g = wg.grad((v: Tensor) => wg.ctcLoss(v, args[0] as any, args[1] as any, args[2] as any, { reduction: 'sum', zeroInfinity: true }))(lp) as Tensor;
      const gv = flat(g.toArray());
      for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) expect(gv[(t * N + 0) * C + c]).toBe(0);
      expect(gv.some((v, i) => Math.floor(i / C) % N === 1 && v !== 0)).toBe(true);
    });
  });

  it('gradient through logSoftmax matches finite differences (every reduction)', () => {
    const z = t64(raw, [T, N, C]);
    for (const reduction of REDUCTIONS) {
      checkGrad((v) => wg.ctcLoss(wg.logSoftmax(v, 2), i32(targets.flat(), [3, 3]), inputLengths, targetLengths, { reduction }), [z]);
    }
    z.dispose();
  });

  it('the gradient w.r.t. logProbs is the true partial derivative of the forward (not PyTorch\'s exp(lp) shortcut); zero past each input length', () => {
    wg.tidy(() => {
      // unnormalised log-probabilities, so the two differ
      const lpv = uniform(T * N * C, -2, 0, 31);
      const lp = t64(lpv, [T, N, C]);
      const g = flat((wg.grad((v: Tensor) => wg.ctcLoss(v, i32(targets.flat(), [3, 3]), inputLengths, targetLengths, { reduction: 'sum' }))(lp) as Tensor).toArray());
      const eps = 1e-6;
      lpv.forEach((v, i) => {
        const b = Math.floor(i / C) % N, t = Math.floor(i / (N * C));
        if (t >= inputLengths[b]) { expect(g[i]).toBe(0); return; }
        const at = (h: number) => { const m = lpv.slice(); m[i] = v + h; return nllRef(m, b); };
        const partial = (at(eps) - at(-eps)) / (2 * eps);
        expectClose(g[i], partial, 1e-6, 1e-7);
      });
    });
  });

  it('the JVP on unnormalised log-probabilities is the central difference of the forward', () => {
    wg.tidy(() => {
      const lpv = uniform(T * N * C, -2, 0, 37), dir = uniform(T * N * C, -1, 1, 38);
      const f = (v: Tensor) => wg.ctcLoss(v, i32(targets.flat(), [3, 3]), inputLengths, targetLengths, { reduction: 'sum' });
      const [, tangent] = wg.jvp(f, [t64(lpv, [T, N, C])], [t64(dir, [T, N, C])]) as [Tensor, Tensor];
      const eps = 1e-6;
      const at = (h: number) => f(t64(lpv.map((v, i) => v + h * dir[i]), [T, N, C])).item() as number;
      expectClose(tangent.item(), (at(eps) - at(-eps)) / (2 * eps), 1e-6, 1e-7);
    });
  });

  it('JVP agrees with VJP; no second derivative, as in PyTorch; float32', () => {
    const lp = t64(logProbs, [T, N, C]);
    const f = (v: Tensor) => wg.ctcLoss(v, i32(targets.flat(), [3, 3]), inputLengths, targetLengths, { reduction: 'none' });
    checkJvpVjp(f, lp);
    expectError(() => wg.grad((v: Tensor) => (wg.grad((u: Tensor) => f(u).sum(), { higherOrder: true })(v) as Tensor).square().sum())(lp),
      wg.NotDifferentiableError, ["'ctcLossGrad' has no derivative rule"]);
    checkFloat32(f, lp, 1e-5, 1e-5);
    lp.dispose();
  });

  it('rejects bad input', () => {
    const lp = wg.zeros([T, N, C]), lp1 = wg.zeros([T, C]), r1 = wg.zeros([T]), tf = wg.zeros([3, 3]);
    const tg = [[1, 2, 0], [3, 3, 0], [2, 0, 0]];
    expectError(() => wg.ctcLoss(lp, tg, [6, 4, 3], [2, 2, 1]), wg.ValueError, ['ctcLoss', 'inputLengths[0] = 6', `<= ${T}`]);
    expectError(() => wg.ctcLoss(lp, tg, [5, 4], [2, 2, 1]), wg.ShapeError, ['ctcLoss', 'inputLengths has shape [2]', '[3] (one length per sample)']);
    expectError(() => wg.ctcLoss(lp, tg, [5, 4, 3], [2, 2]), wg.ShapeError, ['ctcLoss', 'targetLengths has shape [2]']);
    expectError(() => wg.ctcLoss(lp, tg, [5, 4, 3], [2, 4, 1]), wg.ValueError, ['ctcLoss', 'targetLengths[1] = 4', '<= 3']);
    expectError(() => wg.ctcLoss(lp, [[1, 4, 0], [3, 3, 0], [2, 0, 0]], [5, 4, 3], [2, 2, 1]), wg.ValueError,
      ['ctcLoss', 'target 4', 'sample 0, position 1', `${C} classes`]);
    expectError(() => wg.ctcLoss(lp, [[1, 0, 0], [3, 3, 0], [2, 0, 0]], [5, 4, 3], [2, 2, 1]), wg.ValueError, ['ctcLoss', 'target 0', 'blank (0)']);
    expectError(() => wg.ctcLoss(lp, [1, 2, 3, 3], [5, 4, 3], [2, 2, 1]), wg.ShapeError, ['ctcLoss', 'concatenated targets have 4 entries', 'sum to 5']);
    expectError(() => wg.ctcLoss(lp, tg, [5, 4, 3], [2, 2, 1], { blank: 4 }), wg.ValueError, ['ctcLoss', 'blank 4', `${C} classes`]);
    expectError(() => wg.ctcLoss(r1, tg, [5, 4, 3], [2, 2, 1]), wg.ShapeError, ['ctcLoss', 'logProbs must have shape [T, N, C] or [T, C]', `[${T}]`]);
    expectError(() => wg.ctcLoss(lp1, [[1, 2]], [5], [2]), wg.ShapeError, ['ctcLoss', 'targets must be 1-D']);
    expectError(() => wg.ctcLoss(lp, tf, [5, 4, 3], [2, 2, 1]), wg.DTypeError, ['ctcLoss', 'targets must be int32', 'float32']);
    expectError(() => wg.ctcLoss(lp, tg, [5, 4, 3], [2, 2, 1], { reduction: 'batchmean' as any }), wg.ValueError, ['ctcLoss', 'reduction']);
    wg.dispose([lp, lp1, r1, tf]);
  });
});
