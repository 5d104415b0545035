// Sizes and shapes: src/sizes.ts on its own (products at the int32 edge, 2^53 and beyond, NaN,
// negative and fractional sizes, messages that survive Symbols and BigInts), then every bad call
// of the hardening probe. Each bad call must throw a named error (ValueError, AxisError,
// ShapeError or OutOfMemoryError, never a TypeError, a RangeError, a trap or an abort) whose
// message names the op, the argument and the value or shape; afterwards no tensor and no byte is
// left over, no scope is open, and the seed computation is still exact.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { wg } from './helpers.js';
import type { Tensor } from '../src/index.js';
import {
  product, checkSize, checkInteger, checkShape, checkNumel, checkExtent, checkIntegerTree, integerProblem,
  stridesOf, show, showList, itemSize, INT32_MAX, MAX_ELEMENTS, MAX_TENSOR_BYTES,
} from '../src/sizes.js';
import { permutation } from '../src/train/data.js';

beforeAll(async () => { await wg.init(); });

const FOUR_GIB = 4 * 2 ** 30;
afterEach(() => { wg.setMemoryLimit(FOUR_GIB); });

// ————————————————————————————————————————————————————————— the seed computation

// f(x1, x2) = x1·exp(−½(x1² + x2²)) at (2, ½), in float64, against plain JS math.
const X1 = 2, X2 = 0.5;
const E = Math.exp(-0.5 * (X1 * X1 + X2 * X2));
const SEED_VALUE = X1 * E;
const SEED_GRAD = [E * (1 - X1 * X1), -X1 * X2 * E];
const seedF = (a: Tensor, b: Tensor): Tensor => a.mul(a.square().add(b.square()).mul(-0.5).exp());

function expectRel(actual: number, expected: number, rel = 1e-14): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(rel * Math.abs(expected));
}

/** The seed example's value and gradient are exact, and it leaves nothing behind. */
function seedStillExact(): void {
  const before = wg.memory();
  wg.tidy(() => {
    const [y, [g1, g2]] = wg.valueAndGrad(seedF, { argnums: [0, 1] })(
      wg.tensor(X1, { dtype: 'float64' }), wg.tensor(X2, { dtype: 'float64' }));
    expectRel(y.item() as number, SEED_VALUE);
    expectRel(g1.item() as number, SEED_GRAD[0]);
    expectRel(g2.item() as number, SEED_GRAD[1]);
  });
  const after = wg.memory();
  expect(after.liveTensors).toBe(before.liveTensors);
  expect(after.liveBytes).toBe(before.liveBytes);
  expect(after.scopeDepth).toBe(0);
}

/**
 * `bad` throws exactly `cls` (a WasmgradError, never a TypeError/RangeError) with every part in
 * its message; memory() is unchanged (tensors, bytes, scopes) and the seed computation is exact.
 */
function refused(bad: () => unknown, cls: new (...a: any[]) => Error, parts: (string | RegExp)[]): Error {
  const before = wg.memory();
  let caught: unknown;
  try { bad(); } catch (e) { caught = e; }
  expect(caught, 'no error was thrown').toBeInstanceOf(cls);
  expect(caught).toBeInstanceOf(wg.WasmgradError);
  const e = caught as Error;
  expect(e.name).toBe(cls.name);
  for (const p of parts) {
    if (typeof p === 'string') expect(e.message).toContain(p);
    else expect(e.message).toMatch(p);
  }
  const after = wg.memory();
  expect(after.liveTensors, 'live tensors after the error').toBe(before.liveTensors);
  expect(after.liveBytes, 'live bytes after the error').toBe(before.liveBytes);
  expect(after.scopeDepth, 'open scopes after the error').toBe(before.scopeDepth);
  seedStillExact();
  return e;
}

/** The same bad call at top level, inside a tidy and inside a differentiated function. */
function refusedEverywhere(bad: () => unknown, cls: new (...a: any[]) => Error, parts: (string | RegExp)[]): void {
  refused(bad, cls, parts);
  refused(() => wg.tidy(() => { wg.ones([3]); bad(); }), cls, parts);
  const x = wg.tensor([1, 2], { dtype: 'float64' });
  refused(() => wg.valueAndGrad((v: Tensor) => { bad(); return v.sum(); })(x), cls, parts);
  x.dispose();
}

// ————————————————————————————————————————————————————————— sizes.ts itself

describe('sizes.ts: product', () => {
  it('is exact up to 2^53 − 1, at and around the int32 edge', () => {
    expect(product([])).toBe(1);
    expect(product([2, 3, 4])).toBe(24);
    expect(product([INT32_MAX])).toBe(INT32_MAX);
    expect(product([INT32_MAX, 1])).toBe(INT32_MAX);
    expect(product([2 ** 16, 2 ** 15])).toBe(2 ** 31);
    expect(product([46341, 46341])).toBe(2147488281); // just past int32
    expect(product([46340, 46340])).toBe(2147395600); // just under it
    expect(product([INT32_MAX, INT32_MAX])).toBe(Infinity); // ≈ 2^62: beyond 2^53, saturated
    expect(product([2 ** 53 - 1])).toBe(2 ** 53 - 1);
    expect(product([2 ** 26, 2 ** 26, 2 ** 1 - 1])).toBe(2 ** 52);
  });

  it('saturates to Infinity beyond 2^53 − 1, never a rounded product', () => {
    expect(product([2 ** 26, 2 ** 27])).toBe(Infinity); // exactly 2^53
    expect(product([2 ** 27, 2 ** 27])).toBe(Infinity);
    expect(product([3, 2 ** 52])).toBe(Infinity);
    expect(product(new Array(40).fill(2 ** 31 - 1))).toBe(Infinity); // never NaN or a float overflow
  });

  it('a zero size makes the product 0 whatever the other sizes', () => {
    expect(product([0, INT32_MAX, INT32_MAX])).toBe(0);
    expect(product([2 ** 53 - 1, 2 ** 53 - 1, 0])).toBe(0);
  });

  it('NaN, negative, fractional, unsafe and non-number sizes are a ValueError naming op and argument', () => {
    const bad: [unknown, string][] = [[NaN, 'NaN'], [-1, '-1'], [1.5, '1.5'], [2 ** 53, '9007199254740992'],
      [Infinity, 'Infinity'], ['3', 'the string "3"'], [3n, 'the bigint 3'], [Symbol('s'), 'a symbol'], [null, 'null'],
      [{}, 'an object'], [-0.5, '-0.5']];
    for (const [v, shown] of bad) {
      let e: unknown;
      try { product([2, v], 'myop', 'dims'); } catch (err) { e = err; }
      expect(e, `product of ${shown}`).toBeInstanceOf(wg.ValueError);
      expect((e as Error).message).toContain('myop: dims');
      expect((e as Error).message).toContain(`invalid entry ${shown} at position 1`);
    }
  });
});

