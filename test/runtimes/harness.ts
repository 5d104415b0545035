// Starting and stopping the other runtimes for the cross-runtime tests: Deno, Bun and workerd from
// their npm packages (the platform packages' binaries, so no install script has to have run),
// Chromium through playwright-core (WASMGRAD_CHROMIUM, else Debian's /usr/bin/chromium, else the
// one inside the @sparticuz/chromium devDependency), headless Firefox (Debian's firefox-esr, its
// pages reporting by POST), and a static file server on loopback.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  accessSync, constants, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync,
  readFileSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib';

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

export interface Site {
  url: string;
  /** The JSON a page POSTed to /__report/<id> (at once if it came already); rejects after `timeoutMs`. */
  report(id: string, timeoutMs: number): Promise<any>;
  close(): Promise<void>;
}

/**
 * A static file server on 127.0.0.1 (ephemeral port) for the files under `base`, sent with a
 * Content-Security-Policy that allows scripts from the page's origin and compiling wasm but no
 * eval or new Function: a page that needed runtime code generation would fail under it.
 * `routes` maps URL paths to files outside `base`; `inject` is the URL of a module script put
 * into every HTML page before its first script (a probe that reports what the page did).
 * Pages report results with a POST of JSON to /__report/<id> (see report()): that is how the
 * Firefox tests, which have no driver, hear from their pages.
 */
