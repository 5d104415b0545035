// Same bits everywhere: the determinism program (program.js) in Node (ESM and CommonJS), Deno,
// Bun, workerd, headless Chromium and headless Firefox must reproduce the committed hashes
// (expected.json) exactly: V8, JavaScriptCore (Bun) and SpiderMonkey (Firefox). Each runtime gets
// its own test, starts its own processes and stops them, within a time bound.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  root, run, denoBin, bunBin, startWorkerd, serveStatic, launchChromium, firefoxForTests, launchFirefox,
  processGroupMembers,
} from '../runtimes/harness.js';

interface Outcome { results: Record<string, string>; digest: string; training: { firstLoss: number; lastLoss: number } }
/** What the browser page (browser/page.js) reports besides the program's outcome. */
interface PageOutcome extends Outcome { error?: string; isolated: boolean; userAgent: string; errors: string[] }

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
      'linear', 'activation', 'norm', 'loss', 'dropout', 'linalg', 'optim', 'train', 'accelerate', 'parity']) {
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

  // The page runs each bundle, and the threads build with 2 threads on a cross-origin isolated page.
  const PAGES = [['browser', ''], ['inline', ''], ['browser', '&threads=2']] as const;
  const pageName = (engine: string, bundle: string, query: string) =>
    `${engine}, with dist/wasmgrad.${bundle}.js${query ? ' and 2 threads (cross-origin isolated page)' : ''}`;
  /** The page's outcome must be clean, isolated where it ran threads, and give the committed hashes. */
  function expectPage(engine: string, got: PageOutcome, query: string): void {
    if (got.error) throw new Error(`${engine}: ${got.error}\n${got.errors.join('\n')}`);
    expect(got.errors).toEqual([]);
    if (query.includes('threads')) expect(got.isolated, `${engine}: crossOriginIsolated`).toBe(true);
    expectCommittedHashes(engine, got);
  }

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

    for (const [bundle, query] of PAGES) {
      it(pageName('Chromium', bundle, query), { timeout: TIMEOUT }, async () => {
        const page = await chromium.context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
        try {
          await page.goto(`${site.url}/test/determinism/browser/index.html?bundle=${bundle}${query}`, { timeout: 30_000 });
          await page.waitForFunction(() => (window as any).determinism !== undefined, undefined, { timeout: 60_000 });
          const got = await page.evaluate(() => (window as any).determinism) as PageOutcome;
          got.errors.push(...errors);
          expectPage(`chromium (${bundle}${query}; ${chromium.source})`, got, query);
          expect(got.userAgent).toContain('Chrome/');
        } finally {
          await page.close();
        }
      });
    }
  });

  // SpiderMonkey: Debian's firefox-esr, headless, opened once on the first page; each page POSTs
  // its outcome to the test's server and goes on to the next (&next=). Where Firefox is missing,
  // a skipped test says so by name; CI sets WASMGRAD_REQUIRE_FIREFOX=1 (.ci/run), which makes
  // that a failure.
  describe('in headless Firefox (page served on loopback, CSP without eval; reports by POST)', () => {
    const executable = firefoxForTests(it);
    if (executable === undefined) return;
    let site: Awaited<ReturnType<typeof serveStatic>>;
    let firefox: ReturnType<typeof launchFirefox> | undefined;
    beforeAll(async () => {
      site = await serveStatic(root);
      // The chain of pages, built from the last: each page's &next= is the URL of the one after it.
      const url = PAGES.reduceRight<string | undefined>((next, [bundle, query], n) =>
        `${site.url}/test/determinism/browser/index.html?bundle=${bundle}${query}&report=page-${n}` +
        (next === undefined ? '' : `&next=${encodeURIComponent(next)}`), undefined)!;
      firefox = launchFirefox(executable, url);
    }, TIMEOUT);
    afterAll(async () => {
      await firefox?.close();
      await site?.close();
    }, 30_000);

    PAGES.forEach(([bundle, query], n) => {
      it(pageName('Firefox', bundle, query), { timeout: TIMEOUT }, async () => {
        const report = await firefox!.report(site, `page-${n}`, 75_000) as PageOutcome;
        expectPage(`firefox (${bundle}${query})`, report, query);
        expect(report.userAgent).toMatch(/Firefox\//);
      });
    });

    it('Firefox stops, and leaves no process or profile behind', { timeout: 30_000 }, async () => {
      await firefox!.close();
      expect(processGroupMembers(firefox!.pgid)).toEqual([]);
      expect(existsSync(firefox!.dir)).toBe(false);
    });
  });
});
