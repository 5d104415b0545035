// Optimizer state dicts in PyTorch's { state, param_groups } form, their round trip through
// safetensors (io.save(opt) / io.load(bytes, opt)), schedulers' state dicts, and the property
// that matters: a run saved and resumed takes the same steps, bit for bit, as one that never
// stopped (SGD with momentum, Adam, AdamW, RMSprop, Adagrad with schedules; L-BFGS). Errors
// name what is wrong and change nothing; BatchNorm's num_batches_tracked is I64 in files.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectError, expectNoLeak, expectSameBits, flat, uniform } from './helpers.js';
import type { Tensor } from '../src/index.js';

const { nn, optim, io } = wg;
type Net = InstanceType<typeof nn.Sequential>;

beforeAll(async () => { await wg.init(); });

function makeNet(seed: number): Net {
  wg.seed(seed);
  return new nn.Sequential(new nn.Linear(4, 8), new nn.BatchNorm1d(8), new nn.Tanh(), new nn.Linear(8, 2));
}

const X = (k: number): Tensor => wg.tensor(uniform(24, -1, 1, 100 + k), { shape: [6, 4] });
const Y = (k: number): Tensor => wg.tensor(uniform(12, -1, 1, 200 + k), { shape: [6, 2] });
const loss = (x: Tensor, y: Tensor) => (m: Net): Tensor => m.call(x).sub(y).square().mean();

function train(net: Net, opt: { step(g: any): void }, sched: { step(): void } | undefined, from: number, n: number): void {
  for (let k = from; k < from + n; k++) {
    wg.tidy(() => {
      const [, g] = wg.valueAndGrad(loss(X(k), Y(k)))(net) as [Tensor, Record<string, Tensor>];
      opt.step(new Map(net.namedParameters().map(([n, p]) => [p, g[n]])));
    });
    sched?.step();
  }
}

/** Every tensor of the network's state dict, as bits. */
const snapshot = (net: Net): Record<string, number[]> => Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, Array.from(t.data())]));

type Setup = { name: string; make: (net: Net) => any; schedule?: (opt: any) => any };
const setups: Setup[] = [
  { name: 'SGD momentum + Nesterov + weight decay, StepLR', make: (n) => new optim.SGD(n, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }), schedule: (o) => new optim.StepLR(o, 2, 0.5) },
  { name: 'SGD momentum, dampening', make: (n) => new optim.SGD(n, { lr: 0.05, momentum: 0.8, dampening: 0.1 }) },
  { name: 'Adam amsgrad + weight decay, LinearLR warm-up', make: (n) => new optim.Adam(n, { lr: 0.01, amsgrad: true, weightDecay: 1e-2 }), schedule: (o) => new optim.LinearLR(o, { totalIters: 6 }) },
  { name: 'AdamW, ExponentialLR', make: (n) => new optim.AdamW(n, { lr: 0.01 }), schedule: (o) => new optim.ExponentialLR(o, 0.9) },
  { name: 'RMSprop centered + momentum, CosineAnnealingLR', make: (n) => new optim.RMSprop(n, { lr: 0.01, momentum: 0.5, centered: true }), schedule: (o) => new optim.CosineAnnealingLR(o, 7, 1e-4) },
  { name: 'Adagrad, lr decay', make: (n) => new optim.Adagrad(n, { lr: 0.05, lrDecay: 0.01, initialAccumulatorValue: 0.1 }) },
];

