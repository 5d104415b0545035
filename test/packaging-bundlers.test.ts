// The package as an app gets it from npm: `npm pack` the repository, install the tarball into a
// new project, and build a page with each bundler the way its documentation says (README,
// "Bundlers"): esbuild, vite build, the vite dev server and webpack. Each page runs in Chromium and
// must compute the seed example's value and gradient exactly, and see wasmgrad's errors by their
// class names. Node apps bundled by esbuild and by bun must find the .wasm by themselves. An app
// that uses only tensors and gradients must leave nn, optim and io out of its bundle, and the
// subpath entries (wasmgrad/nn, …) must share the main entry's runtime.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { root, run, serveStatic, launchChromium, bunBin, quietEnv } from './runtimes/harness.js';

// The seed example, f(x1, x2) = x1·exp(−½(x1² + x2²)) at (2, 0.5) in float64: these are the exact
// doubles (Math.exp gives the same value; the gradient is wasmgrad's, as in the README).
const VALUE = 0.23886593653343924;
const GRADIENT = [-0.35829890480015886, -0.11943296826671962];

// The page: the seed example, and an InitError caught first, to see that error classes keep their
// names through the app's minifier. Whatever happens is written into #out as JSON.
const PAGE_SCRIPT = `import { init, tensor, valueAndGrad, InitError } from 'wasmgrad';

const out = document.getElementById('out');
try {
  let caught;
  try { await init(42); } catch (e) { caught = [e.name, e.constructor.name, e instanceof InitError]; }
  await init();
  const f = (x) => { const [x1, x2] = x.unstack(); return x1.mul(x1.square().add(x2.square()).mul(-0.5).exp()); };
  const [y, g] = valueAndGrad(f)(tensor([2, 0.5], { dtype: 'float64' }));
  out.textContent = JSON.stringify({ value: y.item(), gradient: g.toArray(), caught });
} catch (e) {
  out.textContent = JSON.stringify({ error: \`\${e.name}: \${e.message}\` });
}
`;

const HTML = (script: string, type = 'module') => `<!doctype html>
<html><head><meta charset="utf-8"><title>wasmgrad</title></head>
<body><pre id="out"></pre><script type="${type}" src="${script}"></script></body></html>
`;

// A Node app: the seed example, plus nn's Dropout through the subpath entry (it draws a random
// mask and compares it: the methods other files add to Tensor must be there) on the same runtime.
const NODE_APP = `import { init, tensor, valueAndGrad, nn as nnFromMain } from 'wasmgrad';
import { Dropout } from 'wasmgrad/nn';

async function main() { // no top-level await: the app is bundled into CommonJS too
  await init();
  const f = (x) => { const [x1, x2] = x.unstack(); return x1.mul(x1.square().add(x2.square()).mul(-0.5).exp()); };
  const [y, g] = valueAndGrad(f)(tensor([2, 0.5], { dtype: 'float64' }));
  const kept = new Dropout(0.5).call(tensor([1, 1, 1, 1, 1, 1, 1, 1])).toArray().filter((v) => v !== 0).length;
  console.log(JSON.stringify({ value: y.item(), gradient: g.toArray(), kept, sameClass: Dropout === nnFromMain.Dropout }));
}
main().catch((e) => { console.error(\`\${e.name}: \${e.message}\`); process.exit(1); });
`;

let work = '';
let app = '';
let tarball = '';
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;

const node = (args: string[], timeoutMs: number, cwd = app) => run(process.execPath, args, { cwd, timeoutMs });
const bin = (pkg: string, file: string) => path.join(app, 'node_modules', pkg, file);
/** esbuild's CLI (a native binary), as an app's build script runs it. */
const esbuildCli = (args: string[], timeoutMs = 30_000) => run(bin('esbuild', 'bin/esbuild'), args, { cwd: app, timeoutMs });

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'wasmgrad-pack-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { timeoutMs: 60_000 });
  tarball = path.join(work, JSON.parse(packed.stdout)[0].filename);
  app = path.join(work, 'app');
  mkdirSync(path.join(app, 'src'), { recursive: true });
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  // wasmgrad's one dependency comes from npm's cache when it is there.
  await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, timeoutMs: 90_000 });
  // The bundlers: this repository's, linked in after the install (npm would remove the links).
  for (const pkg of ['vite', 'webpack', 'webpack-cli', 'esbuild']) {
    symlinkSync(path.join(root, 'node_modules', pkg), path.join(app, 'node_modules', pkg), 'dir');
  }
  writeFileSync(path.join(app, 'src/main.js'), PAGE_SCRIPT);
  writeFileSync(path.join(app, 'index.html'), HTML('/src/main.js'));
  writeFileSync(path.join(app, 'node-app.js'), NODE_APP);
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
}, 30_000);

