// The README's Deno and Bun snippets, run as a user would: in a fresh folder where the package is
// installed (node_modules/wasmgrad linked to this repository), each must print what the README says.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root, run, denoBin, bunBin } from './runtimes/harness.js';

const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const snippets = new Map<string, { code: string; output: string }>();
for (const m of readme.matchAll(/<!-- snippet: (\S+) -->\n```js\n([\s\S]*?)```\n[^`]*?```text\n([\s\S]*?)```/g)) {
  snippets.set(m[1], { code: m[2], output: m[3].trim() });
}

const commands: Record<string, () => [string, string[]]> = {
  deno: () => [denoBin(), ['run', '--no-lock', '--allow-read', 'main.js']],
  'deno-path': () => [denoBin(), ['run', '--no-lock', '--allow-read', 'main.js']],
  bun: () => [bunBin(), ['main.js']],
};

let consumer = '';
beforeAll(() => {
  consumer = mkdtempSync(path.join(tmpdir(), 'wasmgrad-consumer-'));
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ private: true, type: 'module', dependencies: { wasmgrad: '*' } }));
  mkdirSync(path.join(consumer, 'node_modules'));
  symlinkSync(root, path.join(consumer, 'node_modules', 'wasmgrad'), 'dir');
});
afterAll(() => { if (consumer) rmSync(consumer, { recursive: true, force: true }); });

describe('README snippets', () => {
  it('are all found', () => {
    expect([...snippets.keys()].sort()).toEqual(Object.keys(commands).sort());
  });

  for (const name of Object.keys(commands)) {
    it(`${name} prints what the README says`, { timeout: 60_000 }, async () => {
      const snippet = snippets.get(name);
      expect(snippet, `README snippet ${name}`).toBeDefined();
      writeFileSync(path.join(consumer, 'main.js'), snippet!.code);
      const [cmd, args] = commands[name]();
      const { stdout } = await run(cmd, args, { cwd: consumer, timeoutMs: 45_000 });
      expect(stdout.trim()).toBe(snippet!.output);
    });
  }
});
