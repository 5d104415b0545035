// examples/browser in headless Chromium: the page, bundled with esbuild and served on loopback
// under a CSP without eval, trains on real MNIST digits for a while; the loss must fall, the test
// accuracy reach what a small MLP reaches after a few epochs, the numbers on the page must agree with the page's state, and the chart must have drawn.
// A screenshot goes to test-results/browser-example.png.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { root, serveStatic, launchChromium } from './runtimes/harness.js';
// @ts-expect-error plain JS build script of the example
import { buildPage } from '../examples/browser/build.mjs';

let site: Awaited<ReturnType<typeof serveStatic>>;
let chromium: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => {
  await buildPage();
  site = await serveStatic(path.join(root, 'examples/browser'));
  chromium = await launchChromium();
}, 90_000);
afterAll(async () => {
  await chromium?.close();
  await site?.close();
}, 30_000);

describe('examples/browser', () => {
  it('trains in the page with a live loss curve and accuracy', { timeout: 120_000 }, async () => {
    const page = await chromium.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    try {
      await page.setViewportSize({ width: 900, height: 700 });
      await page.goto(`${site.url}/`, { timeout: 30_000 });
      await page.waitForFunction(() => { const t = (window as any).training; return t?.error || t?.step >= 300; }, undefined,
        { timeout: 90_000, polling: 200 });
      await page.evaluate(() => { (window as any).training.running = false; }); // freeze the numbers
      await page.waitForTimeout(100);
      const state = await page.evaluate(() => (window as any).training);
      expect(state.error).toBeNull();
      expect(errors).toEqual([]);

      const losses: number[] = state.losses;
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(losses[0]).toBeGreaterThan(2); // ≈ ln 10 for ten classes at initialisation
      expect(mean(losses.slice(-10))).toBeLessThan(0.5 * mean(losses.slice(0, 10)));
      const accuracy = state.accuracies.at(-1).accuracy;
      // 600 held-out real digits; chance is 0.1, Node reaches ≈ 0.90 with this page's seeds.
      expect(accuracy).toBeGreaterThan(0.85);

      // The page shows the same numbers.
      expect(Number(await page.textContent('#step'))).toBe(state.step);
      expect(await page.textContent('#loss')).toBe(losses.at(-1).toFixed(4));
      expect(await page.textContent('#accuracy')).toBe(`${(accuracy * 100).toFixed(1)}%`);
      expect(await page.textContent('#status')).toBe('training…');

      // The chart drew: the loss line's orange and the accuracy line's blue are on the canvas.
      const colours = await page.evaluate(() => {
        const canvas = document.getElementById('chart') as HTMLCanvasElement;
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        let orange = 0, blue = 0, inked = 0;
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
          if (a === 0) continue;
          inked++;
          if (r > 180 && g < 120 && b < 60) orange++;
          if (r < 80 && g > 80 && g < 150 && b > 160) blue++;
        }
        return { orange, blue, inked };
      });
      expect(colours.orange).toBeGreaterThan(100);
      expect(colours.blue).toBeGreaterThan(50);

      mkdirSync(path.join(root, 'test-results'), { recursive: true });
      await page.screenshot({ path: path.join(root, 'test-results/browser-example.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });
});