/** Opens the page and returns what it wrote into #out. */
async function pageResult(url: string): Promise<any> {
  const page = await browser!.context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('out')?.textContent !== '', undefined, { timeout: 60_000 });
    const text = await page.textContent('#out');
    expect(problems).toEqual([]);
    return JSON.parse(text!);
  } finally {
    await page.close();
  }
}

function expectSeed(result: any): void {
  expect(result.error).toBeUndefined();
  expect(result.value).toBe(VALUE);
  expect(result.gradient).toEqual(GRADIENT);
}

/** Serves a built page (under a CSP that forbids eval) and checks it. */
async function checkBuiltPage(dir: string, page = '/index.html'): Promise<void> {
  const site = await serveStatic(dir);
  try {
    const result = await pageResult(site.url + page);
    expectSeed(result);
    expect(result.caught).toEqual(['InitError', 'InitError', true]);
  } finally {
    await site.close();
  }
}

const files = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String);

describe('the tarball', () => {
  it('holds the bundles, the .wasm files, README, LICENSE and CHANGELOG, and no source maps or sources', () => {
    const pkg = path.join(app, 'node_modules/wasmgrad');
    const all = files(pkg);
    for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json', 'dist/index.js', 'dist/index.cjs',
      'dist/wasmgrad.browser.js', 'dist/wasmgrad.inline.js', 'dist/wasmgrad.wasm', 'dist/wasmgrad.threads.wasm',
      'dist/wasmgrad.worker.js', 'dist/nn.js', 'dist/nn.cjs', 'dist/nn.browser.js', 'dist/optim.js', 'dist/io.js']) {
      expect(all, f).toContain(f);
    }
    expect(all.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(all.filter((f) => f.startsWith('src') || f.startsWith('assembly') || f.startsWith('test'))).toEqual([]);
    expect(readFileSync(path.join(pkg, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the wasmgrad authors\n/);
    const manifest = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8'));
    expect(manifest.repository.url).toBe('git+https://github.com/wasmgrad/wasmgrad.git');
    expect(manifest.homepage).toMatch(/^https:\/\/github\.com\/wasmgrad\/wasmgrad/);
    expect(manifest.bugs.url).toBe('https://github.com/wasmgrad/wasmgrad/issues');
  });

  it('the shipped code finds its files by literal new URL(…, import.meta.url) and never in build/out', () => {
    const dist = path.join(app, 'node_modules/wasmgrad/dist');
    for (const f of ['index.js', 'wasmgrad.browser.js']) {
      const text = readFileSync(path.join(dist, f), 'utf8');
      for (const file of ['wasmgrad.wasm', 'wasmgrad.threads.wasm', 'wasmgrad.worker.js']) {
        expect(text, `${f}: ${file}`).toMatch(new RegExp(`new URL\\(\\s*"\\./${file.replace(/\./g, '\\.')}",\\s*import\\.meta\\.url\\s*\\)`));
      }
      // No other use of import.meta.url (webpack would put the build machine's file path there).
      expect(text.replace(/new URL\(\s*"\.\/[\w.]+",\s*import\.meta\.url\s*\)/g, '').match(/import\.meta\.url(?!\s*here)/g), f).toBeNull();
    }
    for (const f of readdirSync(dist).filter((x) => /\.c?js$/.test(x))) {
      const text = readFileSync(path.join(dist, f), 'utf8');
      expect(text, f).not.toMatch(/build\/out/);
      expect(text, f).not.toMatch(/npm run build/);
    }
    // The one-file bundle loads no file, so bundlers emit none for it.
    expect(readFileSync(path.join(dist, 'wasmgrad.inline.js'), 'utf8')).not.toMatch(/new URL\("\.\//);
  });
});

describe('browser bundlers, each page in Chromium', () => {
  it('esbuild: bundle, copy wasmgrad.wasm beside it (the one step esbuild needs)', { timeout: 60_000 }, async () => {
    const out = path.join(app, 'out-esbuild');
    await esbuildCli(['src/main.js', '--bundle', '--minify', '--format=esm', `--outdir=${out}`], 30_000);
    writeFileSync(path.join(out, 'index.html'), HTML('/main.js'));
    cpSync(path.join(app, 'node_modules/wasmgrad/dist/wasmgrad.wasm'), path.join(out, 'wasmgrad.wasm'));
    await checkBuiltPage(out);
  });

  it('esbuild without the copy: an InitError that says what to do', { timeout: 60_000 }, async () => {
    const out = path.join(app, 'out-esbuild-nocopy');
    await esbuildCli(['src/main.js', '--bundle', '--minify', '--format=esm', `--outdir=${out}`], 30_000);
    writeFileSync(path.join(out, 'index.html'), HTML('/main.js'));
    const site = await serveStatic(out);
    try {
      const { error } = await pageResult(`${site.url}/index.html`);
      expect(error).toMatch(/^InitError: init: fetching the wasm module failed: HTTP 404 .*\/wasmgrad\.wasm\)\. wasmgrad\.wasm must be served beside the script that loads wasmgrad/);
      expect(error).toMatch(/copy it next to the bundle/);
      expect(error).toMatch(/pass the module or its URL to init\(source\)/);
      expect(error).not.toMatch(/npm run build/);
    } finally {
      await site.close();
    }
  });

  it('vite build: no config; the .wasm is emitted', { timeout: 90_000 }, async () => {
    const out = path.join(app, 'dist-vite');
    await node([bin('vite', 'bin/vite.js'), 'build', '--outDir', out, '--logLevel', 'warn'], 60_000);
    expect(files(out).filter((f) => f.endsWith('.wasm')).length).toBeGreaterThanOrEqual(1);
    await checkBuiltPage(out);
  });

  it('vite dev server: no config', { timeout: 90_000 }, async () => {
    const port = await freePort();
    const server: ChildProcess = spawn(process.execPath, [bin('vite', 'bin/vite.js'), '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
      { cwd: app, env: quietEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    server.stdout!.on('data', (d) => { log += d; });
    server.stderr!.on('data', (d) => { log += d; });
    try {
      await until(() => log.includes(`127.0.0.1:${port}`), 30_000, () => `vite did not start:\n${log}`);
      const result = await pageResult(`http://127.0.0.1:${port}/`);
      expectSeed(result);
      expect(result.caught).toEqual(['InitError', 'InitError', true]);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('close', r));
    }
  });

  it('webpack 5: no config; the .wasm is emitted and no build-machine path is in the bundle', { timeout: 120_000 }, async () => {
    const out = path.join(app, 'dist-webpack');
    await node([bin('webpack-cli', 'bin/cli.js'), '--mode', 'production', '--entry', './src/main.js', '--output-path', out], 110_000);
    writeFileSync(path.join(out, 'index.html'), HTML('/main.js', 'text/javascript'));
    expect(files(out).filter((f) => f.endsWith('.wasm')).length).toBeGreaterThanOrEqual(1);
    const bundle = readFileSync(path.join(out, 'main.js'), 'utf8');
    expect(bundle).not.toContain('file://');
    expect(bundle).not.toContain(work);
    await checkBuiltPage(out);
  });
});

describe('Node apps bundled with wasmgrad', () => {
  const expectNodeApp = (stdout: string) => {
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(r.value).toBe(VALUE);
    expect(r.gradient).toEqual(GRADIENT);
    expect(r.kept).toBeGreaterThan(0);
    expect(r.kept).toBeLessThan(8);
    expect(r.sameClass).toBe(true);
  };

  it('unbundled: ESM import and CommonJS require of the entries share one runtime', { timeout: 30_000 }, async () => {
    expectNodeApp((await node(['node-app.js'], 20_000)).stdout);
    const cjs = "const wg = require('wasmgrad'); const { SGD } = require('wasmgrad/optim'); const io = require('wasmgrad/io');" +
      "wg.init().then(() => console.log(SGD === wg.optim.SGD, io.save === wg.io.save, wg.tensor([1, 2]).sum().item()))";
    expect((await node(['-e', cjs], 20_000)).stdout.trim()).toBe('true true 3');
  });

  it('esbuild --platform=node --bundle (CommonJS and ESM output): finds the .wasm in node_modules', { timeout: 60_000 }, async () => {
    await esbuildCli(['node-app.js', '--bundle', '--platform=node', '--log-level=error', '--outfile=out-node/app.cjs'], 30_000);
    await esbuildCli(['node-app.js', '--bundle', '--platform=node', '--format=esm', '--log-level=error', '--outfile=out-node/app.mjs'], 30_000);
    expectNodeApp((await node(['out-node/app.cjs'], 20_000)).stdout);
    expectNodeApp((await node(['out-node/app.mjs'], 20_000)).stdout);
    // Run from elsewhere: found from the script's folder.
    expectNodeApp((await node([path.join(app, 'out-node/app.cjs')], 20_000, work)).stdout);
  });

  it('bun build --target=node', { timeout: 60_000 }, async () => {
    await run(bunBin(), ['build', 'node-app.js', '--target=node', '--outdir=out-bun'], { cwd: app, timeoutMs: 30_000 });
    const built = files(path.join(app, 'out-bun')).find((f) => /\.m?js$/.test(f))!;
    expectNodeApp((await node([path.join('out-bun', built)], 20_000)).stdout);
  });

  it('a bundled app moved away from node_modules says where it looked and what to do', { timeout: 30_000 }, async () => {
    const lonely = path.join(work, 'lonely');
    mkdirSync(lonely, { recursive: true });
    cpSync(path.join(app, 'out-node/app.cjs'), path.join(lonely, 'app.cjs'));
    const error = await node([path.join(lonely, 'app.cjs')], 20_000, lonely).then(() => '', (e: Error) => e.message);
    expect(error).toMatch(/InitError: init: wasmgrad\.wasm not found \(looked at .*\)\. An app bundled for Node .* copy node_modules\/wasmgrad\/dist\/wasmgrad\.wasm next to the bundled script/);
    expect(error).not.toMatch(/npm run build/);
    // With the file beside it, it runs.
    cpSync(path.join(app, 'node_modules/wasmgrad/dist/wasmgrad.wasm'), path.join(lonely, 'wasmgrad.wasm'));
    expectNodeApp((await node([path.join(lonely, 'app.cjs')], 20_000, lonely)).stdout);
  });
});

describe('what an app ships', () => {
  it('tensors and gradients alone leave nn, optim, io and training out, without side-effect warnings', { timeout: 60_000 }, async () => {
    writeFileSync(path.join(app, 'src/minimal.js'), PAGE_SCRIPT);
    const plain = await esbuildCli(['src/minimal.js', '--bundle', '--format=esm', '--outfile=out-min/plain.js'], 30_000);
    expect(plain.stderr).not.toMatch(/Ignoring this import|no side effects/);
    const text = readFileSync(path.join(app, 'out-min/plain.js'), 'utf8');
    // Text found only in the code of nn.Linear, the optimizers, io (safetensors) and fit. (The
    // option declarations of those stay: they register in a table when the file loads.)
    const full = readFileSync(path.join(app, 'node_modules/wasmgrad/dist/wasmgrad.browser.js'), 'utf8');
    for (const marker of ['inFeatures, outFeatures', 'momentum_buffer', 'addParamGroup', 'safetensors', 'batches | loss']) {
      expect(full, marker).toContain(marker);
      expect(text, marker).not.toContain(marker);
    }
    await esbuildCli(['src/minimal.js', '--bundle', '--minify', '--format=esm', '--outfile=out-min/min.js'], 30_000);
    const js = gzipSync(readFileSync(path.join(app, 'out-min/min.js')), { level: 9 }).length;
    const wasm = gzipSync(readFileSync(path.join(app, 'node_modules/wasmgrad/dist/wasmgrad.wasm')), { level: 9 }).length;
    console.log(`minimal app: ${js} bytes of JS + ${wasm} bytes of wasm, gzipped: ${js + wasm}`);
    // The build's report measures the same app (README's size table).
    const sizes = JSON.parse(readFileSync(path.join(root, 'build/out/sizes.json'), 'utf8'));
    expect(Math.abs(sizes['minimal app (JS)'].gzip - js)).toBeLessThan(2000);
  });

  it('a sub-entry importing only dropout works (the files that add Tensor methods are kept)', { timeout: 30_000 }, async () => {
    writeFileSync(path.join(app, 'dropout.js'), "import { init, tensor } from 'wasmgrad';\nimport { Dropout } from 'wasmgrad/nn';\n" +
      'await init();\nconsole.log(new Dropout(0.5).call(tensor([1, 1, 1, 1])).shape.join());\n');
    const built = await esbuildCli(['dropout.js', '--bundle', '--platform=node', '--format=esm', '--outfile=out-min/dropout.mjs'], 30_000);
    expect(built.stderr).not.toMatch(/Ignoring this import|no side effects/);
    expect((await node(['out-min/dropout.mjs'], 20_000)).stdout.trim()).toBe('4');
  });
});

/** A TCP port free at the moment. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until(ok: () => boolean, timeoutMs: number, message: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(message());
    await new Promise((r) => setTimeout(r, 100));
  }
}