describe('sizes.ts: checkSize, checkInteger, integerProblem', () => {
  it('accepts integers from 0 to 2^31 − 1 and returns them', () => {
    for (const v of [0, 1, 7, INT32_MAX]) expect(checkSize('op', 'n', v)).toBe(v);
    expect(checkSize('op', 'n', -1, -1)).toBe(-1);
  });

  it('refuses everything else with the op, the argument and the value', () => {
    const cases: [unknown, RegExp][] = [
      [-1, /^op: n must be a non-negative integer, got -1$/],
      [1.5, /^op: n must be a non-negative integer, got 1\.5$/],
      [NaN, /got NaN$/], [Infinity, /got Infinity$/], [-Infinity, /got -Infinity$/],
      [2 ** 31, /^op: n is 2147483648, more than 2147483647, the largest size/],
      [2 ** 53, /^op: n is 9007199254740992, more than 2147483647/],
      ['2', /got the string "2"$/], [2n, /got the bigint 2$/], [Symbol('x'), /got a symbol$/],
      [null, /got null$/], [undefined, /got undefined$/], [{}, /got an object$/], [[2], /got an array$/],
    ];
    for (const [v, re] of cases) {
      expect(() => checkSize('op', 'n', v)).toThrow(wg.ValueError);
      expect(() => checkSize('op', 'n', v)).toThrow(re);
    }
    expect(() => checkSize('op', 'k', 0, 1)).toThrow(/^op: k must be an integer >= 1, got 0$/);
    expect(() => checkSize('op', 'k', 11, 1, 10)).toThrow(/^op: k must be an integer from 1 to 10, got 11$/);
  });

  it('checkInteger takes negative safe integers and refuses unsafe ones', () => {
    expect(checkInteger('op', 'offset', -(2 ** 53 - 1))).toBe(-(2 ** 53 - 1));
    expect(checkInteger('op', 'offset', 2 ** 53 - 1)).toBe(2 ** 53 - 1);
    expect(() => checkInteger('op', 'offset', 2 ** 53)).toThrow(/^op: offset must be a safe integer/);
    expect(() => checkInteger('op', 'offset', -(2 ** 53))).toThrow(/^op: offset must be a safe integer/);
    expect(() => checkInteger('op', 'offset', 0.5)).toThrow(wg.ValueError);
  });

  it('integerProblem says nothing for a good value', () => {
    expect(integerProblem(5, 0, 10)).toBeUndefined();
    expect(integerProblem(11, 0, 10)).toContain('got 11');
  });
});

describe('sizes.ts: checkShape', () => {
  it('returns a fresh array of sizes from an array or a typed array', () => {
    const s = [2, 3];
    const out = checkShape('op', s);
    expect(out).toEqual([2, 3]);
    expect(out).not.toBe(s);
    expect(checkShape('op', Int32Array.from([4, 0]))).toEqual([4, 0]);
    expect(checkShape('op', [])).toEqual([]);
    expect(checkShape('op', 5, 'shape', { allowNumber: true })).toEqual([5]);
  });

  it('-1 entries only where asked for: one to infer, or many to keep', () => {
    expect(checkShape('op', [-1, 2], 'shape', { minusOne: 'one' })).toEqual([-1, 2]);
    expect(() => checkShape('op', [-1, -1], 'shape', { minusOne: 'one' })).toThrow(/only one size may be -1/);
    expect(checkShape('op', [-1, -1, 3], 'shape', { minusOne: 'many' })).toEqual([-1, -1, 3]);
    expect(() => checkShape('op', [-1, 2])).toThrow(wg.ValueError);
    expect(() => checkShape('op', [-2, 2], 'shape', { minusOne: 'one' })).toThrow(/invalid size -2 at position 0/);
  });

  it('refuses a non-array, a rank above 8 and bad entries, naming op, argument, shape and position', () => {
    expect(() => checkShape('zeros', 5)).toThrow(/^zeros: shape must be an array of sizes, got 5$/);
    expect(() => checkShape('zeros', '23')).toThrow(/^zeros: shape must be an array of sizes, got the string "23"$/);
    expect(() => checkShape('zeros', {})).toThrow(/got an object$/);
    expect(() => checkShape('zeros', Symbol('s'))).toThrow(/got a symbol$/);
    expect(() => checkShape('zeros', new DataView(new ArrayBuffer(4)))).toThrow(/got a DataView$/);
    expect(() => checkShape('zeros', new Array(9).fill(1))).toThrow(wg.ShapeError);
    expect(() => checkShape('zeros', new Array(9).fill(1))).toThrow(/rank 9; at most 8 dims/);
    const entry: [unknown, string][] = [[Symbol('s'), 'a symbol'], [2n, '2n'], [NaN, 'NaN'], [-1, '-1'], [2.5, '2.5'],
      [2 ** 31, '2147483648'], ['1', 'the string "1"']];
    for (const [v, shown] of entry) {
      expect(() => checkShape('zeros', [2, v])).toThrow(wg.ValueError);
      expect(() => checkShape('zeros', [2, v], 'options.shape')).toThrow(`zeros: options.shape [2, ${shown}] has an invalid size`);
    }
  });
});

