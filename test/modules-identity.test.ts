// Gradients follow tensors, not names: programs written the way PyTorch and MATLAB users write
// them (tied weights, parameters and submodules in fields, a network passed to dlfeval, a
// penalty over parameters()) get the central-difference gradient of the loss with respect to
// every parameter tensor, through every training pattern the README shows.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose, flat, uniform } from './helpers.js';
import type { Tensor } from '../src/index.js';

const { nn } = wg;
const dtype = 'float64' as const;
const V = 7, D = 6, T = 5;

beforeAll(async () => { await wg.init(); });

/** nanoGPT's habit: the output projection shares the token embedding (wte.weight is lm_head.weight). */
class TiedBlock extends nn.Module {
  wte = new nn.Embedding(V, D, { dtype });
  ln = new nn.LayerNorm(D, { dtype });
  attn = new nn.MultiheadAttention(D, 2, { batchFirst: true, dtype });
  lm_head = new nn.Linear(D, V, { bias: false, dtype });
  constructor() {
    super();
    this.lm_head.registerParameter('weight', this.wte.weight);
  }
  forward(idx: Tensor): Tensor {
    const x = this.wte.call(idx) as Tensor;
    const h = this.ln.call(x) as Tensor;
    const [a] = this.attn.call(h, h, h, { attnMask: causalMask(), needWeights: false }) as [Tensor, unknown];
    return this.lm_head.call(x.add(a)) as Tensor;
  }
}

/** Every PyTorch user's custom module: a parameter and a submodule in fields, read as this.w in forward. */
class FieldNet extends nn.Module {
  fc: any;
  w: any;
  scale: any;
  constructor() {
    super();
    this.fc = new nn.Linear(3, 4, { dtype });
    this.w = wg.tensor(uniform(4, -1, 1, 3), { dtype });
    this.scale = nn.Buffer(wg.tensor([0.5], { dtype }));
  }
  forward(x: Tensor): Tensor {
    return (this.fc.call(x) as Tensor).tanh().mul(this.w).mul(this.scale);
  }
}

/** The additive causal mask: 0 where a position may attend (itself and before), -Infinity after. */
const causalMask = () => wg.tensor(Array.from({ length: T * T }, (_, k) => (k % T <= Math.floor(k / T) ? 0 : -Infinity)), { shape: [T, T], dtype });
const tokens = () => wg.tensor([[1, 3, 0, 6, 2], [4, 4, 5, 1, 0]], { dtype: 'int32' });
const nextTokens = () => wg.tensor([3, 0, 6, 2, 5, 4, 5, 1, 0, 2], { dtype: 'int32' });
const gptLoss = (logits: Tensor) => wg.crossEntropy(logits.reshape([2 * T, V]), nextTokens());

/**
 * The loss's central difference along a few entries of every parameter tensor, moving the
 * module's own tensor in place (a tied tensor moves under all its names: the total derivative).
 */
function centralDifferences(net: any, loss: () => number, picks = 4, eps = 1e-6): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const [name, p] of net.namedParameters() as [string, Tensor][]) {
    const base = flat(p.toArray());
    const rows: [number, number][] = [];
    for (let j = 0; j < Math.min(picks, base.length); j++) {
      const i = Math.floor((j * base.length) / picks);
      const at = (h: number) => {
        const moved = base.slice(); moved[i] += h;
        wg.tidy(() => net.loadStateDict({ [name]: wg.tensor(moved, { shape: p.shape, dtype }) }, { strict: false }));
        return loss();
      };
      rows.push([i, (at(eps) - at(-eps)) / (2 * eps)]);
      wg.tidy(() => net.loadStateDict({ [name]: wg.tensor(base, { shape: p.shape, dtype }) }, { strict: false }));
    }
    out.set(name, rows);
  }
  return out;
}

function expectGradients(grads: Record<string, Tensor>, numeric: Map<string, [number, number][]>): void {
  expect(Object.keys(grads).sort()).toEqual([...numeric.keys()].sort());
  for (const [name, rows] of numeric) {
    const g = flat(grads[name].toArray());
    for (const [i, d] of rows) expectClose(g[i], d, 1e-6, 1e-8);
  }
}

