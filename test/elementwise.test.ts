// The elementwise family: binary arithmetic with broadcasting, comparisons, unary math, where,
// clamp and casts. Forward values are checked against plain scalar JS references written here
// (JS's Math for float64; erf against mpmath values), gradients against central finite
// differences in float64, float32 against float64, and PyTorch's edge semantics.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, uniform, rand64, size, flat } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

type Shape = number[];
const t64 = (v: number[], shape: Shape) => wg.tensor(v, { shape, dtype: 'float64' });
const t32 = (v: number[], shape: Shape) => wg.tensor(v, { shape, dtype: 'float32' });

/** NumPy broadcasting of any number of operands, evaluated with a scalar function. */
function broadcastRef(shapes: Shape[], values: number[][], f: (...xs: number[]) => number): { shape: Shape; values: number[] } {
  const rank = Math.max(...shapes.map((s) => s.length));
  const shape: Shape = [];
  for (let k = 0; k < rank; k++) {
    let n = 1;
    for (const s of shapes) { const d = s[k - (rank - s.length)] ?? 1; if (d !== 1) n = d; }
    shape.push(n);
  }
  const out: number[] = [];
  const index = new Array(rank).fill(0);
  for (let i = 0; i < size(shape); i++) {
    let r = i;
    for (let k = rank - 1; k >= 0; k--) { index[k] = r % shape[k]; r = Math.floor(r / shape[k]); }
    const args = shapes.map((s, j) => {
      let off = 0;
      for (let k = 0; k < s.length; k++) {
        const kk = k + rank - s.length;
        off = off * s[k] + (s[k] === 1 ? 0 : index[kk]);
      }
      return values[j][off];
    });
    out.push(f(...args));
  }
  return { shape, values: out };
}

// ——— scalar references (C/PyTorch semantics where JS's Math differs)
/** C's pow: pow(1, y) = 1 and pow(x, 0) = 1 even for NaN; pow(-1, ±Inf) = 1 (JS gives NaN). */
const powRef = (x: number, y: number): number =>
  x === 1 || y === 0 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : Math.pow(x, y);

const binaryRefs: Record<string, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  pow: powRef,
  maximum: (x, y) => Math.max(x, y),
  minimum: (x, y) => Math.min(x, y),
};
const binaryNames = Object.keys(binaryRefs) as (keyof typeof binaryRefs & string)[];
/** Operand ranges where each op is smooth and well away from its poles. */
const binaryDomain: Record<string, [[number, number], [number, number]]> = {
  add: [[-2, 2], [-2, 2]], sub: [[-2, 2], [-2, 2]], mul: [[-2, 2], [-2, 2]], div: [[-2, 2], [0.5, 2]],
  pow: [[0.5, 2], [-2, 2]], maximum: [[-2, 2], [-2, 2]], minimum: [[-2, 2], [-2, 2]],
};

const unaryRefs: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  square: (x) => x * x,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (Number.isNaN(x) ? x : Math.max(x, 0)),
  softplus: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))),
};
const unaryNames = [...Object.keys(unaryRefs), 'erf'];
const unaryDomain: Record<string, [number, number]> = {
  sqrt: [0.1, 4], rsqrt: [0.1, 4], log: [0.1, 4], log1p: [-0.9, 4], tan: [-1.3, 1.3], exp: [-5, 5], expm1: [-5, 5],
};
const domainOf = (op: string): [number, number] => unaryDomain[op] ?? [-3, 3];
const unaryFn = (op: string) => (x: Tensor): Tensor => (wg as any)[op](x);
const binaryFn = (op: string) => (a: Tensor | number, b: Tensor | number): Tensor => (wg as any)[op](a, b);

// erf(x) for these doubles, correctly rounded. Generated offline with
// python3 -c 'import mpmath as mp; mp.mp.dps = 50; xs = [1e-300, 1e-10, ...]; print(",\n".join("  [%r, %r]" % (x, float(mp.erf(mp.mpf(x)))) for x in xs))'
// (the xs are the first column below).
const ERF_MPMATH: [number, number][] = [
  [1e-300, 1.1283791670955126e-300],
  [1e-10, 1.1283791670955126e-10],
  [1e-05, 1.1283791670579e-05],
  [0.01, 0.011283415555849618],
  [0.1, 0.1124629160182849],
  [0.25, 0.27632639016823696],
  [0.3708934946303647, 0.4000849021451126],
  [0.49999999999999994, 0.5204998778130465],
  [0.5, 0.5204998778130465],
  [0.5000000000000001, 0.5204998778130466],
  [0.6, 0.6038560908479259],
  [0.75, 0.7111556336535151],
  [0.99, 0.8385080695553698],
  [1.0, 0.8427007929497149],
  [1.2345, 0.9191623964135658],
  [1.5, 0.9661051464753108],
  [1.75, 0.9866716712191824],
  [2.0, 0.9953222650189527],
  [2.2, 0.9981371537020182],
  [2.5, 0.999593047982555],
  [3.0, 0.9999779095030014],
  [3.3, 0.9999969422902035],
  [3.75, 0.9999998862727434],
  [4.0, 0.9999999845827421],
  [4.5, 0.9999999998033839],
  [5.0, 0.9999999999984626],
  [5.25, 0.9999999999998869],
  [5.5, 0.9999999999999927],
  [5.75, 0.9999999999999996],
  [5.9, 0.9999999999999999],
  [5.999999999999999, 1.0],
  [6.0, 1.0],
  [6.5, 1.0],
  [10.0, 1.0],
  [27.0, 1.0],
];