describe('sizes.ts: checkNumel', () => {
  it('returns the element count of a shape a tensor can have', () => {
    expect(checkNumel('op', [], 'float32')).toBe(1);
    expect(checkNumel('op', [2, 3], 'float64')).toBe(6);
    expect(checkNumel('op', [46340, 46340], 'bool')).toBe(2147395600);
    expect(checkNumel('op', [INT32_MAX], 'bool')).toBe(INT32_MAX);
    expect(checkNumel('op', [MAX_TENSOR_BYTES / 4], 'float32')).toBe(MAX_TENSOR_BYTES / 4); // exactly alloc's limit
    expect(checkNumel('op', [0, INT32_MAX], 'float32')).toBe(0);
  });

  it('more than 2^31 − 1 elements is an OutOfMemoryError with the requested bytes', () => {
    const e = (() => { try { checkNumel('op', [46341, 46341], 'bool'); } catch (err) { return err; } })() as InstanceType<typeof wg.OutOfMemoryError>;
    expect(e).toBeInstanceOf(wg.OutOfMemoryError);
    expect(e.message).toContain('op: out of memory: the result of shape [46341, 46341] (bool) needs 2147488281 bytes (2147488281 elements)');
    expect(e.requestedBytes).toBe(2147488281);
    expect(e.availableBytes).toBeGreaterThan(0);
    expect(() => checkNumel('op', [2 ** 16, 2 ** 15], 'float32')).toThrow(wg.OutOfMemoryError);
  });

  it('more bytes than alloc hands out (0xfff00000) is an OutOfMemoryError', () => {
    expect(() => checkNumel('op', [MAX_TENSOR_BYTES / 4 + 1], 'float32')).toThrow(wg.OutOfMemoryError);
    expect(() => checkNumel('op', [2 ** 30], 'float32')).toThrow(/needs 4294967296 bytes \(1073741824 elements\)/);
    expect(() => checkNumel('op', [INT32_MAX], 'int32')).toThrow(/needs 8589934588 bytes/);
  });

  it('products past 2^53 are reported approximately, never as a wrapped or negative size', () => {
    expect(() => checkNumel('op', [INT32_MAX, INT32_MAX, INT32_MAX], 'float32'))
      .toThrow(/needs about 3\.961e\+28 bytes \(about 9\.904e\+27 elements\)/);
    expect(() => checkNumel('op', [Infinity], 'float32')).toThrow(wg.OutOfMemoryError);
  });

  it('an empty tensor whose strides would still overflow int32 is a ValueError', () => {
    expect(() => checkNumel('op', [0, INT32_MAX, 2], 'float32')).toThrow(wg.ValueError);
    expect(() => checkNumel('op', [0, 2 ** 16, 2 ** 15], 'float32')).toThrow(/no elements, but its dims or strides exceed 2147483647/);
    expect(() => checkNumel('op', [0, 2 ** 31], 'float32')).toThrow(wg.ValueError);
  });

  it('negative, fractional and NaN sizes are a ValueError; rank above 8 a ShapeError', () => {
    expect(() => checkNumel('op', [2, -3], 'float32')).toThrow(/op: the result would have shape \[2, -3\], with an invalid size -3 at position 1/);
    expect(() => checkNumel('op', [2.5], 'float32')).toThrow(wg.ValueError);
    expect(() => checkNumel('op', [NaN], 'float32')).toThrow(wg.ValueError);
    expect(() => checkNumel('op', new Array(9).fill(1), 'float32')).toThrow(wg.ShapeError);
  });
});

describe('sizes.ts: the rest', () => {
  it('show and showList never throw', () => {
    const cyclic: unknown[] = [1];
    cyclic.push(cyclic);
    expect(show(Symbol('s'))).toBe('a symbol');
    expect(show(5n)).toBe('the bigint 5');
    expect(show(-0)).toBe('-0');
    expect(show(NaN)).toBe('NaN');
    expect(show(Object.create(null))).toBe('an object');
    expect(showList([1, Symbol('s'), 2n, 'a', null, cyclic])).toBe('[1, a symbol, 2n, the string "a", null, an array]');
    expect(showList(cyclic)).toBe('[1, an array]');
    expect(showList(new Array(20).fill(0))).toContain(', … (20 entries)]');
    expect(showList(Symbol('x'))).toBe('a symbol');
  });

  it('stridesOf, itemSize, checkExtent, checkIntegerTree', () => {
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
    expect(stridesOf([2, 0, 4])).toEqual([4, 4, 1]);
    expect([itemSize('float64'), itemSize('float32'), itemSize('int32'), itemSize('bool')]).toEqual([8, 4, 4, 1]);
    expect(checkExtent('op', 'x', INT32_MAX)).toBe(INT32_MAX);
    expect(() => checkExtent('op', 'the padded extent', INT32_MAX + 1)).toThrow(/^op: the padded extent is 2147483648/);
    expect(MAX_ELEMENTS).toBe(INT32_MAX);
    checkIntegerTree('op', 'indices', [[1, 2], [3, -4]]);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => checkIntegerTree('op', 'indices', cyclic)).toThrow(/op: indices is nested more than 8 deep \(or contains itself\)/);
    expect(() => checkIntegerTree('op', 'indices', [1, 2 ** 31])).toThrow(/holds 2147483648, which is out of range/);
    expect(() => checkIntegerTree('op', 'indices', [1, 1n])).toThrow(/got the bigint 1/);
  });
});

// ————————————————————————————————————————————————————————— the probe's bad calls

