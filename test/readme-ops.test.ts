// The README's table of supported operations is generated from the op registry; this keeps it
// from drifting when an op is added without regenerating it (node build/op-table.mjs).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
// @ts-expect-error: a build script without type declarations
import { loadRegistry, renderTable, spliceReadme } from '../build/op-table.mjs';

it('README.md lists every registered op exactly as the registry has it', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const families = await loadRegistry();
  expect(families.flatMap((f: { cases: unknown[] }) => f.cases).length).toBeGreaterThan(150);
  expect(spliceReadme(readme, renderTable(families))).toBe(readme);
});
