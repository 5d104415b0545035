// init({ threads }): the threads build splits big products over worker threads and must give the
// very bits of one thread — checked against a scalar JS chain (mul, then add, q = 0…k-1, which is
// the order every matmul path uses) for every form, odd row counts around the split, both dtypes,
// gradients, and operands in memory grown after the workers started. Bad options get InitErrors.

import { beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root, run } from './runtimes/harness.js';
import { uniform, matmulReference, expectSameBits } from './helpers.js';

type Wasmgrad = typeof import('../src/index.js');

async function fresh(): Promise<Wasmgrad> {
  vi.resetModules();
  return await import('../src/index.js');
}



describe('init({ threads: 3 })', () => {
  let wg: Wasmgrad;
  beforeAll(async () => {
    wg = await fresh();
    await wg.init({ threads: 3 });
  });

  it('runs with three threads', () => {
    expect(wg.threadCount()).toBe(3);
  });

  // Row counts around the split points (whole register tiles of 4 rows per part, a ragged last
  // part), each with k·n large enough to be split (at least 2^20 multiply-adds).
  const shapes: [number, number, number][] = [[8, 400, 400], [9, 350, 420], [10, 500, 300], [13, 300, 300],
    [17, 256, 300], [33, 130, 250], [133, 150, 67]];
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
      it(`${dtype} products${transA ? ', A transposed' : ''}${transB ? ', B transposed' : ''} give one thread's bits`, () => {
        let seed = 7;
        for (const [m, k, n] of shapes) {
          wg.tidy(() => {
            const av = uniform(m * k, -1, 1, seed++), bv = uniform(k * n, -1, 1, seed++);
            const a = wg.tensor(av, { shape: transA ? [k, m] : [m, k], dtype });
            const b = wg.tensor(bv, { shape: transB ? [n, k] : [k, n], dtype });
            const c = wg.matmulT(a, b, { transA, transB });
            const want = matmulReference(a.data(), b.data(), m, k, n, transA, transB, dtype === 'float32');
            expectSameBits(c.data() as Float32Array, want, `${dtype} ${m}x${k}x${n}`);
          });
        }
      });
    }
  }

  it('gradients (transposed products in the reverse sweep) give one thread\'s bits', () => {
    const [m, k, n] = [37, 300, 200];
    const a = wg.tensor(uniform(m * k, -1, 1, 1), { shape: [m, k] });
    const b = wg.tensor(uniform(k * n, -1, 1, 2), { shape: [k, n] });
    const w = wg.tensor(uniform(m * n, -1, 1, 3), { shape: [m, n] });
    const [, [ga, gb]] = wg.valueAndGrad((p, q) => wg.matmul(p, q).mul(w).sum(), { argnums: [0, 1] })(a, b);
    // d(sum(A·B ⊙ W))/dA = W·Bᵀ and /dB = Aᵀ·W
    expectSameBits(ga.data() as Float32Array, matmulReference(w.data(), b.data(), m, n, k, false, true, true), 'dA');
    expectSameBits(gb.data() as Float32Array, matmulReference(a.data(), w.data(), k, m, n, true, false, true), 'dB');
  });

  it('a CNN\'s loss and gradients (convolutions and pooling split over images) give one thread\'s bits', async () => {
    const one = await fresh();
    await one.init();
    const step = (m: Wasmgrad) => {
      const x = m.tensor(uniform(40 * 28 * 28, 0, 1, 40), { shape: [40, 1, 28, 28] });
      const k1 = m.tensor(uniform(8 * 9, -0.5, 0.5, 41), { shape: [8, 1, 3, 3] });
      const k2 = m.tensor(uniform(16 * 72, -0.2, 0.2, 42), { shape: [16, 8, 3, 3] });
      const block = (h: typeof x, k: typeof x) => m.maxPool2d(m.relu(m.conv2d(h, k, null, { padding: 'same' })), 2);
      const [loss, grads] = m.valueAndGrad((a: typeof x, b: typeof x) => block(block(x, a), b).square().mean(), { argnums: [0, 1] })(k1, k2);
      const out = [loss.data(), ...grads.map((g) => g.data())];
      for (const t of [x, k1, k2, loss, ...grads]) t.dispose();
      return out;
    };
    const want = step(one), got = step(wg);
    for (let i = 0; i < want.length; i++) expectSameBits(got[i] as Float32Array, want[i] as Float32Array, `output ${i}`);
  });

  it('products of tensors in memory grown after the workers started', () => {
    const before = wg.memory().heapBytes;
    const big = wg.zeros([64 * 1024 * 1024 / 4]); // 64 MiB: the memory must grow
    const [m, k, n] = [50, 300, 300];
    const a = wg.tensor(uniform(m * k, -1, 1, 4), { shape: [m, k] });
    const b = wg.tensor(uniform(k * n, -1, 1, 5), { shape: [k, n] });
    expect(wg.memory().heapBytes).toBeGreaterThan(before);
    expectSameBits(wg.matmul(a, b).data() as Float32Array, matmulReference(a.data(), b.data(), m, k, n, false, false, true), 'after growth');
    big.dispose();
  });

  it('accelerate compiles scalar programs on the shared memory too, with the same bits', () => {
    const f = (x: InstanceType<Wasmgrad['Tensor']>, y: InstanceType<Wasmgrad['Tensor']>) => x.mul(x.square().add(y.square()).mul(-0.5).exp());
    const vg = wg.valueAndGrad(f, { argnums: [0, 1] });
    const fast = wg.accelerate(vg);
    const x = wg.tensor(2, { dtype: 'float64' }), y = wg.tensor(0.5, { dtype: 'float64' });
    const read = (r: any) => [r[0].item(), r[1][0].item(), r[1][1].item()];
    const want = wg.tidy(() => read(vg(x, y)));
    expect(read(fast(x, y))).toEqual(want);
    expect(read(fast(x, y))).toEqual(want);
    expect(fast.programs[0].compiled).toBe(true);
    // the seed's exact values (reference/seed-example.md)
    expect(want[1]).toBeCloseTo(-0.358298904800159, 14);
    fast.clearCache();
  });

  it('another thread count after init is an error; the same one is fine', async () => {
    await expect(wg.init({ threads: 2 })).rejects.toThrow(
      /init: wasmgrad is already initialised with 3 thread\(s\); threads \(2\) are chosen by the first init\(\) of a program/);
    await expect(wg.init({ threads: 3 })).resolves.toBeUndefined();
    await expect(wg.init()).resolves.toBeUndefined();
    expect(wg.matmul(wg.ones([2, 2]), wg.ones([2, 2])).toArray()).toEqual([[2, 2], [2, 2]]);
  });
});