describe('calls that killed the process', () => {
  it('repeatInterleave(tensor([1, 2, 3]), 2^26): out of memory under a 128 MiB limit, never an abort', () => {
    const x = wg.tensor([1, 2, 3]);
    wg.setMemoryLimit(128 << 20);
    refused(() => wg.repeatInterleave(x, 2 ** 26), wg.OutOfMemoryError, ['repeatInterleave', 'out of memory']);
    wg.setMemoryLimit(FOUR_GIB);
    // sizes no tensor can have are refused at once, whatever the limit
    refused(() => wg.repeatInterleave(x, 2 ** 30), wg.OutOfMemoryError,
      ['repeatInterleave', 'out of memory', 'shape [3221225472]', '3221225472 elements']);
    refused(() => wg.repeatInterleave(x, [2 ** 30, 2 ** 30, 2 ** 30]), wg.OutOfMemoryError, ['repeatInterleave', '[3221225472]']);
    refused(() => wg.repeatInterleave(x, 2 ** 31), wg.ValueError, ['repeatInterleave', 'repeats is 2147483648']);
    refused(() => wg.repeatInterleave(x, [2 ** 31]), wg.ValueError, ['repeatInterleave', 'repeats', '2147483648', 'out of range']);
    refused(() => wg.repeatInterleave(x, Symbol('r') as any), wg.ValueError, ['repeatInterleave', 'repeats', 'a symbol']);
    x.dispose();
  });

  it('repeatInterleave still gives the right values and gradients (expand for one count, an index for several)', () => {
    wg.tidy(() => {
      expect(wg.repeatInterleave(wg.tensor([1, 2, 3]), 2).toArray()).toEqual([1, 1, 2, 2, 3, 3]);
      expect(wg.repeatInterleave(wg.tensor([[1, 2], [3, 4]]), 2, 0).toArray()).toEqual([[1, 2], [1, 2], [3, 4], [3, 4]]);
      expect(wg.repeatInterleave(wg.tensor([[1, 2], [3, 4]]), 2, 1).toArray()).toEqual([[1, 1, 2, 2], [3, 3, 4, 4]]);
      expect(wg.repeatInterleave(wg.tensor([[1, 2], [3, 4]]), [1, 2], -1).toArray()).toEqual([[1, 2, 2], [3, 4, 4]]);
      expect(wg.repeatInterleave(wg.tensor([[1, 2], [3, 4]]), [3]).toArray()).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
      expect(wg.repeatInterleave(wg.tensor(5), 3).toArray()).toEqual([5, 5, 5]);
      expect(wg.repeatInterleave(wg.tensor([1, 2]), 0).shape).toEqual([0]);
      expect(wg.repeatInterleave(wg.tensor([true, false]), [0, 2]).toArray()).toEqual([false, false]);
      const w = wg.tensor([1, 10, 100, 1000, 10000, 100000], { dtype: 'float64' });
      const g1 = wg.grad((v: Tensor) => wg.repeatInterleave(v, 2).mul(w).sum())(wg.tensor([1, 2, 3], { dtype: 'float64' }));
      expect(g1.toArray()).toEqual([11, 1100, 110000]);
      const g2 = wg.grad((v: Tensor) => wg.repeatInterleave(v, [3, 0, 3]).mul(w).sum())(wg.tensor([1, 2, 3], { dtype: 'float64' }));
      expect(g2.toArray()).toEqual([111, 0, 111000]);
    });
  });

  it("oneHot(tensor([2^31 − 1], { dtype: 'int32' })): 2^31 classes is out of memory at once", () => {
    const t = wg.tensor([2 ** 31 - 1], { dtype: 'int32' });
    refused(() => wg.oneHot(t), wg.OutOfMemoryError, ['oneHot', 'out of memory', '[1, 2147483648]', '2147483648 elements']);
    t.dispose();
  });

  it('oneHot(t, 2^28): out of memory under a 128 MiB limit; numClasses beyond int32 or not an integer is a ValueError', () => {
    const t = wg.tensor([1, 0], { dtype: 'int32' });
    wg.setMemoryLimit(128 << 20);
    refused(() => wg.oneHot(t, 2 ** 28), wg.OutOfMemoryError, ['oneHot', 'out of memory']);
    wg.setMemoryLimit(FOUR_GIB);
    refused(() => wg.oneHot(t, 2 ** 31), wg.ValueError, ['oneHot', 'numClasses is 2147483648']);
    refused(() => wg.oneHot(t, 1.5), wg.ValueError, ['oneHot', 'numClasses', '1.5']);
    refused(() => wg.oneHot(t, Symbol('c') as any), wg.ValueError, ['oneHot', 'numClasses', 'a symbol']);
    refused(() => wg.oneHot(t, 2 ** 30), wg.OutOfMemoryError, ['oneHot', '[2, 1073741824]']);
    expect(wg.tidy(() => wg.oneHot(t, 3).toArray())).toEqual([[0, 1, 0], [1, 0, 0]]);
    expect(wg.tidy(() => wg.oneHot(wg.tensor([[2]], { dtype: 'int32' })).toArray())).toEqual([[[0, 0, 1]]]);
    t.dispose();
  });

  it('randperm(2^30) is an OutOfMemoryError at once (4 GiB of int32), not minutes of shuffling', () => {
    const t0 = Date.now();
    refused(() => wg.randperm(2 ** 30), wg.OutOfMemoryError, ['randperm', 'out of memory', '[1073741824]', '4294967296 bytes']);
    expect(Date.now() - t0).toBeLessThan(5000);
    refused(() => wg.randperm(2 ** 31), wg.ValueError, ['randperm', 'n is 2147483648']);
    refused(() => wg.randperm(-1), wg.ValueError, ['randperm', 'n must be a non-negative integer, got -1']);
    refused(() => wg.randperm(3n as any), wg.ValueError, ['randperm', 'the bigint 3']);
    // the shuffle in wasm memory is the same seeded permutation as before
    wg.tidy(() => {
      expect(Array.from(wg.randperm(50, { seed: 7 }).data())).toEqual(Array.from(permutation(50, wg.seededRandom(7))));
      expect(wg.randperm(0).shape).toEqual([0]);
    });
  });
});