describe('optimizer state dicts in PyTorch form', () => {
  it("Adam: { state: { i: { step, exp_avg, exp_avg_sq } }, param_groups: [{ lr, betas, eps, weight_decay, amsgrad, maximize, params }] }; the tensors are live", () => {
    expectNoLeak(() => {
      const net = makeNet(1);
      const opt = new optim.Adam(net, { lr: 0.01, weightDecay: 0.1 });
      expect(opt.stateDict()).toEqual({ state: {}, param_groups: [{ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.1, amsgrad: false, maximize: false, params: [0, 1, 2, 3, 4, 5] }] });
      train(net, opt, undefined, 0, 2);
      const sd = opt.stateDict();
      expect(Object.keys(sd)).toEqual(['state', 'param_groups']);
      expect(Object.keys(sd.state).map(Number)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(Object.keys(sd.state[0]).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'step']);
      expect(sd.state[0].step).toBe(2);
      const m = sd.state[0].exp_avg as Tensor;
      expect(m.shape).toEqual([8, 4]);
      expect(opt.stateDict().state[0].exp_avg).toBe(m); // the live state, not a copy
      const before = Array.from(m.data());
      train(net, opt, undefined, 2, 1);
      expect(Array.from(m.data())).not.toEqual(before);
      opt.dispose(); net.dispose();
    });
  });

  it("parameter groups: indices run across the groups; PyTorch's names for every optimizer's options; initial_lr once a schedule set it", () => {
    expectNoLeak(() => {
      const net = makeNet(2);
      const [a, b] = [net.at(0), net.at(3)];
      const opt = new optim.SGD([{ params: a, lr: 0.1, momentum: 0.9 }, { params: b }], { lr: 0.01, weightDecay: 0.5 });
      const sched = new optim.StepLR(opt, 3);
      train(net, opt, sched, 0, 1);
      const sd = opt.stateDict();
      expect(sd.param_groups.map((g) => g.params)).toEqual([[0, 1], [2, 3]]);
      expect(sd.param_groups[0]).toEqual({ lr: 0.1, momentum: 0.9, dampening: 0, weight_decay: 0.5, nesterov: false, maximize: false, initial_lr: 0.1, params: [0, 1] });
      expect(Object.keys(sd.state)).toEqual(['0', '1', '2', '3']);
      expect(Object.keys(sd.state[0]).sort()).toEqual(['momentum_buffer', 'step']);
      expect(Object.keys(sd.state[2])).toEqual(['step']); // momentum 0: no buffer
      const rms = new optim.RMSprop([wg.keep(wg.zeros([2]))], { centered: true, momentum: 0.1 });
      expect(Object.keys(rms.stateDict().param_groups[0])).toEqual(['lr', 'alpha', 'eps', 'weight_decay', 'momentum', 'centered', 'maximize', 'params']);
      const ada = new optim.Adagrad([wg.keep(wg.zeros([2]))]);
      expect(Object.keys(ada.stateDict().param_groups[0])).toEqual(['lr', 'lr_decay', 'weight_decay', 'initial_accumulator_value', 'eps', 'maximize', 'params']);
      wg.dispose([(rms as any).paramGroups[0].source[0], (ada as any).paramGroups[0].source[0]]);
      for (const o of [opt, rms, ada]) o.dispose();
      net.dispose();
    });
  });

  it('loadStateDict takes the earlier camelCase form too ({ paramGroups } with weightDecay)', () => {
    expectNoLeak(() => {
      const p = wg.keep(wg.zeros([3]));
      const opt = new optim.Adam([p], { lr: 0.5 });
      opt.loadStateDict({ state: {}, paramGroups: [{ lr: 0.25, weightDecay: 0.125 }] });
      expect(opt.paramGroups[0].options.weightDecay).toBe(0.125);
      expect(opt.lr).toBe(0.25);
      opt.dispose(); p.dispose();
    });
  });
});