describe('a worker that dies', () => {
  it('leaves its product to the calling thread, which goes on alone with the same bits', async () => {
    const wg = await fresh();
    await wg.init({ threads: 2 });
    const runtime = await import('../src/runtime.js'); // the fresh copy's module state
    // What src/thread-worker.ts writes when a worker's job throws.
    runtime.views();
    runtime.I32[runtime.wasm.matmulWorkerDeadAddress() >> 2] = 1;
    const [m, k, n] = [60, 300, 200];
    const a = wg.tensor(uniform(m * k, -1, 1, 21), { shape: [m, k] }), b = wg.tensor(uniform(k * n, -1, 1, 22), { shape: [k, n] });
    const want = matmulReference(a.data(), b.data(), m, k, n, false, false, true);
    expectSameBits(wg.matmul(a, b).data() as Float32Array, want, 'the product the worker was to share');
    expect(runtime.wasm.matmulWorkers()).toBe(0);
    expectSameBits(wg.matmul(a, b).data() as Float32Array, want, 'the next product, on one thread');
  });
});

describe('init options: clear errors', () => {
  const cases: [unknown, RegExp][] = [
    [{ threads: 0 }, /init: threads must be an integer from 1 to 16, got 0/],
    [{ threads: 2.5 }, /init: threads must be an integer from 1 to 16, got 2.5/],
    [{ threads: 17 }, /init: threads must be an integer from 1 to 16, got 17/],
    [{ threads: '2' }, /init: threads must be an integer from 1 to 16, got 2/],
    // an unknown key is the option schemas' ValueError, as for every function (InitError otherwise)
    [{ thread: 2 }, /init: unknown option 'thread'. Did you mean 'threads'\? \(valid keys: 'threads', 'worker'\)/],
    [{ threads: 2, worker: 7 }, /init: worker must be a URL or a URL string \(the worker script\), got number/],
    [{ threads: 2, worker: path.join(root, 'no-such-worker.js') }, /init: starting 1 worker thread\(s\) failed: .*no-such-worker\.js/],
  ];
  for (const [options, message] of cases) {
    it(`${JSON.stringify(options)}`, async () => {
      const wg = await fresh();
      const error = await wg.init(options as never).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf('thread' in (options as object) ? wg.ValueError : wg.InitError);
      expect((error as Error).message).toMatch(message);
      // nothing was started: the library is still uninitialised, and a good init works
      expect(() => wg.tensor([1])).toThrow(/call 'await init\(\)' first/);
      await wg.init();
      expect(wg.tensor([1, 2]).sum().item()).toBe(3);
    });
  }

  it('threads with a module that owns its memory (not the threads build)', async () => {
    const wg = await fresh();
    const bytes = new Uint8Array(readFileSync(path.join(root, 'build/out/wasmgrad.wasm')));
    const error = await wg.init(bytes, { threads: 2 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(wg.InitError);
    expect((error as Error).message).toMatch(/init: threads: 2 needs the threads build, wasmgrad.threads.wasm \(it imports a shared memory that the workers use too\); the module given has its own memory/);
    await wg.init(bytes);
    expect(wg.threadCount()).toBe(1);
  });

  it('the threads build also runs on one thread', async () => {
    const wg = await fresh();
    await wg.init(new Uint8Array(readFileSync(path.join(root, 'build/out/wasmgrad.threads.wasm'))));
    expect(wg.threadCount()).toBe(1);
    const [m, k, n] = [40, 300, 300];
    const a = wg.tensor(uniform(m * k, -1, 1, 8), { shape: [m, k] }), b = wg.tensor(uniform(k * n, -1, 1, 9), { shape: [k, n] });
    expectSameBits(wg.matmul(a, b).data() as Float32Array, matmulReference(a.data(), b.data(), m, k, n, false, false, true), 'threads build, 1 thread');
  });
});

describe('a program with threads exits by itself', () => {
  it('with the worker script named by the worker option', { timeout: 30_000 }, async () => {
    const script = "import * as wg from './dist/index.js'; await wg.init({ threads: 2, worker: './build/out/wasmgrad.worker.js' }); " +
      "console.log(wg.threadCount(), wg.matmul(wg.ones([64, 300]), wg.ones([300, 64])).sum().item());";
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 20_000 });
    expect(stdout.trim()).toBe(`2 ${64 * 64 * 300}`);
  });

  it('Node does not wait for the idle workers', { timeout: 30_000 }, async () => {
    const script = "import * as wg from './dist/index.js'; await wg.init({ threads: 2 }); " +
      "console.log(wg.matmul(wg.ones([64, 300]), wg.ones([300, 64])).sum().item());";
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 20_000 });
    expect(stdout.trim()).toBe(String(64 * 64 * 300));
  });
});
