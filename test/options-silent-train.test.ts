// Regression tests for options the optimizers, layers, initialisers and training helpers used to
// ignore without a word: a misspelt key (PyTorch's snake_case, a shortened name) ran with the
// default and gave a wrong answer — AdamW with { weight_decay: 0 } still decayed at 0.01, fit
// with { epoch: 5 } trained one epoch. Each is now a ValueError naming the function, the key, the
// valid keys and the nearest one; extra positional arguments are refused too. After each error
// nothing leaks and the runtime still works; the right spelling gives the right answer.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectError, expectNoLeak, runtimeWorks, flat } from './helpers.js';
import type { Tensor } from '../src/index.js';

const { nn, optim, io } = wg;

beforeAll(async () => { await wg.init(); });

const f64 = (v: number[]) => wg.tensor(v, { dtype: 'float64' });
const mse = (o: Tensor, t: Tensor): Tensor => o.sub(t).square().mean();

/** Frees what a module or optimizer keeps. */
const free = (...owners: { dispose(): void }[]): void => { for (const o of owners) o.dispose(); };

describe('optimizer options and parameter groups', () => {
  it("a group's weight_decay is refused, naming weightDecay; the group's valid keys include params", () => {
    const a = wg.keep(f64([1, 2])), b = wg.keep(f64([3, 4]));
    expectError(() => new optim.AdamW([{ params: [a], weight_decay: 0 }, { params: [b] }], { lr: 0.1 }), wg.ValueError,
      'optim.AdamW', "unknown key in a parameter group 'weight_decay'", "Did you mean 'weightDecay'?",
      "valid keys: 'params', 'lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'");
    expectError(() => new optim.SGD([{ params: [a], momentun: 0.9 } as any], { lr: 0.1 }), wg.ValueError,
      'optim.SGD', "'momentun'", "Did you mean 'momentum'?");
    expectError(() => new optim.Adam([{ param: [a] } as any]), wg.ValueError, 'optim.Adam', "'param'", "Did you mean 'params'?");
    free(a, b);
  });

  it('a correct { weightDecay: 0 } group is not decayed, by value, while the other group decays at the default 0.01', () => {
    const a = wg.keep(f64([1, 2])), b = wg.keep(f64([3, 4]));
    const opt = new optim.AdamW([{ params: [a], weightDecay: 0 }, { params: [b] }], { lr: 0.1 });
    // A zero gradient: Adam's step is 0, so only the decoupled decay p·(1 − lr·wd) moves a parameter.
    wg.tidy(() => opt.step([f64([0, 0]), f64([0, 0])]));
    expect(flat(a.toArray())).toEqual([1, 2]);
    expect(flat(b.toArray())).toEqual([3 * (1 - 0.1 * 0.01), 4 * (1 - 0.1 * 0.01)]);
    free(opt, a, b);
  });

  it("the constructor's own weight_decay is refused (it used to leave AdamW's decay at 0.01)", () => {
    const p = wg.keep(f64([1, 2]));
    expectError(() => new optim.AdamW([{ params: [p] }], { weight_decay: 0.1 } as any), wg.ValueError,
      'optim.AdamW', "unknown option 'weight_decay'", "Did you mean 'weightDecay'?");
    expectError(() => new optim.AdamW([p], { lr: 0.1, weight_decay: 0.1 } as any), wg.ValueError, "'weight_decay'");
    expectError(() => new optim.RMSprop([p], { momentun: 0.9 } as any), wg.ValueError, 'optim.RMSprop', "Did you mean 'momentum'?");
    expectError(() => new optim.Adagrad([p], { lr_decay: 0.1 } as any), wg.ValueError, 'optim.Adagrad', "Did you mean 'lrDecay'?");
    expectError(() => new optim.LBFGS([p], { line_search_fn: 'strong_wolfe' } as any), wg.ValueError,
      'optim.LBFGS', "Did you mean 'lineSearchFn'?");
    // the right spelling is used: decay 0.1 with a zero gradient scales by 1 − lr·0.1
    const opt = new optim.AdamW([p], { lr: 0.1, weightDecay: 0.1 });
    wg.tidy(() => opt.step([f64([0, 0])]));
    expect(flat(p.toArray())).toEqual([1 * (1 - 0.01), 2 * (1 - 0.01)]);
    free(opt, p);
  });

  it('addParamGroup checks the group; extra constructor arguments are refused', () => {
    const p = wg.keep(f64([1, 2])), q = wg.keep(f64([3]));
    const opt = new optim.SGD([p], { lr: 0.1 });
    expectError(() => opt.addParamGroup({ params: [q], weight_decay: 0.1 }), wg.ValueError,
      'optim.SGD', "'weight_decay'", "Did you mean 'weightDecay'?");
    expect(opt.paramGroups.length).toBe(1);
    expectError(() => new (optim.SGD as any)([p], { lr: 0.1 }, { momentum: 0.9 }), wg.ValueError,
      'optim.SGD: takes at most 2 arguments', 'argument 3 is an object');
    opt.addParamGroup({ params: [q], weightDecay: 0.1 });
    expect(opt.paramGroups[1].options.weightDecay).toBe(0.1);
    free(opt, p, q);
  });

  it('schedules, clipping and the MATLAB solvers refuse misspelt options and extra arguments', () => {
    const p = wg.keep(f64([1, 2]));
    const opt = new optim.SGD([p], { lr: 0.1 });
    expectError(() => new optim.LinearLR(opt, { total_iters: 3 } as any), wg.ValueError, 'optim.LinearLR', "Did you mean 'totalIters'?");
    expectError(() => new (optim.StepLR as any)(opt, 1, 0.5, 'extra'), wg.ValueError, 'optim.StepLR: takes at most 3 arguments');
    expect(opt.lr).toBe(0.1);
    expectError(() => optim.clipGradNorm([f64([3, 4])], 1, { norm_type: Infinity } as any), wg.ValueError,
      'optim.clipGradNorm', "Did you mean 'normType'?");
    expectError(() => wg.lbfgsState({ historySize: 5 } as any), wg.ValueError, 'lbfgsState', "Did you mean 'HistorySize'?");
    expectError(() => wg.lbfgsupdate(p, (x: Tensor) => [x.square().sum(), x.mul(2)] as const, null, { lineSearchMethod: 'backtracking' } as any),
      wg.ValueError, 'lbfgsupdate', "Did you mean 'LineSearchMethod'?");
    expectError(() => (wg.adamupdate as any)(p, f64([1, 1]), [], [], 1, 0.001, 0.9, 0.999, 1e-8, 'extra'), wg.ValueError,
      'adamupdate: takes at most 9 arguments');
    expectError(() => (wg.sgdmupdate as any)(p, f64([1, 1]), [], 0.01, 0.9, 0.5), wg.ValueError, 'sgdmupdate: takes at most 5 arguments');
    expect(flat(p.toArray())).toEqual([1, 2]);
    // the right spelling: an Infinity norm of [3, 4] is 4
    expect(wg.tidy(() => optim.clipGradNorm([f64([3, 4])], 100, { normType: Infinity }))).toBe(4);
    free(opt, p);
  });
});

