// Fused elementwise groups in accelerated programs (assembly/engine/fusion.ts): a fused replay
// gives the bits of the unfused replay and of the eager call — over random chains of binary and
// unary ops with broadcast and scalar operands, in both float dtypes, values and gradients —
// writes no intermediate nobody reads, and frees everything it made. Large inputs are read in
// place by a replay instead of copied; results stay right when an input is also an output or an
// output of the program is fed back in.

import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { wg, uniform } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

fc.configureGlobal({ seed: 18, numRuns: 60, endOnFailure: true });

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
type DType = 'float32' | 'float64';
const make = (shape: readonly number[], dtype: DType, seed: number, lo = -2, hi = 2) =>
  wg.tensor(uniform(numel(shape), lo, hi, seed), { shape: [...shape], dtype });

/** Every tensor of a result as raw bytes (so -0, NaN payloads and last bits all count). */
function bits(v: unknown, out: unknown[] = []): unknown[] {
  if (v instanceof wg.Tensor) { out.push([v.dtype, v.dims, [...new Uint8Array(v.data().buffer)]]); return out; }
  if (Array.isArray(v)) { for (const x of v) bits(x, out); return out; }
  if (v !== null && typeof v === 'object') { for (const x of Object.values(v)) bits(x, out); return out; }
  out.push(v);
  return out;
}

