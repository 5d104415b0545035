// Errors: each bad call throws the right WasmgradError subclass with a message that names the op,
// the argument and the shapes or values; afterwards the runtime works and no tensor is left over.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose } from './helpers.js';
import { expectError, stillWorks } from './nn-helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

describe('validation errors', () => {
  it('shape mismatch in a binary op (ShapeError)', () => {
    const a = wg.ones([2, 3]), b = wg.ones([2]);
    expectError(() => a.add(b), wg.ShapeError, ['add', '[2, 3] (a)', '[2] (b)', 'dim -1 is 3 vs 2']);
    // also inside a differentiated function and a tidy
    expectError(() => wg.valueAndGrad((x: Tensor) => x.mul(b).sum())(a), wg.ShapeError, ['mul', '[2, 3] (a)', '[2] (b)']);
    expectError(() => wg.tidy(() => wg.ones([4, 1]).sub(wg.ones([3, 2]))), wg.ShapeError, ['sub', '[4, 1] (a)', '[3, 2] (b)', 'dim -2 is 4 vs 3']);
    wg.dispose([a, b]);
  });

  it('a disposed tensor (DisposedError) names the op and the argument', () => {
    const a = wg.ones([2]), b = wg.ones([2]);
    b.dispose();
    expect(b.isAlive).toBe(false);
    expectError(() => a.mul(b), wg.DisposedError, ['mul (b)', 'disposed']);
    expectError(() => b.exp(), wg.DisposedError, ['exp (x)']);
    expectError(() => b.toArray(), wg.DisposedError, ['data']);
    expectError(() => wg.valueAndGrad((x: Tensor) => x.sum())(b), wg.DisposedError, ['valueAndGrad (argument 0)']);
    b.dispose(); // disposing twice is harmless
    a.dispose();
  });

  it('mixing float32 and float64 (DTypeError) names both operands', () => {
    const a = wg.ones([3]), b = wg.ones([3], { dtype: 'float64' });
    expectError(() => a.sub(b), wg.DTypeError, ['sub', 'float32 and float64', 'a is float32 [3]', 'b is float64 [3]']);
    expectError(() => wg.valueAndGrad((x: Tensor) => x.mul(b).sum())(a), wg.DTypeError, ['mul', 'a is float32 [3]', 'b is float64 [3]']);
    wg.dispose([a, b]);
  });

  it('the gradient of a non-scalar output (NotDifferentiableError) names the output shape', () => {
    const x = wg.ones([3]);
    expectError(() => wg.valueAndGrad((v: Tensor) => v.mul(2))(x), wg.NotDifferentiableError,
      ['valueAndGrad', 'output', 'scalar', 'shape [3]']);
    expectError(() => wg.grad((v: Tensor) => [v.sum()] as any)(x), wg.NotDifferentiableError, ['grad', 'an array']);
    const ints = wg.tensor([1, 2], { dtype: 'int32' });
    expectError(() => wg.valueAndGrad((v: Tensor) => v.sum())(ints), wg.NotDifferentiableError,
      ['valueAndGrad', 'argument 0', 'int32', '[2]']);
    ints.dispose();
    expectError(() => wg.dlfeval((v: Tensor) => wg.dlgradient(v.mul(3), v), x), wg.NotDifferentiableError,
      ['dlgradient', 'scalar', 'shape [3]']);
    x.dispose();
  });

  it('an axis out of range (AxisError, a ShapeError)', () => {
    const x = wg.ones([2, 3]);
    const e = expectError(() => wg.sum(x, 5), wg.AxisError, ['sum', 'axis 5', 'rank 2', '[-2, 1]']);
    expect(e).toBeInstanceOf(wg.ShapeError);
    expectError(() => x.sum(-3), wg.AxisError, ['sum', 'axis -3']);
    x.dispose();
  });

  it('a reshape to a wrong size (ShapeError)', () => {
    const x = wg.ones([2, 3]);
    expectError(() => x.reshape([4, 2]), wg.ShapeError, ['reshape', '[2, 3] (6 elements)', '[4, 2] (8 elements)']);
    expectError(() => wg.reshape(x, [-1, 4]), wg.ShapeError, ['reshape', '[2, 3]', '[-1, 4]']);
    x.dispose();
  });

  it('ragged nested arrays passed to tensor (ShapeError)', () => {
    expectError(() => wg.tensor([[1, 2], [3]]), wg.ShapeError, ['tensor', 'ragged', 'data[1]', 'length 1', 'expected length 2', '[2, 2]']);
    expectError(() => wg.tensor([[1, 2], 3] as any), wg.ShapeError, ['tensor', 'ragged', 'data[1]']);
    expectError(() => wg.tensor([1, [2, 3]] as any), wg.ShapeError, ['tensor', 'ragged', 'data[1]', 'is an array']);
    expectError(() => wg.tensor([[[1], [2]], [[3], [4, 5]]]), wg.ShapeError, ['data[1][1]', 'length 2', 'expected length 1']);
    expectError(() => wg.tensor([1, 2, 3], { shape: [2, 2] }), wg.ShapeError, ['tensor', '3 values', '[2, 2]']);
  });

  it('non-numeric entries passed to tensor (ValueError)', () => {
    expectError(() => wg.tensor([1, null] as any), wg.ValueError, ['tensor', 'data[1]', 'null']);
    expectError(() => wg.tensor([[1, 'a']] as any), wg.ValueError, ['tensor', 'data[0][1]', 'string', '(a)']);
    expectError(() => wg.tensor([undefined, 1] as any), wg.ValueError, ['tensor', 'data[0]', 'undefined']);
    expectError(() => wg.tensor([1, 2, { v: 3 }] as any), wg.ValueError, ['tensor', 'data[2]', 'object']);
    expectError(() => wg.tensor([1, true]), wg.ValueError, ['tensor', 'mixes booleans and numbers']);
    expectError(() => wg.zeros([2, -1]), wg.ValueError, ['zeros', '[2, -1]', '-1']);
    expectError(() => wg.zeros([2.5]), wg.ValueError, ['zeros', '2.5']);
  });

  it('dlgradient outside dlfeval, and of an untraced tensor', () => {
    const x = wg.ones([2]), s = x.sum();
    expectError(() => wg.dlgradient(s, x), wg.NotDifferentiableError, ['dlgradient', 'inside', 'dlfeval']);
    const c = wg.ones([2]);
    expectError(() => wg.dlfeval((v: Tensor) => wg.dlgradient(v.mul(c).sum(), c), x), wg.NotDifferentiableError,
      ['dlgradient', 'not traced', '[2]']);
    wg.dispose([x, c, s]);
  });

  it('a tensor used after its tidy ended (DisposedError)', () => {
    let inner: Tensor | undefined;
    const kept = wg.tidy(() => { inner = wg.ones([2]).mul(3); return wg.ones([1]); });
    expect(inner!.isAlive).toBe(false);
    expectError(() => inner!.add(1), wg.DisposedError, ['add (a)', 'scope']);
    expectError(() => wg.add(kept, inner!), wg.DisposedError, ['add (b)']);
    expect(kept.isAlive).toBe(true);
    kept.dispose();
  });
});