describe('a resumed run gives the same bits as an uninterrupted one', () => {
  for (const s of setups) {
    it(`${s.name}: train 4, save model + optimizer${s.schedule ? ' + schedule' : ''} (io.save), train 5 → W1; fresh, io.load, train 5 → W2 = W1`, () => {
      expectNoLeak(() => {
        // uninterrupted, saving after 4 steps
        const net1 = makeNet(11);
        const opt1 = s.make(net1);
        const sched1 = s.schedule?.(opt1);
        train(net1, opt1, sched1, 0, 4);
        const modelBytes = io.save(net1);
        const optBytes = io.save(opt1, sched1 ? { metadata: { scheduler: JSON.stringify(sched1.stateDict()) } } : {});
        train(net1, opt1, sched1, 4, 5);
        const w1 = snapshot(net1);
        const lr1 = opt1.lr;
        // a fresh process: other initial weights, then everything loaded
        const net2 = makeNet(999);
        const opt2 = s.make(net2);
        const sched2 = s.schedule?.(opt2);
        io.load(modelBytes, net2);
        expect(io.load(optBytes, opt2)).toBe(opt2);
        if (sched2) {
          const { tensors, metadata } = io.load(optBytes);
          wg.dispose(Object.values(tensors));
          sched2.loadStateDict(JSON.parse(metadata.scheduler));
        }
        expect(opt2.stateDict().state[0].step).toBe(4);
        train(net2, opt2, sched2, 4, 5);
        const w2 = snapshot(net2);
        expect(Object.keys(w2)).toEqual(Object.keys(w1));
        for (const k of Object.keys(w1)) expectSameBits(w2[k], w1[k], k);
        expect(w1['1.num_batches_tracked']).toEqual([9]);
        expect(opt2.lr).toBe(lr1);
        // and the stopped-and-resumed one did not simply stand still
        const n0 = makeNet(11);
        expect(w1['0.weight']).not.toEqual(snapshot(n0)['0.weight']);
        n0.dispose();
        for (const o of [opt1, opt2]) o.dispose();
        for (const n of [net1, net2]) n.dispose();
      });
    });
  }

  it('with a schedule, the order of loading does not matter: optimizer first, then the schedule made and loaded', () => {
    expectNoLeak(() => {
      const net1 = makeNet(5);
      const opt1 = new optim.Adam(net1, { lr: 0.02 });
      const sched1 = new optim.LinearLR(opt1, { startFactor: 0.25, totalIters: 6 });
      train(net1, opt1, sched1, 0, 3);
      const model = io.save(net1), state = io.save(opt1), schedState = JSON.stringify(sched1.stateDict());
      train(net1, opt1, sched1, 3, 4);
      const net2 = makeNet(6);
      const opt2 = new optim.Adam(net2, { lr: 0.02 });
      io.load(model, net2);
      io.load(state, opt2);
      const sched2 = new optim.LinearLR(opt2, { startFactor: 0.25, totalIters: 6 }); // changes the rate…
      sched2.loadStateDict(JSON.parse(schedState)); // …and loading puts it back
      train(net2, opt2, sched2, 3, 4);
      const [w1, w2] = [snapshot(net1), snapshot(net2)];
      for (const k of Object.keys(w1)) expectSameBits(w2[k], w1[k], k);
      expect(sched2.getLastLr()).toEqual(sched1.getLastLr());
      for (const o of [opt1, opt2]) o.dispose();
      for (const n of [net1, net2]) n.dispose();
    });
  });

  for (const lineSearchFn of [null, 'strong_wolfe'] as const) {
    it(`L-BFGS (${lineSearchFn ?? 'fixed steps'}): its history round-trips through io.save / io.load, and the resumed steps are the same bits`, () => {
      expectNoLeak(() => {
        const target = wg.keep(wg.tensor(uniform(6, -1, 1, 7), { shape: [2, 3], dtype: 'float64' }));
        const objective = (w: Tensor, b: Tensor): Tensor => w.sub(target).square().sum().add(w.mul(b).sin().sum()).add(b.square().sum().mul(3));
        const run = (params: Tensor[], opt: InstanceType<typeof optim.LBFGS>, steps: number) => {
          for (let k = 0; k < steps; k++) opt.step(() => wg.valueAndGrad((w: Tensor, b: Tensor) => objective(w, b), { argnums: [0, 1] })(params[0], params[1]) as any);
        };
        const fresh = () => [wg.keep(wg.zeros([2, 3], { dtype: 'float64' })), wg.keep(wg.full([2, 3], 0.5, { dtype: 'float64' }))];
        const p1 = fresh();
        const o1 = new optim.LBFGS(p1, { maxIter: 3, historySize: 4, lineSearchFn });
        run(p1, o1, 2);
        const sd = o1.stateDict();
        expect(Object.keys(sd.state[0]).sort()).toEqual(['H_diag', 'd', 'func_evals', 'n_iter', 'old_dirs', 'old_stps', 'prev_flat_grad', 'prev_loss', 'ro', 't']);
        expect(sd.state[0].old_dirs.length).toBe(sd.state[0].ro.length);
        expect(sd.state[0].old_dirs.length).toBeGreaterThan(0);
        expect(sd.param_groups[0]).toEqual({ lr: 1, max_iter: 3, max_eval: 3, tolerance_grad: 1e-7, tolerance_change: 1e-9, history_size: 4, line_search_fn: lineSearchFn, params: [0, 1] });
        const bytes = io.save(o1);
        const saved = io.load(bytes).tensors;
        const names = Object.keys(saved);
        wg.dispose(Object.values(saved));
        expect(names).toContain('state.0.old_dirs.0');
        expect(names).toContain('state.0.prev_flat_grad');
        const params = p1.map((p) => wg.keep(p.mul(1)));
        run(p1, o1, 3);
        const o2 = new optim.LBFGS(params, { maxIter: 3, historySize: 4, lineSearchFn });
        io.load(bytes, o2);
        expect(o2.nIter).toBe(sd.state[0].n_iter);
        run(params, o2, 3);
        p1.forEach((p, i) => expectSameBits(params[i].data(), p.data(), `param ${i}`));
        expect(o2.funcEvals).toBe(o1.funcEvals);
        for (const o of [o1, o2]) o.dispose();
        wg.dispose([...p1, ...params, target]);
      });
    });
  }
});