describe('calls that poisoned the runtime', () => {
  it('diag(x, 2^31) after a tidy is out of memory, and valueAndGrad works after it (and after every nearby offset)', () => {
    const x = wg.tensor([1, 2]);
    wg.tidy(() => wg.ones([3]).add(1));
    refused(() => wg.diag(x, 2 ** 31), wg.OutOfMemoryError, ['diag', 'out of memory', '[2147483650, 2147483650]']);
    // the offsets whose N·N wrapped to a small i32 (and made pad write outside its output)
    for (const k of [2 ** 31 + 1, 2 ** 31 - 1, 2 ** 31 - 2, 2 ** 31 - 3, 2 ** 31 - 4, 2 ** 32, 2 ** 30, -(2 ** 31), 2 ** 16]) {
      refused(() => wg.tidy(() => wg.diag(x, k)), wg.OutOfMemoryError, ['diag', 'out of memory']);
    }
    refusedEverywhere(() => wg.diag(x, 2 ** 31), wg.OutOfMemoryError, ['diag']);
    refused(() => wg.diag(x, 2 ** 53), wg.ValueError, ['diag', 'offset', '9007199254740992']);
    // a 2-D x gives the (empty) diagonal at any offset
    wg.tidy(() => {
      const m = wg.tensor([[1, 2], [3, 4]]);
      expect(wg.diag(m, 2 ** 31).shape).toEqual([0]);
      expect(wg.diag(m, -(2 ** 40)).shape).toEqual([0]);
      expect(wg.diag(m, 1).toArray()).toEqual([2]);
      expect(wg.diag(x, -1).toArray()).toEqual([[0, 0, 0], [1, 0, 0], [0, 2, 0]]);
    });
    seedStillExact();
    x.dispose();
  });
});

describe('shapes that overflowed int32', () => {
  it('conv2d with padding 2^30: out of memory for [1, 4, 2147483651, 2147483651], liveBytes unchanged', () => {
    const x = wg.zeros([1, 1, 3, 3]), w = wg.zeros([4, 1, 1, 1]);
    refusedEverywhere(() => wg.conv2d(x, w, null, { padding: 2 ** 30 }), wg.OutOfMemoryError,
      ['conv2d', 'out of memory', '[1, 4, 2147483651, 2147483651]']);
    // a small output over a padded extent beyond int32 cannot be indexed by the kernels
    refused(() => wg.conv2d(x, w, null, { padding: 2 ** 30, stride: 2 ** 30 }), wg.ValueError,
      ['conv2d', 'padded extent of spatial dim 0 is 2147483651']);
    refused(() => wg.conv2d(x, w, null, { padding: 2 ** 31 }), wg.ValueError, ['conv2d', 'padding must be non-negative integers, got 2147483648']);
    refused(() => wg.conv2d(x, w, null, { stride: [1, Symbol('s')] as any }), wg.ValueError, ['conv2d', 'stride', '[1, a symbol]']);
    refused(() => wg.conv2d(x, w, null, { dilation: 2n as any }), wg.ValueError, ['conv2d', 'dilation', 'the bigint 2']);
    refused(() => wg.conv2d(x, w, null, { groups: 2 ** 31 }), wg.ValueError, ['conv2d', 'groups', '2147483648']);
    wg.dispose([x, w]);
  });

  it('conv1d with padding 2^30: out of memory, no tensor left behind', () => {
    const x = wg.zeros([1, 1, 3]), w = wg.zeros([4, 1, 1]), b = wg.zeros([4]);
    refusedEverywhere(() => wg.conv1d(x, w, b, { padding: 2 ** 30 }), wg.OutOfMemoryError, ['conv1d', 'out of memory', '[1, 4, 2147483651]']);
    wg.dispose([x, w, b]);
  });

  it("conv im2col columns larger than a tensor can be are out of memory before the kernel runs", () => {
    const x = wg.zeros([1, 1, 1, 2 ** 16]), w = wg.zeros([1, 1, 1, 2 ** 15]);
    refused(() => wg.conv2d(x, w), wg.OutOfMemoryError, ['conv2d', 'im2col columns of one image']);
    wg.dispose([x, w]);
  });

  it('convTranspose2d with dilation or stride 2^30: out of memory', () => {
    const x = wg.zeros([1, 1, 3, 3]), w = wg.zeros([1, 1, 2, 2]);
    refusedEverywhere(() => wg.convTranspose2d(x, w, null, { dilation: 2 ** 30 }), wg.OutOfMemoryError,
      ['convTranspose2d', 'out of memory', '[1, 1, 1073741827, 1073741827]']);
    refusedEverywhere(() => wg.convTranspose2d(x, w, null, { stride: 2 ** 30 }), wg.OutOfMemoryError,
      ['convTranspose2d', 'out of memory', '[1, 1, 2147483650, 2147483650]']);
    const x1 = wg.zeros([1, 1, 3]), w1 = wg.zeros([1, 1, 2]);
    refused(() => wg.convTranspose1d(x1, w1, null, { stride: 2 ** 30, padding: 2 ** 30 }), wg.ValueError, ['convTranspose1d', 'padded extent']);
    wg.dispose([x, w, x1, w1]);
  });

  it('adaptiveAvgPool1d/2d with outputSize 2^31 is a ValueError; a valid size too large is out of memory', () => {
    const x1 = wg.zeros([1, 1, 3]), x2 = wg.zeros([1, 1, 3, 3]);
    refused(() => wg.adaptiveAvgPool1d(x1, 2 ** 31), wg.ValueError, ['adaptiveAvgPool1d', 'outputSize', '2147483648']);
    refused(() => wg.adaptiveAvgPool2d(x2, 2 ** 31), wg.ValueError, ['adaptiveAvgPool2d', 'outputSize', '2147483648']);
    refused(() => wg.adaptiveAvgPool2d(x2, [2 ** 16, 2 ** 16]), wg.OutOfMemoryError, ['adaptiveAvgPool2d', '[1, 1, 65536, 65536]']);
    refused(() => wg.adaptiveAvgPool2d(x2, [Symbol('o'), 2] as any), wg.ValueError, ['adaptiveAvgPool2d', 'outputSize', 'a symbol']);
    refused(() => wg.maxPool2d(x2, 2 ** 31), wg.ValueError, ['maxPool2d', 'kernelSize', '2147483648']);
    refused(() => wg.maxPool1d(x1, 2, { stride: 1, dilation: 2 ** 30 }), wg.ShapeError, ['maxPool1d', 'larger than']);
    refused(() => wg.maxPool1d(x1, 2, { stride: 1, dilation: 2 ** 31 }), wg.ValueError, ['maxPool1d', 'dilation', '2147483648']);
    refused(() => wg.avgPool2d(x2, 2, { stride: 1n as any }), wg.ValueError, ['avgPool2d', 'stride', 'the bigint 1']);
    wg.dispose([x1, x2]);
  });

  it('maxUnpool2d: an outputSize that is not an array, or too large, is refused', () => {
    const x = wg.zeros([1, 1, 2, 2]), idx = wg.zeros([1, 1, 2, 2], { dtype: 'int32' });
    refused(() => wg.maxUnpool2d(x, idx, 2, { outputSize: {} as any }), wg.ValueError, ['maxUnpool2d', 'outputSize', 'an object']);
    refused(() => wg.maxUnpool2d(x, idx, 2 ** 30), wg.OutOfMemoryError, ['maxUnpool2d', 'out of memory']);
    wg.dispose([x, idx]);
  });
});

