// The one build: asc (SIMD, optimised) → wasm-opt (binaryen) → esbuild bundles → .d.ts types.
//   node build/build.mjs          everything (wasm, dist/ bundles, types)
//   node build/build.mjs --wasm   only build/out/wasmgrad.wasm (what the tests need)
// Reports the raw and gzipped sizes of the .wasm and the JS bundles (build/out/sizes.json), and
// rewrites README.md's size table from them (build/size-table.mjs).

import { execFileSync } from 'node:child_process';
import { mkdirSync, copyFileSync, readFileSync, writeFileSync, statSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
const out = path.join(root, 'build', 'out');
const dist = path.join(root, 'dist');

export function buildWasm() {
  mkdirSync(out, { recursive: true });
  // The rule tables and the typed bindings come from the op spec (and check it against the module).
  run(process.execPath, [path.join(root, 'build/gen-ops.mjs')]);
  // Two builds of the one source: wasmgrad.wasm owns its memory (every runtime); the threads build
  // imports a shared memory that worker instances use too (init({ threads }), src/threads.ts).
  for (const [target, name] of [['release', 'wasmgrad'], ['threads', 'wasmgrad.threads']]) {
    run(bin('asc'), ['assembly/index.ts', '--config', 'asconfig.json', '--target', target, '--disableWarning', '201']);
    // Only features every current engine ships; relaxed SIMD stays off (determinism). Atomics
    // (threads) are only executed by the threads build.
    run(bin('wasm-opt'), [path.join(out, `${name}.raw.wasm`), '-O3', '--enable-simd', '--enable-bulk-memory',
      '--enable-sign-ext', '--enable-nontrapping-float-to-int', '--enable-mutable-globals', '--enable-threads',
      '-o', path.join(out, `${name}.wasm`)]);
  }
  buildWorker();
}

/**
 * The worker threads' script: standalone, for every runtime (it imports nothing of wasmgrad). Its
 * top-level await is wrapped in an async function, so that the file is valid as a classic script
 * too: bundlers that emit it as an asset may minify it as one (webpack's Terser does).
 */
export function buildWorker() {
  run(bin('esbuild'), ['src/thread-worker.ts', '--bundle', '--format=esm', '--platform=neutral', '--target=es2022',
    '--external:node:worker_threads', '--log-level=warning', '--banner:js=(async () => {', '--footer:js=})();',
    `--outfile=${path.join(out, 'wasmgrad.worker.js')}`]);
}

/** True when a build/out/ module or the worker script is missing or older than its sources. */
export function wasmIsStale() {
  const targets = ['wasmgrad.wasm', 'wasmgrad.threads.wasm', 'wasmgrad.worker.js'].map((f) => path.join(out, f));
  if (targets.some((f) => !existsSync(f))) return true;
  const built = Math.min(...targets.map((f) => statSync(f).mtimeMs));
  const sources = readdirSync(path.join(root, 'assembly'), { recursive: true }).map((f) => path.join(root, 'assembly', f));
  return [...sources, path.join(root, 'asconfig.json'), path.join(root, 'src/thread-worker.ts'), path.join(root, 'src/spec/ops.ts')]
    .some((f) => statSync(f).mtimeMs > built);
}

// The subpath entries wasmgrad/nn, wasmgrad/optim and wasmgrad/io: each a small module that
// re-exports the namespace of the main bundle beside it (so there is one runtime, one Tensor
// class, whichever entry an app imports), for ESM (Node and browser builds) and CommonJS.
const SUBPATHS = ['nn', 'optim', 'io'];
// What each bundle is for, with what goes into it (sizes are reported for all of them).
//   index.js             ESM for Node, Deno and Bun (reads the .wasm beside it)
//   index.cjs            CommonJS for Node's require
//   wasmgrad.browser.js  ESM for browsers, workers and bundlers (fetches the .wasm beside it)
//   wasmgrad.inline.js   the browser bundle with the .wasm inlined as base64: one file, no asset
//   nn.js, nn.browser.js, nn.cjs (and optim, io)  the subpath entries
const BUNDLES = ['index.js', 'index.cjs', 'wasmgrad.browser.js', 'wasmgrad.inline.js',
  ...SUBPATHS.flatMap((n) => [`${n}.js`, `${n}.browser.js`, `${n}.cjs`])];

/** True when a dist/ bundle is missing or older than the .wasm or any file under src/. */
export function bundlesAreStale() {
  const bundles = [...BUNDLES, 'wasmgrad.wasm', 'wasmgrad.threads.wasm', 'wasmgrad.worker.js'].map((f) => path.join(dist, f));
  if (bundles.some((f) => !existsSync(f))) return true;
  const built = Math.min(...bundles.map((f) => statSync(f).mtimeMs));
  const sources = readdirSync(path.join(root, 'src'), { recursive: true }).map((f) => path.join(root, 'src', f));
  return [...sources, path.join(out, 'wasmgrad.wasm'), fileURLToPath(import.meta.url)].some((f) => statSync(f).mtimeMs > built);
}

// Every bundle finds its files beside itself (src/platform/shipped.bundle.ts), never in build/out/
// as the tests running from src/ do (shipped.ts); the one-file bundle finds none (shipped.inline.ts).
const shippedFiles = (variant) => ({
  name: 'wasmgrad-shipped',
  setup(build) {
    build.onResolve({ filter: /\/platform\/shipped\.js$/ }, (args) => {
      const file = path.resolve(args.resolveDir, args.path);
      return { path: path.join(path.dirname(file), `shipped.${variant}.ts`) };
    });
  },
});

// Browser and edge bundles load the .wasm over fetch (or get it handed to init); this swaps the
// Node file reader, worker starter and package lookup for browser stand-ins, so that no `node:`
// import reaches a browser or edge bundler.
const browserPlatform = {
  name: 'wasmgrad-browser',
  setup(build) {
    build.onResolve({ filter: /\/platform\/(read-file|spawn-worker|locate)\.js$/ }, (args) => {
      const file = path.resolve(args.resolveDir, args.path);
      return { path: path.join(path.dirname(file), path.basename(file, '.js') + '.browser.ts') };
    });
  },
};

/** The runtime names a module exports (its type-only exports are erased), from an esbuild metafile. */
async function exportNames(esbuild, entry) {
  const result = await esbuild.build({ entryPoints: [entry], bundle: true, write: false, metafile: true, format: 'esm',
    platform: 'neutral', outdir: out, logLevel: 'warning', external: ['node:*'], packages: 'external' });
  return Object.values(result.metafile.outputs)[0].exports.slice().sort();
}

/** The three files of one subpath entry: ESM over index.js and over wasmgrad.browser.js, CommonJS over index.cjs. */
function writeSubpath(name, names) {
  const head = `// wasmgrad/${name}: the ${name} namespace of wasmgrad as a module of its own (the same classes and\n` +
    '// functions as `' + name + '` of the main entry, on the same runtime).\n';
  const esm = (main) => `${head}import { ${name} } from './${main}';\nexport const {\n` +
    names.map((n) => `  ${n},\n`).join('') + `} = ${name};\n`;
  writeFileSync(path.join(dist, `${name}.js`), esm('index.js'));
  writeFileSync(path.join(dist, `${name}.browser.js`), esm('wasmgrad.browser.js'));
  writeFileSync(path.join(dist, `${name}.cjs`), `${head}'use strict';\nmodule.exports = require('./index.cjs').${name};\n`);
}

/**
 * An ESM bundle that the bundlers of apps can tree-shake (esbuild's output as it is keeps nearly
 * all of wasmgrad in an app that uses a few functions): the namespaces nn, optim and io become
 * object literals of getters instead of `__export(ns, {...})` calls, which a bundler must keep
 * with everything they name; and keepNames' `__name(f, "f")` statements after function
 * declarations go (a declaration has its name already; they would keep every function), while
 * its `static { __name(this, "X") }` in classes stays, so classes keep their names through any
 * minifier (errors are told apart by name: err.name === 'InitError').
 */
function treeShakable(code, file) {
  let namespaces = 0;
  code = code.replace(/^var ([\w$]+_exports) = \{\};\n__export\(\1, \{\n([^]*?)\n\}\);$/gm, (_, ns, body) => {
    namespaces++;
    const getters = body.split(',\n').map((line) => {
      const m = /^\s*([\w$]+): \(\) => ([\w$]+)$/.exec(line);
      if (m === null) throw new Error(`${file}: unexpected namespace entry ${JSON.stringify(line)} (esbuild's output changed?)`);
      return `  get ${m[1]}() { return ${m[2]}; }`;
    });
    return `var ${ns} = {\n${getters.join(',\n')}\n};`;
  });
  code = code.replace(/^\s*__name\((?!this\b)[\w$]+, "[\w$]+"\);\n/gm, '');
  code = code.replace(/^(\s*)static \{\n\s*__name\(this, ("[\w$]+")\);\n\s*\}$/gm, '$1static name = $2;');
  if (namespaces === 0 || /\b__export\(/.test(code)) throw new Error(`${file}: namespaces not rewritten (esbuild's output changed?)`);
  return code;
}

// The bundles the package ships (BUNDLES above). No source maps ship: the Node bundles are not
// minified (readable stack traces); the browser and inline bundles are (whitespace and names),
// keeping class names. Syntax is not minified: it would merge the namespace objects that
// rewriteNamespaces makes droppable, and nn, optim and io would stay in every app.
export async function buildBundles({ types = true } = {}) {
  const esbuild = await import('esbuild');
  if (types) rmSync(dist, { recursive: true, force: true }); // a full build starts clean
  mkdirSync(dist, { recursive: true });
  for (const f of readdirSync(dist)) if (f.endsWith('.map')) rmSync(path.join(dist, f)); // from older builds
  const wasmPath = path.join(out, 'wasmgrad.wasm');
  copyFileSync(wasmPath, path.join(dist, 'wasmgrad.wasm'));
  copyFileSync(path.join(out, 'wasmgrad.threads.wasm'), path.join(dist, 'wasmgrad.threads.wasm'));
  copyFileSync(path.join(out, 'wasmgrad.worker.js'), path.join(dist, 'wasmgrad.worker.js'));
  const common = { entryPoints: [path.join(root, 'src/index.ts')], bundle: true, target: 'es2022', sourcemap: false,
    logLevel: 'warning', keepNames: true, legalComments: 'none' };
  /** An ESM bundle, made tree-shakable, minified or not. */
  const esm = async (outfile, options, minify) => {
    const result = await esbuild.build({ ...common, ...options, format: 'esm', write: false, outfile });
    let code = treeShakable(result.outputFiles[0].text, path.basename(outfile));
    if (minify) {
      code = (await esbuild.transform(code, { format: 'esm', target: 'es2022', minifyWhitespace: true,
        minifyIdentifiers: true, legalComments: 'none', logLevel: 'warning' })).code;
    }
    writeFileSync(outfile, code);
  };
  await esm(path.join(dist, 'index.js'), { platform: 'neutral', plugins: [shippedFiles('bundle')],
    external: ['node:fs/promises', 'node:worker_threads', 'node:module', 'node:url'] }, false);
  await esbuild.build({ ...common, format: 'cjs', platform: 'node', outfile: path.join(dist, 'index.cjs'),
    plugins: [shippedFiles('bundle')], define: { 'import.meta.url': '__wasmgradModuleUrl' },
    banner: { js: "const __wasmgradModuleUrl = require('node:url').pathToFileURL(__filename).href;" } });
  await esm(path.join(dist, 'wasmgrad.browser.js'), { platform: 'browser', plugins: [browserPlatform, shippedFiles('bundle')] }, true);
  await esm(path.join(dist, 'wasmgrad.inline.js'), { platform: 'browser', entryPoints: [path.join(root, 'src/inline.ts')],
    plugins: [browserPlatform, shippedFiles('inline')],
    define: { __WASMGRAD_WASM_BASE64__: JSON.stringify(readFileSync(wasmPath).toString('base64')) } }, true);
  for (const name of SUBPATHS) writeSubpath(name, await exportNames(esbuild, path.join(root, `src/${name}/index.ts`)));
  if (types) {
    run(bin('tsc'), ['-p', 'tsconfig.build.json']);
    writeCjsTypes();
  }
}

/**
 * The CommonJS entries' own types: dist/types-cjs/ is dist/types/ as .d.cts files importing each
 * other as .cjs, so that `require('wasmgrad')` is typed as CommonJS (a .d.ts under "type": "module"
 * would be ESM: "masquerading as ESM", arethetypeswrong). package.json's require conditions point there.
 */
export function writeCjsTypes(from = path.join(dist, 'types'), to = path.join(dist, 'types-cjs')) {
  rmSync(to, { recursive: true, force: true });
  const relative = /((?:from|import|declare module)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*?)\.js\2/g;
  for (const f of readdirSync(from, { recursive: true })) {
    if (!f.endsWith('.d.ts')) continue;
    const text = readFileSync(path.join(from, f), 'utf8').replace(relative, '$1$2$3.cjs$2');
    const out = path.join(to, f.slice(0, -'.d.ts'.length) + '.d.cts');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, text);
  }
}

// The smallest useful app (tensors and valueAndGrad, the seed example), bundled for the browser
// the way an app would (esbuild --bundle --minify, 'wasmgrad' through its browser export): what
// it costs to ship wasmgrad. Reported beside the files.
const MINIMAL_APP = `import { init, tensor, valueAndGrad } from 'wasmgrad';
await init();
const f = (x) => { const [x1, x2] = x.unstack(); return x1.mul(x1.square().add(x2.square()).mul(-0.5).exp()); };
const [y, g] = valueAndGrad(f)(tensor([2, 0.5], { dtype: 'float64' }));
document.body.textContent = JSON.stringify([y.item(), g.toArray()]);
`;

function minimalAppSize() {
  const esbuild = createRequire(import.meta.url)('esbuild'); // synchronous: report() is called without await
  const result = esbuild.buildSync({ stdin: { contents: MINIMAL_APP, resolveDir: root, loader: 'js' }, bundle: true,
    minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'warning' });
  const js = result.outputFiles[0].contents;
  return { bytes: js.length, gzip: gzipSync(js, { level: 9 }).length };
}

/** Raw and gzipped (level 9) sizes of the shipped files and of the minimal app, into build/out/sizes.json and stdout. */
export function report() {
  const sizes = {};
  for (const f of ['wasmgrad.wasm', 'wasmgrad.threads.wasm', 'wasmgrad.worker.js', ...BUNDLES]) {
    const p = path.join(dist, f);
    if (!existsSync(p)) continue;
    const raw = readFileSync(p);
    sizes[f] = { bytes: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
  }
  if (existsSync(path.join(dist, 'wasmgrad.browser.js'))) sizes['minimal app (JS)'] = minimalAppSize();
  writeFileSync(path.join(out, 'sizes.json'), JSON.stringify(sizes, null, 2) + '\n');
  for (const [f, s] of Object.entries(sizes)) console.log(`${f}: ${s.bytes} bytes, ${s.gzip} gzipped`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildWasm();
  if (!process.argv.includes('--wasm')) {
    await buildBundles();
    report();
    const { updateReadme } = await import('./size-table.mjs');
    updateReadme();
  }
}