describe('scope limits and settings', () => {
  it('a tidy returning more than 16000 tensors fails, frees them and closes its scope', () => {
    expectError(() => wg.tidy(() => Array.from({ length: 16001 }, () => wg.zeros([1]))), wg.WasmgradError,
      ['tidy', '16000', 'got 16001']);
    // just under the limit works
    const kept = wg.tidy(() => Array.from({ length: 16000 }, (_, i) => wg.full([1], i)));
    expect(kept[15999].item()).toBe(15999);
    wg.dispose(kept);
  });

  it('setMemoryLimit rejects what is not a byte count', () => {
    expectError(() => wg.setMemoryLimit(NaN), wg.ValueError, ['setMemoryLimit', 'NaN']);
    expectError(() => wg.setMemoryLimit(-1), wg.ValueError, ['setMemoryLimit', '-1']);
  });
});

describe('errors thrown by the user function', () => {
  class Boom extends Error {}
  const fns = {
    valueAndGrad: (f: (x: Tensor) => Tensor, x: Tensor) => wg.valueAndGrad(f)(x),
    grad: (f: (x: Tensor) => Tensor, x: Tensor) => wg.grad(f)(x),
    dlfeval: (f: (x: Tensor) => Tensor, x: Tensor) => wg.dlfeval((v: Tensor) => wg.dlgradient(f(v), v), x),
    tidy: (f: (x: Tensor) => Tensor, x: Tensor) => wg.tidy(() => f(x)),
    'nested valueAndGrad': (f: (x: Tensor) => Tensor, x: Tensor) => wg.grad((v: Tensor) => wg.grad(f)(v).sum())(x),
  };
  for (const [name, run] of Object.entries(fns)) {
    it(`${name}: the error propagates unchanged, leaves no tensors behind, and a later valueAndGrad works`, () => {
      const x = wg.tensor([1, 2, 3], { dtype: 'float64' });
      const before = wg.memory();
      const boom = new Boom('boom');
      const f = (v: Tensor) => {
        const y = v.exp().mul(v).add(1);
        y.sin();
        if (y.numel() === 3) throw boom;
        return y.sum();
      };
      expect(() => run(f, x)).toThrow(boom);
      expect(wg.memory().liveTensors).toBe(before.liveTensors);
      expect(wg.memory().liveBytes).toBe(before.liveBytes);
      expect(wg.memory().scopeDepth).toBe(0);
      // the tape was closed too: a later first-order gradient is exact
      stillWorks();
      x.dispose();
    });
  }

  it('an error caught inside a differentiated function leaves the gradient intact', () => {
    const x = wg.tensor([0.5, 2], { dtype: 'float64' });
    const before = wg.memory().liveTensors;
    const [y, g] = wg.valueAndGrad((v: Tensor) => {
      try { wg.tidy(() => { v.mul(2).add(wg.ones([3], { dtype: 'float64' })); }); } catch { /* shapes do not fit */ }
      return v.square().sum();
    })(x);
    expect(y.item()).toBe(4.25);
    expect(g.toArray()).toEqual([1, 4]);
    wg.dispose([y, g]);
    expect(wg.memory().liveTensors).toBe(before);
  });
});

