// The nn module system and layers: PyTorch's state-dict names and order, modes, parameter
// ownership (replacing frees the old tensor), functionalCall, loadStateDict's all-or-nothing
// checks; every layer's output and gradients against the op it wraps; PyTorch's default
// initialisation; the initialisers; batch norm's running statistics.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectNoLeak, flat, rand64 } from './helpers.js';
import type { Tensor } from '../src/index.js';

const { nn } = wg;
const F64 = { dtype: 'float64' as const };

beforeAll(async () => { await wg.init(); });

class Net extends nn.Module {
  features = this.registerModule('features', new nn.Sequential(new nn.Conv2d(1, 2, 3, F64), new nn.BatchNorm2d(2, F64), new nn.ReLU()));
  head = this.registerModule('head', new nn.Linear(8, 3, F64));
  forward(x: Tensor): Tensor { return this.head.forward(this.features.forward(x).flatten(1)); }
}

describe('Module: names, order, modes, ownership', () => {
  it('namedParameters and stateDict use PyTorch names and order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['features.0.weight', 'features.0.bias', 'features.1.weight', 'features.1.bias', 'head.weight', 'head.bias']);
    expect(Object.keys(net.stateDict())).toEqual([
      'features.0.weight', 'features.0.bias', 'features.1.weight', 'features.1.bias', 'features.1.running_mean',
      'features.1.running_var', 'features.1.num_batches_tracked', 'head.weight', 'head.bias']);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['features.1.running_mean', 'features.1.running_var', 'features.1.num_batches_tracked']);
    expect(net.stateDict()['features.1.num_batches_tracked'].dtype).toBe('int32');
    expect(net.numParameters()).toBe(2 * 9 + 2 + 2 + 2 + 24 + 3);
    const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.Tanh(), new nn.Linear(2, 1, { bias: false }));
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight']);
    net.dispose();
    seq.dispose();
  });

  it('train() / eval() reach every descendant; predict restores the modes', () => {
    const net = new Net();
    expect([...net.modules()].every((m) => m.training)).toBe(true);
    net.eval();
    expect([...net.modules()].some((m) => m.training)).toBe(false);
    net.train();
    wg.tidy(() => net.predict(rand64([2, 1, 4, 4])));
    expect([...net.modules()].every((m) => m.training)).toBe(true);
    net.dispose();
  });

  it('parameters are kept by the module; replacing one frees the old tensor, without leaks', () => {
    const lin = new nn.Linear(3, 2);
    const old = lin.weight;
    expect(wg.tidy(() => lin.weight.isAlive)).toBe(true);
    expectNoLeak(() => { lin.registerParameter('weight', wg.zeros([2, 3])); });
    expect(old.isAlive).toBe(false);
    expect(lin.weight.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(() => lin.registerParameter('a.b', wg.zeros([1]))).toThrow(/name must be a non-empty string without '.'/);
    lin.dispose();
    // a disposed module is unusable (DisposedError), not an empty one
    expect(() => lin.parameters()).toThrow(wg.DisposedError);
  });

  it('functionalCall runs with stand-in tensors and leaves the module as it was', () => {
    const lin = new nn.Linear(2, 1, F64);
    const w = flat(lin.weight.toArray());
    const y = wg.tidy(() => wg.functionalCall(lin, { weight: wg.tensor([[2, 3]], F64), bias: wg.tensor([1], F64) }, wg.tensor([[1, 1]], F64)).toArray());
    expect(y).toEqual([[6]]);
    expect(flat(lin.weight.toArray())).toEqual(w);
    expect(() => wg.functionalCall(lin, { weights: wg.zeros([1, 2], F64) }, wg.zeros([1, 2], F64))).toThrow(/functionalCall: the module has no parameter or buffer 'weights'/);
    lin.dispose();
  });

  it('summary lists every module with its parameter shapes and the total', () => {
    const net = new Net();
    const s = net.summary();
    expect(s).toContain('features.0');
    expect(s).toContain('Conv2d(1, 2, kernelSize=3)');
    expect(s).toContain('weight [2, 1, 3, 3], bias [2]');
    expect(s).toContain(`Total parameters: ${net.numParameters()} (${net.numParameters() * 8} bytes); buffer elements: 5`);
    expect(String(net)).toContain('(head): Linear(inFeatures=8, outFeatures=3, bias=true)');
    net.dispose();
  });

  it('to(dtype) converts parameters and buffers (int buffers stay int)', () => {
    const bn = new nn.BatchNorm1d(3);
    bn.to('float64');
    expect(bn.parameters().map((t) => t.dtype)).toEqual(['float64', 'float64']);
    expect(bn.buffers().map((t) => t.dtype)).toEqual(['float64', 'float64', 'int32']);
    bn.dispose();
  });
});

