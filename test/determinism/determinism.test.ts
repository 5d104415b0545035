// Same bits everywhere: the determinism program (program.js) in Node (ESM and CommonJS), Deno,
// Bun, workerd and headless Chromium must reproduce the committed hashes (expected.json) exactly.
// Each runtime gets its own test, starts its own processes and stops them, within a time bound.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root, run, denoBin, bunBin, startWorkerd, serveStatic, launchChromium } from '../runtimes/harness.js';

interface Outcome { results: Record<string, string>; digest: string; training: { firstLoss: number; lastLoss: number } }

const expected = JSON.parse(readFileSync(path.join(root, 'test/determinism/expected.json'), 'utf8')) as
  { digest: string; results: Record<string, string> };
const cli = 'test/determinism/cli.mjs';
const TIMEOUT = 90_000;

/** Fails naming every result that differs, is missing or is new. */
function expectCommittedHashes(runtime: string, got: Outcome): void {
  const differ = Object.keys(expected.results).filter((k) => k in got.results && got.results[k] !== expected.results[k]);
  const missing = Object.keys(expected.results).filter((k) => !(k in got.results));
  const extra = Object.keys(got.results).filter((k) => !(k in expected.results));
  const problems = [
    ...differ.map((k) => `differs: ${k}`), ...missing.map((k) => `missing: ${k}`), ...extra.map((k) => `not in expected.json: ${k}`),
  ];
  if (problems.length > 0) {
    throw new Error(`${runtime}: ${problems.length} of ${Object.keys(expected.results).length} results do not match ` +
      `test/determinism/expected.json (run 'npm run determinism:update' only if the change is intended):\n  ` +
      problems.slice(0, 40).join('\n  '));
  }
  expect(got.digest).toBe(expected.digest);
  // The training run trains: otherwise matching hashes would prove little.
  expect(got.training.lastLoss).toBeLessThan(got.training.firstLoss * 0.2);
}

const parse = (stdout: string): Outcome => JSON.parse(stdout.trim().split('\n').pop()!) as Outcome;

describe('the determinism program gives the committed hashes', () => {
  it('expected.json covers every op family', () => {
    const families = new Set(Object.keys(expected.results).map((k) => k.split('.')[0] === 'grad' ? k.split('.')[1] : k.split('.')[0]));
    for (const f of ['unary', 'binary', 'compare', 'where', 'clamp', 'cast', 'reduce', 'matmul', 'matmulT', 'shape',
      'creation', 'random', 'softmax', 'crossEntropy', 'autodiff', 'recurrent', 'attention', 'conv', 'pool', 'indexing',
      'linear', 'activation', 'norm', 'loss', 'dropout', 'linalg', 'optim', 'train', 'accelerate']) {
      expect(families, f).toContain(f);
    }
  });

  it('in Node (ESM entry)', { timeout: TIMEOUT }, async () => {
    expectCommittedHashes('node', parse((await run(process.execPath, [cli], { timeoutMs: 60_000 })).stdout));
  });

  it('in Node (CommonJS entry)', { timeout: TIMEOUT }, async () => {
    expectCommittedHashes('node (require)', parse((await run(process.execPath, ['test/determinism/cli.cjs'], { timeoutMs: 60_000 })).stdout));
  });

  it('in Deno', { timeout: TIMEOUT }, async () => {
    const { stdout } = await run(denoBin(), ['run', '--no-lock', '--allow-read', '--allow-env', cli], { timeoutMs: 60_000 });
    expectCommittedHashes('deno', parse(stdout));
  });

  it('in Bun', { timeout: TIMEOUT }, async () => {
    expectCommittedHashes('bun', parse((await run(bunBin(), [cli], { timeoutMs: 60_000 })).stdout));
  });

  // The threads build splits the program's big products ([160, 130, 150], [133, 291, 67]) over
  // the threads, and must still give every committed hash.
  for (const threads of [2, 3]) {
    it(`in Node with ${threads} threads (ESM and CommonJS entries)`, { timeout: TIMEOUT }, async () => {
      const args = ['--threads', String(threads)];
      expectCommittedHashes(`node, ${threads} threads`, parse((await run(process.execPath, [cli, ...args], { timeoutMs: 60_000 })).stdout));
      expectCommittedHashes(`node (require), ${threads} threads`,
        parse((await run(process.execPath, ['test/determinism/cli.cjs', ...args], { timeoutMs: 60_000 })).stdout));
    });
  }

  it('in Deno and Bun with 2 threads', { timeout: TIMEOUT }, async () => {
    const { stdout } = await run(denoBin(), ['run', '--no-lock', '--allow-read', '--allow-env', cli, '--threads', '2'], { timeoutMs: 60_000 });
    expectCommittedHashes('deno, 2 threads', parse(stdout));
    expectCommittedHashes('bun, 2 threads', parse((await run(bunBin(), [cli, '--threads', '2'], { timeoutMs: 60_000 })).stdout));
  });

  it('in workerd, answering an HTTP request on loopback', { timeout: TIMEOUT }, async () => {
    const server = await startWorkerd('test/determinism/workerd/config.capnp');
    try {
      const res = await fetch(`${server.url}/`, { signal: AbortSignal.timeout(60_000) });
      expect(res.status, server.log()).toBe(200);
      expectCommittedHashes('workerd', await res.json() as Outcome);
    } finally {
      await server.stop();
    }
  });

  describe('in headless Chromium (page served on loopback, CSP without eval)', () => {
    let site: Awaited<ReturnType<typeof serveStatic>>;
    let chromium: Awaited<ReturnType<typeof launchChromium>>;
    beforeAll(async () => {
      site = await serveStatic(root);
      chromium = await launchChromium();
    }, TIMEOUT);
    afterAll(async () => {
      await chromium?.close();
      await site?.close();
    }, 30_000);

    for (const [bundle, query] of [['browser', ''], ['inline', ''], ['browser', '&threads=2']]) {
      it(`with dist/wasmgrad.${bundle}.js${query ? ' and 2 threads (cross-origin isolated page)' : ''}`, { timeout: TIMEOUT }, async () => {
        const page = await chromium.context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        try {
          await page.goto(`${site.url}/test/determinism/browser/index.html?bundle=${bundle}${query}`, { timeout: 30_000 });
          await page.waitForFunction(() => (window as any).determinism !== undefined, undefined, { timeout: 60_000 });
          const got = await page.evaluate(() => (window as any).determinism);
          if (got.error) throw new Error(`chromium: ${got.error}\n${errors.join('\n')}`);
          expect(errors).toEqual([]);
          expectCommittedHashes(`chromium (${bundle})`, got as Outcome);
        } finally {
          await page.close();
        }
      });
    }
  });
});