/** Distance in units in the last place between two doubles of the same sign. */
function ulpDistance(a: number, b: number): number {
  const buf = new DataView(new ArrayBuffer(16));
  buf.setFloat64(0, a); buf.setFloat64(8, b);
  return Number(buf.getBigInt64(0) - buf.getBigInt64(8));
}

/** Values that exercise SIMD bodies and scalar tails (9 = 4 + 4 + 1 lanes of f32, 4·2 + 1 of f64). */
const LENGTHS = [1, 3, 4, 5, 9, 17];

describe('binary ops: forward values', () => {
  const cases: [Shape, Shape][] = [
    [[9], [9]], [[17], [17]], [[2, 3], [3]], [[2, 1], [1, 3]], [[4, 1, 3], [2, 1]], [[9], []], [[], [9]],
    [[3], [2, 3]], [[], []], [[0, 3], [3]], [[1, 1], [5]], [[2, 9], [2, 1]],
  ];
  for (const op of binaryNames) {
    it(`${op} matches the scalar reference with broadcasting (float64)`, () => {
      const [da, db] = binaryDomain[op];
      for (const [sa, sb] of cases) {
        const va = uniform(size(sa), da[0], da[1], 11), vb = uniform(size(sb), db[0], db[1], 12);
        const want = broadcastRef([sa, sb], [va, vb], binaryRefs[op]);
        const got = wg.tidy(() => {
          const y = binaryFn(op)(t64(va, sa), t64(vb, sb));
          expect(y.dtype).toBe('float64');
          return { shape: y.shape, values: flat(y.toArray()) };
        });
        expect(got.shape, `${op} ${JSON.stringify([sa, sb])}`).toEqual(want.shape);
        expectClose(got.values, want.values, 1e-15, 0);
      }
    });
  }

  it('the method form equals the function form', () => {
    wg.tidy(() => {
      const a = rand64([2, 3], 0.5, 2, 1), b = rand64([3], 0.5, 2, 2);
      for (const op of binaryNames) {
        expect((a as any)[op](b).toArray(), op).toEqual(binaryFn(op)(a, b).toArray());
      }
    });
  });

  it('JS numbers on either side (x.sub(1), wg.sub(1, x), ...)', () => {
    wg.tidy(() => {
      const v = uniform(5, 0.5, 2, 3);
      const x = t64(v, [5]);
      for (const op of binaryNames) {
        for (const s of [1, 2.5, -0.5]) {
          const right = binaryFn(op)(x, s), left = binaryFn(op)(s, x);
          expect(right.dtype).toBe('float64');
          expect(left.shape).toEqual([5]);
          expectClose(right.toArray(), v.map((e) => binaryRefs[op](e, s)), 1e-15, 0);
          expectClose(left.toArray(), v.map((e) => binaryRefs[op](s, e)), 1e-15, 0);
        }
      }
      // a JS number beside a float32 tensor is taken in float32, as PyTorch does
      const y = t32([1], [1]).add(0.1);
      expect(y.dtype).toBe('float32');
      expect(y.item()).toBe(Math.fround(1 + Math.fround(0.1)));
      // booleans are numbers
      expect(x.mul(true).toArray()).toEqual(x.toArray());
      // two numbers give a float32 rank-0 tensor
      const z = wg.add(1, 2);
      expect(z.shape).toEqual([]);
      expect(z.item()).toBe(3);
    });
  });

  it('PyTorch edge values: pow specials, division by zero, NaN', () => {
    wg.tidy(() => {
      const xs = [0, -0, 1, -1, 2, -2, 0.5, Infinity, -Infinity, NaN];
      const n = xs.length;
      const a = t64(xs.flatMap((x) => xs.map(() => x)), [n, n]);
      const b = t64(xs.flatMap(() => xs), [n, n]);
      for (const op of binaryNames) {
        const want = xs.flatMap((x) => xs.map((y) => binaryRefs[op](x, y)));
        expectClose(binaryFn(op)(a, b).toArray(), want, 0, 0);
        // the same in float32, on the SIMD and scalar paths alike
        expectClose(binaryFn(op)(a.to('float32'), b.to('float32')).toArray(), want.map(Math.fround), 0, 0);
      }
      expect(wg.pow(t64([0], [1]), 0).item()).toBe(1);
      expect(wg.pow(t64([NaN], [1]), 0).item()).toBe(1);
      expect(wg.pow(t64([1], [1]), NaN).item()).toBe(1);
      expect(wg.pow(t64([-8], [1]), 1 / 3).item()).toBeNaN();
      expect(wg.pow(t64([-2], [1]), 3).item()).toBe(-8);
    });
  });

  it('maximum and minimum propagate NaN from either side, on SIMD runs, tails and broadcasts', () => {
    wg.tidy(() => {
      for (const dtype of ['float32', 'float64'] as const) {
        for (const n of LENGTHS) {
          const v = uniform(n, -1, 1, n);
          const w = uniform(n, -1, 1, n + 100);
          v[n - 1] = NaN;
          w[0] = NaN;
          const a = wg.tensor(v, { dtype }), b = wg.tensor(w, { dtype });
          for (const op of ['maximum', 'minimum']) {
            const got = flat(binaryFn(op)(a, b).toArray());
            expect(Number.isNaN(got[n - 1]) && Number.isNaN(got[0]), `${op} ${dtype} n=${n}`).toBe(true);
            expect(flat(binaryFn(op)(a, NaN).toArray()).every(Number.isNaN)).toBe(true);
            expect(flat(binaryFn(op)(NaN, b).toArray()).every(Number.isNaN)).toBe(true);
          }
        }
      }
    });
  });
});

