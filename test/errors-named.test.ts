// Named errors for wrong arguments and settings (the hardened runtime): every case below throws a
// WasmgradError subclass naming the function, the argument and what it got — never a raw
// TypeError, RangeError or ENOENT — leaves no tensor behind, and the runtime computes correctly
// afterwards. File errors (IOError), layer settings checked at construction (PyTorch's rules),
// functional options, disposed modules and optimizers, functions checked when given (async ones
// refused before they run, returned promises never left unhandled), and derivative operators
// that fail without leaking.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { wg, expectClose, flat } from './helpers.js';
import { expectError, stillWorks } from './nn-helpers.js';
import type { Tensor } from '../src/index.js';

const { nn, optim, io } = wg;
const F64 = { dtype: 'float64' } as const;

beforeAll(async () => { await wg.init(); });

/** An async `bad`: it rejects with `cls` and every part in the message; no tensor is left and the runtime works. */
async function expectRejection(bad: () => Promise<unknown>, cls: new (...a: any[]) => Error, parts: (string | RegExp)[]): Promise<Error> {
  const before = wg.memory();
  let caught: unknown;
  try { await bad(); } catch (e) { caught = e; }
  expect(caught, 'no error was thrown').toBeInstanceOf(cls);
  expect(caught).toBeInstanceOf(wg.WasmgradError);
  for (const p of parts) {
    if (typeof p === 'string') expect((caught as Error).message).toContain(p);
    else expect((caught as Error).message).toMatch(p);
  }
  expect(wg.memory().liveTensors).toBe(before.liveTensors);
  stillWorks();
  return caught as Error;
}

/** Runs `run`, then waits a few ticks: no promise it left behind may become an unhandled rejection. */
async function noUnhandledRejection(run: () => void): Promise<void> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => { seen.push(reason); };
  process.on('unhandledRejection', listener);
  try {
    run();
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
  } finally {
    process.off('unhandledRejection', listener);
  }
  expect(seen).toEqual([]);
}

// ———————————————————————————————————————————————————————————— 1. io: IOError

describe('io.load / io.save with a path: file-system errors are IOErrors', () => {
  let dir = '';
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'wasmgrad-errors-named-')); });
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

  it('a missing file: IOError naming io.load, the path and ENOENT, with the cause', async () => {
    const path = join(dir, 'missing.safetensors');
    const e = await expectRejection(() => io.load(path), wg.IOError, ['io.load', `'${path}'`, 'cannot read', 'ENOENT', 'no such file or directory']);
    expect((e as InstanceType<typeof wg.IOError>).path).toBe(path);
    expect((e.cause as { code?: string }).code).toBe('ENOENT');
    // the same with a network to load into, and with a file URL
    const net = new nn.Linear(2, 1);
    await expectRejection(() => io.load(path, net), wg.IOError, ['io.load', 'ENOENT']);
    const url = new URL(`file://${path}`);
    const u = await expectRejection(() => io.load(url), wg.IOError, ['io.load', url.href, 'ENOENT']);
    expect((u as InstanceType<typeof wg.IOError>).path).toBe(url.href);
    net.dispose();
  });

  it('a directory instead of a file, and a save into a missing directory', async () => {
    await expectRejection(() => io.load(dir), wg.IOError, ['io.load', `'${dir}'`, 'EISDIR']);
    const net = new nn.Linear(2, 1);
    const path = join(dir, 'no-such-dir', 'net.safetensors');
    const e = await expectRejection(() => io.save(net, path), wg.IOError, ['io.save', 'cannot write', `'${path}'`, 'ENOENT']);
    expect((e as InstanceType<typeof wg.IOError>).path).toBe(path);
    // a good path still saves and loads
    const good = join(dir, 'net.safetensors');
    await io.save(net, good);
    const copy = await io.load(good, new nn.Linear(2, 1));
    expect(copy.weight.toArray()).toEqual(net.weight.toArray());
    copy.dispose();
    net.dispose();
  });

  it('a file that is read but malformed is still a SafetensorsError, not an IOError', async () => {
    const path = join(dir, 'junk.safetensors');
    writeFileSync(path, new Uint8Array([1, 2, 3]));
    const e = await expectRejection(() => io.load(path), io.SafetensorsError, ['io.load']);
    expect(e).not.toBeInstanceOf(wg.IOError);
  });

  it('neither bytes nor a path: a ValueError naming io.load and what it got', () => {
    expectError(() => io.load(42 as any), wg.ValueError, ['io.load', 'got the number 42']);
    expectError(() => io.load(Symbol('s') as any), wg.ValueError, ['io.load', 'got a symbol']);
    expectError(() => io.load(10n as any), wg.ValueError, ['io.load', 'got the bigint 10']);
  });
});
