// Starting and stopping the other runtimes for the cross-runtime tests: Deno, Bun and workerd from
// their npm packages (the platform packages' binaries, so no install script has to have run),
// Debian's Chromium through playwright-core, and a static file server on loopback.

import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

/**
 * The binary inside an npm platform package (e.g. @deno/linux-x64-glibc), found without the main
 * package's postinstall having run; falls back to the main package's own bin when that ran.
 */
function platformBinary(tool: string, candidates: Record<string, string>, fallback: string): string {
  const key = `${process.platform}-${process.arch}`;
  const rel = candidates[key];
  if (rel !== undefined) {
    try {
      const pkg = rel.split('/').slice(0, 2).join('/');
      const file = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), rel.split('/').slice(2).join('/'));
      if (existsSync(file)) return file;
    } catch { /* not installed: try the fallback */ }
  }
  const file = path.join(root, 'node_modules', fallback);
  if (existsSync(file) && statSync(file).size > 100_000) return file;
  throw new Error(`${tool}: no binary for ${key} (looked for ${rel ?? 'no platform package'} and ${fallback}); ` +
    'run npm install (the devDependencies include it)');
}

export const denoBin = (): string => platformBinary('deno', {
  'linux-x64': '@deno/linux-x64-glibc/deno', 'linux-arm64': '@deno/linux-arm64-glibc/deno',
  'darwin-x64': '@deno/darwin-x64/deno', 'darwin-arm64': '@deno/darwin-arm64/deno',
}, 'deno/deno');

export const bunBin = (): string => platformBinary('bun', {
  'linux-x64': '@oven/bun-linux-x64/bin/bun', 'linux-arm64': '@oven/bun-linux-aarch64/bin/bun',
  'darwin-x64': '@oven/bun-darwin-x64/bin/bun', 'darwin-arm64': '@oven/bun-darwin-aarch64/bin/bun',
}, 'bun/bin/bun.exe');

export const workerdBin = (): string => platformBinary('workerd', {
  'linux-x64': '@cloudflare/workerd-linux-64/bin/workerd', 'linux-arm64': '@cloudflare/workerd-linux-arm64/bin/workerd',
  'darwin-x64': '@cloudflare/workerd-darwin-64/bin/workerd', 'darwin-arm64': '@cloudflare/workerd-darwin-arm64/bin/workerd',
}, '@cloudflare/workerd-linux-64/bin/workerd');

/** Environment for the child runtimes: no update checks or telemetry (there is no network). */
export function quietEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0',
    DO_NOT_TRACK: '1', NO_COLOR: '1', ...extra };
}

export interface RunResult { stdout: string; stderr: string; code: number | null }

/** Runs a command to completion, killing it after `timeoutMs`; rejects on timeout or nonzero exit. */
export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd ?? root, env: options.env ?? quietEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(cmd)} ${args.join(' ')}: timed out after ${options.timeoutMs} ms\n${stderr}`));
    }, options.timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited with ${code}\n${stderr}\n${stdout.slice(0, 2000)}`));
      else resolve({ stdout, stderr, code });
    });
  });
}

export interface Workerd { port: number; url: string; stop(): Promise<void>; log(): string }

/**
 * Starts `workerd serve config` with its sockets on ephemeral loopback ports (the config says
 * 127.0.0.1:0) and waits for the port of `socket`, which workerd reports on its control fd.
 */
export function startWorkerd(config: string, socket = 'http', timeoutMs = 30_000): Promise<Workerd> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(workerdBin(), ['serve', config, '--control-fd=3'],
      { cwd: root, env: quietEnv(), stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let log = '', control = '', done = false;
    child.stdout!.on('data', (d) => { log += d; });
    child.stderr!.on('data', (d) => { log += d; });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      void stop();
      reject(new Error(`workerd did not listen within ${timeoutMs} ms\n${log}`));
    }, timeoutMs);
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d) => {
      control += d;
      for (const line of control.split('\n')) {
        if (!line.trim()) continue;
        let msg: { event?: string; socket?: string; port?: number };
        try { msg = JSON.parse(line); } catch { continue; }
        if (msg.event === 'listen' && msg.socket === socket && !done) {
          done = true;
          clearTimeout(timer);
          resolve({ port: msg.port!, url: `http://127.0.0.1:${msg.port}`, stop, log: () => log });
        }
      }
    });
    child.on('exit', (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`workerd exited with ${code} before listening\n${log}`));
    });
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.png': 'image/png',
};

/**
 * A static file server on 127.0.0.1 (ephemeral port) for the files under `base`, sent with a
 * Content-Security-Policy that allows scripts from the page's origin and compiling wasm but no
 * eval or new Function: a page that needed runtime code generation would fail under it.
 */
export async function serveStatic(base: string, routes: Record<string, string> = {}): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (pathname === '/favicon.ico') { res.writeHead(204).end(); return; } // browsers ask for it unprompted
    const mapped = routes[pathname];
    const file = mapped ?? path.join(base, pathname.endsWith('/') ? pathname + 'index.html' : pathname);
    const resolved = path.resolve(file);
    if (mapped === undefined && !resolved.startsWith(path.resolve(base) + path.sep)) { res.writeHead(403).end(); return; }
    let body: Buffer;
    try { body = readFileSync(resolved); } catch { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return; }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(resolved)] ?? 'application/octet-stream',
      'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'",
      'cache-control': 'no-store',
      // Cross-origin isolated, so that pages may share memory with workers (init({ threads })).
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's Chromium, headless, through playwright-core, with a fresh profile. Fails with the
 * install command when Chromium is missing (CI installs it in .ci/run; never skipped).
 */
export async function launchChromium(): Promise<{ context: import('playwright-core').BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: install Debian's package with ` +
      "'apt-get update && apt-get install -y chromium' (.ci/run does this), then run the tests again");
  }
  const { chromium } = await import('playwright-core');
  // A fresh profile each time (playwright passes it as --user-data-dir).
  const profile = mkdtempSync(path.join(tmpdir(), 'wasmgrad-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
