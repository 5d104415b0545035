// The physics-informed example (examples/pinn.mjs) on a short run: the PDE residual of
// −Δu = 2π² sin(πx) sin(πy) must fall by at least 10×, and the seeded run must repeat exactly.
// The full run (the example itself) reaches ≥ 100×; its figures are recorded in its header.

import { describe, expect, it } from 'vitest';
import * as wg from '../src/index.js';
// (a plain .mjs example: it takes the wasmgrad module as an argument, here the sources)
import { train } from '../examples/pinn.mjs';

const SHORT = { grid: 8, boundary: 8, steps: 600, lr: 1e-2, lrEnd: 1e-3, logEvery: 100 };

describe('physics-informed network for a Poisson equation (short run)', () => {
  it('the residual falls by at least 10×, the solution approaches sin(πx) sin(πy), nothing leaks', async () => {
    await wg.init();
    const before = wg.memory().liveTensors;
    const r = await train(wg, SHORT);
    expect(wg.memory().liveTensors).toBe(before);
    expect(r.history.length).toBe(7);
    // at the start u ≈ 0, so the residual is about the RMS of f: 2π² · ½ on this grid
    expect(r.initialResidual).toBeGreaterThan(5);
    expect(r.initialResidual).toBeLessThan(20);
    expect(r.reduction).toBeGreaterThanOrEqual(10);
    expect(r.history.every((h: { residual: number }) => Number.isFinite(h.residual))).toBe(true);
    expect(r.l2Error).toBeLessThan(0.2);
  });

  it('a seeded run repeats exactly', async () => {
    const a = await train(wg, { ...SHORT, steps: 50, logEvery: 25 });
    const b = await train(wg, { ...SHORT, steps: 50, logEvery: 25 });
    expect(b.history.map((h: { loss: number }) => h.loss)).toEqual(a.history.map((h: { loss: number }) => h.loss));
    const c = await train(wg, { ...SHORT, steps: 50, logEvery: 25, seed: 1 });
    expect(c.history[0].loss).not.toBe(a.history[0].loss);
  });
});
