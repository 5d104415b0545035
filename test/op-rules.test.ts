// Every op's derivative rules, from the registry in test/registry/ (format: its README.md):
// (a) JVP against VJP by ⟨v, J·u⟩ = ⟨Jᵀ·v, u⟩, (b) the second derivative — Hessian-vector
// products forward-over-reverse and reverse-over-reverse against finite differences of the
// gradient — and (c) coverage: an op exported from src/index.ts without an entry fails.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, rng, expectClose } from './helpers.js';
import type { Tensor } from '../src/index.js';
import type { OpCase } from './registry/types.js';
import { loadRegistry } from './registry/load.js';

beforeAll(async () => { await wg.init(); });

/**
 * Function exports of src/index.ts that are not ops, with why. Every other function export must
 * have a registry entry.
 */
const NOT_OPS: Record<string, string> = {
  // runtime, scopes and memory
  init: 'loads the module', threadCount: 'configuration', tidy: 'scope', keep: 'scope', dispose: 'scope', memory: 'statistics',
  resetPeakMemory: 'statistics', setMemoryLimit: 'configuration', setLiveTensorWarning: 'configuration',
  // creation: no differentiable operand
  tensor: 'creation', zeros: 'creation', ones: 'creation', full: 'creation', arange: 'creation',
  linspace: 'creation', eye: 'creation', zerosLike: 'creation (constant in its operand)',
  onesLike: 'creation (constant in its operand)', fullLike: 'creation (constant in its operand)',
  rand: 'random creation', randn: 'random creation', randint: 'random creation (int32)', multinomial: 'random sampling (int32 indices)', uniform: 'random creation', normal: 'random creation',
  seed: 'random state', manualSeed: 'random state', dlarray: 'creation (MATLAB alias of tensor)',
  // inspection, returning JS values
  isTensor: 'predicate', extractdata: 'copy out to JS',
  onehotencode: 'label encoding (test/matlab-data.test.ts)', onehotdecode: 'label decoding (test/matlab-data.test.ts)',
  minibatchqueue: 'data iteration (test/matlab-data.test.ts)', next: 'data iteration', hasdata: 'data iteration',
  reset: 'data iteration', shuffle: 'data iteration',
  dlnetwork: 'network (test/matlab-dlnetwork.test.ts)', DlNetwork: 'class', Layer: 'class', forward: 'runs a network',
  predict: 'runs a network', initialize: 'network initialisation', dlupdate: 'network update',
  imageInputLayer: 'layer constructor', featureInputLayer: 'layer constructor', convolution2dLayer: 'layer constructor',
  batchNormalizationLayer: 'layer constructor', reluLayer: 'layer constructor', leakyReluLayer: 'layer constructor',
  maxPooling2dLayer: 'layer constructor', averagePooling2dLayer: 'layer constructor', fullyConnectedLayer: 'layer constructor',
  softmaxLayer: 'layer constructor', dropoutLayer: 'layer constructor', flattenLayer: 'layer constructor',
  transposedConv2dLayer: 'layer constructor', tanhLayer: 'layer constructor', sigmoidLayer: 'layer constructor',
  projectAndReshapeLayer: 'layer constructor', additionLayer: 'layer constructor', concatenationLayer: 'layer constructor',
  depthConcatenationLayer: 'layer constructor', sequenceInputLayer: 'layer constructor', lstmLayer: 'layer constructor',
  gruLayer: 'layer constructor', resetState: 'network state (test/matlab-sequence.test.ts)',
  layerGraph: 'layer graph (test/matlab-layergraph.test.ts)', addLayers: 'layer graph', connectLayers: 'layer graph',
  disconnectLayers: 'layer graph', removeLayers: 'layer graph', LayerGraph: 'class',
  dims: 'inspection (the format, a string)', finddim: 'inspection (dims by label, as numbers)', size: 'inspection (the shape or one dim, as numbers)',
  // classes
  Tensor: 'class', Trace: 'class', WasmgradError: 'error class', ShapeError: 'error class',
  AxisError: 'error class', DTypeError: 'error class', ValueError: 'error class',
  DisposedError: 'error class', OutOfMemoryError: 'error class', NotDifferentiableError: 'error class',
  InitError: 'error class', LinAlgError: 'error class', NotAcceleratableError: 'error class', IOError: 'error class',
  // argument helpers, not ops
  // differentiation itself (test/forward.test.ts, test/custom.test.ts, test/autodiff.test.ts)
  valueAndGrad: 'transformation', grad: 'transformation', dlfeval: 'transformation',
  dlgradient: 'transformation', trace: 'transformation', traceJvp: 'transformation',
  jvp: 'transformation', jacfwd: 'transformation', jacobian: 'transformation', jacrev: 'transformation',
  hvp: 'transformation', hessian: 'transformation', dljacobian: 'transformation',
  dldivergence: 'transformation', dllaplacian: 'transformation', vjp: 'transformation',
  customGrad: 'transformation', customJvp: 'transformation', checkpoint: 'transformation',
  accelerate: 'transformation (test/accelerate.test.ts)', dlode45: 'ODE solve (test/dlode45.test.ts)',
  // networks, optimizers and training (test/nn.test.ts, test/optim.test.ts, test/train.test.ts)
  functionalCall: 'runs a module', adamupdate: 'optimizer update', sgdmupdate: 'optimizer update',
  rmspropupdate: 'optimizer update', lbfgsupdate: 'optimizer update', lbfgsState: 'optimizer state',
  minibatches: 'data iteration', Minibatches: 'class', randperm: 'random creation', seededRandom: 'JS generator',
  fit: 'training loop', trainStep: 'training step',
  // no derivative by definition, so the finite-difference check does not apply to it
  stopGradient: 'cuts the derivative (test/custom.test.ts)', detach: 'cuts the derivative (test/custom.test.ts)',
};