describe('loading is checked first and names what is wrong; a failed load changes nothing', () => {
  it('loadStateDict: group count, an unknown group key (with the nearest), unknown state, a missing tensor, shape, dtype, params sizes', () => {
    const p = wg.keep(wg.zeros([3]));
    const opt = new optim.Adam([p], { lr: 0.1 });
    wg.tidy(() => opt.step([wg.ones([3])]));
    const good = opt.stateDict();
    const m = good.state[0].exp_avg as Tensor, v = good.state[0].exp_avg_sq as Tensor;
    const before = flat(m.toArray());
    const group = good.param_groups[0];
    const E = wg.ValueError;
    expectError(() => opt.loadStateDict({ state: {}, param_groups: [group, group] }), E, 'Adam.loadStateDict: the state dict has 2 parameter group(s), the optimizer 1');
    expectError(() => opt.loadStateDict({ state: {}, param_groups: [{ ...group, weight_decy: 0 }] }), E, "unknown key 'weight_decy'. Did you mean 'weight_decay'?");
    expectError(() => opt.loadStateDict({ state: {}, param_groups: [{ ...group, betas: [2, 0] }] }), E, 'invalid betas');
    expectError(() => opt.loadStateDict({ state: {}, param_groups: [{ ...group, params: [0, 1] }] }), E, 'parameter group 0 has 2 parameter(s) in the state dict, 1 in the optimizer');
    expectError(() => opt.loadStateDict({ state: { 0: { step: 1, exp_avg: m, exp_avg_sq: v, extra: m } }, param_groups: [group] }), E, "parameter 0 has unknown state 'extra' (Adam with these options keeps 'exp_avg', 'exp_avg_sq')");
    expectError(() => opt.loadStateDict({ state: { 0: { step: 1, exp_avg: m } }, param_groups: [group] }), E, "parameter 0 lacks state 'exp_avg_sq'");
    expectError(() => opt.loadStateDict({ state: { 0: { step: 1, exp_avg: m, exp_avg_sq: v } }, param_groups: [{ ...group, amsgrad: true }] }), E, "lacks state 'max_exp_avg_sq'");
    expectError(() => opt.loadStateDict({ state: { 5: { step: 1, exp_avg: m, exp_avg_sq: v } }, param_groups: [group] }), E, 'state for parameter 5, which no parameter group lists');
    expectError(() => opt.loadStateDict({ state: { 0: { step: -1, exp_avg: m, exp_avg_sq: v } }, param_groups: [group] }), E, "parameter 0's step must be an integer");
    expectError(() => opt.loadStateDict({ state: { 0: { step: 1, exp_avg: wg.zeros([4]), exp_avg_sq: v } }, param_groups: [group] }), wg.ShapeError, "state 'exp_avg' of parameter 0 is float32 [4], the parameter float32 [3]");
    expectError(() => opt.loadStateDict({ state: { 0: { step: 1, exp_avg: wg.zeros([3], { dtype: 'float64' }), exp_avg_sq: v } }, param_groups: [group] }), wg.DTypeError, "state 'exp_avg' of parameter 0 is float64 [3], the parameter float32 [3]");
    expectError(() => opt.loadStateDict({ state: {}, param_groups: [group], extra: 1 } as any), E, "unknown key(s) 'extra'");
    expectError(() => opt.loadStateDict({ state: {}, param_groups: [{ ...group, fused: true }] }), E, 'has fused = true, which wasmgrad\'s Adam does not implement');
    expectError(() => opt.loadStateDict(null as any), E, 'Adam.loadStateDict: expected { state, param_groups }');
    // PyTorch's implementation switches at their defaults are accepted
    opt.loadStateDict({ state: good.state, param_groups: [{ ...group, foreach: null, capturable: false, differentiable: false, fused: null }] });
    expect(flat((opt.stateDict().state[0].exp_avg as Tensor).toArray())).toEqual(before);
    expect(opt.lr).toBe(0.1);
    opt.dispose(); p.dispose();
  });

  it('state without tensors round-trips too: plain SGD (steps only), an L-BFGS that never stepped', () => {
    expectNoLeak(() => {
      const p = wg.keep(wg.zeros([2]));
      const sgd = new optim.SGD([p], { lr: 0.5 });
      wg.tidy(() => sgd.step([wg.ones([2])]));
      const bytes = io.save(sgd);
      const saved = io.load(bytes);
      expect(Object.keys(saved.tensors)).toEqual([]);
      const other = new optim.SGD([p], { lr: 0.1 });
      io.load(bytes, other);
      expect(other.stateDict()).toEqual({ state: { 0: { step: 1 } }, param_groups: [{ lr: 0.5, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false, maximize: false, params: [0] }] });
      const l1 = new optim.LBFGS([p], { historySize: 3 });
      const l2 = new optim.LBFGS([p]);
      io.load(io.save(l1), l2);
      expect(l2.options.historySize).toBe(3);
      expect(l2.stateDict().state[0]).toEqual({ func_evals: 0, n_iter: 0, t: 0, H_diag: 1, prev_loss: 0, ro: [], old_dirs: [], old_stps: [] });
      for (const o of [sgd, other, l1, l2]) o.dispose();
      p.dispose();
    });
  });

  it('io.save(opt, path) / io.load(path, opt): the same through a file', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/wasmgrad-optim-`);
    const p = wg.keep(wg.zeros([3]));
    const a = new optim.AdamW([p], { lr: 0.5 });
    wg.tidy(() => a.step([wg.ones([3])]));
    await io.save(a, `${dir}/opt.safetensors`);
    const b = new optim.AdamW([p]);
    expect(await io.load(`${dir}/opt.safetensors`, b)).toBe(b);
    expect(b.lr).toBe(0.5);
    expect(Array.from((b.stateDict().state[0].exp_avg as Tensor).data())).toEqual(Array.from((a.stateDict().state[0].exp_avg as Tensor).data()));
    a.dispose(); b.dispose(); p.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('params maps saved indices by position, as PyTorch', () => {
    expectNoLeak(() => {
      const [a, b] = [wg.keep(wg.zeros([2])), wg.keep(wg.zeros([3]))];
      const opt = new optim.SGD([a, b], { lr: 0.1, momentum: 0.9 });
      const mb = wg.keep(wg.full([3], 7));
      opt.loadStateDict({ state: { 11: { step: 3, momentum_buffer: mb } }, param_groups: [{ lr: 0.1, params: [10, 11] }] });
      expect(Object.keys(opt.stateDict().state)).toEqual(['1']);
      expect(opt.stateDict().state[1].step).toBe(3);
      expect(flat((opt.stateDict().state[1].momentum_buffer as Tensor).toArray())).toEqual([7, 7, 7]);
      expect(opt.stateDict().state[1].momentum_buffer).not.toBe(mb); // copied
      opt.dispose(); wg.dispose([a, b, mb]);
    });
  });

  it('io.load(bytes, optimizer): another optimizer\'s file, a model\'s file, a reserved metadata key', () => {
    const p = wg.keep(wg.zeros([3]));
    const adam = new optim.Adam([p]);
    const sgd = new optim.SGD([p], { momentum: 0.5 });
    wg.tidy(() => adam.step([wg.ones([3])]));
    const bytes = io.save(adam);
    expectError(() => io.load(bytes, sgd), wg.ValueError, "io.load: the file holds Adam's state, which cannot be loaded into SGD");
    const lin = new nn.Linear(3, 3);
    expectError(() => io.load(io.save(lin), adam), wg.ValueError, "io.load: the file holds no optimizer state (its metadata 'format' is absent");
    expectError(() => io.save(adam, { metadata: { state: 'x' } }), wg.ValueError, "io.save: metadata key(s) 'state' are the optimizer state's own");
    expectError(() => io.load(bytes, {} as any), wg.ValueError, 'io.load: the second argument must be a Module, got', '(or an optimizer');
    // a file whose tensor does not fit: nothing changes
    const other = new optim.Adam([wg.keep(wg.zeros([4]))]);
    wg.tidy(() => other.step([wg.ones([4])]));
    const wrong = io.save(other);
    const before = flat((adam.stateDict().state[0].exp_avg as Tensor).toArray());
    expectError(() => io.load(wrong, adam), wg.ShapeError, "state 'exp_avg' of parameter 0 is float32 [4]");
    expect(flat((adam.stateDict().state[0].exp_avg as Tensor).toArray())).toEqual(before);
    const meta = io.load(bytes).metadata;
    expect(meta.format).toBe('wasmgrad.optimizer');
    expect(meta.optimizer).toBe('Adam');
    expect(JSON.parse(meta.state)).toEqual({ 0: { step: 1 } });
    expect(JSON.parse(meta.param_groups)[0].weight_decay).toBe(0);
    wg.dispose(Object.values(io.load(bytes).tensors));
    wg.dispose(Object.values(io.load(wrong).tensors));
    wg.dispose((other as any).paramGroups[0].source);
    for (const o of [adam, sgd, other]) o.dispose();
    lin.dispose(); p.dispose();
  });

  it('schedulers: stateDict has PyTorch\'s keys; loadStateDict names unknown keys and bad values', () => {
    const p = wg.keep(wg.zeros([1]));
    const opt = new optim.SGD([p], { lr: 1 });
    const s = new optim.StepLR(opt, 2, 0.5);
    s.step(); s.step();
    expect(s.stateDict()).toEqual({ last_epoch: 2, base_lrs: [1], _last_lr: [0.5], _step_count: 3, step_size: 2, gamma: 0.5 });
    expect(new optim.CosineAnnealingLR(opt, 4, 0.1).stateDict()).toMatchObject({ T_max: 4, eta_min: 0.1 });
    expect(new optim.LinearLR(opt, { totalIters: 3 }).stateDict()).toMatchObject({ start_factor: 1 / 3, end_factor: 1, total_iters: 3 });
    expectError(() => s.loadStateDict({ ...s.stateDict(), T_max: 3 }), wg.ValueError, "StepLR.loadStateDict: unknown key(s) 'T_max'");
    expectError(() => s.loadStateDict({ ...s.stateDict(), base_lrs: [1, 2] }), wg.ValueError, "'base_lrs' must be an array of 1 finite number(s)");
    expectError(() => s.loadStateDict({ ...s.stateDict(), last_epoch: 0.5 }), wg.ValueError, "'last_epoch' must be an integer >= -1");
    opt.dispose(); p.dispose();
  });
});

describe('safetensors: num_batches_tracked is I64, as PyTorch writes it', () => {
  const header = (bytes: Uint8Array): Record<string, any> => {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  };

  it('written as I64, read back into the int32 buffer; an I32 file still loads; a value beyond int32 is refused naming it', () => {
    expectNoLeak(() => {
      const bn = new nn.BatchNorm1d(2);
      wg.tidy(() => { bn.call(wg.tensor([[1, 2], [3, 5]])); bn.call(wg.tensor([[0, 1], [2, 2]])); });
      const bytes = io.save(bn);
      const h = header(bytes);
      expect(h.num_batches_tracked).toMatchObject({ dtype: 'I64', shape: [] });
      expect(h.running_mean.dtype).toBe('F32');
      const [begin] = h.num_batches_tracked.data_offsets;
      const start = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(new DataView(bytes.buffer).getBigInt64(start + begin, true)).toBe(2n);
      const other = new nn.BatchNorm1d(2);
      io.load(bytes, other);
      expect(other.buffer('num_batches_tracked')!.dtype).toBe('int32');
      expect(other.buffer('num_batches_tracked')!.item()).toBe(2);
      // by name, whatever the container: a plain object of tensors too; other int32 tensors stay I32
      expect(header(io.save({ 'bn.num_batches_tracked': bn.buffer('num_batches_tracked')! }))['bn.num_batches_tracked'].dtype).toBe('I64');
      expect(header(io.save({ n: bn.buffer('num_batches_tracked')! })).n.dtype).toBe('I32');
      // the counter as I32 (as wasmgrad wrote it before) loads too
      const entries = Object.entries(h).filter(([k]) => k !== '__metadata__').sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0]);
      const parts: Uint8Array[] = [];
      const h32: Record<string, unknown> = {};
      let at = 0;
      for (const [k, e] of entries) {
        let data = bytes.slice(start + e.data_offsets[0], start + e.data_offsets[1]);
        let dtype = e.dtype;
        if (k === 'num_batches_tracked') { data = new Uint8Array(new Int32Array([5]).buffer); dtype = 'I32'; }
        h32[k] = { dtype, shape: e.shape, data_offsets: [at, at + data.length] };
        parts.push(data);
        at += data.length;
      }
      const head = new TextEncoder().encode(JSON.stringify(h32));
      const file32 = new Uint8Array(8 + head.length + at);
      new DataView(file32.buffer).setBigUint64(0, BigInt(head.length), true);
      file32.set(head, 8);
      let o = 8 + head.length;
      for (const d of parts) { file32.set(d, o); o += d.length; }
      io.load(file32, other);
      expect(other.buffer('num_batches_tracked')!.item()).toBe(5);
      io.load(bytes, other);
      // a counter beyond int32: refused naming the tensor and the value; nothing loaded
      const big = new Uint8Array(bytes);
      new DataView(big.buffer).setBigInt64(start + begin, 2n ** 40n, true);
      expect(() => io.load(big, other)).toThrow(io.SafetensorsError);
      expect(() => io.load(big, other)).toThrow("'num_batches_tracked' (I64) holds 1099511627776 at element 0, which does not fit wasmgrad's int32");
      expect(other.buffer('num_batches_tracked')!.item()).toBe(2);
      bn.dispose(); other.dispose();
    });
  });
});