describe('fused elementwise groups', () => {
  it('y = a·b + c runs as one group that never writes a·b, with the eager bits', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const [a, b, c] = [1, 2, 3].map((s) => make([1000, 3], dtype, s));
      const f = (x: Tensor, y: Tensor, z: Tensor) => x.mul(y).add(z);
      const want = wg.tidy(() => bits(f(a, b, c)));
      const fast = wg.accelerate(f), plain = wg.accelerate(f, { fuse: false });
      expect(bits(fast(a, b, c))).toEqual(want); // capture
      expect(bits(fast(a, b, c))).toEqual(want); // replay
      expect(bits(plain(a, b, c))).toEqual(want);
      expect(bits(plain(a, b, c))).toEqual(want);
      expect(fast.hits).toBe(1);
      const [p] = fast.programs;
      expect(p.ops).toEqual(['mul', 'add']);
      expect(p.fused).toBe(2);
      expect(p.unwritten).toBe(1);
      expect(plain.programs[0].fused).toBe(0);
      // New values through the same program (the inputs are read in place, not copied).
      const [a2, b2, c2] = [4, 5, 6].map((s) => make([1000, 3], dtype, s));
      expect(bits(fast(a2, b2, c2))).toEqual(wg.tidy(() => bits(f(a2, b2, c2))));
      fast.dispose(); plain.dispose();
      wg.dispose([a, b, c, a2, b2, c2]);
    }
  });

  it('bias add and relu fuse, and relu\'s output is kept for the backward', () => {
    const x = make([64, 32], 'float32', 7), w = make([32, 16], 'float32', 8), bias = make([16], 'float32', 9);
    const f = (x: Tensor) => wg.valueAndGrad((p: { w: Tensor; b: Tensor }) => wg.relu(x.matmul(p.w).add(p.b)).square().mean())({ w, b: bias });
    const want = wg.tidy(() => bits(f(x)));
    const fast = wg.accelerate(f);
    expect(bits(fast(x))).toEqual(want);
    expect(bits(fast(x))).toEqual(want);
    const [p] = fast.programs;
    // add, relu, square forward; relu's backward (a comparison and a where) fused, its mask unwritten
    expect(p.fused).toBeGreaterThanOrEqual(5);
    expect(p.unwritten).toBeGreaterThanOrEqual(2);
    const gt = p.ops.indexOf('gt');
    expect(p.ops.slice(gt, gt + 3)).toEqual(['gt', 'fill', 'where']);
    fast.dispose();
    wg.dispose([x, w, bias]);
  });

  // A random chain: each step applies a binary op to the running value and an operand (a tensor
  // of the full shape, one broadcast onto it, a size-1 tensor or a JS number) or a unary op.
  const binaries = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow', 'atan2', 'logaddexp'] as const;
  const unaries = ['neg', 'abs', 'exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'relu', 'square', 'sin', 'softplus', 'erf'] as const;
  const operandArb = fc.constantFrom('full', 'broadcast', 'one', 'number');
  const step = fc.oneof(
    fc.record({ kind: fc.constant('binary' as const), op: fc.constantFrom(...binaries), operand: operandArb, swap: fc.boolean() }),
    fc.record({ kind: fc.constant('unary' as const), op: fc.constantFrom(...unaries) }),
    // where(v cmp o, v, o2): a comparison's bool tile selecting between two float ones
    fc.record({ kind: fc.constant('select' as const), op: fc.constantFrom('gt', 'lt', 'ge', 'le', 'eq', 'ne'), operand: operandArb, other: operandArb }),
  );
  const caseArb = fc.record({
    shape: fc.array(fc.integer({ min: 1, max: 13 }), { minLength: 1, maxLength: 3 }),
    keep: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    dtype: fc.constantFrom<DType>('float32', 'float64'),
    steps: fc.array(step, { minLength: 1, maxLength: 8 }),
    seed: fc.integer({ min: 1, max: 1000 }),
    // how the chain ends: as it is, or reduced over all dims, the last, the last two, or the first
    reduce: fc.constantFrom('none', 'sum', 'sumLast', 'sumLast2', 'meanLast', 'mean', 'sumFirst'),
  });

  function chain(c: fc.infer<typeof caseArb>) {
    const shape = c.shape.length === 1 && c.shape[0] === 1 ? [2] : c.shape;
    // The broadcast operand: the shape with some dims set to 1, leading dims maybe dropped.
    const bshape = shape.map((d, k) => (c.keep[k] ? d : 1)).slice(c.keep[0] && shape.length > 1 ? 0 : 1);
    const x = make(shape, c.dtype, c.seed), full = make(shape, c.dtype, c.seed + 1, 0.5, 2);
    const wide = make(bshape.length ? bshape : [1], c.dtype, c.seed + 2, 0.5, 2), one = make([1], c.dtype, c.seed + 3, 0.5, 2);
    const f = (x: Tensor, full: Tensor, wide: Tensor, one: Tensor): Tensor => {
      let v = x;
      const pick = (o: string): Tensor | number => (o === 'full' ? full : o === 'broadcast' ? wide : o === 'one' ? one : 0.75);
      for (const s of c.steps) {
        if (s.kind === 'unary') { v = (wg as any)[s.op](v); continue; }
        if (s.kind === 'select') { v = wg.where((wg as any)[s.op](v, pick(s.operand)), v, pick(s.other)); continue; }
        const o = pick(s.operand);
        v = s.swap && typeof o !== 'number' ? (wg as any)[s.op](o, v) : (wg as any)[s.op](v, o);
      }
      const r = v.rank;
      switch (c.reduce) {
        case 'sum': return v.sum();
        case 'sumLast': return v.sum(-1);
        case 'sumLast2': return r >= 2 ? v.sum([-2, -1], { keepdims: true }) : v.sum(-1);
        case 'meanLast': return v.mean(-1);
        case 'mean': return v.mean();
        case 'sumFirst': return v.sum(0);
        default: return v;
      }
    };
    return { f, args: [x, full, wide, one] as const };
  }

  it('random chains: fused replays give the unfused and the eager bits (float32 and float64, broadcasting, ending in a sum or mean)', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const { f, args } = chain(c);
      const want = wg.tidy(() => bits(f(...args)));
      const fast = wg.accelerate(f), plain = wg.accelerate(f, { fuse: false });
      expect(bits(fast(...args))).toEqual(want);
      expect(bits(fast(...args))).toEqual(want);
      expect(bits(plain(...args))).toEqual(want);
      expect(bits(plain(...args))).toEqual(want);
      expect(fast.hits).toBe(1);
      if (c.steps.length >= 2) expect(fast.programs[0].fused).toBeGreaterThanOrEqual(2);
      fast.dispose(); plain.dispose();
      wg.dispose([...args]);
    }));
  });

  it('random chains: gradients through fused replays are the eager gradients', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const { f, args } = chain(c);
      const g = (x: Tensor, full: Tensor, wide: Tensor, one: Tensor) =>
        wg.valueAndGrad((x: Tensor, full: Tensor, wide: Tensor) => f(x, full, wide, one).sum(), { argnums: [0, 1, 2] })(x, full, wide);
      const want = wg.tidy(() => bits(g(...args)));
      const fast = wg.accelerate(g);
      expect(bits(fast(...args))).toEqual(want);
      expect(bits(fast(...args))).toEqual(want);
      fast.dispose();
      wg.dispose([...args]);
    }), { numRuns: 40 });
  });

  it('a sum or mean over trailing dims ends the group: its input is never written, the eager bits', () => {
    // Runs whose length is not a multiple of 4 (a scalar tail) and runs that straddle tiles.
    const shapes = [[3000], [7, 13], [3, 513], [1027, 5], [2, 3, 7], [600, 4], [4, 1, 3], [5, 1030]];
    for (const dtype of ['float32', 'float64'] as const) {
      for (const shape of shapes) {
        for (const axes of [undefined, -1, [-2, -1]] as const) {
          if (axes !== undefined && typeof axes !== 'number' && shape.length < 2) continue;
          const [a, b] = [1, 2].map((s) => make(shape, dtype, s));
          for (const reduce of ['sum', 'mean'] as const) {
            const f = (a: Tensor, b: Tensor) => a.mul(b).add(a)[reduce](axes as any);
            const want = wg.tidy(() => bits(f(a, b)));
            const fast = wg.accelerate(f);
            expect(bits(fast(a, b))).toEqual(want);
            expect(bits(fast(a, b))).toEqual(want);
            const [p] = fast.programs;
            expect(p.ops.slice(0, 3)).toEqual(['mul', 'add', 'sum']);
            expect(p.fused).toBe(3);
            expect(p.unwritten).toBe(2); // a·b and a·b + a live in tiles only
            fast.dispose();
          }
          wg.dispose([a, b]);
        }
      }
    }
    // A sum over leading dims adds several runs into each output: it stays out of the group.
    const [a, b] = [1, 2].map((s) => make([40, 30], 'float32', s));
    const lead = wg.accelerate((a: Tensor, b: Tensor) => a.mul(b).sum(0));
    lead(a, b);
    expect(bits(lead(a, b))).toEqual(wg.tidy(() => bits(a.mul(b).sum(0))));
    expect(lead.programs[0].fused).toBe(0);
    lead.dispose();
    wg.dispose([a, b]);
  });

  it('frees what it made: live tensors and bytes come back after many replays and a dispose', () => {
    const [a, b, c] = [1, 2, 3].map((s) => make([300, 7], 'float32', s));
    const before = wg.memory();
    const fast = wg.accelerate((a: Tensor, b: Tensor, c: Tensor) => wg.relu(a.mul(b).add(c)).sub(a.square()));
    fast(a, b, c);
    const held = wg.memory();
    for (let i = 0; i < 20; i++) fast(a, b, c);
    expect(wg.memory().liveTensors).toBe(held.liveTensors);
    expect(wg.memory().liveBytes).toBe(held.liveBytes);
    fast.dispose();
    expect(wg.memory().liveTensors).toBe(before.liveTensors);
    expect(wg.memory().liveBytes).toBe(before.liveBytes);
    wg.dispose([a, b, c]);
  });

  it('an input that is also an output, and outputs fed back as inputs, keep the eager values', () => {
    const x = make([4096], 'float32', 11);
    const echo = wg.accelerate((x: Tensor) => [x, x.mul(2).add(1)]);
    echo(x);
    const y = make([4096], 'float32', 12);
    const [same, twice] = echo(y);
    expect(bits(same)).toEqual(bits(y));
    expect(bits(twice)).toEqual(wg.tidy(() => bits(y.mul(2).add(1))));
    echo.dispose();
    // An SGD-like loop: each replay's outputs are the next replay's inputs.
    const g = make([64, 64], 'float64', 13);
    const stepF = (w: Tensor) => w.sub(g.mul(0.1)).mul(0.99);
    const fast = wg.accelerate(stepF);
    let w = make([64, 64], 'float64', 14), we = wg.keep(w.mul(1));
    for (let i = 0; i < 4; i++) {
      w = fast(w);
      const next = wg.keep(stepF(we)); we.dispose(); we = next;
      expect(bits(w)).toEqual(bits(we));
    }
    fast.dispose();
    // Outputs fed back trade buffers with the inputs instead of being copied; a constant output
    // (filled once, never rewritten) and an output that is also an input must not.
    const pair = (w: Tensor, c: Tensor) => [w.mul(0.5).add(c), wg.ones([2048]), c];
    const fastPair = wg.accelerate(pair);
    const w0 = make([2048], 'float32', 15), c0 = make([2048], 'float32', 16);
    let [pw, pc, pk] = fastPair(w0, c0);
    let [ew, ec, ek] = wg.tidy(() => pair(w0, c0).map((t) => wg.keep(t.mul(1))));
    for (let i = 0; i < 4; i++) {
      [pw, pc, pk] = fastPair(pw, pc);
      const next = wg.tidy(() => pair(ew, ec).map((t) => wg.keep(t.mul(1))));
      wg.dispose([ew, ec, ek]);
      [ew, ec, ek] = next;
      expect(bits([pw, pc, pk])).toEqual(bits([ew, ec, ek]));
    }
    expect(fastPair.hits).toBe(4);
    fastPair.dispose();
    wg.dispose([x, y, g, we, ew, ec, ek, w0, c0]);
  });
});