describe('wrong types where sizes, shapes and axes belong: a named error, never a TypeError', () => {
  it('axes given as an object, a Symbol, a BigInt, a string or a fraction', () => {
    const x = wg.ones([2, 3]);
    refused(() => wg.sum(x, {} as any), wg.ValueError, ['sum: axes must be an integer, an array of integers or null', 'an object']);
    refused(() => wg.sum(x, Symbol('a') as any), wg.ValueError, ['sum', 'axes', 'a symbol']);
    refused(() => wg.sum(x, 1n as any), wg.ValueError, ['sum', 'axes', 'the bigint 1']);
    refused(() => wg.mean(x, '0' as any), wg.ValueError, ['mean', 'axes', 'the string "0"']);
    refused(() => wg.sum(x, [Symbol('a')] as any), wg.ValueError, ['sum', 'axis', 'a symbol']);
    refused(() => wg.sum(x, [0, 1n] as any), wg.ValueError, ['sum', 'axis', 'the bigint 1']);
    refused(() => wg.sum(x, 0.5), wg.AxisError, ['sum', 'axis 0.5']);
    refused(() => wg.amax(x, [0, 0]), wg.AxisError, ['amax', 'axis 0 appears more than once in [0, 0]']);
    refused(() => x.squeeze({} as any), wg.ValueError, ['squeeze', 'axes', 'an object']);
    refused(() => x.permute({} as any), wg.ValueError, ['permute', 'dims', 'an object']);
    refused(() => x.permute([0, Symbol('d')] as any), wg.ValueError, ['permute', 'dim', 'a symbol']);
    refused(() => x.transpose(Symbol('d') as any), wg.ValueError, ['transpose', 'a symbol']);
    refused(() => x.unsqueeze(Symbol('d') as any), wg.ValueError, ['unsqueeze', 'axis', 'a symbol']);
    refused(() => x.flip(2n as any), wg.ValueError, ['flip', 'dims', 'the bigint 2']);
    refused(() => x.cumsum(Symbol('d') as any), wg.ValueError, ['cumsum', 'axis', 'a symbol']);
    refused(() => wg.vectorNorm(x, 2, { axes: {} as any }), wg.ValueError, ['vectorNorm', 'axes', 'an object']);
    refused(() => wg.vectorNorm(x, 2n as any), wg.ValueError, ['vectorNorm', 'ord', 'the bigint 2']);
    refused(() => wg.concat([x, x], Symbol('a') as any), wg.ValueError, ['concat', 'axis', 'a symbol']);
    x.dispose();
  });

  it('a number, an object or a Symbol where a shape belongs', () => {
    const x = wg.ones([2, 3]);
    refused(() => wg.reshape(x, 6 as any), wg.ValueError, ['reshape: shape must be an array of sizes, got 6']);
    refused(() => x.reshape({} as any), wg.ValueError, ['reshape', 'shape', 'an object']);
    refused(() => x.reshape([2, Symbol('s')] as any), wg.ValueError, ['reshape', 'a symbol']);
    refused(() => x.reshape([2, 3n] as any), wg.ValueError, ['reshape', '3n']);
    refused(() => x.reshape([2 ** 31, 0]), wg.ValueError, ['reshape', '2147483648']);
    refused(() => x.reshape([-1, -1]), wg.ShapeError, ['reshape', 'only one size may be -1']);
    refused(() => x.broadcastTo(3 as any), wg.ValueError, ['broadcastTo', 'shape must be an array']);
    refused(() => x.expand([2 ** 20, 2 ** 20, 2, 3]), wg.OutOfMemoryError, ['broadcastTo', 'out of memory', '[1048576, 1048576, 2, 3]']);
    refused(() => x.expand([2 ** 31, 2, 3]), wg.ValueError, ['broadcastTo', '2147483648']);
    refused(() => x.expand([-1, 2, 3]), wg.ValueError, ['broadcastTo', '-1 in a new leading dim']);
    wg.tidy(() => { expect(x.expand([4, -1, -1]).shape).toEqual([4, 2, 3]); });
    refused(() => wg.zeros(5 as any), wg.ValueError, ['zeros: shape must be an array of sizes, got 5']);
    refused(() => wg.ones([Symbol('s')] as any), wg.ValueError, ['ones', 'a symbol']);
    refused(() => wg.full(['2'] as any, 1), wg.ValueError, ['full', 'the string "2"']);
    refused(() => wg.rand({} as any), wg.ValueError, ['rand: shape must be an array of sizes or a number, got an object']);
    refused(() => wg.randn(Symbol('s') as any), wg.ValueError, ['randn', 'a symbol']);
    refused(() => wg.tensor([1, 2], { shape: 2 as any }), wg.ValueError, ['tensor', 'options.shape', 'array of sizes']);
    refused(() => wg.tensor([1, 2], { shape: [2n] as any }), wg.ValueError, ['tensor', 'options.shape', '2n']);
    refused(() => x.tile({} as any), wg.ValueError, ['tile', 'reps']);
    refused(() => x.repeat([1, Symbol('r')] as any), wg.ValueError, ['repeat', 'repeats[1]', 'a symbol']);
    refused(() => x.pad([0, Symbol('p')] as any), wg.ValueError, ['pad', 'pads[1]']);
    const cyclic: unknown[] = [2];
    cyclic.push(cyclic);
    refused(() => wg.zeros(cyclic as any), wg.ValueError, ['zeros', 'an array']);
    x.dispose();
  });

  it('mean(null) and other non-tensors', () => {
    refused(() => wg.mean(null as any), wg.ValueError, ['mean (x)', 'expected a Tensor', 'null']);
    refused(() => wg.sum(Symbol('x') as any), wg.ValueError, ['sum', 'expected a Tensor', 'symbol']);
    refused(() => wg.reshape(5n as any, [1]), wg.ValueError, ['reshape (x)', 'expected a Tensor', 'bigint']);
  });

  it('a nested array that contains itself, or is nested too deep, given to tensor() or as indices', () => {
    const self: unknown[] = [];
    self.push(self);
    refused(() => wg.tensor(self as any), wg.ValueError, ['tensor', 'contains itself']);
    const inner: unknown[] = [1];
    inner.push(inner);
    refused(() => wg.tensor(inner as any), wg.ShapeError, ['tensor', 'ragged', 'data[1]']);
    const deep = [[[[[[[[[1]]]]]]]]];
    refused(() => wg.tensor(deep as any), wg.ShapeError, ['tensor', 'nested more than 8 deep']);
    const x = wg.ones([3]);
    refused(() => x.indexSelect(0, self as any), wg.ValueError, ['indexSelect', 'nested more than 8 deep (or contains itself)']);
    refused(() => x.gather(0, [1, 2 ** 31]), wg.ValueError, ['gather', 'out of range']);
    refused(() => wg.oneHot(self as any), wg.ValueError, ['oneHot', 'contains itself']);
    const table = wg.ones([2, 2]);
    refused(() => wg.embedding(self as any, table), wg.ValueError, ['embedding']);
    table.dispose();
    refused(() => wg.tensor([1, Symbol('v')] as any), wg.ValueError, ['tensor', 'data[1]', 'symbol']);
    refused(() => wg.tensor([1, 2n] as any), wg.ValueError, ['tensor', 'data[1]', 'bigint']);
    x.dispose();
  });

  it('tensor([1], null): options must be an object', () => {
    refused(() => wg.tensor([1], null as any), wg.ValueError, ['tensor: options must be an object', 'null']);
  });

  it('tensor(new BigInt64Array(2)) is a ValueError before anything is allocated', () => {
    refused(() => wg.tensor(new BigInt64Array(2) as any), wg.ValueError, ['tensor', 'BigInt64Array', 'Number()']);
    refused(() => wg.tensor(new BigUint64Array(3) as any), wg.ValueError, ['tensor', 'BigUint64Array']);
    refused(() => wg.tensor(new DataView(new ArrayBuffer(8)) as any), wg.ValueError, ['tensor', 'DataView']);
  });
});