describe('out of memory', () => {
  it('a tensor larger than wasm memory can hold: requested and available bytes', () => {
    const e = expectError(() => wg.zeros([1 << 20, 1 << 20]), wg.OutOfMemoryError,
      ['zeros', 'out of memory', '[1048576, 1048576]', `${4 * 2 ** 40} bytes`, 'available']) as InstanceType<typeof wg.OutOfMemoryError>;
    expect(e.requestedBytes).toBe(4 * 2 ** 40);
    expect(e.availableBytes).toBeGreaterThan(0);
    expect(e.message).toContain(`${e.availableBytes} bytes are available`);
    // more elements than a tensor can count, though the bytes would fit
    expectError(() => wg.zeros([50000, 50000], { dtype: 'bool' }), wg.OutOfMemoryError, ['zeros', '2500000000 elements']);
  });

  it('a broadcast result too large for wasm memory reports the bytes it needed', () => {
    const a = wg.zeros([65536, 1]), b = wg.zeros([1, 65536]);
    const e = expectError(() => a.add(b), wg.OutOfMemoryError, ['add', 'out of memory', `requested ${4 * 2 ** 32} bytes`]) as
      InstanceType<typeof wg.OutOfMemoryError>;
    expect(e.requestedBytes).toBe(4 * 2 ** 32);
    wg.dispose([a, b]);
  });

  it('real wasm-side exhaustion under setMemoryLimit, inside a tidy; the limit restored, memory returns', () => {
    const before = wg.memory();
    const piece = (10 << 20) / 4; // 10 MiB of float32
    let made = 0;
    wg.setMemoryLimit(64 << 20);
    try {
      const e = expectError(() => wg.tidy(() => {
        for (let i = 0; i < 10; i++) { wg.zeros([piece]); made++; }
      }), wg.OutOfMemoryError, ['zeros', 'out of memory', `requested ${10 << 20} bytes`, 'limit 67108864 bytes']) as
        InstanceType<typeof wg.OutOfMemoryError>;
      expect(e.requestedBytes).toBe(10 << 20);
      expect(e.availableBytes).toBeLessThan(10 << 20);
      expect(made).toBeGreaterThan(0);
      expect(made).toBeLessThan(7);
      // under the limit the runtime works: what fits still fits
      wg.tidy(() => { wg.zeros([piece]); });
      // a gradient that does not fit fails cleanly too
      const x = wg.zeros([piece]);
      expectError(() => wg.valueAndGrad((v: Tensor) => v.exp().mul(v).sin().sum())(x), wg.OutOfMemoryError, ['out of memory']);
      x.dispose();
    } finally {
      wg.setMemoryLimit(4 * 2 ** 30);
    }
    expect(wg.memory().liveTensors).toBe(before.liveTensors);
    expect(wg.memory().liveBytes).toBe(before.liveBytes);
    // with the limit restored, 100 MiB fits
    wg.tidy(() => {
      const ts = Array.from({ length: 10 }, () => wg.ones([piece]));
      expectClose(ts[9].sum().item(), piece, 0, 0);
    });
    expect(wg.memory().liveTensors).toBe(before.liveTensors);
    expect(wg.memory().liveBytes).toBe(before.liveBytes);
    stillWorks();
  });
});