describe('loadStateDict: all or nothing', () => {
  it('copies values in place (optimizers keep their references)', () => {
    const a = new nn.Linear(2, 2), b = new nn.Linear(2, 2);
    const w = a.weight;
    a.loadStateDict(b.stateDict());
    expect(a.weight).toBe(w);
    expect(a.weight.toArray()).toEqual(b.weight.toArray());
    a.dispose(); b.dispose();
  });

  it('rejects missing and unexpected names, shapes and dtypes, changing nothing', () => {
    const net = new Net();
    const before = Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, flat(t.toArray())]));
    const good = wg.tidy(() => Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, wg.keep(wg.zerosLike(t))])));
    const { ['head.bias']: _drop, ...missing } = good;
    expect(() => net.loadStateDict(missing)).toThrow(/\(missing key\(s\): 'head\.bias'\); nothing was loaded/);
    expect(() => net.loadStateDict({ ...good, extra: good['head.bias'] })).toThrow(/unexpected key\(s\): 'extra'/);
    const wrongShape = { ...good, 'head.bias': wg.zeros([4], F64) };
    expect(() => net.loadStateDict(wrongShape)).toThrow(wg.ShapeError);
    expect(() => net.loadStateDict(wrongShape)).toThrow(/size mismatch for 'head\.bias': the state dict has shape \[4\], the module has \[3\]/);
    const wrongDtype = { ...good, 'head.bias': wg.zeros([3]) };
    expect(() => net.loadStateDict(wrongDtype)).toThrow(/dtype mismatch for 'head\.bias': the state dict has float32, the module has float64/);
    for (const [k, t] of Object.entries(net.stateDict())) expect(flat(t.toArray())).toEqual(before[k]);
    const r = net.loadStateDict(missing, { strict: false });
    expect(r.missingKeys).toEqual(['head.bias']);
    expect(flat(net.head.weight.toArray()).every((v) => v === 0)).toBe(true);
    wg.dispose([good, wrongShape['head.bias'], wrongDtype['head.bias']]);
    net.dispose();
  });
});

// ————————————————————————————————————————————————————————— layers against the op library

/**
 * The layer's output equals ref(params, …inputs) exactly, and so do the gradients of a weighted
 * sum of the output with respect to every parameter (through functionalCall) and every input.
 */
function sameAsOp(layer: InstanceType<typeof nn.Module>, inputs: Tensor[], ref: (p: Record<string, Tensor>, ...xs: Tensor[]) => Tensor, pick = (y: any): Tensor => y) {
  const params = layer.parameterDict();
  const hasParams = Object.keys(params).length > 0;
  const argnums = [...(hasParams ? [0] : []), ...inputs.map((_, i) => i + 1).filter((i) => inputs[i - 1].dtype !== 'int32')];
  wg.tidy(() => {
    const y = pick(layer.forward(...inputs));
    const r = ref(params, ...inputs);
    expect(y.shape).toEqual(r.shape);
    expect(flat(y.toArray())).toEqual(flat(r.toArray()));
    const w = wg.rand(y.shape, { dtype: y.dtype as any, seed: 5 });
    const viaLayer = wg.grad((p: Record<string, Tensor>, ...xs: Tensor[]) => pick(wg.functionalCall(layer, p, ...xs)).mul(w).sum(), { argnums })(params, ...inputs);
    const viaOp = wg.grad((p: Record<string, Tensor>, ...xs: Tensor[]) => ref(p, ...xs).mul(w).sum(), { argnums })(params, ...inputs);
    if (hasParams) for (const name of Object.keys(params)) expect(flat(viaLayer[0][name].toArray()), name).toEqual(flat(viaOp[0][name].toArray()));
    for (let k = hasParams ? 1 : 0; k < viaLayer.length; k++) expect(flat(viaLayer[k].toArray())).toEqual(flat(viaOp[k].toArray()));
  });
}