describe('binary ops: gradients (float64 finite differences)', () => {
  const shapes: [Shape, Shape][] = [
    [[2, 3], [2, 3]], [[2, 3], [3]], [[2, 1], [1, 3]], [[4, 1, 3], [2, 1]], [[], [2, 3]], [[3], []],
    [[], []], [[1], [1, 1]], [[0, 3], [3]], [[2, 0], [1]],
  ];
  for (const op of binaryNames) {
    it(`${op}`, () => {
      const [da, db] = binaryDomain[op];
      shapes.forEach(([sa, sb], i) => {
        wg.tidy(() => checkGrad(binaryFn(op), [rand64(sa, da[0], da[1], 20 + i), rand64(sb, db[0], db[1], 40 + i)]));
      });
    });
    it(`${op} with a JS number on either side`, () => {
      const [da, db] = binaryDomain[op];
      wg.tidy(() => {
        checkGrad((x) => binaryFn(op)(x, 1.5), [rand64([2, 3], da[0], da[1], 3)]);
        checkGrad((x) => binaryFn(op)(1.5, x), [rand64([2, 3], db[0], db[1], 4)]);
      });
    });
  }

  it('a tensor used as both operands (fan-in) accumulates', () => {
    wg.tidy(() => {
      const x = rand64([5], 0.5, 2, 9);
      for (const op of binaryNames) checkGrad((v) => binaryFn(op)(v, v), [x]);
    });
  });

  it('maximum / minimum ties split the gradient g/2 to each side, as PyTorch', () => {
    wg.tidy(() => {
      const a = t64([1, 2, 3, 4, 5], [5]), b = t64([1, 0, 3, 9, 5], [5]);
      const [, [ga, gb]] = wg.valueAndGrad((x: Tensor, y: Tensor) => wg.maximum(x, y).sum(), { argnums: [0, 1] })(a, b);
      expect(ga.toArray()).toEqual([0.5, 1, 0.5, 0, 0.5]);
      expect(gb.toArray()).toEqual([0.5, 0, 0.5, 1, 0.5]);
      const [, [ha, hb]] = wg.valueAndGrad((x: Tensor, y: Tensor) => wg.minimum(x, y).mul(t64([1, 2, 3, 4, 5], [5])).sum(), { argnums: [0, 1] })(a, b);
      expect(ha.toArray()).toEqual([0.5, 0, 1.5, 4, 2.5]);
      expect(hb.toArray()).toEqual([0.5, 2, 1.5, 0, 2.5]);
      // a tie against a broadcast scalar: each of the three ties gives half to the scalar
      const [, [gs, gx]] = wg.valueAndGrad((s: Tensor, x: Tensor) => wg.maximum(s, x).sum(), { argnums: [0, 1] })(
        t64([2], []), t64([2, 2, 2, 1], [4]));
      expect(gs.item()).toBe(2.5);
      expect(gx.toArray()).toEqual([0.5, 0.5, 0.5, 0]);
      // NaN on one side: PyTorch's masks are all false there, so both sides get the full gradient
      const [, [gn, gm]] = wg.valueAndGrad((x: Tensor, y: Tensor) => wg.maximum(x, y).sum(), { argnums: [0, 1] })(
        t64([NaN], [1]), t64([1], [1]));
      expect(gn.toArray()).toEqual([1]);
      expect(gm.toArray()).toEqual([1]);
    });
  });

  it('pow: d/db is 0 where a = 0 and b >= 0 (PyTorch masks 0 · log 0), d/da is 0 where b = 0', () => {
    wg.tidy(() => {
      const a = t64([0, 0, 0, 2, 0, 3], [6]), b = t64([2, 0, 0.5, 3, -1, 0], [6]);
      const [, [ga, gb]] = wg.valueAndGrad((x: Tensor, y: Tensor) => wg.pow(x, y).sum(), { argnums: [0, 1] })(a, b);
      // d/da = b a^(b-1): 0, (masked) 0, 0.5·0^-0.5 = inf, 12, -1·0^-2 = -inf, (masked) 0
      expect(ga.toArray()).toEqual([0, 0, Infinity, 12, -Infinity, 0]);
      // d/db = a^b log a: masked 0, 0, 0; 8 ln 2; at a = 0, b = -1 unmasked: inf · -inf = -inf; 1 · ln 3
      expectClose(gb.toArray(), [0, 0, 0, 8 * Math.LN2, -Infinity, Math.log(3)], 1e-15, 0);
    });
  });
});