describe('tied weights', () => {
  it('a tied tensor is one parameter: once in parameters(), stateDict() and the optimizer', () => {
    const net = new TiedBlock();
    const names = net.namedParameters().map(([n]) => n);
    expect(names).toContain('wte.weight');
    expect(names).not.toContain('lm_head.weight');
    expect(net.parameters().filter((p) => p === net.wte.weight)).toHaveLength(1);
    const sd = net.stateDict();
    expect('wte.weight' in sd).toBe(true);
    expect('lm_head.weight' in sd).toBe(false);
    expect(net.lm_head.weight).toBe(net.wte.weight);
    net.dispose();
  });

  it('functionalCall over parameterDict() (the README pattern): the shared gradient is the sum of both uses', () => {
    const net = new TiedBlock();
    const lossOf = () => wg.tidy(() => gptLoss(net.call(tokens())).item() as number);
    const numeric = centralDifferences(net, lossOf);
    const [value, grads] = wg.valueAndGrad((p: Record<string, Tensor>) => gptLoss(wg.functionalCall(net, p, tokens())))(net.parameterDict());
    expectClose(value.item(), lossOf(), 1e-14, 1e-14);
    expectGradients(grads, numeric);
    // Before tensor identity, lm_head kept the undifferentiated tensor: check the gradient is not just the embedding's use.
    const embeddingOnly = wg.grad((p: Record<string, Tensor>) => {
      const w = p['wte.weight'];
      const x = wg.embedding(tokens(), w);
      const h = net.ln.call(x) as Tensor;
      const [a] = net.attn.call(h, h, h, { attnMask: causalMask(), needWeights: false }) as [Tensor, unknown];
      return gptLoss(wg.linear(x.add(a), wg.stopGradient(w)));
    })(net.parameterDict()) as Record<string, Tensor>;
    const diff = flat(grads['wte.weight'].sub(embeddingOnly['wte.weight']).abs().max().toArray())[0];
    expect(diff).toBeGreaterThan(1e-3);
    wg.dispose([value, grads, embeddingOnly]);
    net.dispose();
  });

  it('valueAndGrad(f)(net): the gradient by parameter name, tied and field-held parameters included', () => {
    const net = new TiedBlock();
    const lossOf = () => wg.tidy(() => gptLoss(net.call(tokens())).item() as number);
    const numeric = centralDifferences(net, lossOf);
    const [value, grads] = wg.valueAndGrad((m: TiedBlock) => gptLoss(m.call(tokens())))(net);
    expectClose(value.item(), lossOf(), 1e-14, 1e-14);
    expectGradients(grads, numeric);
    wg.dispose([value, grads]);
    net.dispose();
  });

  it('trainStep and fit take the central-difference step on the shared tensor', async () => {
    const lr = 0.1;
    for (const via of ['trainStep', 'fit'] as const) {
      const net = new TiedBlock();
      const lossOf = () => wg.tidy(() => gptLoss(net.call(tokens())).item() as number);
      const numeric = centralDifferences(net, lossOf);
      const before = new Map(net.namedParameters().map(([n, p]) => [n, flat(p.toArray())]));
      const opt = new wg.optim.SGD(net, { lr });
      const loss = (logits: Tensor, y: Tensor) => wg.crossEntropy(logits.reshape([2 * T, V]), y.reshape([2 * T]));
      const y = nextTokens().reshape([2, T]);
      if (via === 'trainStep') wg.trainStep(net, opt, loss, tokens(), y);
      else await wg.fit(net, tokens(), y, { optimizer: opt, loss, batchSize: 2, progress: false });
      for (const [name, rows] of numeric) {
        const after = flat(net.parameterDict()[name].toArray());
        for (const [i, d] of rows) expectClose((before.get(name)![i] - after[i]) / lr, d, 1e-6, 1e-8);
      }
      net.dispose();
    }
  });

  it('is saved once and loading restores the tie (also from a file that lists both names)', () => {
    const net = new TiedBlock();
    const bytes = wg.io.save(net);
    const loaded = (wg.io.load(bytes) as { tensors: Record<string, Tensor> }).tensors;
    expect(Object.keys(loaded)).toContain('wte.weight');
    expect(Object.keys(loaded)).not.toContain('lm_head.weight');
    const other = new TiedBlock();
    other.loadStateDict(loaded);
    expect(other.lm_head.weight).toBe(other.wte.weight);
    expect(flat(other.lm_head.weight.toArray())).toEqual(flat(net.wte.weight.toArray()));
    // PyTorch's state_dict() lists every name of a tied tensor: both load, into the one tensor.
    const both = { ...loaded, 'lm_head.weight': loaded['wte.weight'] };
    expect(other.loadStateDict(both)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const conflicting = { ...loaded, 'lm_head.weight': wg.zerosLike(loaded['wte.weight']) };
    expect(() => other.loadStateDict(conflicting)).toThrow(/'wte.weight' and 'lm_head.weight' name one tied tensor/);
    wg.dispose([loaded, conflicting['lm_head.weight']]);
    net.dispose();
    other.dispose();
  });

  it('io.load takes a file that names the tied tensor by its other name (as save_model may keep either)', () => {
    const net = new TiedBlock();
    const sd = net.stateDict();
    const { 'wte.weight': w, ...rest } = sd;
    const bytes = wg.io.save({ ...rest, 'lm_head.weight': w });
    const other = new TiedBlock();
    wg.io.load(bytes, other);
    expect(other.lm_head.weight).toBe(other.wte.weight);
    expect(flat(other.wte.weight.toArray())).toEqual(flat(w.toArray()));
    net.dispose();
    other.dispose();
  });

  it('an optimizer stepping inside a differentiated call updates the module\'s own tensors, never the stand-ins', () => {
    const net = new FieldNet();
    const opt = new wg.optim.SGD(net, { lr: 0.5 });
    const before = flat(net.w.toArray());
    const x = wg.tensor(uniform(6, -1, 1, 9), { shape: [2, 3], dtype });
    wg.valueAndGrad((m: FieldNet) => {
      const loss = (m.call(x) as Tensor).square().sum();
      opt.step({ w: wg.onesLike(net.parameterDict().w) });
      return loss;
    })(net);
    expect(flat(net.w.toArray())).toEqual(before.map((v) => v - 0.5));
    x.dispose();
    net.dispose();
  });

  it('functionalCall: one tied name replaces all of them; two different tensors for one tie is an error', () => {
    const net = new TiedBlock();
    const zero = wg.zerosLike(net.wte.weight);
    const out = wg.functionalCall(net, { 'lm_head.weight': zero }, tokens()) as Tensor;
    expect(flat(out.toArray()).every((v) => v === 0)).toBe(true);
    expect(() => wg.functionalCall(net, { 'wte.weight': net.wte.weight, 'lm_head.weight': zero }, tokens()))
      .toThrow(/name one tied tensor of the module but were given two different tensors/);
    expect(() => wg.functionalCall(net, { 'wte.weigth': zero }, tokens())).toThrow(/no parameter or buffer 'wte.weigth'. Did you mean 'wte.weight'/);
    wg.dispose([zero, out]);
    net.dispose();
  });
});

describe('optimizers built from tensor groups take a module\'s gradients by name', () => {
  it("nanoGPT's decay / no-decay groups: opt.step(grads of valueAndGrad(f)(net)) updates each tensor as a Module-built optimizer does", () => {
    const x = () => wg.tensor(uniform(6, -1, 1, 4), { shape: [2, 3], dtype });
    const run = (grouped: boolean) => {
      wg.manualSeed(9);
      const net = new FieldNet();
      const params = net.namedParameters();
      const opt = grouped
        ? new wg.optim.AdamW([
          { params: params.filter(([, p]) => p.shape.length >= 2).map(([, p]) => p), weightDecay: 0.1 },
          { params: params.filter(([, p]) => p.shape.length < 2).map(([, p]) => p), weightDecay: 0.1 },
        ], { lr: 0.01 })
        : new wg.optim.AdamW(net, { lr: 0.01, weightDecay: 0.1 });
      for (let i = 0; i < 3; i++) {
        wg.tidy(() => {
          const [, g] = wg.valueAndGrad((m: FieldNet) => (m.call(x()) as Tensor).square().sum())(net);
          opt.step(g);
        });
      }
      const out = net.namedParameters().map(([n, p]) => [n, flat(p.toArray())]);
      opt.dispose();
      net.dispose();
      return out;
    };
    expect(run(true)).toEqual(run(false));
  });
});

describe('fields work as in PyTorch', () => {
  it('a module, a parameter and a buffer assigned to fields are registered', () => {
    const net = new FieldNet();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['w', 'fc.weight', 'fc.bias']);
    expect(Object.keys(net.stateDict())).toEqual(['w', 'scale', 'fc.weight', 'fc.bias']);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['scale']);
    expect(net.children()).toEqual([net.fc]);
    net.dispose();
  });

  it('this.w in forward is differentiated: valueAndGrad(f)(net), parameterDict + functionalCall and trainStep', () => {
    const net = new FieldNet();
    const x = () => wg.tensor(uniform(6, -1, 1, 9), { shape: [2, 3], dtype });
    const lossOf = () => wg.tidy(() => (net.call(x()) as Tensor).square().sum().item() as number);
    const numeric = centralDifferences(net, lossOf);
    const [, g1] = wg.valueAndGrad((m: FieldNet) => (m.call(x()) as Tensor).square().sum())(net);
    expectGradients(g1, numeric);
    const g2 = wg.grad((p: Record<string, Tensor>) => (wg.functionalCall(net, p, x()) as Tensor).square().sum())(net.parameterDict());
    expectGradients(g2, numeric);
    // without functionalCall: the tensors of the dict are the module's own, so reading them through the module is differentiated too
    const g3 = wg.grad((_p: Record<string, Tensor>) => (net.call(x()) as Tensor).square().sum())(net.parameterDict());
    expectGradients(g3, numeric);
    const g4 = wg.grad((w: Tensor) => (net.call(x()) as Tensor).square().sum())(net.w);
    expect(flat(g4.toArray())).toEqual(flat(g1.w.toArray()));
    wg.dispose([g1, g2, g3, g4]);
    net.dispose();
  });

  it('a penalty over parameters() inside the differentiated function is differentiated', () => {
    const net = new FieldNet();
    const [, g] = wg.valueAndGrad((m: FieldNet) => m.parameters().map((p) => p.square().sum()).reduce((a, b) => a.add(b)))(net);
    for (const [name, p] of net.namedParameters()) expectClose(g[name].toArray(), p.mul(2).toArray(), 1e-15, 0);
    wg.dispose(g);
    net.dispose();
  });

  it('reassigning a field replaces the parameter; null clears it; a wrong type is an error naming the field', () => {
    const net = new FieldNet();
    const w2 = wg.tensor([1, 2, 3, 4], { dtype });
    net.w = w2;
    expect(net.parameterDict().w).toBe(w2);
    expect(() => { net.w = 3; }).toThrow(/cannot assign the number 3 to 'w', which is a parameter/);
    net.fc = null;
    expect(net.namedParameters().map(([n]) => n)).toEqual(['w']);
    net.dispose();
  });

  it('a layer keeps one name per submodule (MultiheadAttention: out_proj, as PyTorch)', () => {
    const mha = new nn.MultiheadAttention(4, 2);
    expect(mha.namedChildren().map(([n]) => n)).toEqual(['out_proj']);
    expect(Object.keys(mha.stateDict())).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    expect(mha.outProj).toBe(mha.namedChildren()[0][1]);
    mha.dispose();
  });

  it('an array of modules in a field is an error that names the container to use', () => {
    class Bad extends nn.Module {
      layers: any;
      constructor() { super(); this.layers = [new nn.Linear(2, 2)]; }
      forward(x: Tensor) { return x; }
    }
    expect(() => new Bad()).toThrow(/field 'layers' holds an array of modules, which would not be registered/);
  });

  it('fields named with a leading underscore, and values that are not tensors or modules, stay plain', () => {
    class Cache extends nn.Module {
      _last: any = null;
      hidden = 16;
      forward(x: Tensor) { this._last = x; return x; }
    }
    const m = new Cache();
    m.forward(wg.tensor([1]));
    expect(m.parameters()).toEqual([]);
    expect(m.hidden).toBe(16);
    m._last.dispose();
  });

  it('registerBuffer(name, t, false) and nn.Buffer(t, { persistent: false }) are left out of stateDict()', () => {
    class M extends nn.Module {
      a: any;
      constructor() {
        super();
        this.registerBuffer('mask', wg.tensor([1, 0]), false);
        this.a = nn.Buffer(wg.tensor([2]), { persistent: false });
        this.registerBuffer('kept', wg.tensor([3]));
      }
      forward(x: Tensor) { return x; }
    }
    const m = new M();
    expect(Object.keys(m.stateDict())).toEqual(['kept']);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['mask', 'a', 'kept']);
    expect(() => m.registerBuffer('b', wg.tensor([1]), { persistant: false } as any)).toThrow(/unknown option 'persistant'. Did you mean 'persistent'\?/);
    expect(() => (m.registerBuffer as any)('b', wg.tensor([1]), true, 'extra')).toThrow(/takes at most 3 arguments/);
    m.dispose();
  });
});

