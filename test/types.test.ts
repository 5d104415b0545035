// The published types as consumers compile them: the fixtures in test/types/ against dist/types
// (ESM, wasmgrad's exports resolved by package name) and dist/types-cjs (require), with lib
// es2022 only (no DOM, no @types/node) and skipLibCheck false, under every TypeScript the README
// names. The fixtures' @ts-expect-error lines make the check fail if a type decays to `any`.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { writeCjsTypes } from '../build/build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(root, 'test/types');

/** The .d.ts and .d.cts trees are missing or older than a source file (the global setup builds bundles, not types). */
function typesAreStale(): boolean {
  const built = [path.join(root, 'dist/types/src/index.d.ts'), path.join(root, 'dist/types-cjs/src/index.d.cts')];
  if (built.some((f) => !existsSync(f))) return true;
  const time = Math.min(...built.map((f) => statSync(f).mtimeMs));
  const sources = readdirSync(path.join(root, 'src'), { recursive: true }).map((f) => path.join(root, 'src', String(f)));
  return [...sources, path.join(root, 'build/build.mjs'), path.join(root, 'tsconfig.build.json')].some((f) => statSync(f).mtimeMs > time);
}

function tsc(pkg: string, args: string[], timeout = 120_000): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, 'node_modules', pkg, 'bin/tsc'), ...args], { cwd: root, timeout },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr }));
  });
}

beforeAll(async () => {
  if (!typesAreStale()) return;
  const { code, output } = await tsc('typescript', ['-p', 'tsconfig.build.json'], 180_000);
  if (code !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${output}`);
  writeCjsTypes();
}, 200_000);

// The consumer's options, on the command line too (they override the fixture's tsconfig).
const CONSUMER = ['--noEmit', '--strict', '--lib', 'es2022', '--skipLibCheck', 'false'];

const compilers: [pkg: string, version: string, using: boolean][] = [
  ['typescript-5.0', '5.0', false], // `using` is TypeScript 5.2+
  ['typescript-5.4', '5.4', true],
  ['typescript', '6', true],
  ['typescript-7', '7', true],
];

describe('the published types compile in a consumer project', () => {
  for (const [pkg, version, using] of compilers) {
    it(`TypeScript ${version}: ESM (bundler resolution), CommonJS (nodenext, .d.cts)${using ? ' and `using`' : ''}`, { timeout: 180_000 }, async () => {
      const esm = await tsc(pkg, ['-p', path.join(fixtures, 'tsconfig.json'), ...CONSUMER, '--moduleResolution', 'bundler']);
      expect(esm.output).toBe('');
      expect(esm.code).toBe(0);
      const cjs = await tsc(pkg, ['-p', path.join(fixtures, 'tsconfig.cjs.json'), ...CONSUMER]);
      expect(cjs.output).toBe('');
      expect(cjs.code).toBe(0);
      if (using) {
        const disposable = await tsc(pkg, ['-p', path.join(fixtures, 'tsconfig.using.json'), ...CONSUMER.slice(0, -4),
          '--lib', 'es2022,esnext.disposable', '--skipLibCheck', 'false', '--moduleResolution', 'bundler']);
        expect(disposable.output).toBe('');
        expect(disposable.code).toBe(0);
      }
    });
  }

  it('the fixtures read the built types (dist/types, dist/types-cjs), resolved by package name', { timeout: 120_000 }, async () => {
    const esm = await tsc('typescript', ['-p', path.join(fixtures, 'tsconfig.json'), '--listFiles']);
    expect(esm.output).toContain(path.join(root, 'dist/types/src/index.d.ts'));
    const cjs = await tsc('typescript', ['-p', path.join(fixtures, 'tsconfig.cjs.json'), '--listFiles']);
    expect(cjs.output).toContain(path.join(root, 'dist/types-cjs/src/index.d.cts'));
    expect(cjs.output).not.toContain(path.join(root, 'dist/types/src/index.d.ts'));
  });
});
