// examples/matlab/gan.mjs, MATLAB's GAN example on the MNIST digits: the example's modelLoss (two
// dlgradient calls in one dlfeval, label flipping) against central differences on a tiny float64
// pair of its own networks, and a short run in which the scores move as the GAN objective says:
// the discriminator separates real digits from generated ones (its score above one half, the
// generator's score below) and its loss falls from where it starts. Nothing leaks.

import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../dist/index.js';
// @ts-expect-error plain JS example
import { main, makeGenerator, makeDiscriminator, modelLoss } from '../examples/matlab/gan.mjs';

beforeAll(async () => { await wg.init(); });

type Row = { Layer: string; Parameter: string; Value: wg.Tensor };

describe('examples/matlab/gan.mjs', () => {
  it("modelLoss's two gradient tables match central differences of lossG and lossD (tiny float64 networks, flips and dropout seeded)", () => {
    wg.seed(3);
    const netG = makeGenerator({ numLatentInputs: 3, numFilters: 1 });
    const netD = makeDiscriminator({ numFilters: 1 });
    netG.to('float64');
    netD.to('float64');
    const Z = wg.dlarray(wg.randn([3, 3], { dtype: 'float64' }), 'CB');
    const X = wg.dlarray(wg.rand([32, 32, 1, 3], { dtype: 'float64' }).mul(2).sub(1), 'SSCB');
    const flipProb = 0.35;
    // the same flips and dropout masks on every evaluation
    const evaluate = () => { wg.seed(7); return wg.dlfeval(modelLoss, netG, netD, X, Z, flipProb) as unknown[]; };
    const losses = (): [number, number] => {
      const r = evaluate();
      const out: [number, number] = [(r[0] as wg.Tensor).item(), (r[1] as wg.Tensor).item()];
      wg.dispose(r as never);
      return out;
    };
    const r = evaluate();
    const [gradientsG, gradientsD] = [r[2] as Row[], r[3] as Row[]];
    expect(gradientsG.map((g) => `${g.Layer}/${g.Parameter}`)).toEqual(netG.Learnables.map((g: Row) => `${g.Layer}/${g.Parameter}`));
    expect(gradientsD.map((g) => `${g.Layer}/${g.Parameter}`)).toEqual(netD.Learnables.map((g: Row) => `${g.Layer}/${g.Parameter}`));
    const eps = 1e-6;
    let checked = 0;
    for (const [net, grads, which] of [[netG, gradientsG, 0], [netD, gradientsD, 1]] as const) {
      (net.Learnables as Row[]).forEach((row, i) => {
        const p = row.Value;
        const base = Float64Array.from(p.data() as Float64Array);
        const g = grads[i].Value.data() as Float64Array;
        for (const k of [0, base.length - 1]) {
          const at = (d: number) => {
            const v = Float64Array.from(base);
            v[k] += d;
            wg.tidy(() => { net.Learnables = [{ Layer: row.Layer, Parameter: row.Parameter, Value: wg.tensor(v, { shape: p.shape, dtype: 'float64' }) }]; return undefined; });
            return losses()[which];
          };
          const fd = (at(eps) - at(-eps)) / (2 * eps);
          at(0);
          expect(Math.abs(g[k] - fd), `${which === 0 ? 'lossG' : 'lossD'} by ${row.Layer}.${row.Parameter}[${k}]: ${g[k]} vs ${fd}`).toBeLessThan(1e-7 + 1e-5 * Math.abs(fd));
          checked++;
        }
      });
    }
    expect(checked).toBe(2 * (netG.Learnables.length + netD.Learnables.length));
    wg.dispose(r as never);
    wg.dispose([Z, X]);
    netG.dispose();
    netD.dispose();
  }, 120_000);

  it('a short run: the discriminator separates real from generated digits and its loss falls; nothing leaks', async () => {
    const before = wg.memory().liveTensors;
    const r = await main(['--iterations', '40', '--miniBatchSize', '32', '--validationFrequency', '1000', '--quiet']);
    expect(wg.memory().liveTensors).toBe(before);
    const h = r.history as { scoreD: number; scoreG: number; lossD: number; lossG: number }[];
    expect(h.length).toBe(40);
    for (const s of h) for (const v of [s.scoreD, s.scoreG, s.lossD, s.lossG]) expect(Number.isFinite(v)).toBe(true);
    const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const last = h.slice(-10);
    // scoreD = (mean D(real) + mean(1 − D(generated))) / 2 above one half: D tells them apart
    expect(meanOf(last.map((s) => s.scoreD))).toBeGreaterThan(0.55);
    // scoreG = mean D(generated) below one half: D calls the generated digits fake
    expect(meanOf(last.map((s) => s.scoreG))).toBeLessThan(0.45);
    // at the start D cannot tell (its scores near one half) and lossD is larger
    expect(Math.abs(h[0].scoreD - 0.5)).toBeLessThan(0.1);
    expect(meanOf(last.map((s) => s.lossD))).toBeLessThan(h[0].lossD - 0.2);
    // the tile: 25 generated 32×32 images in [-1, 1] (tanh)
    expect([r.images.length, r.images[0].length, r.images[0][0].length, r.images[0][0][0].length]).toEqual([32, 32, 1, 25]);
    expect(Math.max(...r.images.flat(3).map(Math.abs))).toBeLessThanOrEqual(1);
    expect(r.realMean).toBeLessThan(-0.7); // the digits are mostly background (-1)
  }, 180_000);
});