describe('every layer computes exactly what its op computes, gradients too', () => {
  it('Linear', () => { const l = new nn.Linear(4, 3, F64); sameAsOp(l, [rand64([2, 5, 4])], (p, x) => wg.linear(x, p.weight, p.bias)); l.dispose(); });
  it('Linear without bias, unbatched', () => { const l = new nn.Linear(4, 3, { ...F64, bias: false }); sameAsOp(l, [rand64([4])], (p, x) => wg.linear(x, p.weight)); l.dispose(); });
  it('Conv1d', () => { const l = new nn.Conv1d(2, 4, 3, { ...F64, stride: 2, padding: 1, groups: 2 }); sameAsOp(l, [rand64([2, 2, 9])], (p, x) => wg.conv1d(x, p.weight, p.bias, { stride: 2, padding: 1, groups: 2 })); l.dispose(); });
  it('Conv2d', () => { const l = new nn.Conv2d(2, 3, [3, 2], { ...F64, padding: 1, dilation: [1, 2] }); sameAsOp(l, [rand64([2, 2, 5, 6])], (p, x) => wg.conv2d(x, p.weight, p.bias, { padding: 1, dilation: [1, 2] })); l.dispose(); });
  it('ConvTranspose2d', () => {
    const l = new nn.ConvTranspose2d(2, 4, 3, { ...F64, stride: 2, outputPadding: 1, groups: 2 });
    expect(l.weight.shape).toEqual([2, 2, 3, 3]);
    sameAsOp(l, [rand64([1, 2, 3, 3])], (p, x) => wg.convTranspose2d(x, p.weight, p.bias, { stride: 2, outputPadding: 1, groups: 2 }));
    l.dispose();
  });
  it('MaxPool2d / AvgPool2d / AdaptiveAvgPool2d / Flatten', () => {
    const x = rand64([2, 3, 6, 5]);
    sameAsOp(new nn.MaxPool2d(2, { stride: 1, padding: 1 }), [x], (_p, v) => wg.maxPool2d(v, 2, { stride: 1, padding: 1 }));
    sameAsOp(new nn.AvgPool2d([3, 2], { countIncludePad: false, padding: 1 }), [x], (_p, v) => wg.avgPool2d(v, [3, 2], { countIncludePad: false, padding: 1 }));
    sameAsOp(new nn.AdaptiveAvgPool2d([2, null]), [x], (_p, v) => wg.adaptiveAvgPool2d(v, [2, null]));
    sameAsOp(new nn.Flatten(), [x], (_p, v) => wg.flatten(v, 1));
  });
  it('BatchNorm1d / BatchNorm2d in training and in eval', () => {
    for (const [bn, shape] of [[new nn.BatchNorm1d(3, F64), [4, 3]], [new nn.BatchNorm1d(3, F64), [4, 3, 2]], [new nn.BatchNorm2d(3, F64), [2, 3, 2, 2]]] as const) {
      const x = rand64([...shape]);
      const rm = wg.keep(wg.zeros([3], F64)), rv = wg.keep(wg.ones([3], F64));
      // the layer moves its statistics once per forward; so does the reference (sameAsOp runs each twice)
      sameAsOp(bn, [x], (p, v) => wg.batchNorm(v, rm, rv, p.weight, p.bias, { training: true }));
      expect(flat(bn.buffer('running_mean')!.toArray())).toEqual(flat(rm.toArray()));
      expect(bn.buffer('num_batches_tracked')!.item()).toBe(2); // forward, and functionalCall inside grad
      bn.eval();
      sameAsOp(bn, [x], (p, v) => wg.batchNorm(v, rm, rv, p.weight, p.bias, { training: false }));
      bn.dispose();
      wg.dispose([rm, rv]);
    }
  });
  it('LayerNorm and GroupNorm', () => {
    const ln = new nn.LayerNorm([2, 3], { ...F64, eps: 1e-3 });
    sameAsOp(ln, [rand64([4, 2, 3])], (p, v) => wg.layerNorm(v, [2, 3], p.weight, p.bias, { eps: 1e-3 }));
    const gn = new nn.GroupNorm(2, 4, F64);
    sameAsOp(gn, [rand64([3, 4, 5])], (p, v) => wg.groupNorm(v, 2, p.weight, p.bias));
    ln.dispose(); gn.dispose();
  });
  it('Embedding', () => {
    const e = new nn.Embedding(5, 3, { ...F64, paddingIdx: -1 });
    expect(e.paddingIdx).toBe(4);
    expect(flat(e.weight.toArray()).slice(12)).toEqual([0, 0, 0]);
    const idx = wg.tensor([[0, 4], [2, 2]], { dtype: 'int32' });
    sameAsOp(e, [idx], (p, i) => wg.embedding(i, p.weight, { paddingIdx: 4 }));
    e.dispose();
  });
  it('LSTM and GRU (2 layers, bidirectional, batch first)', () => {
    const opts = { ...F64, numLayers: 2, bidirectional: true, batchFirst: true };
    const l = new nn.LSTM(3, 4, opts);
    expect(l.namedParameters().map(([n]) => n).slice(0, 5)).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_ih_l0_reverse']);
    expect(l.param('weight_ih_l1')!.shape).toEqual([16, 8]);
    const x = rand64([2, 5, 3]);
    sameAsOp(l, [x], (p, v) => wg.lstm(v, null, p, { numLayers: 2, bidirectional: true, batchFirst: true })[0], (y) => y[0]);
    const g = new nn.GRU(3, 4, opts);
    sameAsOp(g, [x], (p, v) => wg.gru(v, null, p, { numLayers: 2, bidirectional: true, batchFirst: true })[1], (y) => y[1]);
    l.dispose(); g.dispose();
  });
  it('MultiheadAttention (same and different kdim/vdim)', () => {
    const m = new nn.MultiheadAttention(4, 2, F64);
    expect(Object.keys(m.stateDict())).toEqual(['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    const q = rand64([3, 2, 4], -1, 1, 2), k = rand64([5, 2, 4], -1, 1, 3);
    sameAsOp(m, [q, k, k], (p, a, b, c) => wg.multiHeadAttention(a, b, c, p as any, { numHeads: 2 })[0], (y) => y[0]);
    const m2 = new nn.MultiheadAttention(4, 1, { ...F64, kdim: 3, vdim: 2, batchFirst: true });
    expect(Object.keys(m2.stateDict())).toEqual(['q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    sameAsOp(m2, [rand64([2, 3, 4]), rand64([2, 5, 3]), rand64([2, 5, 2])], (p, a, b, c) => wg.multiHeadAttention(a, b, c, p as any, { numHeads: 1, batchFirst: true })[0], (y) => y[0]);
    m.dispose(); m2.dispose();
  });
  it('every activation layer', () => {
    const x = rand64([3, 4], -3, 3);
    const cases: [InstanceType<typeof nn.Module>, (v: Tensor) => Tensor][] = [
      [new nn.ReLU(), (v) => wg.relu(v)], [new nn.Sigmoid(), (v) => wg.sigmoid(v)], [new nn.Tanh(), (v) => wg.tanh(v)],
      [new nn.SELU(), (v) => wg.selu(v)], [new nn.SiLU(), (v) => wg.silu(v)], [new nn.Swish(), (v) => wg.silu(v)],
      [new nn.Mish(), (v) => wg.mish(v)], [new nn.Hardsigmoid(), (v) => wg.hardsigmoid(v)],
      [new nn.LeakyReLU(0.2), (v) => wg.leakyRelu(v, 0.2)], [new nn.ELU(0.5), (v) => wg.elu(v, 0.5)],
      [new nn.GELU('tanh'), (v) => wg.gelu(v, { approximate: 'tanh' })], [new nn.Hardtanh(-2, 1), (v) => wg.hardtanh(v, -2, 1)],
      [new nn.Softplus(2, 5), (v) => wg.softplus(v, { beta: 2, threshold: 5 })], [new nn.Softmax(0), (v) => wg.softmax(v, 0)],
      [new nn.LogSoftmax(1), (v) => wg.logSoftmax(v, 1)],
    ];
    for (const [layer, op] of cases) sameAsOp(layer, [x], (_p, v) => op(v));
  });
  it('Dropout: the op with the same seed in training, the identity in eval and predict', () => {
    const d = new nn.Dropout(0.4);
    const x = rand64([50]);
    wg.seed(9);
    const a = wg.tidy(() => flat(d.forward(x).toArray()));
    wg.seed(9);
    const b = wg.tidy(() => flat(wg.dropout(x, 0.4).toArray()));
    expect(a).toEqual(b);
    expect(a.filter((v) => v === 0).length).toBeGreaterThan(5);
    expect(wg.tidy(() => flat(d.predict(x).toArray()))).toEqual(flat(x.toArray()));
    expect(() => new nn.Dropout(1.5)).toThrow(/Dropout: dropout probability has to be between 0 and 1, but got 1.5/);
  });
  it('Sequential chains its children; gradients of a whole network by finite differences', () => {
    const seq = new nn.Sequential(new nn.Linear(3, 4, F64), new nn.Tanh(), new nn.Linear(4, 2, F64));
    const x = rand64([2, 3]);
    sameAsOp(seq, [x], (p, v) => wg.linear(wg.linear(v, p['0.weight'], p['0.bias']).tanh(), p['2.weight'], p['2.bias']));
    checkGrad((w0: Tensor, b2: Tensor) => wg.functionalCall(seq, { '0.weight': w0, '2.bias': b2 }, x), [(seq.at(0) as any).weight, (seq.at(2) as any).bias]);
    expect(seq.length).toBe(3);
    expect(() => seq.at(5)).toThrow(/Sequential: index 5 is out of range for 3 modules/);
    seq.dispose();
  });
});

describe('batch norm running statistics follow PyTorch', () => {
  it('momentum 0.1 with the unbiased variance; null momentum is a cumulative average; eval leaves them', () => {
    const xs = [[1, 2], [3, 6], [5, 1]];
    const bn = new nn.BatchNorm1d(2, F64);
    wg.tidy(() => bn.forward(wg.tensor(xs, F64)));
    const mean = [3, 3], varU = [4, 7];
    expectClose(bn.buffer('running_mean')!.toArray(), mean.map((m) => 0.1 * m), 1e-15);
    expectClose(bn.buffer('running_var')!.toArray(), varU.map((v) => 0.9 + 0.1 * v), 1e-15);
    bn.eval();
    const y = wg.tidy(() => bn.forward(wg.tensor(xs, F64)).toArray());
    expectClose(y, xs.map((r) => r.map((v, j) => (v - 0.1 * mean[j]) / Math.sqrt(0.9 + 0.1 * varU[j] + 1e-5))), 1e-14);
    expect(bn.buffer('num_batches_tracked')!.item()).toBe(1);
    const cum = new nn.BatchNorm1d(2, { ...F64, momentum: null });
    wg.tidy(() => { cum.forward(wg.tensor(xs, F64)); cum.forward(wg.tensor([[0, 0], [2, 2]], F64)); });
    expectClose(cum.buffer('running_mean')!.toArray(), [(3 + 1) / 2, (3 + 1) / 2], 1e-15);
    expect(() => wg.tidy(() => bn.forward(wg.zeros([2, 2, 2, 2], F64)))).toThrow(/BatchNorm1d: expected 2D or 3D input, got shape \[2, 2, 2, 2\]/);
    bn.dispose(); cum.dispose();
  });
});

describe('initialisers (seeded) and PyTorch default initialisation', () => {
  const stats = (t: Tensor) => { const v = flat(t.toArray()); const m = v.reduce((a, b) => a + b, 0) / v.length; return { min: Math.min(...v), max: Math.max(...v), mean: m, std: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) }; };

  it('Linear / Conv2d: U(−1/√fan_in, 1/√fan_in) for weight and bias; the same seed gives the same weights', () => {
    wg.seed(11);
    const l = new nn.Linear(400, 300);
    const s = stats(l.weight);
    expect(s.max).toBeLessThanOrEqual(1 / 20);
    expect(s.min).toBeGreaterThanOrEqual(-1 / 20);
    expect(s.std).toBeCloseTo(1 / 20 / Math.sqrt(3), 3);
    expect(stats(l.bias!).max).toBeLessThanOrEqual(1 / 20);
    wg.seed(11);
    const again = new nn.Linear(400, 300);
    expect(flat(again.weight.toArray())).toEqual(flat(l.weight.toArray()));
    const c = new nn.Conv2d(4, 8, 3);
    expect(stats(c.weight).max).toBeLessThanOrEqual(1 / 6);
    expect(stats(c.bias!).max).toBeLessThanOrEqual(1 / 6);
    l.dispose(); again.dispose(); c.dispose();
  });

  it('LSTM U(±1/√hidden), MultiheadAttention xavier + zero biases, BatchNorm ones/zeros, Embedding N(0, 1)', () => {
    const l = new nn.LSTM(5, 16);
    for (const p of l.parameters()) expect(Math.max(...flat(p.toArray()).map(Math.abs))).toBeLessThanOrEqual(0.25);
    const m = new nn.MultiheadAttention(8, 2);
    expect(flat(m.param('in_proj_bias')!.toArray()).every((v) => v === 0)).toBe(true);
    expect(flat(m.outProj.bias!.toArray()).every((v) => v === 0)).toBe(true);
    expect(stats(m.param('in_proj_weight')!).max).toBeLessThanOrEqual(Math.sqrt(6 / 32));
    const bn = new nn.BatchNorm2d(3);
    expect(flat(bn.param('weight')!.toArray())).toEqual([1, 1, 1]);
    expect(flat(bn.buffer('running_var')!.toArray())).toEqual([1, 1, 1]);
    wg.seed(4);
    const e = new nn.Embedding(200, 50);
    const s = stats(e.weight);
    expect(s.std).toBeCloseTo(1, 1);
    expect(Math.abs(s.mean)).toBeLessThan(0.04); // 4 standard errors of a mean of 10,000 draws
    [l, m, bn, e].forEach((x) => x.dispose());
  });

  it('xavier, kaiming (uniform, normal, fan modes), constants, calculateGain', () => {
    const { init } = nn;
    expect(init.calculateGain('relu')).toBe(Math.SQRT2);
    expect(init.calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 15);
    expect(init.calculateGain('tanh')).toBe(5 / 3);
    expect(init.fanInAndOut('t', [8, 4, 3, 3])).toEqual([36, 72]);
    const xu = init.xavierUniform([300, 200], 2);
    expect(stats(xu).max).toBeLessThanOrEqual(2 * Math.sqrt(6 / 500));
    expect(stats(xu).std).toBeCloseTo(2 * Math.sqrt(2 / 500), 2);
    expect(stats(init.xavierNormal([300, 200])).std).toBeCloseTo(Math.sqrt(2 / 500), 2);
    expect(stats(init.kaimingNormal([300, 200], { nonlinearity: 'relu' })).std).toBeCloseTo(Math.sqrt(2 / 200), 2);
    expect(stats(init.kaimingNormal([300, 200], { nonlinearity: 'relu', mode: 'fan_out' })).std).toBeCloseTo(Math.sqrt(2 / 300), 2);
    expect(stats(init.kaimingUniform([300, 200])).max).toBeLessThanOrEqual(Math.sqrt(6 / 200));
    expect(flat(init.constant([2], 3.5).toArray())).toEqual([3.5, 3.5]);
    expect(flat(init.ones([2]).toArray())).toEqual([1, 1]);
    expect(flat(init.zeros([2], F64).toArray())).toEqual([0, 0]);
    expect(() => init.xavierUniform([5])).toThrow(/fewer than 2 dimensions \(shape \[5\]\)/);
    expect(() => init.kaimingUniform([5, 5], { mode: 'fan_avg' as any })).toThrow(/mode 'fan_avg' not supported/);
  });

  it('orthogonal: QᵀQ = I (tall), QQᵀ = I (wide), times gain; seeded', () => {
    for (const [rows, cols] of [[6, 4], [3, 7]]) {
      wg.seed(2);
      const q = nn.init.orthogonal([rows, cols], 2, F64);
      const a = q.toArray() as number[][];
      const n = Math.min(rows, cols);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < Math.max(rows, cols); k++) s += rows >= cols ? a[k][i] * a[k][j] : a[i][k] * a[j][k];
        expect(s).toBeCloseTo(i === j ? 4 : 0, 12);
      }
      wg.seed(2);
      expect(nn.init.orthogonal([rows, cols], 2, F64).toArray()).toEqual(a);
    }
    expect(nn.init.orthogonal([2, 3, 2]).shape).toEqual([2, 3, 2]);
  });
});

describe('layer errors', () => {
  it('name the layer and the argument; the runtime keeps working', () => {
    expect(() => new nn.Linear(0, 3)).toThrow(/Linear: inFeatures must be an integer >= 1, got 0/);
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow(/Conv2d: inChannels \(3\) must be divisible by groups \(2\)/);
    expect(() => new nn.MultiheadAttention(5, 2)).toThrow(/MultiheadAttention: embedDim \(5\) must be divisible by numHeads \(2\)/);
    expect(() => new nn.GroupNorm(3, 4)).toThrow(/GroupNorm: numChannels \(4\) must be divisible by numGroups \(3\)/);
    const l = new nn.Linear(3, 2);
    expect(() => wg.tidy(() => l.forward(wg.zeros([2, 4])))).toThrow(wg.ShapeError);
    expect(wg.tidy(() => l.forward(wg.zeros([2, 3])).shape)).toEqual([2, 2]);
    l.dispose();
  });
});