describe('fit and trainStep', () => {
  const data = () => [
    wg.keep(wg.tensor([[1, 2], [3, 4], [5, 6], [7, 8]], { dtype: 'float64' })), wg.keep(wg.zeros([4, 1], { dtype: 'float64' })),
  ] as const;

  it('fit refuses { epoch: 5 } (it used to train one epoch), suggesting epochs; { epochs: 5 } trains five', async () => {
    const model = new nn.Linear(2, 1, { dtype: 'float64' });
    const opt = new optim.SGD(model, { lr: 0.01 });
    const [x, y] = data();
    const before = wg.memory().liveTensors;
    await expect(wg.fit(model, x, y, { optimizer: opt, loss: mse, epoch: 5, progress: false } as any)).rejects.toThrow(wg.ValueError);
    const err = await wg.fit(model, x, y, { optimizer: opt, loss: mse, epoch: 5, progress: false } as any).catch((e) => e);
    expect(err.message).toContain("fit: unknown option 'epoch'");
    expect(err.message).toContain("Did you mean 'epochs'?");
    expect(err.message).toContain("'optimizer', 'loss', 'epochs'");
    const snake = await wg.fit(model, x, y, { optimizer: opt, loss: mse, batch_size: 2, progress: false } as any).catch((e) => e);
    expect(snake).toBeInstanceOf(wg.ValueError);
    expect(snake.message).toContain("Did you mean 'batchSize'?");
    expect(wg.memory().liveTensors).toBe(before);
    expect(opt.state.size).toBe(0); // nothing was trained
    const result = await wg.fit(model, x, y, { optimizer: opt, loss: mse, epochs: 5, batchSize: 2, progress: false });
    expect(result.epochLosses.length).toBe(5);
    expect(result.steps).toBe(10);
    runtimeWorks();
    free(opt, model, x, y);
  });

  it('trainStep refuses clip_grad_norm; minibatches refuses batch_size', () => {
    const model = new nn.Linear(2, 1, { dtype: 'float64' });
    const opt = new optim.SGD(model, { lr: 0.01 });
    const [x, y] = data();
    const w = flat(model.weight.toArray());
    expectError(() => wg.trainStep(model, opt, mse, x, y, { clip_grad_norm: 1 } as any), wg.ValueError,
      'trainStep', "Did you mean 'clipGradNorm'?");
    expect(flat(model.weight.toArray())).toEqual(w);
    expectError(() => wg.minibatches([x, y], { batch_size: 2 } as any), wg.ValueError,
      'minibatches', "unknown option 'batch_size'", "Did you mean 'batchSize'?");
    expectError(() => wg.minibatches([x, y], { drop_last: true } as any), wg.ValueError, "Did you mean 'dropLast'?");
    expect(wg.minibatches([x, y], { batchSize: 3, dropLast: true }).numBatches).toBe(1);
    expect(Number.isFinite(wg.trainStep(model, opt, mse, x, y, { clipGradNorm: 1 }))).toBe(true);
    free(opt, model, x, y);
  });
});