describe('calls that were accepted silently', () => {
  it("tensor([2^31], { dtype: 'int32' }) is a ValueError instead of wrapping", () => {
    refused(() => wg.tensor([2 ** 31], { dtype: 'int32' }), wg.ValueError, ['tensor', 'value 2147483648 (element 0)', 'int32']);
    refused(() => wg.tensor([0, -(2 ** 31) - 1], { dtype: 'int32' }), wg.ValueError, ['tensor', '-2147483649 (element 1)']);
    refused(() => wg.tensor([NaN], { dtype: 'int32' }), wg.ValueError, ['tensor', 'NaN']);
    refused(() => wg.tensor([Infinity], { dtype: 'int32' }), wg.ValueError, ['tensor', 'Infinity']);
    refused(() => wg.tensor(new Float64Array([1, 2 ** 40]), { dtype: 'int32' }), wg.ValueError, ['tensor', '1099511627776 (element 1)']);
    refused(() => wg.tensor(new Uint32Array([2 ** 32 - 1]), { dtype: 'int32' }), wg.ValueError, ['tensor', '4294967295']);
    wg.tidy(() => {
      expect(wg.tensor([2 ** 31 - 1, -(2 ** 31)], { dtype: 'int32' }).toArray()).toEqual([2 ** 31 - 1, -(2 ** 31)]);
      expect(wg.tensor([1.7, -1.7, 2147483647.5], { dtype: 'int32' }).toArray()).toEqual([1, -1, 2147483647]); // truncated, as PyTorch
      expect(wg.tensor(Int32Array.from([-5, 7])).toArray()).toEqual([-5, 7]);
      expect(wg.tensor([true, false], { dtype: 'int32' }).toArray()).toEqual([1, 0]);
    });
  });

  it('new Tensor(-5).add(1) is refused: the id must name a live tensor record', () => {
    const Tensor = wg.Tensor as unknown as new (id: unknown) => Tensor;
    refused(() => new Tensor(-5).add(1), wg.ValueError, ['Tensor: -5 is not the id of a tensor']);
    for (const id of [0, 1.5, NaN, 2 ** 31, 2 ** 40, '1', 1n, Symbol('i'), null, undefined]) {
      refused(() => new Tensor(id), wg.ValueError, ['Tensor:', 'is not the id of a tensor']);
    }
    const t = wg.tensor([1, 2]);
    const id = (t as any).id as number;
    const again = new Tensor(id);
    expect(again.toArray()).toEqual([1, 2]);
    t.dispose();
    refused(() => new Tensor(id), wg.DisposedError, [`Tensor: id ${id} names no live tensor`]);
    refused(() => new Tensor(100000), wg.ValueError, ['Tensor: 100000 is not the id of a tensor']);
  });
});