const registry = loadRegistry();

/** Random directions with float32-representable values in [-1, 1) (exact through float32 casts). */
function direction(like: Tensor, r: () => number): Tensor {
  const values = Array.from({ length: like.numel() }, () => Math.fround(2 * r() - 1));
  return wg.tensor(values, { shape: like.shape, dtype: 'float64' });
}

const values = (t: Tensor) => Array.from(t.data() as Float64Array);
const dotWith = (a: Tensor, b: Tensor) => values(a).reduce((s, x, i) => s + x * values(b)[i], 0);
const absDot = (a: Tensor, b: Tensor) => values(a).reduce((s, x, i) => s + Math.abs(x * values(b)[i]), 0);

/**
 * An op without a derivative (differentiable: false) runs, and no gradient reaches its float
 * inputs, even through a cast of its output to float64.
 */
function checkNotDifferentiable(c: OpCase, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], r: () => number): void {
  const y = f(...inputs);
  expect(['int32', 'bool'], `${c.name}: an op marked differentiable: false must give integer or bool output`).toContain(y.dtype);
  const floats = inputs.map((_, k) => k).filter((k) => inputs[k].dtype === 'float64');
  if (floats.length === 0) return;
  const v = direction(y, r);
  const [, grads] = wg.valueAndGrad((...xs: Tensor[]) => f(...xs).to('float64').mul(v).sum(), { argnums: floats })(...inputs) as [Tensor, Tensor[]];
  grads.forEach((g, k) => expect(values(g).every((e) => e === 0), `${c.name}: gradient reached input ${floats[k]}`).toBe(true));
}