describe('layers', () => {
  it('layer constructors refuse misspelt options, naming the layer and the nearest key', () => {
    const cases: [() => unknown, string, string][] = [
      [() => new nn.LSTM(2, 3, { batch_first: true } as any), 'nn.LSTM', 'batchFirst'],
      [() => new nn.GRU(2, 3, { num_layers: 2 } as any), 'nn.GRU', 'numLayers'],
      [() => new nn.Conv2d(1, 2, 3, { padding_mode: 'zeros', stride: 2 } as any), 'nn.Conv2d', 'padding'],
      [() => new nn.ConvTranspose2d(1, 2, 3, { output_padding: 1 } as any), 'nn.ConvTranspose2d', 'outputPadding'],
      [() => new nn.Embedding(5, 2, { padding_idx: 0 } as any), 'nn.Embedding', 'paddingIdx'],
      [() => new nn.BatchNorm2d(3, { track_running_stats: false } as any), 'nn.BatchNorm2d', 'trackRunningStats'],
      [() => new nn.LayerNorm(3, { elementwise_affine: false } as any), 'nn.LayerNorm', 'elementwiseAffine'],
      [() => new nn.MultiheadAttention(4, 2, { batch_first: true } as any), 'nn.MultiheadAttention', 'batchFirst'],
      [() => new nn.MaxPool2d(2, { ceil_mode: true } as any), 'nn.MaxPool2d', 'ceilMode'],
      [() => new nn.AvgPool2d(2, { count_include_pad: false } as any), 'nn.AvgPool2d', 'countIncludePad'],
    ];
    for (const [make, name, key] of cases) expectError(make, wg.ValueError, name, `Did you mean '${key}'?`, 'valid keys: ');
    // PyTorch's positional bias: Linear(in, out, False) used to keep the bias
    expectError(() => new (nn.Linear as any)(2, 3, false), wg.ValueError, 'nn.Linear: options must be an object', 'got the boolean false');
    expectError(() => new (nn.Linear as any)(2, 3, {}, { bias: false }), wg.ValueError, 'nn.Linear: takes at most 3 arguments');
    // PyTorch's inplace flag
    expectError(() => new (nn.ReLU as any)(true), wg.ValueError, 'nn.ReLU: takes at most 0 arguments', 'the boolean true');
    expectError(() => new (nn.Dropout as any)(0.5, true), wg.ValueError, 'nn.Dropout: takes at most 1 argument');
    expectError(() => new (nn.LeakyReLU as any)(0.1, true), wg.ValueError, 'nn.LeakyReLU: takes at most 1 argument');
    // the right spelling is used
    const lstm = new nn.LSTM(2, 3, { batchFirst: true, numLayers: 2 });
    expect([lstm.batchFirst, lstm.numLayers]).toEqual([true, 2]);
    const lin = new nn.Linear(2, 3, { bias: false });
    expect(lin.bias).toBeFalsy();
    free(lstm, lin);
    runtimeWorks();
  });

  it('nn.MultiheadAttention.forward refuses keys the layer sets itself (numHeads, training)', () => {
    const mha = new nn.MultiheadAttention(4, 2);
    const x = wg.keep(wg.ones([3, 1, 4]));
    expectError(() => mha.forward(x, x, x, { numHeads: 1 } as any), wg.ValueError, 'nn.MultiheadAttention.forward', "'numHeads'",
      "valid keys: 'keyPaddingMask', 'needWeights', 'attnMask', 'averageAttnWeights'");
    expectError(() => mha.forward(x, x, x, { need_weights: false } as any), wg.ValueError, "Did you mean 'needWeights'?");
    expectNoLeak(() => wg.tidy(() => { expect(mha.forward(x, x, x, { needWeights: false })[1]).toBeNull(); }));
    free(mha, x);
  });
});