export async function serveStatic(base: string, routes: Record<string, string> = {}, options: { inject?: string } = {}): Promise<Site> {
  const reports = new Map<string, unknown>();
  const waiting = new Map<string, (value: unknown) => void>();
  const server: Server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (pathname === '/favicon.ico') { res.writeHead(204).end(); return; } // browsers ask for it unprompted
    if (pathname.startsWith('/__report/')) {
      if (req.method !== 'POST') { res.writeHead(405).end(); return; }
      const id = pathname.slice('/__report/'.length);
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (d: Buffer) => { size += d.length; if (size <= 16 << 20) chunks.push(d); });
      req.on('end', () => {
        let value: unknown;
        try { value = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) { value = { error: `unreadable report: ${e}` }; }
        reports.set(id, value);
        waiting.get(id)?.(value);
        res.writeHead(204).end();
      });
      return;
    }
    const mapped = routes[pathname];
    const file = mapped ?? path.join(base, pathname.endsWith('/') ? pathname + 'index.html' : pathname);
    const resolved = path.resolve(file);
    if (mapped === undefined && !resolved.startsWith(path.resolve(base) + path.sep)) { res.writeHead(403).end(); return; }
    let body: Buffer;
    try { body = readFileSync(resolved); } catch { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return; }
    if (options.inject !== undefined && path.extname(resolved) === '.html') {
      const html = body.toString('utf8');
      const at = html.search(/<script\b/i);
      const tag = `<script type="module" src="${options.inject}"></script>\n`;
      body = Buffer.from(at < 0 ? html + tag : html.slice(0, at) + tag + html.slice(at));
    }
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
    report: (id, timeoutMs) => new Promise((resolve, reject) => {
      if (reports.has(id)) { resolve(reports.get(id)); return; }
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`no report '${id}' from the page within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, (value) => { clearTimeout(timer); waiting.delete(id); resolve(value); });
    }),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

// ————————————————————————————————————————————————————————————————————————— Chromium

/** Where the Chromium tests' browser comes from, and how to start it. */
export interface ChromiumBinary { executablePath: string; source: string; env: NodeJS.ProcessEnv }

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

const isExecutable = (file: string): boolean => {
  try { accessSync(file, constants.X_OK); return statSync(file).isFile(); } catch { return false; }
};

/** A ustar archive's regular files and directories, written under `dest` (nothing outside it). */
function untar(archive: Buffer, dest: string): void {
  const field = (at: number, length: number): string => archive.subarray(at, at + length).toString('utf8').replace(/\0.*$/s, '');
  for (let at = 0; at + 512 <= archive.length;) {
    const name = field(at, 100);
    if (name === '') break; // the two zero blocks at the end
    const size = parseInt(field(at + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(archive[at + 156]);
    const prefix = field(at + 257, 6) === 'ustar' ? field(at + 345, 155) : '';
    const target = path.resolve(dest, prefix ? `${prefix}/${name}` : name);
    if (target !== path.resolve(dest) && !target.startsWith(path.resolve(dest) + path.sep)) {
      throw new Error(`untar: ${name} would land outside ${dest}`);
    }
    if (type === '5') mkdirSync(target, { recursive: true });
    else if (type === '0' || type === '\0') {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, archive.subarray(at + 512, at + 512 + size));
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

/**
 * The Chromium inside the @sparticuz/chromium package (a Brotli-compressed chrome-headless-shell
 * for linux-x64, with fonts and the NSS/NSPR/expat libraries of Amazon Linux 2023 beside it),
 * unpacked once per package version into os.tmpdir()/wasmgrad-chromium-<version>/: the binary,
 * fonts/ with a fonts.conf, and lib/. The package's own executablePath() is not used: it
 * unpacks into os.tmpdir() itself (/tmp/chromium, /tmp/fonts, ...), unversioned, and its
 * recommended flags turn cross-origin isolation off. Unpacking goes to a temporary directory
 * renamed into place, so concurrent test files never see half a binary.
 */
async function sparticuzChromium(): Promise<ChromiumBinary> {
  let pkgDir: string;
  try {
    pkgDir = path.resolve(path.dirname(require.resolve('@sparticuz/chromium')), '..');
  } catch {
    throw new Error('Chromium: no WASMGRAD_CHROMIUM, no /usr/bin/chromium, and @sparticuz/chromium is not installed ' +
      '(run npm install: it is a devDependency), or install Debian\'s chromium');
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`Chromium: @sparticuz/chromium ships a linux-x64 Chromium only (this is ${process.platform}-${process.arch}); ` +
      'set WASMGRAD_CHROMIUM to a Chromium or Chrome binary');
  }
  const { version } = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const bin = path.join(pkgDir, 'bin');
  const dir = path.join(tmpdir(), `wasmgrad-chromium-${version}`);
  const executablePath = path.join(dir, 'chromium');
  if (!existsSync(executablePath)) {
    // Leftovers of interrupted unpacks (each ~200 MB) older than ten minutes go first.
    for (const entry of readdirSync(tmpdir())) {
      if (!entry.startsWith(`wasmgrad-chromium-${version}.partial-`)) continue;
      const stale = path.join(tmpdir(), entry);
      try { if (Date.now() - statSync(stale).mtimeMs > 600_000) rmSync(stale, { recursive: true, force: true }); } catch { /* gone */ }
    }
    const partial = mkdtempSync(`${dir}.partial-`);
    try {
      await pipeline(createReadStream(path.join(bin, 'chromium.br')), createBrotliDecompress(),
        createWriteStream(path.join(partial, 'chromium'), { mode: 0o755 }));
      untar(brotliDecompressSync(readFileSync(path.join(bin, 'fonts.tar.br'))), partial);
      untar(brotliDecompressSync(readFileSync(path.join(bin, 'al2023.tar.br'))), partial);
      writeFileSync(path.join(partial, 'fonts.conf'), '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n' +
        `<fontconfig>\n  <dir>${dir}/fonts</dir>\n  <dir>/usr/share/fonts</dir>\n  <cachedir>${dir}/fonts-cache</cachedir>\n</fontconfig>\n`);
      try {
        renameSync(partial, dir);
      } catch (e) {
        if (!existsSync(executablePath)) throw e; // else another test file unpacked it first
      }
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  }
  const env: NodeJS.ProcessEnv = { ...process.env, FONTCONFIG_PATH: dir };
  // It needs only libc, libgcc, expat, NSPR and NSS: the system's when it has them, else the
  // package's (built for glibc ≥ 2.34), put first on the library path.
  const probe = (e: NodeJS.ProcessEnv) => spawnSync(executablePath, ['--version'], { env: e, encoding: 'utf8', timeout: 30_000 });
  let check = probe(env);
  if (check.status !== 0 && /error while loading shared libraries/.test(check.stderr)) {
    env.LD_LIBRARY_PATH = [path.join(dir, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    check = probe(env);
  }
  if (check.status !== 0) {
    throw new Error(`Chromium from @sparticuz/chromium ${version} (${executablePath}) does not start: ` +
      `${check.error ?? check.stderr.trim()}`);
  }
  return { executablePath, source: `@sparticuz/chromium ${version} (${check.stdout.trim()}, unpacked in ${dir})`, env };
}

let chromiumFound: Promise<ChromiumBinary> | undefined;

/**
 * The Chromium for the browser tests: $WASMGRAD_CHROMIUM (a path), else Debian's
 * /usr/bin/chromium, else the one in the @sparticuz/chromium devDependency, so that
 * `npm install && npm test` needs no apt on linux-x64. WASMGRAD_BROWSER_SOURCE=sparticuz takes
 * the package's even where the others exist (to test that path).
 */
export function findChromium(): Promise<ChromiumBinary> {
  return chromiumFound ??= (async () => {
    const forced = process.env.WASMGRAD_BROWSER_SOURCE;
    if (forced !== undefined && forced !== '' && forced !== 'sparticuz') {
      throw new Error(`WASMGRAD_BROWSER_SOURCE=${forced}: the only value is 'sparticuz' (unset, the lookup order applies)`);
    }
    if (forced === 'sparticuz') return sparticuzChromium();
    const fromEnv = process.env.WASMGRAD_CHROMIUM;
    if (fromEnv !== undefined && fromEnv !== '') {
      if (!isExecutable(fromEnv)) throw new Error(`WASMGRAD_CHROMIUM=${fromEnv} is not an executable file`);
      return { executablePath: fromEnv, source: `WASMGRAD_CHROMIUM (${fromEnv})`, env: process.env };
    }
    if (isExecutable(SYSTEM_CHROMIUM)) return { executablePath: SYSTEM_CHROMIUM, source: SYSTEM_CHROMIUM, env: process.env };
    return sparticuzChromium();
  })();
}

/**
 * Chromium (see findChromium), headless, through playwright-core, with a fresh profile and the
 * harness's own flags: the pages stay cross-origin isolated (the threads tests need it), so
 * @sparticuz/chromium's recommended flags, which turn isolation and web security off, are not
 * used; none of them is needed to start it.
 */
export async function launchChromium(): Promise<{ context: import('playwright-core').BrowserContext; source: string; close(): Promise<void> }> {
  const binary = await findChromium();
  console.log(`Chromium: ${binary.source}${binary.env.LD_LIBRARY_PATH?.includes('wasmgrad-chromium-') ? ', with its own NSS' : ''}`);
  const { chromium } = await import('playwright-core');
  // A fresh profile each time (playwright passes it as --user-data-dir).
  const profile = mkdtempSync(path.join(tmpdir(), 'wasmgrad-chromium-profile-'));
  let context: import('playwright-core').BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: binary.executablePath,
      env: binary.env,
      headless: true,
      timeout: 60_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`Chromium from ${binary.source} did not launch: ${(e as Error).message}`);
  }
  return {
    context,
    source: binary.source,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// —————————————————————————————————————————————————————————————————————————— Firefox

/** The skipped test's name where Firefox is missing (and the failure's, with WASMGRAD_REQUIRE_FIREFOX=1). */
export const FIREFOX_MISSING = 'Firefox: firefox-esr is not installed (apt-get install firefox-esr)';

/** Whether a missing Firefox fails the suite (.ci/run sets WASMGRAD_REQUIRE_FIREFOX=1) instead of skipping its tests. */
export const firefoxRequired = (): boolean => process.env.WASMGRAD_REQUIRE_FIREFOX === '1';

/** $WASMGRAD_FIREFOX (a path), else firefox-esr or firefox on the PATH; undefined when there is none. */
export function findFirefox(): string | undefined {
  const fromEnv = process.env.WASMGRAD_FIREFOX;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isExecutable(fromEnv)) throw new Error(`WASMGRAD_FIREFOX=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of ['firefox-esr', 'firefox']) {
    for (const dir of dirs) if (isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/**
 * Firefox for a describe block of browser tests: its path, or, where it is missing, undefined
 * after registering a test named FIREFOX_MISSING — skipped, and said on stderr too (the default
 * reporter lists no skipped names), or failing with WASMGRAD_REQUIRE_FIREFOX=1 (CI).
 */
export function firefoxForTests(it: typeof import('vitest').it): string | undefined {
  const firefox = findFirefox();
  if (firefox !== undefined) return firefox;
  if (firefoxRequired()) {
    it(`${FIREFOX_MISSING}, and WASMGRAD_REQUIRE_FIREFOX=1`, () => { throw new Error(`${FIREFOX_MISSING}; CI requires it`); });
  } else {
    it.skip(FIREFOX_MISSING, () => {});
    console.warn(`${FIREFOX_MISSING}: its tests are skipped here (WASMGRAD_REQUIRE_FIREFOX=1, as in CI, fails them instead)`);
  }
  return undefined;
}

// A quiet profile: no first-run pages, updates, telemetry, safe browsing or other network use.
const FIREFOX_PREFS: Record<string, string | number | boolean> = {
  'app.update.auto': false, 'app.update.disabledForTesting': true, 'app.normandy.enabled': false,
  'browser.aboutwelcome.enabled': false, 'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore', 'browser.startup.page': 0,
  'browser.newtabpage.enabled': false, 'browser.sessionstore.resume_from_crash': false,
  'browser.safebrowsing.malware.enabled': false, 'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false, 'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.region.network.url': '', 'browser.search.update': false, 'browser.tabs.warnOnClose': false,
  'datareporting.policy.dataSubmissionEnabled': false, 'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.enabled': false, 'toolkit.telemetry.reportingpolicy.firstRun': false,
  'toolkit.startup.max_resumed_crashes': -1, 'extensions.update.enabled': false,
  'extensions.getAddons.cache.enabled': false, 'extensions.blocklist.enabled': false,
  'network.captive-portal-service.enabled': false, 'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true, 'network.prefetch-next': false, 'dom.max_script_run_time': 0,
  'media.gmp-manager.url': '', 'services.settings.server': 'http://127.0.0.1:9/',
};

/** The live (non-zombie) processes of process group `pgid`, from /proc. */
export function processGroupMembers(pgid: number): number[] {
  const alive: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try { stat = readFileSync(`/proc/${entry}/stat`, 'utf8'); } catch { continue; }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') alive.push(Number(entry));
  }
  return alive;
}

export interface Firefox {
  /** Firefox's process group (the main process's pid). */
  pgid: number;
  /** The temporary directory with the profile and HOME; deleted by close(). */
  dir: string;
  /** What Firefox printed so far. */
  log(): string;
  /** The report a page POSTs to `site` under `id`; rejects when Firefox exits first or after `timeoutMs`. */
  report(site: Site, id: string, timeoutMs: number): Promise<any>;
  /**
   * Stops the whole process group (SIGTERM; SIGKILL after 5 s) and deletes the directory; rejects
   * if a Firefox process outlives that. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Opens `url` in headless Firefox with a fresh profile, in its own process group. There is no
 * driver: the pages report by POSTing to the test's server (Site.report), and a page may go on
 * to the next one itself (the determinism page's &next=). playwright-core drives only its own
 * patched Firefox, and its WebDriver BiDi client needs commands that firefox-esr lacks.
 */
export function launchFirefox(executable: string, url: string): Firefox {
  // One temporary directory holds the profile and a HOME (so that Firefox's caches and config
  // land there too, and running as root never meets a HOME owned by another user).
  const dir = mkdtempSync(path.join(tmpdir(), 'wasmgrad-firefox-'));
  const profile = path.join(dir, 'profile'), home = path.join(dir, 'home');
  mkdirSync(profile);
  mkdirSync(home);
  writeFileSync(path.join(profile, 'user.js'),
    Object.entries(FIREFOX_PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));
  const child = spawn(executable, ['--headless', '--no-remote', '--new-instance', '--profile', profile, url], {
    detached: true, // its own process group, which close() stops as a whole (content processes too)
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: home, XDG_CACHE_HOME: path.join(home, '.cache'), XDG_CONFIG_HOME: path.join(home, '.config'),
      MOZ_CRASHREPORTER_DISABLE: '1', MOZ_DISABLE_AUTO_SAFE_MODE: '1', MOZ_HEADLESS: '1' },
  });
  let log = '';
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  const exited = new Promise<string>((r) => {
    child.on('error', (e) => r(`Firefox (${executable}) did not start: ${e.message}`));
    child.on('exit', (code, sig) => r(`Firefox exited with ${code ?? sig}`));
  });
  const pgid = child.pid ?? -1;
  const signal = (sig: NodeJS.Signals) => { if (pgid > 0) try { process.kill(-pgid, sig); } catch { /* none left */ } };
  let closing: Promise<void> | undefined;
  return {
    pgid,
    dir,
    log: () => log,
    report: (site, id, timeoutMs) => Promise.race([
      site.report(id, timeoutMs),
      exited.then((why) => { throw new Error(`${why} before the page reported '${id}'`); }),
    ]).catch((e: Error) => { throw new Error(`${e.message}\nFirefox (${executable}) said:\n${log.slice(-4000)}`); }),
    close: () => closing ??= (async () => {
      try {
        signal('SIGTERM');
        const killer = setTimeout(() => signal('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
        if (pgid > 0) {
          for (let waited = 0; processGroupMembers(pgid).length > 0; waited += 100) {
            if (waited === 3_000) signal('SIGKILL');
            if (waited >= 8_000) throw new Error(`Firefox processes ${processGroupMembers(pgid).join(', ')} outlived the stop`);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    })(),
  };
}

/** Opens `url` in headless Firefox, waits for the page's report `id`, and closes Firefox. */
export async function runInFirefox(executable: string, site: Site, url: string, id: string, timeoutMs: number):
    Promise<{ report: any; pgid: number; dir: string }> {
  const firefox = launchFirefox(executable, url);
  try {
    return { report: await firefox.report(site, id, timeoutMs), pgid: firefox.pgid, dir: firefox.dir };
  } finally {
    await firefox.close();
  }
}