describe('MATLAB call shapes', () => {
  it('dlgradient(y, x1, x2) returns two gradients; options as an object or name-value pairs', () => {
    const x1 = wg.tensor([2], { dtype }), x2 = wg.tensor([0.5], { dtype });
    const [g1, g2] = wg.dlfeval((a: Tensor, b: Tensor) => wg.dlgradient(a.mul(a).mul(b).sum(), a, b), x1, x2) as Tensor[];
    expect(g1.item()).toBe(2);
    expect(g2.item()).toBe(4);
    const gg = wg.dlfeval((a: Tensor, b: Tensor) => {
      const [ga] = wg.dlgradient(a.mul(a).mul(b).sum(), a, b, 'EnableHigherDerivatives', true);
      return wg.dlgradient(ga.sum(), a);
    }, x1, x2) as Tensor;
    expect(gg.item()).toBe(1); // ∂(2ab)/∂a = 2b
    const single = wg.dlfeval((a: Tensor) => wg.dlgradient(a.square().sum(), a, { EnableHigherDerivatives: false }), x1) as Tensor;
    expect(single.item()).toBe(4);
    expect(() => wg.dlfeval((a: Tensor) => wg.dlgradient(a.sum(), a, { EnableHigherDerivative: true }), x1))
      .toThrow(/unknown option 'EnableHigherDerivative'. Did you mean 'EnableHigherDerivatives'\?/);
    expect(() => wg.dlfeval((a: Tensor) => wg.dlgradient(a.sum(), a, 'RetainData'), x1)).toThrow(/name-value arguments come in pairs/);
    wg.dispose([x1, x2, g1, g2, gg, single]);
  });

  it('dlfeval(modelLoss, net, X, T) traces the network: dlgradient(loss, net), (loss, net.parameters()) and by field', () => {
    const net = new FieldNet();
    const X = wg.tensor(uniform(6, -1, 1, 4), { shape: [2, 3], dtype });
    const lossOf = () => wg.tidy(() => (net.call(X) as Tensor).square().sum().item() as number);
    const numeric = centralDifferences(net, lossOf);
    const [loss, byName, list, w] = wg.dlfeval((n: FieldNet, x: Tensor) => {
      const l = (n.call(x) as Tensor).square().sum();
      const [a, b, c] = wg.dlgradient(l, n, n.parameters(), n.w);
      return [l, a, b, c];
    }, net, X) as [Tensor, Record<string, Tensor>, Tensor[], Tensor];
    expectClose(loss.item(), lossOf(), 1e-14, 0);
    expectGradients(byName, numeric);
    expect(list.map((t) => flat(t.toArray()))).toEqual(net.namedParameters().map(([n]) => flat(byName[n].toArray())));
    expect(flat(w.toArray())).toEqual(flat(byName.w.toArray()));
    wg.dispose([loss, byName, list, w, X]);
    net.dispose();
  });

  it("dlarray(X, 'SSCB') keeps its format (a label is never silently dropped); a bad one is an error naming it", () => {
    const x4 = wg.dlarray([[[[1, 2]]]], 'SSCB');
    expect(wg.dims(x4)).toBe('SSCB');
    expect(() => wg.dlarray([[1, 2]], 'SXCB' as any)).toThrow(/dlarray/);
    expect(() => wg.dlarray([[1, 2]], 'SXCB' as any)).toThrow(/X/);
    x4.dispose();
    // a formatted array stays formatted inside dlfeval, and its gradient has its format (MATLAB's dlgradient)
    const xc = wg.dlarray([[1, 2], [3, 4]], 'CB', { dtype } as any);
    const [inside, g] = wg.dlfeval((x: Tensor) => [wg.dims(x), wg.dlgradient(x.square().sum(), x)], xc) as [string, Tensor];
    expect(inside).toBe('CB');
    expect(wg.dims(g)).toBe('CB');
    expect(flat(g.toArray())).toEqual([2, 4, 6, 8]);
    wg.dispose([xc, g]);
    const before = wg.memory().liveTensors;
    const x = wg.dlarray([1, 2], { dtype });
    expect(x.toArray()).toEqual([1, 2]);
    x.dispose();
    expect(wg.memory().liveTensors).toBe(before);
  });

  it('dlgradient with respect to an untraced tensor says what to trace', () => {
    const net = new FieldNet();
    const loose = wg.tensor([1], { dtype });
    expect(() => wg.dlfeval((n: FieldNet) => wg.dlgradient(n.w.sum().add(loose.sum()), loose), net))
      .toThrow(/is not traced: differentiate with respect to dlfeval's inputs \(tensors or a network's learnables\)/);
    loose.dispose();
    net.dispose();
  });
});