function checkCase(c: OpCase, caseSeed: number): void {
  const r = rng(caseSeed);
  const { f, inputs } = c.make();
  expect(typeof f, `${c.name}: make() must give a function`).toBe('function');
  expect(inputs.length).toBeGreaterThan(0);
  if (c.differentiable === false) { checkNotDifferentiable(c, f, inputs, r); return; }
  inputs.forEach((x, k) => expect(x.dtype, `${c.name}: input ${k} must be float64`).toBe('float64'));
  const argnums = inputs.map((_, k) => k);
  const y = f(...inputs);
  expect(y.dtype, `${c.name}: output must be float64`).toBe('float64');
  const us = inputs.map((x) => direction(x, r));
  const v = direction(y, r);

  // (a) ⟨v, J·u⟩ = ⟨Jᵀ·v, u⟩
  const [yj, ydot] = wg.jvp(f, inputs, us) as [Tensor, Tensor];
  expect(values(yj), `${c.name}: jvp's value`).toEqual(values(y));
  expect(ydot.shape).toEqual(y.shape);
  const forward = dotWith(v, ydot);
  const [, grads] = wg.valueAndGrad((...xs: Tensor[]) => f(...xs).mul(v).sum(), { argnums })(...inputs) as [Tensor, Tensor[]];
  const reverse = grads.reduce((s, g, k) => s + dotWith(g, us[k]), 0);
  const scale = absDot(v, ydot) + grads.reduce((s, g, k) => s + absDot(g, us[k]), 0);
  expect(scale, `${c.name}: the derivative vanishes, so the identity proves nothing; pick another case`).toBeGreaterThan(0);
  if (!(Math.abs(forward - reverse) <= 1e-10 * scale)) {
    throw new Error(`${c.name}: ⟨v, J·u⟩ = ${forward} (jvp) but ⟨Jᵀ·v, u⟩ = ${reverse} (vjp)`);
  }

  // (b) the Hessian-vector product of L = Σ w ⊙ f + ½ Σ f² (the f² term makes the adjoint reaching
  // f depend on x, so the op's VJP rule itself is differentiated)
  const w = direction(y, r);
  const L = (...xs: Tensor[]) => { const z = f(...xs); return z.mul(w).sum().add(z.square().sum().mul(0.5)); };
  const gradL = (...xs: Tensor[]) => wg.grad(L, { argnums })(...xs) as Tensor[];
  const hvpFwdOverRev = () => (wg.jvp((...xs: Tensor[]) => gradL(...xs), inputs, us) as [Tensor[], Tensor[]])[1];
  const hvpRevOverRev = () => wg.grad((...xs: Tensor[]) => gradL(...xs).map((g, k) => g.mul(us[k]).sum()).reduce((a, b) => a.add(b)),
    { argnums })(...inputs) as Tensor[];
  if (c.secondOrder === false) {
    // first-order rules only, by design: a second derivative must be refused, never silently wrong
    expect(hvpFwdOverRev, `${c.name}: forward-over-reverse`).toThrow(wg.NotDifferentiableError);
    expect(hvpRevOverRev, `${c.name}: reverse-over-reverse`).toThrow(wg.NotDifferentiableError);
    return;
  }
  const fwdOverRev = hvpFwdOverRev();
  const revOverRev = hvpRevOverRev();
  const h = c.fdStep ?? 1e-5;
  const plus = gradL(...inputs.map((x, k) => x.add(us[k].mul(h))));
  const minus = gradL(...inputs.map((x, k) => x.sub(us[k].mul(h))));
  const fd = plus.map((p, k) => values(p).map((pv, i) => (pv - values(minus[k])[i]) / (2 * h)));
  const big = Math.max(1, ...fd.flat().map(Math.abs));
  fd.forEach((expected, k) => {
    try {
      expectClose(values(fwdOverRev[k]), expected, 1e-5, 1e-6 * big);
      expectClose(values(revOverRev[k]), expected, 1e-5, 1e-6 * big);
      expectClose(values(revOverRev[k]), values(fwdOverRev[k]), 1e-10, 1e-12 * big);
    } catch (e) {
      throw new Error(`${c.name}: Hessian-vector product for input ${k}: ${(e as Error).message}`);
    }
  });
}

describe('op rules: JVP against VJP, and second derivatives against finite differences', () => {
  registry.forEach(({ label, entry, problem }, i) => {
    it(label, () => {
      if (problem !== undefined) throw new Error(problem);
      wg.tidy(() => checkCase(entry!, 1000 + i));
    });
  });
});

