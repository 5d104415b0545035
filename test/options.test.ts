// Every declared option schema, table-driven: an unknown key throws a ValueError that names the
// function and the key; a near miss of a real key names the real one; no options works; nothing
// leaks. Every schema the library declares must have a case here (test/options/*.ts).

import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../src/index.js';
import { optionSchemas, nearestKey } from '../src/options.js';
import type { OptionCase } from './options/types.js';

const modules = import.meta.glob<{ cases: OptionCase[] }>('./options/*.ts', { eager: true });
const cases: OptionCase[] = Object.values(modules).flatMap((m) => m.cases ?? []);

beforeAll(async () => { await wg.init(); });

/** A near miss a user would type: snake_case for camelCase keys, else a changed case. */
function nearMiss(key: string): string {
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return snake !== key ? snake : key.length > 1 ? key[0].toUpperCase() + key.slice(1) : `${key}${key}`;
}

/** Calls a case; an async case (init) is awaited, so its rejection is the error. */
async function run(c: OptionCase, options: unknown): Promise<void> {
  if (c.async) { disposeResult(await c.call(options)); return; }
  wg.tidy(() => { const r = c.call(options); disposeResult(r); return undefined; });
}

async function caught(f: () => Promise<void>): Promise<unknown> {
  try { await f(); } catch (e) { return e; }
  return undefined;
}

function disposeResult(r: unknown): void {
  if (r && typeof r === 'object' && typeof (r as any).dispose === 'function' && !(r instanceof wg.Tensor)) (r as any).dispose();
}

describe('option schemas', () => {
  it('every declared schema has a case, and every case a schema', () => {
    const names = new Set(cases.map((c) => c.name));
    const missing = [...optionSchemas().keys()].filter((n) => !names.has(n));
    expect(missing).toEqual([]);
    const unknown = [...names].filter((n) => !optionSchemas().has(n));
    expect(unknown).toEqual([]);
  });

  for (const c of cases) {
    it(`${c.name}: an unknown key is a ValueError naming it; a near miss names the real key; no options works`, async () => {
      const before = wg.memory().liveTensors;
      const unknown = await caught(() => run(c, { bogusOption: 1 }));
      expect(unknown).toBeInstanceOf(wg.ValueError);
      expect((unknown as Error).message).toContain(c.name);
      expect((unknown as Error).message).toContain("'bogusOption'");
      const schema = optionSchemas().get(c.name)!;
      if (schema.keys.length > 0) {
        const key = schema.keys[0];
        const miss = nearMiss(key);
        const near = await caught(() => run(c, { [miss]: undefined }));
        expect(near).toBeInstanceOf(wg.ValueError);
        expect((near as Error).message).toContain(`Did you mean '${key}'?`);
      }
      expect(await caught(() => run(c, undefined))).toBeUndefined();
      expect(await caught(() => run(c, {}))).toBeUndefined();
      expect(wg.memory().liveTensors).toBe(before);
    });
  }
});

describe('nearestKey', () => {
  it('finds the key a user meant: case and snake_case, a stem, a swap, a contained word; nothing for a stranger', () => {
    expect(nearestKey('keepDims', ['keepdims'])).toBe('keepdims');
    expect(nearestKey('weight_decay', ['lr', 'weightDecay'])).toBe('weightDecay');
    expect(nearestKey('epoch', ['epochs', 'batchSize'])).toBe('epochs');
    expect(nearestKey('reduce', ['reduction', 'weight'])).toBe('reduction');
    expect(nearestKey('dtpye', ['dtype', 'shape'])).toBe('dtype');
    expect(nearestKey('epsilon', ['eps', 'momentum'])).toBe('eps');
    expect(nearestKey('causal', ['attnMask', 'isCausal'])).toBe('isCausal');
    expect(nearestKey('bogusOption', ['dtype', 'shape'])).toBeUndefined();
  });
});

// Every exported function, class and method whose parameters include an options object must be
// covered by a declared schema: its own, or (for aliases and methods that forward their options)
// the schema of the function it forwards to, named here. A new function with options and no
// schema fails this test by name.
describe('every public options parameter has a schema', () => {
  const forwards: Record<string, string> = {
    variance: 'var', triangularSolve: 'solveTriangular', dlarray: 'tensor', Minibatches: 'minibatches',
    'nn.Buffer': 'Module.registerBuffer', 'nn.Module.loadStateDict': 'Module.loadStateDict', 'io.serialize': 'io.save',
    'optim.LbfgsState': 'lbfgsState', 'optim.lbfgsState': 'lbfgsState', 'optim.lbfgsupdate': 'lbfgsupdate',
    'Tensor.var': 'var', 'Tensor.crosschannelnorm': 'crosschannelnorm',
  };
  // internal: the optimizers' shared constructor step, which receives options already parsed by each optimizer's schema
  const internal = new Set(['optim.Optimizer.init']);
  const paramList = (f: Function): string => f.toString().match(/^[^(]*\(([^)]*)\)/)?.[1] ?? '';
  const takesOptions = (f: Function): boolean => /\b(options|opts)\b/.test(paramList(f));

  function withOptions(): string[] {
    const out: string[] = [];
    const visit = (prefix: string, obj: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(obj)) {
        if (typeof v !== 'function') continue;
        const name = prefix + k;
        const text = v.toString();
        if (text.startsWith('class')) {
          const ctor = text.match(/constructor\s*\(([^)]*)\)/)?.[1] ?? '';
          if (/\b(options|opts)\b/.test(ctor)) out.push(name);
          for (const m of Object.getOwnPropertyNames(v.prototype)) {
            const d = Object.getOwnPropertyDescriptor(v.prototype, m);
            if (m !== 'constructor' && typeof d?.value === 'function' && takesOptions(d.value)) out.push(`${name}.${m}`);
          }
        } else if (takesOptions(v)) out.push(name);
      }
    };
    visit('', wg as any);
    visit('nn.', wg.nn as any);
    visit('nn.init.', (wg.nn as any).init);
    visit('optim.', wg.optim as any);
    visit('io.', wg.io as any);
    return out;
  }

  it('each resolves to a declared schema', () => {
    const schemas = optionSchemas();
    const found = withOptions();
    expect(found.length).toBeGreaterThan(100);
    const uncovered = found.filter((n) => !internal.has(n) && !schemas.has(n) && !schemas.has(forwards[n] ?? '') &&
      !(n.startsWith('Tensor.') && schemas.has(n.slice(7))));
    expect(uncovered).toEqual([]);
  });
});