describe('reduction options are checked', () => {
  it("sum(a, 0, { keepDims: true }) is an error suggesting 'keepdims'; keepdims works", () => {
    const a = wg.tensor([[1, 2], [3, 4]]);
    expect(() => wg.sum(a, 0, { keepDims: true } as any)).toThrow(/sum: unknown option 'keepDims'. Did you mean 'keepdims'\?/);
    expect(() => a.sum(0, { keepDims: true } as any)).toThrow(/unknown option 'keepDims'/);
    expect(wg.sum(a, 0, { keepdims: true }).shape).toEqual([1, 2]);
    a.dispose();
  });
});

describe('gradient options are checked', () => {
  it('valueAndGrad(f, { argnum: 1 }) is an error naming argnums; a non-function is an error at once', () => {
    expect(() => wg.valueAndGrad((a: Tensor) => a.sum(), { argnum: 1 } as any)).toThrow(/valueAndGrad: unknown option 'argnum'. Did you mean 'argnums'\?/);
    expect(() => wg.grad((a: Tensor) => a.sum(), { has_aux: true } as any)).toThrow(/grad: unknown option 'has_aux'. Did you mean 'hasAux'\?/);
    expect(() => wg.valueAndGrad(null as any)).toThrow(/valueAndGrad: expected a function to differentiate, got null/);
    expect(() => (wg.valueAndGrad as any)((a: Tensor) => a.sum(), {}, 1)).toThrow(/valueAndGrad: takes at most 2 arguments/);
    const x = wg.tensor([1, 2], { dtype });
    const [, g] = wg.valueAndGrad((_a: Tensor, b: Tensor) => b.square().sum(), { argnums: 1 })(x, x);
    expect(g.toArray()).toEqual([2, 4]);
    wg.dispose([x, g]);
  });
});
