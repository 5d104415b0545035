// Derivative rules of ops recorded one after another. Forward mode runs each record's JVP lazily,
// when the next record starts (assembly/engine/forward.ts), so a JVP can run in the middle of
// another op — between that op's recordOp and the attributes it records, and inside a reverse
// sweep between the sub-ops of a VJP rule. An op that reads a static buffer after recordOp, while
// the pending JVP fills the same buffer, records wrong attributes: the derivative is silently
// wrong only when ops are mixed, which test/op-rules.test.ts (one op at a time) cannot see.
//
// Here every registry case runs beside itself and beside the next case of its file (ops of one
// family share static buffers), in one function L(xs, ys) = L_A(xs) + L_B(ys) with
// L(x) = Σ w ⊙ f(x) + ½ Σ f(x)² as in op-rules. The Hessian-vector product forward-over-reverse
// must equal reverse-over-reverse (both exact: no finite differences), and the forward-mode
// derivative of the pair must equal the sum of each one's alone.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, rng, expectClose } from './helpers.js';
import type { Tensor } from '../src/index.js';
import type { OpCase } from './registry/types.js';
import { loadRegistry } from './registry/load.js';

beforeAll(async () => { await wg.init(); });

const values = (t: Tensor): number[] => Array.from(t.data() as Float64Array);

function direction(like: Tensor, r: () => number): Tensor {
  const v = Array.from({ length: like.numel() }, () => Math.fround(2 * r() - 1));
  return wg.tensor(v, { shape: like.shape, dtype: 'float64' });
}

/** L(x) = Σ w ⊙ f(x) + ½ Σ f(x)² for one case, with w drawn once. */
function lossOf(c: OpCase, r: () => number): { L: (...xs: Tensor[]) => Tensor; inputs: Tensor[] } {
  const { f, inputs } = c.make();
  const w = direction(f(...inputs), r);
  return { L: (...xs) => { const z = f(...xs); return z.mul(w).sum().add(z.square().sum().mul(0.5)); }, inputs };
}

function checkPair(a: OpCase, b: OpCase, seed: number): void {
  const r = rng(seed);
  const A = lossOf(a, r), B = lossOf(b, r);
  const n = A.inputs.length;
  const inputs = [...A.inputs, ...B.inputs];
  const L = (...xs: Tensor[]) => A.L(...xs.slice(0, n)).add(B.L(...xs.slice(n)));
  const argnums = inputs.map((_, k) => k);
  const us = inputs.map((x) => direction(x, r));
  const what = `${a.name} then ${b.name}`;

  // forward mode through the pair = the two alone
  const [, dPair] = wg.jvp(L, inputs, us) as [Tensor, Tensor];
  const [, dA] = wg.jvp(A.L, A.inputs, us.slice(0, n)) as [Tensor, Tensor];
  const [, dB] = wg.jvp(B.L, B.inputs, us.slice(n)) as [Tensor, Tensor];
  expectClose(dPair.item(), dA.item() + dB.item(), 1e-10, 1e-12);

  // second order: forward-over-reverse = reverse-over-reverse
  const gradL = (...xs: Tensor[]) => wg.grad(L, { argnums })(...xs) as Tensor[];
  const fwd = (wg.jvp((...xs: Tensor[]) => gradL(...xs), inputs, us) as [Tensor[], Tensor[]])[1];
  const rev = wg.grad((...xs: Tensor[]) => gradL(...xs).map((g, k) => g.mul(us[k]).sum()).reduce((p, q) => p.add(q)),
    { argnums })(...inputs) as Tensor[];
  const big = Math.max(1, ...rev.flatMap((t) => values(t).map(Math.abs)));
  rev.forEach((t, k) => {
    try {
      expectClose(values(fwd[k]), values(t), 1e-9, 1e-11 * big);
    } catch (e) {
      throw new Error(`${what}: Hessian-vector product for input ${k}, forward-over-reverse against reverse-over-reverse: ${(e as Error).message}`);
    }
  });
}

const usable = loadRegistry().filter((l) => l.entry && l.entry.differentiable !== false && l.entry.secondOrder !== false);

describe('op rules in pairs: an op recorded after another gets the same derivatives', () => {
  usable.forEach(({ file, label, entry }, i) => {
    const next = usable.slice(i + 1).find((l) => l.file === file) ?? usable.find((l) => l.file === file)!;
    it(`${label}, twice`, () => { wg.tidy(() => checkPair(entry!, entry!, 5000 + i)); });
    if (next.entry !== entry) it(`${label}, then ${next.entry!.name}`, () => { wg.tidy(() => checkPair(entry!, next.entry!, 9000 + i)); });
  });

  it('the check can fail: a JVP that disagrees with its VJP is caught', () => {
    const skewed = wg.customGrad((x: Tensor) => x.sin(), (g: Tensor, _y: Tensor, x: Tensor) => g.mul(x.cos()),
      { jvp: ([t]: (Tensor | null)[], _y: Tensor, x: Tensor) => t!.mul(x.cos()).mul(1.5), name: 'skewed' });
    const c: OpCase = { name: 'skewed', kind: 'composite', make: () => ({ f: skewed, inputs: [wg.tensor([0.3, -0.7], { dtype: 'float64' })] }) };
    expect(() => wg.tidy(() => checkPair(c, c, 1))).toThrow('skewed then skewed: Hessian-vector product');
  });
});