describe('comparisons', () => {
  const refs: Record<string, (x: number, y: number) => boolean> = {
    eq: (x, y) => x === y, ne: (x, y) => x !== y, lt: (x, y) => x < y,
    le: (x, y) => x <= y, gt: (x, y) => x > y, ge: (x, y) => x >= y,
  };
  for (const op of Object.keys(refs)) {
    it(`${op} gives a bool mask, with broadcasting, NaN and numbers on either side`, () => {
      wg.tidy(() => {
        const va = [0, 1, 2, NaN, -1, 2, Infinity, -0], vb = [0, 2, 2, NaN];
        for (const dtype of ['float32', 'float64'] as const) {
          const a = wg.tensor(va, { shape: [2, 4], dtype }), b = wg.tensor(vb, { shape: [4], dtype });
          const y = binaryFn(op)(a, b);
          expect(y.dtype).toBe('bool');
          expect(y.shape).toEqual([2, 4]);
          expect(y.toArray()).toEqual([0, 1].map((r) => vb.map((w, c) => refs[op](va[4 * r + c], w))));
          expect(binaryFn(op)(a, 2).toArray()).toEqual([0, 1].map((r) => [0, 1, 2, 3].map((c) => refs[op](va[4 * r + c], 2))));
          expect(binaryFn(op)(2, b).toArray()).toEqual(vb.map((w) => refs[op](2, w)));
        }
        const ints = wg.tensor([1, 2, 3], { dtype: 'int32' });
        expect(binaryFn(op)(ints, 2).toArray()).toEqual([1, 2, 3].map((v) => refs[op](v, 2)));
        // an int tensor beside a fraction compares as numbers (PyTorch promotes), not truncated
        expect(binaryFn(op)(ints, 1.5).toArray()).toEqual([1, 2, 3].map((v) => refs[op](v, 1.5)));
        // bool tensors compare as 0/1 against numbers: True == 2 is false
        const bools = wg.tensor([true, false]);
        expect(binaryFn(op)(bools, 2).toArray()).toEqual([1, 0].map((v) => refs[op](v, 2)));
        expect(binaryFn(op)(bools, 1).toArray()).toEqual([1, 0].map((v) => refs[op](v, 1)));
        // mixed dtypes promote (int32 vs float32)
        expect(binaryFn(op)(ints, wg.tensor([1.5, 2, 2.5])).toArray()).toEqual([refs[op](1, 1.5), refs[op](2, 2), refs[op](3, 2.5)]);
        // the method form
        expect((ints as any)[op](2).toArray()).toEqual([1, 2, 3].map((v) => refs[op](v, 2)));
      });
    });
  }

  it('float32 runs against a number (16 lanes at a time, then the tail) give the scalar masks', () => {
    wg.tidy(() => {
      const va = Array.from({ length: 37 }, (_, i) => [0, -0, 2, NaN, -1, Infinity, -Infinity, 2.5][i % 8]);
      const a = wg.tensor(va, { shape: [37] });
      for (const op of Object.keys(refs)) {
        for (const s of [2, 0, NaN]) expect(binaryFn(op)(a, s).toArray()).toEqual(va.map((v) => refs[op](v, s)));
      }
    });
  });

  it('a mask has zero gradient and a function using it still differentiates correctly', () => {
    wg.tidy(() => {
      const x = t64([-1.5, -0.5, 0.5, 2], [4]);
      const f = (v: Tensor) => wg.where(v.gt(0), v.square(), v.mul(-3)).add(v.mul(v.lt(1))).sum();
      const [y, g] = wg.valueAndGrad(f)(x);
      expectClose(y.item(), 4.5 + 1.5 + 0.25 + 4 + (-1.5 - 0.5 + 0.5), 1e-15, 0);
      expectClose(g.toArray(), [-3 + 1, -3 + 1, 1 + 1, 4], 1e-15, 0);
      checkGrad(f, [x]);
      // a value that only flows through a mask has a zero gradient
      const [, g0] = wg.valueAndGrad((v: Tensor) => v.gt(0).to('float64').mul(v.ge(0.5)).sum())(x);
      expect(g0.toArray()).toEqual([0, 0, 0, 0]);
    });
  });
});

describe('unary ops: forward values', () => {
  for (const op of Object.keys(unaryRefs)) {
    it(`${op} matches the scalar reference (float64), on SIMD runs and tails, rank 0 and size 0`, () => {
      const [lo, hi] = domainOf(op);
      wg.tidy(() => {
        for (const n of LENGTHS) {
          const v = uniform(n, lo, hi, 30 + n);
          const y = unaryFn(op)(t64(v, [n]));
          expect(y.dtype).toBe('float64');
          expectClose(y.toArray(), v.map(unaryRefs[op]), 1e-14, 1e-300);
        }
        const v = uniform(1, lo, hi, 77)[0];
        const y0 = unaryFn(op)(t64([v], []));
        expect(y0.shape).toEqual([]);
        expectClose(y0.item(), unaryRefs[op](v), 1e-14, 1e-300);
        const e = unaryFn(op)(t64([], [2, 0, 3]));
        expect(e.shape).toEqual([2, 0, 3]);
        // the method form
        expect((t64([v], [1]) as any)[op]().toArray()).toEqual(unaryFn(op)(t64([v], [1])).toArray());
      });
    });
    it(`${op} on NaN, ±Inf, ±0 and out-of-domain values`, () => {
      const special = [NaN, Infinity, -Infinity, 0, -0, -1, 1e-300, 700, -700, 1e300];
      wg.tidy(() => {
        for (const dtype of ['float64', 'float32'] as const) {
          const want = special.map((x) => (dtype === 'float32' ? Math.fround : (y: number) => y)(unaryRefs[op](dtype === 'float32' ? Math.fround(x) : x)));
          const got = flat(unaryFn(op)(wg.tensor(special, { dtype })).toArray());
          expectClose(got, want, dtype === 'float32' ? 1e-6 : 1e-14, 0);
        }
      });
    });
  }

  it('erf agrees with mpmath within 2 ulp in float64 (odd, ±Inf, NaN)', () => {
    wg.tidy(() => {
      const xs = ERF_MPMATH.map(([x]) => x);
      const got = flat(wg.erf(t64([...xs, ...xs.map((x) => -x)], [2 * xs.length])).toArray());
      ERF_MPMATH.forEach(([x, e], i) => {
        expect(Math.abs(ulpDistance(got[i], e)), `erf(${x}) = ${got[i]}, mpmath ${e}`).toBeLessThanOrEqual(2);
        expect(got[i + xs.length], `erf(-${x})`).toBe(-got[i]);
      });
      expect(flat(wg.erf(t64([Infinity, -Infinity, NaN, 0, -0], [5])).toArray())).toEqual([1, -1, NaN, 0, -0]);
      expect(Object.is(wg.erf(t64([-0], [])).item(), -0)).toBe(true);
    });
  });

  it('PyTorch edge semantics: sign, relu, softplus threshold, sigmoid at ±large', () => {
    wg.tidy(() => {
      for (const dtype of ['float32', 'float64'] as const) {
        const s = flat(wg.sign(wg.tensor([NaN, 0, -0, 3, -2, Infinity, -Infinity, 1e-300], { dtype })).toArray());
        expect(s.map((v) => (Object.is(v, -0) ? 'neg0' : v))).toEqual([0, 0, 0, 1, -1, 1, -1, dtype === 'float32' ? 0 : 1]);
        expect(flat(wg.relu(wg.tensor([-1, 0, 2, NaN, -Infinity, Infinity], { dtype })).toArray())).toEqual([0, 0, 2, NaN, 0, Infinity]);
        expectClose(wg.sigmoid(wg.tensor([1000, -1000, 0, 100, -100], { dtype })).toArray(),
          [1, 0, 0.5, 1, dtype === 'float32' ? 0 : 1 / (1 + Math.exp(100))], 1e-15, 0);
      }
      // softplus is x itself above 20, log1p(exp(x)) at and below
      const sp = flat(wg.softplus(t64([20, 20.5, 1000, -1000], [4])).toArray());
      expectClose(sp[0], Math.log1p(Math.exp(20)), 1e-15, 0);
      expect(sp.slice(1)).toEqual([20.5, 1000, 0]);
      // sigmoid's gradient at ±large is 0, not NaN
      const [, g] = wg.valueAndGrad((x: Tensor) => wg.sigmoid(x).sum())(t64([1000, -1000], [2]));
      expect(g.toArray()).toEqual([0, 0]);
      // softplus's gradient: exactly 1 above the threshold, sigmoid(x) below
      const [, gs] = wg.valueAndGrad((x: Tensor) => wg.softplus(x).sum())(t64([21, 1000, 19, 0], [4]));
      expectClose(gs.toArray(), [1, 1, 1 / (1 + Math.exp(-19)), 0.5], 1e-15, 0);
      // relu's gradient is 0 at 0 (PyTorch's threshold_backward uses result > 0)
      const [, gr] = wg.valueAndGrad((x: Tensor) => wg.relu(x).sum())(t64([-1, 0, 2], [3]));
      expect(gr.toArray()).toEqual([0, 0, 1]);
      // abs's gradient is sign(x): 0 at 0
      const [, ga] = wg.valueAndGrad((x: Tensor) => wg.abs(x).sum())(t64([-2, 0, 3], [3]));
      expect(ga.toArray()).toEqual([-1, 0, 1]);
    });
  });
});

