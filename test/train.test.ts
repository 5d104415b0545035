// Training: seeded minibatches, randperm, the fit helper (callbacks, transform, the terminal
// bar), 1,000 steps at constant memory, a seeded run that reaches the loss a plain-JS gradient
// descent computes independently, and bit-identical reruns.

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { wg, expectClose, flat } from './helpers.js';
import type { Tensor } from '../src/index.js';

const { nn, optim, io } = wg;

beforeAll(async () => { await wg.init(); });
afterEach(() => { vi.restoreAllMocks(); });

describe('minibatches', () => {
  it('cuts every row exactly once per epoch, in batches of batchSize (the last smaller unless dropLast)', () => {
    const x = wg.keep(wg.arange(10).reshape([10, 1]));
    const labels = Array.from({ length: 10 }, (_, i) => `r${i}`);
    const data = wg.minibatches([x, labels], { batchSize: 4, seed: 3 });
    expect(data.numBatches).toBe(3);
    // read each batch before the next is cut (cutting the next frees it)
    const epoch = (): [number[], string[]][] => { const out: [number[], string[]][] = []; for (const [a, b] of data) out.push([flat(a.toArray()), b]); return out; };
    const e1 = epoch(), e2 = epoch();
    expect(e1.map(([a]) => a.length)).toEqual([4, 4, 2]);
    expect(e1.flatMap(([a]) => a).sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const [a, b] of e1) expect(b).toEqual(a.map((i) => `r${i}`));
    expect(e2.flatMap(([a]) => a)).not.toEqual(e1.flatMap(([a]) => a));
    const again = wg.minibatches([x, labels], { batchSize: 4, seed: 3 });
    const rows = (d: Iterable<any[]>): number[][] => { const out: number[][] = []; for (const [a] of d) out.push(flat(a.toArray())); return out; };
    expect(rows(again)).toEqual(e1.map(([a]) => a));
    expect(rows(wg.minibatches([x], { batchSize: 4, dropLast: true, shuffle: false }))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    const kept = [...wg.minibatches([x], { batchSize: 4, shuffle: false, disposePrevious: false })];
    expect(kept.map(([a]) => flat(a.toArray()))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    wg.dispose(kept);
    x.dispose();
  });

  it('frees the previous batch when it cuts the next; nothing is left after an epoch', () => {
    const x = wg.keep(wg.randn([9, 3]));
    const before = wg.memory().liveTensors;
    let first: Tensor | undefined;
    for (const [b] of wg.minibatches([x], { batchSize: 4 })) {
      if (!first) first = b; else expect(first.isAlive).toBe(false);
      expect(wg.memory().liveTensors).toBe(before + 1);
    }
    expect(wg.memory().liveTensors).toBe(before);
    x.dispose();
  });

  it('rejects columns of different lengths and bad options', () => {
    expect(() => wg.minibatches([wg.zeros([3, 2]), [1, 2]])).toThrow(/minibatches: columns have different lengths \[3, 2\]; they must align row for row/);
    expect(() => wg.minibatches([[1, 2]], { batchSize: 0 })).toThrow(/batchSize must be an integer >= 1, got 0/);
    expect(() => wg.minibatches([wg.tensor(1)])).toThrow(/column 0 is a rank-0 tensor/);
  });

  it('randperm: a seeded permutation of 0…n−1 (own seed, or from the global generator)', () => {
    const p = flat(wg.randperm(50, { seed: 8 }).toArray());
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(flat(wg.randperm(50, { seed: 8 }).toArray())).toEqual(p);
    wg.seed(1);
    const a = flat(wg.randperm(20).toArray());
    wg.seed(1);
    expect(flat(wg.randperm(20).toArray())).toEqual(a);
    expect(wg.randperm(0).shape).toEqual([0]);
  });
});

describe('fit', () => {
  /** y = 2·x0 − x1 + 0.5·x2 + 0.3 plus a little noise, 12 rows, float64. */
  const X = Array.from({ length: 12 }, (_, i) => [Math.sin(i), Math.cos(2 * i), (i % 5) / 5 - 0.4]);
  const Y = X.map(([a, b, c], i) => [2 * a - b + 0.5 * c + 0.3 + 0.01 * Math.sin(7 * i)]);

  it('SGD on a linear model reaches the loss that plain-JS minibatch gradient descent computes', async () => {
    const model = new nn.Linear(3, 1, { dtype: 'float64' });
    let w = flat(model.weight.toArray()), b = flat(model.bias!.toArray())[0];
    const x = wg.tensor(X, { dtype: 'float64' }), y = wg.tensor(Y, { dtype: 'float64' });
    const lr = 0.1, batch = 4, epochs = 5;
    const result = await wg.fit(model, x, y, {
      optimizer: new optim.SGD(model, { lr }), loss: (o: Tensor, t: Tensor) => o.sub(t).square().mean(),
      epochs, batchSize: batch, shuffle: false, progress: false,
    });
    // the same minibatch gradient descent in plain JS
    const losses: number[] = [];
    for (let e = 0; e < epochs; e++) {
      let sum = 0;
      for (let s = 0; s < 12; s += batch) {
        const gw = [0, 0, 0];
        let gb = 0, l = 0;
        for (let i = s; i < s + batch; i++) {
          const r = w[0] * X[i][0] + w[1] * X[i][1] + w[2] * X[i][2] + b - Y[i][0];
          l += r * r / batch;
          for (let k = 0; k < 3; k++) gw[k] += 2 * r * X[i][k] / batch;
          gb += 2 * r / batch;
        }
        sum += l * batch;
        w = w.map((v, k) => v - lr * gw[k]);
        b -= lr * gb;
      }
      losses.push(sum / 12);
    }
    expectClose(result.epochLosses, losses, 1e-12, 1e-15);
    expectClose(model.weight.toArray(), [w], 1e-12, 1e-15);
    expectClose(model.bias!.toArray(), [b], 1e-12, 1e-15);
    expect(result.steps).toBe(15);
    expect(result.epochLosses[4]).toBeLessThan(result.epochLosses[0] / 4);
    model.dispose();
  });

  it('reports every batch and epoch through callbacks; transform and scheduler apply', async () => {
    const model = new nn.Linear(3, 1, { dtype: 'float64' });
    const opt = new optim.Adam(model, { lr: 0.01 });
    const batches: any[] = [], epochs: any[] = [];
    let transformed = 0;
    await wg.fit(model, wg.tensor(X, { dtype: 'float64' }), wg.tensor(Y, { dtype: 'float64' }), {
      optimizer: opt, loss: (o: Tensor, t: Tensor) => o.sub(t).square().mean(), epochs: 2, batchSize: 5, seed: 4,
      scheduler: new optim.StepLR(opt, 1, 0.5), progress: false,
      transform: (a: Tensor, t: Tensor) => { transformed++; return [a.mul(1), t]; },
      onBatch: (i) => batches.push(i), onEpoch: (i) => epochs.push(i),
    });
    expect(batches.length).toBe(6);
    expect(transformed).toBe(6);
    expect(batches.map((i) => [i.epoch, i.batch, i.batches])).toEqual([[1, 1, 3], [1, 2, 3], [1, 3, 3], [2, 1, 3], [2, 2, 3], [2, 3, 3]]);
    expect(batches.every((i) => Number.isFinite(i.loss) && i.samplesPerSecond > 0)).toBe(true);
    expect(epochs.length).toBe(2);
    expect(opt.lr).toBe(0.0025);
    model.dispose();
  });

  it('shows a progress bar with the loss and the throughput when asked (a plain line per epoch off a terminal)', async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((s: string) => { written.push(String(s)); return true; }) as any);
    const model = new nn.Linear(3, 1, { dtype: 'float64' });
    await wg.fit(model, wg.tensor(X, { dtype: 'float64' }), wg.tensor(Y, { dtype: 'float64' }), {
      optimizer: new optim.SGD(model, { lr: 0.01 }), loss: (o: Tensor, t: Tensor) => o.sub(t).square().mean(), batchSize: 6, progress: true,
    });
    vi.restoreAllMocks();
    const text = written.join('');
    expect(text).toMatch(/epoch 1\/1 \|█+\| 2\/2 batches \| loss \d+\.\d{4} \| \d+ samples\/s/);
    model.dispose();
  });

  it('the terminal bar redraws one line in place, at most ten times a second, and ends it with a newline', async () => {
    const { ProgressBar } = await import('../src/train/progress.js');
    const out: string[] = [];
    let t = 0;
    const bar = new ProgressBar({ write: (s: string) => out.push(s), isTTY: true, columns: 200 }, true, () => t);
    const fields = (loss: string) => ({ epoch: 1, epochs: 2, loss, speed: 100, elapsed: '0.5' });
    bar.start(4, 0, fields('-'));
    t = 0.05; bar.update(1, fields('1.0000')); // within 0.1 s of the last draw: not drawn
    t = 0.2; bar.update(2, fields('0.5000'));
    t = 0.21; bar.update(4, fields('0.2500')); // the last batch is always drawn
    bar.stop();
    expect(out.filter((s) => s.startsWith('\r\x1b[2K'))).toHaveLength(4);
    expect(out.some((s) => s.includes('loss 1.0000'))).toBe(false);
    expect(out[1]).toBe(`\r\x1b[2Kepoch 1/2 |${'█'.repeat(15)}${'░'.repeat(15)}| 2/4 batches | loss 0.5000 | 100 samples/s | 0.5s`);
    expect(out[out.length - 1]).toBe('\n');
  });

  it('rejects a missing optimizer or loss', async () => {
    const model = new nn.Linear(1, 1);
    await expect(wg.fit(model, wg.zeros([2, 1]), wg.zeros([2, 1]), {} as any)).rejects.toThrow(/fit: options must give an optimizer and a loss function/);
    await expect(wg.fit(model, wg.zeros([2, 1]), wg.zeros([3, 1]), { optimizer: new optim.SGD(model), loss: (a: Tensor) => a.sum() })).rejects.toThrow(/columns have different lengths \[2, 3\]/);
    model.dispose();
  });
});