describe('op-rules registry', () => {
  const exported = Object.entries(wg).filter(([, v]) => typeof v === 'function').map(([k]) => k);
  const covered = new Set(registry.map((l) => l.entry?.name ?? l.label.split(' ')[0]));

  it('every exported op has a registry entry', () => {
    const missing = exported.filter((n) => !covered.has(n) && !(n in NOT_OPS));
    expect(missing, 'exported ops without an entry in test/registry/ (or add them to NOT_OPS if they are not ops)').toEqual([]);
  });

  it('every entry names an export, with a known kind, and the allow-list holds only exports', () => {
    expect(registry.length).toBeGreaterThan(0);
    expect(registry.filter((l) => l.entry && !exported.includes(l.entry.name)).map((l) => l.label)).toEqual([]);
    expect(registry.filter((l) => l.entry?.aliasOf !== undefined && !exported.includes(l.entry.aliasOf)).map((l) => l.label)).toEqual([]);
    expect(registry.filter((l) => l.entry && !['primitive', 'composite'].includes(l.entry.kind)).map((l) => l.label)).toEqual([]);
    expect(Object.keys(NOT_OPS).filter((n) => !exported.includes(n))).toEqual([]);
    expect(Object.keys(NOT_OPS).filter((n) => covered.has(n))).toEqual([]);
  });

  it('the checks can fail: a rule pair that disagrees, a wrong second derivative, and a wrong differentiable or secondOrder flag are caught', () => {
    // sin with a VJP that says cos but a JVP that says 2·cos: the identity must catch it
    const skewed = wg.customGrad((x: Tensor) => x.sin(), (g: Tensor, _y: Tensor, x: Tensor) => g.mul(x.cos()),
      { jvp: ([t]: (Tensor | null)[], _y: Tensor, x: Tensor) => t!.mul(x.cos()).mul(2), name: 'skewed' });
    const x = () => wg.tensor([0.3, -0.7, 1.1], { dtype: 'float64' });
    expect(() => wg.tidy(() => checkCase({ name: 'skewed', kind: 'composite', make: () => ({ f: skewed, inputs: [x()] }) }, 1))).toThrow('skewed: ⟨v, J·u⟩');
    // consistent first derivatives, but a rule that is not differentiable (detached): the
    // second-derivative check must catch the missing term
    const flat = wg.customGrad((t: Tensor) => t.sin(), (g: Tensor, _y: Tensor, t: Tensor) => g.mul(t.cos().detach()),
      { jvp: ([t]: (Tensor | null)[], _y: Tensor, s: Tensor) => t!.mul(s.cos().detach()), name: 'flat' });
    expect(() => wg.tidy(() => checkCase({ name: 'flat', kind: 'composite', make: () => ({ f: flat, inputs: [x()] }) }, 1))).toThrow('flat: Hessian-vector product for input 0');
    // and the correct rule passes
    const good = wg.customGrad((t: Tensor) => t.sin(), (g: Tensor, _y: Tensor, t: Tensor) => g.mul(t.cos()),
      { jvp: ([t]: (Tensor | null)[], _y: Tensor, s: Tensor) => t!.mul(s.cos()), name: 'good' });
    wg.tidy(() => checkCase({ name: 'good', kind: 'composite', make: () => ({ f: good, inputs: [x()] }) }, 1));
    // secondOrder: false claims a refusal: an op whose second derivative works contradicts it
    expect(() => wg.tidy(() => checkCase({ name: 'twice', kind: 'composite', secondOrder: false, make: () => ({ f: good, inputs: [x()] }) }, 1)))
      .toThrow('twice: forward-over-reverse');
    // differentiable: false claims integer output: a float op contradicts it
    expect(() => wg.tidy(() => checkCase({ name: 'floaty', kind: 'composite', differentiable: false, make: () => ({ f: good, inputs: [x()] }) }, 1)))
      .toThrow('floaty: an op marked differentiable: false');
  });
});
