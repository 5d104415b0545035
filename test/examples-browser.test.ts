// examples/browser in headless Chromium and headless Firefox: the page, bundled with esbuild and
// served on loopback under a CSP without eval, trains on real MNIST digits for a while; the loss
// must fall, the test accuracy reach what a small MLP reaches after a few epochs, the numbers on
// the page must agree with the page's state, and the chart must have drawn. A probe script put
// into the page (test/runtimes/browser-example-probe.js) gathers all that and POSTs it to the
// test's server, so both engines are checked alike (Firefox has no driver here).
// Chromium's screenshot goes to test-results/browser-example.png.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  root, serveStatic, launchChromium, firefoxForTests, runInFirefox, processGroupMembers,
} from './runtimes/harness.js';
// @ts-expect-error plain JS build script of the example
import { buildPage } from '../examples/browser/build.mjs';

interface Report {
  state: { step: number; losses: number[]; accuracies: { step: number; accuracy: number }[]; error: string | null };
  shown: { step: string | null; loss: string | null; accuracy: string | null; status: string | null };
  colours: { orange: number; blue: number; inked: number };
  errors: string[];
  userAgent: string;
  probeError?: string;
}

let site: Awaited<ReturnType<typeof serveStatic>>;

beforeAll(async () => {
  await buildPage();
  site = await serveStatic(path.join(root, 'examples/browser'),
    { '/__probe.js': path.join(root, 'test/runtimes/browser-example-probe.js') }, { inject: '/__probe.js' });
}, 90_000);
afterAll(async () => {
  await site?.close();
}, 30_000);

/** The page trained: falling loss, the accuracy of a small MLP, the same numbers shown, a drawn chart. */
function expectTrained(engine: string, report: Report): void {
  if (report.probeError) throw new Error(`${engine}: the probe failed: ${report.probeError}`);
  const { state, shown, colours } = report;
  expect(state.error, engine).toBeNull();
  expect(report.errors, engine).toEqual([]);

  const losses = state.losses;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  expect(losses[0]).toBeGreaterThan(2); // ≈ ln 10 for ten classes at initialisation
  expect(mean(losses.slice(-10))).toBeLessThan(0.5 * mean(losses.slice(0, 10)));
  const accuracy = state.accuracies.at(-1)!.accuracy;
  // 600 held-out real digits; chance is 0.1, Node reaches ≈ 0.90 with this page's seeds.
  expect(accuracy).toBeGreaterThan(0.85);

  // The page shows the same numbers.
  expect(Number(shown.step)).toBe(state.step);
  expect(shown.loss).toBe(losses.at(-1)!.toFixed(4));
  expect(shown.accuracy).toBe(`${(accuracy * 100).toFixed(1)}%`);
  expect(shown.status).toBe('training…');

  // The chart drew: the loss line's orange and the accuracy line's blue are on the canvas.
  expect(colours.orange).toBeGreaterThan(100);
  expect(colours.blue).toBeGreaterThan(50);
}

describe('examples/browser', () => {
  describe('in headless Chromium', () => {
    let chromium: Awaited<ReturnType<typeof launchChromium>>;
    beforeAll(async () => { chromium = await launchChromium(); }, 90_000);
    afterAll(async () => { await chromium?.close(); }, 30_000);

    it('Chromium: trains in the page with a live loss curve and accuracy', { timeout: 120_000 }, async () => {
      const page = await chromium.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      try {
        await page.setViewportSize({ width: 900, height: 700 });
        await page.goto(`${site.url}/?report=chromium`, { timeout: 30_000 });
        const report = await site.report('chromium', 90_000) as Report;
        report.errors.push(...errors);
        expectTrained(`chromium (${chromium.source})`, report);
        expect(report.userAgent).toContain('Chrome/');
        mkdirSync(path.join(root, 'test-results'), { recursive: true });
        await page.screenshot({ path: path.join(root, 'test-results/browser-example.png'), fullPage: true });
      } finally {
        await page.close();
      }
    });
  });

  // Where Firefox is missing, a skipped test says so by name; CI sets WASMGRAD_REQUIRE_FIREFOX=1
  // (.ci/run), which makes that a failure.
  describe('in headless Firefox', () => {
    const firefox = firefoxForTests(it);
    if (firefox === undefined) return;

    it('Firefox: trains in the page with a live loss curve and accuracy', { timeout: 120_000 }, async () => {
      const { report, dir, pgid } = await runInFirefox(firefox, site, `${site.url}/?report=firefox`, 'firefox', 100_000);
      expectTrained('firefox', report as Report);
      expect(report.userAgent).toMatch(/Firefox\//);
      // Stopped and cleaned up: no Firefox process of this run is left, nor its profile.
      expect(processGroupMembers(pgid)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
    });
  });
});
