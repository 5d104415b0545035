// Reads every registry file (test/registry/*.ts), accepting the variations README.md lists:
// test/op-rules.test.ts checks each entry alone, test/op-rules-interleaved.test.ts in pairs.

import type { OpCase } from './types.js';

export interface Loaded { file: string; label: string; entry?: OpCase; problem?: string }

export function loadRegistry(): Loaded[] {
  const modules = import.meta.glob(['./*.ts', '!./types.ts', '!./inputs.ts', '!./load.ts'], { eager: true }) as Record<string, Record<string, unknown>>;
  const out: Loaded[] = [];
  for (const [path, mod] of Object.entries(modules)) {
    const file = path.replace('./', '');
    // one array exported under two names (say `ops` and `default`) is read once
    for (const list of new Set(Object.values(mod))) {
      if (!Array.isArray(list)) continue;
      for (const raw of list as Record<string, any>[]) {
        if (raw === null || typeof raw !== 'object' || typeof raw.name !== 'string') continue;
        const make = raw.make ?? raw.build ?? raw.setup ?? raw.case;
        const label = `${raw.name} (${file})`;
        if (typeof make !== 'function') {
          out.push({ file, label, problem: `${label} has no make() giving a function and inputs, so its rules cannot be checked` });
          continue;
        }
        out.push({
          file, label,
          entry: {
            name: raw.name, kind: raw.kind ?? 'primitive', fdStep: raw.fdStep, aliasOf: raw.aliasOf,
            differentiable: raw.differentiable, secondOrder: raw.secondOrder,
            make: () => {
              const m = make();
              return { f: m.f ?? m.fn ?? m.fun, inputs: m.inputs ?? m.args ?? m.xs };
            },
          },
        });
      }
    }
  }
  return out;
}