describe('unary ops: gradients (float64 finite differences)', () => {
  for (const op of unaryNames) {
    it(`${op} on [2, 3], rank 0, size 1 and size 0`, () => {
      const [lo, hi] = domainOf(op);
      wg.tidy(() => {
        // sign has a zero derivative almost everywhere: finite differences agree away from 0
        for (const [shape, seed] of [[[2, 3], 1], [[], 2], [[1, 1], 3], [[0, 3], 4], [[9], 5]] as [Shape, number][]) {
          checkGrad(unaryFn(op), [rand64(shape, lo, hi, seed)]);
        }
      });
    });
  }

  it('chains of unary ops compose (second use of the same input accumulates)', () => {
    wg.tidy(() => {
      checkGrad((x) => x.sin().mul(x.exp()).add(x.tanh().square()).sigmoid(), [rand64([3, 2], -1, 1, 6)]);
      checkGrad((x) => x.softplus().add(1).log().sqrt().erf().mul(x.abs()), [rand64([4], 0.2, 2, 7)]);
    });
  });
});

describe('where and clamp', () => {
  it('where on float32 runs (4 lanes at a time, then the tail): tensors or numbers on either side', () => {
    wg.tidy(() => {
      const n = 23, cv = Array.from({ length: n }, (_, i) => (i * 7) % 3 === 0);
      const av = Array.from(new Float32Array(uniform(n, -1, 1, 7))), bv = Array.from(new Float32Array(uniform(n, -1, 1, 8)));
      const c = wg.tensor(cv), a = wg.tensor(av), b = wg.tensor(bv);
      expect(wg.where(c, a, b).toArray()).toEqual(cv.map((k, i) => (k ? av[i] : bv[i])));
      expect(wg.where(c, a, 0).toArray()).toEqual(cv.map((k, i) => (k ? av[i] : 0)));
      expect(wg.where(c, -0.5, b).toArray()).toEqual(cv.map((k, i) => (k ? -0.5 : bv[i])));
    });
  });

  it('where: forward with broadcasting and numbers, gradient to both branches', () => {
    wg.tidy(() => {
      const cv = [1, 0];
      const av = uniform(3, -1, 1, 1), bv = uniform(6, -1, 1, 2);
      const c = wg.tensor([[true], [false]]);
      const want = broadcastRef([[2, 1], [3], [2, 3]], [cv, av, bv], (k, x, y) => (k ? x : y));
      const y = wg.where(c, t64(av, [3]), t64(bv, [2, 3]));
      expect(y.shape).toEqual(want.shape);
      expect(flat(y.toArray())).toEqual(want.values);
      expect(flat(wg.where(c, t64(av, [3]), 7).toArray())).toEqual([...av, 7, 7, 7]);
      expect(flat(wg.where(c, -1, t64(av, [3])).toArray())).toEqual([-1, -1, -1, ...av]);
      // the method form: self where cond, else other
      expect(flat(t64(av, [3]).where(c, 0).toArray())).toEqual([...av, 0, 0, 0]);
      // a non-bool condition means nonzero
      expect(flat(wg.where(t64([2, 0, NaN], [3]), 1, 0).toArray())).toEqual([1, 0, 1]);
      // an int tensor beside a fraction is promoted, not truncated
      const w = wg.where(wg.tensor([true, false]), wg.tensor([1, 2], { dtype: 'int32' }), 0.5);
      expect(w.dtype).toBe('float32');
      expect(w.toArray()).toEqual([1, 0.5]);
      checkGrad((x, z) => wg.where(c, x, z), [rand64([3], -1, 1, 3), rand64([2, 3], -1, 1, 4)]);
      checkGrad((x, z) => wg.where(wg.tensor([true, false, true]), x, z), [rand64([2, 1], -1, 1, 5), rand64([], -1, 1, 6)]);
    });
  });

  it('clamp: forward (one bound, both, min > max gives max, NaN stays) against the reference', () => {
    wg.tidy(() => {
      const v = [-3, -1, -0.5, 0, 0.5, 1, 3, NaN, Infinity];
      const ref = (lo: number, hi: number) => v.map((x) => (Number.isNaN(x) ? x : Math.min(Math.max(x, lo), hi)));
      for (const dtype of ['float32', 'float64'] as const) {
        const x = wg.tensor(v, { dtype });
        expect(flat(x.clamp(-1, 1).toArray())).toEqual(ref(-1, 1));
        expect(flat(x.clamp(0).toArray())).toEqual(ref(0, Infinity));
        expect(flat(wg.clamp(x, null, 0.5).toArray())).toEqual(ref(-Infinity, 0.5));
        expect(flat(x.clamp(2, 1).toArray())).toEqual(v.map((e) => (Number.isNaN(e) ? e : 1)));
      }
    });
  });

  it('clamp: the gradient passes at the bounds inclusive, is 0 outside and at NaN', () => {
    wg.tidy(() => {
      const x = t64([-3, -1, -0.5, 0, 1, 3, NaN], [7]);
      const [, g] = wg.valueAndGrad((v: Tensor) => v.clamp(-1, 1).sum())(x);
      expect(g.toArray()).toEqual([0, 1, 1, 1, 1, 0, 0]);
      const [, gmin] = wg.valueAndGrad((v: Tensor) => v.clamp(-1).sum())(x);
      expect(gmin.toArray()).toEqual([0, 1, 1, 1, 1, 1, 0]);
      const [, gmax] = wg.valueAndGrad((v: Tensor) => v.clamp(null, 1).sum())(x);
      expect(gmax.toArray()).toEqual([1, 1, 1, 1, 1, 0, 0]);
      checkGrad((v) => v.clamp(-0.5, 0.5), [rand64([3, 4], -1, 1, 8)]);
    });
  });
});

