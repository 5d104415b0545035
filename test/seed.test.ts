// The seed example: f(x) = x1 · exp(−½(x1² + x2²)) at (2, ½), against the exact values of
// ../shared/reference/seed-example.md (50-digit values shown to 15 significant digits).

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose } from './helpers.js';
import type { Tensor } from '../src/index.js';

const forward = [2, 0.5, 4, 0.25, 4.25, -2.125, 0.119432968266720, 0.238865936533439];
// adjoints ū₋₁ … ū₆
const adjoints = [-0.358298904800159, -0.119432968266720, -0.119432968266720, -0.119432968266720,
  -0.119432968266720, 0.238865936533439, 2, 1];
const REL = 1e-14;

const f = (x1: Tensor, x2: Tensor): Tensor => x1.mul(x1.square().add(x2.square()).mul(-0.5).exp());

beforeAll(async () => { await wg.init(); });

describe('the seed example in float64', () => {
  const x1 = () => wg.tensor(2, { dtype: 'float64' });
  const x2 = () => wg.tensor(0.5, { dtype: 'float64' });

  it('valueAndGrad gives f and ∇f', () => {
    const [y, [g1, g2]] = wg.valueAndGrad(f, { argnums: [0, 1] })(x1(), x2());
    expectClose(y.item(), forward[7], REL, 0);
    expectClose(g1.item(), adjoints[0], REL, 0);
    expectClose(g2.item(), adjoints[1], REL, 0);
  });

  it('valueAndGrad on a 2-vector with unstack, as in DESIGN.md', () => {
    const fv = (x: Tensor) => { const [a, b] = x.unstack(); return f(a, b); };
    const [y, g] = wg.valueAndGrad(fv)(wg.tensor([2, 0.5], { dtype: 'float64' }));
    expectClose(y.item(), forward[7], REL, 0);
    expect(g.shape).toEqual([2]);
    expectClose(g.toArray(), adjoints.slice(0, 2), REL, 0);
  });

  it('dlfeval / dlgradient, MATLAB style', () => {
    const [y, g] = wg.dlfeval((a: Tensor, b: Tensor) => {
      const v = f(a, b);
      return [v, wg.dlgradient(v, [a, b])];
    }, x1(), x2());
    expectClose(y.item(), forward[7], REL, 0);
    expectClose(g.map((t: Tensor) => t.item()), adjoints.slice(0, 2), REL, 0);
  });

  it('trace shows every u and every ū of the seed tables', () => {
    const t = wg.trace(f, x1(), x2());
    expect(t.nodes.map((n) => n.index)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6]);
    expect(t.nodes.map((n) => n.op)).toEqual(['input', 'input', 'square', 'square', 'add', 'mul', 'exp', 'mul']);
    expectClose(t.nodes.map((n) => n.value), forward, REL, 0);
    expectClose(t.nodes.map((n) => n.adjoint), adjoints, REL, 0);
    const text = t.toString();
    for (const row of ['u₋₁', 'u₆', 'ū₋₁', 'ū₆', '0.238865936533439', '-0.358298904800159', '-0.119432968266720']) {
      expect(text).toContain(row);
    }
    expect(text).toContain('u₁ + u₂');
  });

  it('leaves no tensors behind', () => {
    const a = x1(), b = x2();
    const before = wg.memory();
    for (let i = 0; i < 100; i++) wg.tidy(() => { wg.valueAndGrad(f, { argnums: [0, 1] })(a, b); });
    expect(wg.memory().liveTensors).toBe(before.liveTensors);
    expect(wg.memory().liveBytes).toBe(before.liveBytes);
  });
});
