// The whole 4 GiB: with tensor data, the tensor table and the tape placed above 2 GiB (addresses
// whose top bit is set, negative as int32), every value and gradient reads back exactly, and
// after everything there is disposed the runtime gives the same bits as before.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg } from './helpers.js';
import type { Tensor } from '../src/index.js';

const GiB = 2 ** 30;

beforeAll(async () => { await wg.init(); });

/** A program touching the main paths: values, a gradient, a product, a training step, accelerate. Its result as bits. */
function program(): number[] {
  return wg.tidy(() => {
    const out: number[] = [];
    const f = (x1: Tensor, x2: Tensor) => x1.mul(x1.square().add(x2.square()).mul(-0.5).exp());
    const x1 = wg.tensor(2, { dtype: 'float64' }), x2 = wg.tensor(0.5, { dtype: 'float64' });
    const [y, [g1, g2]] = wg.valueAndGrad(f, { argnums: [0, 1] })(x1, x2);
    out.push(y.item() as number, g1.item() as number, g2.item() as number);
    const a = wg.tensor(Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i)), { shape: [64, 48] });
    const b = wg.tensor(Array.from({ length: 48 * 32 }, (_, i) => Math.cos(i)), { shape: [48, 32] });
    out.push(...Array.from(wg.matmul(a, b).data() as Float32Array));
    wg.manualSeed(3);
    const net = new wg.nn.Sequential(new wg.nn.Linear(48, 16), new wg.nn.Tanh(), new wg.nn.Linear(16, 4));
    const opt = new wg.optim.Adam(net, { lr: 0.01 });
    for (let i = 0; i < 3; i++) out.push(wg.trainStep(net, opt, wg.mseLoss, a, wg.zeros([64, 4])));
    out.push(...Array.from(net.parameters()[0].data() as Float32Array));
    opt.dispose?.();
    net.dispose();
    const fast = wg.accelerate(wg.valueAndGrad(f, { argnums: [0, 1] }));
    for (let i = 0; i < 3; i++) {
      const [v, [h1, h2]] = fast(x1, x2) as [Tensor, Tensor[]];
      out.push(v.item() as number, h1.item() as number, h2.item() as number);
    }
    fast.clearCache();
    return out;
  });
}

describe('memory above 2 GiB', () => {
  it('values, gradients, tables and the tape above 2 GiB read back exactly; after disposing, the same bits', () => {
    const before = program();
    const live = wg.memory().liveTensors;
    // 2.25 GiB of zeros (untouched memory: no page is written), pushing everything after it past 2 GiB.
    const filler = Array.from({ length: 9 }, () => wg.zeros([2 ** 26]));
    expect(wg.memory().heapBytes).toBeGreaterThan(2 * GiB);
    const high = wg.tensor([1, 2, 3]);
    expect(high.toArray()).toEqual([1, 2, 3]);
    expect(wg.tidy(() => high.sum().item())).toBe(6);
    expect(Array.from(high.data() as Float32Array)).toEqual([1, 2, 3]);
    expect(wg.tidy(() => filler[8].slice(0, 2 ** 26 - 3, 2 ** 26).toArray())).toEqual([0, 0, 0]);
    wg.tidy(() => {
      // Grow the tensor table and the tape while the only free memory is above 2 GiB.
      const many = Array.from({ length: 40000 }, (_, i) => wg.tensor(i));
      expect(many[39999].item()).toBe(39999);
      const [, g] = wg.valueAndGrad((x: Tensor) => {
        let s = x;
        for (let i = 0; i < 5000; i++) s = s.mul(1.0001);
        return s.sum();
      })(wg.tensor([1, 2], { dtype: 'float64' }));
      expect(g.toArray()[0]).toBeCloseTo(1.0001 ** 5000, 9);
      expect(program()).toEqual(before);
    });
    expect(program()).toEqual(before);
    wg.dispose([filler, high]);
    expect(wg.memory().liveTensors).toBe(live);
    expect(program()).toEqual(before);
  });
});
