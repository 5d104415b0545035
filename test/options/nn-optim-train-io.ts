// Option cases for layers, initialisers, optimizers, schedules, clipping, the MATLAB solvers,
// minibatches, the training helpers and safetensors saving: each calls the function (or makes
// the object) with valid arguments and the given options; whatever it keeps is freed.

import * as wg from '../../src/index.js';
import { nn, optim, io } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { OptionCase } from './types.js';

const { init } = nn;
const param = (): Tensor => wg.tensor([1, 2, 3]);
const mse = (o: Tensor, t: Tensor): Tensor => o.sub(t).square().mean();

/** Runs use(owned) and frees what it owns (modules and optimizers keep their tensors), also when use throws. */
function owning<T extends { dispose(): void }[], R>(owned: T, use: (...o: T) => R): R {
  try { return use(...owned); } finally { for (const o of owned) o.dispose(); }
}

const optimizers = (['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'LBFGS'] as const).map((name): OptionCase => ({
  name: `optim.${name}`, call: (o) => new (optim as any)[name]([param()], o),
}));

const inits: OptionCase[] = [
  { name: 'nn.init.zeros', call: (o) => init.zeros([2, 3], o) },
  { name: 'nn.init.ones', call: (o) => init.ones([2, 3], o) },
  { name: 'nn.init.constant', call: (o) => init.constant([2, 3], 0.5, o) },
  { name: 'nn.init.uniformInit', call: (o) => init.uniformInit([2, 3], -1, 1, o) },
  { name: 'nn.init.normalInit', call: (o) => init.normalInit([2, 3], 0, 1, o) },
  { name: 'nn.init.xavierUniform', call: (o) => init.xavierUniform([2, 3], 1, o) },
  { name: 'nn.init.xavierNormal', call: (o) => init.xavierNormal([2, 3], 1, o) },
  { name: 'nn.init.kaimingUniform', call: (o) => init.kaimingUniform([2, 3], o) },
  { name: 'nn.init.kaimingNormal', call: (o) => init.kaimingNormal([2, 3], o) },
  { name: 'nn.init.orthogonal', call: (o) => init.orthogonal([2, 3], 1, o) },
];

const layers: OptionCase[] = [
  { name: 'nn.Linear', call: (o) => new nn.Linear(2, 3, o) },
  { name: 'nn.Conv1d', call: (o) => new nn.Conv1d(2, 4, 3, o) },
  { name: 'nn.Conv2d', call: (o) => new nn.Conv2d(2, 4, 3, o) },
  { name: 'nn.ConvTranspose2d', call: (o) => new nn.ConvTranspose2d(2, 4, 3, o) },
  { name: 'nn.MaxPool2d', call: (o) => new nn.MaxPool2d(2, o) },
  { name: 'nn.AvgPool2d', call: (o) => new nn.AvgPool2d(2, o) },
  { name: 'nn.Conv3d', call: (o) => new nn.Conv3d(2, 4, 3, o) },
  { name: 'nn.ConvTranspose3d', call: (o) => new nn.ConvTranspose3d(2, 4, 3, o) },
  { name: 'nn.MaxPool3d', call: (o) => new nn.MaxPool3d(2, o) },
  { name: 'nn.AvgPool3d', call: (o) => new nn.AvgPool3d(2, o) },
  { name: 'nn.Embedding', call: (o) => new nn.Embedding(5, 3, o) },
  { name: 'nn.LSTM', call: (o) => new nn.LSTM(2, 3, o) },
  { name: 'nn.GRU', call: (o) => new nn.GRU(2, 3, o) },
  { name: 'nn.MultiheadAttention', call: (o) => new nn.MultiheadAttention(4, 2, o) },
  {
    name: 'nn.MultiheadAttention.forward',
    call: (o) => owning([new nn.MultiheadAttention(4, 2)], (mha) => { const x = wg.ones([3, 1, 4]); return mha.forward(x, x, x, o)[0]; }),
  },
  { name: 'nn.BatchNorm1d', call: (o) => new nn.BatchNorm1d(3, o) },
  { name: 'nn.BatchNorm2d', call: (o) => new nn.BatchNorm2d(3, o) },
  { name: 'nn.LayerNorm', call: (o) => new nn.LayerNorm([3], o) },
  { name: 'nn.GroupNorm', call: (o) => new nn.GroupNorm(2, 4, o) },
];

const training: OptionCase[] = [
  { name: 'optim.clipGradNorm', call: (o) => optim.clipGradNorm([wg.tensor([3, 4])], 1, o) },
  { name: 'optim.LinearLR', call: (o) => { const opt = new optim.SGD([param()], { lr: 0.1 }); new optim.LinearLR(opt, o); return opt; } },
  { name: 'lbfgsState', call: (o) => wg.lbfgsState(o) },
  {
    name: 'lbfgsupdate',
    call: (o) => wg.lbfgsupdate(wg.tensor([1, 2]), (x: Tensor) => [x.square().sum(), x.mul(2)] as const, null, o)[1],
  },
  { name: 'randperm', call: (o) => wg.randperm(5, o) },
  { name: 'minibatches', call: (o) => { for (const [x] of wg.minibatches([wg.zeros([5, 2])], o)) x.sum(); } },
  {
    name: 'trainStep',
    call: (o) => owning([new nn.Linear(2, 1)], (m) => owning([new optim.SGD(m, { lr: 0.1 })], (opt) =>
      wg.trainStep(m, opt, mse, wg.ones([3, 2]), wg.zeros([3, 1]), o))),
  },
  {
    // fit is async: every problem, an unknown option included, rejects its promise.
    name: 'fit', async: true,
    call: async (o) => {
      const m = new nn.Linear(2, 1), opt = new optim.SGD(m, { lr: 0.1 }), x = wg.ones([4, 2]), y = wg.zeros([4, 1]);
      try {
        await wg.fit(m, x, y, { optimizer: opt, loss: mse, progress: false, batchSize: 2, ...o });
      } finally {
        for (const d of [m, opt, x, y]) d.dispose();
      }
    },
  },
  { name: 'io.save', call: (o) => io.save({ a: wg.tensor([1, 2]) }, o) },
];

export const cases: OptionCase[] = [...optimizers, ...inits, ...layers, ...training];