describe('casts and dtype promotion', () => {
  it('to / cast: float64 → float32 rounds, float → int32 truncates toward 0, → bool is x != 0', () => {
    wg.tidy(() => {
      const v = [0.1, -2.7, 2.7, 1e10, -0.5, 0, NaN, 3.5];
      const x = t64(v, [8]);
      const f = x.to('float32');
      expect(f.dtype).toBe('float32');
      expect(flat(f.toArray())).toEqual(v.map(Math.fround));
      expect(flat(x.to('int32').toArray()).slice(0, 3)).toEqual([0, -2, 2]);
      expect(flat(x.to('int32').toArray()).slice(4, 6)).toEqual([0, 0]);
      expect(x.to('bool').toArray()).toEqual(v.map((e) => e !== 0));
      expect(wg.cast(wg.tensor([true, false]), 'float64').toArray()).toEqual([1, 0]);
      expect(wg.tensor([-3, 7], { dtype: 'int32' }).double().toArray()).toEqual([-3, 7]);
      expect(wg.tensor([1.5], { dtype: 'float64' }).float().dtype).toBe('float32');
      expect(x.to('float64')).toBe(x); // no copy when the dtype already matches, as PyTorch's .to
      expect(x.clone().toArray()).toEqual(x.toArray());
      expect(x.clone()).not.toBe(x);
    });
  });

  it('gradients flow through float casts in the input dtype', () => {
    wg.tidy(() => {
      const x32 = wg.tensor([0.5, -2, 3]);
      const [, g32] = wg.valueAndGrad((v: Tensor) => v.to('float64').square().sum())(x32);
      expect(g32.dtype).toBe('float32');
      expect(g32.toArray()).toEqual([1, -4, 6]);
      const [, g64] = wg.valueAndGrad((v: Tensor) => v.to('float32').mul(wg.tensor([1, 2, 3])).sum())(t64([1, 2, 3], [3]));
      expect(g64.dtype).toBe('float64');
      expect(g64.toArray()).toEqual([1, 2, 3]);
      checkGrad((v) => v.clone().mul(v), [rand64([3], -1, 1, 9)]);
      // through int32 there is no derivative: the result is a constant
      const [, gi] = wg.valueAndGrad((v: Tensor) => v.to('int32').to('float64').sum().add(v.sum()))(t64([1.5, 2.5], [2]));
      expect(gi.toArray()).toEqual([1, 1]);
    });
  });

  it('int32 and bool operands promote to the float operand (float32 by default)', () => {
    wg.tidy(() => {
      const i = wg.tensor([1, 2, 3], { dtype: 'int32' });
      const b = wg.tensor([true, false, true]);
      const f32 = wg.tensor([0.5, 0.5, 0.5]);
      const f64 = t64([0.25, 0.25, 0.25], [3]);
      expect(i.add(f32).dtype).toBe('float32');
      expect(i.add(f32).toArray()).toEqual([1.5, 2.5, 3.5]);
      expect(i.mul(f64).dtype).toBe('float64');
      expect(i.mul(f64).toArray()).toEqual([0.25, 0.5, 0.75]);
      expect(f64.sub(b).toArray()).toEqual([-0.75, 0.25, -0.75]);
      expect(i.add(1.5).dtype).toBe('float32');
      expect(i.add(1.5).toArray()).toEqual([2.5, 3.5, 4.5]);
      // unary math on int and bool tensors gives float32, as PyTorch's default dtype
      expect(i.sqrt().dtype).toBe('float32');
      expectClose(i.sqrt().toArray(), [1, Math.SQRT2, Math.sqrt(3)].map(Math.fround), 0, 0);
      expect(b.exp().toArray()).toEqual([Math.fround(Math.E), 1, Math.fround(Math.E)]);
      expect(i.div(2).toArray()).toEqual([0.5, 1, 1.5]); // true division
      // integers cannot be differentiated
      expect(() => wg.valueAndGrad((v: Tensor) => v.sum())(i)).toThrow(wg.NotDifferentiableError);
    });
  });
});