describe('every size-taking op refuses sizes no tensor can have', () => {
  it('creation: zeros/ones/full/rand/randn/arange/linspace/eye', () => {
    refused(() => wg.zeros([2 ** 16, 2 ** 16]), wg.OutOfMemoryError, ['zeros', 'out of memory', '[65536, 65536]']);
    refused(() => wg.ones([2 ** 31]), wg.ValueError, ['ones', '2147483648']);
    refused(() => wg.full([46341, 46341], 1, { dtype: 'bool' }), wg.OutOfMemoryError, ['full', '2147488281 elements']);
    refused(() => wg.rand([2 ** 31]), wg.ValueError, ['rand', '[2147483648]']);
    refused(() => wg.randn(2 ** 30), wg.OutOfMemoryError, ['randn', 'out of memory']);
    refused(() => wg.uniform([2 ** 30], 0, 1, { dtype: 'float64' }), wg.OutOfMemoryError, ['uniform']);
    refused(() => wg.arange(0, 2 ** 31, 1, { dtype: 'float32' }), wg.OutOfMemoryError, ['arange', 'out of memory', '2147483648 elements']);
    refused(() => wg.arange(0, 1, 2 ** -40), wg.OutOfMemoryError, ['arange', 'out of memory']);
    refused(() => wg.arange(2 ** 31), wg.ValueError, ['arange', 'int32']);
    refused(() => wg.arange(Symbol('e') as any), wg.ValueError, ['arange', 'end', 'a symbol']);
    refused(() => wg.linspace(0, 1, 2 ** 31), wg.ValueError, ['linspace', 'steps is 2147483648']);
    refused(() => wg.linspace(0, 1, 2 ** 30), wg.OutOfMemoryError, ['linspace', 'out of memory']);
    refused(() => wg.linspace(0, 1, 3n as any), wg.ValueError, ['linspace', 'steps', 'the bigint 3']);
    refused(() => wg.eye(2 ** 16), wg.OutOfMemoryError, ['eye', '[65536, 65536]']);
    refused(() => wg.eye(2 ** 31), wg.ValueError, ['eye', 'n is 2147483648']);
    refused(() => wg.eye(2, Symbol('m') as any), wg.ValueError, ['eye', 'm', 'a symbol']);
  });

  it('shape ops: repeat, tile, pad, concat, stack', () => {
    const x = wg.ones([2, 3]);
    refused(() => x.repeat(2 ** 16, 2 ** 16), wg.OutOfMemoryError, ['repeat', 'out of memory', '[131072, 196608]']);
    refused(() => x.repeat(1, 2 ** 31), wg.ValueError, ['repeat', 'repeats[1] is 2147483648']);
    refused(() => x.tile([2 ** 31]), wg.ValueError, ['tile', 'reps[0] is 2147483648']);
    refused(() => x.tile(2 ** 30, 2 ** 30), wg.OutOfMemoryError, ['repeat', 'out of memory']);
    refused(() => x.pad([2 ** 31 - 1, 0]), wg.OutOfMemoryError, ['pad', 'out of memory', '[2, 2147483650]']);
    refused(() => x.pad([2 ** 31, 0]), wg.OutOfMemoryError, ['pad', 'out of memory']);
    refused(() => x.pad([0, 0, 2 ** 30, 2 ** 30]), wg.OutOfMemoryError, ['pad', '[2147483650, 3]']);
    const table = wg.ones([4, 2 ** 12]), idx = wg.zeros([2 ** 20], { dtype: 'int32' });
    refused(() => wg.embedding(idx, table), wg.OutOfMemoryError, ['embedding', 'out of memory', '[1048576, 4096]']);
    wg.dispose([table, idx]);
    const wide = wg.zeros([1, 2 ** 20], { dtype: 'bool' });
    refused(() => wg.concat(new Array(2100).fill(wide), 1), wg.OutOfMemoryError, ['concat', 'out of memory']);
    refused(() => wg.stack(new Array(2100).fill(wide), 0), wg.OutOfMemoryError, ['stack', 'out of memory']);
    wg.dispose([x, wide]);
  });

  it('linalg: qr in complete mode of a tall matrix', () => {
    const a = wg.zeros([100000, 1]);
    refused(() => wg.qr(a, { mode: 'complete' }), wg.OutOfMemoryError, ['qr', 'out of memory', 'Q of shape [100000, 100000]']);
    a.dispose();
    wg.tidy(() => { expect(wg.qr(wg.eye(3).slice([[0, 3], [0, 2]]), { mode: 'complete' })[0].shape).toEqual([3, 3]); });
  });

  it('the runtime is whole at the end: no leftover tensors or scopes, the seed still exact', () => {
    expect(wg.memory().scopeDepth).toBe(0);
    seedStillExact();
  });
});