describe('nn.init', () => {
  it('initialisers refuse misspelt options and extra arguments', () => {
    expectError(() => nn.init.kaimingUniform([3, 3], { nonLinearity: 'relu' } as any), wg.ValueError,
      'nn.init.kaimingUniform', "'nonLinearity'", "Did you mean 'nonlinearity'?");
    expectError(() => nn.init.kaimingNormal([3, 3], { fan_mode: 'fan_out' } as any), wg.ValueError, 'nn.init.kaimingNormal', "'fan_mode'");
    expectError(() => nn.init.zeros([2], { dType: 'float64' } as any), wg.ValueError, 'nn.init.zeros', "Did you mean 'dtype'?");
    expectError(() => (nn.init.xavierUniform as any)([2, 2], 1, {}, { dtype: 'float64' }), wg.ValueError,
      'nn.init.xavierUniform: takes at most 3 arguments');
    expectError(() => (nn.init.uniformInit as any)([2], -1, 1, 'float64', 1), wg.ValueError, 'nn.init.uniformInit: takes at most 4 arguments');
    expect(wg.tidy(() => nn.init.orthogonal([2, 2], 1, { dtype: 'float64' }).dtype)).toBe('float64');
  });
});

describe('io', () => {
  it('io.save refuses a misspelt metadata key; io.load refuses extra arguments', () => {
    const t = wg.keep(f64([1, 2]));
    expectError(() => io.save({ t }, { meta: { a: 'b' } } as any), wg.ValueError, 'io.save', "'meta'", "Did you mean 'metadata'?");
    expectError(() => io.save({ t }, 5 as any), wg.ValueError, 'io.save: options must be an object');
    expectError(() => (io.save as any)({ t }, { metadata: { a: 'b' } }, {}), wg.ValueError, 'io.save: takes at most 2 arguments');
    const bytes = io.save({ t }, { metadata: { a: 'b' } });
    expectError(() => (io.load as any)(bytes, undefined, 'x'), wg.ValueError, 'io.load: takes at most 2 arguments');
    const loaded = io.load(bytes);
    expect(loaded.metadata).toEqual({ a: 'b' });
    expect(flat(loaded.tensors.t.toArray())).toEqual([1, 2]);
    free(t, loaded.tensors.t);
  });
});
