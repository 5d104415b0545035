// The op spec is the single source, and the layers hold: the generated tables and bindings are
// what the spec gives now, a missing spec entry or rule fails the build naming the op, and
// dependency-cruiser finds no import against the layer rules (.dependency-cruiser.cjs).

import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from './runtimes/harness.js';
// @ts-expect-error plain JS build script
import { loadSpec, loadOps, checkSpec, generate } from '../build/gen-ops.mjs';
import { Op } from '../assembly/core/vocabulary.js';
import { OPS } from '../src/spec/ops.js';

const node = process.execPath;
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

describe('the op spec', () => {
  it('has one entry per op code, and nothing else', () => {
    const codes = Object.keys(Op).filter((k) => Number.isNaN(Number(k)));
    expect(Object.keys(OPS).sort()).toEqual(codes.sort());
  });

  it('the generated tables and typed bindings are what the spec gives now', async () => {
    expect(await generate({ check: true })).toEqual([]);
  });

  it('an op with no spec entry fails the generator naming the op', async () => {
    const spec = await loadSpec();
    expect(() => checkSpec(spec, [...loadOps(), ['logaddexpNew', 999]])).toThrow(/op 'logaddexpNew' has no entry in src\/spec\/ops\.ts/);
  });

  it('a rule the family file does not export fails the generator naming the op and the rule', async () => {
    const spec = await loadSpec();
    const broken = { ...spec, tanh: { ...spec.tanh, vjp: 'vjpTanhMissing' } };
    expect(() => checkSpec(broken, loadOps())).toThrow(/op 'tanh': its VJP rule 'vjpTanhMissing' is not exported by assembly\/ops\/elementwise\.ts/);
  });

  it('an Op member without a spec entry fails tsc, naming the op', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wasmgrad-spec-'));
    try {
      mkdirSync(path.join(dir, 'assembly/core'), { recursive: true });
      mkdirSync(path.join(dir, 'src/spec'), { recursive: true });
      const vocabulary = readFileSync(path.join(root, 'assembly/core/vocabulary.ts'), 'utf8')
        .replace(/(export enum Op \{[\s\S]*?)\n\}/, '$1\n  brandNewOp = 999,\n}');
      writeFileSync(path.join(dir, 'assembly/core/vocabulary.ts'), vocabulary);
      cpSync(path.join(root, 'src/spec/ops.ts'), path.join(dir, 'src/spec/ops.ts'));
      let out = '';
      try {
        execFileSync(node, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--target', 'es2022',
          '--module', 'esnext', '--moduleResolution', 'bundler', 'src/spec/ops.ts'], { cwd: dir, encoding: 'utf8' });
      } catch (e) { out = String((e as { stdout?: string }).stdout); }
      expect(out).toMatch(/brandNewOp/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('layers', () => {
  it('dependency-cruiser finds no import against the layer rules', () => {
    const out = execFileSync(bin('depcruise'), ['assembly', 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'],
      { cwd: root, encoding: 'utf8' });
    expect(out).toMatch(/no dependency violations found/);
  }, 60_000);
});