describe('float32 against float64', () => {
  // float32 kernels on the same (float32-representable) inputs agree with float64 to
  // REL relative: every op here is within a couple of float32 ulps (2^-23 ≈ 1.2e-7).
  const REL = 1e-6;
  const n = 33;
  const check = (name: string, f: (...xs: Tensor[]) => Tensor, domains: [number, number][]) => {
    const vals = domains.map(([lo, hi], k) => uniform(n, lo, hi, 50 + k).map(Math.fround));
    const y32 = wg.tidy(() => flat(f(...vals.map((v) => t32(v, [n]))).toArray()));
    const y64 = wg.tidy(() => flat(f(...vals.map((v) => t64(v, [n]))).toArray()));
    try {
      expectClose(y32, y64, REL, 0);
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  };
  it('every binary op', () => {
    for (const op of binaryNames) check(op, binaryFn(op), binaryDomain[op]);
    check('pow (wide)', binaryFn('pow'), [[0.01, 30], [-6, 6]]);
  });
  it('every unary op', () => {
    for (const op of unaryNames) check(op, unaryFn(op), [domainOf(op)]);
    check('exp (wide)', unaryFn('exp'), [[-80, 80]]);
    check('sin (wide)', unaryFn('sin'), [[-100, 100]]);
    check('erf (wide)', unaryFn('erf'), [[-5, 5]]);
  });
  it('where, clamp, casts', () => {
    check('where', (a, b) => wg.where(a.gt(0), a, b), [[-1, 1], [-1, 1]]);
    check('clamp', (a) => a.clamp(-0.5, 0.5), [[-1, 1]]);
    check('cast', (a) => a.to('int32').to(a.dtype), [[-100, 100]]);
  });
});

describe('bad input: error class, message, and the runtime still works', () => {
  const stillWorks = () => {
    const [y, g] = wg.valueAndGrad((x: Tensor) => x.square().sum())(t64([3], [1]));
    expect(y.item()).toBe(9);
    expect(g.toArray()).toEqual([6]);
    y.dispose(); g.dispose();
  };
  for (const op of binaryNames) {
    it(`${op}: shapes that do not broadcast`, () => {
      const a = wg.zeros([2, 3]), b = wg.zeros([4]);
      const before = wg.memory().liveTensors;
      expect(() => binaryFn(op)(a, b)).toThrow(wg.ShapeError);
      expect(() => binaryFn(op)(a, b)).toThrow(`${op}: shapes [2, 3] (a) and [4] (b) cannot be broadcast: dim -1 is 3 vs 4`);
      expect(() => binaryFn(op)(a, 'x' as any)).toThrow(wg.ValueError);
      expect(() => binaryFn(op)(a, 'x' as any)).toThrow(`${op}: b must be a Tensor or a number, got string`);
      expect(wg.memory().liveTensors).toBe(before);
      stillWorks();
      a.dispose(); b.dispose();
    });
  }
  for (const op of ['eq', 'lt']) {
    it(`${op}: shapes that do not broadcast`, () => {
      const before = wg.memory().liveTensors;
      expect(() => binaryFn(op)(wg.zeros([2]), wg.zeros([3]))).toThrow(`${op}: shapes [2] (a) and [3] (b) cannot be broadcast`);
      expect(wg.memory().liveTensors).toBe(before + 2);
      stillWorks();
    });
  }
  for (const op of unaryNames) {
    it(`${op}: not a tensor`, () => {
      expect(() => unaryFn(op)([1, 2] as any)).toThrow(wg.ValueError);
      expect(() => unaryFn(op)([1, 2] as any)).toThrow(`${op} (x): expected a Tensor, got Array`);
      expect(() => unaryFn(op)(null as any)).toThrow(`${op} (x): expected a Tensor, got null`);
      stillWorks();
    });
  }
  it('where: shapes that do not broadcast; clamp without bounds; cast to an unknown dtype', () => {
    const x = wg.zeros([2, 3]), c4 = wg.tensor([true, false, true, false]), c1 = wg.tensor([true]), z4 = wg.zeros([4]);
    const before = wg.memory().liveTensors;
    expect(() => wg.where(c4, x, 0)).toThrow(wg.ShapeError);
    expect(() => wg.where(c4, x, 0)).toThrow('where: shapes [4] (cond) and [2, 3] (a) cannot be broadcast: dim -1 is 4 vs 3');
    expect(() => wg.where(c1, x, z4)).toThrow('where: shapes [2, 3] (cond and a) and [4] (b) cannot be broadcast');
    expect(() => wg.clamp(x)).toThrow(wg.ValueError);
    expect(() => wg.clamp(x)).toThrow('clamp: at least one of min and max must be given (x is [2, 3])');
    expect(() => wg.clamp(x, 'a' as any)).toThrow('clamp: min must be a number, got string (a)');
    expect(() => x.to('float16' as any)).toThrow(wg.DTypeError);
    expect(() => x.to('float16' as any)).toThrow("cast: unknown dtype 'float16'");
    // the failed calls left nothing behind (where made a scalar for the 0 and freed it)
    expect(wg.memory().liveTensors).toBe(before);
    wg.dispose([x, c4, c1, z4]);
    stillWorks();
  });
  it('float32 with float64 is a DTypeError naming both operands', () => {
    const a = wg.zeros([2]), b = wg.zeros([2], { dtype: 'float64' });
    expect(() => a.mul(b)).toThrow(wg.DTypeError);
    expect(() => a.mul(b)).toThrow('mul: cannot mix float32 and float64 (a is float32 [2], b is float64 [2])');
    expect(() => wg.where(wg.tensor([true, false]), a, b)).toThrow('where: cannot mix float32 and float64');
    stillWorks();
  });
  it('a disposed operand names the op and the argument', () => {
    const a = wg.zeros([2]);
    const b = wg.zeros([2]);
    b.dispose();
    expect(() => a.add(b)).toThrow(wg.DisposedError);
    expect(() => a.add(b)).toThrow('add (b): tensor');
    expect(() => wg.sub(1, b)).toThrow('sub (b): tensor');
    expect(() => b.mul(2)).toThrow('mul (a): tensor');
    expect(() => b.lt(2)).toThrow('lt (a): tensor');
    expect(() => b.exp()).toThrow('exp (x): tensor');
    stillWorks();
  });
});

describe('logaddexp (added through the op spec, CONTRIBUTING.md)', () => {
  // torch.logaddexp's values: equal arguments (infinities too) give a + log 2; otherwise
  // max + log1p(exp(−|a − b|)), which neither overflows nor loses the smaller term.
  const ref = (a: number, b: number): number => (a === b ? a + Math.LN2 : Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b))));

  it('float64 values against the reference, including huge, tiny, infinite and NaN arguments', () => {
    const a = [0, 1, -3, 1000, -1000, 1e-300, Infinity, -Infinity, -Infinity, Infinity, NaN, 2];
    const b = [0, 2, 5, 1000, -1001, -1e-300, Infinity, -Infinity, 3, -Infinity, 1, NaN];
    const got = wg.tidy(() => flat(wg.logaddexp(t64(a, [12]), t64(b, [12])).toArray()));
    got.forEach((v, i) => {
      const want = ref(a[i], b[i]);
      if (Number.isNaN(want)) expect(v).toBeNaN();
      else expect(v).toBeCloseTo(want, 14);
    });
    expect(got[3]).toBe(1000 + Math.LN2); // where exp would overflow
    expect(got[6]).toBe(Infinity);
    expect(got[7]).toBe(-Infinity);
  });

  it('float32 and broadcasting, as a method too', () => {
    const got = wg.tidy(() => flat(t32([1, 2, 3], [3, 1]).logaddexp(t32([0, 10], [2])).toArray()));
    const want = [1, 2, 3].flatMap((x) => [0, 10].map((y) => Math.fround(ref(x, y))));
    expectClose(got, want, 1e-6, 1e-6);
  });

  it('gradients e^(a−out), e^(b−out) against finite differences; the same values accelerated', () => {
    checkGrad((a: Tensor, b: Tensor) => wg.logaddexp(a, b).square().sum(), [rand64([2, 3], -3, 3, 5), rand64([3], -3, 3, 6)]);
    const f = (a: Tensor, b: Tensor) => wg.logaddexp(a, b);
    const vg = wg.valueAndGrad(f, { argnums: [0, 1] });
    const fast = wg.accelerate(vg);
    const x = t64([0.25], []), y = t64([-1.5], []);
    const eager = wg.tidy(() => { const [v, [ga, gb]] = vg(x, y); return [v.item(), ga.item(), gb.item()]; });
    for (let i = 0; i < 3; i++) {
      const [v, [ga, gb]] = fast(x, y) as [Tensor, Tensor[]];
      expect([v.item(), ga.item(), gb.item()]).toEqual(eager);
    }
    expect(eager[1] + eager[2]).toBeCloseTo(1, 15);
    fast.dispose();
    wg.dispose([x, y]);
  });
});

