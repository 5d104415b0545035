// The package as users get it: the dist/ bundles behind package.json's exports, no runtime code
// generation in any of them, the size report, and init() with every kind of source and a clear
// InitError for each way loading can fail.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { root, run } from './runtimes/harness.js';

type Wasmgrad = typeof import('../src/index.js');

/** A fresh copy of the library (its own module state, not yet initialised). */
async function fresh(): Promise<Wasmgrad> {
  vi.resetModules();
  return await import('../src/index.js');
}

const wasmFile = path.join(root, 'dist/wasmgrad.wasm');
const wasmBytes = () => new Uint8Array(readFileSync(wasmFile));

/** init(source) must reject with an InitError whose message matches. */
async function expectInitError(source: unknown, message: RegExp): Promise<void> {
  const wg = await fresh();
  const error = await wg.init(source as never).then(() => undefined, (e: unknown) => e);
  expect(error, 'init should have failed').toBeInstanceOf(wg.InitError);
  expect((error as Error).message).toMatch(message);
  // A failed init leaves the library uninitialised, with the usual message.
  expect(() => wg.tensor([1])).toThrow(/call 'await init\(\)' first/);
}

describe('dist bundles', () => {
  const bundles = readdirSync(path.join(root, 'dist')).filter((f) => /\.c?js$/.test(f));

  it('are all there, with no source maps', () => {
    expect(bundles.sort()).toEqual(['index.cjs', 'index.js', 'io.browser.js', 'io.cjs', 'io.js', 'nn.browser.js', 'nn.cjs',
      'nn.js', 'optim.browser.js', 'optim.cjs', 'optim.js', 'wasmgrad.browser.js', 'wasmgrad.inline.js', 'wasmgrad.worker.js']);
    expect(readdirSync(path.join(root, 'dist')).filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it('the browser and inline bundles are minified, and errors keep their class names', async () => {
    for (const file of ['wasmgrad.browser.js', 'wasmgrad.inline.js']) {
      const text = readFileSync(path.join(root, 'dist', file), 'utf8');
      expect(text.split('\n').length, file).toBeLessThan(200); // one statement after another, no indentation
      expect(text, file).not.toMatch(/\n {2}\S/);
      expect(text, file).not.toMatch(/sourceMappingURL/);
      const wg = await import(pathToFileURL(path.join(root, 'dist', file)).href);
      const error = await wg.init(42).then(() => undefined, (e: Error) => e);
      expect(error.name, file).toBe('InitError');
      expect(error.constructor.name, file).toBe('InitError');
      expect(error).toBeInstanceOf(wg.WasmgradError);
      expect(String(error), file).toMatch(/^InitError: init: source must be/);
      for (const name of ['ShapeError', 'ValueError', 'DTypeError', 'OutOfMemoryError', 'IOError']) {
        expect(wg[name].name, `${file}: ${name}`).toBe(name);
      }
      expect(wg.nn.Linear.name, file).toBe('Linear');
      expect(wg.optim.Adam.name, file).toBe('Adam');
    }
  });

  it('never generate code at run time (no eval, no new Function, no string timers)', () => {
    const forbidden = [/(?<![\w$.])eval\s*\(/, /\bnew\s+Function\b/, /(?<![\w$.])Function\s*\(/,
      /\bset(?:Timeout|Interval)\s*\(\s*['"`]/, /import\s*\(\s*['"`]data:/];
    for (const file of bundles) {
      const text = readFileSync(path.join(root, 'dist', file), 'utf8');
      for (const pattern of forbidden) {
        const m = pattern.exec(text);
        expect(m, `${file} contains ${m?.[0]} at ${m?.index}: ${text.slice((m?.index ?? 0) - 60, (m?.index ?? 0) + 60)}`).toBeNull();
      }
    }
  });

  it('the grep would catch code generation', () => {
    expect(/(?<![\w$.])eval\s*\(/.test('x = eval("1")')).toBe(true);
    expect(/(?<![\w$.])eval\s*\(/.test('dlfeval(f)')).toBe(false);
    expect(/\bnew\s+Function\b/.test('new Function("return 1")')).toBe(true);
  });

  it('the browser and inline bundles import nothing from node:', () => {
    for (const file of ['wasmgrad.browser.js', 'wasmgrad.inline.js']) {
      expect(readFileSync(path.join(root, 'dist', file), 'utf8')).not.toMatch(/['"]node:/);
    }
    // The worker script imports node:worker_threads only where there is a Node-style process.
    const worker = readFileSync(path.join(root, 'dist/wasmgrad.worker.js'), 'utf8');
    expect(worker.match(/['"]node:[\w/]+['"]/g)).toEqual(['"node:worker_threads"']);
    expect(worker).toMatch(/if \(typeof g\.process\?\.versions\?\.node === "string"\) \{\s+const \{ parentPort \} = await import\("node:worker_threads"\)/);
  });

  it('the inline bundle carries the very same .wasm', () => {
    const text = readFileSync(path.join(root, 'dist/wasmgrad.inline.js'), 'utf8');
    const base64 = Buffer.from(wasmBytes()).toString('base64');
    expect(text.includes(`"${base64}"`)).toBe(true);
  });

  it('the build reports raw and gzipped sizes of the .wasm and every bundle', () => {
    const sizes = JSON.parse(readFileSync(path.join(root, 'build/out/sizes.json'), 'utf8')) as Record<string, { bytes: number; gzip: number }>;
    for (const f of ['wasmgrad.wasm', 'wasmgrad.threads.wasm', 'wasmgrad.worker.js', 'index.js', 'index.cjs', 'wasmgrad.browser.js', 'wasmgrad.inline.js',
      'minimal app (JS)']) {
      expect(sizes[f], f).toBeDefined();
      expect(sizes[f].gzip).toBeGreaterThan(f === 'wasmgrad.worker.js' ? 300 : 1000); // the worker script is small
      expect(sizes[f].gzip).toBeLessThan(sizes[f].bytes);
    }
    expect(sizes['wasmgrad.wasm'].bytes).toBe(wasmBytes().length);
  });
});

describe("package.json's exports resolve to the bundles", () => {
  const resolve = async (specifier: string, conditions: string[] = []): Promise<string> => {
    const args = [...conditions.map((c) => `--conditions=${c}`), '--input-type=module', '-e',
      `console.log(import.meta.resolve(${JSON.stringify(specifier)}))`];
    return (await run(process.execPath, args, { timeoutMs: 20_000 })).stdout.trim();
  };
  const dist = (f: string) => pathToFileURL(path.join(root, 'dist', f)).href;

  it('for Node ESM, require, browsers, workerd, the inline bundle and the .wasm', async () => {
    expect(await resolve('wasmgrad')).toBe(dist('index.js'));
    expect(await resolve('wasmgrad', ['browser'])).toBe(dist('wasmgrad.browser.js'));
    expect(await resolve('wasmgrad', ['workerd'])).toBe(dist('wasmgrad.browser.js'));
    expect(await resolve('wasmgrad/inline')).toBe(dist('wasmgrad.inline.js'));
    expect(await resolve('wasmgrad/browser')).toBe(dist('wasmgrad.browser.js'));
    expect(await resolve('wasmgrad/wasmgrad.wasm')).toBe(dist('wasmgrad.wasm'));
    expect(await resolve('wasmgrad/wasmgrad.threads.wasm')).toBe(dist('wasmgrad.threads.wasm'));
    expect(await resolve('wasmgrad/wasmgrad.worker.js')).toBe(dist('wasmgrad.worker.js'));
    const cjs = await run(process.execPath, ['-e', "console.log(require.resolve('wasmgrad'))"], { timeoutMs: 20_000 });
    expect(cjs.stdout.trim()).toBe(path.join(root, 'dist/index.cjs'));
  });

  it('for the subpaths wasmgrad/nn, wasmgrad/optim and wasmgrad/io', async () => {
    for (const name of ['nn', 'optim', 'io']) {
      expect(await resolve(`wasmgrad/${name}`)).toBe(dist(`${name}.js`));
      expect(await resolve(`wasmgrad/${name}`, ['browser'])).toBe(dist(`${name}.browser.js`));
      expect(await resolve(`wasmgrad/${name}`, ['workerd'])).toBe(dist(`${name}.browser.js`));
      const cjs = await run(process.execPath, ['-e', `console.log(require.resolve('wasmgrad/${name}'))`], { timeoutMs: 20_000 });
      expect(cjs.stdout.trim()).toBe(path.join(root, `dist/${name}.cjs`));
    }
  });

  it('each subpath exports what its namespace in the main entry has, the same objects', { timeout: 30_000 }, async () => {
    const script = "import * as wg from 'wasmgrad'; import * as nn from 'wasmgrad/nn'; import * as optim from 'wasmgrad/optim';" +
      "import * as io from 'wasmgrad/io'; const same = (sub, ns) => Object.keys(ns).length > 0 && " +
      'Object.keys(sub).sort().join() === Object.keys(ns).sort().join() && Object.keys(ns).every((k) => sub[k] === ns[k]);' +
      'console.log(same(nn, wg.nn), same(optim, wg.optim), same(io, wg.io));';
    for (const conditions of [[], ['--conditions=browser']]) {
      const out = await run(process.execPath, [...conditions, '--input-type=module', '-e', script], { timeoutMs: 20_000 });
      expect(out.stdout.trim(), conditions.join()).toBe('true true true');
    }
  });

  it('each entry loads its .wasm by itself and computes', { timeout: 60_000 }, async () => {
    const esm = "import * as wg from 'wasmgrad'; await wg.init(); console.log(wg.tensor([1, 2]).exp().sum().item());";
    const inline = "import * as wg from 'wasmgrad/inline'; await wg.init(); console.log(wg.tensor([1, 2]).exp().sum().item());";
    const cjs = "const wg = require('wasmgrad'); wg.init().then(() => console.log(wg.tensor([1, 2]).exp().sum().item()));";
    const expected = String(Math.fround(Math.fround(Math.E) + Math.fround(Math.exp(2))));
    expect((await run(process.execPath, ['--input-type=module', '-e', esm], { timeoutMs: 20_000 })).stdout.trim()).toBe(expected);
    expect((await run(process.execPath, ['--input-type=module', '-e', inline], { timeoutMs: 20_000 })).stdout.trim()).toBe(expected);
    expect((await run(process.execPath, ['-e', cjs], { timeoutMs: 20_000 })).stdout.trim()).toBe(expected);
  });
});

describe('init(source)', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/wasmgrad.wasm') res.writeHead(200, { 'content-type': 'application/wasm' }).end(Buffer.from(wasmBytes()));
      else if (req.url === '/octet.wasm') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from(wasmBytes()));
      else if (req.url === '/html.wasm') res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><p>Not here</p>');
      else if (req.url === '/lying.wasm') res.writeHead(200, { 'content-type': 'application/wasm' }).end('<!DOCTYPE html>');
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('missing');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

  const works = async (source: unknown): Promise<void> => {
    const wg = await fresh();
    await wg.init(source as never);
    expect(wg.tensor([1, 2, 3]).mul(2).sum().item()).toBe(12);
  };

  it('takes a WebAssembly.Module (what workerd hands over)', async () => { await works(new WebAssembly.Module(wasmBytes())); });
  it('takes a Uint8Array, an ArrayBuffer and a DataView', async () => {
    await works(wasmBytes());
    await works(wasmBytes().buffer);
    const padded = new Uint8Array(wasmBytes().length + 8);
    padded.set(wasmBytes(), 8);
    await works(new DataView(padded.buffer, 8));
  });
  it('takes a file URL, a file path, and nothing (the bundled .wasm)', async () => {
    await works(pathToFileURL(wasmFile));
    await works(wasmFile);
    await works(path.relative(process.cwd(), wasmFile));
    await works(undefined);
  });
  it('takes an http URL, a Response and a promised Response (streaming compile or bytes)', async () => {
    await works(`${base}/wasmgrad.wasm`);
    await works(new URL(`${base}/octet.wasm`));
    await works(await fetch(`${base}/wasmgrad.wasm`));
    await works(fetch(`${base}/octet.wasm`));
  });

  it('says when the bytes are not wasm at all, showing how they start', async () => {
    await expectInitError(new TextEncoder().encode('<!DOCTYPE html><html>…'),
      /init: not a WebAssembly module \(the bytes passed to init\): 24 bytes starting with "<!DOCTYPE html><", not the wasm magic/);
    await expectInitError(new Uint8Array(0), /not a WebAssembly module \(the bytes passed to init\): 0 bytes starting with nothing \(empty\)/);
    await expectInitError(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]), /starting with 89 50 4e 47 0d 0a 1a 0a 00/);
    await expectInitError(`${base}/html.wasm`, new RegExp(`init: not a WebAssembly module \\(${base}/html.wasm\\): 30 bytes starting with "<!DOCTYPE html><"`));
  });

  it('says when the wasm is damaged', async () => {
    await expectInitError(wasmBytes().slice(0, 5000), /is not a valid WebAssembly module \(.+\); check that it is wasmgrad.wasm/);
    await expectInitError(`${base}/lying.wasm`, new RegExp(`${base}/lying.wasm is not a valid WebAssembly module`));
  });

  it("says when the module is another program's", async () => {
    const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    await expectInitError(empty, /init: this WebAssembly module is not wasmgrad's \(missing exports: memory, argsAddress, stateAddress, newTensor, backward, binary, matmul\)/);
    // (module (import "env" "f" (func)))
    const importing = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, 9, 1, 3, 101, 110, 118, 1, 102, 0, 0]);
    await expectInitError(new WebAssembly.Module(importing), /not wasmgrad's \(missing exports: .*\) \(unexpected imports: env\.f\)/);
  });

  it('says when fetching fails, with the HTTP status or the network error', async () => {
    await expectInitError(`${base}/nowhere.wasm`, new RegExp(`fetching the wasm module failed: HTTP 404 Not Found \\(${base}/nowhere.wasm\\)`));
    await expectInitError(fetch(`${base}/nowhere.wasm`), /HTTP 404 Not Found/);
    // A port nobody listens on: take one from a server that has just closed.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    await expectInitError(`http://127.0.0.1:${port}/wasmgrad.wasm`,
      new RegExp(`fetching the wasm module from http://127.0.0.1:${port}/wasmgrad.wasm failed: `));
    await expectInitError(path.join(root, 'dist/missing.wasm'), /reading the wasm module from file:.*missing\.wasm failed: ENOENT/);
  });

  it('says when the engine lacks WebAssembly SIMD', async () => {
    const validate = vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    try {
      await expectInitError(wasmBytes(), /this engine does not support WebAssembly SIMD \(fixed-width 128-bit\), which wasmgrad needs/);
    } finally {
      validate.mockRestore();
    }
    await works(wasmBytes()); // and with SIMD back, the same bytes load
  });

  it('rejects a source of another kind', async () => {
    await expectInitError(42, /init: source must be a WebAssembly.Module, an ArrayBuffer or typed array, a URL \(or URL string\) or a Response, got number/);
    await expectInitError(null, /got null/);
  });
});