describe('long runs and determinism', () => {
  it('1,000 training steps leave the live tensors and bytes unchanged between steps', () => {
    wg.seed(0);
    const model = new nn.Sequential(new nn.Linear(6, 16), new nn.BatchNorm1d(16), new nn.ReLU(), new nn.Dropout(0.2), new nn.Linear(16, 3));
    const opt = new optim.Adam(model, { lr: 1e-3 });
    const x = wg.keep(wg.randn([8, 6]));
    const y = wg.keep(wg.tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: 'int32' }));
    const loss = (o: Tensor, t: Tensor) => wg.crossEntropy(o, t);
    wg.trainStep(model, opt, loss, x, y); // the first step makes the optimizer's state
    const base = wg.memory();
    let first = NaN, last = NaN;
    for (let i = 0; i < 1000; i++) {
      last = wg.trainStep(model, opt, loss, x, y, { clipGradNorm: 5 });
      if (i === 0) first = last;
      const m = wg.memory();
      if (m.liveTensors !== base.liveTensors || m.liveBytes !== base.liveBytes) {
        throw new Error(`step ${i}: ${m.liveTensors} tensors / ${m.liveBytes} bytes, expected ${base.liveTensors} / ${base.liveBytes}`);
      }
    }
    expect(last).toBeLessThan(first);
    opt.dispose();
    model.dispose();
    wg.dispose([x, y]);
  });

  it('the same seed trains to the same weights bit for bit (shuffle, dropout, batch norm, a CNN); another seed does not', async () => {
    const run = async (seed: number): Promise<Uint8Array> => {
      wg.seed(seed);
      const model = new nn.Sequential(new nn.Conv2d(1, 3, 3), new nn.MaxPool2d(2), new nn.BatchNorm2d(3), new nn.ReLU(),
        new nn.Flatten(), new nn.Dropout(0.3), new nn.Linear(3 * 3 * 3, 4));
      const x = wg.randn([20, 1, 8, 8]);
      const y = wg.tensor(Array.from({ length: 20 }, (_, i) => i % 4), { dtype: 'int32' });
      const opt = new optim.AdamW(model, { lr: 0.01 });
      const result = await wg.fit(model, x, y, { optimizer: opt, loss: (o: Tensor, t: Tensor) => wg.crossEntropy(o, t), epochs: 3, batchSize: 6, seed, progress: false });
      expect(result.epochLosses[2]).toBeLessThan(result.epochLosses[0]);
      const bytes = io.save(model);
      opt.dispose();
      model.dispose();
      wg.dispose([x, y]);
      return bytes;
    };
    const a = await run(5), b = await run(5), c = await run(6);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });
});