describe('atan2 (through the op spec)', () => {
  it('values in (−π, π] against the reference, every quadrant, axes, signed zeros, infinities and NaN', () => {
    const a = [1, 1, -1, -1, 0, 0, -0, 0, 1, Infinity, Infinity, -Infinity, 2, NaN, 3e-300];
    const b = [1, -1, 1, -1, 1, -1, -1, 0, 0, Infinity, -2, 5, Infinity, 1, 1e-300];
    const got = wg.tidy(() => flat(wg.atan2(t64(a, [15]), t64(b, [15])).toArray()));
    got.forEach((v, i) => {
      const want = Math.atan2(a[i], b[i]);
      if (Number.isNaN(want)) expect(v).toBeNaN();
      else expect(v).toBeCloseTo(want, 15);
      expect(Object.is(v, -0)).toBe(Object.is(want, -0));
    });
    expect(got[5]).toBe(Math.PI);
    expect(Object.is(got[6], -Math.PI)).toBe(true);
  });

  it('float32, broadcasting and the method; gradients b/(a²+b²), −a/(a²+b²) against finite differences', () => {
    const got = wg.tidy(() => flat(t32([1, -2, 3], [3, 1]).atan2(t32([0.5, -4], [2])).toArray()));
    expectClose(got, [1, -2, 3].flatMap((y) => [0.5, -4].map((x) => Math.fround(Math.atan2(Math.fround(y), Math.fround(x))))), 1e-6, 1e-6);
    checkGrad((a: Tensor, b: Tensor) => wg.atan2(a, b).square().sum(), [rand64([2, 3], 0.5, 2, 8), rand64([3], -2, -0.5, 9)]);
  });
});
